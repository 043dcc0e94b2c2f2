#include "protocol/identity/identity_ops.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/strings.h"

namespace tarn::protocol {
namespace {

using identity::Json;

constexpr int64_t kMaxForm = 64 << 10;
constexpr int64_t kMaxJson = 1 << 20;

std::vector<std::string> Segments(std::string_view raw_path) {
  std::vector<std::string> out;
  for (auto part : Split(raw_path.substr(1), '/')) {
    if (part.empty()) continue;
    auto d = PercentDecode(part);
    out.push_back(d ? *d : std::string(part));
  }
  return out;
}

// Reads a body of at most `limit` bytes; nullopt if it is larger or cut short.
std::optional<std::string> ReadBody(Ctx& c, int64_t limit) {
  int64_t n = 0;
  const std::string* cl = c.Header("content-length");
  if (cl && !ParseInt64(*cl, &n)) return std::nullopt;
  if (n < 0) return std::nullopt;
  if (n > limit) {
    // Read and drop a moderately oversized body, so the client sees the error instead of a
    // reset connection; a huge one is left for the server to cut off.
    if (n <= (1 << 20)) {
      BodySource src(c.req);
      char sink[8192];
      for (;;) {
        auto k = src.Read(sink, sizeof sink);
        if (!k.ok() || *k == 0) break;
      }
    }
    return std::nullopt;
  }
  std::string body(static_cast<size_t>(n), '\0');
  BodySource src(c.req);
  size_t got = 0;
  while (got < body.size()) {
    auto k = src.Read(body.data() + got, body.size() - got);
    if (!k.ok() || *k == 0) return std::nullopt;
    got += *k;
  }
  return body;
}

void ReplyOAuth(Ctx& c, int status, const Json& body) {
  c.Reply(status, {{"Cache-Control", "no-store"}, {"Pragma", "no-cache"}}, body.dump(),
          "application/json; charset=utf-8")
      .IgnoreError();
}

Status ReplyJson(Ctx& c, int status, const Json& j) {
  return c.Reply(status, {}, JsonText(j), "application/json; charset=utf-8");
}

}  // namespace

bool IsTokenServicePath(std::string_view p) {
  auto s = Segments(p);
  return s.size() >= 2 && (s[1] == "v2.0" || s[1] == "discovery" || s[1] == "oauth2");
}

bool IsIdentityAdminPath(std::string_view p) {
  constexpr std::string_view kPrefix = "/identity";
  return p.substr(0, kPrefix.size()) == kPrefix &&
         (p.size() == kPrefix.size() || p[kPrefix.size()] == '/');
}

void ServeTokenService(Ctx& c, identity::IdentityService& ids) {
  auto s = Segments(c.req.raw_path);
  const std::string& m = c.req.method;
  const std::string tenant = s[0];
  auto not_found = [&] {
    ReplyOAuth(
        c, 404,
        Json{{"error", "not_found"}, {"error_description", "no such endpoint: " + c.req.raw_path}});
  };
  // Discovery documents; an unknown tenant is AADSTS90002, as on the Microsoft platform.
  auto document = [&](const StatusOr<Json>& j) {
    if (!j.ok()) {
      ReplyOAuth(c, 400,
                 Json{{"error", "invalid_tenant"},
                      {"error_description", "AADSTS90002: " + j.status().message()}});
      return;
    }
    ReplyOAuth(c, 200, *j);
  };
  if (s.size() == 4 && s[1] == "v2.0" && s[2] == ".well-known" && s[3] == "openid-configuration" &&
      m == "GET") {
    return document(ids.OpenIdConfiguration(tenant));
  }
  if (s.size() == 4 && s[1] == "discovery" && s[2] == "v2.0" && s[3] == "keys" && m == "GET") {
    return document(ids.Jwks(tenant));
  }
  if (s.size() == 4 && s[1] == "oauth2" && s[2] == "v2.0" && s[3] == "token") {
    if (m != "POST") {
      ReplyOAuth(c, 405,
                 Json{{"error", "invalid_request"},
                      {"error_description",
                       "AADSTS900561: The endpoint only accepts "
                       "POST requests."}});
      return;
    }
    auto body = ReadBody(c, kMaxForm);
    if (!body) {
      ReplyOAuth(c, 400,
                 Json{{"error", "invalid_request"},
                      {"error_description",
                       "AADSTS90014: The request body must be a "
                       "form of at most 64 KiB."}});
      return;
    }
    std::map<std::string, std::string> form;
    for (auto part : Split(*body, '&')) {
      if (part.empty()) continue;
      size_t eq = part.find('=');
      auto k = PercentDecode(part.substr(0, eq), /*plus_as_space=*/true);
      auto v = PercentDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1), true);
      if (!k || !v) {
        ReplyOAuth(c, 400,
                   Json{{"error", "invalid_request"},
                        {"error_description",
                         "AADSTS90014: The form is not validly "
                         "encoded."}});
        return;
      }
      form[*k] = *v;
    }
    identity::OAuthReply r = ids.Token(tenant, form);
    ReplyOAuth(c, r.status, r.body);
    return;
  }
  not_found();
}

Status ServeIdentityAdmin(Ctx& c, identity::IdentityService& ids, audit::AuditLog* audit) {
  if (c.identity.kind != Identity::Kind::kSharedKey) {
    return Error(Reason::kNoAuthenticationInformation,
                 "the identity admin API needs a request signed with an account's Shared Key");
  }
  auto s = Segments(c.req.raw_path);  // s[0] == "identity"
  const std::string& m = c.req.method;
  const size_t n = s.size();
  Json body = Json::object();
  if (m == "POST" || m == "PUT") {
    auto text = ReadBody(c, kMaxJson);
    if (!text) return Error(Reason::kInvalidInput, "the body is missing, cut short or over 1 MiB");
    if (!text->empty()) {
      body = Json::parse(*text, nullptr, false);
      if (body.is_discarded()) return Error(Reason::kInvalidDefinition, "the body is not JSON");
    }
  }
  auto done = [&](StatusOr<Json> j, int status = 200) -> Status {
    if (!j.ok()) return j.status();
    return ReplyJson(c, status, *j);
  };
  auto ok = [&](Status st) -> Status {
    if (!st.ok()) return st;
    return ReplyJson(c, 200, Json::object());
  };
  if (n == 2 && s[1] == "tenants") {
    if (m == "POST") return done(ids.CreateTenant(body), 201);
    if (m == "GET") return done(ids.ListTenants());
  }
  if (n == 4 && s[1] == "tenants" && s[3] == "principals") {
    if (m == "POST") return done(ids.CreatePrincipal(s[2], body), 201);
    if (m == "GET") return done(ids.ListPrincipals(s[2]));
  }
  if (n == 4 && s[1] == "tenants" && s[3] == "groups") {
    if (m == "POST") return done(ids.CreateGroup(s[2], body), 201);
    if (m == "GET") return done(ids.ListGroups(s[2]));
  }
  if (n == 3 && s[1] == "principals") {
    if (m == "GET") return done(ids.GetPrincipal(s[2]));
    if (m == "DELETE") return ok(ids.DeletePrincipal(s[2]));
  }
  if (n == 4 && s[1] == "principals" && s[3] == "secrets" && m == "POST") {
    return done(ids.AddSecret(s[2], body), 201);
  }
  if (n == 5 && s[1] == "principals" && s[3] == "secrets" && m == "DELETE") {
    return ok(ids.RemoveSecret(s[2], s[4]));
  }
  if (n == 5 && s[1] == "groups" && s[3] == "members") {
    if (m == "PUT") return ok(ids.AddMember(s[2], s[4]));
    if (m == "DELETE") return ok(ids.RemoveMember(s[2], s[4]));
  }
  if (n == 2 && s[1] == "role-assignments") {
    if (m == "POST") return done(ids.AssignRole(body), 201);
    if (m == "GET") return done(ids.ListRoles());
  }
  if (n == 3 && s[1] == "role-assignments" && m == "DELETE") return ok(ids.RemoveRole(s[2]));
  if (n == 2 && s[1] == "audit" && m == "GET" && audit) {
    // Filters: principal, result, action (exact), since (RFC 3339, inclusive), limit.
    const std::string principal = c.Query("principal").value_or("");
    const std::string result = c.Query("result").value_or("");
    const std::string action = c.Query("action").value_or("");
    const std::string since = c.Query("since").value_or("");
    TARN_ASSIGN_OR_RETURN(int64_t limit, ParseIntQuery(c, "limit", 1000));
    audit->FlushSummaries();
    auto keep = [&](const Json& j) {
      return (principal.empty() || j.value("principal", "") == principal) &&
             (result.empty() || j.value("result", "") == result) &&
             (action.empty() || j.value("action", "") == action) &&
             (since.empty() || j.value("time", "") >= since);
    };
    TARN_ASSIGN_OR_RETURN(auto lines,
                          audit->Read(keep, static_cast<size_t>(std::clamp<int64_t>(limit, 1, 100000))));
    return ReplyJson(c, 200, Json{{"events", lines}});
  }
  return Error(Reason::kUnsupportedHttpVerb,
               "unsupported identity request: " + m + " " + c.req.raw_path);
}

}  // namespace tarn::protocol
