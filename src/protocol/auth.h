// Authentication: Shared Key (both account keys, and the signing quirks of real clients) and
// anonymous requests. Authorization of anonymous reads against a container's public access
// level happens in the router's authorize step.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "identity/identity_service.h"
#include "protocol/context.h"

namespace tarn::protocol {

// Verifies the Authorization header, if any, and fills c.identity. A request without one is
// anonymous (authorize decides what it may do). A bad or unverifiable signature is
// AuthenticationFailed (403).
// Shared Key, SAS, or (when ids is given) an OAuth bearer token; anonymous otherwise.
Status Authenticate(Ctx& c, const std::vector<Account>& accounts,
                    identity::IdentityService* ids);

}  // namespace tarn::protocol
