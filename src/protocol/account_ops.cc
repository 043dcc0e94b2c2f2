// Account-level operations.
#include <pugixml.hpp>

#include "common/encoding.h"
#include "common/time_util.h"
#include "protocol/ops.h"
#include "protocol/service_properties.h"
#include "protocol/sas.h"

namespace tarn::protocol::account_ops {

Status GetAccountInfo(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  http::Headers h;
  h.emplace_back("x-ms-sku-name", "Standard_LRS");
  h.emplace_back("x-ms-account-kind", "StorageV2");
  h.emplace_back("x-ms-is-hns-enabled", "true");
  return c.Reply(200, std::move(h));
}

Status GetServiceProperties(Ctx& c) {
  if (!c.service) {
    return Error(Reason::kNotImplemented, "this server keeps no service properties");
  }
  TARN_ASSIGN_OR_RETURN(std::string doc, c.service->Get(c.account->name));
  return c.Reply(200, {}, doc, "application/xml");
}

Status SetServiceProperties(Ctx& c) {
  if (!c.service) {
    return Error(Reason::kNotImplemented, "this server keeps no service properties");
  }
  std::string body;
  TARN_RETURN_IF_ERROR(ReadSmallBody(c, 64 * 1024, &body));
  TARN_RETURN_IF_ERROR(c.service->Set(c.account->name, body));
  // A static website's files live in $web, which Azure makes when the website is turned on.
  if (c.service->Website(c.account->name).enabled) {
    auto made = c.lake.CreateFilesystem(c.account->name, "$web", {}, "");
    if (!made.ok() && made.status().reason() != Reason::kFilesystemAlreadyExists) {
      return made.status();
    }
  }
  return c.Reply(202, {});
}

Status CorsPreflight(Ctx& c) {
  const std::string* origin = c.Header("origin");
  const std::string* method = c.Header("access-control-request-method");
  if (!origin || !method) {
    return Error(Reason::kMissingRequiredHeader,
                 "A CORS preflight (OPTIONS) needs Origin and Access-Control-Request-Method.");
  }
  const std::string* headers = c.Header("access-control-request-headers");
  std::optional<http::Headers> h =
      c.service ? c.service->Preflight(c.account->name, *origin, *method, headers ? *headers : "")
                : std::nullopt;
  if (!h) {
    return Error(Reason::kCorsPreflightFailure,
                 "CORS not enabled or no matching rule found for this request: the account's "
                 "service properties (Set Blob Service Properties, <Cors>) allow no " + *method +
                     " from " + *origin + ".");
  }
  return c.Reply(200, std::move(*h));
}

Status GetUserDelegationKey(Ctx& c) {
  if (c.identity.kind != Identity::Kind::kBearer) {
    return Error(Reason::kAuthenticationFailed,
                 "Only OAuth (bearer token) callers may get a user delegation key.");
  }
  std::string body;
  TARN_RETURN_IF_ERROR(ReadSmallBody(c, 64 * 1024, &body));
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size()) || !doc.child("KeyInfo")) {
    return Error(Reason::kInvalidXml, "The body must be a KeyInfo XML document.");
  }
  const int64_t now = NowMicros();
  std::string start_text = doc.child("KeyInfo").child_value("Start");
  std::string expiry_text = doc.child("KeyInfo").child_value("Expiry");
  auto start = start_text.empty() ? std::optional<int64_t>(now) : ParseIso8601(start_text);
  auto expiry = ParseIso8601(expiry_text);
  if (!start || !expiry) {
    return Error(Reason::kInvalidInput, "KeyInfo needs ISO 8601 Start (optional) and Expiry.");
  }
  if (*expiry <= now || *expiry <= *start || *expiry > now + 7LL * 24 * 3600 * 1000000) {
    return Error(Reason::kInvalidInput,
                 "The key's expiry must be in the future, after its start, and at most 7 days "
                 "from now.");
  }
  // Whole seconds, as Azure writes them, so the client signs exactly these strings.
  std::string skt = FormatIso8601(*start / 1000000 * 1000000);
  std::string ske = FormatIso8601(*expiry / 1000000 * 1000000);
  skt = skt.substr(0, 19) + "Z";
  ske = ske.substr(0, 19) + "Z";
  const std::string skv = c.version;
  std::string value = UserDelegationKeyValue(c.account->keys.front(), c.identity.oid,
                                             c.identity.tid, skt, ske, skv);
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><UserDelegationKey><SignedOid>" +
                    XmlEscape(c.identity.oid) + "</SignedOid><SignedTid>" +
                    XmlEscape(c.identity.tid) + "</SignedTid><SignedStart>" + skt +
                    "</SignedStart><SignedExpiry>" + ske +
                    "</SignedExpiry><SignedService>b</SignedService><SignedVersion>" +
                    XmlEscape(skv) + "</SignedVersion><Value>" + Base64Encode(value) +
                    "</Value></UserDelegationKey>";
  return c.Reply(200, {}, xml, "application/xml");
}

}  // namespace tarn::protocol::account_ops
