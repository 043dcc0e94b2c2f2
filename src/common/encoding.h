// Byte and text encodings used by the wire protocols: base64, hex, percent-encoding, UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tarn {

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding; returns nullopt on any invalid character or length.
std::optional<std::string> Base64Decode(std::string_view text);
// The URL-safe alphabet without padding (RFC 4648 section 5), as JWTs use it. Decoding refuses
// '+', '/' and '='.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

std::string HexEncode(std::string_view bytes);  // lowercase

// Decodes %XX escapes. plus_as_space turns '+' into ' ' (query strings). nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space = false);
// Encodes everything except unreserved characters (A-Z a-z 0-9 - _ . ~); keep_slash keeps '/'.
std::string PercentEncode(std::string_view s, bool keep_slash = false);

bool IsValidUtf8(std::string_view s);
// The length of valid UTF-8 text in UTF-16 code units: how Azure counts the characters of a
// name (a code point past U+FFFF counts twice).
size_t Utf16Length(std::string_view s);
// True if s holds a C0 control character (U+0000-U+001F) or DEL (U+007F).
bool HasControlChar(std::string_view s);

// Escapes &, <, >, ", ' for XML text and attributes.
std::string XmlEscape(std::string_view s);

}  // namespace tarn
