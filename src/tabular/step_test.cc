// Engine::RunStep: a pipeline step over local files, its expectations, its output and its
// confinement.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tabular/sql_text.h"
#include "tabular/tabular.h"

namespace tarn::tabular {
namespace {

namespace fs = std::filesystem;

class StepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("tarn_step_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "in");
    fs::create_directories(root_ / "out");
    opener_ = std::make_unique<LocalFileOpener>((root_ / "in").string());
    Write("sales.csv",
          "id,region,amount\n"
          "1,north,10.5\n"
          "2,south,20\n"
          "2,south,20\n"
          "3,north,\n"
          "4,east,oops\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(root_ / "in" / name) << text;
  }

  StepRequest Request(const std::string& sql) {
    StepRequest req;
    StepInput in;
    in.name = "sales";
    in.opener = opener_.get();
    in.files = {SourceFile{"sales.csv", "raw/sales.csv", -1}};
    in.req.options.infer_column_types = false;
    req.inputs.push_back(std::move(in));
    req.sql = sql;
    req.out_dir = (root_ / "out").string();
    return req;
  }

  fs::path root_;
  std::unique_ptr<LocalFileOpener> opener_;
  Engine engine_;
};

constexpr char kTyped[] =
    "SELECT DISTINCT CAST(id AS BIGINT) AS id, region, TRY_CAST(amount AS DOUBLE) AS amount "
    "FROM sales";

TEST_F(StepTest, WritesPartitionedZstdParquetAndAnswersQueriesOverIt) {
  StepRequest req = Request(kTyped);
  req.partition_by = {"region"};
  req.output_queries = {"SELECT count(*) FROM output",
                        "SELECT count(*) FROM output WHERE amount IS NULL",
                        "SELECT no_such_column FROM output",
                        "SELECT DISTINCT compression FROM parquet_metadata(" +
                            QuoteLiteral(req.out_dir + "/data/**/*.parquet") + ")"};
  auto r = engine_.RunStep(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_out, 4);  // the duplicate row is gone
  EXPECT_EQ(r->rows_quarantined, 0);
  ASSERT_FALSE(r->data_files.empty());
  for (const std::string& f : r->data_files) {
    EXPECT_EQ(f.rfind("data/region=", 0), 0u) << f;
    EXPECT_EQ(fs::path(f).extension(), ".parquet");
  }
  std::vector<std::string> names;
  for (const ColumnInfo& c : r->schema) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "amount", "region"}));
  ASSERT_EQ(r->answers.size(), 4u);
  ASSERT_TRUE(r->answers[0].status.ok()) << r->answers[0].status.ToString();
  EXPECT_EQ(r->answers[0].rows[0][0], "4");
  EXPECT_EQ(r->answers[1].rows[0][0], "2");  // 3 (empty) and 4 ("oops")
  EXPECT_FALSE(r->answers[2].status.ok());
  ASSERT_TRUE(r->answers[3].status.ok()) << r->answers[3].status.ToString();
  ASSERT_EQ(r->answers[3].rows.size(), 1u);
  EXPECT_EQ(r->answers[3].rows[0][0], "ZSTD");

  // The files are zstd Parquet: read back through the engine, with the same rows.
  LocalFileOpener out(req.out_dir);
  std::vector<SourceFile> files;
  for (const std::string& f : r->data_files) files.push_back({f, f, -1});
  ReadRequest read;
  read.format = Format::kParquet;
  auto back = engine_.Summarize(out, files, read);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->row_count, 4);
}

TEST_F(StepTest, ExpectationsWarnDropAndFail) {
  StepRequest req = Request(kTyped);
  req.expectations = {
      {"has_amount", "amount IS NOT NULL", RowExpectation::Action::kDrop},
      {"small", "amount < 15", RowExpectation::Action::kWarn},
  };
  auto r = engine_.RunStep(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->expectation_failures, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r->rows_out, 2);
  EXPECT_EQ(r->rows_quarantined, 2);
  ASSERT_FALSE(r->quarantine_files.empty());
  LocalFileOpener out(req.out_dir);
  std::vector<SourceFile> files;
  for (const std::string& f : r->quarantine_files) files.push_back({f, f, -1});
  ReadRequest read;
  read.format = Format::kParquet;
  auto q = engine_.Read(out, files, read);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->rows, 2);
  ASSERT_EQ(q->columns.back().name, "_reason");
  EXPECT_EQ(q->columns.back().String(0), "has_amount");

  fs::remove_all(req.out_dir);
  fs::create_directories(req.out_dir);
  req.expectations.push_back({"positive", "amount > 15", RowExpectation::Action::kFail});
  auto failed = engine_.RunStep(req);
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->failed_expectation, "positive");
  EXPECT_TRUE(failed->data_files.empty());
  EXPECT_FALSE(fs::exists(fs::path(req.out_dir) / "data"));
}

TEST_F(StepTest, EmptyResultStillHasItsSchema) {
  StepRequest req = Request("SELECT CAST(id AS BIGINT) AS id FROM sales WHERE false");
  req.output_queries = {"SELECT count(*) FROM output"};
  auto r = engine_.RunStep(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_out, 0);
  ASSERT_EQ(r->schema.size(), 1u);
  EXPECT_EQ(r->schema[0].type, "BIGINT");
  EXPECT_EQ(r->answers[0].rows[0][0], "0");
}

TEST_F(StepTest, SqlReadsOnlyItsInputs) {
  for (const char* sql : {
           "SELECT * FROM read_csv('/etc/passwd')",
           "SELECT * FROM read_text('/etc/hostname')",
           "SELECT * FROM glob('/etc/*')",
           "SELECT * FROM read_csv('http://127.0.0.1:1/x.csv')",
       }) {
    auto r = engine_.RunStep(Request(sql));
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), Code::kPermissionDenied) << sql << ": " << r.status().ToString();
  }
  for (const char* sql : {
           "SELECT 1; SELECT 2",
           "COPY sales TO '/tmp/x.csv'",
           "SET enable_external_access = true",
           "ATTACH '/tmp/x.db'",
           "SELECT * FROM sales) TO '/tmp/y.csv'; SELECT (1",
           "SELECT * FROM no_such_table",
           "SELEC 1",
       }) {
    auto r = engine_.RunStep(Request(sql));
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << sql << ": " << r.status().ToString();
  }
  StepRequest req = Request("SELECT * FROM sales");
  req.expectations = {{"evil", "true) FROM sales; SELECT (1", RowExpectation::Action::kWarn}};
  EXPECT_EQ(engine_.RunStep(req).status().code(), Code::kInvalidArgument);
  req.expectations = {{"escape", "(SELECT count(*) FROM read_csv('/etc/passwd')) > 0",
                       RowExpectation::Action::kWarn}};
  EXPECT_EQ(engine_.RunStep(req).status().code(), Code::kPermissionDenied);
  EXPECT_FALSE(fs::exists("/tmp/x.csv"));
}

TEST_F(StepTest, BadInputDataNamesItsFile) {
  StepRequest req = Request("SELECT CAST(amount AS DOUBLE) AS a FROM sales");
  auto r = engine_.RunStep(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("oops"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace tarn::tabular
