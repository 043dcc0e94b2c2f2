// Clock and time formats used by the Azure protocols.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tarn {

int64_t NowMicros();  // microseconds since the Unix epoch (system clock)
int64_t NowMillis();
int64_t MonotonicMicros();

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::string FormatHttpDate(int64_t unix_micros);
// Parses RFC 1123 dates (the only form Azure clients send). Returns Unix micros.
std::optional<int64_t> ParseHttpDate(std::string_view s);
// "2023-02-22T02:41:28.1234567Z" (7 fractional digits, as Azure lists them)
std::string FormatIso8601(int64_t unix_micros);
std::optional<int64_t> ParseIso8601(std::string_view s);  // accepts 0..7 fraction digits, 'Z'
// Windows FILETIME: 100 ns ticks since 1601-01-01, as a decimal string.
std::string FormatFiletime(int64_t unix_micros);

}  // namespace tarn
