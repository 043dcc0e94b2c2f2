// tarnd's request pipeline for fuzz targets: the stores, services and protocol::Frontend wired as
// src/server/tarnd.cc wires them, on a scratch data directory, with a little seeded state for
// inputs to reach (a filesystem with files, a tenant with principals, a workspace with a local
// datastore and a dataset), plus helpers to form, sign and send requests.
//
// Contract
// - PipelineFixture::Get() builds everything on first use (call it from LLVMFuzzerInitialize) and
//   is never destroyed. It first moves the process into a network namespace of its own with only
//   loopback up, so that nothing an input registers (a datastore endpoint, a token authority)
//   can reach another host; it refuses to run without that isolation unless
//   TARN_FUZZ_ALLOW_NETWORK=1.
// - The data directory is made under $TARN_FUZZ_TMP, else /dev/shm (no fsync cost), else /tmp,
//   and removed at exit.
// - Send() runs one request through Frontend::Handle on the calling thread and aborts (a crash
//   for libFuzzer) when the response breaks the pipeline's contract; see CheckReply. With
//   TARN_FUZZ_VERBOSE set it prints each request's line and the status and error code answered.
//
//   auto& f = tarn::fuzz::PipelineFixture::Get();
//   tarn::fuzz::RequestParts p{"GET", "/devstoreaccount1/fuzz/hello.txt", "", {}, ""};
//   tarn::fuzz::SignSharedKey(&p, f.key());
//   tarn::fuzz::Reply r = f.Send(p);
//
// Linking this fixture also defines LLVMFuzzerInitialize, which builds it before the first input.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"

namespace tarn::catalog {
class CatalogService;
}
namespace tarn::identity {
class IdentityService;
}
namespace tarn::lake {
class LakeService;
}
namespace tarn::protocol {
class Frontend;
}

namespace tarn::fuzz {

// Names the seeded state: inputs aim at these.
inline constexpr char kAccount[] = "devstoreaccount1";
inline constexpr char kFilesystem[] = "fuzz";
inline constexpr char kWorkspace[] = "ws";
inline constexpr char kDatastore[] = "local";
inline constexpr char kFileDataset[] = "files";
inline constexpr char kTabularDataset[] = "sales";
inline constexpr char kTenant[] = "72f988bf-86f1-41af-91ab-2d7cd011db47";
inline constexpr char kHost[] = "127.0.0.1:10000";
inline constexpr char kRemote[] = "127.0.0.1:40000";
// Paths that exist in kFilesystem once seeded.
inline constexpr const char* kSeededPaths[] = {
    "hello.txt", "dir", "dir/a.csv", "dir/b.csv", "sales/country=nl/2024/01/02/s.csv",
};

// The seeded directory objects (their ids are made anew when an input deleted them).
struct Seeds {
  std::string principal;  // a service principal, Contributor on /devstoreaccount1/fuzz
  std::string app_id;     // its application (client) id
  std::string user;       // a user without a role, named in the ACL of fuzz/dir
  std::string group;      // a group with the user as member
};

// A request as the HTTP layer would hand it over, before it is made into an http::Request.
struct RequestParts {
  std::string method;
  std::string path;   // raw, percent-encoded
  std::string query;  // raw, without '?'
  http::Headers headers;
  std::string body;
  bool chunked = false;  // sent with Transfer-Encoding: chunked instead of Content-Length
  bool secure = false;   // arrived over TLS (bearer tokens need it)
  size_t read_step = 0;  // the body reads in pieces of at most this many bytes (0: any)
  std::string host = kHost;  // the Host header (virtual hosts end in .localhost)
};

// A response as the pipeline formed it.
struct Reply {
  int starts = 0;  // calls of ResponseWriter::Start
  int status = 0;
  http::Headers headers;
  int64_t content_length = 0;
  int64_t written = 0;  // body bytes written or sent
  bool close_after = false;
  std::string body;  // the first 64 KiB
};

class PipelineFixture {
 public:
  static PipelineFixture& Get();

  protocol::Frontend& frontend() { return *frontend_; }
  lake::LakeService& lake() { return *lake_; }
  catalog::CatalogService& catalog() { return *catalog_; }
  identity::IdentityService& identity() { return *identity_; }
  const std::string& key() const { return key_; }  // the development account's key bytes
  const Seeds& seeds() const { return seeds_; }

  // Puts back whatever of the seeded state earlier inputs deleted, moved or overwrote.
  void EnsureSeeded();

  // Forms the request (Host, Content-Length or Transfer-Encoding set to match the body), runs
  // it through Frontend::Handle and checks the reply (CheckReply).
  Reply Send(const RequestParts& parts);

  // A bearer token for principal oid of kTenant, signed with the active key; `overrides`
  // replaces or adds claims (null values remove them).
  std::string Token(const std::string& oid, const nlohmann::json& overrides = {});

 private:
  PipelineFixture() = default;
  void Build();

  struct Owned;
  std::unique_ptr<Owned> owned_;
  protocol::Frontend* frontend_ = nullptr;
  lake::LakeService* lake_ = nullptr;
  catalog::CatalogService* catalog_ = nullptr;
  identity::IdentityService* identity_ = nullptr;
  std::string dir_;
  std::string key_;
  Seeds seeds_;
};

// One of the seeded principals (the service principal, the user, the group) or, as often as any
// one of them, an arbitrary oid of up to 40 bytes.
std::string PickOid(FuzzedDataProvider& in, const Seeds& seeds);

// Whether Add Secret would hash a new secret (Argon2id, 64 MiB, tens of milliseconds) for this
// body: it would unless expires_in_days is present and not a whole number of days in 1..730.
bool AddSecretWouldHash(const nlohmann::json& body);

// Aborts, printing the request and the reply, when a reply breaks the pipeline's contract: no
// response, or more than one start; a status outside 100-599; under TARN_FUZZ_STRICT (on unless
// set to 0) a 500, since an internal error on hostile input is a bug; a header name or value
// holding CR, LF or NUL; a body longer or (without CloseAfter) shorter than its Content-Length,
// or any body on a HEAD.
void CheckReply(const RequestParts& req, const Reply& reply);

// Sets x-ms-date to now and x-ms-version (unless present), then adds a valid
// "Authorization: SharedKey devstoreaccount1:..." for the request as it then stands.
void SignSharedKey(RequestParts* req, const std::string& key);

// Signs SAS fields (names lowercased, values decoded; "sig" ignored) for a request on fs/path
// of the development account as protocol/sas.cc validates them: an account SAS when ss or srt
// is set, else a service SAS (sr c, b or d with sdd), a user-delegation one when skoid is set.
// Returns the base64 signature.
std::string SasSignature(const std::multimap<std::string, std::string>& fields,
                         const std::string& fs, const std::string& path, const std::string& key);

// Percent-encodes name=value pairs into a query string (in the given order).
std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& pairs);

// What an HTTP/1.1 parser lets through, so that inputs are requests a client could send:
// a token (method, header name) of tchar only, never empty; a request-target without space or
// control characters; a field value without CR, LF or NUL and without surrounding blanks.
std::string TokenOf(std::string_view s, std::string_view fallback);
std::string TargetOf(std::string_view s);
std::string FieldValueOf(std::string_view s);

}  // namespace tarn::fuzz
