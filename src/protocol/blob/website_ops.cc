// The static website of an account (Set Blob Service Properties, <StaticWebsite>): the files of
// its $web container, for anyone, at http(s)://<account>.web.<suffix>[:port]/<path>, as Azure
// serves them at <account>.z<N>.web.core.windows.net. A folder's URL serves its index document
// (or the one default page); a missing file the 404 page, with status 404.
#include <string>

#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "lake/lake_service.h"
#include "protocol/ops.h"
#include "protocol/service_properties.h"

namespace tarn::protocol::website {
namespace {

constexpr char kWeb[] = "$web";

std::string Page(const std::string& title, const std::string& text) {
  return "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title +
         "</title></head><body><h1>" + title + "</h1><p>" + text + "</p></body></html>\n";
}

Status PlainPage(Ctx& c, int status, const std::string& code, const std::string& title,
                 const std::string& text) {
  return c.Reply(status,
                 {{"x-ms-error-code", code},
                  {"X-Content-Type-Options", "nosniff"},
                  {"Cache-Control", "no-store"}},
                 Page(title, text), "text/html; charset=utf-8");
}

// What `path` names in $web: a file (its read plan), a folder, or nothing.
struct Found {
  std::optional<lake::ReadPlan> file;
  bool folder = false;
};

StatusOr<Found> Look(Ctx& c, const std::string& path) {
  Found out;
  if (path.empty()) {
    out.folder = true;
    return out;
  }
  auto plan = c.lake.OpenRead(c.account->name, kWeb, path, std::nullopt, lake::Access{});
  if (!plan.ok()) {
    if (plan.status().code() == Code::kNotFound) return out;
    return plan.status();
  }
  if (plan->node.is_dir) {
    out.folder = true;
  } else {
    out.file.emplace(std::move(*plan));
  }
  return out;
}

Status Send(Ctx& c, int status, lake::ReadPlan& plan) {
  const std::string etag = QuoteEtag(plan.node.etag);
  http::Headers h = c.StdHeaders();
  h.emplace_back("Content-Type", plan.node.headers.content_type.empty()
                                     ? "application/octet-stream"
                                     : plan.node.headers.content_type);
  if (!plan.node.headers.content_encoding.empty()) {
    h.emplace_back("Content-Encoding", plan.node.headers.content_encoding);
  }
  if (!plan.node.headers.cache_control.empty()) {
    h.emplace_back("Cache-Control", plan.node.headers.cache_control);
  }
  h.emplace_back("ETag", etag);
  h.emplace_back("Last-Modified", FormatHttpDate(plan.node.modified_us));
  h.emplace_back("X-Content-Type-Options", "nosniff");
  if (status == 200) {
    if (const std::string* inm = c.Header("if-none-match"); inm && Trim(*inm) == etag) {
      TARN_RETURN_IF_ERROR(c.w.Start(304, h, 0));
      return Status::Ok();
    }
  }
  TARN_RETURN_IF_ERROR(c.w.Start(status, h, plan.length));
  if (c.req.method == "HEAD") return Status::Ok();
  return StreamPlan(c, plan);
}

}  // namespace

Status ServeWebsite(Ctx& c) {
  const StaticWebsite site = c.service ? c.service->Website(c.account->name) : StaticWebsite{};
  if (!site.enabled) {
    return PlainPage(c, 404, "WebsiteDisabled", "Not found",
                     "The account's static website is not enabled: turn it on in its service "
                     "properties (StaticWebsite), then put its files in the $web container.");
  }
  // segments: the decoded path; "." and ".." were refused when the path was read.
  std::string path;
  for (const std::string& s : c.segments) path += (path.empty() ? "" : "/") + s;
  TARN_ASSIGN_OR_RETURN(Found found, Look(c, path));
  if (found.file) return Send(c, 200, *found.file);
  if (found.folder) {
    // A folder's URL without its trailing '/' moves there, so that relative links resolve. The
    // Location is made from the folder's name, never echoed from the request ("//host/x"
    // would send the browser to another site).
    if (!path.empty() && !EndsWith(c.req.raw_path, "/")) {
      return c.Reply(301, {{"Location", "/" + PercentEncode(path, /*keep_slash=*/true) + "/"},
                           {"Cache-Control", "no-store"}});
    }
    const std::string index = !site.default_index_path.empty()
                                  ? site.default_index_path
                                  : site.index_document.empty()
                                        ? std::string()
                                        : (path.empty() ? "" : path + "/") + site.index_document;
    if (!index.empty()) {
      TARN_ASSIGN_OR_RETURN(Found page, Look(c, index));
      if (page.file) return Send(c, 200, *page.file);
    }
  }
  if (!site.error_404_path.empty()) {
    TARN_ASSIGN_OR_RETURN(Found missing, Look(c, site.error_404_path));
    if (missing.file) return Send(c, 404, *missing.file);
  }
  return PlainPage(c, 404, "WebContentNotFound", "Not found",
                   "The requested content does not exist.");
}

}  // namespace tarn::protocol::website
