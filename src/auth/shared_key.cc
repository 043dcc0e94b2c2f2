#include "auth/shared_key.h"

#include <algorithm>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"

namespace tarn::auth {
namespace {

const std::string* Find(const SignableRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

std::string Get(const SignableRequest& r, std::string_view name) {
  const std::string* v = Find(r, name);
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

std::string SharedKeyStringToSign(const SignableRequest& r, const std::string& account,
                                  const SignOptions& o) {
  std::string s;
  s.reserve(512);
  s += r.method;
  s += '\n';
  s += Get(r, "content-encoding") + '\n';
  s += Get(r, "content-language") + '\n';
  std::string len = Get(r, "content-length");
  s += (len == "0" ? "" : len) + '\n';
  s += Get(r, "content-md5") + '\n';
  s += Get(r, "content-type") + '\n';
  s += (o.use_date_header ? Get(r, "date") : std::string()) + '\n';
  s += Get(r, "if-modified-since") + '\n';
  s += Get(r, "if-match") + '\n';
  s += Get(r, "if-none-match") + '\n';
  s += Get(r, "if-unmodified-since") + '\n';
  s += Get(r, "range") + '\n';

  std::vector<std::pair<std::string, std::string>> xms;
  for (const auto& [k, v] : r.headers) {
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
    auto d = PercentDecode(r.raw_path);
    s += d ? *d : r.raw_path;
  } else {
    s += r.raw_path;
  }
  // Query parameters: names lowercased and sorted, values decoded, sorted and comma-joined.
  std::map<std::string, std::vector<std::string>> q;
  for (const auto& [k, v] : r.query) q[ToLower(k)].push_back(v);
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

std::string SharedKeyAuthorization(const SignableRequest& r, const std::string& account,
                                   const std::string& key_bytes) {
  return "SharedKey " + account + ":" +
         Base64Encode(HmacSha256(key_bytes, SharedKeyStringToSign(r, account, SignOptions{})));
}

}  // namespace tarn::auth
