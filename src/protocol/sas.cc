#include "protocol/sas.h"

#include <arpa/inet.h>

#include <tuple>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "protocol/access_policy.h"
#include "protocol/router.h"

namespace tarn::protocol {
namespace {

Status Fail(const std::string& why) {
  return Error(Reason::kAuthenticationFailed,
               "Server failed to authenticate the request. Make sure the value of Authorization "
               "header is formed correctly including the signature. " + why);
}

std::optional<uint32_t> ParseIpv4(std::string_view s) {
  in_addr a{};
  std::string z(s);
  if (inet_pton(AF_INET, z.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

Status CheckIp(const std::string& remote_with_port, const std::string& sip) {
  std::string remote = remote_with_port.substr(0, remote_with_port.rfind(':'));
  auto ip = ParseIpv4(remote);
  size_t dash = sip.find('-');
  auto lo = ParseIpv4(sip.substr(0, dash));
  auto hi = dash == std::string::npos ? lo : ParseIpv4(sip.substr(dash + 1));
  if (!lo || !hi) return Fail("The signed IP range is not valid.");
  if (!ip || *ip < *lo || *ip > *hi) {
    return Error(Reason::kAuthorizationSourceIPMismatch,
                 "This request is not authorized to perform this operation using this source IP " +
                     remote + ".");
  }
  return Status::Ok();
}

// The signed start and expiry against the clock ("" leaves one unchecked; a SAS without an
// expiry is refused before).
Status CheckTimes(const std::string& st, const std::string& se, int64_t now) {
  if (!se.empty()) {
    auto expiry = ParseIso8601(se);
    if (!expiry) return Fail("The signed expiry (se) is not a valid ISO 8601 time.");
    if (now > *expiry) {
      return Fail("Signed expiry time [" + se +
                  "] must be after signed start time and the current time.");
    }
  }
  if (!st.empty()) {
    auto start = ParseIso8601(st);
    if (!start) return Fail("The signed start (st) is not a valid ISO 8601 time.");
    if (now + 15LL * 60 * 1000000 < *start) {
      return Fail("Signed start time [" + st + "] is in the future.");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string UserDelegationKeyValue(const std::string& account_key, const std::string& oid,
                                   const std::string& tid, const std::string& start,
                                   const std::string& expiry, const std::string& version) {
  return HmacSha256(account_key, "tarn-user-delegation-key\n" + oid + "\n" + tid + "\n" + start +
                                     "\n" + expiry + "\nb\n" + version);
}

StatusOr<Identity> ValidateSas(const SasRequest& r, const Account& account) {
  // A field given twice would be signed in one spelling and read in another.
  static constexpr const char* kFields[] = {
      "sv",  "sp",  "st",  "se",  "sip", "spr",   "ss",    "srt",  "sr",   "ses",
      "sig", "sdd", "si",  "skoid", "sktid", "skt", "ske", "sks",  "skv",  "saoid",
      "suoid", "scid", "rscc", "rscd", "rsce", "rscl", "rsct", "snapshot", "skdutid", "sduoid",
      "srh",   "srq"};
  for (const char* k : kFields) {
    if (r.query.count(k) > 1) {
      return Fail(std::string("The SAS field ") + k + " is given more than once.");
    }
  }
  auto q = [&](const char* k) {
    auto it = r.query.find(k);
    return it == r.query.end() ? std::string() : it->second;
  };
  std::string sv = q("sv"), sp = q("sp"), st = q("st"), se = q("se"), sip = q("sip"),
              spr = q("spr"), ss = q("ss"), srt = q("srt"), sr = q("sr"), ses = q("ses");
  auto sig = Base64Decode(q("sig"));
  if (!sig) return Fail("The SAS signature is not valid base64.");
  const std::string si = q("si");
  // With a stored access policy (si), sp, st and se may come from the policy instead; they are
  // checked once the signature is (CheckTimes again, below).
  if (sv.empty() || (si.empty() && (sp.empty() || se.empty()))) {
    return Fail("A SAS needs sv, sp and se (or si naming a stored access policy).");
  }
  if (sv < "2015-04-05") return Fail("SAS versions before 2015-04-05 are not supported.");
  const int64_t now = NowMicros();
  TARN_RETURN_IF_ERROR(CheckTimes(st, se, now));
  if (!spr.empty() && spr != "https,http" && spr != "http,https" &&
      !(spr == "https" && r.secure)) {
    if (spr == "https") {
      return Error(Reason::kAuthorizationProtocolMismatch,
                   "This request is not authorized to perform this operation using this "
                   "protocol; the SAS allows https only.");
    }
    return Fail("The signed protocol (spr) is not valid.");
  }
  if (!sip.empty()) TARN_RETURN_IF_ERROR(CheckIp(r.remote, sip));

  std::string sts;
  Identity id;
  id.kind = Identity::Kind::kSas;
  id.account = account.name;
  id.permissions = sp;
  if (!ss.empty() || !srt.empty()) {
    // Account SAS: it needs both its services and its resource types.
    if (ss.empty() || srt.empty()) return Fail("An account SAS needs both ss and srt.");
    if (ss.find('b') == std::string::npos) {
      return Error(Reason::kAuthorizationServiceMismatch,
                   "This request is not authorized to perform this operation using this "
                   "service; the SAS does not grant the blob service.");
    }
    sts = account.name + "\n" + sp + "\n" + ss + "\n" + srt + "\n" + st + "\n" + se + "\n" + sip +
          "\n" + spr + "\n" + sv + "\n";
    if (sv >= "2020-12-06") sts += ses + "\n";
    id.resource_types = srt;
  } else {
    // Service SAS over a container, blob or directory.
    if (sr != "c" && sr != "b" && sr != "d") return Fail("The signed resource (sr) is not valid.");
    if (r.fs.empty()) return Fail("A service SAS must address a container.");
    std::string path = sr == "c" ? "" : r.path;
    if (sr == "d") {
      // Before 2018-11-09 sr is not signed, and a directory SAS takes its signed path from the
      // request (below): an older blob SAS could be replayed as sr=d over everything under the
      // blob's path. Azure serves directory SAS from version 2020-02-10 on.
      if (sv < "2020-02-10") {
        return Fail("A directory SAS (sr=d) needs signed version 2020-02-10 or later.");
      }
      // A directory SAS is signed over the directory; the request may address anything below
      // it, so the signed path is the first sdd components of the request's.
      int64_t depth = 0;
      if (!ParseInt64(q("sdd"), &depth) || depth < 0) return Fail("sdd is required with sr=d.");
      auto parts = Split(r.path, '/');
      if (static_cast<int64_t>(parts.size()) < depth) {
        return Fail("The request is outside the signed directory.");
      }
      path.clear();
      for (int64_t i = 0; i < depth; ++i) path += (i ? "/" : "") + std::string(parts[i]);
    }
    std::string resource = "/blob/" + account.name + "/" + r.fs + (path.empty() ? "" : "/" + path);
    if (!q("skoid").empty()) {
      // User delegation: signed with a key derived for an OAuth principal (skoid in sktid).
      std::string skt = q("skt"), ske = q("ske");
      auto key_start = ParseIso8601(skt), key_expiry = ParseIso8601(ske);
      if (!key_start || !key_expiry) return Fail("skt and ske must be ISO 8601 times.");
      if (now < *key_start - 15LL * 60 * 1000000 || now > *key_expiry) {
        return Fail("The user delegation key is not valid at this time.");
      }
      // Newer versions sign more fields: the delegated user's tenant and object id after scid
      // (2025-07-05), and the signed request headers and query parameters after ses. tarnd does
      // not bind a SAS to a second user or to request headers, so it refuses those fields set,
      // and accepts a signature over each layout the version may use with them empty.
      for (const char* f : {"skdutid", "sduoid", "srh", "srq"}) {
        if (!q(f).empty()) {
          return Fail(std::string("The SAS field ") + f + " is not supported by this server.");
        }
      }
      const std::string head = sp + "\n" + st + "\n" + se + "\n" + resource + "\n" + q("skoid") +
                               "\n" + q("sktid") + "\n" + skt + "\n" + ske + "\n" + q("sks") +
                               "\n" + q("skv") + "\n" + q("saoid") + "\n" + q("suoid") + "\n" +
                               q("scid") + "\n";
      const std::string middle = sip + "\n" + spr + "\n" + sv + "\n" + sr + "\n" + q("snapshot") +
                                 "\n" + ses + "\n";
      const std::string tail = q("rscc") + "\n" + q("rscd") + "\n" + q("rsce") + "\n" +
                               q("rscl") + "\n" + q("rsct");
      std::vector<std::string> layouts = {head + middle + tail};
      if (sv >= "2025-07-05") {
        layouts.push_back(head + "\n\n" + middle + tail);            // skdutid, sduoid
        layouts.push_back(head + "\n\n" + middle + "\n\n" + tail);  // and srh, srq
      }
      id.sas_resource = sr;
      id.sas_fs = r.fs;
      id.sas_path = path;
      id.delegated = true;
      id.oid = q("skoid");
      id.tid = q("sktid");
      for (const auto& key : account.keys) {
        std::string derived = UserDelegationKeyValue(key, id.oid, id.tid, skt, ske, q("skv"));
        for (const std::string& layout : layouts) {
          if (SecureEquals(HmacSha256(derived, layout), *sig)) return id;
        }
      }
      return Fail("Signature did not match.");
    }
    sts = sp + "\n" + st + "\n" + se + "\n" + resource + "\n" + q("si") + "\n" + sip + "\n" + spr +
          "\n" + sv + "\n";
    if (sv >= "2018-11-09") sts += sr + "\n" + q("snapshot") + "\n";
    if (sv >= "2020-12-06") sts += ses + "\n";
    sts += q("rscc") + "\n" + q("rscd") + "\n" + q("rsce") + "\n" + q("rscl") + "\n" + q("rsct");
    id.sas_resource = sr;
    id.sas_fs = r.fs;
    id.sas_path = path;
  }
  bool signed_ok = false;
  for (const auto& key : account.keys) {
    signed_ok = signed_ok || SecureEquals(HmacSha256(key, sts), *sig);
  }
  if (!signed_ok) return Fail("Signature did not match.");
  if (si.empty()) return id;
  // The container's stored access policy, as it is now: removing or changing it changes what
  // this SAS may do at once. A field is given by the SAS or by the policy, never by both.
  if (!id.resource_types.empty()) return Fail("An account SAS cannot name a stored access policy.");
  if (!r.stored_policies) {
    return Fail("A SAS that names a stored access policy (si) cannot be used here.");
  }
  auto policy = FindAccessPolicy(r.stored_policies(r.fs), si);
  if (!policy) {
    return Fail("The stored access policy '" + si + "' does not exist on container '" + r.fs +
                "' (it may have been removed).");
  }
  for (const auto& [field, sas_value, policy_value] :
       {std::tuple{"sp", sp, policy->permission}, std::tuple{"st", st, policy->start},
        std::tuple{"se", se, policy->expiry}}) {
    if (!sas_value.empty() && !policy_value.empty()) {
      return Fail(std::string("The SAS gives ") + field + " and so does its stored access policy '" +
                  si + "'; one of them must leave it out.");
    }
  }
  const std::string perm = sp.empty() ? policy->permission : sp;
  const std::string start = st.empty() ? policy->start : st;
  const std::string expiry = se.empty() ? policy->expiry : se;
  if (perm.empty() || expiry.empty()) {
    return Fail("Neither the SAS nor its stored access policy '" + si + "' gives " +
                (perm.empty() ? "the permissions (sp)." : "an expiry (se)."));
  }
  TARN_RETURN_IF_ERROR(CheckTimes(start, expiry, now));
  id.permissions = perm;
  return id;
}

std::function<std::string(const std::string&)> StoredPolicies(lake::LakeService& lake,
                                                            const std::string& account) {
  return [&lake, account](const std::string& fs) {
    auto f = lake.GetFilesystem(account, fs);
    return f.ok() ? f->signed_identifiers : std::string();
  };
}

Status AuthenticateSas(Ctx& c, const Account& account) {
  SasRequest r{c.query, c.fs, c.path, c.req.remote, c.req.secure};
  r.stored_policies = StoredPolicies(c.lake, account.name);
  TARN_ASSIGN_OR_RETURN(c.identity, ValidateSas(r, account));
  return Status::Ok();
}

Status AuthorizeSas(const Identity& id, const std::string& fs, const std::string& path,
                    char level, const char* need) {
  if (!id.resource_types.empty() || id.sas_resource.empty()) {
    if (id.resource_types.find(level) == std::string::npos) {
      return Error(Reason::kAuthorizationResourceTypeMismatch,
                   "This request is not authorized to perform this operation using this "
                   "resource type.");
    }
  } else {
    if (fs != id.sas_fs || level == 's') {
      return Error(Reason::kAuthorizationFailure,
                   "This request is outside the container the SAS was issued for.");
    }
    if (id.sas_resource == "b" && (level != 'o' || path != id.sas_path)) {
      return Error(Reason::kAuthorizationFailure, "This request is outside the signed blob.");
    }
    if (id.sas_resource == "d" && !id.sas_path.empty() && path != id.sas_path &&
        !StartsWith(path, id.sas_path + "/")) {
      return Error(Reason::kAuthorizationFailure, "This request is outside the signed directory.");
    }
  }
  for (const char* p = need; *p; ++p) {
    if (id.permissions.find(*p) != std::string::npos) return Status::Ok();
  }
  return Error(Reason::kAuthorizationPermissionMismatch,
               "This request is not authorized to perform this operation using this permission.");
}

Status CheckStoredCredential(const std::vector<Account>& accounts, const std::string& type,
                             const std::string& account_name, const std::string& secret,
                             const std::string& fs, const std::string& path, bool list) {
  const Account* account = nullptr;
  for (const auto& a : accounts) {
    if (a.name == account_name) account = &a;
  }
  if (!account) return Error(Reason::kAccountNotFound, "the account no longer exists.");
  if (type == "account_key") {
    auto key = Base64Decode(secret);
    for (const auto& k : account->keys) {
      if (key && SecureEquals(*key, k)) return Status::Ok();
    }
    return Error(Reason::kAuthenticationFailed,
                 "the key is no longer one of the account's keys (it was rotated).");
  }
  TARN_ASSIGN_OR_RETURN(auto query, ParseQuery(secret));
  static const std::string kSelf = "127.0.0.1:0";
  TARN_ASSIGN_OR_RETURN(Identity id,
                        ValidateSas(SasRequest{query, fs, path, kSelf, /*secure=*/true}, *account));
  return AuthorizeSas(id, fs, path, list ? 'c' : 'o', list ? "l" : "r");
}

}  // namespace tarn::protocol
