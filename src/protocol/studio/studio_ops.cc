#include "protocol/studio/studio_ops.h"

#include <algorithm>
#include <cctype>

#include "common/strings.h"
#include "identity/identity_service.h"
#include "protocol/studio/studio_assets.h"

namespace tarn::protocol::studio_ops {
namespace {

// No inline script or style, nothing from elsewhere, no framing: names from the lake are shown
// as text by the application, and this keeps a slip there from running anything.
constexpr char kPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'";

// The https address of this server for a plain-http visitor: the host they used, tarnd's TLS
// port. Bearer tokens travel over https only, so the studio works only there.
std::string HttpsUrl(const Ctx& c) {
  const std::string& base = c.ids->base_url();  // https://host:port
  const size_t colon = base.rfind(':');
  if (base.rfind("https://", 0) != 0 || colon < 8) return "";
  std::string host = base.substr(8, colon - 8);
  if (const std::string* h = c.Header("host")) {
    std::string_view hv(*h);
    if (!hv.empty() && hv.front() == '[') {
      hv = hv.substr(0, hv.find(']') + 1);
    } else {
      hv = hv.substr(0, hv.find(':'));
    }
    // Only a host name or an address: anything else keeps tarnd's own.
    const bool plain = !hv.empty() && std::all_of(hv.begin(), hv.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' ||
             ch == ':' || ch == '[' || ch == ']';
    });
    if (plain) host = std::string(hv);
  }
  return "https://" + host + base.substr(colon) + "/studio/";
}

}  // namespace

Status ServeStudio(Ctx& c) {
  if (!c.studio) {
    return Error(Reason::kStudioNotFound,
                 "This server has no studio: build it (scripts/build.sh builds studio/ when "
                 "Node.js is there) or point \"studio_dir\" at its files.");
  }
  if (!c.req.secure && c.ids && !c.ids->base_url().empty()) {
    const std::string to = HttpsUrl(c);
    if (!to.empty()) return c.Reply(307, {{"Location", to}, {"Cache-Control", "no-store"}});
  }
  // segments: "studio", then the file's path ("/studio" and "/studio/" are the index).
  if (c.segments.size() == 1 && !EndsWith(c.req.raw_path, "/")) {
    return c.Reply(301, {{"Location", "/studio/"}});
  }
  std::string rel;
  for (size_t i = 1; i < c.segments.size(); ++i) {
    if (c.segments[i].empty() || c.segments[i] == "." || c.segments[i] == "..") continue;
    if (!rel.empty()) rel += '/';
    rel += c.segments[i];
  }
  if (rel.empty()) rel = "index.html";
  const StudioAsset* a = c.studio->Find(rel);
  if (!a) {
    return Error(Reason::kStudioNotFound, "The studio has no file " + rel + "; open /studio/.");
  }
  http::Headers h{{"Content-Security-Policy", kPolicy},
                  {"X-Content-Type-Options", "nosniff"},
                  {"X-Frame-Options", "DENY"},
                  {"Referrer-Policy", "no-referrer"},
                  {"Cross-Origin-Opener-Policy", "same-origin"},
                  {"Cache-Control", a->immutable ? "public, max-age=31536000, immutable"
                                                 : "no-cache"},
                  {"ETag", a->etag}};
  if (const std::string* inm = c.Header("if-none-match"); inm && *inm == a->etag) {
    return c.Reply(304, std::move(h));
  }
  return c.Reply(200, std::move(h), a->bytes, a->content_type);
}

}  // namespace tarn::protocol::studio_ops
