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

// The signing key of a user-delegation SAS, derived from the account key and the key's fields
// (stateless: the same fields give the same key). Get User Delegation Key hands it out.
std::string UserDelegationKeyValue(const std::string& account_key, const std::string& oid,
                                   const std::string& tid, const std::string& start,
                                   const std::string& expiry, const std::string& version);

// level: 's' service/account, 'c' container, 'o' object. need: permission letters of which
// any one suffices (for example "cw" for a create).
Status AuthorizeSas(const Ctx& c, char level, const char* need);

}  // namespace tarn::protocol
