#include "fuzz/pipeline_fixture.h"

#include <net/if.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "audit/audit_log.h"
#include "auth/shared_key.h"
#include "catalog/catalog_service.h"
#include "common/crypto.h"
#include "common/dev_account.h"
#include "common/encoding.h"
#include "common/secret_box.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "identity/identity_service.h"
#include "lake/lake_service.h"
#include "pipeline/pipeline_service.h"
#include "protocol/router.h"
#include "protocol/sas.h"
#include "store/catalog/sqlite/sqlite_catalog_store.h"
#include "store/tracking/sqlite/sqlite_tracking_store.h"
#include "tracking/tracking_service.h"
#include "store/extent/local/local_extent_store.h"
#include "store/extent/packed/packed_extent_store.h"
#include "store/identity/sqlite/sqlite_identity_store.h"
#include "store/meta/sqlite/sqlite_namespace_store.h"

namespace tarn::fuzz {
namespace {

using Json = nlohmann::json;

constexpr size_t kKeptBody = 64 * 1024;
constexpr char kIssuerBase[] = "https://127.0.0.1:10443";
constexpr char kAudience[] = "https://storage.azure.com";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "pipeline_fixture: %s\n", what.c_str());
  std::abort();
}

template <typename T>
T Must(StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(std::string(what) + ": " + v.status().ToString());
  return std::move(v).value();
}

// A body held in memory.
class StringBody : public http::Body {
 public:
  StringBody(std::string_view data, size_t step) : data_(data), step_(step) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t take = std::min(n, data_.size() - at_);
    if (step_ > 0) take = std::min(take, step_);
    std::memcpy(buf, data_.data() + at_, take);
    at_ += take;
    return take;
  }
  bool done() const override { return at_ == data_.size(); }

 private:
  std::string_view data_;
  size_t step_;
  size_t at_ = 0;
};

// A byte source over a string, for seeding files through the lake.
class StringSource : public lake::ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t take = std::min(n, data_.size() - at_);
    std::memcpy(buf, data_.data() + at_, take);
    at_ += take;
    return take;
  }
  std::optional<int64_t> SizeHint() const override { return static_cast<int64_t>(data_.size()); }

 private:
  std::string data_;
  size_t at_ = 0;
};

// Records the response in memory.
class RecordingWriter : public http::ResponseWriter {
 public:
  explicit RecordingWriter(Reply* r) : r_(r) {}
  Status Start(int status, const http::Headers& headers, int64_t content_length) override {
    if (++r_->starts > 1) return InternalError("response already started");
    r_->status = status;
    r_->headers = headers;
    r_->content_length = content_length;
    return Status::Ok();
  }
  Status Write(std::string_view data) override {
    if (r_->starts == 0) return InternalError("write before start");
    Keep(data);
    r_->written += static_cast<int64_t>(data.size());
    return Status::Ok();
  }
  Status SendFile(int fd, int64_t offset, int64_t len) override {
    if (r_->starts == 0) return InternalError("sendfile before start");
    if (len < 0 || offset < 0) return InternalError("negative sendfile range");
    std::string buf(static_cast<size_t>(std::min<int64_t>(len, kKeptBody)), '\0');
    ssize_t n = ::pread(fd, buf.data(), buf.size(), offset);
    if (n < 0 || static_cast<size_t>(n) != buf.size()) return InternalError("short sendfile");
    Keep(buf);
    r_->written += len;
    return Status::Ok();
  }
  bool started() const override { return r_->starts > 0; }
  void CloseAfter() override { r_->close_after = true; }

 private:
  void Keep(std::string_view data) {
    if (r_->body.size() < kKeptBody) {
      r_->body.append(data.substr(0, kKeptBody - r_->body.size()));
    }
  }
  Reply* r_;
};

bool Strict() {
  const char* s = std::getenv("TARN_FUZZ_STRICT");
  return s == nullptr || std::string_view(s) != "0";
}

bool HasBreak(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != s.npos;
}

std::string Printable(std::string_view s, size_t limit = 2048) {
  std::string out;
  for (unsigned char ch : s.substr(0, limit)) {
    if (ch >= 0x20 && ch < 0x7F && ch != '\\') {
      out += static_cast<char>(ch);
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", ch);
      out += b;
    }
  }
  if (s.size() > limit) out += "...";
  return out;
}

[[noreturn]] void Broken(const RequestParts& req, const Reply& r, const std::string& why) {
  std::fprintf(stderr, "==== request pipeline contract broken: %s\n", why.c_str());
  std::fprintf(stderr, "request: %s %s%s%s (secure=%d chunked=%d)\n", req.method.c_str(),
               Printable(req.path).c_str(), req.query.empty() ? "" : "?",
               Printable(req.query).c_str(), req.secure, req.chunked);
  for (const auto& [k, v] : req.headers) {
    std::fprintf(stderr, "  %s: %s\n", Printable(k).c_str(), Printable(v).c_str());
  }
  std::fprintf(stderr, "  body (%zu bytes): %s\n", req.body.size(),
               Printable(req.body, 512).c_str());
  std::fprintf(stderr, "reply: %d (starts=%d content-length=%lld written=%lld)\n", r.status,
               r.starts, static_cast<long long>(r.content_length),
               static_cast<long long>(r.written));
  for (const auto& [k, v] : r.headers) {
    std::fprintf(stderr, "  %s: %s\n", Printable(k).c_str(), Printable(v).c_str());
  }
  std::fprintf(stderr, "  body: %s\n", Printable(r.body, 1024).c_str());
  std::abort();
}

// Moves this thread (and so every thread it starts) into a new network namespace and brings
// loopback up there: the fixture's own server is reachable, nothing else is.
bool IsolateNetwork() {
  if (::unshare(CLONE_NEWNET) != 0 && ::unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) return false;
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  ::close(fd);
  return ok;
}

std::string ScratchBase() {
  if (const char* t = std::getenv("TARN_FUZZ_TMP"); t && *t) return t;
  if (::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return "/tmp";
}

std::string g_scratch;  // removed at exit

void RemoveScratch() {
  std::error_code ec;
  if (!g_scratch.empty()) std::filesystem::remove_all(g_scratch, ec);
}

}  // namespace

struct PipelineFixture::Owned {
  std::unique_ptr<meta::SqliteNamespaceStore> meta;
  std::unique_ptr<extent::PackedExtentStore> extents;
  std::unique_ptr<lake::LakeService> lake;
  std::unique_ptr<catalog::SqliteCatalogStore> catalog_store;
  std::unique_ptr<SecretBox> box;
  std::unique_ptr<identity::SqliteIdentityStore> identity_store;
  std::unique_ptr<identity::IdentityService> identity;
  std::unique_ptr<catalog::CatalogService> catalog;
  std::unique_ptr<audit::AuditLog> audit;
  // Definitions and runs are served; no worker runs them (a run stays queued).
  std::unique_ptr<pipeline::PipelineService> pipelines;
  std::unique_ptr<tracking::SqliteTrackingStore> tracking_store;
  std::unique_ptr<tracking::TrackingService> tracking;
  std::unique_ptr<protocol::Frontend> frontend;
  std::unique_ptr<http::Server> server;
};

PipelineFixture& PipelineFixture::Get() {
  static PipelineFixture* f = [] {
    auto* p = new PipelineFixture();
    p->Build();
    return p;
  }();
  return *f;
}

void PipelineFixture::Build() {
  const char* allow = std::getenv("TARN_FUZZ_ALLOW_NETWORK");
  if (!IsolateNetwork() && !(allow && std::string_view(allow) == "1")) {
    Die("cannot move into a network namespace of its own (needs root or user namespaces); "
        "inputs could reach other hosts through datastore endpoints. Set "
        "TARN_FUZZ_ALLOW_NETWORK=1 only on a machine without a network.");
  }
  spdlog::set_level(spdlog::level::err);
  std::string tmpl = ScratchBase() + "/tarn-fuzz-XXXXXX";
  if (!::mkdtemp(tmpl.data())) Die("mkdtemp under " + ScratchBase() + ": " + std::strerror(errno));
  dir_ = tmpl;
  g_scratch = dir_;
  std::atexit(RemoveScratch);

  owned_ = std::make_unique<Owned>();
  Owned& o = *owned_;
  o.meta = Must(meta::SqliteNamespaceStore::Open(dir_ + "/meta.db"), "meta.db");
  auto local = Must(extent::LocalExtentStore::Open(dir_ + "/extents"), "extents");
  o.extents = Must(extent::PackedExtentStore::Open(dir_ + "/extents/packed.db", std::move(local)),
                   "packed.db");
  o.lake = std::make_unique<lake::LakeService>(o.meta.get(), o.extents.get());
  o.catalog_store = Must(catalog::SqliteCatalogStore::Open(dir_ + "/meta.db"), "catalog");
  o.box = Must(SecretBox::OpenOrCreate(dir_ + "/master.key"), "master.key");
  o.identity_store = Must(identity::SqliteIdentityStore::Open(dir_ + "/meta.db"), "directory");
  o.identity = std::make_unique<identity::IdentityService>(o.identity_store.get(), o.box.get());
  if (Status s = o.identity->Start(); !s.ok()) Die("identity: " + s.ToString());
  o.identity->SetBaseUrl(kIssuerBase);
  o.catalog = std::make_unique<catalog::CatalogService>(
      o.catalog_store.get(), o.lake.get(), o.box.get(), std::vector<std::string>{kAccount},
      o.identity.get());
  o.audit = Must(audit::AuditLog::Open(dir_ + "/audit", 64 << 20), "audit");
  key_ = *Base64Decode(kDevKey);
  std::vector<protocol::Account> accounts{protocol::Account{kAccount, {key_}}};
  o.frontend = std::make_unique<protocol::Frontend>(o.lake.get(), accounts, o.catalog.get(),
                                                    o.identity.get(), o.audit.get());
  o.frontend->SetSelfAuthorities({kHost});
  o.frontend->SetHostSuffixes({"localhost"});
  pipeline::PipelineOptions pipeline_opts;
  pipeline_opts.work_dir = dir_ + "/pipelines";
  pipeline_opts.max_wait_ms = 0;  // no worker runs them: a wait would only stall the fuzzer
  o.pipelines = std::make_unique<pipeline::PipelineService>(o.catalog.get(), o.catalog_store.get(),
                                                            o.lake.get(), pipeline_opts);
  o.frontend->SetPipelines(o.pipelines.get());
  o.tracking_store = Must(tracking::SqliteTrackingStore::Open(dir_ + "/tracking.db"), "tracking");
  o.tracking = std::make_unique<tracking::TrackingService>(o.tracking_store.get(), o.catalog.get());
  o.frontend->SetTracking(o.tracking.get());
  frontend_ = o.frontend.get();
  lake_ = o.lake.get();
  catalog_ = o.catalog.get();
  identity_ = o.identity.get();

  // A real listener, on loopback of this namespace only: the catalog validates a datastore on
  // this tarnd by listing it over HTTP.
  http::ServerOptions opts;
  opts.on_bad_request = [this](int status, const std::string& why, http::ResponseWriter& w) {
    frontend_->HandleBadRequest(status, why, w);
  };
  o.server = std::make_unique<http::Server>(
      opts, [this](http::Request& r, http::ResponseWriter& w) { frontend_->Handle(r, w); });
  std::string url = Must(o.server->Start(), "listen");
  o.catalog->SetSelfUrls({url});
  EnsureSeeded();
}

void PipelineFixture::EnsureSeeded() {
  lake::LakeService& lake = *lake_;
  if (!lake.GetFilesystem(kAccount, kFilesystem).ok()) {
    Must(lake.CreateFilesystem(kAccount, kFilesystem, {}, ""), "create fuzz");
  }
  auto put = [&](const char* path, const char* text) {
    if (lake.GetPath(kAccount, kFilesystem, path, {}).ok()) return;
    StringSource src(text);
    auto n = lake.PutFile(kAccount, kFilesystem, path, src, {});
    if (!n.ok())
      std::fprintf(stderr, "pipeline_fixture: seed %s: %s\n", path, n.status().ToString().c_str());
  };
  put("hello.txt", "hello, world\n");
  put("dir/a.csv", "a,b\n1,x\n2,y\n");
  put("dir/b.csv", "a,b\n3,z\n");
  put("sales/country=nl/2024/01/02/s.csv", "amount,item\n1.5,pen\n99,book\n");

  identity::IdentityService& ids = *identity_;
  static_cast<void>(ids.CreateTenant(Json{{"display_name", "fuzz"}, {"tenant_id", kTenant}}));
  if (seeds_.principal.empty() || !ids.GetPrincipal(seeds_.principal).ok()) {
    Json p = Must(ids.CreatePrincipal(
                      kTenant, Json{{"kind", "service_principal"}, {"display_name", "fuzz-app"}}),
                  "principal");
    seeds_.principal = p["object_id"];
    seeds_.app_id = p["app_id"];
    Must(ids.AssignRole(Json{{"principal_id", seeds_.principal},
                             {"role", "Storage Blob Data Contributor"},
                             {"scope", std::string("/") + kAccount + "/" + kFilesystem}}),
         "role");
  }
  if (seeds_.user.empty() || !ids.GetPrincipal(seeds_.user).ok()) {
    Json u = Must(ids.CreatePrincipal(kTenant, Json{{"kind", "user"},
                                                    {"display_name", "fuzz-user"},
                                                    {"upn", "user" + NewUuid() + "@fuzz.example"}}),
                  "user");
    seeds_.user = u["object_id"];
    Json g = Must(ids.CreateGroup(kTenant, Json{{"display_name", "fuzz-group"}}), "group");
    seeds_.group = g["object_id"];
    static_cast<void>(ids.AddMember(seeds_.group, seeds_.user));
    lake::SetAccessOptions acl;
    acl.acl = "user::rwx,group::r-x,other::---,user:" + seeds_.user + ":r-x,group:" + seeds_.group +
              ":rwx,mask::rwx,default:user::rwx,default:group::r-x,"
              "default:other::---";
    static_cast<void>(lake.SetAccessControl(kAccount, kFilesystem, "dir", acl));
  }

  catalog::CatalogService& cat = *catalog_;
  bool created = false;
  if (!cat.GetWorkspace(kWorkspace).ok()) {
    Must(cat.PutWorkspace(kWorkspace, Json{{"description", "fuzz"}}, &created), "workspace");
  }
  if (!cat.GetDatastore(kWorkspace, kDatastore).ok()) {
    Json d{{"account_name", kAccount},
           {"filesystem", kFilesystem},
           {"credential", {{"type", "account_key"}, {"account_key", kDevKey}}}};
    Must(cat.RegisterDatastore(kWorkspace, kDatastore, d, &created), "datastore");
  }
  if (!cat.GetVersion(kWorkspace, kFileDataset, "latest").ok()) {
    Json v{{"definition",
            {{"kind", "file"}, {"paths", {{{"datastore", kDatastore}, {"path", "dir/*.csv"}}}}}}};
    auto r = cat.RegisterVersion(kWorkspace, kFileDataset, v, "");
    if (!r.ok())
      std::fprintf(stderr, "pipeline_fixture: seed dataset: %s\n", r.status().ToString().c_str());
  }
  if (!cat.GetVersion(kWorkspace, kTabularDataset, "latest").ok()) {
    Json v{{"definition",
            {{"kind", "tabular"},
             {"format", "csv"},
             {"paths", {{{"datastore", kDatastore}, {"path", "sales/**/*.csv"}}}},
             {"options", {{"partition_format", "{ignored}/{day:yyyy/MM/dd}/*.csv"}}}}}};
    auto r = cat.RegisterVersion(kWorkspace, kTabularDataset, v, "");
    if (!r.ok())
      std::fprintf(stderr, "pipeline_fixture: seed tabular dataset: %s\n",
                   r.status().ToString().c_str());
  }
}

Reply PipelineFixture::Send(const RequestParts& parts) {
  http::Request req;
  req.method = parts.method;
  req.raw_path = parts.path;
  req.raw_query = parts.query;
  req.target = parts.path + (parts.query.empty() ? "" : "?" + parts.query);
  req.headers = parts.headers;
  req.headers.emplace_back("Host", parts.host);
  if (parts.chunked) {
    req.chunked = true;
    req.headers.emplace_back("Transfer-Encoding", "chunked");
  } else if (!parts.body.empty() || parts.method == "PUT" || parts.method == "POST" ||
             parts.method == "PATCH") {
    req.content_length = static_cast<int64_t>(parts.body.size());
    req.headers.emplace_back("Content-Length", std::to_string(parts.body.size()));
  }
  req.remote = kRemote;
  req.secure = parts.secure;
  StringBody body(parts.body, parts.read_step);
  req.body = &body;
  Reply reply;
  RecordingWriter w(&reply);
  frontend_->Handle(req, w);
  static const bool verbose = std::getenv("TARN_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::string code;
    for (const auto& [k, v] : reply.headers) {
      if (EqualsIgnoreCase(k, "x-ms-error-code")) code = v;
    }
    std::fprintf(stderr, "%s %s?%s -> %d %s %s\n", parts.method.c_str(),
                 Printable(parts.path).c_str(), Printable(parts.query, 200).c_str(), reply.status,
                 code.c_str(), reply.status >= 300 ? Printable(reply.body, 300).c_str() : "");
  }
  CheckReply(parts, reply);
  return reply;
}

std::string PipelineFixture::Token(const std::string& oid, const Json& overrides) {
  const int64_t now = NowMicros() / 1000000;
  Json claims{{"aud", kAudience},
              {"iss", std::string(kIssuerBase) + "/" + kTenant + "/v2.0"},
              {"iat", now},
              {"nbf", now - 60},
              {"exp", now + 3600},
              {"oid", oid},
              {"sub", oid},
              {"tid", kTenant},
              {"appid", seeds_.app_id},
              {"ver", "2.0"}};
  if (overrides.is_object()) {
    for (const auto& [k, v] : overrides.items()) {
      if (v.is_null()) {
        claims.erase(k);
      } else {
        claims[k] = v;
      }
    }
  }
  // Claims are JSON text, so valid UTF-8, whatever bytes the input gave for them.
  claims = Json::parse(claims.dump(-1, ' ', false, Json::error_handler_t::replace));
  return identity_->SignForTest(claims);
}

void CheckReply(const RequestParts& req, const Reply& r) {
  if (r.starts == 0) Broken(req, r, "no response was started");
  if (r.starts > 1) Broken(req, r, "the response was started more than once");
  if (r.status < 100 || r.status > 599) Broken(req, r, "status out of range");
  if (r.status == 500 && Strict()) {
    Broken(req, r, "500 on a request (set TARN_FUZZ_STRICT=0 to allow)");
  }
  for (const auto& [k, v] : r.headers) {
    if (k.empty() || HasBreak(k) || HasBreak(v)) {
      Broken(req, r, "a response header holds CR, LF or NUL");
    }
  }
  const bool bodiless = r.status == 204 || r.status == 304 || r.status < 200;
  if (req.method == "HEAD" || bodiless) {
    if (r.written != 0) Broken(req, r, "a body on a HEAD, 204 or 304 response");
    return;
  }
  if (r.written > r.content_length) Broken(req, r, "more body than Content-Length");
  if (r.written < r.content_length && !r.close_after) {
    Broken(req, r, "less body than Content-Length, and the connection kept");
  }
}

void SignSharedKey(RequestParts* req, const std::string& key) {
  auto has = [&](std::string_view name) {
    return std::any_of(req->headers.begin(), req->headers.end(),
                       [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
  };
  if (!has("x-ms-date")) req->headers.emplace_back("x-ms-date", FormatHttpDate(NowMicros()));
  if (!has("x-ms-version")) req->headers.emplace_back("x-ms-version", "2021-10-04");
  // The server signs over the headers as they arrive, Host and Content-Length included.
  http::Headers as_sent = req->headers;
  as_sent.emplace_back("Host", req->host);
  if (req->chunked) {
    as_sent.emplace_back("Transfer-Encoding", "chunked");
  } else if (!req->body.empty() || req->method == "PUT" || req->method == "POST" ||
             req->method == "PATCH") {
    as_sent.emplace_back("Content-Length", std::to_string(req->body.size()));
  }
  auto query = protocol::ParseQuery(req->query);
  auth::SignableRequest s{req->method, as_sent, req->path,
                          query.ok() ? *std::move(query) : std::multimap<std::string, std::string>{}};
  req->headers.emplace_back("Authorization", auth::SharedKeyAuthorization(s, kAccount, key));
}

std::string SasSignature(const std::multimap<std::string, std::string>& fields,
                         const std::string& fs, const std::string& path, const std::string& key) {
  auto q = [&](const char* k) {
    auto it = fields.find(k);
    return it == fields.end() ? std::string() : it->second;
  };
  const std::string sv = q("sv"), sp = q("sp"), st = q("st"), se = q("se"), sip = q("sip"),
                    spr = q("spr"), ss = q("ss"), srt = q("srt"), sr = q("sr"), ses = q("ses");
  const std::string account = kAccount;
  std::string sts, signing_key = key;
  if (!ss.empty() || !srt.empty()) {
    sts = account + "\n" + sp + "\n" + ss + "\n" + srt + "\n" + st + "\n" + se + "\n" + sip + "\n" +
          spr + "\n" + sv + "\n";
    if (sv >= "2020-12-06") sts += ses + "\n";
  } else {
    std::string signed_path = sr == "c" ? "" : path;
    if (sr == "d") {
      int64_t depth = 0;
      if (!ParseInt64(q("sdd"), &depth)) depth = 0;
      auto parts = Split(path, '/');
      signed_path.clear();
      for (int64_t i = 0; i < depth && i < static_cast<int64_t>(parts.size()); ++i) {
        signed_path += (i ? "/" : "") + std::string(parts[i]);
      }
    }
    const std::string resource =
        "/blob/" + account + "/" + fs + (signed_path.empty() ? "" : "/" + signed_path);
    const std::string tail =
        q("rscc") + "\n" + q("rscd") + "\n" + q("rsce") + "\n" + q("rscl") + "\n" + q("rsct");
    if (!q("skoid").empty()) {
      sts = sp + "\n" + st + "\n" + se + "\n" + resource + "\n" + q("skoid") + "\n" + q("sktid") +
            "\n" + q("skt") + "\n" + q("ske") + "\n" + q("sks") + "\n" + q("skv") + "\n" +
            q("saoid") + "\n" + q("suoid") + "\n" + q("scid") + "\n" + sip + "\n" + spr + "\n" +
            sv + "\n" + sr + "\n" + q("snapshot") + "\n" + ses + "\n" + tail;
      signing_key = protocol::UserDelegationKeyValue(key, q("skoid"), q("sktid"), q("skt"),
                                                     q("ske"), q("skv"));
    } else {
      sts = sp + "\n" + st + "\n" + se + "\n" + resource + "\n" + q("si") + "\n" + sip + "\n" +
            spr + "\n" + sv + "\n";
      if (sv >= "2018-11-09") sts += sr + "\n" + q("snapshot") + "\n";
      if (sv >= "2020-12-06") sts += ses + "\n";
      sts += tail;
    }
  }
  return Base64Encode(HmacSha256(signing_key, sts));
}

std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out += '&';
    out += PercentEncode(k) + "=" + PercentEncode(v);
  }
  return out;
}

std::string TokenOf(std::string_view s, std::string_view fallback) {
  static constexpr std::string_view kSpecial = "!#$%&'*+-.^_`|~";
  std::string out;
  for (char ch : s) {
    if (std::isalnum(static_cast<unsigned char>(ch)) || kSpecial.find(ch) != kSpecial.npos) {
      out += ch;
    }
  }
  return out.empty() ? std::string(fallback) : out;
}

std::string TargetOf(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u > 0x20 && u != 0x7F) out += ch;
  }
  return out;
}

std::string FieldValueOf(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u == '\t' || (u >= 0x20 && u != 0x7F)) out += ch;
  }
  return std::string(Trim(out));
}

std::string PickOid(FuzzedDataProvider& in, const Seeds& seeds) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      return seeds.principal;
    case 1:
      return seeds.user;
    case 2:
      return seeds.group;
    default:
      return in.ConsumeRandomLengthString(40);
  }
}

bool AddSecretWouldHash(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("expires_in_days")) return true;
  const nlohmann::json& d = body["expires_in_days"];
  if (!d.is_number_integer()) return false;
  const int64_t days = d.get<int64_t>();
  return days >= 1 && days <= 730;
}

}  // namespace tarn::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tarn::fuzz::PipelineFixture::Get();
  return 0;
}
