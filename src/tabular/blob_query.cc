// QueryBlob: Azure's query acceleration over one file, in a confined DuckDB database of its own
// whose only table is the file (BlobStorage, and DataLakeStorage as the DataLake SDKs name it).
#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>

#include "duckdb/parser/expression/list.hpp"
#include "duckdb/parser/parsed_expression_iterator.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/query_node/select_node.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/basetableref.hpp"
#include "tabular/call.h"
#include "tabular/sql_text.h"
#include "tabular/tabular.h"

namespace tarn::tabular {
namespace {

constexpr char kTable[] = "BlobStorage";
constexpr char kDataLakeTable[] = "DataLakeStorage";

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

Status BadExpression(const std::string& why) { return Error(Reason::kInvalidInput, why); }

// The first line of a DuckDB message: binder errors go on to list every candidate function.
std::string FirstLine(const std::string& msg) {
  std::string out = FirstParagraph(msg);
  if (size_t tab = out.find(" \tCandidate"); tab != std::string::npos) out.resize(tab);
  return out;
}

bool IsTable(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "blobstorage" || lower == "datalakestorage";
}

bool IsField(const duckdb::ParsedExpression& e) {
  return e.GetExpressionClass() == duckdb::ExpressionClass::COLUMN_REF ||
         e.GetExpressionClass() == duckdb::ExpressionClass::POSITIONAL_REFERENCE;
}

bool IsArithmetic(const duckdb::ParsedExpression& e) {
  if (e.GetExpressionClass() != duckdb::ExpressionClass::FUNCTION) return false;
  const auto& f = e.Cast<duckdb::FunctionExpression>();
  return f.is_operator && (f.function_name == "+" || f.function_name == "-" ||
                           f.function_name == "*" || f.function_name == "/" ||
                           f.function_name == "//" || f.function_name == "%");
}

bool IsNumber(const duckdb::ParsedExpression& e) {
  if (e.GetExpressionClass() == duckdb::ExpressionClass::CONSTANT) {
    return e.Cast<duckdb::ConstantExpression>().value.type().IsNumeric();
  }
  return IsArithmetic(e);
}

// A field of delimited text used as a number: converted, or null when it does not convert (a
// header row read as data, an empty field), so that the row drops out of a comparison.
void AsNumber(duckdb::unique_ptr<duckdb::ParsedExpression>& e) {
  if (IsField(*e)) {
    e = duckdb::make_uniq<duckdb::CastExpression>(duckdb::LogicalType::DOUBLE, std::move(e),
                                                  /*try_cast=*/true);
  }
}

// Fields of delimited text are strings; where the expression uses one as a number (compared
// with a number, in arithmetic, summed or averaged), it is read as one, as Azure does.
void NumbersFromStrings(duckdb::unique_ptr<duckdb::ParsedExpression>& e) {
  if (!e) return;
  duckdb::ParsedExpressionIterator::EnumerateChildren(
      *e, [](duckdb::unique_ptr<duckdb::ParsedExpression>& child) { NumbersFromStrings(child); });
  switch (e->GetExpressionClass()) {
    case duckdb::ExpressionClass::COMPARISON: {
      auto& c = e->Cast<duckdb::ComparisonExpression>();
      if (IsNumber(*c.right)) AsNumber(c.left);
      if (IsNumber(*c.left)) AsNumber(c.right);
      break;
    }
    case duckdb::ExpressionClass::BETWEEN: {
      auto& b = e->Cast<duckdb::BetweenExpression>();
      if (IsNumber(*b.lower) || IsNumber(*b.upper)) AsNumber(b.input);
      break;
    }
    case duckdb::ExpressionClass::OPERATOR: {
      auto& o = e->Cast<duckdb::OperatorExpression>();
      if ((o.type == duckdb::ExpressionType::COMPARE_IN ||
           o.type == duckdb::ExpressionType::COMPARE_NOT_IN) &&
          o.children.size() > 1 &&
          std::any_of(o.children.begin() + 1, o.children.end(),
                      [](const auto& c) { return IsNumber(*c); })) {
        AsNumber(o.children[0]);
      }
      break;
    }
    case duckdb::ExpressionClass::FUNCTION: {
      auto& f = e->Cast<duckdb::FunctionExpression>();
      const bool aggregate = !f.is_operator && (f.function_name == "sum" ||
                                                f.function_name == "avg" ||
                                                f.function_name == "mean");
      if (IsArithmetic(*e) || aggregate) {
        for (auto& child : f.children) AsNumber(child);
      }
      break;
    }
    default:
      break;
  }
}

// One SELECT whose FROM is the file alone: no join, subquery, set operation or WITH, so that a
// query reads nothing but its file, once. Returns the SQL to run: with `strings` (delimited
// text), fields used as numbers are read as numbers.
StatusOr<std::string> Prepare(duckdb::Connection& con, const std::string& sql, bool strings) {
  duckdb::vector<duckdb::unique_ptr<duckdb::SQLStatement>> statements;
  try {
    statements = con.ExtractStatements(sql);
  } catch (const std::exception& e) {
    return BadExpression("The query does not parse: " +
                         FirstLine(duckdb::ErrorData(e).RawMessage()));
  }
  if (statements.size() != 1 ||
      statements[0]->type != duckdb::StatementType::SELECT_STATEMENT) {
    return BadExpression("The query must be one SELECT statement.");
  }
  duckdb::QueryNode& node = *statements[0]->Cast<duckdb::SelectStatement>().node;
  if (node.type != duckdb::QueryNodeType::SELECT_NODE || !node.cte_map.map.empty()) {
    return BadExpression("The query must be one SELECT from BlobStorage, without UNION or WITH.");
  }
  auto& select = node.Cast<duckdb::SelectNode>();
  if (!select.from_table || select.from_table->type != duckdb::TableReferenceType::BASE_TABLE ||
      !IsTable(select.from_table->Cast<duckdb::BaseTableRef>().table_name) ||
      !select.from_table->Cast<duckdb::BaseTableRef>().schema_name.empty() ||
      !select.from_table->Cast<duckdb::BaseTableRef>().catalog_name.empty()) {
    return BadExpression("The query must read FROM BlobStorage, and only from it.");
  }
  bool subquery = false;
  duckdb::ParsedExpressionIterator::EnumerateQueryNodeChildren(
      node, [&](duckdb::unique_ptr<duckdb::ParsedExpression>& child) {
        if (!child) return;
        duckdb::ParsedExpressionIterator::VisitExpressionClass(
            *child, duckdb::ExpressionClass::SUBQUERY,
            [&](const duckdb::ParsedExpression&) { subquery = true; });
      });
  if (subquery) return BadExpression("The query may not hold a subquery.");
  if (!strings) return sql;
  duckdb::ParsedExpressionIterator::EnumerateQueryNodeChildren(
      node, [](duckdb::unique_ptr<duckdb::ParsedExpression>& child) { NumbersFromStrings(child); });
  return statements[0]->ToString();
}

// Counts how far into the file DuckDB has read, for the progress Azure reports.
class CountingOpener final : public FileOpener {
 public:
  explicit CountingOpener(FileOpener& inner) : inner_(inner) {}
  StatusOr<std::unique_ptr<RandomAccessFile>> Open(const SourceFile& f) override {
    TARN_ASSIGN_OR_RETURN(auto file, inner_.Open(f));
    return std::unique_ptr<RandomAccessFile>(new Counted(std::move(file), &scanned_));
  }
  int64_t scanned() const { return scanned_.load(); }

 private:
  class Counted final : public RandomAccessFile {
   public:
    Counted(std::unique_ptr<RandomAccessFile> f, std::atomic<int64_t>* scanned)
        : f_(std::move(f)), scanned_(scanned) {}
    int64_t Size() const override { return f_->Size(); }
    StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
      TARN_ASSIGN_OR_RETURN(size_t got, f_->ReadAt(offset, buf, n));
      const int64_t end = offset + static_cast<int64_t>(got);
      int64_t seen = scanned_->load();
      while (end > seen && !scanned_->compare_exchange_weak(seen, end)) {
      }
      return got;
    }

   private:
    std::unique_ptr<RandomAccessFile> f_;
    std::atomic<int64_t>* scanned_;
  };
  FileOpener& inner_;
  std::atomic<int64_t> scanned_{0};
};

Status CheckDialect(const DelimitedDialect& d, const char* side) {
  const std::string where = std::string("the ") + side + " dialect's ";
  if (d.column_separator.empty() || d.column_separator.size() > 4) {
    return BadExpression(where + "column separator must be 1 to 4 bytes.");
  }
  if (d.field_quote.size() > 1) return BadExpression(where + "field quote must be one character.");
  if (d.escape.size() > 1) return BadExpression(where + "escape must be one character.");
  if (d.record_separator.empty() || d.record_separator.size() > 4) {
    return BadExpression(where + "record separator must be 1 to 4 bytes.");
  }
  return Status::Ok();
}

// The file as a table: delimited text as strings, as Azure reads it.
std::string ScanSql(const BlobQueryRequest& req, const std::string& name) {
  switch (req.input) {
    case BlobQueryRequest::Input::kJson:
      return "read_json(" + QuoteLiteral(name) + ", format = 'auto')";
    case BlobQueryRequest::Input::kParquet:
      return "read_parquet(" + QuoteLiteral(name) + ")";
    case BlobQueryRequest::Input::kDelimited:
      break;
  }
  const DelimitedDialect& d = req.in;
  return "read_csv(" + QuoteLiteral(name) + ", delim = " + QuoteLiteral(d.column_separator) +
         ", quote = " + QuoteLiteral(d.field_quote) + ", escape = " + QuoteLiteral(d.escape) +
         ", header = " + (d.headers ? "true" : "false") +
         ", comment = '', all_varchar = true, null_padding = true, strict_mode = false)";
}

// One field of delimited output, quoted as Azure quotes it: when it holds a separator, the
// quote or the escape.
void AppendField(const DelimitedDialect& d, std::string_view v, std::string* out) {
  auto special = [&](std::string_view s) {
    return !s.empty() && v.find(s) != std::string_view::npos;
  };
  const bool needs = special(d.column_separator) || special(d.record_separator) ||
                     special(d.field_quote) || special(d.escape) ||
                     v.find_first_of("\r\n") != std::string_view::npos;
  if (!needs) {
    out->append(v);
    return;
  }
  const char quote = d.field_quote.empty() ? '\0' : d.field_quote[0];
  const char escape = d.escape.empty() ? '\0' : d.escape[0];
  if (quote) out->push_back(quote);
  for (char ch : v) {
    if (quote && ch == quote) {
      out->push_back(escape ? escape : quote);
    } else if (escape && (ch == escape || (!quote && (d.column_separator.find(ch) !=
                                                          std::string::npos ||
                                                      d.record_separator.find(ch) !=
                                                          std::string::npos)))) {
      out->push_back(escape);
    }
    out->push_back(ch);
  }
  if (quote) out->push_back(quote);
}

std::string_view View(const duckdb::string_t& s) { return {s.GetData(), s.GetSize()}; }

BlobQueryError RunError(const duckdb::ErrorData& e, LakeFileSystem& fs) {
  std::string path;
  std::string msg = FirstLine(NamesToPaths(fs, e.RawMessage(), &path));
  switch (e.Type()) {
    case duckdb::ExceptionType::CONVERSION:
      return {"InvalidTypeConversion", msg};
    case duckdb::ExceptionType::INVALID_INPUT:
    case duckdb::ExceptionType::PARSER:
      return {"ParseError", msg};
    default:
      return {"InternalError", msg};
  }
}

class BlobQueryRun {
 public:
  BlobQueryRun(const BlobQueryRequest& req, duckdb::DuckDB& db, LakeFileSystem& fs)
      : req_(req), fs_(fs), opener_(*req.opener), con_(db) {
    one_file_.push_back(req.file);
    files_ = std::make_shared<CallFiles>(opener_, one_file_);
    id_ = fs_.Register(files_);
  }
  ~BlobQueryRun() { fs_.Unregister(id_); }
  BlobQueryRun(const BlobQueryRun&) = delete;
  BlobQueryRun& operator=(const BlobQueryRun&) = delete;

  StatusOr<BlobQueryResult> Run() {
    TARN_ASSIGN_OR_RETURN(std::string azure_sql, BlobQuerySql(req_.expression));
    TARN_ASSIGN_OR_RETURN(
        std::string sql,
        Prepare(con_, azure_sql, req_.input == BlobQueryRequest::Input::kDelimited));
    TARN_RETURN_IF_ERROR(DefineTables());
    const std::string inner = "(\n" + sql + "\n) AS __tarn_q";
    const std::string out_sql = req_.output == BlobQueryRequest::Output::kJson
                                    ? "SELECT to_json(__tarn_q)::VARCHAR FROM " + inner
                                    : "SELECT COLUMNS(*)::VARCHAR FROM " + inner;
    duckdb::unique_ptr<duckdb::QueryResult> result = con_.SendQuery(out_sql);
    BlobQueryResult out;
    if (result->HasError()) {
      // A bad expression is refused; a value or line that fails once the rows flow is reported.
      const Status s = Failure(result->GetErrorObject());
      if (s.code() != Code::kFailedPrecondition) return s;
      out.error = RunError(result->GetErrorObject(), fs_);
      out.scanned = opener_.scanned();
      return out;
    }
    std::string piece;
    if (req_.output == BlobQueryRequest::Output::kDelimited && req_.out.headers) {
      for (size_t c = 0; c < result->names.size(); ++c) {
        if (c) piece += req_.out.column_separator;
        AppendField(req_.out, result->names[c], &piece);
      }
      piece += req_.out.record_separator;
    }
    for (;;) {
      duckdb::ErrorData error;
      duckdb::unique_ptr<duckdb::DataChunk> chunk;
      if (!result->TryFetch(chunk, error)) {
        if (std::optional<Status> first = files_->first_error()) return *first;
        out.error = RunError(error, fs_);
        break;
      }
      if (!chunk || chunk->size() == 0) break;
      Append(*chunk, &piece);
      out.rows += static_cast<int64_t>(chunk->size());
      if (req_.max_output_bytes > 0 &&
          out.bytes_out + static_cast<int64_t>(piece.size()) > req_.max_output_bytes) {
        out.error = BlobQueryError{"OutputTooLarge",
                                   "The query's output passed " +
                                       std::to_string(req_.max_output_bytes) +
                                       " bytes: select fewer rows or columns."};
        piece.clear();
        break;
      }
      if (piece.size() >= req_.piece_bytes) TARN_RETURN_IF_ERROR(Flush(&piece, &out));
    }
    TARN_RETURN_IF_ERROR(Flush(&piece, &out));
    out.scanned = opener_.scanned();
    return out;
  }

 private:
  Status DefineTables() {
    const std::string name = LakeFileSystem::FileName(id_, 0, req_.file.path);
    std::string scan = "SELECT * FROM " + ScanSql(req_, name);
    if (req_.input == BlobQueryRequest::Input::kDelimited && !req_.in.headers) {
      // Without a header row, fields are named by their ordinal: _1, _2...
      auto d = con_.Query("DESCRIBE " + scan);
      if (d->HasError()) return Failure(d->GetErrorObject());
      scan = "SELECT ";
      for (duckdb::idx_t i = 0; i < d->RowCount(); ++i) {
        const std::string n = std::to_string(i + 1);
        scan += (i ? ", #" : "#") + n + " AS " + QuoteIdent("_" + n);
      }
      scan += " FROM " + ScanSql(req_, name);
    }
    for (const std::string& sql :
         {"CREATE TEMP VIEW " + QuoteIdent(kTable) + " AS " + scan,
          "CREATE TEMP VIEW " + QuoteIdent(kDataLakeTable) + " AS SELECT * FROM " +
              QuoteIdent(kTable)}) {
      auto r = con_.Query(sql);
      if (r->HasError()) return Failure(r->GetErrorObject());
    }
    return Status::Ok();
  }

  void Append(duckdb::DataChunk& chunk, std::string* piece) const {
    const duckdb::idx_t columns = chunk.ColumnCount();
    std::vector<duckdb::UnifiedVectorFormat> formats(columns);
    for (duckdb::idx_t c = 0; c < columns; ++c) {
      chunk.data[c].ToUnifiedFormat(chunk.size(), formats[c]);
    }
    for (duckdb::idx_t row = 0; row < chunk.size(); ++row) {
      for (duckdb::idx_t c = 0; c < columns; ++c) {
        const duckdb::UnifiedVectorFormat& f = formats[c];
        const duckdb::idx_t i = f.sel->get_index(row);
        if (req_.output == BlobQueryRequest::Output::kDelimited && c) {
          *piece += req_.out.column_separator;
        }
        if (!f.validity.RowIsValid(i)) continue;
        std::string_view v = View(duckdb::UnifiedVectorFormat::GetData<duckdb::string_t>(f)[i]);
        if (req_.output == BlobQueryRequest::Output::kJson) {
          piece->append(v);
        } else {
          AppendField(req_.out, v, piece);
        }
      }
      *piece += req_.out.record_separator;
    }
  }

  Status Flush(std::string* piece, BlobQueryResult* out) {
    if (piece->empty()) return Status::Ok();
    out->bytes_out += static_cast<int64_t>(piece->size());
    TARN_RETURN_IF_ERROR(req_.sink(*piece, opener_.scanned()));
    piece->clear();
    return Status::Ok();
  }

  // An error before any row: the opener's own, else the expression's (bad column, function,
  // type) or the file's (it does not read as the input format says).
  Status Failure(const duckdb::ErrorData& e) {
    if (std::optional<Status> first = files_->first_error()) return *first;
    std::string path;
    std::string msg = FirstLine(NamesToPaths(fs_, e.RawMessage(), &path));
    switch (e.Type()) {
      case duckdb::ExceptionType::PARSER:
      case duckdb::ExceptionType::BINDER:
      case duckdb::ExceptionType::CATALOG:
        return BadExpression(msg);
      case duckdb::ExceptionType::PERMISSION:
        return BadExpression("The query may read only its blob: " + msg);
      case duckdb::ExceptionType::INTERNAL:
      case duckdb::ExceptionType::FATAL:
        return InternalError("tabular engine: " + msg);
      default:
        return Status(Code::kFailedPrecondition, msg);
    }
  }

  const BlobQueryRequest& req_;
  LakeFileSystem& fs_;
  CountingOpener opener_;
  std::vector<SourceFile> one_file_;
  std::shared_ptr<CallFiles> files_;
  duckdb::Connection con_;
  uint64_t id_ = 0;
};

}  // namespace

StatusOr<std::string> BlobQuerySql(std::string_view e) {
  std::string out;
  out.reserve(e.size());
  size_t i = 0;
  while (i < e.size()) {
    const char c = e[i];
    if (c == '\'' || c == '"') {  // a string or a quoted name: copied whole
      size_t end = i + 1;
      while (end < e.size() && e[end] != c) ++end;
      end = std::min(end + 1, e.size());
      out.append(e.substr(i, end - i));
      i = end;
      continue;
    }
    const bool word_start = IsWordChar(c) && (i == 0 || !IsWordChar(e[i - 1]));
    if (!word_start) {
      out.push_back(c);
      ++i;
      continue;
    }
    size_t end = i;
    while (end < e.size() && IsWordChar(e[end])) ++end;
    const std::string word(e.substr(i, end - i));
    out += word;
    i = end;
    if (!IsTable(word)) continue;
    size_t j = i;
    while (j < e.size() && std::isspace(static_cast<unsigned char>(e[j]))) ++j;
    if (e.substr(j, 3) == "[*]") {
      i = j + 3;
      j = i;
      while (j < e.size() && std::isspace(static_cast<unsigned char>(e[j]))) ++j;
    }
    if (j < e.size() && (e[j] == '.' || e[j] == '[')) {
      return BadExpression("A JSON path after " + word +
                           " (FROM BlobStorage[*].path) is not served: select the fields "
                           "from BlobStorage instead.");
    }
  }
  // Azure takes a trailing ';'; the query runs inside another here.
  while (!out.empty() &&
         (out.back() == ';' || std::isspace(static_cast<unsigned char>(out.back())))) {
    out.pop_back();
  }
  return out;
}

StatusOr<BlobQueryResult> QueryBlob(const BlobQueryRequest& req) {
  if (req.opener == nullptr || !req.sink) return InternalError("QueryBlob without a file or sink");
  if (req.input == BlobQueryRequest::Input::kDelimited) {
    TARN_RETURN_IF_ERROR(CheckDialect(req.in, "input"));
    if (req.in.record_separator.find_first_not_of("\r\n") != std::string::npos) {
      return BadExpression("An input record separator other than a line break is not served.");
    }
  }
  TARN_RETURN_IF_ERROR(CheckDialect(req.out, "output"));
  try {
    LakeFileSystem* fs = nullptr;
    // Delimited text is strings; Azure compares them with numbers by converting the string.
    TARN_ASSIGN_OR_RETURN(
        auto db, ConfinedDatabase({"", req.threads, req.memory_limit,
                                   {"SET GLOBAL old_implicit_casting = true"}},
                                  &fs));
    BlobQueryRun run(req, *db, *fs);
    return run.Run();
  } catch (const std::exception& e) {
    return InternalError("tabular engine: " + FirstParagraph(duckdb::ErrorData(e).RawMessage()));
  } catch (...) {
    return InternalError("tabular engine: unknown exception");
  }
}

}  // namespace tarn::tabular
