// Small string helpers that the standard library lacks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tarn {

std::vector<std::string_view> Split(std::string_view s, char sep);  // keeps empty pieces
std::string_view Trim(std::string_view s);                          // spaces and tabs
std::string ToLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
// Parses a whole decimal int64 (optional leading '-'); false on anything else or overflow.
bool ParseInt64(std::string_view s, int64_t* out);

}  // namespace tarn
