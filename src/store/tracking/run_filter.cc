#include "store/tracking/run_filter.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "common/strings.h"

namespace tarn::tracking {
namespace {

Status Invalid(std::string message) {
  return Error(Reason::kMlflowInvalidParameterValue, std::move(message));
}

// The length of the well-formed UTF-8 sequence at s[i] (as RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), 0 if there is none.
size_t Utf8Length(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = at(0);
  if (c < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + len > s.size() || at(1) < lo || at(1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((at(k) & 0xc0) != 0x80) return 0;
  }
  return len;
}

std::string Quoted(std::string_view s) { return QuoteForMessage(s); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Letters, '_' and non-ASCII bytes (UTF-8 letters) begin a bare identifier.
bool IsWordStart(char c) {
  return IsAsciiLetter(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
// The characters of a bare key; the entity before the dot takes the same but '.'.
bool IsKeyChar(char c) {
  return IsWordStart(c) || IsDigit(c) || c == '-' || c == '.' || c == '/';
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

struct EntityAlias {
  std::string_view name;
  Entity entity;
};
constexpr std::array<EntityAlias, 14> kEntityAliases{{
    {"metric", Entity::kMetric},       {"metrics", Entity::kMetric},
    {"param", Entity::kParam},         {"params", Entity::kParam},
    {"parameter", Entity::kParam},     {"parameters", Entity::kParam},
    {"tag", Entity::kTag},             {"tags", Entity::kTag},
    {"attribute", Entity::kAttribute}, {"attributes", Entity::kAttribute},
    {"attr", Entity::kAttribute},      {"run", Entity::kAttribute},
    {"dataset", Entity::kDataset},     {"datasets", Entity::kDataset},
}};

struct AttributeAlias {
  std::string_view name;
  std::string_view key;  // the normalized key
  bool orderable;
};
// MLflow's RunInfo searchable attributes with SearchUtils' aliases ("run name" cannot order).
constexpr std::array<AttributeAlias, 12> kAttributeAliases{{
    {"run_id", "run_id", true},
    {"run_name", "run_name", true},
    {"run name", "run_name", false},
    {"Run name", "run_name", false},
    {"Run Name", "run_name", false},
    {"status", "status", true},
    {"user_id", "user_id", true},
    {"artifact_uri", "artifact_uri", true},
    {"start_time", "start_time", true},
    {"created", "start_time", true},
    {"Created", "start_time", true},
    {"end_time", "end_time", true},
}};

constexpr std::array<std::string_view, 3> kDatasetKeys{"name", "digest", "context"};

bool IsNumericAttribute(std::string_view key) { return key == "start_time" || key == "end_time"; }

bool IsNumericClause(Entity entity, std::string_view key) {
  return entity == Entity::kMetric || (entity == Entity::kAttribute && IsNumericAttribute(key));
}

// The comparators a clause on (entity, key) may use, as MLflow's SearchUtils allows them.
std::vector<std::string_view> AllowedOps(Entity entity, std::string_view key) {
  switch (entity) {
    case Entity::kMetric:
      return {"=", "!=", ">", ">=", "<", "<="};
    case Entity::kParam:
    case Entity::kTag:
      return {"=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"};
    case Entity::kAttribute:
      if (IsNumericAttribute(key)) return {"=", "!=", ">", ">=", "<", "<="};
      if (key == "run_id") return {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"};
      return {"=", "!=", "LIKE", "ILIKE"};
    case Entity::kDataset:
      return {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"};
  }
  return {};
}

std::string JoinList(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::string_view s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

struct Identifier {
  Entity entity = Entity::kAttribute;
  std::string key{};
  std::string written{};  // the identifier as written, for messages
  bool has_entity = false;
};

// A recursive-descent reader over one filter or order-by string. Positions are byte offsets.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0';
  }
  size_t pos() const { return pos_; }
  void Advance(size_t n) { pos_ += n; }
  std::string_view Rest() const { return s_.substr(pos_); }

  // What follows, for "found ..." in messages.
  std::string Found() const {
    if (AtEnd()) return "the end of the string";
    size_t end = pos_;
    if (IsKeyChar(s_[end])) {
      while (end < s_.size() && IsKeyChar(s_[end])) ++end;
    } else {
      end = pos_ + 1;
    }
    return Quoted(s_.substr(pos_, end - pos_));
  }

  // An ASCII keyword (letters only) at the cursor, not consumed; "" if none.
  std::string_view PeekKeyword() const {
    size_t end = pos_;
    while (end < s_.size() && IsAsciiLetter(s_[end])) ++end;
    if (end == pos_ || (end < s_.size() && IsKeyChar(s_[end]))) return {};
    return s_.substr(pos_, end - pos_);
  }
  bool ConsumeKeyword(std::string_view word) {
    std::string_view k = PeekKeyword();
    if (k.empty() || !EqualsIgnoreCase(k, word)) return false;
    pos_ += k.size();
    return true;
  }

  // A string quoted with q (' " or `) at the cursor. A doubled quote stands for one; a backslash
  // and the character after it are kept as written (except in backticks).
  StatusOr<std::string> ReadQuoted() {
    char q = s_[pos_];
    size_t start = pos_++;
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == q) {
        if (Peek(1) == q) {
          out += q;
          pos_ += 2;
          continue;
        }
        ++pos_;
        return out;
      }
      if (c == '\\' && q != '`' && pos_ + 1 < s_.size()) {
        out.append(s_.substr(pos_, 2));
        pos_ += 2;
        continue;
      }
      out += c;
      ++pos_;
    }
    return Invalid("Unterminated string " + Quoted(s_.substr(start)) + " at position " +
                   std::to_string(start) + ": close it with " + std::string(1, q));
  }

  // `<entity>.<key>` or a bare attribute key. `what` names the context in messages.
  StatusOr<Identifier> ReadIdentifier(const char* what) {
    size_t start = pos_;
    char c = Peek();
    if (AtEnd()) return Invalid(std::string("Missing ") + what + " at the end of the string");
    if (c == '(' || c == ')') {
      return Invalid("Parentheses are not supported in a search filter (found " + Found() +
                     " at position " + std::to_string(pos_) +
                     "): clauses can only be joined by AND, and only IN / NOT IN take a "
                     "parenthesized list of values");
    }
    std::string first;
    bool first_quoted = false;
    if (c == '`' || c == '"') {
      TARN_ASSIGN_OR_RETURN(first, ReadQuoted());
      first_quoted = true;
    } else if (IsWordStart(c)) {
      while (pos_ < s_.size() && IsKeyChar(s_[pos_]) && s_[pos_] != '.') first += s_[pos_++];
    } else {
      return Invalid(std::string("Expected ") + what +
                     " such as metrics.<key>, params.<key>, tags.<key>, attributes.<key> or "
                     "datasets.<key> at position " +
                     std::to_string(pos_) + ", found " + Found());
    }
    if (!first_quoted && (EqualsIgnoreCase(first, "AND") || EqualsIgnoreCase(first, "OR"))) {
      pos_ = start;
      return Invalid(std::string("Expected ") + what + " at position " + std::to_string(pos_) +
                     ", found " + Quoted(first));
    }
    Identifier id;
    if (Peek() != '.') {
      // No entity: MLflow reads a lone identifier as an attribute key.
      id.entity = Entity::kAttribute;
      id.key = std::move(first);
      id.written = std::string(s_.substr(start, pos_ - start));
      return id;
    }
    ++pos_;  // the dot
    id.has_entity = true;
    std::string key;
    c = Peek();
    if (c == '`' || c == '"' || c == '\'') {
      TARN_ASSIGN_OR_RETURN(key, ReadQuoted());
    } else {
      while (pos_ < s_.size() && IsKeyChar(s_[pos_])) key += s_[pos_++];
    }
    id.written = std::string(s_.substr(start, pos_ - start));
    bool known = false;
    for (const EntityAlias& a : kEntityAliases) {
      if (a.name == first) {
        id.entity = a.entity;
        known = true;
      }
    }
    if (!known) {
      return Invalid("Invalid entity type " + Quoted(first) + " in " + Quoted(id.written) +
                     ": expected one of metrics, params, tags, attributes, datasets (or "
                     "metric, param, parameter, parameters, tag, attribute, attr, run, dataset)");
    }
    if (key.empty()) {
      return Invalid("Missing key after " + Quoted(id.written) + " at position " +
                     std::to_string(pos_) + ": write " + first +
                     ".<key>, quoting a key with special characters in backticks");
    }
    id.key = std::move(key);
    return id;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Checks the key of an attribute or dataset identifier and normalizes it.
Status NormalizeKey(Identifier& id, bool for_order) {
  if (id.entity == Entity::kAttribute) {
    for (const AttributeAlias& a : kAttributeAliases) {
      if (a.name == id.key && (a.orderable || !for_order)) {
        id.key = std::string(a.key);
        return Status::Ok();
      }
    }
    return Invalid("Invalid attribute key " + Quoted(id.key) + " in " + Quoted(id.written) +
                   ": expected one of run_id, run_name, status, user_id, artifact_uri, "
                   "start_time, end_time, created" +
                   (id.has_entity ? ""
                                  : " (an identifier without an entity is an attribute; write "
                                    "metrics.<key>, params.<key> or tags.<key> for the others)"));
  }
  if (id.entity == Entity::kDataset) {
    for (std::string_view k : kDatasetKeys) {
      if (k == id.key) return Status::Ok();
    }
    return Invalid("Invalid dataset key " + Quoted(id.key) + " in " + Quoted(id.written) +
                   ": expected one of name, digest, context");
  }
  return Status::Ok();
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool IsOpChar(char c) { return c == '=' || c == '!' || c == '<' || c == '>'; }

// The comparator at the cursor, upper-case, as written: the caller checks it against the ones
// the identifier allows.
StatusOr<std::string> ReadComparator(Reader& in, const Identifier& id) {
  in.SkipSpace();
  std::string allowed = JoinList(AllowedOps(id.entity, id.key));
  if (in.AtEnd()) {
    return Invalid("Missing comparator after " + Quoted(id.written) + ": expected one of " +
                   allowed);
  }
  if (IsOpChar(in.Peek())) {
    size_t n = 1;
    while (n < 3 && IsOpChar(in.Peek(n))) ++n;
    std::string op(in.Rest().substr(0, n));
    in.Advance(n);
    return op;
  }
  std::string word = Upper(in.PeekKeyword());
  if (word.empty()) {
    return Invalid("Expected a comparator after " + Quoted(id.written) + ", found " +
                   in.Found() + ": expected one of " + allowed);
  }
  in.Advance(word.size());
  if (word == "NOT") {
    in.SkipSpace();
    std::string next = Upper(in.PeekKeyword());
    in.Advance(next.size());
    return next.empty() ? word : word + " " + next;
  }
  if (word == "IS") {
    in.SkipSpace();
    bool negated = in.ConsumeKeyword("NOT");
    in.SkipSpace();
    if (!in.ConsumeKeyword("NULL")) {
      return Invalid(std::string("Expected ") +
                     (negated ? "NULL after 'IS NOT'" : "NULL or NOT NULL after 'IS'") +
                     " in the clause on " + Quoted(id.written) + ", found " + in.Found());
    }
    return std::string(negated ? "IS NOT NULL" : "IS NULL");
  }
  return word;
}

StatusOr<std::string> ReadString(Reader& in, const std::string& lhs, const char* what) {
  char c = in.Peek();
  if (c == '\'' || c == '"') return in.ReadQuoted();
  std::string hint = c == '`' ? " (backticks quote keys; quote values with ' or \")"
                    : c == '(' ? " (only IN and NOT IN take a list)"
                               : "";
  return Invalid(std::string("Expected a quoted string value for ") + what + " after " +
                 Quoted(lhs) + " (e.g. 'my-value'), found " + in.Found() + hint);
}

Status ReadNumber(Reader& in, const std::string& lhs, const char* what, Clause& clause) {
  std::string_view rest = in.Rest();
  size_t n = 0;
  if (n < rest.size() && (rest[n] == '-' || rest[n] == '+')) ++n;
  size_t digits = 0;
  while (n < rest.size() && IsDigit(rest[n])) ++n, ++digits;
  if (n < rest.size() && rest[n] == '.') {
    ++n;
    while (n < rest.size() && IsDigit(rest[n])) ++n, ++digits;
  }
  if (digits > 0 && n < rest.size() && (rest[n] == 'e' || rest[n] == 'E')) {
    size_t e = n + 1;
    if (e < rest.size() && (rest[e] == '-' || rest[e] == '+')) ++e;
    size_t exp_digits = 0;
    while (e < rest.size() && IsDigit(rest[e])) ++e, ++exp_digits;
    if (exp_digits > 0) n = e;
  }
  if (digits == 0 || (n < rest.size() && IsKeyChar(rest[n]))) {
    std::string kind = (in.Peek() == '\'' || in.Peek() == '"') ? " (a quoted string)" : "";
    return Invalid(std::string("Expected a numeric value for ") + what + " after " +
                   Quoted(lhs) + " (e.g. 0.5, 10, 1e-3), found " + in.Found() + kind);
  }
  std::string literal(rest.substr(0, n));
  double v = std::strtod(literal.c_str(), nullptr);
  if (!std::isfinite(v)) {
    return Invalid("The number " + Quoted(literal) + " after " + Quoted(lhs) +
                   " is out of range");
  }
  in.Advance(n);
  clause.number = v;
  clause.text = std::move(literal);
  return Status::Ok();
}

Status ReadList(Reader& in, const std::string& lhs, Clause& clause) {
  if (in.Peek() != '(') {
    return Invalid("Expected a parenthesized list of quoted strings after " + Quoted(lhs) +
                   " (e.g. ('a', 'b')), found " + in.Found());
  }
  in.Advance(1);
  for (;;) {
    in.SkipSpace();
    if (in.Peek() == ')' && clause.list.empty()) {
      return Invalid("The list after " + Quoted(lhs) +
                     " is empty: expected a non-empty list of quoted strings");
    }
    if (in.Peek() != '\'' && in.Peek() != '"') {
      return Invalid("Expected a quoted string in the list after " + Quoted(lhs) + ", found " +
                     in.Found());
    }
    TARN_ASSIGN_OR_RETURN(std::string item, in.ReadQuoted());
    clause.list.push_back(std::move(item));
    in.SkipSpace();
    if (in.Peek() == ',') {
      in.Advance(1);
      continue;
    }
    if (in.Peek() == ')') {
      in.Advance(1);
      return Status::Ok();
    }
    return Invalid("Expected ',' or ')' in the list after " + Quoted(lhs) + ", found " +
                   in.Found());
  }
}

StatusOr<Clause> ReadClause(Reader& in) {
  TARN_ASSIGN_OR_RETURN(Identifier id, in.ReadIdentifier("a clause"));
  TARN_RETURN_IF_ERROR(NormalizeKey(id, /*for_order=*/false));
  TARN_ASSIGN_OR_RETURN(std::string op, ReadComparator(in, id));
  std::vector<std::string_view> allowed = AllowedOps(id.entity, id.key);
  bool ok = false;
  for (std::string_view a : allowed) ok = ok || a == op;
  std::string what = std::string(EntityName(id.entity)) + " " + Quoted(id.key);
  if (!ok) {
    std::string note;
    if (id.entity == Entity::kAttribute && (op == "IN" || op == "NOT IN")) {
      note = " (only run_id takes IN / NOT IN)";
    } else if (op == "IS NULL" || op == "IS NOT NULL") {
      note = " (only params and tags take IS NULL / IS NOT NULL)";
    }
    return Invalid("Invalid comparator " + Quoted(op) + " for " + what + ": expected one of " +
                   JoinList(allowed) + note);
  }
  Clause clause;
  clause.entity = id.entity;
  clause.key = std::move(id.key);
  clause.op = op;
  if (op == "IS NULL" || op == "IS NOT NULL") return clause;
  std::string lhs = id.written + " " + op;
  in.SkipSpace();
  if (in.AtEnd()) return Invalid("Missing value after " + Quoted(lhs));
  if (op == "IN" || op == "NOT IN") {
    TARN_RETURN_IF_ERROR(ReadList(in, lhs, clause));
  } else if (IsNumericClause(clause.entity, clause.key)) {
    TARN_RETURN_IF_ERROR(ReadNumber(in, lhs, what.c_str(), clause));
  } else {
    TARN_ASSIGN_OR_RETURN(clause.text, ReadString(in, lhs, what.c_str()));
  }
  return clause;
}

}  // namespace

std::string QuoteForMessage(std::string_view s) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  size_t i = 0;
  while (i < s.size() && out.size() <= kMax) {
    size_t len = Utf8Length(s, i);
    auto c = static_cast<unsigned char>(s[i]);
    if (len == 0) {
      out += '?';
      ++i;
    } else if (len == 1) {
      out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  if (i < s.size()) out += "...";
  return out + "'";
}

const char* EntityName(Entity e) {
  switch (e) {
    case Entity::kMetric:
      return "metric";
    case Entity::kParam:
      return "param";
    case Entity::kTag:
      return "tag";
    case Entity::kAttribute:
      return "attribute";
    case Entity::kDataset:
      return "dataset";
  }
  return "?";
}

StatusOr<std::vector<Clause>> ParseRunFilter(std::string_view filter) {
  if (filter.size() > kMaxFilterBytes) {
    return Invalid("The filter is " + std::to_string(filter.size()) + " bytes long: at most " +
                   std::to_string(kMaxFilterBytes) + " are allowed");
  }
  std::vector<Clause> clauses;
  Reader in(filter);
  in.SkipSpace();
  if (in.AtEnd()) return clauses;
  for (;;) {
    if (clauses.size() == kMaxFilterClauses) {
      return Invalid("The filter has more than " + std::to_string(kMaxFilterClauses) +
                     " clauses: at most " + std::to_string(kMaxFilterClauses) + " are allowed");
    }
    TARN_ASSIGN_OR_RETURN(Clause clause, ReadClause(in));
    clauses.push_back(std::move(clause));
    in.SkipSpace();
    if (in.AtEnd()) return clauses;
    if (in.ConsumeKeyword("AND")) {
      in.SkipSpace();
      if (in.AtEnd()) return Invalid("Missing a clause after the last AND of the filter");
      continue;
    }
    if (EqualsIgnoreCase(in.PeekKeyword(), "OR")) {
      return Invalid("OR is not supported in a search filter (position " +
                     std::to_string(in.pos()) + "): only AND can join clauses");
    }
    if (in.Peek() == '(' || in.Peek() == ')') {
      return Invalid("Parentheses are not supported in a search filter (found " + in.Found() +
                     " at position " + std::to_string(in.pos()) +
                     "): clauses can only be joined by AND, and only IN / NOT IN take a "
                     "parenthesized list of values");
    }
    return Invalid("Expected AND or the end of the filter at position " +
                   std::to_string(in.pos()) + ", found " + in.Found());
  }
}

StatusOr<OrderBy> ParseRunOrderBy(std::string_view item) {
  if (item.size() > kMaxFilterBytes) {
    return Invalid("The order_by clause is " + std::to_string(item.size()) +
                   " bytes long: at most " + std::to_string(kMaxFilterBytes) + " are allowed");
  }
  Reader in(item);
  in.SkipSpace();
  if (in.AtEnd()) {
    return Invalid("Invalid order_by clause " + Quoted(item) +
                   ": expected <entity>.<key> [ASC|DESC], e.g. 'metrics.acc DESC'");
  }
  TARN_ASSIGN_OR_RETURN(Identifier id, in.ReadIdentifier("an order_by key"));
  if (id.entity == Entity::kDataset) {
    return Invalid("Invalid order_by entity 'dataset' in " + Quoted(item) +
                   ": expected metrics, params, tags or attributes");
  }
  TARN_RETURN_IF_ERROR(NormalizeKey(id, /*for_order=*/true));
  OrderBy order;
  order.entity = id.entity;
  order.key = std::move(id.key);
  in.SkipSpace();
  if (in.ConsumeKeyword("DESC")) {
    order.ascending = false;
  } else if (!in.ConsumeKeyword("ASC") && !in.AtEnd()) {
    return Invalid("Invalid ordering " + in.Found() + " in order_by clause " + Quoted(item) +
                   ": expected ASC or DESC");
  }
  in.SkipSpace();
  if (!in.AtEnd()) {
    return Invalid("Unexpected " + in.Found() + " at the end of order_by clause " +
                   Quoted(item) + ": expected <entity>.<key> [ASC|DESC]");
  }
  return order;
}

}  // namespace tarn::tracking
