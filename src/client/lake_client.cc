#include "client/lake_client.h"

#include <map>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "auth/shared_key.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace tarn::client {

Code CodeForHttp(int status, const std::string& azure_code) {
  switch (status) {
    case 400:
    case 411:
    case 413:
    case 416:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 409:
      return EndsWith(azure_code, "AlreadyExists") ? Code::kAlreadyExists : Code::kConflict;
    case 412:
      return Code::kFailedPrecondition;
    case 501:
      return Code::kUnimplemented;
    default:
      return status >= 500 ? Code::kUnavailable : Code::kInternal;
  }
}

Status TakeAccountFromPath(Endpoint* ep, std::string* account) {
  if (ep->path_prefix.empty()) return Status::Ok();
  std::string_view path = ep->path_prefix;
  path.remove_prefix(1);
  auto decoded = PercentDecode(path);
  if (path.find('/') != std::string_view::npos || !decoded || decoded->empty()) {
    return Status(Code::kInvalidArgument,
                  "the URL path may name only the account: http://host:port/<account>");
  }
  *account = *decoded;
  ep->path_prefix.clear();
  return Status::Ok();
}

std::string BodyExcerpt(const std::string& body) {
  std::string out;
  for (char ch : body.substr(0, 300)) out += (ch == '\n' || ch == '\r') ? ' ' : ch;
  return out;
}

std::string SignSharedKey(const std::string& method, const std::string& raw_path,
                          const std::vector<std::pair<std::string, std::string>>& query,
                          int64_t body_length, const std::string& account,
                          const std::string& key_bytes, const std::string& api_version,
                          Headers* headers) {
  std::string target = raw_path;
  auth::SignableRequest signable;
  signable.method = method;
  signable.raw_path = raw_path;
  for (size_t i = 0; i < query.size(); ++i) {
    target += i == 0 ? '?' : '&';
    target += PercentEncode(query[i].first) + "=" + PercentEncode(query[i].second);
    signable.query.emplace(ToLower(query[i].first), query[i].second);
  }
  headers->emplace_back("x-ms-date", FormatHttpDate(NowMicros()));
  headers->emplace_back("x-ms-version", api_version);
  if (key_bytes.empty()) return target;
  signable.headers = *headers;
  if (body_length > 0) signable.headers.emplace_back("Content-Length", std::to_string(body_length));
  headers->emplace_back("Authorization", auth::SharedKeyAuthorization(signable, account, key_bytes));
  return target;
}

namespace {

bool JsonTrue(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  return it->is_string() && EqualsIgnoreCase(it->get<std::string>(), "true");
}

int64_t JsonInt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  int64_t v = 0;
  if (it->is_string()) ParseInt64(it->get<std::string>(), &v);
  return v;
}

}  // namespace

StatusOr<std::unique_ptr<LakeClient>> LakeClient::Create(const std::string& url,
                                                         LakeClientOptions opts) {
  TARN_ASSIGN_OR_RETURN(Endpoint ep, ParseEndpoint(url));
  TARN_RETURN_IF_ERROR(TakeAccountFromPath(&ep, &opts.account));
  if (opts.account.empty()) return Status(Code::kInvalidArgument, "no account given");
  if (opts.bearer) {
    if (!ep.tls) {
      return Status(Code::kInvalidArgument, "the endpoint " + url +
                                                " is not https; bearer tokens are sent only "
                                                "over TLS");
    }
    return std::unique_ptr<LakeClient>(new LakeClient(std::move(ep), std::move(opts), ""));
  }
  if (!opts.sas_token.empty()) {
    if (opts.sas_token[0] == '?') opts.sas_token.erase(0, 1);
    return std::unique_ptr<LakeClient>(new LakeClient(std::move(ep), std::move(opts), ""));
  }
  auto key = Base64Decode(opts.key_base64);
  if (!key || key->empty()) {
    return Status(Code::kInvalidArgument, "the account key is not valid base64");
  }
  return std::unique_ptr<LakeClient>(new LakeClient(std::move(ep), std::move(opts), *key));
}

LakeClient::LakeClient(Endpoint ep, LakeClientOptions opts, std::string key)
    : opts_(std::move(opts)),
      key_(std::move(key)),
      account_prefix_("/" + PercentEncode(opts_.account)),
      http_(std::move(ep), opts_.connection) {}

StatusOr<Response> LakeClient::Call(const std::string& method, const std::string& fs,
                                    const std::string& path, const Query& query, Headers headers,
                                    std::string_view body, const BodySource* source,
                                    int64_t length, const BodySink* sink) {
  std::string raw_path = account_prefix_ + "/" + PercentEncode(fs);
  if (!path.empty()) raw_path += "/" + PercentEncode(path, /*keep_slash=*/true);
  const int64_t body_length = source ? length : static_cast<int64_t>(body.size());
  const bool sas = !opts_.sas_token.empty();
  std::string target = SignSharedKey(method, raw_path, query, body_length, opts_.account, key_,
                                     opts_.api_version, &headers);
  if (sas) target += (query.empty() ? '?' : '&') + opts_.sas_token;
  if (opts_.bearer) {
    TARN_ASSIGN_OR_RETURN(std::string token, opts_.bearer->Token());
    headers.emplace_back("Authorization", "Bearer " + token);
  }

  Request req;
  req.method = method;
  req.target = std::move(target);
  req.headers = std::move(headers);
  if (source) {
    req.body_source = *source;
    req.body_length = length;
  } else {
    req.body = body;
  }
  TARN_ASSIGN_OR_RETURN(Response r, http_.Send(req, sink ? *sink : BodySink()));
  if (r.status >= 200 && r.status < 300) return r;
  const std::string* code = r.Header("x-ms-error-code");
  std::string azure_code = code ? *code : "";
  std::string msg = method + " " + raw_path + ": HTTP " + std::to_string(r.status);
  if (!azure_code.empty()) msg += " " + azure_code;
  if (!r.body.empty()) msg += ": " + BodyExcerpt(r.body);
  return Status(CodeForHttp(r.status, azure_code), std::move(msg));
}

Status LakeClient::CreateFilesystem(const std::string& fs) {
  return Call("PUT", fs, "", {{"restype", "container"}}, {}).status();
}

StatusOr<std::map<std::string, std::string>> LakeClient::GetFilesystemMetadata(
    const std::string& fs) {
  TARN_ASSIGN_OR_RETURN(Response r, Call("HEAD", fs, "", {{"restype", "container"}}, {}));
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : r.headers) {
    std::string lower = ToLower(name);
    if (lower.rfind("x-ms-meta-", 0) == 0) out[lower.substr(10)] = value;
  }
  return out;
}

Status LakeClient::SetFilesystemMetadata(const std::string& fs,
                                         const std::map<std::string, std::string>& metadata) {
  Headers h;
  for (const auto& [name, value] : metadata) h.emplace_back("x-ms-meta-" + name, value);
  return Call("PUT", fs, "", {{"restype", "container"}, {"comp", "metadata"}}, std::move(h))
      .status();
}

Status LakeClient::DeleteFilesystem(const std::string& fs) {
  return Call("DELETE", fs, "", {{"restype", "container"}}, {}).status();
}

Status LakeClient::PutBlob(const std::string& fs, const std::string& path, std::string_view data) {
  return Call("PUT", fs, path, {}, {{"x-ms-blob-type", "BlockBlob"}}, data).status();
}

Status LakeClient::PutBlob(const std::string& fs, const std::string& path, int64_t length,
                           const BodySource& source, const std::string& content_md5) {
  Headers h = {{"x-ms-blob-type", "BlockBlob"}};
  if (!content_md5.empty()) h.emplace_back("Content-MD5", content_md5);
  return Call("PUT", fs, path, {}, std::move(h), {}, &source, length).status();
}

namespace {

// x-ms-range for an optional byte range.
Status AddRange(const std::optional<ByteRange>& range, Headers* h) {
  if (!range) return Status::Ok();
  if (range->length <= 0 || range->offset < 0) {
    return Status(Code::kInvalidArgument, "a range needs offset >= 0 and length > 0");
  }
  h->emplace_back("x-ms-range", "bytes=" + std::to_string(range->offset) + "-" +
                                    std::to_string(range->offset + range->length - 1));
  return Status::Ok();
}

}  // namespace

StatusOr<int64_t> LakeClient::GetBlob(const std::string& fs, const std::string& path,
                                      const std::optional<ByteRange>& range,
                                      const BodySink& sink, const std::string& if_match) {
  if (!sink) return Status(Code::kInvalidArgument, "GetBlob needs a sink");
  Headers h;
  TARN_RETURN_IF_ERROR(AddRange(range, &h));
  if (!if_match.empty()) h.emplace_back("If-Match", if_match);
  TARN_ASSIGN_OR_RETURN(Response r, Call("GET", fs, path, {}, std::move(h), {}, nullptr, 0, &sink));
  return r.body_bytes;
}

StatusOr<std::string> LakeClient::GetBlob(const std::string& fs, const std::string& path,
                                          const std::optional<ByteRange>& range) {
  Headers h;
  TARN_RETURN_IF_ERROR(AddRange(range, &h));
  TARN_ASSIGN_OR_RETURN(Response r, Call("GET", fs, path, {}, std::move(h)));
  return std::move(r.body);
}

Status LakeClient::CopyBlob(const std::string& fs, const std::string& source,
                            const std::string& dest) {
  std::string url = "http://" + http_.endpoint().HostHeader() + account_prefix_ + "/" +
                    PercentEncode(fs) + "/" + PercentEncode(source, /*keep_slash=*/true);
  TARN_ASSIGN_OR_RETURN(Response r, Call("PUT", fs, dest, {}, {{"x-ms-copy-source", url}}));
  const std::string* state = r.Header("x-ms-copy-status");
  if (state && *state != "success") {
    return Status(Code::kUnavailable, "Copy Blob to " + dest + " is " + *state + ", not done");
  }
  return Status::Ok();
}

Status LakeClient::DeleteBlob(const std::string& fs, const std::string& path) {
  return Call("DELETE", fs, path, {}, {}).status();
}

StatusOr<BlobPage> LakeClient::ListBlobs(const std::string& fs, const std::string& prefix,
                                         const std::string& marker, int max_results) {
  Query q = {{"restype", "container"}, {"comp", "list"}};
  if (!prefix.empty()) q.emplace_back("prefix", prefix);
  if (!marker.empty()) q.emplace_back("marker", marker);
  q.emplace_back("maxresults", std::to_string(max_results));
  TARN_ASSIGN_OR_RETURN(Response r, Call("GET", fs, "", q, {}));
  pugi::xml_document doc;
  pugi::xml_node results;
  if (doc.load_buffer(r.body.data(), r.body.size())) {
    results = doc.child("EnumerationResults");
  }
  if (!results) {
    return Status(Code::kInternal, "List Blobs answered with an unexpected body: " +
                                       BodyExcerpt(r.body));
  }
  BlobPage page;
  for (pugi::xml_node b : results.child("Blobs").children("Blob")) {
    page.names.emplace_back(b.child_value("Name"));
  }
  page.next_marker = results.child_value("NextMarker");
  return page;
}

Status LakeClient::CreateFile(const std::string& fs, const std::string& path) {
  return Call("PUT", fs, path, {{"resource", "file"}}, {}).status();
}

Status LakeClient::CreateDirectory(const std::string& fs, const std::string& path) {
  return Call("PUT", fs, path, {{"resource", "directory"}}, {}).status();
}

Status LakeClient::Append(const std::string& fs, const std::string& path, int64_t position,
                          std::string_view data) {
  return Call("PATCH", fs, path, {{"action", "append"}, {"position", std::to_string(position)}},
              {}, data)
      .status();
}

Status LakeClient::Append(const std::string& fs, const std::string& path, int64_t position,
                          int64_t length, const BodySource& source) {
  return Call("PATCH", fs, path, {{"action", "append"}, {"position", std::to_string(position)}},
              {}, {}, &source, length)
      .status();
}

Status LakeClient::Flush(const std::string& fs, const std::string& path, int64_t position,
                         bool close) {
  Query q = {{"action", "flush"}, {"position", std::to_string(position)}};
  if (close) q.emplace_back("close", "true");
  return Call("PATCH", fs, path, q, {}).status();
}

Status LakeClient::Rename(const std::string& fs, const std::string& source,
                          const std::string& dest, bool overwrite) {
  std::string src = "/" + PercentEncode(fs) + "/" + PercentEncode(source, /*keep_slash=*/true);
  Headers h = {{"x-ms-rename-source", src}};
  if (!overwrite) h.emplace_back("If-None-Match", "*");
  return Call("PUT", fs, dest, {}, std::move(h)).status();
}

StatusOr<PathPage> LakeClient::ListPaths(const std::string& fs, const std::string& directory,
                                         bool recursive, const std::string& continuation,
                                         int max_results) {
  Query q = {{"resource", "filesystem"}, {"recursive", recursive ? "true" : "false"}};
  if (!directory.empty()) q.emplace_back("directory", directory);
  if (!continuation.empty()) q.emplace_back("continuation", continuation);
  q.emplace_back("maxResults", std::to_string(max_results));
  TARN_ASSIGN_OR_RETURN(Response r, Call("GET", fs, "", q, {}));
  PathPage page;
  if (const std::string* c = r.Header("x-ms-continuation")) page.continuation = *c;
  auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("paths") || !j["paths"].is_array()) {
    return Status(Code::kInternal, "List Paths answered with an unexpected body: " +
                                       BodyExcerpt(r.body));
  }
  for (const auto& e : j["paths"]) {
    PathItem item;
    if (auto it = e.find("name"); it != e.end() && it->is_string()) item.name = *it;
    if (auto it = e.find("etag"); it != e.end() && it->is_string()) item.etag = *it;
    item.is_directory = JsonTrue(e, "isDirectory");
    item.content_length = JsonInt(e, "contentLength");
    page.paths.push_back(std::move(item));
  }
  return page;
}

StatusOr<PathProperties> LakeClient::GetPathProperties(const std::string& fs,
                                                       const std::string& path) {
  TARN_ASSIGN_OR_RETURN(Response r, Call("HEAD", fs, path, {{"action", "getStatus"}}, {}));
  PathProperties p;
  if (const std::string* t = r.Header("x-ms-resource-type")) p.is_directory = *t == "directory";
  if (const std::string* l = r.Header("content-length")) ParseInt64(*l, &p.content_length);
  if (const std::string* e = r.Header("etag")) p.etag = *e;
  return p;
}

StatusOr<AccessControl> LakeClient::GetAccessControl(const std::string& fs,
                                                     const std::string& path) {
  TARN_ASSIGN_OR_RETURN(Response r, Call("HEAD", fs, path, {{"action", "getAccessControl"}}, {}));
  AccessControl a;
  if (const std::string* v = r.Header("x-ms-owner")) a.owner = *v;
  if (const std::string* v = r.Header("x-ms-group")) a.group = *v;
  if (const std::string* v = r.Header("x-ms-permissions")) a.permissions = *v;
  if (const std::string* v = r.Header("x-ms-acl")) a.acl = *v;
  return a;
}

Status LakeClient::SetAccessControl(const std::string& fs, const std::string& path,
                                    const std::string& acl) {
  return Call("PATCH", fs, path, {{"action", "setAccessControl"}}, {{"x-ms-acl", acl}}).status();
}

Status LakeClient::Delete(const std::string& fs, const std::string& path, bool recursive) {
  return Call("DELETE", fs, path, {{"recursive", recursive ? "true" : "false"}}, {}).status();
}

}  // namespace tarn::client
