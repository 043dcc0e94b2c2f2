// Shared access signatures: account SAS and service SAS (blob "b", container "c" and
// directory-scoped "d" with sdd), validated for signature (either account key), start and
// expiry, IP range, protocol and version. What a valid SAS may do is checked per operation by
// AuthorizeSas.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/context.h"

namespace tarn::protocol {

// What a SAS is checked against: the request's query (names lowercased, values decoded), the
// filesystem and path it addresses in `account`, and the caller's address (for sip).
struct SasRequest {
  const std::multimap<std::string, std::string>& query;
  const std::string& fs;
  const std::string& path;
  const std::string& remote;  // "ip:port"
  bool secure;                 // arrived over TLS (spr=https)
  // The stored access policies of a container (its <SignedIdentifiers> document, "" for none),
  // for a SAS that names one (si); unset where such a SAS is not accepted.
  std::function<std::string(const std::string& fs)> stored_policies = {};
};

// The stored access policies of `account`'s containers, as the lake holds them now.
std::function<std::string(const std::string&)> StoredPolicies(lake::LakeService& lake,
                                                            const std::string& account);

// Validates a SAS (sig present) for a request on `account`: signature (either key), times, IP,
// protocol, version, and the rules of its resource type. Returns what it grants.
StatusOr<Identity> ValidateSas(const SasRequest& r, const Account& account);

// Validates the SAS in the request's own query and fills c.identity.
Status AuthenticateSas(Ctx& c, const Account& account);

// The signing key of a user-delegation SAS, derived from the account key and the key's fields
// (stateless: the same fields give the same key). Get User Delegation Key hands it out.
std::string UserDelegationKeyValue(const std::string& account_key, const std::string& oid,
                                   const std::string& tid, const std::string& start,
                                   const std::string& expiry, const std::string& version);

// Whether SAS identity `id` may act on (fs, path) of its account. level: 's' service/account,
// 'c' container, 'o' object. need: permission letters of which any one suffices (for example
// "cw" for a create). Used for a request's own resource and for the second resource an
// operation names (a copy source, a rename source).
Status AuthorizeSas(const Identity& id, const std::string& fs, const std::string& path,
                    char level, const char* need);

// Whether a key or SAS that a datastore of this tarnd holds still grants a read of
// (fs, path) in `account_name` (a listing when `list`): the key must be one of the account's
// keys now, and the SAS must validate now and allow it. The catalog asks before every read.
Status CheckStoredCredential(const std::vector<Account>& accounts, const std::string& type,
                             const std::string& account_name, const std::string& secret,
                             const std::string& fs, const std::string& path, bool list);

}  // namespace tarn::protocol
