// The whole request pipeline (protocol::Frontend::Handle): parse, route, authenticate, authorize,
// execute, respond, audit, over tarnd's real stores on a scratch directory (pipeline_fixture.h).
// Each input is one request: a method; a path aimed at one of the fronts (Blob/DFS under
// /devstoreaccount1/fuzz, /identity, /workspaces, the token service) or raw; query parameters the
// routes discriminate on, or raw ones; up to 8 headers from those the operations read; a body.
// A fraction of inputs carry valid credentials (a Shared Key signature of the development
// account, a bearer token of a seeded principal over "TLS", or a signed SAS), so that the
// operations behind authentication run too.
//
// Crashes: sanitizer reports, exceptions escaping Handle, and the contract CheckReply states
// (no response, a 500 unless TARN_FUZZ_STRICT=0, CR/LF/NUL in a header, a body that does not
// match its Content-Length).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/dev_account.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "fuzz/pipeline_fixture.h"
#include "lake/lake_service.h"

namespace {

using tarn::fuzz::PipelineFixture;
using tarn::fuzz::RequestParts;
using Json = nlohmann::json;

constexpr const char* kMethods[] = {"GET",  "PUT",   "HEAD",    "DELETE",
                                    "POST", "PATCH", "OPTIONS", "MERGE"};

struct Choice {
  const char* name;
  std::vector<const char*> values;
};

// Query parameters the routes and operations read, with values they know.
const std::vector<Choice>& QueryChoices() {
  static const std::vector<Choice> kChoices = {
      {"restype", {"container", "service", "account", "directory"}},
      {"comp",
       {"list", "metadata", "properties", "acl", "lease", "block", "blocklist", "tier",
        "userdelegationkey", "copy", "tags", "appendblock", "stats", "batch", "undelete",
        "query"}},
      {"showonly", {"deleted", "files"}},
      {"resource", {"filesystem", "file", "directory", "account"}},
      {"action",
       {"append", "flush", "getAccessControl", "setAccessControl", "setAccessControlRecursive",
        "getStatus", "setProperties"}},
      {"mode", {"set", "modify", "remove", "legacy", "posix"}},
      {"recursive", {"true", "false", "TRUE", "1"}},
      {"position", {"0", "5", "13", "-1", "9223372036854775807"}},
      {"close", {"true"}},
      {"flush", {"true"}},
      {"retainUncommittedData", {"true"}},
      {"maxResults", {"1", "2", "5000", "0", "-1"}},
      {"maxRecords", {"1", "2000", "0"}},
      {"directory", {"dir", "", "sales/country=nl"}},
      {"prefix", {"d", "dir/", ""}},
      {"delimiter", {"/"}},
      {"marker", {"1", "dir/a.csv", "x"}},
      {"continuation", {"x", "dir/a.csv"}},
      {"upn", {"true", "false"}},
      {"blockid", {"QUFBQQ==", "YmxvY2sx", "====", ""}},
      {"blocklisttype", {"all", "committed", "uncommitted"}},
      {"include", {"metadata", "uncommittedblobs", "copy", "deleted", "metadata,copy"}},
      {"timeout", {"30"}},
      {"version", {"latest", "1", "2", "0", "-1"}},
      {"include_archived", {"true"}},
      {"drift", {"ignore"}},
      {"principal", {"sharedkey:devstoreaccount1"}},
      {"result", {"denied", "allowed", "failed"}},
      {"action", {"PutBlob", "CreateTenant"}},
      {"since", {"2024-01-01T00:00:00Z"}},
      {"limit", {"1", "10", "0", "-5"}},
      {"dataset", {"files", "sales", ""}},
      {"direction", {"upstream", "downstream", "sideways"}},
      {"depth", {"1", "0", "100"}},
      {"wait", {"1", "0", "-1", "99999999"}},
  };
  return kChoices;
}

// Headers the pipeline and the operations read, with values they know ("{user}" and "{group}"
// stand for the seeded principals).
const std::vector<Choice>& HeaderChoices() {
  static const std::vector<Choice> kChoices = {
      {"x-ms-blob-type", {"BlockBlob", "AppendBlob", "PageBlob"}},
      {"x-ms-acl",
       {"user::rwx,group::r-x,other::---", "user::rwx,group::r-x,other::---,user:{user}:r-x",
        "user::rwx,group::r-x,other::---,default:user:abc:r-x,mask::rwx", "user:{user}",
        "group:{group}:rwx,mask::r--"}},
      {"x-ms-permissions", {"rwxr-x---", "0750", "1777", "rwxrwxrwt", "rwxr-x---+"}},
      {"x-ms-umask", {"0027", "0777", "0000"}},
      {"x-ms-owner", {"{user}", "$superuser", "user@fuzz.example"}},
      {"x-ms-group", {"{group}", "$superuser"}},
      {"x-ms-properties", {"n1=dmFsdWU=,n2=", "a=", "x=eHl6"}},
      {"x-ms-range", {"bytes=0-99", "bytes=5-", "bytes=-5", "bytes=100-0", "bytes=0-0"}},
      {"range", {"bytes=0-99", "bytes=3-4"}},
      {"x-ms-range-get-content-md5", {"true"}},
      {"x-ms-copy-source",
       {"http://127.0.0.1:10000/devstoreaccount1/fuzz/hello.txt",
        "http://127.0.0.1:10000/devstoreaccount1/fuzz/dir/a.csv?sv=2021-10-04&sp=r",
        "https://example.com/x/y/z", "http://devstoreaccount1.blob.localhost:10000/fuzz/hello.txt",
        "http://nobody.blob.localhost:10000/fuzz/hello.txt"}},
      {"x-ms-rename-source",
       {"/fuzz/hello.txt", "/fuzz/dir", "/fuzz/dir/a.csv?sv=2021-10-04",
        "/devstoreaccount1/fuzz/dir/b.csv"}},
      {"x-ms-undelete-source",
       {"hello.txt?deletionid=1", "dir?deletionid=2", "dir/a.csv?deletionid=x", "../x"}},
      {"x-ms-source-range", {"bytes=0-3", "bytes=5-1", "bytes=0-"}},
      {"x-ms-deleted-container-name", {"fuzz", "other", "$web", "a/b"}},
      {"x-ms-deleted-container-version", {"1", "0", "x", "../1"}},
      {"x-ms-lease-action", {"acquire", "renew", "change", "release", "break"}},
      {"x-ms-lease-duration", {"-1", "15", "60", "0"}},
      {"x-ms-lease-id", {"3f3a7e2c-6c1e-4ac2-9a4e-8a1d1f0f8c11"}},
      {"x-ms-proposed-lease-id", {"3f3a7e2c-6c1e-4ac2-9a4e-8a1d1f0f8c11"}},
      {"x-ms-lease-break-period", {"0", "60"}},
      {"x-ms-source-lease-id", {"3f3a7e2c-6c1e-4ac2-9a4e-8a1d1f0f8c11"}},
      {"x-ms-meta-name", {"value", ""}},
      {"x-ms-blob-public-access", {"container", "blob"}},
      {"x-ms-content-md5", {"1B2M2Y8AsgTpgAmY7PhCfg=="}},
      {"content-md5", {"1B2M2Y8AsgTpgAmY7PhCfg=="}},
      {"x-ms-blob-content-type", {"text/csv"}},
      {"x-ms-content-type", {"text/plain"}},
      {"if-match", {"*", "\"0x1\""}},
      {"if-none-match", {"*"}},
      {"if-modified-since", {"Mon, 01 Jan 2024 00:00:00 GMT"}},
      {"if-unmodified-since", {"Mon, 01 Jan 2024 00:00:00 GMT"}},
      {"x-ms-version", {"2021-10-04", "2019-02-02", "2025-01-05"}},
      {"x-ms-access-tier", {"Hot", "Cool"}},
      {"accept", {"application/json"}},
      {"content-type",
       {"application/xml", "application/json", "application/x-www-form-urlencoded",
        "multipart/mixed; boundary=batch_1"}},
      {"x-ms-client-request-id", {"0d3f0c4e-1111-2222-3333-444455556666"}},
      {"x-ms-date", {"Mon, 01 Jan 2024 00:00:00 GMT"}},
      {"expect", {"100-continue"}},
  };
  return kChoices;
}

std::string Fill(std::string v, const PipelineFixture& f) {
  for (auto [from, to] : {std::pair<std::string, const std::string*>{"{user}", &f.seeds().user},
                          {"{group}", &f.seeds().group},
                          {"{principal}", &f.seeds().principal}}) {
    for (size_t at = v.find(from); at != std::string::npos; at = v.find(from, at + to->size())) {
      v.replace(at, from.size(), *to);
    }
  }
  return v;
}

// A path aimed at one front, or raw.
std::string MakePath(FuzzedDataProvider& in, const PipelineFixture& f) {
  static constexpr const char* kIdentity[] = {
      "tenants",
      "tenants/{tenant}/principals",
      "tenants/{tenant}/groups",
      "principals/{principal}",
      "principals/{user}",
      "principals/{principal}/secrets",
      "principals/{principal}/secrets/00000000-0000-0000-0000-000000000000",
      "groups/{group}/members/{user}",
      "groups/{group}/members/{principal}",
      "role-assignments",
      "role-assignments/x",
      "audit"};
  static constexpr const char* kCatalog[] = {"",
                                             "ws",
                                             "ws/datastores",
                                             "ws/datastores/local",
                                             "ws/datastores/other",
                                             "ws/default-datastore",
                                             "ws/datasets",
                                             "ws/datasets/files",
                                             "ws/datasets/files/versions",
                                             "ws/datasets/files/versions/1",
                                             "ws/datasets/files/versions/latest/files",
                                             "ws/datasets/files/versions/1/files/0",
                                             "ws/datasets/sales/versions/1/files/0",
                                             "ws/datasets/new/versions",
                                             "ws/dataset-ids/x",
                                             "ws2",
                                             "ws/pipelines",
                                             "ws/pipelines/p1",
                                             "ws/pipelines/p1/runs",
                                             "ws/pipeline-runs/x",
                                             "ws/lineage",
                                             "ws/lineage-events",
                                             "ws/mlflow/api/2.0/mlflow/experiments/create",
                                             "ws/mlflow/api/2.0/mlflow/experiments/get-by-name",
                                             "ws/mlflow/api/2.0/mlflow/experiments/search",
                                             "ws/mlflow/api/2.0/mlflow/runs/create",
                                             "ws/mlflow/api/2.0/mlflow/runs/search",
                                             "ws/mlflow/api/2.0/mlflow/runs/log-batch",
                                             "ws/mlflow/api/2.0/mlflow/runs/log-inputs",
                                             "ws/mlflow/api/2.0/mlflow/metrics/get-history",
                                             "ws/mlflow/api/2.0/mlflow/logged-models",
                                             "ws/mlflow/api/2.0/mlflow/logged-models/search",
                                             "ws/mlflow/api/2.0/mlflow/registered-models/create",
                                             "ws/mlflow/api/2.0/mlflow/registered-models/alias",
                                             "ws/mlflow/api/2.0/mlflow/model-versions/create",
                                             "ws/mlflow/api/2.0/mlflow/model-versions/search",
                                             "ws/mlflow/ajax-api/2.0/mlflow/runs/get",
                                             "ws/mlflow/api/2.0/mlflow-artifacts/artifacts",
                                             "ws/mlflow/api/2.0/mlflow-artifacts/artifacts/1/r/a.txt"};
  static constexpr const char* kToken[] = {
      "oauth2/v2.0/token", "v2.0/.well-known/openid-configuration", "discovery/v2.0/keys",
      "oauth2/v2.0/devicecode", "oauth2/v2.0/devicelogin"};
  const int front = in.ConsumeIntegralInRange(0, 5);
  const bool extend = in.ConsumeBool();
  std::string tail = tarn::fuzz::TargetOf(in.ConsumeRandomLengthString(96));
  auto with_tail = [&](std::string base) {
    if (!extend) return base;
    return base + (base.empty() || base.back() == '/' ? "" : "/") + tail;
  };
  std::string tenant = tarn::fuzz::kTenant;
  switch (front) {
    case 0:
      return "/devstoreaccount1/fuzz/" +
             (in.ConsumeBool() ? with_tail(in.PickValueInArray(tarn::fuzz::kSeededPaths)) : tail);
    case 1:
      return "/devstoreaccount1/" + tail;
    case 2: {
      std::string p = in.PickValueInArray(kIdentity);
      auto at = p.find("{tenant}");
      if (at != std::string::npos) p.replace(at, 8, tenant);
      return "/identity/" + with_tail(Fill(p, f));
    }
    case 3:
      return "/workspaces/" + with_tail(in.PickValueInArray(kCatalog));
    case 4: {
      std::string who = in.ConsumeBool() ? tenant : tail.substr(0, tail.find('/'));
      return "/" + who + "/" + in.PickValueInArray(kToken);
    }
    default:
      return "/" + tail;
  }
}

// Storage paths name fs and path as the pipeline parses them, for SAS signatures.
std::pair<std::string, std::string> StorageResource(const std::string& raw_path) {
  std::string prefix = std::string("/") + tarn::fuzz::kAccount + "/";
  if (raw_path.compare(0, prefix.size(), prefix) != 0) return {};
  std::string_view rest = std::string_view(raw_path).substr(prefix.size());
  size_t slash = rest.find('/');
  auto fs = tarn::PercentDecode(rest.substr(0, slash));
  if (!fs) return {};
  if (slash == std::string_view::npos) return {*fs, ""};
  auto path = tarn::PercentDecode(rest.substr(slash + 1));
  if (!path) return {*fs, ""};
  auto norm = tarn::lake::NormalizePath(*path);
  return {*fs, norm.ok() ? *norm : ""};
}

// A SAS over the request's resource: known fields with plausible values or fuzz bytes,
// validly signed unless the input says otherwise.
void AddSas(FuzzedDataProvider& in, const std::string& raw_path, const PipelineFixture& f,
            std::vector<std::pair<std::string, std::string>>* query) {
  const int64_t now = tarn::NowMicros();
  std::multimap<std::string, std::string> sas;
  auto pick = [&](const char* name, std::vector<std::string> values) {
    if (!in.ConsumeBool()) return;
    sas.emplace(name, in.ConsumeBool()
                          ? values[in.ConsumeIntegralInRange<size_t>(0, values.size() - 1)]
                          : in.ConsumeRandomLengthString(24));
  };
  pick("sv", {"2021-10-04", "2020-02-10", "2018-11-09", "2015-04-05", "2012-02-12"});
  pick("sp", {"r", "racwdl", "rwdlacup", "w", "d", "m", "e", "o", "p"});
  pick("se", {tarn::FormatIso8601(now + 3600000000LL), tarn::FormatIso8601(now - 3600000000LL)});
  pick("st", {tarn::FormatIso8601(now - 600000000LL), tarn::FormatIso8601(now + 3600000000LL)});
  pick("sr", {"c", "b", "d"});
  pick("sdd", {"0", "1", "2", "-1"});
  pick("ss", {"b", "bfqt", "q"});
  pick("srt", {"sco", "s", "c", "o"});
  pick("sip", {"127.0.0.1", "127.0.0.0-127.0.0.255", "10.0.0.1"});
  pick("spr", {"https", "https,http"});
  pick("skoid", {f.seeds().principal, f.seeds().user});
  pick("sktid", {tarn::fuzz::kTenant});
  pick("skt", {tarn::FormatIso8601(now - 600000000LL)});
  pick("ske", {tarn::FormatIso8601(now + 3600000000LL)});
  pick("skv", {"2021-10-04"});
  pick("si", {"policy"});
  auto [fs, path] = StorageResource(raw_path);
  std::string sig = in.ConsumeBool() ? tarn::fuzz::SasSignature(sas, fs, path, f.key())
                                     : in.ConsumeRandomLengthString(48);
  for (const auto& [k, v] : sas) query->emplace_back(k, v);
  query->emplace_back("sig", sig);
}

// Add Secret hashes a new secret with Argon2id (64 MiB, tens of milliseconds) before it looks
// at the principal: bodies that would get that far are replaced with one refused before it.
void KeepSecretsCheap(RequestParts* p) {
  if (p->method != "POST") return;
  std::vector<std::string> segs;
  for (auto s : tarn::Split(p->path, '/')) {
    if (s.empty()) continue;
    auto d = tarn::PercentDecode(s);
    segs.push_back(d ? *d : std::string(s));
  }
  if (segs.size() != 4 || segs[0] != "identity" || segs[1] != "principals" ||
      segs[3] != "secrets") {
    return;
  }
  Json j = p->body.empty() ? Json::object() : Json::parse(p->body, nullptr, false);
  if (j.is_discarded()) return;
  if (tarn::fuzz::AddSecretWouldHash(j)) p->body = "{\"expires_in_days\":0}";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  PipelineFixture& f = PipelineFixture::Get();
  RequestParts p;
  p.method = in.ConsumeBool() ? in.PickValueInArray(kMethods)
                              : tarn::fuzz::TokenOf(in.ConsumeRandomLengthString(12), "GET");
  p.path = MakePath(in, f);

  std::vector<std::pair<std::string, std::string>> query;
  std::string raw_query;
  const int params = in.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < params; ++i) {
    if (in.ConsumeBool()) {
      const auto& choices = QueryChoices();
      const Choice& c = choices[in.ConsumeIntegralInRange<size_t>(0, choices.size() - 1)];
      std::string value = in.ConsumeBool() && !c.values.empty()
                              ? c.values[in.ConsumeIntegralInRange<size_t>(0, c.values.size() - 1)]
                              : in.ConsumeRandomLengthString(32);
      query.emplace_back(c.name, Fill(value, f));
    } else if (in.ConsumeBool()) {
      std::string name = in.ConsumeRandomLengthString(16);
      query.emplace_back(std::move(name), in.ConsumeRandomLengthString(32));
    } else {
      raw_query +=
          (raw_query.empty() ? "" : "&") + tarn::fuzz::TargetOf(in.ConsumeRandomLengthString(48));
    }
  }

  const int headers = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < headers; ++i) {
    std::string name, value;
    const auto& choices = HeaderChoices();
    switch (in.ConsumeIntegralInRange(0, 3)) {
      case 0:
      case 1: {
        const Choice& c = choices[in.ConsumeIntegralInRange<size_t>(0, choices.size() - 1)];
        name = c.name;
        value = in.ConsumeBool()
                    ? c.values[in.ConsumeIntegralInRange<size_t>(0, c.values.size() - 1)]
                    : in.ConsumeRandomLengthString(64);
        break;
      }
      case 2:
        name = "x-ms-meta-" + tarn::fuzz::TokenOf(in.ConsumeRandomLengthString(16), "m");
        value = in.ConsumeRandomLengthString(64);
        break;
      default:
        name = tarn::fuzz::TokenOf(in.ConsumeRandomLengthString(24), "x-ms-x");
        value = in.ConsumeRandomLengthString(64);
        break;
    }
    // Framing is the HTTP layer's (the fixture sets it to match the body).
    if (tarn::EqualsIgnoreCase(name, "content-length") ||
        tarn::EqualsIgnoreCase(name, "transfer-encoding") || tarn::EqualsIgnoreCase(name, "host") ||
        tarn::EqualsIgnoreCase(name, "authorization")) {
      continue;
    }
    p.headers.emplace_back(name, tarn::fuzz::FieldValueOf(Fill(value, f)));
  }

  const int auth = in.ConsumeIntegralInRange(0, 6);
  if (auth == 5) AddSas(in, p.path, f, &query);
  p.query = tarn::fuzz::EncodeQuery(query);
  if (!raw_query.empty()) p.query += (p.query.empty() ? "" : "&") + raw_query;
  p.chunked = in.ConsumeBool();
  static constexpr size_t kSteps[] = {0, 1, 7, 4096};
  p.read_step = in.PickValueInArray(kSteps);
  p.secure = in.ConsumeBool();
  std::string token_oid;
  Json overrides = Json::object();
  if (auth == 3) {
    p.secure = true;
    token_oid = tarn::fuzz::PickOid(in, f.seeds());
    if (in.ConsumeBool()) {
      static constexpr const char* kClaims[] = {"exp", "nbf", "aud", "iss", "tid", "oid", "appid"};
      const char* claim = in.PickValueInArray(kClaims);
      switch (in.ConsumeIntegralInRange(0, 4)) {
        case 0:
          overrides[claim] = nullptr;
          break;
        case 1:
          overrides[claim] = in.ConsumeIntegral<int64_t>();
          break;
        case 2:
          overrides[claim] = Json::array({1, "x"});
          break;
        case 3:
          overrides[claim] = in.ConsumeFloatingPoint<double>();
          break;
        default:
          overrides[claim] = in.ConsumeRandomLengthString(40);
          break;
      }
    }
  }
  // Now and then a virtual host (<account>.blob.localhost), whose paths leave out the account,
  // or a static website's (<account>.web.localhost).
  static constexpr const char* kHosts[] = {
      "devstoreaccount1.blob.localhost:10000", "DevStoreAccount1.DFS.localhost.:10000",
      "nobody.dfs.localhost", "devstoreaccount1.queue.localhost", "[::1]:10000", ".blob.localhost",
      "devstoreaccount1.web.localhost:10000", "nobody.web.localhost"};
  if (in.ConsumeIntegralInRange(0, 3) == 0) {
    p.host = in.ConsumeBool() ? in.PickValueInArray(kHosts)
                              : tarn::fuzz::FieldValueOf(in.ConsumeRandomLengthString(40));
    const std::string prefix = std::string("/") + tarn::fuzz::kAccount;
    if (p.path.compare(0, prefix.size(), prefix) == 0) p.path.erase(0, prefix.size());
    if (p.path.empty()) p.path = "/";
  }
  const std::string garbage = in.ConsumeBool() ? in.ConsumeRandomLengthString(128) : "";
  p.body = in.ConsumeRemainingBytesAsString();
  KeepSecretsCheap(&p);

  switch (auth) {
    case 1:
      tarn::fuzz::SignSharedKey(&p, f.key());
      break;
    case 2:
      p.headers.emplace_back("x-ms-date", tarn::FormatHttpDate(tarn::NowMicros()));
      p.headers.emplace_back("Authorization",
                             tarn::fuzz::FieldValueOf("SharedKey devstoreaccount1:" + garbage));
      break;
    case 3: {
      std::string token = f.Token(token_oid, overrides);
      p.headers.emplace_back("Authorization", "Bearer " + token);
      break;
    }
    case 4:
      p.headers.emplace_back("Authorization", tarn::fuzz::FieldValueOf("Bearer " + garbage));
      break;
    default:
      break;
  }

  tarn::fuzz::Reply r = f.Send(p);
  if (r.status < 300 && p.method != "GET" && p.method != "HEAD") f.EnsureSeeded();
  return 0;
}
