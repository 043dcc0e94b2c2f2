#include "tabular/partition.h"

#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include <re2/re2.h>

#include "common/encoding.h"
#include "tabular/tabular.h"

namespace tarn::tabular {
namespace {

Status Invalid(const std::string& msg) { return Error(Reason::kInvalidInput, msg); }

// One piece of a .NET-style datetime format: a field (index into year..second, 6 = milliseconds)
// or literal text.
struct DatetimePiece {
  int field = -1;
  std::string literal;
};

struct DatetimeToken {
  const char* text;
  int field;
  const char* strptime;
  const char* regex;
};

constexpr DatetimeToken kDatetimeTokens[] = {
    {"yyyy", 0, "%Y", "(\\d{4})"}, {"MM", 1, "%m", "(\\d{2})"}, {"dd", 2, "%d", "(\\d{2})"},
    {"HH", 3, "%H", "(\\d{2})"},   {"mm", 4, "%M", "(\\d{2})"}, {"ss", 5, "%S", "(\\d{2})"},
    {"fff", 6, "%g", "(\\d{3})"},
};

StatusOr<std::vector<DatetimePiece>> SplitDatetimeFormat(const std::string& fmt) {
  std::vector<DatetimePiece> out;
  for (size_t i = 0; i < fmt.size();) {
    if (!std::isalpha(static_cast<unsigned char>(fmt[i]))) {
      if (out.empty() || out.back().field >= 0) out.push_back({});
      out.back().literal += fmt[i++];
      continue;
    }
    bool found = false;
    for (const DatetimeToken& t : kDatetimeTokens) {
      const std::string text = t.text;
      if (fmt.compare(i, text.size(), text) == 0) {
        out.push_back({t.field, ""});
        i += text.size();
        found = true;
        break;
      }
    }
    if (!found) {
      return Invalid("datetime format '" + fmt + "': unknown token at '" + fmt.substr(i) +
                     "' (yyyy MM dd HH mm ss fff)");
    }
  }
  return out;
}

std::string RegexEscape(char c) {
  static const std::string kSpecial = "\\^$.|?*+()[]{}";
  return kSpecial.find(c) != std::string::npos ? std::string("\\") + c : std::string(1, c);
}

std::string StripLeadingSlash(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && s[i] == '/') ++i;
  return s.substr(i);
}

}  // namespace

StatusOr<std::string> StrptimeFormat(const std::string& format) {
  if (format.find('%') != std::string::npos) return format;
  TARN_ASSIGN_OR_RETURN(std::vector<DatetimePiece> pieces, SplitDatetimeFormat(format));
  std::string out;
  for (const DatetimePiece& p : pieces) {
    out += p.field >= 0 ? kDatetimeTokens[p.field].strptime : p.literal;
  }
  return out;
}

StatusOr<PartitionPattern> PartitionPattern::Compile(const std::string& partition_format) {
  PartitionPattern p;
  p.format_ = partition_format;
  const std::string fmt = StripLeadingSlash(partition_format);
  std::string re = "^(?:.*/)?";
  std::set<std::string> seen;
  int group = 0;
  for (size_t i = 0; i < fmt.size();) {
    const char c = fmt[i];
    if (c == '}')
      return Invalid("partition_format: unbalanced '}' at position " + std::to_string(i));
    if (c == '*') {
      const bool deep = i + 1 < fmt.size() && fmt[i + 1] == '*';
      re += deep ? ".*" : "[^/]*";
      i += deep ? 2 : 1;
      continue;
    }
    if (c == '?') {
      re += "[^/]";
      ++i;
      continue;
    }
    if (c != '{') {
      re += RegexEscape(c);
      ++i;
      continue;
    }
    const size_t close = fmt.find('}', i);
    if (close == std::string::npos) {
      return Invalid("partition_format: unbalanced '{' at position " + std::to_string(i));
    }
    const std::string body = fmt.substr(i + 1, close - i - 1);
    const size_t colon = body.find(':');
    PartitionKey key{body.substr(0, colon), colon != std::string::npos};
    if (key.name.empty() || key.name.find_first_of("{/") != std::string::npos) {
      return Invalid("partition_format: bad key name '{" + body + "}'");
    }
    if (!seen.insert(key.name).second) {
      return Invalid("partition_format: key '" + key.name + "' appears twice");
    }
    Capture cap;
    if (!key.datetime) {
      re += "([^/]+)";
      cap.group = ++group;
    } else {
      StatusOr<std::vector<DatetimePiece>> pieces = SplitDatetimeFormat(body.substr(colon + 1));
      if (!pieces.ok()) return Invalid("partition_format: " + pieces.status().message());
      bool has_year = false;
      for (const DatetimePiece& piece : *pieces) {
        if (piece.field < 0) {
          for (char l : piece.literal) re += RegexEscape(l);
        } else if (piece.field < 6) {
          re += kDatetimeTokens[piece.field].regex;
          cap.datetime_groups[piece.field] = ++group;
          has_year = has_year || piece.field == 0;
        } else {
          re += kDatetimeTokens[piece.field].regex;
          ++group;  // milliseconds: matched, not kept
        }
      }
      if (!has_year) return Invalid("partition_format: key '" + key.name + "' needs yyyy");
    }
    p.keys_.push_back(std::move(key));
    p.captures_.push_back(cap);
    i = close + 1;
  }
  re += "$";
  RE2::Options options;
  options.set_log_errors(false);
  options.set_dot_nl(true);
  auto compiled = std::make_shared<const RE2>(re, options);
  if (!compiled->ok()) {
    return Invalid("partition_format '" + partition_format + "' cannot be compiled: " +
                   compiled->error());
  }
  p.re_ = std::move(compiled);
  return p;
}

StatusOr<std::vector<std::string>> PartitionPattern::Match(const std::string& path) const {
  const std::string rel = StripLeadingSlash(path);
  const int groups = re_->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> m(static_cast<size_t>(groups) + 1);
  if (!re_->Match(rel, 0, rel.size(), RE2::ANCHOR_BOTH, m.data(), groups + 1)) {
    return Invalid(path + ": path does not match partition_format '" + format_ + "'");
  }
  std::vector<std::string> values;
  for (const Capture& cap : captures_) {
    if (cap.group > 0) {
      values.emplace_back(m[cap.group].data(), m[cap.group].size());
      continue;
    }
    int v[6] = {1970, 1, 1, 0, 0, 0};
    for (int f = 0; f < 6; ++f) {
      if (cap.datetime_groups[f] > 0) v[f] = std::stoi(std::string(m[cap.datetime_groups[f]].data(), m[cap.datetime_groups[f]].size()));
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59) {
      return Invalid(path + ": not a valid date and time for partition_format '" + format_ + "'");
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", v[0], v[1], v[2], v[3], v[4],
                  v[5]);
    values.push_back(buf);
  }
  return values;
}

std::vector<std::pair<std::string, std::string>> HivePartitions(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  for (size_t slash = path.find('/'); slash != std::string::npos;
       start = slash + 1, slash = path.find('/', start)) {
    const std::string seg = path.substr(start, slash - start);
    const size_t eq = seg.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::optional<std::string> value = PercentDecode(seg.substr(eq + 1));
    out.emplace_back(seg.substr(0, eq), value ? *value : seg.substr(eq + 1));
  }
  return out;
}

StatusOr<std::vector<std::string>> PartitionKeys(const std::string& partition_format) {
  std::vector<std::string> names;
  if (partition_format.empty()) return names;
  TARN_ASSIGN_OR_RETURN(PartitionPattern p, PartitionPattern::Compile(partition_format));
  for (const PartitionKey& k : p.keys()) names.push_back(k.name);
  return names;
}

StatusOr<std::map<std::string, std::string>> PartitionValues(const std::string& partition_format,
                                                             const std::string& path) {
  std::map<std::string, std::string> out;
  if (partition_format.empty()) {
    for (auto& [k, v] : HivePartitions(path)) out.emplace(k, v);
    return out;
  }
  TARN_ASSIGN_OR_RETURN(PartitionPattern p, PartitionPattern::Compile(partition_format));
  TARN_ASSIGN_OR_RETURN(std::vector<std::string> values, p.Match(path));
  for (size_t i = 0; i < values.size(); ++i) out[p.keys()[i].name] = values[i];
  return out;
}

}  // namespace tarn::tabular
