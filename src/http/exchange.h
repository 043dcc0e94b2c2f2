// The worker's side of a connection: runs requests through the handler with blocking reads and
// writes (each wait bounded by body_timeout), then lingers briefly for the next request.
//
// Contract
// - ServeConnection is called with a connection whose parser holds a complete, checked head (and
//   whose buffer holds what followed it). It runs that request and every next one that arrives
//   while it lingers (opts.linger after each response, the whole head within that budget), and
//   answers malformed ones itself through on_bad_request.
// - It returns kHandBack when the connection should wait in the reactor: then the connection's
//   parser and buffer hold whatever part of the next head has arrived (possibly nothing), and
//   head_started says when its first byte came. kClose means the connection is finished.
// - A body that turns out malformed while the handler reads it (bad chunk syntax, an oversized
//   chunk line or trailer) replaces the handler's answer with on_bad_request's 400/431, unless
//   the handler already answered 4xx itself, and the connection is closed.
#pragma once

#include <atomic>

#include "http/connection.h"
#include "http/server.h"

namespace tarn::http {

enum class AfterServe { kClose, kHandBack };

AfterServe ServeConnection(Connection& c, const ServerOptions& opts, const Handler& handler,
                           const std::atomic<bool>& stopping);

// Sends a refusal without waiting (what the socket takes now; the rest is dropped): the caller
// closes the connection next. Reads and discards what the client has sent so far first, so that
// the close is a FIN rather than a reset that could destroy the answer on its way.
void SendRefusalAndDrain(TimedSocket& sock, const std::string& response);

}  // namespace tarn::http
