// Shared access signatures: protocol::ValidateSas and AuthorizeSas directly, then the same SAS
// through the whole pipeline (pipeline_fixture.h). Inputs pick each SAS field (sv, sp, st, se,
// sr, sdd, sip, spr, ss, srt, ses, skoid, sktid, skt, ske, skv, si, snapshot, rsc*) from
// plausible values or fuzz bytes, over a resource in the seeded filesystem (or /identity,
// /workspaces), and are signed as protocol/sas.cc checks them unless the input says otherwise.
//
// Checks, besides the pipeline's contract (CheckReply): a SAS that validates speaks for the
// account it was checked against, a service SAS is scoped to the filesystem (and the blob or
// directory) of the request that carried it, and AuthorizeSas grants only permissions the SAS
// holds.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "fuzz/pipeline_fixture.h"
#include "protocol/sas.h"

namespace {

using tarn::fuzz::PipelineFixture;

[[noreturn]] void Fail(const char* what, const std::multimap<std::string, std::string>& q,
                       const std::string& fs, const std::string& path) {
  std::fprintf(stderr, "sas_fuzz: %s (fs '%s', path '%s')\n", what, fs.c_str(), path.c_str());
  for (const auto& [k, v] : q) std::fprintf(stderr, "  %s=%s\n", k.c_str(), v.c_str());
  std::abort();
}

std::multimap<std::string, std::string> MakeFields(FuzzedDataProvider& in,
                                                   const PipelineFixture& f) {
  const int64_t now = tarn::NowMicros();
  const int64_t hour = 3600LL * 1000000;
  std::multimap<std::string, std::string> q;
  auto field = [&](const char* name, const std::vector<std::string>& values) {
    if (!in.ConsumeBool()) return;
    q.emplace(name, in.ConsumeBool() || values.empty()
                        ? in.ConsumeRandomLengthString(32)
                        : values[in.ConsumeIntegralInRange<size_t>(0, values.size() - 1)]);
  };
  field("sv", {"2021-10-04", "2020-12-06", "2020-02-10", "2018-11-09", "2015-04-05", "2012-02-12",
               "9999-99-99"});
  field("sp", {"r", "racwdl", "rwdlacupx", "w", "d", "c", "m", "e", "o", "p", "l"});
  field("st", {tarn::FormatIso8601(now - hour), tarn::FormatIso8601(now + 2 * hour), "2024-01-01",
               "2024-01-01T00:00:00.1234567Z"});
  field("se", {tarn::FormatIso8601(now + hour), tarn::FormatIso8601(now - hour),
               "9999-12-31T23:59:59Z", "2024-13-45T99:99:99Z"});
  field("sr", {"c", "b", "d", "bs", "f"});
  field("sdd", {"0", "1", "2", "3", "-1", "99999999999999999999"});
  field("sip", {"127.0.0.1", "127.0.0.0-127.0.0.255", "10.0.0.1", "127.0.0.1-", "::1", "-"});
  field("spr", {"https", "https,http", "http"});
  field("ss", {"b", "bfqt", "q", ""});
  field("srt", {"sco", "s", "c", "o", ""});
  field("ses", {"scope"});
  field("skoid", {f.seeds().principal, f.seeds().user, "00000000-0000-0000-0000-000000000000"});
  field("sktid", {tarn::fuzz::kTenant});
  field("skt", {tarn::FormatIso8601(now - hour), tarn::FormatIso8601(now + 2 * hour)});
  field("ske", {tarn::FormatIso8601(now + hour), tarn::FormatIso8601(now - hour)});
  field("skv", {"2021-10-04"});
  field("sks", {"b"});
  field("si", {"policy"});
  field("snapshot", {"2024-01-01T00:00:00.0000000Z"});
  field("rscc", {"no-cache"});
  field("rsct", {"text/csv"});
  return q;
}

void CheckDirect(const std::multimap<std::string, std::string>& q, const std::string& fs,
                 const std::string& path, bool secure) {
  const PipelineFixture& f = PipelineFixture::Get();
  tarn::protocol::Account account{tarn::fuzz::kAccount, {f.key()}};
  const std::string remote = tarn::fuzz::kRemote;
  auto id =
      tarn::protocol::ValidateSas(tarn::protocol::SasRequest{q, fs, path, remote, secure}, account);
  if (!id.ok()) return;
  if (id->kind != tarn::protocol::Identity::Kind::kSas || id->account != account.name) {
    Fail("a valid SAS speaks for someone else", q, fs, path);
  }
  if (!id->sas_resource.empty()) {  // a service SAS (an account SAS has no sr)
    if (id->sas_fs != fs) Fail("a service SAS is scoped to another filesystem", q, fs, path);
    if (id->sas_resource == "b" && id->sas_path != path) {
      Fail("a blob SAS is scoped to another blob", q, fs, path);
    }
    if (id->sas_resource == "d" && !id->sas_path.empty() && path != id->sas_path &&
        !tarn::StartsWith(path, id->sas_path + "/")) {
      Fail("a directory SAS validates for a path outside its directory", q, fs, path);
    }
  }
  for (char level : {'s', 'c', 'o'}) {
    for (const char* need : {"r", "w", "d", "l", "cw", "dm", "o", "p", "e"}) {
      if (!tarn::protocol::AuthorizeSas(*id, fs, path, level, need).ok()) continue;
      bool held = false;
      for (const char* n = need; *n; ++n)
        held = held || id->permissions.find(*n) != std::string::npos;
      if (!held) Fail("AuthorizeSas grants a permission the SAS lacks", q, fs, path);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  PipelineFixture& f = PipelineFixture::Get();
  static constexpr const char* kMethods[] = {"GET", "PUT", "HEAD", "DELETE", "PATCH", "POST"};
  static constexpr const char* kFronts[] = {"/identity/tenants", "/workspaces/ws", "/workspaces",
                                            "/identity/role-assignments"};
  const char* method = in.PickValueInArray(kMethods);
  std::string fs =
      in.ConsumeBool() ? std::string(tarn::fuzz::kFilesystem) : in.ConsumeRandomLengthString(16);
  std::string path = in.ConsumeBool() ? std::string(in.PickValueInArray(tarn::fuzz::kSeededPaths))
                                      : in.ConsumeRandomLengthString(64);
  const bool other_front = in.ConsumeIntegralInRange(0, 7) == 0;
  const char* front = in.PickValueInArray(kFronts);
  const bool secure = in.ConsumeBool();
  const bool sign = in.ConsumeIntegralInRange(0, 3) != 0;
  std::multimap<std::string, std::string> q = MakeFields(in, f);
  std::string sig =
      sign ? tarn::fuzz::SasSignature(q, fs, path, f.key()) : in.ConsumeRandomLengthString(48);
  std::vector<std::pair<std::string, std::string>> pairs(q.begin(), q.end());
  q.emplace("sig", sig);
  CheckDirect(q, fs, path, secure);

  pairs.emplace_back("sig", sig);
  tarn::fuzz::RequestParts p;
  p.method = method;
  p.secure = secure;
  p.path = other_front ? front
                       : "/devstoreaccount1/" + tarn::PercentEncode(fs) + "/" +
                             tarn::PercentEncode(path, /*keep_slash=*/true);
  p.query = tarn::fuzz::EncodeQuery(pairs);
  if (in.ConsumeBool()) {
    static constexpr const char* kOps[] = {"restype=container&comp=list",
                                           "resource=filesystem",
                                           "comp=metadata",
                                           "action=getAccessControl",
                                           "resource=file",
                                           "action=getStatus",
                                           "comp=blocklist",
                                           "resource=directory",
                                           "action=append&position=0"};
    p.query = std::string(in.PickValueInArray(kOps)) + "&" + p.query;
  }
  if (p.method == "PUT" && in.ConsumeBool()) p.headers.emplace_back("x-ms-blob-type", "BlockBlob");
  p.body = in.ConsumeRemainingBytesAsString();
  tarn::fuzz::Reply r = f.Send(p);
  if (r.status < 300 && p.method != "GET" && p.method != "HEAD") f.EnsureSeeded();
  return 0;
}
