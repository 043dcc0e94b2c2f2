// Account-level operations.
#include "protocol/ops.h"

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

}  // namespace tarn::protocol::account_ops
