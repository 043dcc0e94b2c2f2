#include "protocol/context.h"

#include "protocol/service_properties.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "identity/identity_service.h"

namespace tarn::protocol {

std::optional<std::string> Ctx::Query(const std::string& lower_name) const {
  auto it = query.find(lower_name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

http::Headers Ctx::StdHeaders() const {
  http::Headers h;
  h.reserve(24);
  h.emplace_back("Server", "Tarn/0.1");
  h.emplace_back("x-ms-request-id", request_id);
  h.emplace_back("x-ms-version", version);
  h.emplace_back("Date", FormatHttpDate(NowMicros()));
  if (const auto* cid = Header("x-ms-client-request-id")) {
    h.emplace_back("x-ms-client-request-id", *cid);
  }
  for (const auto& kv : cors) h.push_back(kv);
  return h;
}

Status Ctx::Reply(int status, http::Headers headers, std::string_view body,
                  std::string_view content_type) {
  http::Headers h = StdHeaders();
  for (auto& kv : headers) h.push_back(std::move(kv));
  if (!content_type.empty()) h.emplace_back("Content-Type", std::string(content_type));
  bool head = req.method == "HEAD";
  TARN_RETURN_IF_ERROR(w.Start(status, h, static_cast<int64_t>(body.size())));
  if (!head && !body.empty()) return w.Write(body);
  return Status::Ok();
}

namespace {

// MLflow's error code for a reason: its own for the tracking reasons, else by kind.
const char* MlflowErrorCode(Reason r, const ReasonInfo& info) {
  switch (r) {
    case Reason::kMlflowInvalidParameterValue:
    case Reason::kMlflowResourceDoesNotExist:
    case Reason::kMlflowResourceAlreadyExists:
    case Reason::kMlflowInvalidState:
    case Reason::kMlflowEndpointNotFound:
      return info.dfs_code;
    default:
      break;
  }
  switch (info.code) {
    case Code::kInvalidArgument: return "INVALID_PARAMETER_VALUE";
    case Code::kNotFound: return "RESOURCE_DOES_NOT_EXIST";
    case Code::kAlreadyExists: return "RESOURCE_ALREADY_EXISTS";
    case Code::kPermissionDenied: return "PERMISSION_DENIED";
    case Code::kUnauthenticated: return "UNAUTHENTICATED";
    case Code::kFailedPrecondition:
    case Code::kConflict: return "INVALID_STATE";
    case Code::kResourceExhausted:
    case Code::kOutOfRange: return "RESOURCE_EXHAUSTED";
    case Code::kUnavailable: return "TEMPORARILY_UNAVAILABLE";
    case Code::kUnimplemented: return "ENDPOINT_NOT_FOUND";
    default: return "INTERNAL_ERROR";
  }
}

}  // namespace

namespace {

// The Blob API's word for a filesystem is container: its errors say so, as Azure's do.
std::string BlobWords(std::string m) {
  for (const auto& [from, to] : {std::pair<std::string_view, std::string_view>{"filesystem",
                                                                              "container"},
                                 {"Filesystem", "Container"}}) {
    for (size_t at = m.find(from); at != std::string::npos; at = m.find(from, at + to.size())) {
      m.replace(at, from.size(), to);
    }
  }
  return m;
}

}  // namespace

void Ctx::ReplyError(const Status& s) {
  if (w.started()) {
    // Too late for a status: the only honest signal left is to cut the connection.
    w.CloseAfter();
    return;
  }
  Reason r = s.reason() == Reason::kNone ? Reason::kInternalError : s.reason();
  const ReasonInfo& info = Describe(r);
  const char* code = api == Api::kDfs ? info.dfs_code : info.blob_code;
  std::string message = s.message();
  if (r == Reason::kInternalError) {
    // What failed inside (a store's file paths, a library's words) is for the operator's log,
    // not for the client; the request id ties the two together.
    spdlog::error("request {}: {}", request_id, s.ToString());
    message = "The server encountered an internal error; its log has the details under this "
              "request id.";
  }
  if (api == Api::kBlob && front == Front::kStorage) message = BlobWords(std::move(message));
  message += "\nRequestId:" + request_id + "\nTime:" + FormatIso8601(NowMicros());
  http::Headers h = StdHeaders();
  h.emplace_back("x-ms-error-code", code);
  if (info.http_status == 503) h.emplace_back("Retry-After", "1");
  if (info.http_status == 401) {
    h.emplace_back("WWW-Authenticate",
                   "Bearer authorization_uri=https://login.microsoftonline.com/common/oauth2/"
                   "authorize resource_id=https://storage.azure.com");
  }
  // A request whose body we did not read cannot safely be followed on this connection.
  if (req.body && !req.body->done()) w.CloseAfter();
  std::string body;
  std::string type;
  if (req.method != "HEAD" && info.http_status != 304) {
    if (front == Front::kTracking) {
      // MLflow's clients branch on error_code.
      nlohmann::json j = {{"error_code", MlflowErrorCode(r, info)}, {"message", message}};
      body = JsonText(j);
      type = "application/json";
    } else if (api == Api::kDfs) {
      nlohmann::json j = {{"error", {{"code", code}, {"message", message}}}};
      body = JsonText(j);
      type = "application/json;charset=utf-8";
    } else {
      body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" + std::string(code) +
             "</Code><Message>" + XmlEscape(message) + "</Message></Error>";
      type = "application/xml";
    }
    h.emplace_back("Content-Type", type);
  }
  w.Start(info.http_status, h, static_cast<int64_t>(body.size())).IgnoreError();
  if (!body.empty()) w.Write(body).IgnoreError();
}

// ----- request parsing -----------------------------------------------------------------------

std::optional<std::string> Creator(const Ctx& c) {
  if (c.identity.kind != Identity::Kind::kBearer && !c.identity.delegated) return std::nullopt;
  return c.identity.oid;
}

Status ReadSmallBody(Ctx& c, size_t limit, std::string* out) {
  BodySource src(c.req);
  char buf[16384];
  for (;;) {
    TARN_ASSIGN_OR_RETURN(size_t n, src.Read(buf, sizeof buf));
    if (n == 0) return Status::Ok();
    out->append(buf, n);
    if (out->size() > limit) {
      return Error(Reason::kRequestBodyTooLarge, "The request body is too large.");
    }
  }
}

identity::Caller CallerOf(const Identity& id) {
  return identity::Caller{id.oid, id.tid, id.appid, id.groups, 0, ""};
}

std::string PrincipalName(const Identity& id) {
  return id.kind == Identity::Kind::kBearer ? "oid:" + id.oid : id.account;
}

StatusOr<nlohmann::json> ReadJsonBody(Ctx& c, size_t limit) {
  std::string body;
  Status read = ReadSmallBody(c, limit, &body);
  if (!read.ok()) {
    if (read.reason() == Reason::kRequestBodyTooLarge) {
      return Error(Reason::kRequestBodyTooLarge,
                   "the request body may be at most " + std::to_string(limit >> 20) + " MiB");
    }
    return Error(Reason::kInvalidInput, "the request body ended early");
  }
  if (body.empty()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Error(Reason::kInvalidDefinition, "the request body is not valid JSON");
  }
  return j;
}

Status ReplyJson(Ctx& c, int status, const StatusOr<nlohmann::json>& j) {
  if (!j.ok()) return j.status();
  return c.Reply(status, {}, JsonText(*j), "application/json; charset=utf-8");
}

Status ReplyDone(Ctx& c, const Status& s) {
  if (!s.ok()) return s;
  return ReplyJson(c, 200, nlohmann::json::object());
}

namespace {

StatusOr<std::optional<int64_t>> DateHeader(const Ctx& c, std::string_view name) {
  const std::string* v = c.Header(name);
  if (!v) return std::optional<int64_t>();
  auto t = ParseHttpDate(*v);
  if (!t) {
    return Error(Reason::kInvalidHeaderValue,
                 "The value for one of the HTTP headers is not in the correct format: " +
                     std::string(name) + ".");
  }
  return std::optional<int64_t>(*t);
}

std::optional<std::string> Opt(const std::string* v) {
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

StatusOr<lake::Conditions> ConditionsWithPrefix(const Ctx& c, const std::string& p) {
  lake::Conditions out;
  out.if_match = Opt(c.Header(p + "if-match"));
  out.if_none_match = Opt(c.Header(p + "if-none-match"));
  TARN_ASSIGN_OR_RETURN(out.if_modified_since, DateHeader(c, p + "if-modified-since"));
  TARN_ASSIGN_OR_RETURN(out.if_unmodified_since, DateHeader(c, p + "if-unmodified-since"));
  return out;
}

bool ValidMetadataName(std::string_view n) {
  if (n.empty()) return false;
  if (n[0] >= '0' && n[0] <= '9') return false;
  for (char ch : n) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
  }
  return true;
}

}  // namespace

StatusOr<lake::Conditions> ParseConditions(const Ctx& c) { return ConditionsWithPrefix(c, ""); }

StatusOr<lake::Conditions> ParseSourceConditions(const Ctx& c) {
  return ConditionsWithPrefix(c, "x-ms-source-");
}

std::optional<std::string> LeaseId(const Ctx& c) { return Opt(c.Header("x-ms-lease-id")); }

lake::Access ParseAccess(const Ctx& c, const lake::Conditions& cond) {
  return lake::Access{cond, LeaseId(c)};
}

StatusOr<lake::Metadata> ParseMetadataHeaders(const Ctx& c) {
  lake::Metadata m;
  size_t total = 0;
  for (const auto& [k, v] : c.req.headers) {
    if (k.size() > 10 && EqualsIgnoreCase(std::string_view(k).substr(0, 10), "x-ms-meta-")) {
      std::string name = k.substr(10);
      if (!ValidMetadataName(name)) {
        return Error(Reason::kInvalidMetadata, "The metadata name '" + name + "' is invalid.");
      }
      if (HasControlChar(v)) {
        return Error(Reason::kInvalidMetadata,
                     "The value of metadata '" + name + "' holds a control character.");
      }
      total += name.size() + v.size();
      m[name] = std::string(Trim(v));
    }
  }
  if (total > 8192) {
    return Error(Reason::kInvalidMetadata, "The metadata exceeds 8 KiB.");
  }
  return m;
}

StatusOr<lake::Metadata> ParseProperties(const std::string& text) {
  lake::Metadata m;
  if (Trim(text).empty()) return m;
  size_t total = 0;
  for (auto item : Split(text, ',')) {
    item = Trim(item);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Error(Reason::kInvalidHeaderValue,
                   "x-ms-properties must be name=base64value pairs separated by commas.");
    }
    std::string name(Trim(item.substr(0, eq)));
    // Properties are blob metadata too (x-ms-meta-<name> on the Blob API): the same names.
    if (!ValidMetadataName(name)) {
      return Error(Reason::kInvalidHeaderValue,
                   "x-ms-properties: the property name '" + name +
                       "' is not valid; names are letters, digits and '_', not starting with a "
                       "digit.");
    }
    auto value = Base64Decode(Trim(item.substr(eq + 1)));
    if (!value) {
      return Error(Reason::kInvalidHeaderValue,
                   "x-ms-properties values must be base64 encoded: " + std::string(item));
    }
    // Values come back as response headers: printable ASCII only, as Azure requires, so that
    // no stored value can ever split a response.
    for (unsigned char ch : *value) {
      if (ch < 0x20 || ch > 0x7E) {
        return Error(Reason::kInvalidHeaderValue,
                     "x-ms-properties: the value of '" + name +
                         "' may hold only printable ASCII characters once decoded.");
      }
    }
    total += name.size() + value->size();
    if (total > 8192) {
      return Error(Reason::kInvalidHeaderValue,
                   "x-ms-properties may hold at most 8 KiB of names and values.");
    }
    m[name] = std::move(*value);
  }
  return m;
}

std::string FormatProperties(const lake::Metadata& m) {
  std::string s;
  for (const auto& [k, v] : m) {
    if (!s.empty()) s += ',';
    s += k + "=" + Base64Encode(v);
  }
  return s;
}

StatusOr<std::optional<lake::ContentHeaders>> ParseContentHeaders(const Ctx& c,
                                                                  const std::string& prefix) {
  lake::ContentHeaders h;
  bool any = false;
  auto take = [&](const char* name, std::string* out) {
    if (const auto* v = c.Header(prefix + name)) {
      *out = *v;
      any = true;
    }
  };
  take("content-type", &h.content_type);
  take("content-encoding", &h.content_encoding);
  take("content-language", &h.content_language);
  take("content-disposition", &h.content_disposition);
  take("cache-control", &h.cache_control);
  if (const auto* v = c.Header(prefix + "content-md5"); v && !v->empty()) {
    auto md5 = Base64Decode(*v);
    if (!md5 || md5->size() != 16) {
      return Error(Reason::kInvalidHeaderValue, "The content MD5 header is not valid base64 MD5.");
    }
    h.content_md5 = *md5;
    any = true;
  }
  if (!any) return std::optional<lake::ContentHeaders>();
  return std::optional<lake::ContentHeaders>(h);
}

StatusOr<std::optional<lake::ByteRange>> ParseRangeValue(std::string_view value) {
  std::string_view s = Trim(value);
  if (!StartsWith(s, "bytes=")) return std::optional<lake::ByteRange>();
  s.remove_prefix(6);
  size_t dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0) {
    // Azure ignores a Range it cannot use and returns the whole resource.
    return std::optional<lake::ByteRange>();
  }
  lake::ByteRange r;
  if (!ParseInt64(s.substr(0, dash), &r.start) || r.start < 0) {
    return std::optional<lake::ByteRange>();
  }
  std::string_view end = s.substr(dash + 1);
  if (!end.empty()) {
    int64_t e;
    if (!ParseInt64(end, &e)) return std::optional<lake::ByteRange>();
    if (e < r.start) {
      return Error(Reason::kInvalidRange,
                   "The range specified is invalid for the current size of the resource.");
    }
    r.end = e;
  }
  return std::optional<lake::ByteRange>(r);
}

StatusOr<std::optional<lake::ByteRange>> ParseRange(const Ctx& c) {
  const std::string* v = c.Header("x-ms-range");
  if (!v) v = c.Header("range");
  if (!v) return std::optional<lake::ByteRange>();
  return ParseRangeValue(*v);
}

StatusOr<int32_t> ParseIntHeader(const Ctx& c, std::string_view name, int32_t dflt) {
  const std::string* v = c.Header(name);
  if (!v) return dflt;
  int64_t x;
  if (!ParseInt64(Trim(*v), &x) || x < INT32_MIN || x > INT32_MAX) {
    return Error(Reason::kInvalidHeaderValue,
                 "The value for the header " + std::string(name) + " is not valid.");
  }
  return static_cast<int32_t>(x);
}

StatusOr<int64_t> ParseIntQuery(const Ctx& c, const std::string& name, int64_t dflt) {
  auto v = c.Query(name);
  if (!v) return dflt;
  int64_t x;
  if (!ParseInt64(*v, &x)) {
    return Error(Reason::kInvalidQueryParameterValue,
                 "The value for the query parameter " + name + " is not valid.");
  }
  return x;
}

bool QueryBool(const Ctx& c, const std::string& name, bool dflt) {
  auto v = c.Query(name);
  if (!v) return dflt;
  return EqualsIgnoreCase(*v, "true");
}

StatusOr<lake::LeaseRequest> ParseLeaseRequest(const Ctx& c) {
  using A = lake::LeaseRequest::Action;
  const std::string* action = c.Header("x-ms-lease-action");
  if (!action) return Error(Reason::kMissingRequiredHeader, "x-ms-lease-action is required.");
  lake::LeaseRequest r;
  std::string a = ToLower(*action);
  if (a == "acquire") {
    r.action = A::kAcquire;
  } else if (a == "renew") {
    r.action = A::kRenew;
  } else if (a == "change") {
    r.action = A::kChange;
  } else if (a == "release") {
    r.action = A::kRelease;
  } else if (a == "break") {
    r.action = A::kBreak;
  } else {
    return Error(Reason::kInvalidHeaderValue, "x-ms-lease-action is not valid: " + *action);
  }
  r.lease_id = LeaseId(c);
  r.proposed_id = Opt(c.Header("x-ms-proposed-lease-id"));
  TARN_ASSIGN_OR_RETURN(r.duration_s, ParseIntHeader(c, "x-ms-lease-duration", -1));
  if (c.Header("x-ms-lease-break-period")) {
    TARN_ASSIGN_OR_RETURN(int32_t p, ParseIntHeader(c, "x-ms-lease-break-period", 0));
    r.break_period_s = p;
  }
  if ((r.action == A::kRenew || r.action == A::kRelease || r.action == A::kChange) &&
      !r.lease_id) {
    return Error(Reason::kMissingRequiredHeader, "x-ms-lease-id is required.");
  }
  return r;
}

Status RequireEmptyBody(const Ctx& c) {
  if ((c.req.content_length && *c.req.content_length > 0) || c.req.chunked) {
    return Error(Reason::kContentLengthMustBeZero, "The Content-Length request header must be 0.");
  }
  return Status::Ok();
}

StatusOr<size_t> BodySource::Read(char* buf, size_t n) {
  if (!r_.body) return static_cast<size_t>(0);
  return r_.body->Read(buf, n);
}

// ----- response formatting -------------------------------------------------------------------

std::string QuoteEtag(const std::string& etag) { return "\"" + etag + "\""; }

std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void AddMetadataHeaders(const lake::Metadata& m, http::Headers* h) {
  for (const auto& [k, v] : m) h->emplace_back("x-ms-meta-" + k, v);
}

void AddLeaseHeaders(const meta::Lease& l, http::Headers* h) {
  using S = meta::Lease::State;
  lake::LeaseView v = lake::ViewLease(l, NowMillis());
  const char* state = "available";
  switch (v.state) {
    case S::kAvailable: state = "available"; break;
    case S::kLeased: state = "leased"; break;
    case S::kBreaking: state = "breaking"; break;
    case S::kBroken: state = "broken"; break;
    case S::kExpired: state = "expired"; break;
  }
  bool locked = v.state == S::kLeased || v.state == S::kBreaking;
  h->emplace_back("x-ms-lease-state", state);
  h->emplace_back("x-ms-lease-status", locked ? "locked" : "unlocked");
  if (v.state == S::kLeased) {
    h->emplace_back("x-ms-lease-duration", v.infinite ? "infinite" : "fixed");
  }
}

int64_t RetentionMicros(const Ctx& c) {
  if (!c.service || !c.account) return 0;
  return c.service->DeleteRetentionDays(c.account->name) * 86400LL * 1000000;
}

StatusOr<std::string> RequestedTier(const Ctx& c) {
  const std::string* v = c.Header("x-ms-access-tier");
  if (!v) return std::string();
  for (const char* tier : {"Hot", "Cool", "Cold", "Archive"}) {
    if (EqualsIgnoreCase(Trim(*v), tier)) return std::string(tier);
  }
  return Error(Reason::kInvalidHeaderValue,
               "x-ms-access-tier must be Hot, Cool, Cold or Archive (block blob tiers); got '" +
                   *v + "'.");
}

void AddTierHeaders(const lake::Node& n, http::Headers* h) {
  h->emplace_back("x-ms-access-tier", n.access_tier.empty() ? "Hot" : n.access_tier);
  if (n.access_tier.empty()) {
    h->emplace_back("x-ms-access-tier-inferred", "true");
  } else {
    h->emplace_back("x-ms-access-tier-change-time", FormatHttpDate(n.tier_changed_us));
  }
}

void AddNodeProperties(const Ctx& c, const lake::Node& n, http::Headers* h) {
  h->emplace_back("Last-Modified", FormatHttpDate(n.modified_us));
  h->emplace_back("ETag", QuoteEtag(n.etag));
  h->emplace_back("x-ms-creation-time", FormatHttpDate(n.created_us));
  h->emplace_back("x-ms-resource-type", n.is_dir ? "directory" : "file");
  h->emplace_back("x-ms-blob-type", "BlockBlob");
  h->emplace_back("x-ms-server-encrypted", "false");
  h->emplace_back("Accept-Ranges", "bytes");
  h->emplace_back("Content-Type", n.headers.content_type.empty() ? "application/octet-stream"
                                                                 : n.headers.content_type);
  if (!n.headers.content_encoding.empty())
    h->emplace_back("Content-Encoding", n.headers.content_encoding);
  if (!n.headers.content_language.empty())
    h->emplace_back("Content-Language", n.headers.content_language);
  if (!n.headers.content_disposition.empty())
    h->emplace_back("Content-Disposition", n.headers.content_disposition);
  if (!n.headers.cache_control.empty()) h->emplace_back("Cache-Control", n.headers.cache_control);
  AddLeaseHeaders(n.lease, h);
  if (!n.copy.empty()) {
    auto get = [&](const char* k) {
      auto it = n.copy.find(k);
      return it == n.copy.end() ? std::string() : it->second;
    };
    h->emplace_back("x-ms-copy-id", get("id"));
    h->emplace_back("x-ms-copy-source", get("source"));
    h->emplace_back("x-ms-copy-status", get("status"));
    h->emplace_back("x-ms-copy-progress", get("progress"));
    int64_t done = 0;
    if (ParseInt64(get("completion_us"), &done)) {
      h->emplace_back("x-ms-copy-completion-time", FormatHttpDate(done));
    }
  }
  lake::Metadata m = n.metadata;
  if (n.is_dir) m["hdi_isfolder"] = "true";
  AddMetadataHeaders(m, h);
  if (c.api == Api::kDfs && !n.metadata.empty()) {
    h->emplace_back("x-ms-properties", FormatProperties(n.metadata));
  }
}

Status ReplyLease(Ctx& c, const lake::LeaseRequest& req, const lake::LeaseResult& r) {
  http::Headers h;
  h.emplace_back("ETag", QuoteEtag(r.etag));
  h.emplace_back("Last-Modified", FormatHttpDate(r.modified_us));
  using A = lake::LeaseRequest::Action;
  int status = 200;
  if (req.action == A::kAcquire) status = 201;
  if (req.action == A::kBreak) {
    status = 202;
    h.emplace_back("x-ms-lease-time", std::to_string(r.lease_time_s));
  } else if (req.action != A::kRelease) {
    h.emplace_back("x-ms-lease-id", r.lease_id);
  }
  return c.Reply(status, std::move(h));
}

Status DeleteFilesystemAsConfigured(Ctx& c, const lake::Access& access) {
  const int64_t days = c.service ? c.service->ContainerRetentionDays() : 0;
  if (days > 0) {
    return c.lake.SoftDeleteFilesystem(c.account->name, c.fs, access, days * 86400LL * 1000000)
        .status();
  }
  return c.lake.DeleteFilesystem(c.account->name, c.fs, access);
}

Status StreamPlan(Ctx& c, lake::ReadPlan& plan) {
  std::unique_ptr<char[]> buf;
  constexpr size_t kChunk = 1 << 20;
  for (auto& p : plan.pieces) {
    int fd = p.reader->NativeFd();
    if (fd >= 0) {
      TARN_RETURN_IF_ERROR(c.w.SendFile(fd, p.offset, p.length));
      continue;
    }
    if (!buf) buf.reset(new char[kChunk]);
    int64_t off = p.offset, left = p.length;
    while (left > 0) {
      TARN_ASSIGN_OR_RETURN(size_t n,
                            p.reader->ReadAt(off, buf.get(),
                                             static_cast<size_t>(std::min<int64_t>(left, kChunk))));
      if (n == 0) return InternalError("extent shorter than its metadata says");
      TARN_RETURN_IF_ERROR(c.w.Write(std::string_view(buf.get(), n)));
      off += static_cast<int64_t>(n);
      left -= static_cast<int64_t>(n);
    }
  }
  return Status::Ok();
}

}  // namespace tarn::protocol
