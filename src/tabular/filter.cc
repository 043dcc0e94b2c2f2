#include "tabular/filter.h"

#include <cctype>
#include <utility>

#include "common/strings.h"
#include "tabular/sql_text.h"

namespace tarn::tabular {
namespace {

constexpr int kMaxDepth = 64;

enum class Tok {
  kEnd,
  kLParen,
  kRParen,
  kComma,
  kIdent,
  kOp,
  kNumber,
  kString,
  kAnd,
  kOr,
  kNot,
  kTrue,
  kFalse,
  kNull
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier name, operator, number text or string value
  size_t pos = 0;
};

Status ErrorAt(size_t pos, const std::string& what) {
  return Error(Reason::kInvalidInput,
               "filter expression: " + what + " at position " + std::to_string(pos));
}

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)); }
bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

class Lexer {
 public:
  explicit Lexer(const std::string& s) : s_(s) {}

  StatusOr<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
      if (i_ >= s_.size()) break;
      TARN_ASSIGN_OR_RETURN(Token t, Next());
      out.push_back(std::move(t));
    }
    out.push_back(Token{Tok::kEnd, "", s_.size()});
    return out;
  }

 private:
  StatusOr<Token> Next() {
    const size_t start = i_;
    const char c = s_[i_];
    if (c == '\0') return ErrorAt(start, "NUL character");
    if (c == '(') return Token{Tok::kLParen, "(", i_++};
    if (c == ')') return Token{Tok::kRParen, ")", i_++};
    if (c == ',') return Token{Tok::kComma, ",", i_++};
    if (c == '=' || c == '!' || c == '<' || c == '>') return Operator(start);
    if (c == '\'' || c == '"') return Quoted(start, c);
    if (c == '`') return Backquoted(start);
    if (IsDigit(c) || c == '-' || c == '+' || c == '.') return Number(start);
    if (IsIdentStart(c)) {
      while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
      std::string word = s_.substr(start, i_ - start);
      const std::string lower = ToLower(word);
      if (lower == "and") return Token{Tok::kAnd, word, start};
      if (lower == "or") return Token{Tok::kOr, word, start};
      if (lower == "not") return Token{Tok::kNot, word, start};
      if (lower == "true") return Token{Tok::kTrue, word, start};
      if (lower == "false") return Token{Tok::kFalse, word, start};
      if (lower == "null") return Token{Tok::kNull, word, start};
      return Token{Tok::kIdent, std::move(word), start};
    }
    return ErrorAt(start, std::string("unexpected character '") + c + "'");
  }

  StatusOr<Token> Operator(size_t start) {
    const std::string two = s_.substr(i_, 2);
    for (const char* op : {"==", "!=", "<=", ">="}) {
      if (two == op) {
        i_ += 2;
        return Token{Tok::kOp, op, start};
      }
    }
    if (s_[i_] == '<' || s_[i_] == '>') return Token{Tok::kOp, std::string(1, s_[i_++]), start};
    return ErrorAt(start, "unknown operator (use == != < <= > >=)");
  }

  StatusOr<Token> Quoted(size_t start, char q) {
    std::string value;
    for (++i_; i_ < s_.size(); ++i_) {
      char c = s_[i_];
      if (c == '\0') return ErrorAt(i_, "NUL character");
      if (c == q) {
        ++i_;
        return Token{Tok::kString, std::move(value), start};
      }
      if (c == '\\' && i_ + 1 < s_.size()) c = s_[++i_];
      value += c;
    }
    return ErrorAt(start, "unterminated string");
  }

  StatusOr<Token> Backquoted(size_t start) {
    std::string name;
    for (++i_; i_ < s_.size(); ++i_) {
      if (s_[i_] == '\0') return ErrorAt(i_, "NUL character");
      if (s_[i_] == '`') {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == '`') {
          name += '`';
          ++i_;
          continue;
        }
        ++i_;
        if (name.empty()) return ErrorAt(start, "empty identifier");
        return Token{Tok::kIdent, std::move(name), start};
      }
      name += s_[i_];
    }
    return ErrorAt(start, "unterminated `identifier`");
  }

  // [+-]? digits [. digits] [e [+-] digits], or [+-]? . digits ...
  StatusOr<Token> Number(size_t start) {
    if (s_[i_] == '-' || s_[i_] == '+') ++i_;
    size_t digits = 0;
    while (i_ < s_.size() && IsDigit(s_[i_])) ++i_, ++digits;
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_, ++digits;
    }
    if (digits == 0) return ErrorAt(start, "malformed number");
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '-' || s_[i_] == '+')) ++i_;
      size_t exp = 0;
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_, ++exp;
      if (exp == 0) return ErrorAt(start, "malformed number");
    }
    if (i_ < s_.size() && IsIdentChar(s_[i_])) return ErrorAt(start, "malformed number");
    std::string text = s_.substr(start, i_ - start);
    if (text[0] == '+') text.erase(0, 1);
    return Token{Tok::kNumber, std::move(text), start};
  }

  const std::string& s_;
  size_t i_ = 0;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : toks_(std::move(toks)) {}

  StatusOr<FilterSql> Run() {
    TARN_ASSIGN_OR_RETURN(std::string sql, Or(0));
    if (Peek().kind != Tok::kEnd) return ErrorAt(Peek().pos, "expected 'and', 'or' or the end");
    return FilterSql{std::move(sql), std::move(identifiers_)};
  }

 private:
  const Token& Peek() const { return toks_[i_]; }
  const Token& Take() { return toks_[i_++]; }

  // "or" binds looser than "and": Or chains Ands, And chains Terms.
  StatusOr<std::string> Or(int depth) { return Chain(depth, Tok::kOr, " OR ", &Parser::And); }
  StatusOr<std::string> And(int depth) { return Chain(depth, Tok::kAnd, " AND ", &Parser::Term); }

  StatusOr<std::string> Chain(int depth, Tok op, const char* sql_op,
                              StatusOr<std::string> (Parser::*next)(int)) {
    TARN_ASSIGN_OR_RETURN(std::string left, (this->*next)(depth));
    while (Peek().kind == op) {
      Take();
      TARN_ASSIGN_OR_RETURN(std::string right, (this->*next)(depth));
      left = "(" + left + sql_op + right + ")";
    }
    return left;
  }

  StatusOr<std::string> Term(int depth) {
    if (depth > kMaxDepth) return ErrorAt(Peek().pos, "expression nested too deeply");
    const Token& t = Take();
    switch (t.kind) {
      case Tok::kLParen: {
        TARN_ASSIGN_OR_RETURN(std::string inner, Or(depth + 1));
        if (Peek().kind != Tok::kRParen) return ErrorAt(Peek().pos, "expected ')'");
        Take();
        return inner;
      }
      case Tok::kNot: {
        TARN_ASSIGN_OR_RETURN(std::string inner, Term(depth + 1));
        return "(NOT " + inner + ")";
      }
      case Tok::kIdent:
        return Comparison(t);
      case Tok::kEnd:
        return ErrorAt(t.pos, "unexpected end of expression");
      default:
        return ErrorAt(t.pos, "expected a column name, '(' or 'not'");
    }
  }

  // A literal of an "in" list: a number, a string, true or false.
  StatusOr<std::string> ListValue() {
    const Token& lit = Take();
    switch (lit.kind) {
      case Tok::kNumber:
        return lit.text;
      case Tok::kString:
        return QuoteLiteral(lit.text);
      case Tok::kTrue:
        return std::string("TRUE");
      case Tok::kFalse:
        return std::string("FALSE");
      default:
        return ErrorAt(lit.pos, "expected a number, string, true or false in the list");
    }
  }

  // column in (v, ...): the column equals one of the values.
  StatusOr<std::string> In(const std::string& column) {
    if (Peek().kind != Tok::kLParen) return ErrorAt(Peek().pos, "expected '(' after 'in'");
    Take();
    std::string values;
    while (true) {
      TARN_ASSIGN_OR_RETURN(std::string v, ListValue());
      values += (values.empty() ? "" : ", ") + v;
      const Token& next = Take();
      if (next.kind == Tok::kRParen) break;
      if (next.kind != Tok::kComma) return ErrorAt(next.pos, "expected ',' or ')'");
    }
    return "(" + column + " IN (" + values + "))";
  }

  StatusOr<std::string> Comparison(const Token& ident) {
    identifiers_.push_back(ident.text);
    const std::string column = QuoteIdent(ident.text);
    const Token& op = Take();
    if (op.kind == Tok::kIdent) {
      // The text operators: contains, startswith, endswith (on the column's text), and in.
      const std::string word = ToLower(op.text);
      if (word == "in") return In(column);
      const char* fn = word == "contains"     ? "contains"
                       : word == "startswith" ? "starts_with"
                       : word == "endswith"   ? "ends_with"
                                              : nullptr;
      if (fn == nullptr) {
        return ErrorAt(op.pos, "expected a comparison operator (== != < <= > >=, contains, "
                               "startswith, endswith or in)");
      }
      const Token& lit = Take();
      if (lit.kind != Tok::kString) return ErrorAt(lit.pos, "expected a string after " + word);
      return std::string("(") + fn + "(CAST(" + column + " AS VARCHAR), " +
             QuoteLiteral(lit.text) + "))";
    }
    if (op.kind != Tok::kOp) return ErrorAt(op.pos, "expected a comparison operator");
    const Token& lit = Take();
    std::string value;
    switch (lit.kind) {
      case Tok::kNumber:
        value = lit.text;
        break;
      case Tok::kString:
        value = QuoteLiteral(lit.text);
        break;
      case Tok::kTrue:
        value = "TRUE";
        break;
      case Tok::kFalse:
        value = "FALSE";
        break;
      case Tok::kNull:
        if (op.text == "==") return "(" + column + " IS NULL)";
        if (op.text == "!=") return "(" + column + " IS NOT NULL)";
        return ErrorAt(op.pos, "null compares only with == or !=");
      default:
        return ErrorAt(lit.pos, "expected a literal (number, string, true, false, null)");
    }
    const std::string sql_op = op.text == "==" ? "=" : op.text == "!=" ? "<>" : op.text;
    return "(" + column + " " + sql_op + " " + value + ")";
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
  std::vector<std::string> identifiers_;
};

}  // namespace

StatusOr<FilterSql> CompileFilter(const std::string& expression) {
  TARN_ASSIGN_OR_RETURN(std::vector<Token> toks, Lexer(expression).Run());
  return Parser(std::move(toks)).Run();
}

}  // namespace tarn::tabular
