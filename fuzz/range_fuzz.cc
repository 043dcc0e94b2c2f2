// Range / x-ms-range header values ("bytes=0-99"): protocol::ParseRangeValue. A range it returns
// is well formed (start >= 0, end >= start) and parses back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tarn::protocol::ParseRangeValue;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = ParseRangeValue(text);
  if (!r.ok() || !r->has_value()) return 0;
  const tarn::lake::ByteRange& range = **r;
  if (range.start < 0 || (range.end && *range.end < range.start)) std::abort();
  std::string again = "bytes=" + std::to_string(range.start) + "-" +
                      (range.end ? std::to_string(*range.end) : std::string());
  auto r2 = ParseRangeValue(again);
  if (!r2.ok() || !r2->has_value() || (*r2)->start != range.start || (*r2)->end != range.end) {
    std::abort();
  }
  return 0;
}
