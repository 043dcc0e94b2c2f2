// QueryBlob: Azure's query dialect over one file, its formats, its errors and its confinement.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tabular/tabular.h"

namespace tarn::tabular {
namespace {

namespace fs = std::filesystem;

class BlobQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("tarn_blob_query_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    opener_ = std::make_unique<LocalFileOpener>(root_.string());
    Write("sales.csv",
          "id,region,amount\n"
          "1,north,10.5\n"
          "2,\"south, far\",20\n"
          "3,north,\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(root_ / name, std::ios::binary) << text;
  }

  BlobQueryRequest Request(const std::string& sql, const std::string& file = "sales.csv") {
    BlobQueryRequest req;
    req.opener = opener_.get();
    req.file = {file, "raw/" + file, -1};
    req.expression = sql;
    req.sink = [this](std::string_view data, int64_t scanned) {
      out_ += data;
      ++pieces_;
      last_scanned_ = scanned;
      return Status::Ok();
    };
    return req;
  }

  fs::path root_;
  std::unique_ptr<LocalFileOpener> opener_;
  std::string out_;
  int pieces_ = 0;
  int64_t last_scanned_ = 0;
};

TEST_F(BlobQueryTest, WithoutHeadersFieldsAreOrdinalsAndStringsComparedAsNumbers) {
  auto r = QueryBlob(Request("SELECT _1, _3 FROM BlobStorage WHERE _3 > 15"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(out_, "2,20\n");
  EXPECT_EQ(r->rows, 1);
  EXPECT_EQ(r->bytes_out, 5);
  EXPECT_FALSE(r->error);
  EXPECT_GT(r->scanned, 0);
}

TEST_F(BlobQueryTest, SelectStarGivesTheFieldsBackAsWritten) {
  BlobQueryRequest req = Request("select * from blobstorage;");
  req.in.headers = true;
  auto r = QueryBlob(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Quoted again where a field holds the separator; an empty field stays empty.
  EXPECT_EQ(out_, "1,north,10.5\n2,\"south, far\",20\n3,north,\n");
}

TEST_F(BlobQueryTest, HeadersNameFieldsAndOutputDialectIsAzures) {
  BlobQueryRequest req = Request("SELECT region, amount FROM BlobStorage WHERE id <> '3'");
  req.in.headers = true;
  req.out = {";", "'", ".", "\\", true};
  auto r = QueryBlob(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(out_, "region;amount.north;'10.5'.south, far;20.");
}

TEST_F(BlobQueryTest, FieldsUsedAsNumbersAreReadAsNumbers) {
  // The header row, read as data here, converts to no number: it drops out of comparisons.
  for (const char* sql : {"SELECT _1 FROM BlobStorage WHERE _3 BETWEEN 10 AND 15",
                          "SELECT _1 FROM BlobStorage WHERE _3 * 2 = 21",
                          "SELECT _1 FROM BlobStorage WHERE _3 IN (10.5, 11)",
                          "SELECT _1 FROM BlobStorage WHERE 15 >= _3"}) {
    out_.clear();
    auto r = QueryBlob(Request(sql));
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    EXPECT_EQ(out_, "1\n") << sql;
  }
  out_.clear();
  auto sum = QueryBlob(Request("SELECT sum(_3), avg(_1), max(_2) FROM BlobStorage"));
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(out_, "30.5,2.0,\"south, far\"\n");
}

TEST_F(BlobQueryTest, JsonOutputOfDelimitedInputIsStrings) {
  BlobQueryRequest req = Request("SELECT _2 FROM BlobStorage WHERE _1 > 1");
  req.output = BlobQueryRequest::Output::kJson;
  auto r = QueryBlob(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(out_, "{\"_2\":\"south, far\"}\n{\"_2\":\"north\"}\n");
}

TEST_F(BlobQueryTest, JsonInputKeepsTypesAndAggregates) {
  Write("a.json", "{\"name\":\"owner\",\"n\":1}\n{\"name\":\"b\",\"n\":2.5}\n");
  BlobQueryRequest req = Request("SELECT name, n FROM BlobStorage[*] WHERE n > 2", "a.json");
  req.input = BlobQueryRequest::Input::kJson;
  req.output = BlobQueryRequest::Output::kJson;
  req.out.record_separator = ";";
  auto r = QueryBlob(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(out_, "{\"name\":\"b\",\"n\":2.5};");

  out_.clear();
  BlobQueryRequest sum = Request("SELECT sum(n) FROM BlobStorage", "a.json");
  sum.input = BlobQueryRequest::Input::kJson;
  ASSERT_TRUE(QueryBlob(sum).ok());
  EXPECT_EQ(out_, "3.5\n");
}

TEST_F(BlobQueryTest, BadExpressionsAreInvalidInputSayingWhy) {
  auto expect = [&](const std::string& sql, const std::string& says) {
    auto r = QueryBlob(Request(sql));
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().reason(), Reason::kInvalidInput) << sql;
    EXPECT_NE(r.status().message().find(says), std::string::npos)
        << sql << ": " << r.status().message();
  };
  expect("SELECT FROM WHERE", "does not parse");
  expect("SELECT _9 FROM BlobStorage", "_9");
  expect("SELECT * FROM BlobStorage; SELECT 1", "one SELECT");
  expect("SELECT * FROM range(10)", "FROM BlobStorage");
  expect("SELECT * FROM BlobStorage a, BlobStorage b", "FROM BlobStorage");
  expect("SELECT * FROM BlobStorage WHERE _1 IN (SELECT 1)", "subquery");
  expect("SELECT * FROM BlobStorage UNION ALL SELECT * FROM BlobStorage", "UNION");
  expect("WITH x AS (SELECT 1) SELECT * FROM BlobStorage", "WITH");
  expect("SELECT * FROM BlobStorage[*].items", "JSON path");
  expect("SELECT lower(_1, _2) FROM BlobStorage", "lower");
}

TEST_F(BlobQueryTest, ConfinedToItsFile) {
  for (const char* sql :
       {"SELECT * FROM BlobStorage WHERE _1 = (SELECT 1 FROM read_csv('/etc/passwd'))",
        "SELECT read_text('/etc/passwd') FROM BlobStorage"}) {
    auto r = QueryBlob(Request(sql));
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(out_, "") << sql;
  }
}

TEST_F(BlobQueryTest, ConversionFailureAfterRowsIsReportedInTheResult) {
  auto r = QueryBlob(Request("SELECT CAST(_3 AS DOUBLE) FROM BlobStorage"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->name, "InvalidTypeConversion");
  EXPECT_NE(r->error->description.find("amount"), std::string::npos) << r->error->description;
}

TEST_F(BlobQueryTest, OutputComesInPiecesOfWholeRecordsAndIsCapped) {
  std::string big;
  for (int i = 0; i < 20000; ++i) big += std::to_string(i) + ",row" + std::to_string(i) + "\n";
  Write("big.csv", big);
  BlobQueryRequest req = Request("SELECT * FROM BlobStorage", "big.csv");
  req.piece_bytes = 4096;
  auto r = QueryBlob(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(out_, big);
  EXPECT_GE(pieces_, 5);
  EXPECT_EQ(last_scanned_, static_cast<int64_t>(big.size()));

  out_.clear();
  req.max_output_bytes = 1000;
  r = QueryBlob(req);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->name, "OutputTooLarge");
  EXPECT_LE(out_.size(), 1000u);
}

TEST_F(BlobQueryTest, NotTheFormatItClaimsIsAFailedPrecondition) {
  BlobQueryRequest req = Request("SELECT * FROM BlobStorage");
  req.input = BlobQueryRequest::Input::kParquet;
  auto r = QueryBlob(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("raw/sales.csv"), std::string::npos)
      << r.status().message();
}

TEST(BlobQuerySql, RewritesOnlyTheTableReference) {
  EXPECT_EQ(*BlobQuerySql("SELECT * FROM BlobStorage[*] WHERE x = 'BlobStorage[*]'"),
            "SELECT * FROM BlobStorage WHERE x = 'BlobStorage[*]'");
  EXPECT_EQ(*BlobQuerySql("select \"BlobStorage\" from blobstorage [*]"),
            "select \"BlobStorage\" from blobstorage");
  EXPECT_FALSE(BlobQuerySql("SELECT * FROM BlobStorage[*].a[*]").ok());
  EXPECT_FALSE(BlobQuerySql("SELECT * FROM DataLakeStorage.x").ok());
  EXPECT_TRUE(BlobQuerySql("SELECT 'unterminated").ok());
}

}  // namespace
}  // namespace tarn::tabular
