#include "protocol/auth.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "auth/shared_key.h"
#include "protocol/sas.h"

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace tarn::protocol {
namespace {

std::string HeaderOrEmpty(const Ctx& c, std::string_view name) {
  const std::string* v = c.Header(name);
  return v ? *v : std::string();
}

}  // namespace

Status AuthenticateBearer(Ctx& c, std::string_view token, identity::IdentityService* ids) {
  if (!ids) {
    return Error(Reason::kInvalidAuthenticationInfo,
                 "this server does not accept bearer tokens (no identity service)");
  }
  if (!c.req.secure) {
    return Error(Reason::kAuthenticationFailed,
                 "Server failed to authenticate the request. Bearer tokens are accepted only "
                 "over HTTPS.");
  }
  if (token.empty()) return Error(Reason::kInvalidAuthenticationInfo, "the bearer token is empty");
  // Each API takes tokens for its own audience: storage, or the management API (workspaces
  // and the directory, as Azure's ARM holds both).
  const identity::Audience audience =
      c.front == Front::kTracking ? identity::Audience::kTracking
      : c.front == Front::kCatalog || c.front == Front::kIdentityAdmin
          ? identity::Audience::kWorkspace
          : identity::Audience::kStorage;
  TARN_ASSIGN_OR_RETURN(identity::Caller who, ids->Authenticate(token, audience));
  c.identity = Identity{};
  c.identity.kind = Identity::Kind::kBearer;
  c.identity.account = c.account ? c.account->name : "";
  c.identity.oid = who.oid;
  c.identity.tid = who.tid;
  c.identity.appid = who.appid;
  c.identity.groups = std::move(who.groups);
  return Status::Ok();
}

Status Authenticate(Ctx& c, const std::vector<Account>& accounts,
                    identity::IdentityService* ids) {
  const std::string* auth = c.Header("authorization");
  if (auth) {
    std::string_view a = Trim(*auth);
    std::string_view scheme = a.substr(0, a.find(' '));
    if (EqualsIgnoreCase(scheme, "Bearer")) {
      return AuthenticateBearer(c, Trim(a.substr(scheme.size())), ids);
    }
  }
  if (!auth) {
    if (c.HasQuery("sig")) {
      if (!c.account) {
        return Error(Reason::kAuthenticationFailed,
                     "Server failed to authenticate the request. A shared access signature "
                     "authorizes requests to an account's storage only.");
      }
      return AuthenticateSas(c, *c.account);
    }
    c.identity = Identity{};
    return Status::Ok();
  }
  auto fail = [](const std::string& why) {
    return Error(Reason::kAuthenticationFailed,
                 "Server failed to authenticate the request. Make sure the value of Authorization "
                 "header is formed correctly including the signature. " + why);
  };
  std::string_view a = Trim(*auth);
  if (!StartsWith(a, "SharedKey ")) {
    return fail("Authorization must be SharedKey or Bearer.");
  }
  a.remove_prefix(10);
  size_t colon = a.rfind(':');
  if (colon == std::string_view::npos) return fail("The Authorization header is malformed.");
  std::string name(Trim(a.substr(0, colon)));
  auto sig = Base64Decode(Trim(a.substr(colon + 1)));
  if (!sig) return fail("The signature is not valid base64.");
  const Account* acct = nullptr;
  for (const auto& ac : accounts) {
    if (ac.name == name) acct = &ac;
  }
  if (!acct || (c.account && c.account->name != name)) {
    return fail("The account in the Authorization header does not match the request.");
  }
  // The request must be recent: within 15 minutes, as Azure requires.
  std::string date = HeaderOrEmpty(c, "x-ms-date");
  if (date.empty()) date = HeaderOrEmpty(c, "date");
  if (date.empty()) return fail("The request has neither x-ms-date nor Date.");
  auto when = ParseHttpDate(date);
  if (!when) return fail("The request date is not a valid RFC 1123 date.");
  if (std::llabs(*when - NowMicros()) > 15LL * 60 * 1000000) {
    return fail("The request date is more than 15 minutes from the server's clock.");
  }
  auth::SignableRequest r{c.req.method, c.req.headers, c.req.raw_path, c.query};
  for (bool decoded : {false, true}) {
    for (bool dash : {false, true}) {
      for (bool use_date : {true, false}) {
        if (!use_date && !c.Header("date")) continue;
        std::string sts = auth::SharedKeyStringToSign(r, name, {decoded, dash, use_date});
        for (const auto& key : acct->keys) {
          if (SecureEquals(HmacSha256(key, sts), *sig)) {
            c.identity = Identity{};
            c.identity.kind = Identity::Kind::kSharedKey;
            c.identity.account = name;
            return Status::Ok();
          }
        }
      }
    }
  }
  return fail("The MAC signature found in the HTTP request is not the same as any computed "
              "signature.");
}

}  // namespace tarn::protocol
