// Account-level operations.
#include <pugixml.hpp>

#include "common/encoding.h"
#include "common/time_util.h"
#include "protocol/ops.h"
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
  static constexpr char kBody[] =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties>"
      "<Logging><Version>1.0</Version><Read>false</Read><Write>false</Write>"
      "<Delete>false</Delete><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy>"
      "</Logging><HourMetrics><Version>1.0</Version><Enabled>false</Enabled>"
      "<RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></HourMetrics>"
      "<MinuteMetrics><Version>1.0</Version><Enabled>false</Enabled>"
      "<RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></MinuteMetrics>"
      "<Cors /><DeleteRetentionPolicy><Enabled>false</Enabled></DeleteRetentionPolicy>"
      "<StaticWebsite><Enabled>false</Enabled></StaticWebsite>"
      "</StorageServiceProperties>";
  return c.Reply(200, {}, kBody, "application/xml");
}

Status SetServiceProperties(Ctx& c) {
  // Logging, metrics, CORS and static websites are not served; say so rather than pretend.
  return Error(Reason::kNotImplemented,
               "Service properties (logging, metrics, CORS, static website) are not supported.");
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
