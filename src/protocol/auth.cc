#include "protocol/auth.h"

#include <algorithm>
#include <cstdlib>
#include <map>

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

// Unfolds and trims a header value as the canonicalisation rules ask.
std::string CanonicalValue(const std::string& v) {
  std::string out;
  bool space = false;
  for (char ch : Trim(v)) {
    if (ch == '\r' || ch == '\n') continue;
    if (ch == ' ' || ch == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += ch;
  }
  return out;
}

std::string WithoutDashes(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch != '-') out += ch;
  }
  return out;
}

}  // namespace

std::string StringToSign(const Ctx& c, const std::string& account, const SignOptions& o) {
  std::string s;
  s.reserve(512);
  s += c.req.method;
  s += '\n';
  s += HeaderOrEmpty(c, "content-encoding") + '\n';
  s += HeaderOrEmpty(c, "content-language") + '\n';
  std::string len = HeaderOrEmpty(c, "content-length");
  s += (len == "0" ? "" : len) + '\n';
  s += HeaderOrEmpty(c, "content-md5") + '\n';
  s += HeaderOrEmpty(c, "content-type") + '\n';
  s += (o.use_date_header ? HeaderOrEmpty(c, "date") : std::string()) + '\n';
  s += HeaderOrEmpty(c, "if-modified-since") + '\n';
  s += HeaderOrEmpty(c, "if-match") + '\n';
  s += HeaderOrEmpty(c, "if-none-match") + '\n';
  s += HeaderOrEmpty(c, "if-unmodified-since") + '\n';
  s += HeaderOrEmpty(c, "range") + '\n';

  std::vector<std::pair<std::string, std::string>> xms;
  for (const auto& [k, v] : c.req.headers) {
    std::string lk = ToLower(k);
    if (StartsWith(lk, "x-ms-")) xms.emplace_back(lk, CanonicalValue(v));
  }
  if (o.dash_first_sort) {
    std::stable_sort(xms.begin(), xms.end(), [](const auto& a, const auto& b) {
      return WithoutDashes(a.first) < WithoutDashes(b.first);
    });
  } else {
    std::stable_sort(xms.begin(), xms.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  for (const auto& [k, v] : xms) s += k + ":" + v + "\n";

  s += "/" + account;
  if (o.decoded_path) {
    auto d = PercentDecode(c.req.raw_path);
    s += d ? *d : c.req.raw_path;
  } else {
    s += c.req.raw_path;
  }
  // Query parameters: names lowercased and sorted, values decoded, sorted and comma-joined.
  std::map<std::string, std::vector<std::string>> q;
  for (const auto& [k, v] : c.query) q[k].push_back(v);
  for (auto& [k, vs] : q) {
    std::sort(vs.begin(), vs.end());
    s += "\n" + k + ":";
    for (size_t i = 0; i < vs.size(); ++i) {
      if (i) s += ',';
      s += vs[i];
    }
  }
  return s;
}

Status Authenticate(Ctx& c, const std::vector<Account>& accounts) {
  const std::string* auth = c.Header("authorization");
  if (!auth) {
    c.identity = Identity{Identity::Kind::kAnonymous, ""};
    return Status::Ok();
  }
  auto fail = [](const std::string& why) {
    return Error(Reason::kAuthenticationFailed,
                 "Server failed to authenticate the request. Make sure the value of Authorization "
                 "header is formed correctly including the signature. " + why);
  };
  std::string_view a = Trim(*auth);
  if (!StartsWith(a, "SharedKey ")) {
    return fail("Only SharedKey authorization is supported on this endpoint.");
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
  for (bool decoded : {false, true}) {
    for (bool dash : {false, true}) {
      for (bool use_date : {true, false}) {
        if (!use_date && !c.Header("date")) continue;
        SignOptions o{decoded, dash, use_date};
        std::string sts = StringToSign(c, name, o);
        for (const auto& key : acct->keys) {
          if (SecureEquals(HmacSha256(key, sts), *sig)) {
            c.identity = Identity{Identity::Kind::kSharedKey, name};
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
