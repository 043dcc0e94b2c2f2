// DFS (ADLS Gen2) path operations: create, rename, append, flush, properties, access control,
// read, delete, lease.
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "identity/identity_service.h"
#include "lake/acl.h"
#include "protocol/ops.h"

namespace tarn::protocol::dfs {
namespace {

void AddWriteResult(const lake::Node& n, http::Headers* h) {
  h->emplace_back("ETag", QuoteEtag(n.etag));
  h->emplace_back("Last-Modified", FormatHttpDate(n.modified_us));
}

StatusOr<std::optional<std::string>> Md5Header(const Ctx& c) {
  const std::string* v = c.Header("x-ms-content-md5");
  if (!v) v = c.Header("content-md5");
  if (!v || v->empty()) return std::optional<std::string>();
  auto d = Base64Decode(*v);
  if (!d || d->size() != 16) {
    return Error(Reason::kInvalidHeaderValue, "The content MD5 is not a base64 MD5.");
  }
  return std::optional<std::string>(*d);
}

StatusOr<std::optional<uint32_t>> PermissionsHeader(const Ctx& c, const char* name) {
  const std::string* v = c.Header(name);
  if (!v) return std::optional<uint32_t>();
  TARN_ASSIGN_OR_RETURN(uint32_t p, lake::ParsePermissions(*v));
  return std::optional<uint32_t>(p);
}

std::optional<std::string> Opt(const std::string* v) {
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

}  // namespace

Status RenamePath(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  // The source was parsed from x-ms-rename-source and authorized by the pipeline.
  const SourceRef& src = *c.source;
  lake::RenameOptions o;
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  o.dest = ParseAccess(c, cond);
  TARN_ASSIGN_OR_RETURN(o.source, ParseSourceConditions(c));
  o.source_lease_id = Opt(c.Header("x-ms-source-lease-id"));
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.Rename(c.account->name, src.fs, src.path, c.fs, c.path, o));
  http::Headers h;
  AddWriteResult(n, &h);
  return c.Reply(201, std::move(h));
}

Status CreatePath(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  auto resource = c.Query("resource");
  if (!resource) {
    return Error(Reason::kMissingRequiredQueryParameter,
                 "The resource query parameter (file or directory) is required.");
  }
  lake::CreateOptions o;
  o.creator = Creator(c);
  if (*resource == "directory") {
    o.is_dir = true;
  } else if (*resource != "file") {
    return Error(Reason::kInvalidQueryParameterValue, "resource must be file or directory.");
  }
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  o.access = ParseAccess(c, cond);
  TARN_ASSIGN_OR_RETURN(auto headers, ParseContentHeaders(c, "x-ms-"));
  if (headers) o.headers = *headers;
  if (const auto* p = c.Header("x-ms-properties")) {
    TARN_ASSIGN_OR_RETURN(o.metadata, ParseProperties(*p));
  }
  TARN_ASSIGN_OR_RETURN(o.permissions, PermissionsHeader(c, "x-ms-permissions"));
  if (const auto* u = c.Header("x-ms-umask")) {
    TARN_ASSIGN_OR_RETURN(uint32_t um, lake::ParsePermissions(*u));
    o.umask = um & 0777;
  }
  o.owner = Opt(c.Header("x-ms-owner"));
  o.group = Opt(c.Header("x-ms-group"));
  o.acl = Opt(c.Header("x-ms-acl"));
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.CreatePath(c.account->name, c.fs, c.path, o));
  http::Headers h;
  AddWriteResult(n, &h);
  h.emplace_back("x-ms-request-server-encrypted", "false");
  return c.Reply(201, std::move(h));
}

Status AppendData(Ctx& c) {
  auto pos = c.Query("position");
  if (!pos) {
    return Error(Reason::kMissingRequiredQueryParameter, "The position query parameter is required.");
  }
  TARN_ASSIGN_OR_RETURN(int64_t position, ParseIntQuery(c, "position", 0));
  if (position < 0) return Error(Reason::kInvalidQueryParameterValue, "position must be >= 0.");
  if (!c.req.content_length && !c.req.chunked) {
    return Error(Reason::kMissingContentLength, "Content-Length is required.");
  }
  if (c.req.content_length && *c.req.content_length > (4000LL << 20)) {
    return Error(Reason::kRequestBodyTooLarge,
                 "An append may carry at most 4000 MiB.");
  }
  TARN_ASSIGN_OR_RETURN(auto md5, Md5Header(c));
  bool flush = QueryBool(c, "flush", false);
  BodySource body(c.req);
  TARN_ASSIGN_OR_RETURN(auto r, c.lake.Append(c.account->name, c.fs, c.path, position, body, md5,
                                              LeaseId(c), flush));
  http::Headers h;
  if (!r.md5.empty()) h.emplace_back("Content-MD5", Base64Encode(r.md5));
  h.emplace_back("x-ms-request-server-encrypted", "false");
  if (r.flushed) AddWriteResult(*r.flushed, &h);
  return c.Reply(202, std::move(h));
}

Status FlushData(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  if (!c.Query("position")) {
    return Error(Reason::kMissingRequiredQueryParameter, "The position query parameter is required.");
  }
  lake::FlushOptions o;
  TARN_ASSIGN_OR_RETURN(o.position, ParseIntQuery(c, "position", 0));
  o.retain_uncommitted = QueryBool(c, "retainuncommitteddata", false);
  o.close = QueryBool(c, "close", false);
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  o.access = ParseAccess(c, cond);
  TARN_ASSIGN_OR_RETURN(o.headers, ParseContentHeaders(c, "x-ms-"));
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.Flush(c.account->name, c.fs, c.path, o));
  http::Headers h;
  AddWriteResult(n, &h);
  h.emplace_back("x-ms-request-server-encrypted", "false");
  return c.Reply(200, std::move(h));
}

Status SetProperties(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  std::optional<lake::Metadata> props;
  if (const auto* p = c.Header("x-ms-properties")) {
    TARN_ASSIGN_OR_RETURN(props, ParseProperties(*p));
  }
  TARN_ASSIGN_OR_RETURN(auto headers, ParseContentHeaders(c, "x-ms-"));
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.SetProperties(c.account->name, c.fs, c.path, props, headers,
                                                     ParseAccess(c, cond)));
  http::Headers h;
  AddWriteResult(n, &h);
  return c.Reply(200, std::move(h));
}

// Maps the user IDs of ACL text (and of owner) through f: to UPNs for getAccessControl?upn=true,
// from UPNs when a request names users by UPN.
StatusOr<std::string> MapAclUsers(const std::string& acl,
                                  const std::function<StatusOr<std::string>(const std::string&)>& f) {
  std::string out;
  for (std::string_view piece : Split(acl, ',')) {
    std::string e(piece);
    size_t start = e.rfind("default:", 0) == 0 ? 8 : 0;
    size_t c1 = e.find(':', start), c2 = e.rfind(':');
    if (c1 != std::string::npos && c2 > c1 && e.compare(start, c1 - start, "user") == 0 &&
        c2 > c1 + 1) {
      TARN_ASSIGN_OR_RETURN(std::string id, f(e.substr(c1 + 1, c2 - c1 - 1)));
      e = e.substr(0, c1 + 1) + id + e.substr(c2);
    }
    out += (out.empty() ? "" : ",") + e;
  }
  return out;
}

StatusOr<std::optional<std::string>> UsersToOids(Ctx& c, const std::string* text, bool is_acl) {
  if (!text) return std::optional<std::string>();
  if (!c.ids || text->find('@') == std::string::npos) return std::optional<std::string>(*text);
  auto to_oid = [&](const std::string& name) { return c.ids->OidOf(name); };
  if (!is_acl) {
    TARN_ASSIGN_OR_RETURN(std::string oid, to_oid(*text));
    return std::optional<std::string>(oid);
  }
  TARN_ASSIGN_OR_RETURN(std::string mapped, MapAclUsers(*text, to_oid));
  return std::optional<std::string>(mapped);
}

Status SetAccessControl(Ctx& c) {
  TARN_RETURN_IF_ERROR(RequireEmptyBody(c));
  lake::SetAccessOptions o;
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  o.access = ParseAccess(c, cond);
  TARN_ASSIGN_OR_RETURN(o.owner, UsersToOids(c, c.Header("x-ms-owner"), false));
  o.group = Opt(c.Header("x-ms-group"));
  TARN_ASSIGN_OR_RETURN(o.acl, UsersToOids(c, c.Header("x-ms-acl"), true));
  TARN_ASSIGN_OR_RETURN(o.permissions, PermissionsHeader(c, "x-ms-permissions"));
  if (o.acl && o.permissions) {
    return Error(Reason::kInvalidHeaderValue,
                 "x-ms-permissions and x-ms-acl are mutually exclusive.");
  }
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.SetAccessControl(c.account->name, c.fs, c.path, o));
  http::Headers h;
  AddWriteResult(n, &h);
  return c.Reply(200, std::move(h));
}

Status SetAccessControlRecursive(Ctx& c) {
  std::string mode_text = c.Query("mode").value_or("");
  lake::AclChangeMode mode;
  if (mode_text == "set") {
    mode = lake::AclChangeMode::kSet;
  } else if (mode_text == "modify") {
    mode = lake::AclChangeMode::kModify;
  } else if (mode_text == "remove") {
    mode = lake::AclChangeMode::kRemove;
  } else {
    return Error(Reason::kInvalidQueryParameterValue,
                 "The mode query parameter must be set, modify or remove.");
  }
  const std::string* acl = c.Header("x-ms-acl");
  if (!acl || acl->empty()) {
    return Error(Reason::kMissingRequiredHeader, "x-ms-acl is required for setAccessControlRecursive.");
  }
  TARN_ASSIGN_OR_RETURN(auto acl_ids, UsersToOids(c, acl, true));
  TARN_ASSIGN_OR_RETURN(auto change, lake::ParseAclChange(*acl_ids, mode));
  TARN_ASSIGN_OR_RETURN(int64_t max, ParseIntQuery(c, "maxrecords", 2000));
  if (max < 1) return Error(Reason::kInvalidQueryParameterValue, "maxRecords must be positive.");
  std::optional<lake::AclPrincipal> who;
  if (c.identity.kind == Identity::Kind::kBearer && c.identity.by_acl) {
    who = lake::AclPrincipal{c.identity.oid, c.identity.groups};
  }
  TARN_ASSIGN_OR_RETURN(
      lake::AclChangeResult r,
      c.lake.ChangeAclRecursive(c.account->name, c.fs, c.path, mode, change,
                                c.Query("continuation").value_or(""),
                                static_cast<int>(std::min<int64_t>(max, 2000)), who));
  nlohmann::json failed = nlohmann::json::array();
  for (const auto& f : r.failed) {
    failed.push_back({{"name", f.path},
                      {"type", f.is_dir ? "DIRECTORY" : "FILE"},
                      {"errorMessage", f.message}});
  }
  nlohmann::json body{{"directoriesSuccessful", r.directories},
                      {"filesSuccessful", r.files},
                      {"failureCount", r.failures},
                      {"failedEntries", failed}};
  http::Headers h;
  if (!r.continuation.empty()) h.emplace_back("x-ms-continuation", r.continuation);
  return c.Reply(200, std::move(h), JsonText(body), "application/json;charset=utf-8");
}

Status GetProperties(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(auto n, c.lake.GetPath(c.account->name, c.fs, c.path, ParseAccess(c, cond)));
  std::string action = c.Query("action").value_or("");
  http::Headers h = c.StdHeaders();
  int64_t length = 0;
  bool extended = !n.access.acl.empty();
  if (action == "getAccessControl") {
    AddWriteResult(n, &h);
    std::string owner = n.access.owner, acl = lake::FormatAcl(n.access, n.is_dir);
    if (QueryBool(c, "upn", false) && c.ids) {
      // upn=true: users by user principal name instead of object ID.
      auto to_upn = [&](const std::string& id) -> StatusOr<std::string> {
        return c.ids->UpnOf(id);
      };
      owner = c.ids->UpnOf(owner);
      TARN_ASSIGN_OR_RETURN(acl, MapAclUsers(acl, to_upn));
    }
    h.emplace_back("x-ms-owner", owner);
    h.emplace_back("x-ms-group", n.access.group);
    h.emplace_back("x-ms-permissions", lake::FormatPermissions(n.access.permissions, extended));
    h.emplace_back("x-ms-acl", acl);
  } else if (action == "getStatus") {
    AddWriteResult(n, &h);
    h.emplace_back("x-ms-resource-type", n.is_dir ? "directory" : "file");
    h.emplace_back("x-ms-owner", n.access.owner);
    h.emplace_back("x-ms-group", n.access.group);
    h.emplace_back("x-ms-permissions", lake::FormatPermissions(n.access.permissions, extended));
    length = n.length;
  } else if (action.empty()) {
    AddNodeProperties(c, n, &h);
    if (!n.headers.content_md5.empty()) {
      h.emplace_back("Content-MD5", Base64Encode(n.headers.content_md5));
    }
    h.emplace_back("x-ms-owner", n.access.owner);
    h.emplace_back("x-ms-group", n.access.group);
    h.emplace_back("x-ms-permissions", lake::FormatPermissions(n.access.permissions, extended));
    length = n.length;
  } else {
    return Error(Reason::kInvalidQueryParameterValue,
                 "action must be getAccessControl or getStatus on HEAD.");
  }
  return c.w.Start(200, h, length);
}

Status ReadPath(Ctx& c) { return blob::GetBlob(c); }

Status DeletePath(Ctx& c) {
  // "/<fs>/?recursive=true" names the filesystem, not a path: Azure has no Path - Delete of
  // the root directory (clients that empty a filesystem list it and delete each child), and
  // a filesystem is deleted with resource=filesystem.
  if (c.path.empty()) {
    return Error(Reason::kMissingRequiredQueryParameter,
                 "The root directory of a filesystem cannot be deleted. To delete the filesystem "
                 "send resource=filesystem; to empty it, delete its paths.");
  }
  TARN_ASSIGN_OR_RETURN(auto cond, ParseConditions(c));
  bool recursive = QueryBool(c, "recursive", false);
  // Under a delete retention policy the path (a whole directory tree: one metadata change) is
  // kept, restorable by its deletion id, until its retention ends.
  if (const int64_t retain = RetentionMicros(c); retain > 0) {
    TARN_ASSIGN_OR_RETURN(auto d, c.lake.SoftDelete(c.account->name, c.fs, c.path, recursive,
                                                    ParseAccess(c, cond), retain));
    return c.Reply(200, {{"x-ms-deletion-id", std::to_string(d.id)}});
  }
  TARN_RETURN_IF_ERROR(
      c.lake.Delete(c.account->name, c.fs, c.path, recursive, ParseAccess(c, cond)));
  return c.Reply(200, {});
}

Status LeasePath(Ctx& c) { return blob::LeaseBlob(c); }

}  // namespace tarn::protocol::dfs
