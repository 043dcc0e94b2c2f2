// The body of Query Blob Contents (POST ?comp=query): Azure's QueryRequest document.
//
//   <QueryRequest><QueryType>SQL</QueryType><Expression>SELECT * FROM BlobStorage</Expression>
//     <InputSerialization><Format><Type>delimited</Type><DelimitedTextConfiguration>
//       <ColumnSeparator>,</ColumnSeparator><FieldQuote>"</FieldQuote>
//       <RecordSeparator>\n</RecordSeparator><EscapeChar/><HasHeaders>true</HasHeaders>
//     </DelimitedTextConfiguration></Format></InputSerialization>
//     <OutputSerialization>... json: <JsonTextConfiguration><RecordSeparator>...
//     </OutputSerialization>
//   </QueryRequest>
//
// Formats: input delimited (also "csv"), json or parquet; output delimited, json or arrow.
// Absent serializations are delimited text with Azure's defaults. An empty or absent
// RecordSeparator is a line feed (the JavaScript SDK sends "\n" as an empty element); an absent
// FieldQuote is '"' and an empty one means no quoting (the JavaScript SDK's default).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "tabular/tabular.h"

namespace tarn::protocol {

inline constexpr size_t kMaxQueryExpression = 256 * 1024;
inline constexpr size_t kMaxQueryBody = 512 * 1024;

struct QueryRequest {
  std::string expression;
  tabular::BlobQueryRequest::Input input = tabular::BlobQueryRequest::Input::kDelimited;
  tabular::DelimitedDialect in{};
  tabular::BlobQueryRequest::Output output = tabular::BlobQueryRequest::Output::kDelimited;
  tabular::DelimitedDialect out{};
  bool arrow_output = false;  // asked for Arrow, which Tarn does not write yet
};

// kInvalidXml for a body that is not such a document (saying what is wrong), and for an unknown
// format or query type.
StatusOr<QueryRequest> ParseQueryRequest(std::string_view xml);

}  // namespace tarn::protocol
