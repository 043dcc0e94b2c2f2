// The Shared Key string-to-sign and its path canonicalisation: auth::SharedKeyStringToSign under
// every SignOptions combination, SharedKeyAuthorization, and PercentDecode of the path. The
// string-to-sign must stay one line per field: a header value may not add lines (CR/LF are
// dropped when values are canonicalised), so two different requests cannot share it that way.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "auth/shared_key.h"
#include "common/dev_account.h"
#include "common/encoding.h"

namespace {

const char* const kHeaderNames[] = {
    "Content-Encoding",
    "content-language",
    "Content-Length",
    "content-md5",
    "Content-Type",
    "Date",
    "If-Modified-Since",
    "If-Match",
    "If-None-Match",
    "If-Unmodified-Since",
    "Range",
    "x-ms-date",
    "x-ms-version",
    "X-MS-Meta-Name",
    "x-ms-meta-a-b",
    "x-ms-blob-type",
    "x-ms-client-request-id",
    "x-ms-properties",
    "x-ms-acl",
    "x-ms--",
};
const char* const kMethods[] = {"GET", "PUT", "HEAD", "DELETE", "POST", "PATCH", "OPTIONS"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  tarn::auth::SignableRequest r;
  r.method = in.ConsumeBool() ? in.PickValueInArray(kMethods) : in.ConsumeRandomLengthString(16);
  r.raw_path = in.ConsumeRandomLengthString(256);
  const int headers = in.ConsumeIntegralInRange(0, 12);
  for (int i = 0; i < headers; ++i) {
    std::string name = in.ConsumeBool() ? in.PickValueInArray(kHeaderNames)
                                        : "x-ms-" + in.ConsumeRandomLengthString(24);
    r.headers.emplace_back(std::move(name), in.ConsumeRandomLengthString(128));
  }
  const int params = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < params; ++i) {
    std::string name = in.ConsumeRandomLengthString(16);
    r.query.emplace(std::move(name), in.ConsumeRandomLengthString(64));
  }
  const std::string account =
      in.ConsumeBool() ? tarn::kDevAccount : in.ConsumeRemainingBytesAsString();

  static_cast<void>(tarn::PercentDecode(r.raw_path));
  static_cast<void>(tarn::PercentDecode(r.raw_path, /*plus_as_space=*/true));
  // 12 standard lines, one per x-ms-* header, then the resource. x-ms-* values are canonicalised
  // (CR and LF dropped), so whatever they hold cannot add lines; the HTTP parser keeps line
  // breaks out of every other field, so only inputs without them elsewhere are checked.
  auto has_break = [](const std::string& s) { return s.find_first_of("\r\n") != s.npos; };
  bool checkable =
      !has_break(r.method) && !has_break(account) && !has_break(r.raw_path) && r.query.empty();
  for (const auto& [k, v] : r.headers) {
    bool xms = k.size() >= 5 && (k[0] | 0x20) == 'x' && k[1] == '-' && (k[2] | 0x20) == 'm' &&
               (k[3] | 0x20) == 's' && k[4] == '-';
    checkable = checkable && !has_break(k) && (xms || !has_break(v));
  }
  size_t expected_lines = 0;
  for (bool decoded : {false, true}) {
    for (bool dash : {false, true}) {
      for (bool use_date : {false, true}) {
        std::string sts = tarn::auth::SharedKeyStringToSign(r, account, {decoded, dash, use_date});
        if (!checkable || decoded) continue;
        size_t lines = 0;
        for (char ch : sts) lines += ch == '\n';
        if (expected_lines == 0) expected_lines = lines;
        if (lines != expected_lines) std::abort();
      }
    }
  }
  std::string key = *tarn::Base64Decode(tarn::kDevKey);
  std::string auth = tarn::auth::SharedKeyAuthorization(r, account, key);
  if (auth.rfind("SharedKey ", 0) != 0) std::abort();
  return 0;
}
