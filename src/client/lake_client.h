// LakeClient: Tarn's own client for the Blob and DFS operations that tools and the benchmark
// need, signed with Shared Key, over one kept-alive HttpClient connection.
//
// Contract
// - Path-style addressing: requests go to <endpoint>/<account>/<filesystem>/<path>. Paths are
//   given decoded ("dir/a b.txt"); the client percent-encodes them.
// - Every request carries x-ms-date, x-ms-version (2021-10-04 unless set otherwise) and a
//   SharedKey Authorization computed by auth::SharedKeyAuthorization, the same string-to-sign
//   the server checks; or a SAS; or a bearer token from a TokenSource (https endpoints only).
// - A non-2xx answer becomes an error Status whose code follows the HTTP status (404 NotFound,
//   409 AlreadyExists/Conflict, 412 FailedPrecondition, 400 InvalidArgument, 401/403
//   PermissionDenied, 5xx Unavailable) and whose message holds the method, path, status and
//   the Azure error code (x-ms-error-code). Transport failures keep HttpClient's codes
//   (kUnavailable for a refused, reset or timed-out connection).
// - Not thread-safe: one LakeClient per thread.
//
// Usage:
//   LakeClientOptions o;
//   o.account = "devstoreaccount1";
//   o.key_base64 = "...";
//   TARN_ASSIGN_OR_RETURN(auto c, LakeClient::Create("http://127.0.0.1:10000", o));
//   TARN_RETURN_IF_ERROR(c->CreateFilesystem("data"));
//   TARN_RETURN_IF_ERROR(c->CreateFile("data", "dir/f.bin"));
//   TARN_RETURN_IF_ERROR(c->Append("data", "dir/f.bin", 0, "hello"));
//   TARN_RETURN_IF_ERROR(c->Flush("data", "dir/f.bin", 5));
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_connection.h"
#include "client/oauth_token.h"
#include "common/status.h"

namespace tarn::client {

inline constexpr char kDefaultApiVersion[] = "2021-10-04";

// The canonical code of a non-2xx HTTP answer (azure_code: its x-ms-error-code, or "").
Code CodeForHttp(int status, const std::string& azure_code);

// For "http://host:port/<account>": moves the account from the endpoint's path into *account.
// A path of more than one segment is kInvalidArgument.
Status TakeAccountFromPath(Endpoint* ep, std::string* account);

// A one-line excerpt of an error document, for messages.
std::string BodyExcerpt(const std::string& body);

// Prepares a request signed with Shared Key, as LakeClient and CatalogClient send them: appends
// x-ms-date, x-ms-version and, unless key_bytes is empty, the Authorization header to `headers`,
// and returns the request target (raw_path plus the percent-encoded query). raw_path is as sent;
// query names and values are decoded.
std::string SignSharedKey(const std::string& method, const std::string& raw_path,
                          const std::vector<std::pair<std::string, std::string>>& query,
                          int64_t body_length, const std::string& account,
                          const std::string& key_bytes, const std::string& api_version,
                          Headers* headers);

struct LakeClientOptions {
  std::string account = "devstoreaccount1";
  std::string key_base64;  // the account key as Azure prints it (base64)
  // Instead of a key: a SAS token ("sv=...&sig=...", already percent-encoded, no leading '?'),
  // appended to every request, which then carries no Authorization header.
  std::string sas_token;
  // Instead of a key or a SAS: a service principal's tokens, sent as "Authorization: Bearer".
  // The endpoint must be https (Azure's clients and tarnd refuse bearer tokens over http).
  std::shared_ptr<TokenSource> bearer;
  std::string api_version = kDefaultApiVersion;
  ConnectionOptions connection;
};

struct PathItem {
  std::string name;
  bool is_directory = false;
  int64_t content_length = 0;
  std::string etag;
};

struct PathPage {
  std::vector<PathItem> paths;
  std::string continuation;  // empty on the last page
};

struct PathProperties {
  bool is_directory = false;
  int64_t content_length = 0;
  std::string etag;
};

struct AccessControl {
  std::string owner, group, permissions;  // "rwxr-x---", with "+" when named entries exist
  std::string acl;                        // "user::rwx,group::r-x,...,default:..."
};

struct BlobPage {
  std::vector<std::string> names;  // blob names, in listing order
  std::string next_marker;         // empty on the last page
};

struct ByteRange {
  int64_t offset = 0;
  int64_t length = 0;  // bytes from offset; must be > 0
};

class LakeClient {
 public:
  // url: "http://host:port" (opts.account is used) or "http://host:port/<account>" (the
  // account in the URL replaces opts.account).
  static StatusOr<std::unique_ptr<LakeClient>> Create(const std::string& url,
                                                      LakeClientOptions opts);

  // Filesystems (containers).
  Status CreateFilesystem(const std::string& fs);  // PUT ?restype=container
  Status DeleteFilesystem(const std::string& fs);
  // The filesystem's user metadata (HEAD ?restype=container: x-ms-meta-*), names lowercased;
  // and Set Container Metadata, which replaces all of it.
  StatusOr<std::map<std::string, std::string>> GetFilesystemMetadata(const std::string& fs);
  Status SetFilesystemMetadata(const std::string& fs,
                               const std::map<std::string, std::string>& metadata);

  // Blob API.
  Status PutBlob(const std::string& fs, const std::string& path, std::string_view data);
  // content_md5: the body's MD5 (base64), sent as Content-MD5: tarnd refuses a body that does
  // not match it and keeps it as the blob's MD5.
  Status PutBlob(const std::string& fs, const std::string& path, int64_t length,
                 const BodySource& source, const std::string& content_md5 = "");
  // Streams the blob (or a range of it) into sink; returns the bytes received.
  // if_match: answer 412 (FailedPrecondition) unless the blob's etag is this one.
  StatusOr<int64_t> GetBlob(const std::string& fs, const std::string& path,
                            const std::optional<ByteRange>& range, const BodySink& sink,
                            const std::string& if_match = "");
  StatusOr<std::string> GetBlob(const std::string& fs, const std::string& path,
                                const std::optional<ByteRange>& range = std::nullopt);
  // Copy Blob within this account (x-ms-copy-source names the source by URL). Succeeds only
  // when the copy completed synchronously (x-ms-copy-status: success).
  Status CopyBlob(const std::string& fs, const std::string& source, const std::string& dest);
  Status DeleteBlob(const std::string& fs, const std::string& path);  // DELETE, no DFS query
  // One page of List Blobs (GET ?restype=container&comp=list), flat: every blob under prefix.
  StatusOr<BlobPage> ListBlobs(const std::string& fs, const std::string& prefix,
                               const std::string& marker = "", int max_results = 5000);

  // DFS API.
  Status CreateFile(const std::string& fs, const std::string& path);       // PUT ?resource=file
  Status CreateDirectory(const std::string& fs, const std::string& path);  // ?resource=directory
  Status Append(const std::string& fs, const std::string& path, int64_t position,
                std::string_view data);
  Status Append(const std::string& fs, const std::string& path, int64_t position, int64_t length,
                const BodySource& source);
  Status Flush(const std::string& fs, const std::string& path, int64_t position,
               bool close = false);
  // Renames within one filesystem (x-ms-rename-source: /<fs>/<source>).
  // overwrite=false sends If-None-Match: * (AlreadyExists when dest exists).
  Status Rename(const std::string& fs, const std::string& source, const std::string& dest,
                bool overwrite = true);
  // One page of GET /<fs>?resource=filesystem&recursive=...; directory "" is the root.
  StatusOr<PathPage> ListPaths(const std::string& fs, const std::string& directory,
                               bool recursive, const std::string& continuation = "",
                               int max_results = 5000);
  StatusOr<PathProperties> GetPathProperties(const std::string& fs, const std::string& path);
  Status Delete(const std::string& fs, const std::string& path, bool recursive = false);
  // HEAD ?action=getAccessControl; path "" is the filesystem's root.
  StatusOr<AccessControl> GetAccessControl(const std::string& fs, const std::string& path);
  // PATCH ?action=setAccessControl with x-ms-acl: replaces the whole ACL.
  Status SetAccessControl(const std::string& fs, const std::string& path, const std::string& acl);

  HttpClient& http() { return http_; }

 private:
  using Query = std::vector<std::pair<std::string, std::string>>;  // decoded names and values

  LakeClient(Endpoint ep, LakeClientOptions opts, std::string key);
  // Signs and sends; a non-2xx status becomes an error. The body is `body`, or `length` bytes
  // from `source` when one is given.
  StatusOr<Response> Call(const std::string& method, const std::string& fs,
                          const std::string& path, const Query& query, Headers headers,
                          std::string_view body = {}, const BodySource* source = nullptr,
                          int64_t length = 0, const BodySink* sink = nullptr);

  LakeClientOptions opts_;
  std::string key_;  // raw key bytes
  std::string account_prefix_;  // "/<account>" (plus any path prefix of the endpoint)
  HttpClient http_;
};

}  // namespace tarn::client
