// Shared access signatures: account SAS and service SAS (blob "b", container "c" and
// directory-scoped "d" with sdd), validated for signature (either account key), start and
// expiry, IP range, protocol and version. What a valid SAS may do is checked per operation by
// AuthorizeSas.
#pragma once

#include "common/status.h"
#include "protocol/context.h"

namespace tarn::protocol {

// Validates the SAS in the query (sig present) and fills c.identity.
Status AuthenticateSas(Ctx& c, const Account& account);

// level: 's' service/account, 'c' container, 'o' object. need: permission letters of which
// any one suffices (for example "cw" for a create).
Status AuthorizeSas(const Ctx& c, char level, const char* need);

}  // namespace tarn::protocol
