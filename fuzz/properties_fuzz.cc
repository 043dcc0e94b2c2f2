// x-ms-properties ("n1=dmFsdWU=,n2="): protocol::ParseProperties, then FormatProperties. What
// parses formats into text that parses back to the same properties, and every value is printable
// ASCII (values come back as response headers).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "protocol/context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tarn::protocol::FormatProperties;
  using tarn::protocol::ParseProperties;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto m = ParseProperties(text);
  if (!m.ok()) return 0;
  for (const auto& [name, value] : *m) {
    for (unsigned char ch : name + value) {
      if (ch < 0x20 || ch > 0x7E) std::abort();
    }
  }
  std::string formatted = FormatProperties(*m);
  auto again = ParseProperties(formatted);
  if (!again.ok() || *again != *m) std::abort();
  return 0;
}
