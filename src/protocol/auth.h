// Authentication: Shared Key (both account keys, and the signing quirks of real clients) and
// anonymous requests. Authorization of anonymous reads against a container's public access
// level happens in the router's authorize step.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/context.h"

namespace tarn::protocol {

// Verifies the Authorization header, if any, and fills c.identity. A request without one is
// anonymous (authorize decides what it may do). A bad or unverifiable signature is
// AuthenticationFailed (403).
Status Authenticate(Ctx& c, const std::vector<Account>& accounts);

// The Shared Key string-to-sign for a request, with the given choices for the quirks.
struct SignOptions {
  bool decoded_path = false;     // canonical resource from the decoded path (some clients)
  bool dash_first_sort = false;  // x-ms-* headers sorted ignoring '-' (service collation)
  bool use_date_header = true;   // the Date slot holds the Date header (empty if x-ms-date)
};
std::string StringToSign(const Ctx& c, const std::string& account, const SignOptions& o);

}  // namespace tarn::protocol
