#include "protocol/identity/identity_ops.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/strings.h"
#include "audit/audit_log.h"
#include "identity/identity_service.h"
#include "protocol/ops.h"

namespace tarn::protocol::identity_ops {
namespace {

using identity::Json;

constexpr size_t kMaxForm = 64 << 10;
constexpr size_t kMaxJson = 1 << 20;

void ReplyOAuth(Ctx& c, int status, const Json& body) {
  c.Reply(status, {{"Cache-Control", "no-store"}, {"Pragma", "no-cache"}}, JsonText(body),
          "application/json; charset=utf-8")
      .IgnoreError();
}

// A discovery document; an unknown tenant is AADSTS90002, as on the Microsoft platform.
Status ReplyDocument(Ctx& c, const StatusOr<Json>& j) {
  if (!j.ok()) {
    ReplyOAuth(c, 400,
               Json{{"error", "invalid_tenant"},
                    {"error_description", "AADSTS90002: " + j.status().message()}});
    return Status::Ok();
  }
  ReplyOAuth(c, 200, *j);
  return Status::Ok();
}

StatusOr<Json> ReadJson(Ctx& c) {
  std::string text;
  Status read = ReadSmallBody(c, kMaxJson, &text);
  if (!read.ok()) {
    return Error(Reason::kInvalidInput, "the body is cut short or over 1 MiB");
  }
  if (text.empty()) return Json::object();
  Json body = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Error(Reason::kInvalidDefinition, "the body is not JSON");
  return body;
}

Status ReplyJson(Ctx& c, int status, const StatusOr<Json>& j) {
  if (!j.ok()) return j.status();
  return c.Reply(status, {}, JsonText(*j), "application/json; charset=utf-8");
}

Status ReplyDone(Ctx& c, const Status& s) {
  if (!s.ok()) return s;
  return ReplyJson(c, 200, Json::object());
}

// c.segments: "identity", then the route's segments; seg(i) is the i-th.
const std::string& Seg(const Ctx& c, size_t i) { return c.segments.at(i); }

}  // namespace

// ----- the token service (anonymous; OAuth's own error shape) ---------------------------------

Status OpenIdConfiguration(Ctx& c) { return ReplyDocument(c, c.ids->OpenIdConfiguration(Seg(c, 0))); }

Status Jwks(Ctx& c) { return ReplyDocument(c, c.ids->Jwks(Seg(c, 0))); }

Status Token(Ctx& c) {
  std::string body;
  if (!ReadSmallBody(c, kMaxForm, &body).ok()) {
    ReplyOAuth(c, 400,
               Json{{"error", "invalid_request"},
                    {"error_description",
                     "AADSTS90014: The request body must be a form of at most 64 KiB."}});
    return Status::Ok();
  }
  std::map<std::string, std::string> form;
  for (auto part : Split(body, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto k = PercentDecode(part.substr(0, eq), /*plus_as_space=*/true);
    auto v = PercentDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1), true);
    if (!k || !v) {
      ReplyOAuth(c, 400,
                 Json{{"error", "invalid_request"},
                      {"error_description", "AADSTS90014: The form is not validly encoded."}});
      return Status::Ok();
    }
    form[*k] = *v;
  }
  // The client's address without its port: sign-in throttling counts per address.
  std::string addr = c.req.remote;
  if (size_t colon = addr.rfind(':'); colon != std::string::npos) addr.resize(colon);
  identity::OAuthReply r = c.ids->Token(Seg(c, 0), form, addr);
  if (r.audit.is_object()) {
    c.signin = Ctx::SignIn{r.audit.value("principal", ""), r.audit.value("result", ""),
                           r.audit.value("error", ""), r.audit.value("client_id", ""), r.status};
  }
  ReplyOAuth(c, r.status, r.body);
  return Status::Ok();
}

Status TokenMethodNotAllowed(Ctx& c) {
  ReplyOAuth(c, 405,
             Json{{"error", "invalid_request"},
                  {"error_description", "AADSTS900561: The endpoint only accepts POST requests."}});
  return Status::Ok();
}

// ----- the directory admin API (/identity) ----------------------------------------------------

Status CreateTenant(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  return ReplyJson(c, 201, c.ids->CreateTenant(body));
}

Status ListTenants(Ctx& c) { return ReplyJson(c, 200, c.ids->ListTenants()); }

Status CreatePrincipal(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  return ReplyJson(c, 201, c.ids->CreatePrincipal(Seg(c, 2), body));
}

Status ListPrincipals(Ctx& c) { return ReplyJson(c, 200, c.ids->ListPrincipals(Seg(c, 2))); }

Status CreateGroup(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  return ReplyJson(c, 201, c.ids->CreateGroup(Seg(c, 2), body));
}

Status ListGroups(Ctx& c) { return ReplyJson(c, 200, c.ids->ListGroups(Seg(c, 2))); }

Status GetPrincipal(Ctx& c) { return ReplyJson(c, 200, c.ids->GetPrincipal(Seg(c, 2))); }

Status DeletePrincipal(Ctx& c) { return ReplyDone(c, c.ids->DeletePrincipal(Seg(c, 2))); }

Status AddSecret(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  return ReplyJson(c, 201, c.ids->AddSecret(Seg(c, 2), body));
}

Status RemoveSecret(Ctx& c) { return ReplyDone(c, c.ids->RemoveSecret(Seg(c, 2), Seg(c, 4))); }

Status SetPassword(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  return ReplyDone(c, c.ids->SetPassword(Seg(c, 2), body));
}

Status AddMember(Ctx& c) { return ReplyDone(c, c.ids->AddMember(Seg(c, 2), Seg(c, 4))); }

Status RemoveMember(Ctx& c) { return ReplyDone(c, c.ids->RemoveMember(Seg(c, 2), Seg(c, 4))); }

Status AssignRole(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json body, ReadJson(c));
  return ReplyJson(c, 201, c.ids->AssignRole(body));
}

Status ListRoles(Ctx& c) { return ReplyJson(c, 200, c.ids->ListRoles()); }

Status RemoveRole(Ctx& c) { return ReplyDone(c, c.ids->RemoveRole(Seg(c, 2))); }

Status ReadAudit(Ctx& c) {
  if (!c.audit) return Error(Reason::kNotImplemented, "this server keeps no audit log");
  // Filters: principal, result, action (exact), since (RFC 3339, inclusive), limit.
  const std::string principal = c.Query("principal").value_or("");
  const std::string result = c.Query("result").value_or("");
  const std::string action = c.Query("action").value_or("");
  const std::string since = c.Query("since").value_or("");
  TARN_ASSIGN_OR_RETURN(int64_t limit, ParseIntQuery(c, "limit", 1000));
  c.audit->FlushSummaries();
  auto text = [](const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto keep = [&](const Json& j) {
    return (principal.empty() || text(j, "principal") == principal) &&
           (result.empty() || text(j, "result") == result) &&
           (action.empty() || text(j, "action") == action) &&
           (since.empty() || text(j, "time") >= since);
  };
  TARN_ASSIGN_OR_RETURN(
      auto lines, c.audit->Read(keep, static_cast<size_t>(std::clamp<int64_t>(limit, 1, 100000))));
  return ReplyJson(c, 200, Json{{"events", lines}});
}

}  // namespace tarn::protocol::identity_ops
