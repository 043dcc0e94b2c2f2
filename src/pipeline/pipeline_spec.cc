#include "pipeline/pipeline_spec.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <queue>
#include <set>
#include <utility>

#include "common/encoding.h"
#include "common/strings.h"
#include "tabular/sql_text.h"
#include "yaml/yaml_reader.h"

namespace tarn::pipeline {
namespace {

using tabular::QuoteIdent;
using tabular::QuoteLiteral;

constexpr size_t kMaxName = 255;
constexpr int64_t kMinFileBytes = int64_t{1} << 20;
constexpr int64_t kMaxFileBytes = int64_t{16} << 30;

Status Invalid(std::string what) { return Status(Code::kInvalidArgument, std::move(what)); }

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsWordChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '_'; }

std::string_view TrimAll(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Words separated by any run of white space, joined by one space.
std::string Collapse(std::string_view s) {
  std::string out;
  bool gap = false;
  for (char c : TrimAll(s)) {
    if (IsSpace(c)) {
      gap = true;
      continue;
    }
    if (gap) out += ' ';
    gap = false;
    out += c;
  }
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// Step, pipeline and expectation names.
bool ValidName(std::string_view s) {
  return !s.empty() && s.size() <= kMaxName &&
         std::all_of(s.begin(), s.end(), [](char c) { return IsWordChar(c) || c == '-'; });
}

bool ValidAlias(std::string_view s) {
  return !s.empty() && s.size() <= kMaxName && !IsDigit(s[0]) &&
         std::all_of(s.begin(), s.end(), IsWordChar) && !EqualsIgnoreCase(s, "output");
}

// Loosely the catalog's rules (it checks again): one name, and no ':' since "name:3" means a
// version of it.
bool ValidDataset(std::string_view s) {
  return !s.empty() && s.size() <= kMaxName && s.find('/') == std::string_view::npos &&
         s.find(':') == std::string_view::npos && !HasControlChar(s) && IsValidUtf8(s);
}

// [+-]digits[.digits], finite.
std::optional<double> ParseNumber(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t i = 0;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == 0) return std::nullopt;
  if (i < s.size() && s[i] == '.') {
    size_t frac = ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == frac) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return negative ? -v : v;
}

// "90s", "15m", "12h", "1d" in seconds.
std::optional<double> ParseDuration(std::string_view s) {
  if (s.size() < 2 || s.size() > 13) return std::nullopt;
  int64_t unit = 0;
  switch (s.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return std::nullopt;
  }
  s.remove_suffix(1);
  if (!std::all_of(s.begin(), s.end(), IsDigit)) return std::nullopt;
  int64_t n = 0;
  if (!ParseInt64(s, &n)) return std::nullopt;
  return static_cast<double>(n) * static_cast<double>(unit);
}

// A double as SQL that reads back as the same value.
std::string SqlNumber(double v) {
  if (std::isnan(v)) return "'nan'::DOUBLE";
  if (std::isinf(v)) return v > 0 ? "'inf'::DOUBLE" : "'-inf'::DOUBLE";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

// pipeline.yaml's reader: the shared checks (yaml/yaml_reader.h) and the pipeline's names,
// datasets, numbers and columns. A bare reader (for ParseCheck, whose caller adds the place)
// gives the message alone and remembers where.
class Reader : public yaml::Reader {
 public:
  using yaml::Reader::Reader;
  static Reader Bare() {
    Reader r("");
    r.bare_ = true;
    return r;
  }

  Status At(const YAML::Mark& m, const std::string& what) const override {
    if (bare_) {
      where_ = m;
      return Invalid(what);
    }
    return yaml::Reader::At(m, what);
  }
  const YAML::Mark& where() const { return where_; }

  // Plain text: a non-empty string without control characters.
  StatusOr<std::string> Line(const YAML::Node& n, const std::string& what) const {
    TARN_ASSIGN_OR_RETURN(std::string s, Text(n, what));
    if (HasControlChar(s) || !IsValidUtf8(s)) {
      return At(n.Mark(), what + " must be text without control characters");
    }
    return s;
  }

  StatusOr<std::string> Name(const YAML::Node& n, const std::string& what) const {
    TARN_ASSIGN_OR_RETURN(std::string s, Text(n, what));
    if (!ValidName(s)) {
      return At(n.Mark(), what + " '" + s + "' must be 1 to 255 letters, digits, '_' or '-'");
    }
    return s;
  }

  StatusOr<std::string> Dataset(const YAML::Node& n, const std::string& what) const {
    TARN_ASSIGN_OR_RETURN(std::string s, Text(n, what));
    if (!ValidDataset(s)) {
      return At(n.Mark(), what + " '" + s +
                              "' is not a dataset name: 1 to 255 characters, no '/', ':' or "
                              "control characters");
    }
    return s;
  }

  StatusOr<double> Number(const YAML::Node& n, const std::string& what) const {
    std::optional<double> v;
    if (n.IsScalar()) v = ParseNumber(TrimAll(n.Scalar()));
    if (!v) return At(n.Mark(), what + " must be a number");
    return *v;
  }

  // A list of distinct column names.
  StatusOr<std::vector<std::string>> Columns(const YAML::Node& n, const std::string& what) const {
    if (!n.IsSequence() || n.size() == 0) {
      return At(n.Mark(), what + " must be a non-empty list of column names");
    }
    std::vector<std::string> out;
    for (const auto& item : n) {
      TARN_ASSIGN_OR_RETURN(std::string c, Line(item, "a column name"));
      if (std::find(out.begin(), out.end(), c) != out.end()) {
        return At(item.Mark(), "column '" + c + "' is listed twice in " + what);
      }
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  bool bare_ = false;
  mutable YAML::Mark where_ = YAML::Mark::null_mark();
};

// A folder of a datastore: relative, no empty, "." or ".." segment; trailing '/' dropped.
std::optional<std::string> CleanPath(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.empty()) return s;
  if (HasControlChar(s) || !IsValidUtf8(s) || s.size() > 1024) return std::nullopt;
  for (std::string_view seg : Split(s, '/')) {
    if (seg.empty() || seg == "." || seg == "..") return std::nullopt;
  }
  return s;
}

StatusOr<int64_t> FileSize(const YAML::Node& n, const Reader& r) {
  const std::string what =
      "target_file_size must be a size from 1MiB to 16GiB: a byte count or a number with KB, MB "
      "or GB (1024-based; KiB, MiB and GiB too)";
  if (!n.IsScalar()) return r.At(n.Mark(), what);
  std::string_view s = TrimAll(n.Scalar());
  size_t i = 0;
  while (i < s.size() && (IsDigit(s[i]) || s[i] == '.')) ++i;
  std::optional<double> v = ParseNumber(s.substr(0, i));
  const std::string unit = ToLower(TrimAll(s.substr(i)));
  double scale = 0;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "kb" || unit == "kib") {
    scale = 1024.0;
  } else if (unit == "mb" || unit == "mib") {
    scale = 1024.0 * 1024;
  } else if (unit == "gb" || unit == "gib") {
    scale = 1024.0 * 1024 * 1024;
  }
  if (!v || scale == 0) return r.At(n.Mark(), what);
  const double bytes = std::floor(*v * scale);
  if (bytes < static_cast<double>(kMinFileBytes) || bytes > static_cast<double>(kMaxFileBytes)) {
    return r.At(n.Mark(), what + "; '" + std::string(s) + "' is out of range");
  }
  return static_cast<int64_t>(bytes);
}

// ----- checks ------------------------------------------------------------------------------

constexpr char kKnownMetrics[] =
    "row_count, missing_count(col), duplicate_count(col, ...), invalid_count(col), "
    "freshness(col), change [percent] for row_count, schema, failed rows";

// The text of a check, left to right.
class CheckText {
 public:
  explicit CheckText(std::string_view s) : s_(s) {}

  bool AtEnd() {
    SkipSpace();
    return i_ >= s_.size();
  }
  std::string_view Rest() {
    SkipSpace();
    return s_.substr(i_);
  }
  bool Eat(std::string_view token) {
    SkipSpace();
    if (s_.substr(i_).starts_with(token)) {
      i_ += token.size();
      return true;
    }
    return false;
  }
  // A run of letters, digits and '_' (lower-cased): "" when none is next.
  std::string Word() {
    SkipSpace();
    size_t start = i_;
    while (i_ < s_.size() && IsWordChar(s_[i_])) ++i_;
    return ToLower(s_.substr(start, i_ - start));
  }
  // A threshold as written: "-20", "+1.5", "12h", "20%".
  std::string_view Value() {
    SkipSpace();
    size_t start = i_;
    while (i_ < s_.size() && (IsWordChar(s_[i_]) || s_[i_] == '.' || s_[i_] == '+' ||
                              s_[i_] == '-' || s_[i_] == '%')) {
      ++i_;
    }
    return s_.substr(start, i_ - start);
  }
  // A column: an identifier, or "double quoted" with "" for a quote.
  StatusOr<std::string> Column() {
    SkipSpace();
    std::string out;
    if (i_ < s_.size() && s_[i_] == '"') {
      ++i_;
      while (true) {
        if (i_ >= s_.size()) return Invalid("a quoted column name is not closed: " + Show());
        if (s_[i_] == '"') {
          if (i_ + 1 < s_.size() && s_[i_ + 1] == '"') {
            out += '"';
            i_ += 2;
            continue;
          }
          ++i_;
          break;
        }
        out += s_[i_++];
      }
      if (out.empty() || HasControlChar(out) || !IsValidUtf8(out)) {
        return Invalid("a quoted column name must be text without control characters");
      }
      return out;
    }
    size_t start = i_;
    while (i_ < s_.size() && IsWordChar(s_[i_])) ++i_;
    out = std::string(s_.substr(start, i_ - start));
    if (out.empty() || IsDigit(out[0])) {
      return Invalid("expected a column name (a plain name, or \"quoted\") at " + Show());
    }
    return out;
  }
  std::string Show() {
    std::string_view rest = Rest();
    return rest.empty() ? "the end" : "'" + std::string(rest) + "'";
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size() && IsSpace(s_[i_])) ++i_;
  }
  std::string_view s_;
  size_t i_ = 0;
};

Status ParseThreshold(CheckText& t, const Check& c, double* out) {
  const std::string_view v = t.Value();
  if (v.empty()) return Invalid("expected a threshold at " + t.Show());
  std::optional<double> n;
  if (c.kind == Check::Kind::kFreshness) {
    n = ParseDuration(v);
    if (!n) {
      return Invalid("freshness thresholds are durations such as 45s, 30m, 12h or 1d, not '" +
                     std::string(v) + "'");
    }
  } else if (c.percent && v.back() == '%') {
    n = ParseNumber(v.substr(0, v.size() - 1));
  } else {
    n = ParseNumber(v);
  }
  if (!n) return Invalid("'" + std::string(v) + "' is not a number");
  *out = *n;
  return Status::Ok();
}

Status ParseComparison(CheckText& t, Check& c) {
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"!=", Op::kNe}, {"<=", Op::kLe}, {">=", Op::kGe},
      {"<", Op::kLt},  {">", Op::kGt},  {"=", Op::kEq}};
  bool found = false;
  for (const auto& [token, op] : kOps) {
    if (t.Eat(token)) {
      c.op = op;
      found = true;
      break;
    }
  }
  if (found) {
    TARN_RETURN_IF_ERROR(ParseThreshold(t, c, &c.threshold));
  } else {
    std::string w = t.Word();
    if (w == "not") {
      w = t.Word();
      c.op = Op::kNotBetween;
    } else {
      c.op = Op::kBetween;
    }
    if (w != "between") {
      return Invalid("expected a comparison (=, !=, <, <=, >, >=, between A and B, not between "
                     "A and B) at " +
                     t.Show());
    }
    TARN_RETURN_IF_ERROR(ParseThreshold(t, c, &c.threshold));
    if (t.Word() != "and") return Invalid("expected 'and' at " + t.Show());
    TARN_RETURN_IF_ERROR(ParseThreshold(t, c, &c.threshold_hi));
    if (c.threshold > c.threshold_hi) {
      return Invalid("between's lower bound is above its upper bound");
    }
  }
  if (!t.AtEnd()) return Invalid("unexpected " + t.Show() + " after the comparison");
  return Status::Ok();
}

// The check's text: its kind, columns and comparison.
Status ParseCheckText(std::string_view text, Check& c) {
  const std::string words = ToLower(Collapse(text));
  if (words == "schema") {
    c.kind = Check::Kind::kSchema;
    return Status::Ok();
  }
  if (words == "failed rows") {
    c.kind = Check::Kind::kFailedRows;
    c.op = Op::kGt;
    c.threshold = 0;
    return Status::Ok();
  }
  CheckText t(text);
  const std::string metric = t.Word();
  if (metric == "change") {
    c.kind = Check::Kind::kChange;
    std::string w = t.Word();
    if (w == "percent") {
      c.percent = true;
      w = t.Word();
    }
    if (w != "for" || t.Word() != "row_count") {
      return Invalid("a change check reads 'change for row_count <comparison>' or 'change "
                     "percent for row_count <comparison>'");
    }
    return ParseComparison(t, c);
  }
  static constexpr std::pair<std::string_view, Check::Kind> kMetrics[] = {
      {"row_count", Check::Kind::kRowCount},
      {"missing_count", Check::Kind::kMissingCount},
      {"duplicate_count", Check::Kind::kDuplicateCount},
      {"invalid_count", Check::Kind::kInvalidCount},
      {"freshness", Check::Kind::kFreshness}};
  bool known = false;
  for (const auto& [name, kind] : kMetrics) {
    if (metric == name) {
      c.kind = kind;
      known = true;
    }
  }
  if (!known) {
    std::string shown = metric.empty() ? std::string(TrimAll(text)) : metric;
    return Invalid("unknown check '" + shown + "' (known: " + kKnownMetrics + ")");
  }
  if (c.kind != Check::Kind::kRowCount) {
    if (!t.Eat("(")) return Invalid(metric + " needs a column: " + metric + "(column)");
    while (true) {
      TARN_ASSIGN_OR_RETURN(std::string col, t.Column());
      if (std::find(c.columns.begin(), c.columns.end(), col) != c.columns.end()) {
        return Invalid("column '" + col + "' is listed twice");
      }
      c.columns.push_back(std::move(col));
      if (t.Eat(")")) break;
      if (!t.Eat(",")) return Invalid("expected ',' or ')' at " + t.Show());
    }
    if (c.kind != Check::Kind::kDuplicateCount && c.columns.size() != 1) {
      return Invalid(metric + " takes one column");
    }
  }
  return ParseComparison(t, c);
}

StatusOr<Check> ParseCheckNode(std::string_view text, const YAML::Node& config, const Reader& r) {
  const YAML::Mark none = YAML::Mark::null_mark();
  Check c;
  c.text = std::string(TrimAll(text));
  if (c.text.empty()) return r.At(none, "a check must not be empty");
  if (HasControlChar(Collapse(c.text)) || !IsValidUtf8(c.text)) {
    return r.At(none, "a check must be text without control characters");
  }
  if (Status s = ParseCheckText(c.text, c); !s.ok()) return r.At(none, s.message());
  const bool has_config = config.IsDefined() && !config.IsNull();
  using K = Check::Kind;
  switch (c.kind) {
    case K::kInvalidCount: {
      static const std::vector<std::string> kKeys = {"valid values", "valid min", "valid max",
                                                     "valid regex"};
      if (!has_config) {
        return r.At(none, "invalid_count needs settings under it: at least one of valid values, "
                          "valid min, valid max or valid regex");
      }
      TARN_RETURN_IF_ERROR(r.Mapping(config, "invalid_count's settings", kKeys));
      if (config.size() == 0) {
        return r.At(config.Mark(), "invalid_count needs at least one of valid values, valid "
                                   "min, valid max or valid regex");
      }
      if (const YAML::Node v = config["valid values"]; v) {
        if (!v.IsSequence() || v.size() == 0) {
          return r.At(v.Mark(), "valid values must be a non-empty list of values");
        }
        for (const auto& item : v) {
          if (!item.IsScalar()) return r.At(item.Mark(), "a valid value must be a plain value");
          c.valid_values.push_back(item.Scalar());
        }
      }
      if (const YAML::Node v = config["valid min"]; v) {
        TARN_ASSIGN_OR_RETURN(c.valid_min, r.Number(v, "valid min"));
      }
      if (const YAML::Node v = config["valid max"]; v) {
        TARN_ASSIGN_OR_RETURN(c.valid_max, r.Number(v, "valid max"));
      }
      if (c.valid_min && c.valid_max && *c.valid_min > *c.valid_max) {
        return r.At(config["valid max"].Mark(), "valid max is below valid min");
      }
      if (const YAML::Node v = config["valid regex"]; v) {
        TARN_ASSIGN_OR_RETURN(c.valid_regex, r.Text(v, "valid regex"));
        RE2::Options options;
        options.set_log_errors(false);
        RE2 re(c.valid_regex, options);
        if (!re.ok()) {
          return r.At(v.Mark(), "valid regex does not compile: " + re.error());
        }
      }
      break;
    }
    case K::kSchema: {
      if (!has_config) {
        return r.At(none, "schema needs 'fail:' under it, with 'when required column missing' "
                          "or 'when wrong column type'");
      }
      TARN_RETURN_IF_ERROR(r.Mapping(config, "schema's settings", {"fail"}));
      const YAML::Node fail = config["fail"];
      if (!fail) return r.At(config.Mark(), "schema needs 'fail:'");
      TARN_RETURN_IF_ERROR(r.Mapping(fail, "schema's fail",
                                     {"when required column missing", "when wrong column type"}));
      if (const YAML::Node v = fail["when required column missing"]; v) {
        TARN_ASSIGN_OR_RETURN(c.required_columns, r.Columns(v, "when required column missing"));
      }
      if (const YAML::Node v = fail["when wrong column type"]; v) {
        if (!v.IsMap() || v.size() == 0) {
          return r.At(v.Mark(), "when wrong column type must map columns to their types");
        }
        for (const auto& kv : v) {
          TARN_ASSIGN_OR_RETURN(std::string col, r.Line(kv.first, "a column name"));
          TARN_ASSIGN_OR_RETURN(std::string type, r.Line(kv.second, "column '" + col + "''s type"));
          if (!c.column_types.emplace(col, Upper(TrimAll(type))).second) {
            return r.At(kv.first.Mark(), "column '" + col + "' is given twice");
          }
        }
      }
      if (c.required_columns.empty() && c.column_types.empty()) {
        return r.At(fail.Mark(), "schema's fail needs 'when required column missing' or 'when "
                                 "wrong column type'");
      }
      break;
    }
    case K::kFailedRows: {
      if (!has_config) return r.At(none, "failed rows needs a 'fail query' under it");
      TARN_RETURN_IF_ERROR(r.Mapping(config, "failed rows' settings", {"name", "fail query"}));
      if (const YAML::Node v = config["name"]; v) {
        TARN_ASSIGN_OR_RETURN(c.name, r.Line(v, "the name of failed rows"));
      }
      const YAML::Node q = config["fail query"];
      if (!q) return r.At(config.Mark(), "failed rows needs a 'fail query'");
      TARN_ASSIGN_OR_RETURN(c.query, r.Text(q, "fail query"));
      std::string_view trimmed = TrimAll(c.query);
      while (!trimmed.empty() && (trimmed.back() == ';' || IsSpace(trimmed.back()))) {
        trimmed.remove_suffix(1);
      }
      if (trimmed.empty()) return r.At(q.Mark(), "fail query must not be empty");
      c.query = std::string(trimmed);
      break;
    }
    default:
      if (has_config) {
        return r.At(config.Mark(), "'" + c.text + "' takes no settings (only invalid_count, "
                                   "schema and failed rows do)");
      }
  }
  return c;
}

// ----- cron --------------------------------------------------------------------------------

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct CronField {
  const char* name;
  int lo, hi;
  const char* const* names;  // names[i] stands for lo + i
  int name_count;
};

std::optional<int> CronValue(std::string_view s, const CronField& f) {
  if (f.names != nullptr) {
    const std::string lower = ToLower(s);
    for (int i = 0; i < f.name_count; ++i) {
      if (lower == f.names[i]) return f.lo + i;
    }
  }
  if (s.empty() || s.size() > 3 || !std::all_of(s.begin(), s.end(), IsDigit)) return std::nullopt;
  int v = 0;
  for (char ch : s) v = v * 10 + (ch - '0');
  if (v < f.lo || v > f.hi) return std::nullopt;
  return v;
}

StatusOr<uint64_t> ParseCronField(std::string_view text, const CronField& f) {
  uint64_t bits = 0;
  auto bad = [&](std::string_view item, const std::string& why) {
    return Invalid(std::string(f.name) + " '" + std::string(item) + "': " + why);
  };
  const std::string range = std::to_string(f.lo) + "-" + std::to_string(f.hi);
  for (std::string_view item : Split(text, ',')) {
    if (item.empty()) return bad(text, "an empty item in a list");
    std::string_view span = item;
    int step = 1;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      span = item.substr(0, slash);
      std::string_view st = item.substr(slash + 1);
      if (st.empty() || st.size() > 3 || !std::all_of(st.begin(), st.end(), IsDigit)) {
        return bad(item, "a step is a number after '/'");
      }
      step = 0;
      for (char ch : st) step = step * 10 + (ch - '0');
      if (step < 1 || step > f.hi - f.lo + 1) return bad(item, "the step is out of range");
    }
    int a = f.lo, b = f.hi;
    if (span != "*") {
      size_t dash = span.find('-');
      std::optional<int> x = CronValue(span.substr(0, dash), f);
      if (!x) return bad(item, "expected *, a number in " + range + " or a range");
      a = *x;
      if (dash != std::string_view::npos) {
        std::optional<int> y = CronValue(span.substr(dash + 1), f);
        if (!y) return bad(item, "a range's end must be a number in " + range);
        if (*y < a) return bad(item, "a range must not run backwards");
        b = *y;
      } else if (span.size() == item.size()) {
        b = a;  // a single value; "5/15" runs from 5 to the end
      }
    }
    for (int v = a; v <= b; v += step) bits |= uint64_t{1} << v;
  }
  return bits;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Howard Hinnant's civil-date algorithms (proleptic Gregorian, days since 1970-01-01).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// ----- the pipeline ------------------------------------------------------------------------

struct Place {
  YAML::Mark step;
  YAML::Mark output_dataset;
};

StatusOr<Input> ParseInput(const YAML::Node& key, const YAML::Node& value, const Reader& r) {
  Input in;
  TARN_ASSIGN_OR_RETURN(in.alias, r.Text(key, "an input alias"));
  if (!ValidAlias(in.alias)) {
    return r.At(key.Mark(), "input alias '" + in.alias +
                                "' must be a plain SQL name ([A-Za-z_][A-Za-z0-9_]*) other than "
                                "'output'");
  }
  YAML::Mark at = value.Mark();
  std::string shorthand_version;
  if (value.IsScalar()) {
    std::string s = value.Scalar();
    if (size_t colon = s.rfind(':'); colon != std::string::npos) {
      shorthand_version = s.substr(colon + 1);
      s.resize(colon);
    }
    if (!ValidDataset(s)) {
      return r.At(value.Mark(), "input '" + in.alias + "': '" + s +
                                    "' is not a dataset name (write dataset, dataset:3 or "
                                    "{dataset: name, version: 3})");
    }
    in.dataset = s;
    if (value.Scalar().find(':') == std::string::npos) return in;
  } else if (value.IsMap()) {
    TARN_RETURN_IF_ERROR(r.Mapping(value, "input '" + in.alias + "'", {"dataset", "version"}));
    if (!value["dataset"]) return r.At(value.Mark(), "input '" + in.alias + "' needs a dataset");
    TARN_ASSIGN_OR_RETURN(in.dataset, r.Dataset(value["dataset"], "input dataset"));
    const YAML::Node version = value["version"];
    if (!version) return in;
    at = version.Mark();
    if (!version.IsScalar()) {
      return r.At(version.Mark(), "a version is 'latest' or a positive number");
    }
    shorthand_version = version.Scalar();
  } else {
    return r.At(value.Mark(), "input '" + in.alias +
                                  "' must be a dataset name, dataset:version or {dataset: name, "
                                  "version: n}");
  }
  int64_t n = 0;
  if (EqualsIgnoreCase(shorthand_version, "latest")) {
    in.version = "latest";
  } else if (!shorthand_version.empty() &&
             std::all_of(shorthand_version.begin(), shorthand_version.end(), IsDigit) &&
             ParseInt64(shorthand_version, &n) && n > 0) {
    in.version = std::to_string(n);
  } else {
    return r.At(at, "input '" + in.alias + "': version '" + shorthand_version +
                        "' must be 'latest' or a positive number");
  }
  return in;
}

StatusOr<Output> ParseOutput(const YAML::Node& n, const std::string& step, const Reader& r) {
  Output out;
  const std::string what = "the output of step '" + step + "'";
  TARN_RETURN_IF_ERROR(r.Mapping(n, what,
                                 {"dataset", "datastore", "path", "partition_by",
                                  "target_file_size"}));
  for (const char* key : {"dataset", "datastore", "path"}) {
    if (!n[key]) return r.At(n.Mark(), what + " needs '" + key + "'");
  }
  TARN_ASSIGN_OR_RETURN(out.dataset, r.Dataset(n["dataset"], "output dataset"));
  TARN_ASSIGN_OR_RETURN(out.datastore, r.Line(n["datastore"], "datastore"));
  TARN_ASSIGN_OR_RETURN(std::string path, r.Text(n["path"], "path"));
  std::optional<std::string> clean;
  if (path[0] != '/') clean = CleanPath(path);
  if (!clean || clean->empty()) {
    return r.At(n["path"].Mark(), "path '" + path +
                                      "' must be a relative folder (no leading '/', no empty, "
                                      "'.' or '..' part, no control characters)");
  }
  out.path = *clean;
  if (const YAML::Node p = n["partition_by"]; p) {
    TARN_ASSIGN_OR_RETURN(out.partition_by, r.Columns(p, "partition_by"));
    for (size_t i = 0; i < out.partition_by.size(); ++i) {
      if (out.partition_by[i].find('/') != std::string::npos) {
        return r.At(p[i].Mark(), "a partition column's name must not hold '/'");
      }
    }
  }
  if (const YAML::Node s = n["target_file_size"]; s) {
    TARN_ASSIGN_OR_RETURN(out.target_file_bytes, FileSize(s, r));
  }
  return out;
}

StatusOr<Step> ParseStep(const YAML::Node& n, const Reader& r, Place* place) {
  Step s;
  TARN_RETURN_IF_ERROR(r.Mapping(n, "a step",
                                 {"name", "inputs", "sql", "expectations", "output", "checks"}));
  s.line = n.Mark().line + 1;
  place->step = n.Mark();
  if (!n["name"]) return r.At(n.Mark(), "a step needs a name");
  TARN_ASSIGN_OR_RETURN(s.name, r.Name(n["name"], "step name"));
  const std::string what = "step '" + s.name + "'";
  if (const YAML::Node in = n["inputs"]; in && !in.IsNull()) {
    if (!in.IsMap()) {
      return r.At(in.Mark(), what + ": inputs must map aliases to datasets (sales: pos_raw)");
    }
    std::set<std::string> aliases;
    for (const auto& kv : in) {
      TARN_ASSIGN_OR_RETURN(Input input, ParseInput(kv.first, kv.second, r));
      if (!aliases.insert(ToLower(input.alias)).second) {
        return r.At(kv.first.Mark(), what + ": input alias '" + input.alias + "' is used twice");
      }
      s.inputs.push_back(std::move(input));
    }
  }
  if (!n["sql"]) return r.At(n.Mark(), what + " needs 'sql': one SELECT over its inputs");
  TARN_ASSIGN_OR_RETURN(s.sql, r.Text(n["sql"], what + "'s sql"));
  if (TrimAll(s.sql).empty()) return r.At(n["sql"].Mark(), what + "'s sql must not be empty");
  if (const YAML::Node ex = n["expectations"]; ex && !ex.IsNull()) {
    if (!ex.IsSequence()) return r.At(ex.Mark(), what + ": expectations must be a list");
    for (const auto& item : ex) {
      TARN_RETURN_IF_ERROR(r.Mapping(item, "an expectation", {"name", "expect", "on_fail"}));
      Expectation e;
      if (!item["name"] || !item["expect"]) {
        return r.At(item.Mark(), "an expectation needs a name and 'expect' (a SQL condition)");
      }
      TARN_ASSIGN_OR_RETURN(e.name, r.Name(item["name"], "expectation name"));
      for (const Expectation& other : s.expectations) {
        if (other.name == e.name) {
          return r.At(item["name"].Mark(), what + ": expectation '" + e.name + "' is given twice");
        }
      }
      TARN_ASSIGN_OR_RETURN(e.condition, r.Text(item["expect"], "expect"));
      if (TrimAll(e.condition).empty()) return r.At(item["expect"].Mark(), "expect is empty");
      if (const YAML::Node f = item["on_fail"]; f) {
        const std::string v = f.IsScalar() ? f.Scalar() : "";
        if (v == "warn") {
          e.on_fail = OnFail::kWarn;
        } else if (v == "drop") {
          e.on_fail = OnFail::kDrop;
        } else if (v == "fail") {
          e.on_fail = OnFail::kFail;
        } else {
          return r.At(f.Mark(), "on_fail must be warn, drop or fail");
        }
      }
      s.expectations.push_back(std::move(e));
    }
  }
  if (!n["output"]) return r.At(n.Mark(), what + " needs an output");
  TARN_ASSIGN_OR_RETURN(s.output, ParseOutput(n["output"], s.name, r));
  const YAML::Node out_dataset = n["output"]["dataset"];
  place->output_dataset = out_dataset.Mark();
  if (const YAML::Node checks = n["checks"]; checks && !checks.IsNull()) {
    if (!checks.IsSequence()) return r.At(checks.Mark(), what + ": checks must be a list");
    for (const auto& entry : checks) {
      std::string text;
      YAML::Node config;
      YAML::Mark at = entry.Mark();
      if (entry.IsScalar()) {
        text = entry.Scalar();
      } else if (entry.IsMap() && entry.size() == 1) {
        for (const auto& kv : entry) {
          if (!kv.first.IsScalar()) return r.At(kv.first.Mark(), "a check must be text");
          text = kv.first.Scalar();
          config = kv.second;
          at = kv.first.Mark();
        }
      } else {
        return r.At(at, "a check is its text (row_count > 0), or its text with its settings "
                        "indented under it (invalid_count(x) = 0: {valid values: [a, b]})");
      }
      const Reader bare = Reader::Bare();
      StatusOr<Check> c = ParseCheckNode(text, config, bare);
      if (!c.ok()) {
        const YAML::Mark where = bare.where().is_null() ? at : bare.where();
        return r.At(where, "check '" + std::string(TrimAll(text)) + "': " + c.status().message());
      }
      c->line = at.line + 1;
      s.checks.push_back(std::move(*c));
    }
  }
  return s;
}

// Run order: a step after the steps whose outputs it reads, otherwise in file order.
Status OrderSteps(std::vector<Step>& steps, const std::vector<Place>& places, const Reader& r) {
  const size_t n = steps.size();
  std::map<std::string, size_t> producer;
  for (size_t i = 0; i < n; ++i) producer[steps[i].output.dataset] = i;
  std::vector<std::vector<size_t>> deps(n), users(n);
  for (size_t i = 0; i < n; ++i) {
    std::set<size_t> from;
    for (const Input& in : steps[i].inputs) {
      if (auto it = producer.find(in.dataset); it != producer.end()) from.insert(it->second);
    }
    deps[i].assign(from.begin(), from.end());
    for (size_t j : deps[i]) users[j].push_back(i);
  }
  std::vector<size_t> waiting(n);
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < n; ++i) {
    waiting[i] = deps[i].size();
    if (waiting[i] == 0) ready.push(i);
  }
  std::vector<size_t> order;
  std::vector<bool> done(n, false);
  while (!ready.empty()) {
    const size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    done[i] = true;
    for (size_t u : users[i]) {
      if (--waiting[u] == 0) ready.push(u);
    }
  }
  if (order.size() < n) {
    // Every step left waits on another step left: walk back along its inputs until one repeats.
    size_t cur = 0;
    while (done[cur]) ++cur;
    std::vector<size_t> path;
    std::map<size_t, size_t> seen;  // step -> position in path
    while (!seen.count(cur)) {
      seen[cur] = path.size();
      path.push_back(cur);
      for (size_t j : deps[cur]) {
        if (!done[j]) {
          cur = j;
          break;
        }
      }
    }
    std::vector<size_t> cycle(path.begin() + static_cast<std::ptrdiff_t>(seen[cur]), path.end());
    std::reverse(cycle.begin(), cycle.end());  // in the direction the data flows
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
    std::vector<std::string> names;
    for (size_t i : cycle) names.push_back(steps[i].name);
    names.push_back(steps[cycle.front()].name);
    return r.At(places[cycle.front()].step,
                "steps form a cycle: " + Join(names, " -> ") +
                    " (each reads the dataset the one before it writes)");
  }
  std::vector<Step> sorted;
  sorted.reserve(n);
  for (size_t i : order) sorted.push_back(std::move(steps[i]));
  steps = std::move(sorted);
  return Status::Ok();
}

StatusOr<Pipeline> Parse(const YAML::Node& root, const Reader& r) {
  Pipeline p;
  TARN_RETURN_IF_ERROR(r.Mapping(root, "the pipeline",
                                 {"version", "name", "schedule", "on_arrival", "steps"}));
  if (!root["version"] || !root["version"].IsScalar() || root["version"].Scalar() != "1") {
    return r.At(root["version"] ? root["version"].Mark() : root.Mark(),
                "'version: 1' is required (the only version there is)");
  }
  if (!root["name"]) return r.At(root.Mark(), "the pipeline needs a name");
  TARN_ASSIGN_OR_RETURN(p.name, r.Name(root["name"], "pipeline name"));
  if (const YAML::Node s = root["schedule"]; s && !s.IsNull()) {
    TARN_ASSIGN_OR_RETURN(std::string text, r.Text(s, "schedule"));
    StatusOr<Cron> cron = ParseCron(text);
    if (!cron.ok()) return r.At(s.Mark(), cron.status().message());
    p.schedule = std::move(*cron);
  }
  if (const YAML::Node a = root["on_arrival"]; a && !a.IsNull()) {
    if (!a.IsSequence()) {
      return r.At(a.Mark(), "on_arrival must be a list of {datastore: name, path: folder}");
    }
    for (const auto& item : a) {
      TARN_RETURN_IF_ERROR(r.Mapping(item, "an on_arrival entry", {"datastore", "path"}));
      Arrival arrival;
      if (!item["datastore"]) return r.At(item.Mark(), "an on_arrival entry needs a datastore");
      TARN_ASSIGN_OR_RETURN(arrival.datastore, r.Line(item["datastore"], "datastore"));
      if (const YAML::Node path = item["path"]; path && !path.IsNull()) {
        std::optional<std::string> clean;
        if (path.IsScalar() && (path.Scalar().empty() || path.Scalar()[0] != '/')) {
          clean = CleanPath(path.Scalar());
        }
        if (!clean) {
          return r.At(path.Mark(), "path must be a relative folder (no leading '/', no empty, "
                                   "'.' or '..' part, no control characters)");
        }
        arrival.path = *clean;
      }
      for (const Arrival& other : p.on_arrival) {
        if (other.datastore == arrival.datastore && other.path == arrival.path) {
          return r.At(item.Mark(), "this on_arrival entry is given twice");
        }
      }
      p.on_arrival.push_back(std::move(arrival));
    }
  }
  const YAML::Node steps = root["steps"];
  if (!steps || !steps.IsSequence() || steps.size() == 0) {
    return r.At(steps ? steps.Mark() : root.Mark(), "'steps' must be a non-empty list of steps");
  }
  std::vector<Place> places;
  std::map<std::string, size_t> names, outputs;
  for (const auto& item : steps) {
    Place place;
    TARN_ASSIGN_OR_RETURN(Step s, ParseStep(item, r, &place));
    if (auto [it, fresh] = names.emplace(s.name, p.steps.size()); !fresh) {
      return r.At(item["name"].Mark(), "step name '" + s.name + "' is used twice");
    }
    if (auto [it, fresh] = outputs.emplace(s.output.dataset, p.steps.size()); !fresh) {
      return r.At(place.output_dataset, "steps '" + p.steps[it->second].name + "' and '" + s.name +
                                            "' both write dataset '" + s.output.dataset + "'");
    }
    places.push_back(place);
    p.steps.push_back(std::move(s));
  }
  TARN_RETURN_IF_ERROR(OrderSteps(p.steps, places, r));
  return p;
}

}  // namespace

std::string_view OnFailName(OnFail a) {
  switch (a) {
    case OnFail::kWarn:
      return "warn";
    case OnFail::kDrop:
      return "drop";
    case OnFail::kFail:
      return "fail";
  }
  return "warn";
}

bool Passes(const Check& c, double value) {
  if (c.kind == Check::Kind::kSchema || std::isnan(value)) return false;
  if (c.kind == Check::Kind::kFailedRows) return value == 0;
  switch (c.op) {
    case Op::kEq:
      return value == c.threshold;
    case Op::kNe:
      return value != c.threshold;
    case Op::kLt:
      return value < c.threshold;
    case Op::kLe:
      return value <= c.threshold;
    case Op::kGt:
      return value > c.threshold;
    case Op::kGe:
      return value >= c.threshold;
    case Op::kBetween:
      return value >= c.threshold && value <= c.threshold_hi;
    case Op::kNotBetween:
      return !(value >= c.threshold && value <= c.threshold_hi);
  }
  return false;
}

namespace {

std::string ColumnList(const Check& c) {
  std::vector<std::string> quoted;
  for (const auto& col : c.columns) quoted.push_back(QuoteIdent(col));
  return Join(quoted, ", ");
}

// invalid_count: a non-null value that fails one of the rules (never NULL itself).
std::string InvalidCondition(const Check& c) {
  const std::string col = QuoteIdent(c.columns.front());
  std::vector<std::string> valid;
  if (!c.valid_values.empty()) {
    std::vector<std::string> literals;
    for (const auto& v : c.valid_values) literals.push_back(QuoteLiteral(v));
    valid.push_back("CAST(" + col + " AS VARCHAR) IN (" + Join(literals, ", ") + ")");
  }
  if (c.valid_min) {
    valid.push_back("coalesce(TRY_CAST(" + col + " AS DOUBLE) >= " + SqlNumber(*c.valid_min) +
                    ", false)");
  }
  if (c.valid_max) {
    valid.push_back("coalesce(TRY_CAST(" + col + " AS DOUBLE) <= " + SqlNumber(*c.valid_max) +
                    ", false)");
  }
  if (!c.valid_regex.empty()) {
    valid.push_back("regexp_full_match(CAST(" + col + " AS VARCHAR), " +
                    QuoteLiteral(c.valid_regex) + ")");
  }
  if (valid.empty()) valid.push_back("true");
  return col + " IS NOT NULL AND NOT coalesce(" + Join(valid, " AND ") + ", false)";
}

// The failed rows' query as a subquery; on lines of its own so that a trailing comment in it
// cannot swallow what follows.
std::string FailedRowsFrom(const Check& c) { return "(\n" + c.query + "\n) AS failed_rows"; }

bool NeedsColumns(Check::Kind k) {
  return k == Check::Kind::kMissingCount || k == Check::Kind::kDuplicateCount ||
         k == Check::Kind::kInvalidCount || k == Check::Kind::kFreshness;
}

}  // namespace

std::string MetricAggregate(const Check& c) {
  using K = Check::Kind;
  if (NeedsColumns(c.kind) && c.columns.empty()) return "";
  switch (c.kind) {
    case K::kRowCount:
      return "count(*)";
    case K::kMissingCount:
      return "count(*) FILTER (WHERE " + QuoteIdent(c.columns.front()) + " IS NULL)";
    case K::kInvalidCount:
      return "count(*) FILTER (WHERE " + InvalidCondition(c) + ")";
    case K::kFreshness:
      return "epoch(now()) - epoch(max(CAST(" + QuoteIdent(c.columns.front()) +
             " AS TIMESTAMP)))";
    default:
      return "";
  }
}

std::string MetricSql(const Check& c) {
  using K = Check::Kind;
  if (NeedsColumns(c.kind) && c.columns.empty()) return "";
  if (std::string agg = MetricAggregate(c); !agg.empty()) {
    return "SELECT (" + agg + ")::DOUBLE FROM output";
  }
  switch (c.kind) {
    case K::kRowCount:
    case K::kMissingCount:
    case K::kInvalidCount:
    case K::kFreshness:
      return "";
    case K::kDuplicateCount:
      return "SELECT coalesce(sum(n - 1), 0)::DOUBLE FROM (SELECT count(*) AS n FROM output "
             "GROUP BY " +
             ColumnList(c) + " HAVING count(*) > 1) AS duplicate_keys";
    case K::kFailedRows:
      if (c.query.empty()) return "";
      return "SELECT count(*)::DOUBLE FROM " + FailedRowsFrom(c);
    case K::kSchema:
    case K::kChange:
      return "";
  }
  return "";
}

std::string FailingRowsSql(const Check& c, int limit) {
  using K = Check::Kind;
  if (NeedsColumns(c.kind) && c.columns.empty()) return "";
  const std::string lim = " LIMIT " + std::to_string(std::max(limit, 0));
  switch (c.kind) {
    case K::kMissingCount:
      return "SELECT * FROM output WHERE " + QuoteIdent(c.columns.front()) + " IS NULL" + lim;
    case K::kDuplicateCount:
      // A window count keeps rows whose key is NULL together, as GROUP BY does in MetricSql.
      return "SELECT * FROM output QUALIFY count(*) OVER (PARTITION BY " + ColumnList(c) +
             ") > 1 ORDER BY " + ColumnList(c) + lim;
    case K::kInvalidCount:
      return "SELECT * FROM output WHERE " + InvalidCondition(c) + lim;
    case K::kFailedRows:
      if (c.query.empty()) return "";
      return "SELECT * FROM " + FailedRowsFrom(c) + lim;
    case K::kRowCount:
    case K::kFreshness:
    case K::kSchema:
    case K::kChange:
      return "";
  }
  return "";
}

StatusOr<Cron> ParseCron(std::string_view text) {
  Cron c;
  c.text = Collapse(text);
  std::vector<std::string_view> fields;
  for (std::string_view f : Split(c.text, ' ')) {
    if (!f.empty()) fields.push_back(f);
  }
  if (fields.size() != 5) {
    return Invalid("a schedule is five fields, in UTC: minute hour day-of-month month "
                   "day-of-week (\"0 2 * * *\"); '" +
                   c.text + "' has " + std::to_string(fields.size()));
  }
  static constexpr CronField kFields[] = {
      {"minute", 0, 59, nullptr, 0},
      {"hour", 0, 23, nullptr, 0},
      {"day of month", 1, 31, nullptr, 0},
      {"month", 1, 12, kMonthNames, 12},
      {"day of week", 0, 7, kDayNames, 7},
  };
  uint64_t bits[5] = {};
  for (int i = 0; i < 5; ++i) {
    StatusOr<uint64_t> b = ParseCronField(fields[i], kFields[i]);
    if (!b.ok()) return Invalid("schedule '" + c.text + "': " + b.status().message());
    bits[i] = *b;
  }
  c.minutes = bits[0];
  c.hours = static_cast<uint32_t>(bits[1]);
  c.days = static_cast<uint32_t>(bits[2]);
  c.months = static_cast<uint32_t>(bits[3]);
  c.weekdays = static_cast<uint32_t>((bits[4] | (bits[4] >> 7)) & 0x7f);  // 7 is Sunday
  // As crontab(5): a day field is restricted unless it starts with '*'.
  c.any_day = fields[2][0] == '*';
  c.any_weekday = fields[4][0] == '*';
  return c;
}

int64_t NextFire(const Cron& c, int64_t after_unix_s) {
  constexpr int64_t kFirst = -62135596800;   // 0001-01-01T00:00:00Z
  constexpr int64_t kLast = 253402300799;    // 9999-12-31T23:59:59Z
  // Eight years and a month: long enough to reach the next 29 February from any date.
  constexpr int64_t kHorizon = 3000 * int64_t{86400};
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  if (after_unix_s > kLast) return kNever;
  if (c.minutes == 0 || c.hours == 0 || c.months == 0) return kNever;
  int64_t t = FloorDiv(std::max(after_unix_s, kFirst - 1), 60) * 60 + 60;
  const int64_t end = t + kHorizon;
  while (t <= end) {
    const int64_t day = FloorDiv(t, 86400);
    const int64_t second = t - day * 86400;
    const int hour = static_cast<int>(second / 3600);
    const int minute = static_cast<int>(second % 3600 / 60);
    int64_t y = 0;
    unsigned m = 0, d = 0;
    CivilFromDays(day, &y, &m, &d);
    if (((c.months >> m) & 1) == 0) {
      t = DaysFromCivil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400;
      continue;
    }
    const int64_t weekday = ((day % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday
    const bool dom = (c.days >> d) & 1, dow = (c.weekdays >> weekday) & 1;
    const bool day_ok = (c.any_day || c.any_weekday) ? (dom && dow) : (dom || dow);
    if (!day_ok) {
      t = (day + 1) * 86400;
      continue;
    }
    if (((c.hours >> hour) & 1) == 0) {
      t = day * 86400 + (hour + 1) * int64_t{3600};
      continue;
    }
    if (((c.minutes >> minute) & 1) == 0) {
      t += 60;
      continue;
    }
    return t;
  }
  return kNever;
}

StatusOr<Check> ParseCheck(std::string_view text, std::string_view config_yaml) {
  try {
    YAML::Node config;
    if (!TrimAll(config_yaml).empty()) {
      try {
        config = YAML::Load(std::string(config_yaml));
      } catch (const YAML::Exception& e) {
        return Invalid("the check's settings are not valid YAML: " + e.msg);
      }
    }
    return ParseCheckNode(text, config, Reader::Bare());
  } catch (const YAML::Exception& e) {
    return Invalid(e.msg);
  }
}

StatusOr<Pipeline> ParsePipeline(std::string_view text, const std::string& file) {
  Reader r(file);
  TARN_ASSIGN_OR_RETURN(YAML::Node root, yaml::Load(text, r));
  try {
    return Parse(root, r);
  } catch (const YAML::Exception& e) {  // a conversion yaml-cpp refused
    return r.At(e.mark, e.msg);
  }
}

}  // namespace tarn::pipeline
