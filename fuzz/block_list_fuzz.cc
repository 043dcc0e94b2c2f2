// The body of Put Block List (<BlockList><Latest>id</Latest>...</BlockList>):
// protocol::blob::ParseBlockList. Every id it accepts is non-empty, and a list never exceeds the
// 50,000 blocks a blob may have.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/ops.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto blocks = tarn::protocol::blob::ParseBlockList(body);
  if (!blocks.ok()) return 0;
  if (blocks->size() > 50000) std::abort();
  for (const auto& b : *blocks) {
    if (b.id.empty()) std::abort();
  }
  return 0;
}
