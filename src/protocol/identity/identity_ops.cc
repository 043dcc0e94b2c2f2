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

StatusOr<Json> ReadJson(Ctx& c) { return ReadJsonBody(c, kMaxJson); }


// c.segments: "identity", then the route's segments; seg(i) is the i-th.
const std::string& Seg(const Ctx& c, size_t i) { return c.segments.at(i); }

}  // namespace

// ----- the token service (anonymous; OAuth's own error shape) ---------------------------------

Status OpenIdConfiguration(Ctx& c) { return ReplyDocument(c, c.ids->OpenIdConfiguration(Seg(c, 0))); }

Status Jwks(Ctx& c) { return ReplyDocument(c, c.ids->Jwks(Seg(c, 0))); }

namespace {

// Reads a form-encoded body of at most 64 KiB into *form; false when it is too long or not
// validly encoded (the answer has then been given, in OAuth's shape).
bool ReadForm(Ctx& c, std::map<std::string, std::string>* form) {
  std::string body;
  if (!ReadSmallBody(c, kMaxForm, &body).ok()) {
    ReplyOAuth(c, 400,
               Json{{"error", "invalid_request"},
                    {"error_description",
                     "AADSTS90014: The request body must be a form of at most 64 KiB."}});
    return false;
  }
  for (auto part : Split(body, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto k = PercentDecode(part.substr(0, eq), /*plus_as_space=*/true);
    auto v = PercentDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1), true);
    if (!k || !v) {
      ReplyOAuth(c, 400,
                 Json{{"error", "invalid_request"},
                      {"error_description", "AADSTS90014: The form is not validly encoded."}});
      return false;
    }
    (*form)[*k] = *v;
  }
  return true;
}

// The client's address without its port: sign-in throttling counts per address.
std::string ClientAddress(const Ctx& c) {
  std::string addr = c.req.remote;
  if (size_t colon = addr.rfind(':'); colon != std::string::npos) addr.resize(colon);
  return addr;
}

void NoteSignIn(Ctx& c, const Json& audit, int status) {
  if (!audit.is_object()) return;
  c.signin = Ctx::SignIn{audit.value("principal", ""), audit.value("result", ""),
                         audit.value("error", ""), audit.value("client_id", ""), status};
}

}  // namespace

Status Token(Ctx& c) {
  std::map<std::string, std::string> form;
  if (!ReadForm(c, &form)) return Status::Ok();
  identity::OAuthReply r = c.ids->Token(Seg(c, 0), form, ClientAddress(c));
  NoteSignIn(c, r.audit, r.status);
  ReplyOAuth(c, r.status, r.body);
  return Status::Ok();
}

Status DeviceCode(Ctx& c) {
  std::map<std::string, std::string> form;
  if (!ReadForm(c, &form)) return Status::Ok();
  identity::OAuthReply r = c.ids->StartDeviceCode(Seg(c, 0), form, ClientAddress(c));
  ReplyOAuth(c, r.status, r.body);
  return Status::Ok();
}

// ----- the device login page ------------------------------------------------------------------

namespace {

// The page: a form posting back to itself. Every value from outside is escaped; the policy
// forbids scripts, frames and posting anywhere else.
Status ReplyPage(Ctx& c, int status, const std::string& notice, bool error, bool show_form,
                 const std::string& code) {
  std::string page =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>Tarn: sign in on a device</title><style>"
      "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}"
      "label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:"
      "border-box}button{margin-top:1rem;padding:.5rem 1rem}.error{color:#a00}.ok{color:#060}"
      "</style></head><body><h1>Sign in on a device</h1>";
  if (!notice.empty()) {
    page += std::string("<p class=\"") + (error ? "error" : "ok") + "\" role=\"status\">" +
            XmlEscape(notice) + "</p>";
  }
  if (show_form) {
    page +=
        "<p>Enter the code your device shows, then your user name and password.</p>"
        "<form method=\"post\" autocomplete=\"off\">"
        "<label for=\"code\">Code</label><input id=\"code\" name=\"code\" required "
        "maxlength=\"16\" value=\"" + XmlEscape(code) + "\">"
        "<label for=\"username\">User name</label><input id=\"username\" name=\"username\" "
        "autocomplete=\"username\" maxlength=\"256\">"
        "<label for=\"password\">Password</label><input id=\"password\" name=\"password\" "
        "type=\"password\" autocomplete=\"current-password\" maxlength=\"256\">"
        "<button type=\"submit\" name=\"action\" value=\"sign-in\">Sign in</button> "
        "<button type=\"submit\" name=\"action\" value=\"decline\" formnovalidate>"
        "This was not me</button></form>";
  }
  page += "</body></html>\n";
  return c.Reply(status,
                 {{"Cache-Control", "no-store"},
                  {"Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                   "frame-ancestors 'none'; base-uri 'none'"},
                  {"X-Frame-Options", "DENY"},
                  {"X-Content-Type-Options", "nosniff"},
                  {"Referrer-Policy", "no-referrer"}},
                 page, "text/html; charset=utf-8");
}

// Passwords travel only over https: over plain http the page says where to go instead.
bool RequireHttps(Ctx& c) {
  if (c.req.secure) return true;
  ReplyPage(c, 400,
            "This page takes passwords, so it is served over https only: open " +
                c.ids->VerificationUri(Seg(c, 0)) + " instead.",
            true, false, "")
      .IgnoreError();
  return false;
}

}  // namespace

Status DeviceLoginPage(Ctx& c) {
  if (!RequireHttps(c)) return Status::Ok();
  std::string code = c.Query("code").value_or("");
  if (code.size() > 16) code.clear();
  return ReplyPage(c, 200, "", false, true, code);
}

Status DeviceLogin(Ctx& c) {
  if (!RequireHttps(c)) return Status::Ok();
  std::map<std::string, std::string> form;
  if (!ReadForm(c, &form)) return Status::Ok();
  auto get = [&](const char* k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  const std::string code = get("code").substr(0, 64);
  identity::DeviceLoginResult r =
      c.ids->CompleteDeviceCode(Seg(c, 0), code, get("username"), get("password"),
                                get("action") == "decline", ClientAddress(c));
  NoteSignIn(c, r.audit, r.status);
  const bool done = r.status == 200;
  return ReplyPage(c, r.status, r.message, !done, !done, done ? "" : code);
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
