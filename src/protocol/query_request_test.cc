// Query Blob Contents: the request document as the SDKs write it, and the answer's Avro framing
// read back by Avro C's own reader.
#include <avro.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "protocol/query_request.h"
#include "protocol/query_response.h"

namespace tarn::protocol {
namespace {

using Input = tabular::BlobQueryRequest::Input;
using Output = tabular::BlobQueryRequest::Output;

TEST(QueryRequest, PythonSdkDelimitedInAndOut) {
  auto q = ParseQueryRequest(
      "<?xml version='1.0' encoding='utf-8'?>\n<QueryRequest><QueryType>SQL</QueryType>"
      "<Expression>SELECT * from BlobStorage</Expression><InputSerialization><Format>"
      "<Type>delimited</Type><DelimitedTextConfiguration><ColumnSeparator>\t</ColumnSeparator>"
      "<FieldQuote>\"</FieldQuote><RecordSeparator>\n</RecordSeparator><EscapeChar />"
      "<HasHeaders>true</HasHeaders></DelimitedTextConfiguration></Format></InputSerialization>"
      "<OutputSerialization><Format><Type>delimited</Type><DelimitedTextConfiguration>"
      "<ColumnSeparator>;</ColumnSeparator><FieldQuote>'</FieldQuote>"
      "<RecordSeparator>.</RecordSeparator>"
      "<EscapeChar>\\</EscapeChar><HasHeaders>false</HasHeaders></DelimitedTextConfiguration>"
      "</Format></OutputSerialization></QueryRequest>");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->expression, "SELECT * from BlobStorage");
  EXPECT_EQ(q->input, Input::kDelimited);
  EXPECT_EQ(q->in, (tabular::DelimitedDialect{"\t", "\"", "\n", "", true}));
  EXPECT_EQ(q->out, (tabular::DelimitedDialect{";", "'", ".", "\\", false}));
}

TEST(QueryRequest, JavaScriptSdkDefaultsAndJson) {
  // The JavaScript SDK sends "\n" as an empty element and no quote by default.
  auto q = ParseQueryRequest(
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><QueryRequest>"
      "<QueryType>SQL</QueryType><Expression>select * from BlobStorage</Expression>"
      "<InputSerialization><Format><Type>delimited</Type><DelimitedTextConfiguration>"
      "<ColumnSeparator>,</ColumnSeparator><FieldQuote/><RecordSeparator></RecordSeparator>"
      "<EscapeChar/><HasHeaders>true</HasHeaders></DelimitedTextConfiguration></Format>"
      "</InputSerialization><OutputSerialization><Format><Type>json</Type>"
      "<JsonTextConfiguration><RecordSeparator>;</RecordSeparator></JsonTextConfiguration>"
      "</Format></OutputSerialization></QueryRequest>");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->in, (tabular::DelimitedDialect{",", "", "\n", "", true}));
  EXPECT_EQ(q->output, Output::kJson);
  EXPECT_EQ(q->out.record_separator, ";");

  auto parquet = ParseQueryRequest(
      "<QueryRequest><QueryType>SQL</QueryType><Expression>SELECT 1 FROM BlobStorage</Expression>"
      "<InputSerialization><Format><Type>parquet</Type></Format></InputSerialization>"
      "</QueryRequest>");
  ASSERT_TRUE(parquet.ok());
  EXPECT_EQ(parquet->input, Input::kParquet);
  EXPECT_EQ(parquet->output, Output::kDelimited);
  EXPECT_EQ(parquet->out, tabular::DelimitedDialect{});
}

TEST(QueryRequest, RefusalsSayWhatIsWrong) {
  auto says = [](const std::string& xml, const std::string& what) {
    auto q = ParseQueryRequest(xml);
    ASSERT_FALSE(q.ok()) << xml;
    EXPECT_EQ(q.status().reason(), Reason::kInvalidXml);
    EXPECT_NE(q.status().message().find(what), std::string::npos) << q.status().message();
  };
  says("not xml <", "not an XML document");
  says("<Other/>", "QueryRequest");
  says("<QueryRequest><QueryType>XQuery</QueryType></QueryRequest>", "SQL");
  says("<QueryRequest><QueryType>SQL</QueryType></QueryRequest>", "<Expression>");
  says("<QueryRequest><QueryType>SQL</QueryType><Expression> </Expression></QueryRequest>",
       "empty");
  says("<QueryRequest><QueryType>SQL</QueryType><Expression>x</Expression><Expression>y"
       "</Expression></QueryRequest>",
       "twice");
  says("<QueryRequest><QueryType>SQL</QueryType><Expression>x</Expression><InputSerialization>"
       "<Format><Type>arrow</Type></Format></InputSerialization></QueryRequest>",
       "input <Type>");
  says("<QueryRequest><QueryType>SQL</QueryType><Expression>x</Expression><InputSerialization>"
       "<Format><Type>csv</Type><DelimitedTextConfiguration><HasHeaders>yes</HasHeaders>"
       "</DelimitedTextConfiguration></Format></InputSerialization></QueryRequest>",
       "HasHeaders");
  says("<QueryRequest><QueryType>SQL</QueryType><Expression>" +
           std::string(kMaxQueryExpression + 1, 'x') + "</Expression></QueryRequest>",
       "256 KiB");
}

// Reads every record of an answer with Avro C's reader: (branch, first field as text).
std::vector<std::pair<int, std::string>> ReadBack(const std::string& bytes) {
  const std::string path = std::filesystem::temp_directory_path() /
                           ("tarn_query_answer_" + std::to_string(::getpid()) + ".avro");
  std::ofstream(path, std::ios::binary) << bytes;
  std::vector<std::pair<int, std::string>> out;
  avro_file_reader_t reader;
  EXPECT_EQ(avro_file_reader(path.c_str(), &reader), 0) << avro_strerror();
  avro_schema_t schema = avro_file_reader_get_writer_schema(reader);
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  avro_generic_value_new(iface, &value);
  while (avro_file_reader_read_value(reader, &value) == 0) {
    int branch = -1;
    avro_value_t record, field;
    avro_value_get_discriminant(&value, &branch);
    avro_value_get_current_branch(&value, &record);
    avro_value_get_by_index(&record, 0, &field, nullptr);
    std::string text;
    if (branch == 0) {
      const void* buf = nullptr;
      size_t size = 0;
      avro_value_get_bytes(&field, &buf, &size);
      text.assign(static_cast<const char*>(buf), size);
    } else if (branch == 1) {
      avro_value_get_by_index(&record, 1, &field, nullptr);
      const char* s = nullptr;
      size_t size = 0;
      avro_value_get_string(&field, &s, &size);
      text = s;
    } else {
      int64_t n = 0;
      avro_value_get_long(&field, &n);
      text = std::to_string(n);
    }
    out.emplace_back(branch, text);
  }
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);  // the reader hands out a reference of its own
  avro_file_reader_close(reader);
  std::filesystem::remove(path);
  return out;
}

TEST(QueryResponse, RecordsInAzuresOrderOnePerBlock) {
  QueryResponse answer("");
  ASSERT_TRUE(answer.Data({}).ok());  // the first record is data, even when there is none
  ASSERT_TRUE(answer.Data("a,b\n").ok());
  ASSERT_TRUE(answer.Progress(10, 20).ok());
  ASSERT_TRUE(answer.Failure(true, "ParseError", "bad line", 12).ok());
  ASSERT_TRUE(answer.End(20).ok());
  auto bytes = answer.Bytes();
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->substr(0, 4), std::string("Obj\x01", 4));
  // The schema names each record by its full name, as the JavaScript SDK needs.
  EXPECT_NE(bytes->find("\"name\": \"com.microsoft.azure.storage.queryBlobContents.end\""),
            std::string::npos);
  auto records = ReadBack(*bytes);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0], (std::pair<int, std::string>{0, ""}));
  EXPECT_EQ(records[1], (std::pair<int, std::string>{0, "a,b\n"}));
  EXPECT_EQ(records[2], (std::pair<int, std::string>{2, "10"}));
  EXPECT_EQ(records[3], (std::pair<int, std::string>{1, "ParseError"}));
  EXPECT_EQ(records[4], (std::pair<int, std::string>{3, "20"}));
}

TEST(QueryResponse, LargeAnswersSpillToAnUnlinkedFile) {
  QueryResponse answer(std::filesystem::temp_directory_path().string());
  const std::string piece(3 << 20, 'x');
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(answer.Data(piece).ok());
  ASSERT_TRUE(answer.End(1).ok());
  EXPECT_GE(answer.fd(), 0);
  auto bytes = answer.Bytes();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(static_cast<int64_t>(bytes->size()), answer.size());
  auto records = ReadBack(*bytes);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[3].second, piece);
}

}  // namespace
}  // namespace tarn::protocol
