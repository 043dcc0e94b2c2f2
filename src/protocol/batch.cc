#include "protocol/batch.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "common/strings.h"

namespace tarn::protocol {
namespace {

namespace bh = boost::beast::http;

Status Invalid(const std::string& why) {
  return Error(Reason::kInvalidInput, "The batch request body is not valid: " + why);
}

// The next delimiter line "--<boundary>" at or after `from`: at the body's start or right after
// a line break.
size_t FindDelimiter(std::string_view body, std::string_view delim, size_t from) {
  for (size_t at = body.find(delim, from); at != std::string_view::npos;
       at = body.find(delim, at + 1)) {
    if (at == 0 || body[at - 1] == '\n') return at;
  }
  return std::string_view::npos;
}

bool HasControl(std::string_view s) {
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if ((u < 0x20 && ch != '\t') || u == 0x7F) return true;
  }
  return false;
}

// One part: its MIME headers, a blank line, then an HTTP request without a body.
StatusOr<BatchPart> ParsePart(std::string_view text, size_t index) {
  const std::string where = "part " + std::to_string(index) + ": ";
  BatchPart part;
  bool http = false;
  size_t at = 0;
  while (true) {
    const size_t eol = text.find('\n', at);
    if (eol == std::string_view::npos) return Invalid(where + "its headers do not end");
    std::string_view line = text.substr(at, eol - at);
    at = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || HasControl(line)) {
      return Invalid(where + "a header line is malformed");
    }
    const std::string_view name = Trim(line.substr(0, colon));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "content-type")) {
      http = EqualsIgnoreCase(Trim(value.substr(0, value.find(';'))), "application/http");
    } else if (EqualsIgnoreCase(name, "content-id")) {
      part.content_id = std::string(value);
    }
  }
  if (!http) return Invalid(where + "its Content-Type must be application/http");
  // The embedded request, with CRLF line ends as HTTP has them, ending at its head.
  std::string head;
  std::string_view rest = text.substr(at);
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
  head.reserve(rest.size() + 8);
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '\n' && (i == 0 || rest[i - 1] != '\r')) head += '\r';
    head += rest[i];
  }
  head += "\r\n\r\n";
  bh::request_parser<bh::empty_body> p;
  p.header_limit(64 * 1024);
  p.eager(true);
  boost::system::error_code ec;
  const size_t used = p.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (ec || !p.is_done() || used != head.size()) {
    return Invalid(where + "its request does not parse as HTTP/1.1" +
                   (ec ? " (" + ec.message() + ")" : std::string(" or has a body")));
  }
  const auto& m = p.get();
  part.method = std::string(m.method_string());
  part.target = std::string(m.target());
  if (part.target.empty() || part.target[0] != '/' || HasControl(part.target)) {
    return Invalid(where + "its request target must be a path");
  }
  for (const auto& f : m) {
    part.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  return part;
}

}  // namespace

StatusOr<std::string> BatchBoundary(std::string_view content_type) {
  auto fail = [] {
    return Invalid("Content-Type must be multipart/mixed with a boundary, e.g. "
                   "multipart/mixed; boundary=batch_<guid>");
  };
  const auto pieces = Split(content_type, ';');
  if (pieces.empty() || !EqualsIgnoreCase(Trim(pieces[0]), "multipart/mixed")) return fail();
  for (size_t i = 1; i < pieces.size(); ++i) {
    std::string_view param = Trim(pieces[i]);
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos || !EqualsIgnoreCase(Trim(param.substr(0, eq)), "boundary")) {
      continue;
    }
    std::string_view v = Trim(param.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    if (v.empty() || v.size() > 70 || v.back() == ' ' || HasControl(v)) return fail();
    return std::string(v);
  }
  return fail();
}

StatusOr<std::vector<BatchPart>> ParseBatch(std::string_view body, std::string_view boundary) {
  const std::string delim = "--" + std::string(boundary);
  std::vector<BatchPart> parts;
  size_t pos = FindDelimiter(body, delim, 0);
  if (pos == std::string_view::npos) return Invalid("it has no part");
  while (true) {
    const size_t after = pos + delim.size();
    if (body.substr(after, 2) == "--") break;  // the close delimiter
    const size_t eol = body.find('\n', after);
    if (eol == std::string_view::npos) return Invalid("it ends inside a delimiter line");
    for (char ch : body.substr(after, eol - after)) {
      if (ch != ' ' && ch != '\t' && ch != '\r') return Invalid("a delimiter line is malformed");
    }
    const size_t start = eol + 1;
    const size_t next = FindDelimiter(body, delim, start);
    if (next == std::string_view::npos) return Invalid("its last part is not closed");
    if (parts.size() == kMaxBatchParts) {
      return Error(Reason::kExceedsMaxBatchRequestCount,
                   "The batch operation exceeds maximum number of allowed subrequests (" +
                       std::to_string(kMaxBatchParts) + "); send the rest in another batch.");
    }
    size_t end = next;
    if (end > start && body[end - 1] == '\n') --end;
    if (end > start && body[end - 1] == '\r') --end;
    TARN_ASSIGN_OR_RETURN(BatchPart part, ParsePart(body.substr(start, end - start), parts.size()));
    parts.push_back(std::move(part));
    pos = next;
  }
  if (parts.empty()) return Invalid("it has no part");
  return parts;
}

std::string FormatBatchResponse(std::string_view boundary, const std::vector<BatchAnswer>& answers) {
  std::string out;
  for (const BatchAnswer& a : answers) {
    out += "--";
    out += boundary;
    out += "\r\nContent-Type: application/http\r\n";
    if (!a.content_id.empty()) out += "Content-ID: " + a.content_id + "\r\n";
    out += "\r\n";
    out += a.http;
    out += "\r\n";
  }
  out += "--";
  out += boundary;
  out += "--\r\n";
  return out;
}

}  // namespace tarn::protocol
