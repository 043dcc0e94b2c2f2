// The per-request context every protocol operation receives, and the helpers that turn Azure
// request headers into lake-service arguments and lake-service results into Azure responses.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"
#include "http/server.h"
#include "lake/lake_service.h"

namespace tarn::http {
class TlsContext;
}
namespace tarn::identity {
class IdentityService;
struct Caller;
}
namespace tarn::catalog {
class CatalogService;
}
namespace tarn::audit {
class AuditLog;
}
namespace tarn::pipeline {
class PipelineService;
}
namespace tarn::compute {
class JobService;
}
namespace tarn::tracking {
class TrackingService;
}

namespace tarn::protocol {

class StudioAssets;
class ServiceProperties;

enum class Api { kBlob, kDfs };

// Which front a request is for; decided from the first path segment while parsing.
enum class Front : uint8_t {
  kStorage,        // /<account>/...: Blob and DFS
  kTokenService,   // /<tenant>/oauth2/..., discovery documents (anonymous)
  kIdentityAdmin,  // /identity/...
  kCatalog,        // /workspaces/...
  kTracking,       // /workspaces/<ws>/mlflow/...: MLflow's REST API (its errors, its audience)
  kStudio,         // /studio/...: the browser application's files (anonymous)
  kWebsite,        // <account>.web.<suffix>: the account's static website ($web, anonymous)
};

struct Account {
  std::string name;
  std::vector<std::string> keys;  // decoded key bytes, primary first
};

// Who made the request, as authentication established it.
struct Identity {
  enum class Kind { kAnonymous, kSharedKey, kSas, kBearer };
  Kind kind = Kind::kAnonymous;
  std::string account;
  // SAS only: what the signature grants.
  std::string permissions;     // sp, e.g. "racwdl"
  std::string resource_types;  // account SAS srt ("sco"); empty for a service SAS
  std::string sas_resource;    // service SAS sr: "c", "b" or "d"
  std::string sas_fs;          // service SAS: the container it is scoped to
  std::string sas_path;        // service SAS: blob or directory path ("" for a container)
  // Bearer only: the validated token's principal.
  std::string oid, tid, appid;
  std::vector<std::string> groups;
  bool by_acl = false;  // no role covered the request: the POSIX ACLs allowed it
  // A user-delegation SAS: it speaks for oid/tid as well, so their roles and ACLs also apply.
  bool delegated = false;
};

// The principal of a bearer (or user-delegation) identity, as the identity service evaluates
// roles for it.
identity::Caller CallerOf(const Identity& id);
// Who did it, as the catalog records it: "oid:<object id>" for a bearer, else the account.
std::string PrincipalName(const Identity& id);

// The second resource an operation names (a Copy Blob source, a rename source): parsed and
// authorized for the caller by the request pipeline before the operation runs, and then the
// only place the operation takes it from.
struct SourceRef {
  const Account* account = nullptr;  // null for a source on another server
  std::string fs;
  std::string path;
  std::string url;  // as the client sent it (x-ms-copy-source), for the copy's record
  // A copy source on another server the configuration allows (copy_sources): fetched from
  // `url` with the credentials it carries, its https certificate checked against `trust`.
  bool remote = false;
  std::shared_ptr<const http::TlsContext> trust{};
};

struct Ctx {
  Ctx(http::Request& r, http::ResponseWriter& writer, lake::LakeService& l, std::string id,
      std::string ver)
      : req(r), w(writer), lake(l), request_id(std::move(id)), version(std::move(ver)) {}

  http::Request& req;
  http::ResponseWriter& w;
  lake::LakeService& lake;
  std::string request_id;
  std::string version;  // x-ms-version answered
  Front front = Front::kStorage;
  Api api = Api::kBlob;

  const Account* account = nullptr;
  // A path-style rename whose URL leaves out the account (see Frontend::RenameAccount): the
  // URL's path starts with the filesystem.
  bool account_implied = false;
  // The account came from the Host header (<account>.blob.<suffix>): the URL's path starts with
  // the filesystem, and URLs this request answers with leave the account out too.
  bool virtual_host = false;
  // A sub-request of a batch: the batch request it came in (its account, and its container for
  // a container's batch). Its path may leave out the account, as older SDKs write it.
  const Ctx* batch_of = nullptr;
  // Runs one sub-request of this batch through the whole pipeline (its own authentication,
  // authorization and audit) and answers it into the writer; unset inside a batch (batches do
  // not nest).
  std::function<void(http::Request&, http::ResponseWriter&)> run_sub_request;
  std::string fs;    // filesystem (container) name, "" at account level
  std::string path;  // decoded, normalised path inside the filesystem, "" for none
  bool has_path = false;
  std::multimap<std::string, std::string> query;  // names lowercased, values decoded
  Identity identity;
  identity::IdentityService* ids = nullptr;  // the directory, when this server has one
  catalog::CatalogService* catalog = nullptr;  // the workspace catalog, when served
  pipeline::PipelineService* pipelines = nullptr;  // the workspace's pipelines, when run
  tracking::TrackingService* tracking = nullptr;   // experiment tracking, when served
  compute::JobService* jobs = nullptr;             // runs on compute targets, when served
  audit::AuditLog* audit = nullptr;            // the audit log, when kept
  const StudioAssets* studio = nullptr;        // the studio's files, when served
  ServiceProperties* service = nullptr;        // accounts' service properties (CORS)
  // Where a large answer is spooled ("" = the system's temporary directory).
  std::string_view scratch_dir;
  http::Headers cors;  // Access-Control-* headers every answer to this request carries
  // The identity, catalog and token fronts: the path's decoded segments.
  std::vector<std::string> segments;
  std::optional<SourceRef> source;
  // A sign-in's outcome, for the audit log: the token service answers OAuth's own errors, so
  // the operation's Status does not carry it.
  struct SignIn {
    std::string principal;  // "upn:<name>"
    std::string result;     // "allowed" or "denied"
    std::string error;      // "invalid_grant", "locked"...
    std::string client_id;
    int status = 0;         // the status answered
  };
  std::optional<SignIn> signin;
  // What an allowed read went through besides the caller's own access, for the audit log's
  // read summaries (a dataset file read through a datastore's credential).
  std::string read_via;

  const std::string* Header(std::string_view lower_name) const { return req.Header(lower_name); }
  std::optional<std::string> Query(const std::string& lower_name) const;
  bool HasQuery(const std::string& lower_name) const { return query.count(lower_name) > 0; }

  // Standard response headers (request id, version, date) plus the given ones.
  http::Headers StdHeaders() const;
  // Sends a complete response with a small body.
  Status Reply(int status, http::Headers headers, std::string_view body = {},
               std::string_view content_type = {});
  // Sends an Azure error in the shape of this request's API.
  void ReplyError(const Status& s);
};

// ----- request parsing -----------------------------------------------------------------------

StatusOr<lake::Conditions> ParseConditions(const Ctx& c);
StatusOr<lake::Conditions> ParseSourceConditions(const Ctx& c);
lake::Access ParseAccess(const Ctx& c, const lake::Conditions& cond);
std::optional<std::string> LeaseId(const Ctx& c);
// The principal that owns what this request creates: an OAuth caller's object ID; none for
// Shared Key and SAS (the owner is then $superuser).
std::optional<std::string> Creator(const Ctx& c);
// x-ms-meta-* headers.
StatusOr<lake::Metadata> ParseMetadataHeaders(const Ctx& c);
// x-ms-properties ("n1=base64,n2=base64").
StatusOr<lake::Metadata> ParseProperties(const std::string& text);
std::string FormatProperties(const lake::Metadata& m);
// Content headers with the given prefix: "x-ms-blob-" (Blob) or "x-ms-" (DFS), e.g.
// x-ms-blob-content-type / x-ms-content-type. Returns nullopt if none were sent.
StatusOr<std::optional<lake::ContentHeaders>> ParseContentHeaders(const Ctx& c,
                                                                  const std::string& prefix);
// Range or x-ms-range ("bytes=a-b"); nullopt when absent.
StatusOr<std::optional<lake::ByteRange>> ParseRange(const Ctx& c);
// One Range header value; nullopt for a range Azure ignores (it serves the whole resource).
StatusOr<std::optional<lake::ByteRange>> ParseRangeValue(std::string_view value);
StatusOr<int32_t> ParseIntHeader(const Ctx& c, std::string_view name, int32_t dflt);
StatusOr<int64_t> ParseIntQuery(const Ctx& c, const std::string& name, int64_t dflt);
bool QueryBool(const Ctx& c, const std::string& name, bool dflt);
// x-ms-lease-action and its companions (lease IDs, duration, break period).
StatusOr<lake::LeaseRequest> ParseLeaseRequest(const Ctx& c);
// Reads a whole small body (XML or JSON); kRequestBodyTooLarge past limit bytes.
Status ReadSmallBody(Ctx& c, size_t limit, std::string* out);
// The one reader of the JSON bodies of /workspaces and /identity: an empty body is {}; past
// limit bytes kRequestBodyTooLarge, cut short kInvalidInput, not JSON kInvalidDefinition.
StatusOr<nlohmann::json> ReadJsonBody(Ctx& c, size_t limit);
// A JSON answer of /workspaces and /identity: the document with `status`, or the error.
Status ReplyJson(Ctx& c, int status, const StatusOr<nlohmann::json>& j);
// {} with 200, or the error.
Status ReplyDone(Ctx& c, const Status& s);
// Requires Content-Length: 0 (or none) on operations that take no body.
Status RequireEmptyBody(const Ctx& c);

// Adapts the HTTP body to the lake's ByteSource, enforcing Content-Length.
class BodySource : public lake::ByteSource {
 public:
  explicit BodySource(http::Request& r) : r_(r) {}
  StatusOr<size_t> Read(char* buf, size_t n) override;
  std::optional<int64_t> SizeHint() const override {
    return r_.chunked ? std::nullopt : r_.content_length;
  }

 private:
  http::Request& r_;
};

// ----- response formatting -------------------------------------------------------------------

std::string QuoteEtag(const std::string& etag);
// Compact JSON text; bytes that are not UTF-8 become U+FFFD instead of failing.
std::string JsonText(const nlohmann::json& j);
void AddNodeProperties(const Ctx& c, const lake::Node& n, http::Headers* h);
// The account's delete retention (soft delete) in microseconds, 0 when it is off.
int64_t RetentionMicros(const Ctx& c);
// x-ms-access-tier of a request (Set Blob Tier, or an upload's), canonically cased: Hot, Cool,
// Cold or Archive; "" when absent. Another value is kInvalidHeaderValue.
StatusOr<std::string> RequestedTier(const Ctx& c);
// A file's tier as Get Blob Properties answers it: x-ms-access-tier, and
// x-ms-access-tier-inferred (never set) or x-ms-access-tier-change-time.
void AddTierHeaders(const lake::Node& n, http::Headers* h);
void AddMetadataHeaders(const lake::Metadata& m, http::Headers* h);
void AddLeaseHeaders(const meta::Lease& l, http::Headers* h);
// Answers a lease operation: 201 acquire, 202 break (x-ms-lease-time), 200 otherwise.
Status ReplyLease(Ctx& c, const lake::LeaseRequest& req, const lake::LeaseResult& r);
// Delete Container and Delete Filesystem: soft (kept for the configured container retention,
// then restorable) or for good.
Status DeleteFilesystemAsConfigured(Ctx& c, const lake::Access& access);
// Streams a read plan as the body of an already started response.
Status StreamPlan(Ctx& c, lake::ReadPlan& plan);

}  // namespace tarn::protocol
