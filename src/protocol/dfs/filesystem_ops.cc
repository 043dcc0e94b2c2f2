// DFS (ADLS Gen2) filesystem operations and List Paths.
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/time_util.h"
#include "lake/acl.h"
#include "protocol/ops.h"

namespace tarn::protocol::dfs {
namespace {

constexpr char kJson[] = "application/json;charset=utf-8";

StatusOr<lake::Metadata> PropertiesHeader(const Ctx& c) {
  const std::string* v = c.Header("x-ms-properties");
  if (!v) return lake::Metadata{};
  return ParseProperties(*v);
}

void AddFsHeaders(const lake::Filesystem& fs, http::Headers* h) {
  h->emplace_back("ETag", QuoteEtag(fs.etag));
  h->emplace_back("Last-Modified", FormatHttpDate(fs.modified_us));
  h->emplace_back("x-ms-namespace-enabled", "true");
}

}  // namespace

Status ListFilesystems(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(int64_t max, ParseIntQuery(c, "maxresults", 5000));
  if (max < 1 || max > 5000) {
    return Error(Reason::kInvalidQueryParameterValue, "maxResults must be between 1 and 5000.");
  }
  TARN_ASSIGN_OR_RETURN(auto page, c.lake.ListFilesystems(c.account->name,
                                                          c.Query("prefix").value_or(""),
                                                          c.Query("continuation").value_or(""),
                                                          static_cast<int>(max)));
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& fs : page.items) {
    arr.push_back({{"name", fs.name},
                   {"lastModified", FormatHttpDate(fs.modified_us)},
                   {"etag", fs.etag}});
  }
  http::Headers h;
  if (!page.next_marker.empty()) h.emplace_back("x-ms-continuation", page.next_marker);
  return c.Reply(200, std::move(h), JsonText(nlohmann::json{{"filesystems", arr}}), kJson);
}

Status CreateFilesystem(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  TARN_ASSIGN_OR_RETURN(auto props, PropertiesHeader(c));
  TARN_ASSIGN_OR_RETURN(auto fs, c.lake.CreateFilesystem(c.account->name, c.fs, props, ""));
  http::Headers h;
  AddFsHeaders(fs, &h);
  return c.Reply(201, std::move(h));
}

Status GetFilesystemProperties(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto fs, c.lake.GetFilesystem(c.account->name, c.fs));
  http::Headers h;
  AddFsHeaders(fs, &h);
  h.emplace_back("x-ms-properties", FormatProperties(fs.metadata));
  return c.Reply(200, std::move(h));
}

Status SetFilesystemProperties(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto props, PropertiesHeader(c));
  TARN_ASSIGN_OR_RETURN(auto fs, c.lake.SetFilesystemMetadata(c.account->name, c.fs, props,
                                                               ParseAccess(c, cond)));
  http::Headers h;
  AddFsHeaders(fs, &h);
  return c.Reply(200, std::move(h));
}

Status DeleteFilesystem(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_RETURN_IF_ERROR(DeleteFilesystemAsConfigured(c, ParseAccess(c, cond)));
  return c.Reply(202, {});
}

Status ListPaths(Ctx& c) {
  auto recursive = c.Query("recursive");
  if (!recursive) {
    return Error(Reason::kMissingRequiredQueryParameter,
                 "The recursive query parameter is required.");
  }
  TARN_ASSIGN_OR_RETURN(int64_t max, ParseIntQuery(c, "maxresults", 5000));
  if (max < 1 || max > 5000) {
    return Error(Reason::kInvalidQueryParameterValue, "maxResults must be between 1 and 5000.");
  }
  std::string dir;
  if (auto d = c.Query("directory")) {
    TARN_ASSIGN_OR_RETURN(dir, lake::NormalizePath(*d));
  }
  TARN_ASSIGN_OR_RETURN(auto page, c.lake.ListPaths(c.account->name, c.fs, dir,
                                                    QueryBool(c, "recursive", false),
                                                    c.Query("continuation").value_or(""),
                                                    static_cast<int>(max)));
  // Numbers and booleans are strings on the wire, and isDirectory is left out for files.
  std::string body = "{\"paths\":[";
  bool first = true;
  for (const auto& e : page.entries) {
    const lake::Node& n = e.node;
    nlohmann::json j = {
        {"name", e.path},
        {"contentLength", std::to_string(n.length)},
        {"creationTime", FormatFiletime(n.created_us)},
        {"etag", n.etag},
        {"expiryTime", "0"},
        {"group", n.access.group},
        {"lastModified", FormatHttpDate(n.modified_us)},
        {"owner", n.access.owner},
        {"permissions", lake::FormatPermissions(n.access.permissions, !n.access.acl.empty())},
    };
    if (n.is_dir) j["isDirectory"] = "true";
    if (!first) body += ',';
    first = false;
    body += JsonText(j);
  }
  body += "]}";
  http::Headers h;
  if (!page.continuation.empty()) h.emplace_back("x-ms-continuation", page.continuation);
  return c.Reply(200, std::move(h), body, kJson);
}

}  // namespace tarn::protocol::dfs
