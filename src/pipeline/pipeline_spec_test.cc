#include "pipeline/pipeline_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <limits>

namespace tarn::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using Kind = Check::Kind;

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

int64_t Utc(int y, int mon, int d, int h = 0, int min = 0, int s = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = min;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

// The message of a pipeline that must not parse.
std::string Error(const std::string& text) {
  auto p = ParsePipeline(text, "p.yaml");
  EXPECT_FALSE(p.ok()) << text;
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), Code::kInvalidArgument);
  return p.status().message();
}

std::string CheckError(const std::string& text, const std::string& config = "") {
  auto c = ParseCheck(text, config);
  EXPECT_FALSE(c.ok()) << text;
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  return c.status().message();
}

Check MustCheck(const std::string& text, const std::string& config = "") {
  auto c = ParseCheck(text, config);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status().message();
  return c.ok() ? *c : Check{};
}

// One step, `extra` inserted among its keys (4-space indented).
std::string OneStep(const std::string& extra) {
  return "version: 1\n"
         "name: p\n"
         "steps:\n"
         "  - name: a\n"
         "    sql: SELECT 1\n"
         "    output: {dataset: x, datastore: s, path: p}\n" +
         extra;
}

const char kFull[] = R"(version: 1
name: sales_curated
schedule: "0 2 * * *"
on_arrival: [{datastore: raw, path: pos/}, {datastore: landing}]
steps:
  - name: publish
    inputs:
      clean: sales_clean:2
    sql: SELECT * FROM clean
    output: {dataset: sales_published, datastore: product, path: sales}
  - name: clean
    inputs:
      sales: pos_raw
      regions: {dataset: regions, version: 3}
      old: {dataset: pos_old, version: latest}
    sql: |
      SELECT CAST(id AS BIGINT) AS id, region, TRY_CAST(amount AS DOUBLE) AS amount
      FROM sales
    expectations:
      - {name: amount_present, expect: amount IS NOT NULL, on_fail: drop}
      - {name: id-present, expect: id IS NOT NULL}
      - {name: sane, expect: amount < 1e9, on_fail: fail}
    output:
      dataset: sales_clean
      datastore: curated
      path: sales/orders/
      partition_by: [region, "sold day"]
      target_file_size: 64MB
    checks:
      - row_count > 0
      - missing_count(amount) = 0
      - duplicate_count(id) = 0
      - invalid_count(region) = 0:
          valid values: [north, south]
      - freshness(sold_at) < 1d
      - schema:
          fail:
            when required column missing: [id, amount]
            when wrong column type: {id: bigint}
      - failed rows:
          name: no negative amounts
          fail query: SELECT * FROM output WHERE amount < 0
      - change percent for row_count between -20 and +20
)";

TEST(PipelineSpec, ParsesAFullFile) {
  auto p = ParsePipeline(kFull, "pipeline.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->version, 1);
  EXPECT_EQ(p->name, "sales_curated");
  ASSERT_TRUE(p->schedule.has_value());
  EXPECT_EQ(p->schedule->text, "0 2 * * *");
  ASSERT_EQ(p->on_arrival.size(), 2u);
  EXPECT_EQ(p->on_arrival[0].datastore, "raw");
  EXPECT_EQ(p->on_arrival[0].path, "pos");
  EXPECT_EQ(p->on_arrival[1].datastore, "landing");
  EXPECT_EQ(p->on_arrival[1].path, "");

  ASSERT_EQ(p->steps.size(), 2u);
  // publish reads what clean writes: clean runs first.
  const Step& clean = p->steps[0];
  const Step& publish = p->steps[1];
  EXPECT_EQ(clean.name, "clean");
  EXPECT_EQ(publish.name, "publish");
  EXPECT_EQ(clean.line, 11);
  EXPECT_EQ(publish.line, 6);

  ASSERT_EQ(publish.inputs.size(), 1u);
  EXPECT_EQ(publish.inputs[0].alias, "clean");
  EXPECT_EQ(publish.inputs[0].dataset, "sales_clean");
  EXPECT_EQ(publish.inputs[0].version, "2");
  EXPECT_EQ(publish.output.path, "sales");
  EXPECT_EQ(publish.output.target_file_bytes, 128LL << 20);

  ASSERT_EQ(clean.inputs.size(), 3u);
  EXPECT_EQ(clean.inputs[0].alias, "sales");
  EXPECT_EQ(clean.inputs[0].dataset, "pos_raw");
  EXPECT_EQ(clean.inputs[0].version, "latest");
  EXPECT_EQ(clean.inputs[1].alias, "regions");
  EXPECT_EQ(clean.inputs[1].dataset, "regions");
  EXPECT_EQ(clean.inputs[1].version, "3");
  EXPECT_EQ(clean.inputs[2].version, "latest");
  EXPECT_THAT(clean.sql, StartsWith("SELECT CAST(id AS BIGINT)"));

  ASSERT_EQ(clean.expectations.size(), 3u);
  EXPECT_EQ(clean.expectations[0].name, "amount_present");
  EXPECT_EQ(clean.expectations[0].condition, "amount IS NOT NULL");
  EXPECT_EQ(clean.expectations[0].on_fail, OnFail::kDrop);
  EXPECT_EQ(clean.expectations[1].on_fail, OnFail::kWarn);
  EXPECT_EQ(clean.expectations[2].on_fail, OnFail::kFail);
  EXPECT_EQ(OnFailName(OnFail::kDrop), "drop");
  EXPECT_EQ(OnFailName(OnFail::kWarn), "warn");
  EXPECT_EQ(OnFailName(OnFail::kFail), "fail");

  EXPECT_EQ(clean.output.dataset, "sales_clean");
  EXPECT_EQ(clean.output.datastore, "curated");
  EXPECT_EQ(clean.output.path, "sales/orders");
  EXPECT_EQ(clean.output.partition_by, (std::vector<std::string>{"region", "sold day"}));
  EXPECT_EQ(clean.output.target_file_bytes, 64LL << 20);

  const auto& c = clean.checks;
  ASSERT_EQ(c.size(), 8u);
  EXPECT_EQ(c[0].kind, Kind::kRowCount);
  EXPECT_EQ(c[0].text, "row_count > 0");
  EXPECT_EQ(c[0].line, 30);
  EXPECT_EQ(c[1].kind, Kind::kMissingCount);
  EXPECT_EQ(c[2].kind, Kind::kDuplicateCount);
  EXPECT_EQ(c[3].kind, Kind::kInvalidCount);
  EXPECT_EQ(c[3].text, "invalid_count(region) = 0");
  EXPECT_EQ(c[3].valid_values, (std::vector<std::string>{"north", "south"}));
  EXPECT_EQ(c[3].line, 33);
  EXPECT_EQ(c[4].kind, Kind::kFreshness);
  EXPECT_EQ(c[4].threshold, 86400);
  EXPECT_EQ(c[5].kind, Kind::kSchema);
  EXPECT_EQ(c[5].required_columns, (std::vector<std::string>{"id", "amount"}));
  EXPECT_EQ(c[5].column_types.at("id"), "BIGINT");
  EXPECT_EQ(c[6].kind, Kind::kFailedRows);
  EXPECT_EQ(c[6].name, "no negative amounts");
  EXPECT_EQ(c[6].query, "SELECT * FROM output WHERE amount < 0");
  EXPECT_EQ(c[7].kind, Kind::kChange);
  EXPECT_TRUE(c[7].percent);
  EXPECT_EQ(c[7].op, Op::kBetween);
  EXPECT_EQ(c[7].threshold, -20);
  EXPECT_EQ(c[7].threshold_hi, 20);
}

TEST(PipelineSpec, MinimalFile) {
  auto p = ParsePipeline(OneStep(""), "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FALSE(p->schedule.has_value());
  ASSERT_EQ(p->steps.size(), 1u);
  EXPECT_TRUE(p->steps[0].inputs.empty());
  EXPECT_TRUE(p->steps[0].checks.empty());
}

TEST(PipelineSpec, UnknownKeyHasItsPosition) {
  EXPECT_THAT(Error(OneStep("    outptu: 1\n")),
              StartsWith("p.yaml:7:5: unknown key 'outptu' in a step (known: name, inputs"));
  EXPECT_THAT(Error("version: 1\nname: p\nsteps: []\ncron: x\n"),
              StartsWith("p.yaml:4:1: unknown key 'cron' in the pipeline"));
  EXPECT_THAT(Error("version: 1\nname: p\nname: q\nsteps: []\n"),
              StartsWith("p.yaml:3:1: 'name' is given twice"));
  EXPECT_THAT(Error(OneStep("    checks:\n      - failed rows:\n          fail query: SELECT 1\n"
                            "          naem: x\n")),
              StartsWith("p.yaml:10:11: check 'failed rows': unknown key 'naem'"));
}

TEST(PipelineSpec, BadYamlHasItsPosition) {
  EXPECT_THAT(Error("version: 1\nname: [a\nsteps: x\n"),
              MatchesRegex("p\\.yaml:[0-9]+:[0-9]+: not valid YAML: .*"));
  EXPECT_THAT(Error("version: 1\n  bad: indentation\n"),
              MatchesRegex("p\\.yaml:2:[0-9]+: not valid YAML: .*"));
  EXPECT_THAT(Error(""), HasSubstr("the pipeline must be a mapping"));
  EXPECT_THAT(Error("- a\n"), StartsWith("p.yaml:1:1: the pipeline must be a mapping"));
}

TEST(PipelineSpec, RequiredFields) {
  EXPECT_THAT(Error("name: p\nsteps: []\n"), HasSubstr("'version: 1' is required"));
  EXPECT_THAT(Error("version: 2\nname: p\nsteps: []\n"),
              StartsWith("p.yaml:1:10: 'version: 1' is required"));
  EXPECT_THAT(Error("version: 1\nname: p\nsteps: []\n"),
              StartsWith("p.yaml:3:8: 'steps' must be a non-empty list"));
  EXPECT_THAT(Error("version: 1\nname: p q\nsteps: []\n"),
              StartsWith("p.yaml:2:7: pipeline name 'p q' must be"));
  EXPECT_THAT(Error("version: 1\nname: p\nsteps:\n  - name: a\n"
                    "    output: {dataset: x, datastore: s, path: p}\n"),
              StartsWith("p.yaml:4:5: step 'a' needs 'sql'"));
  EXPECT_THAT(Error("version: 1\nname: p\nsteps:\n  - name: a\n    sql: \"\"\n"
                    "    output: {dataset: x, datastore: s, path: p}\n"),
              StartsWith("p.yaml:5:10: step 'a''s sql must be a non-empty string"));
  EXPECT_THAT(Error("version: 1\nname: p\nsteps:\n  - name: a\n    sql: SELECT 1\n"),
              StartsWith("p.yaml:4:5: step 'a' needs an output"));
  EXPECT_THAT(Error("version: 1\nname: p\nsteps:\n  - name: a\n    sql: SELECT 1\n"
                    "    output: {dataset: x, path: p}\n"),
              StartsWith("p.yaml:6:13: the output of step 'a' needs 'datastore'"));
  EXPECT_THAT(Error(OneStep("    expectations:\n      - {name: e}\n")),
              StartsWith("p.yaml:8:9: an expectation needs a name and 'expect'"));
  EXPECT_THAT(Error(OneStep("    expectations:\n      - {name: e, expect: x > 1, on_fail: die}\n")),
              StartsWith("p.yaml:8:43: on_fail must be warn, drop or fail"));
  EXPECT_THAT(Error(OneStep("    expectations:\n      - {name: e, expect: x}\n"
                            "      - {name: e, expect: y}\n")),
              StartsWith("p.yaml:9:16: step 'a': expectation 'e' is given twice"));
}

TEST(PipelineSpec, Inputs) {
  auto input = [](const std::string& value) {
    return OneStep("    inputs:\n      src: " + value + "\n");
  };
  for (const auto& [value, dataset, version] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"ds", "ds", "latest"},
           {"ds:7", "ds", "7"},
           {"ds:latest", "ds", "latest"},
           {"ds:007", "ds", "7"},
           {"{dataset: ds.v2, version: 12}", "ds.v2", "12"},
           {"{dataset: ds}", "ds", "latest"}}) {
    auto p = ParsePipeline(input(value), "p.yaml");
    ASSERT_TRUE(p.ok()) << value << ": " << p.status().message();
    ASSERT_EQ(p->steps[0].inputs.size(), 1u);
    EXPECT_EQ(p->steps[0].inputs[0].dataset, dataset) << value;
    EXPECT_EQ(p->steps[0].inputs[0].version, version) << value;
  }
  EXPECT_THAT(Error(input("ds:0")), StartsWith("p.yaml:8:12: input 'src': version '0' must be"));
  EXPECT_THAT(Error(input("ds:x")), HasSubstr("version 'x' must be 'latest' or a positive"));
  EXPECT_THAT(Error(input("\"a/b\"")), HasSubstr("'a/b' is not a dataset name"));
  EXPECT_THAT(Error(input("{dataset: ds, version: -1}")),
              StartsWith("p.yaml:8:35: input 'src': version '-1'"));
  EXPECT_THAT(Error(input("{dataset: ds, versoin: 1}")), HasSubstr("unknown key 'versoin'"));
  EXPECT_THAT(Error(input("[a]")), HasSubstr("must be a dataset name, dataset:version"));
}

TEST(PipelineSpec, BadAlias) {
  auto aliased = [](const std::string& alias) {
    return OneStep("    inputs:\n      " + alias + ": ds\n");
  };
  EXPECT_THAT(Error(aliased("1sales")),
              StartsWith("p.yaml:8:7: input alias '1sales' must be a plain SQL name"));
  EXPECT_THAT(Error(aliased("my-sales")), HasSubstr("input alias 'my-sales'"));
  EXPECT_THAT(Error(aliased("Output")), HasSubstr("other than 'output'"));
  EXPECT_THAT(Error(OneStep("    inputs:\n      Sales: a\n      sales: b\n")),
              StartsWith("p.yaml:9:7: step 'a': input alias 'sales' is used twice"));
  EXPECT_TRUE(ParsePipeline(aliased("_sales2"), "p.yaml").ok());
}

TEST(PipelineSpec, DuplicateStepsAndOutputs) {
  const std::string two =
      "version: 1\nname: p\nsteps:\n"
      "  - {name: a, sql: SELECT 1, output: {dataset: x, datastore: s, path: p}}\n"
      "  - {name: a, sql: SELECT 1, output: {dataset: y, datastore: s, path: q}}\n";
  EXPECT_THAT(Error(two), StartsWith("p.yaml:5:12: step name 'a' is used twice"));
  const std::string same_output =
      "version: 1\nname: p\nsteps:\n"
      "  - {name: a, sql: SELECT 1, output: {dataset: x, datastore: s, path: p}}\n"
      "  - {name: b, sql: SELECT 1, output: {dataset: x, datastore: s, path: q}}\n";
  EXPECT_THAT(Error(same_output),
              StartsWith("p.yaml:5:48: steps 'a' and 'b' both write dataset 'x'"));
}

// A step per line: name, what it reads, what it writes.
std::string Graph(const std::vector<std::tuple<std::string, std::string, std::string>>& steps) {
  std::string text = "version: 1\nname: p\nsteps:\n";
  for (const auto& [name, reads, writes] : steps) {
    text += "  - name: " + name + "\n";
    if (!reads.empty()) text += "    inputs: {in: " + reads + "}\n";
    text += "    sql: SELECT 1\n    output: {dataset: " + writes + ", datastore: s, path: " +
            name + "}\n";
  }
  return text;
}

std::vector<std::string> Order(const std::string& text) {
  auto p = ParsePipeline(text, "p.yaml");
  EXPECT_TRUE(p.ok()) << p.status().message();
  std::vector<std::string> out;
  if (p.ok()) {
    for (const Step& s : p->steps) out.push_back(s.name);
  }
  return out;
}

TEST(PipelineSpec, StepsComeInRunOrder) {
  // c reads b's output, b reads a's; d and e are independent and keep their file order.
  EXPECT_EQ(Order(Graph({{"d", "", "dd"},
                         {"c", "bb", "cc"},
                         {"b", "aa", "bb"},
                         {"e", "raw", "ee"},
                         {"a", "raw", "aa"}})),
            (std::vector<std::string>{"d", "e", "a", "b", "c"}));
  EXPECT_EQ(Order(Graph({{"x", "", "1"}, {"y", "", "2"}, {"z", "", "3"}})),
            (std::vector<std::string>{"x", "y", "z"}));
  // A step reading two others runs after both.
  std::string fan = "version: 1\nname: p\nsteps:\n"
                    "  - {name: join, inputs: {l: left, r: right}, sql: SELECT 1,"
                    " output: {dataset: joined, datastore: s, path: j}}\n"
                    "  - {name: r, sql: SELECT 1,"
                    " output: {dataset: right, datastore: s, path: r}}\n"
                    "  - {name: l, sql: SELECT 1,"
                    " output: {dataset: left, datastore: s, path: l}}\n";
  EXPECT_EQ(Order(fan), (std::vector<std::string>{"r", "l", "join"}));
}

TEST(PipelineSpec, CycleNamesItsSteps) {
  EXPECT_THAT(Error(Graph({{"a", "y", "x"}, {"b", "x", "y"}})),
              StartsWith("p.yaml:4:5: steps form a cycle: a -> b -> a"));
  EXPECT_THAT(Error(Graph({{"free", "", "f"}, {"b", "x", "y"}, {"c", "y", "z"}, {"a", "z", "x"}})),
              StartsWith("p.yaml:7:5: steps form a cycle: b -> c -> a -> b"));
  // Reading its own output is a cycle too.
  EXPECT_THAT(Error(Graph({{"self", "x", "x"}})),
              StartsWith("p.yaml:4:5: steps form a cycle: self -> self"));
}

TEST(PipelineSpec, Output) {
  auto output = [](const std::string& rest) {
    return "version: 1\nname: p\nsteps:\n  - name: a\n    sql: SELECT 1\n"
           "    output: {dataset: x, datastore: s, " +
           rest + "}\n";
  };
  auto bytes = [&](const std::string& size) -> int64_t {
    auto p = ParsePipeline(output("path: p, target_file_size: " + size), "p.yaml");
    EXPECT_TRUE(p.ok()) << size << ": " << p.status().message();
    return p.ok() ? p->steps[0].output.target_file_bytes : -1;
  };
  EXPECT_EQ(bytes("64MB"), 64LL << 20);
  EXPECT_EQ(bytes("64 mb"), 64LL << 20);
  EXPECT_EQ(bytes("1GB"), 1LL << 30);
  EXPECT_EQ(bytes("1GiB"), 1LL << 30);
  EXPECT_EQ(bytes("1.5GB"), 3LL << 29);
  EXPECT_EQ(bytes("2048KiB"), 2LL << 20);
  EXPECT_EQ(bytes("1048576"), 1LL << 20);
  EXPECT_EQ(bytes("16GB"), 16LL << 30);
  for (const char* bad : {"500KB", "17GB", "12 parsecs", "-5MB", "MB", "1e9", "[1]"}) {
    EXPECT_THAT(Error(output(std::string("path: p, target_file_size: ") + bad)),
                StartsWith("p.yaml:6:67: target_file_size must be a size from 1MiB to 16GiB"))
        << bad;
  }
  auto path = [&](const std::string& p) {
    auto parsed = ParsePipeline(output("path: " + p), "p.yaml");
    return parsed.ok() ? parsed->steps[0].output.path : "error: " + parsed.status().message();
  };
  EXPECT_EQ(path("a/b/"), "a/b");
  EXPECT_EQ(path("a//"), "a");
  EXPECT_EQ(path("\"x y/z\""), "x y/z");
  for (const char* bad : {"/abs", "a//b", "a/../b", "./a", "..", "\"/\"", "\"a\\tb\""}) {
    EXPECT_THAT(path(bad), StartsWith("error: p.yaml:6:46: path ")) << bad;
  }
  EXPECT_THAT(Error(output("path: p, partition_by: [a, \"\"]")),
              HasSubstr("a column name must be a non-empty string"));
  EXPECT_THAT(Error(output("path: p, partition_by: [a, a]")), HasSubstr("listed twice"));
  EXPECT_THAT(Error(output("path: p, partition_by: a")), HasSubstr("must be a non-empty list"));
  EXPECT_THAT(Error("version: 1\nname: p\nsteps:\n  - name: a\n    sql: SELECT 1\n"
                    "    output: {dataset: x, datastore: \"\", path: p}\n"),
              StartsWith("p.yaml:6:37: datastore must be a non-empty string"));
}

TEST(PipelineSpec, ScheduleAndArrivals) {
  auto scheduled = [](const std::string& schedule) {
    return "version: 1\nname: p\nschedule: " + schedule +
           "\nsteps:\n  - {name: a, sql: SELECT 1, output: {dataset: x, datastore: s, path: p}}\n";
  };
  auto p = ParsePipeline(scheduled("\"*/15 9-17 * * mon-fri\""), "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->schedule->hours, 0x3fe00u);
  EXPECT_THAT(Error(scheduled("\"0 25 * * *\"")),
              StartsWith("p.yaml:3:11: schedule '0 25 * * *': hour '25'"));
  EXPECT_THAT(Error(scheduled("\"0 2 * *\"")), StartsWith("p.yaml:3:11: a schedule is five"));
  EXPECT_THAT(Error(scheduled("[1]")), StartsWith("p.yaml:3:11: schedule must be"));

  EXPECT_THAT(Error("version: 1\nname: p\non_arrival: [{path: x}]\nsteps: []\n"),
              StartsWith("p.yaml:3:14: an on_arrival entry needs a datastore"));
  EXPECT_THAT(Error("version: 1\nname: p\non_arrival: [{datastore: r, path: /x}]\nsteps: []\n"),
              StartsWith("p.yaml:3:35: path must be a relative folder"));
}

TEST(PipelineSpec, BadChecksHaveTheirPositions) {
  auto checks = [](const std::string& list) { return OneStep("    checks:\n" + list); };
  EXPECT_THAT(Error(checks("      - avg(amount) > 1\n")),
              StartsWith("p.yaml:8:9: check 'avg(amount) > 1': unknown check 'avg' (known: "
                         "row_count, missing_count(col)"));
  EXPECT_THAT(Error(checks("      - invalid_count(region) = 0\n")),
              StartsWith("p.yaml:8:9: check 'invalid_count(region) = 0': invalid_count needs "
                         "settings"));
  EXPECT_THAT(Error(checks("      - invalid_count(code) = 0:\n          valid regex: \"[a-\"\n")),
              StartsWith("p.yaml:9:24: check 'invalid_count(code) = 0': valid regex does not "
                         "compile: "));
  EXPECT_THAT(Error(checks("      - row_count > 0:\n          x: 1\n")),
              StartsWith("p.yaml:9:11: check 'row_count > 0': 'row_count > 0' takes no settings"));
  // Settings not indented under their check: two keys in one entry.
  EXPECT_THAT(Error(checks("      - invalid_count(r) = 0:\n        valid values: [a]\n")),
              StartsWith("p.yaml:8:9: a check is its text"));
  EXPECT_THAT(Error(checks("      - [row_count]\n")),
              StartsWith("p.yaml:8:9: a check is its text"));
  EXPECT_THAT(Error(checks("      - schema:\n          fail: {}\n")),
              StartsWith("p.yaml:9:17: check 'schema': schema's fail needs"));
  EXPECT_THAT(Error(checks("      - failed rows:\n          name: x\n")),
              StartsWith("p.yaml:9:11: check 'failed rows': failed rows needs a 'fail query'"));
}

TEST(ParseCheck, EveryForm) {
  Check c = MustCheck("row_count > 0");
  EXPECT_EQ(c.kind, Kind::kRowCount);
  EXPECT_EQ(c.op, Op::kGt);
  EXPECT_EQ(c.threshold, 0);
  EXPECT_TRUE(c.columns.empty());

  c = MustCheck("row_count>=10");
  EXPECT_EQ(c.op, Op::kGe);
  EXPECT_EQ(c.threshold, 10);
  EXPECT_EQ(MustCheck("row_count <= 3").op, Op::kLe);
  EXPECT_EQ(MustCheck("row_count < 3").op, Op::kLt);
  EXPECT_EQ(MustCheck("row_count = 3").op, Op::kEq);
  c = MustCheck("row_count != -1.5");
  EXPECT_EQ(c.op, Op::kNe);
  EXPECT_EQ(c.threshold, -1.5);
  c = MustCheck("row_count not between 1 and +5.25");
  EXPECT_EQ(c.op, Op::kNotBetween);
  EXPECT_EQ(c.threshold, 1);
  EXPECT_EQ(c.threshold_hi, 5.25);

  c = MustCheck("missing_count(amount) = 0");
  EXPECT_EQ(c.kind, Kind::kMissingCount);
  EXPECT_EQ(c.columns, (std::vector<std::string>{"amount"}));
  EXPECT_EQ(c.text, "missing_count(amount) = 0");

  c = MustCheck("duplicate_count( id , \"my col\",\"a\"\"b\") = 0");
  EXPECT_EQ(c.kind, Kind::kDuplicateCount);
  EXPECT_EQ(c.columns, (std::vector<std::string>{"id", "my col", "a\"b"}));

  c = MustCheck("invalid_count(region) < 5",
                "valid values: [north, 7, \"it's\"]\nvalid min: -1\nvalid max: 10.5\n"
                "valid regex: '[a-z]+\\d'");
  EXPECT_EQ(c.kind, Kind::kInvalidCount);
  EXPECT_EQ(c.valid_values, (std::vector<std::string>{"north", "7", "it's"}));
  EXPECT_EQ(c.valid_min, -1);
  EXPECT_EQ(c.valid_max, 10.5);
  EXPECT_EQ(c.valid_regex, "[a-z]+\\d");

  c = MustCheck("freshness(sold_at) < 1d");
  EXPECT_EQ(c.kind, Kind::kFreshness);
  EXPECT_EQ(c.threshold, 86400);
  c = MustCheck("freshness(\"sold at\") between 30m and 12h");
  EXPECT_EQ(c.op, Op::kBetween);
  EXPECT_EQ(c.threshold, 1800);
  EXPECT_EQ(c.threshold_hi, 43200);
  EXPECT_EQ(MustCheck("freshness(t) <= 45s").threshold, 45);

  c = MustCheck("schema",
                "fail:\n  when required column missing: [id, \"my col\"]\n"
                "  when wrong column type: {id: bigint, amount: \"decimal(18,2)\"}\n");
  EXPECT_EQ(c.kind, Kind::kSchema);
  EXPECT_EQ(c.required_columns, (std::vector<std::string>{"id", "my col"}));
  EXPECT_EQ(c.column_types,
            (std::map<std::string, std::string>{{"id", "BIGINT"}, {"amount", "DECIMAL(18,2)"}}));
  EXPECT_EQ(MustCheck("schema", "fail: {when wrong column type: {a: int}}").column_types.size(),
            1u);

  c = MustCheck("failed rows", "fail query: SELECT * FROM output WHERE x < 0;\n");
  EXPECT_EQ(c.kind, Kind::kFailedRows);
  EXPECT_EQ(c.op, Op::kGt);
  EXPECT_EQ(c.threshold, 0);
  EXPECT_EQ(c.query, "SELECT * FROM output WHERE x < 0");
  EXPECT_EQ(c.name, "");

  c = MustCheck("change for row_count >= -100");
  EXPECT_EQ(c.kind, Kind::kChange);
  EXPECT_FALSE(c.percent);
  EXPECT_EQ(c.threshold, -100);
  c = MustCheck("change percent for row_count < 10%");
  EXPECT_TRUE(c.percent);
  EXPECT_EQ(c.op, Op::kLt);
  EXPECT_EQ(c.threshold, 10);
  c = MustCheck("change percent for row_count between -20% and +20");
  EXPECT_EQ(c.threshold, -20);
  EXPECT_EQ(c.threshold_hi, 20);
}

TEST(ParseCheck, Errors) {
  EXPECT_THAT(CheckError("avg(x) > 1"),
              HasSubstr("unknown check 'avg' (known: row_count, missing_count(col), "
                        "duplicate_count(col, ...), invalid_count(col), freshness(col), change "
                        "[percent] for row_count, schema, failed rows)"));
  EXPECT_THAT(CheckError(""), HasSubstr("must not be empty"));
  EXPECT_THAT(CheckError("row_count >"), HasSubstr("expected a threshold"));
  EXPECT_THAT(CheckError("row_count ~ 3"), HasSubstr("expected a comparison"));
  EXPECT_THAT(CheckError("row_count > 1 or 2"), HasSubstr("unexpected 'or 2'"));
  EXPECT_THAT(CheckError("row_count > 1e5"), HasSubstr("'1e5' is not a number"));
  EXPECT_THAT(CheckError("row_count > 5%"), HasSubstr("'5%' is not a number"));
  EXPECT_THAT(CheckError("row_count between 5 and 1"), HasSubstr("lower bound is above"));
  EXPECT_THAT(CheckError("row_count between 5 or 1"), HasSubstr("expected 'and'"));
  EXPECT_THAT(CheckError("row_count(x) > 1"), HasSubstr("expected a comparison"));
  EXPECT_THAT(CheckError("missing_count = 0"), HasSubstr("missing_count needs a column"));
  EXPECT_THAT(CheckError("missing_count() = 0"), HasSubstr("expected a column name"));
  EXPECT_THAT(CheckError("missing_count(a, b) = 0"), HasSubstr("takes one column"));
  EXPECT_THAT(CheckError("missing_count(\"a) = 0"), HasSubstr("not closed"));
  EXPECT_THAT(CheckError("duplicate_count(a, a) = 0"), HasSubstr("listed twice"));
  EXPECT_THAT(CheckError("duplicate_count(a b) = 0"), HasSubstr("expected ',' or ')'"));
  EXPECT_THAT(CheckError("freshness(t) < 5"), HasSubstr("durations such as"));
  EXPECT_THAT(CheckError("freshness(t) < 5w"), HasSubstr("durations such as"));
  EXPECT_THAT(CheckError("change for missing_count(x) < 5"), HasSubstr("change for row_count"));
  EXPECT_THAT(CheckError("invalid_count(x) = 0"), HasSubstr("invalid_count needs settings"));
  EXPECT_THAT(CheckError("invalid_count(x) = 0", "{}"), HasSubstr("at least one of"));
  EXPECT_THAT(CheckError("invalid_count(x) = 0", "valid values: []"),
              HasSubstr("valid values must be a non-empty list"));
  EXPECT_THAT(CheckError("invalid_count(x) = 0", "valid min: 5\nvalid max: 1"),
              HasSubstr("valid max is below valid min"));
  EXPECT_THAT(CheckError("invalid_count(x) = 0", "valid min: five"),
              HasSubstr("valid min must be a number"));
  EXPECT_THAT(CheckError("invalid_count(x) = 0", "valid regex: '(a'"),
              HasSubstr("valid regex does not compile: missing )"));
  EXPECT_THAT(CheckError("invalid_count(x) = 0", "valid valeus: [a]"),
              HasSubstr("unknown key 'valid valeus'"));
  EXPECT_THAT(CheckError("invalid_count(x) = 0", "valid values: [a"), HasSubstr("not valid YAML"));
  EXPECT_THAT(CheckError("schema"), HasSubstr("schema needs 'fail:'"));
  EXPECT_THAT(CheckError("schema", "fail: {when wrong column type: [a]}"),
              HasSubstr("must map columns to their types"));
  EXPECT_THAT(CheckError("failed rows", "fail query: ' ;'"), HasSubstr("must not be empty"));
  EXPECT_THAT(CheckError("row_count > 0", "name: x"), HasSubstr("takes no settings"));
}

TEST(Passes, AppliesTheComparison) {
  Check c = MustCheck("row_count > 0");
  EXPECT_TRUE(Passes(c, 1));
  EXPECT_FALSE(Passes(c, 0));
  EXPECT_FALSE(Passes(c, std::numeric_limits<double>::quiet_NaN()));
  c = MustCheck("row_count = 3");
  EXPECT_TRUE(Passes(c, 3));
  EXPECT_FALSE(Passes(c, 3.5));
  c = MustCheck("row_count != 3");
  EXPECT_FALSE(Passes(c, 3));
  EXPECT_TRUE(Passes(c, 2));
  c = MustCheck("row_count <= 3");
  EXPECT_TRUE(Passes(c, 3));
  EXPECT_FALSE(Passes(c, 4));
  c = MustCheck("row_count >= 3");
  EXPECT_TRUE(Passes(c, 3));
  EXPECT_FALSE(Passes(c, 2));
  c = MustCheck("row_count < 3");
  EXPECT_FALSE(Passes(c, 3));
  c = MustCheck("change percent for row_count between -20 and +20");
  EXPECT_TRUE(Passes(c, -20));
  EXPECT_TRUE(Passes(c, 20));
  EXPECT_FALSE(Passes(c, 20.5));
  c = MustCheck("row_count not between 1 and 5");
  EXPECT_TRUE(Passes(c, 0));
  EXPECT_FALSE(Passes(c, 1));
  EXPECT_FALSE(Passes(c, 5));
  EXPECT_TRUE(Passes(c, 6));
  c = MustCheck("freshness(t) < 1h");
  EXPECT_TRUE(Passes(c, 3599));
  EXPECT_FALSE(Passes(c, 3600));
  c = MustCheck("failed rows", "fail query: SELECT 1");
  EXPECT_TRUE(Passes(c, 0));
  EXPECT_FALSE(Passes(c, 1));
  c.op = Op::kLt;  // failed rows pass on none, whatever the op says
  c.threshold = 100;
  EXPECT_FALSE(Passes(c, 1));
  c = MustCheck("schema", "fail: {when required column missing: [a]}");
  EXPECT_FALSE(Passes(c, 0));
}

TEST(CheckSql, Metrics) {
  EXPECT_EQ(MetricSql(MustCheck("row_count > 0")), "SELECT (count(*))::DOUBLE FROM output");
  EXPECT_EQ(MetricSql(MustCheck("missing_count(amount) = 0")),
            "SELECT (count(*) FILTER (WHERE \"amount\" IS NULL))::DOUBLE FROM output");
  EXPECT_EQ(MetricAggregate(MustCheck("missing_count(amount) = 0")),
            "count(*) FILTER (WHERE \"amount\" IS NULL)");
  EXPECT_EQ(MetricAggregate(MustCheck("duplicate_count(id) = 0")), "");
  EXPECT_EQ(MetricAggregate(MustCheck("failed rows", "fail query: SELECT 1")), "");
  EXPECT_EQ(MetricSql(MustCheck("duplicate_count(id, day) = 0")),
            "SELECT coalesce(sum(n - 1), 0)::DOUBLE FROM (SELECT count(*) AS n FROM output "
            "GROUP BY \"id\", \"day\" HAVING count(*) > 1) AS duplicate_keys");
  EXPECT_EQ(MetricSql(MustCheck("invalid_count(r) = 0", "valid values: [a, \"it's\"]")),
            "SELECT (count(*) FILTER (WHERE \"r\" IS NOT NULL AND NOT "
            "coalesce(CAST(\"r\" AS VARCHAR) IN ('a', 'it''s'), false)))::DOUBLE FROM output");
  EXPECT_EQ(MetricSql(MustCheck("invalid_count(r) = 0",
                                "valid min: 0.1\nvalid max: 100\nvalid regex: '\\d+'")),
            "SELECT (count(*) FILTER (WHERE \"r\" IS NOT NULL AND NOT "
            "coalesce(coalesce(TRY_CAST(\"r\" AS DOUBLE) >= 0.1, false) AND "
            "coalesce(TRY_CAST(\"r\" AS DOUBLE) <= 100, false) AND "
            "regexp_full_match(CAST(\"r\" AS VARCHAR), '\\d+'), false)))::DOUBLE FROM output");
  EXPECT_EQ(MetricSql(MustCheck("freshness(t) < 1d")),
            "SELECT (epoch(now()) - epoch(max(CAST(\"t\" AS TIMESTAMP))))::DOUBLE FROM output");
  EXPECT_EQ(MetricSql(MustCheck("failed rows", "fail query: SELECT * FROM output WHERE a < 0")),
            "SELECT count(*)::DOUBLE FROM (\nSELECT * FROM output WHERE a < 0\n) AS failed_rows");
  EXPECT_EQ(MetricSql(MustCheck("schema", "fail: {when required column missing: [a]}")), "");
  EXPECT_EQ(MetricSql(MustCheck("change for row_count < 5")), "");
}

TEST(CheckSql, FailingRows) {
  EXPECT_EQ(FailingRowsSql(MustCheck("missing_count(a) = 0"), 10),
            "SELECT * FROM output WHERE \"a\" IS NULL LIMIT 10");
  EXPECT_EQ(FailingRowsSql(MustCheck("duplicate_count(a, b) = 0"), 5),
            "SELECT * FROM output QUALIFY count(*) OVER (PARTITION BY \"a\", \"b\") > 1 "
            "ORDER BY \"a\", \"b\" LIMIT 5");
  EXPECT_EQ(FailingRowsSql(MustCheck("invalid_count(a) = 0", "valid max: -2.5"), 3),
            "SELECT * FROM output WHERE \"a\" IS NOT NULL AND NOT "
            "coalesce(coalesce(TRY_CAST(\"a\" AS DOUBLE) <= -2.5, false), false) LIMIT 3");
  EXPECT_EQ(FailingRowsSql(MustCheck("failed rows", "fail query: SELECT 1 -- trailing"), 7),
            "SELECT * FROM (\nSELECT 1 -- trailing\n) AS failed_rows LIMIT 7");
  EXPECT_EQ(FailingRowsSql(MustCheck("row_count > 0"), 10), "");
  EXPECT_EQ(FailingRowsSql(MustCheck("freshness(a) < 1d"), 10), "");
  EXPECT_EQ(FailingRowsSql(MustCheck("change for row_count < 5"), 10), "");
  EXPECT_EQ(FailingRowsSql(MustCheck("missing_count(a) = 0"), -1),
            "SELECT * FROM output WHERE \"a\" IS NULL LIMIT 0");
}

TEST(CheckSql, QuotesHostileNames) {
  // The column a";DROP TABLE t;-- written as a quoted name in the check's text.
  const std::string hostile = "a\";DROP TABLE t;--";
  const std::string quoted = "\"a\"\";DROP TABLE t;--\"";
  Check c = MustCheck("missing_count(\"a\"\";DROP TABLE t;--\") = 0");
  ASSERT_EQ(c.columns, (std::vector<std::string>{hostile}));
  EXPECT_EQ(MetricSql(c),
            "SELECT (count(*) FILTER (WHERE " + quoted + " IS NULL))::DOUBLE FROM output");
  EXPECT_EQ(FailingRowsSql(c, 1), "SELECT * FROM output WHERE " + quoted + " IS NULL LIMIT 1");
  c = MustCheck("duplicate_count(id, \"a\"\";DROP TABLE t;--\") = 0");
  EXPECT_THAT(MetricSql(c), HasSubstr("GROUP BY \"id\", " + quoted + " HAVING"));
  EXPECT_THAT(FailingRowsSql(c, 1), HasSubstr("PARTITION BY \"id\", " + quoted + ")"));
  c = MustCheck("invalid_count(\"a\"\";DROP TABLE t;--\") = 0",
                "valid values: [\"x'); DROP TABLE t; --\"]\nvalid regex: \"'\"");
  EXPECT_EQ(MetricSql(c), "SELECT (count(*) FILTER (WHERE " + quoted +
                              " IS NOT NULL AND NOT coalesce(CAST(" + quoted +
                              " AS VARCHAR) IN ('x''); DROP TABLE t; --') AND "
                              "regexp_full_match(CAST(" +
                              quoted + " AS VARCHAR), ''''), false)))::DOUBLE FROM output");
  c = MustCheck("freshness(\"a\"\";DROP TABLE t;--\") < 1d");
  EXPECT_THAT(MetricSql(c), HasSubstr("CAST(" + quoted + " AS TIMESTAMP)"));
}

TEST(CheckSql, NumbersRoundTrip) {
  Check c = MustCheck("invalid_count(a) = 0", "valid min: 0.30000000000000004");
  EXPECT_THAT(MetricSql(c), HasSubstr(">= 0.30000000000000004,"));
  c = MustCheck("invalid_count(a) = 0", "valid max: 123456789012345678901234567890");
  EXPECT_THAT(MetricSql(c), HasSubstr("<= 1.2345678901234568e+29,"));
}

TEST(Cron, Parses) {
  auto c = ParseCron("*/15 * * * *");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->minutes, (1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45));
  EXPECT_EQ(c->hours, 0xffffffu);
  EXPECT_EQ(c->days, 0xfffffffeu);
  EXPECT_EQ(c->months, 0x1ffeu);
  EXPECT_EQ(c->weekdays, 0x7fu);
  EXPECT_TRUE(c->any_day);
  EXPECT_TRUE(c->any_weekday);

  c = ParseCron("0-30/10,59 1,2,5-7 1-5 jan,Mar-may sun-tue");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->minutes, (1ull << 0) | (1ull << 10) | (1ull << 20) | (1ull << 30) | (1ull << 59));
  EXPECT_EQ(c->hours, 0b11100110u);
  EXPECT_EQ(c->days, 0b111110u);
  EXPECT_EQ(c->months, 0b111010u);
  EXPECT_EQ(c->weekdays, 0b111u);
  EXPECT_FALSE(c->any_day);
  EXPECT_FALSE(c->any_weekday);

  // 7 is Sunday, as 0 is.
  auto seven = ParseCron("0 12 * * 7"), zero = ParseCron("0 12 * * 0");
  ASSERT_TRUE(seven.ok() && zero.ok());
  EXPECT_EQ(seven->weekdays, 1u);
  EXPECT_EQ(seven->weekdays, zero->weekdays);
  EXPECT_EQ(ParseCron("0 0 * * 5-7")->weekdays, 0b1100001u);
  // "5/20": from 5 to the end, every 20.
  EXPECT_EQ(ParseCron("5/20 * * * *")->minutes, (1ull << 5) | (1ull << 25) | (1ull << 45));
  EXPECT_EQ(ParseCron("  0   2 * * *  ")->text, "0 2 * * *");
}

TEST(Cron, Errors) {
  for (const char* bad : {"* * * *", "* * * * * *", "", "60 * * * *", "* 24 * * *",
                          "* * 0 * *", "* * 32 * *", "* * * 0 *", "* * * 13 *", "* * * * 8",
                          "5-1 * * * *", "*/0 * * * *", "*/61 * * * *", "a * * * *",
                          "1,,2 * * * *", "-1 * * * *", "1- * * * *", "*-5 * * * *",
                          "1/x * * * *", "@daily", "0 0 * foo *", "1000 * * * *"}) {
    auto c = ParseCron(bad);
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) {
      EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
    }
  }
  EXPECT_THAT(ParseCron("60 * * * *").status().message(),
              HasSubstr("minute '60': expected *, a number in 0-59 or a range"));
  EXPECT_THAT(ParseCron("* * * *").status().message(), HasSubstr("has 4"));
}

int64_t Next(const std::string& cron, int64_t after) {
  auto c = ParseCron(cron);
  EXPECT_TRUE(c.ok()) << cron << ": " << c.status().message();
  return c.ok() ? NextFire(*c, after) : -1;
}

TEST(Cron, NextFire) {
  // Every 15 minutes: strictly after, on whole minutes.
  EXPECT_EQ(Next("*/15 * * * *", Utc(2024, 1, 1)), Utc(2024, 1, 1, 0, 15));
  EXPECT_EQ(Next("*/15 * * * *", Utc(2024, 1, 1, 0, 14, 59)), Utc(2024, 1, 1, 0, 15));
  EXPECT_EQ(Next("*/15 * * * *", Utc(2024, 1, 1, 0, 15)), Utc(2024, 1, 1, 0, 30));
  EXPECT_EQ(Next("*/15 * * * *", Utc(2024, 12, 31, 23, 50)), Utc(2025, 1, 1));
  EXPECT_EQ(Next("* * * * *", Utc(2024, 1, 1, 0, 0, 1)), Utc(2024, 1, 1, 0, 1));
  // Daily at 02:00.
  EXPECT_EQ(Next("0 2 * * *", Utc(2024, 1, 1)), Utc(2024, 1, 1, 2));
  EXPECT_EQ(Next("0 2 * * *", Utc(2024, 1, 1, 2)), Utc(2024, 1, 2, 2));
  EXPECT_EQ(Next("0 2 * * *", Utc(2024, 2, 28, 3)), Utc(2024, 2, 29, 2));
  // 29 February only in leap years (2100 is not one).
  EXPECT_EQ(Next("0 0 29 2 *", Utc(2023, 3, 1)), Utc(2024, 2, 29));
  EXPECT_EQ(Next("0 0 29 2 *", Utc(2024, 2, 29)), Utc(2028, 2, 29));
  EXPECT_EQ(Next("0 0 29 2 *", Utc(2096, 3, 1)), Utc(2104, 2, 29));
  // Both day fields restricted: the 1st or a Monday. 2024-05-28 is a Tuesday.
  EXPECT_EQ(Next("0 0 1 * 1", Utc(2024, 5, 28)), Utc(2024, 6, 1));
  EXPECT_EQ(Next("0 0 1 * 1", Utc(2024, 6, 1)), Utc(2024, 6, 3));
  EXPECT_EQ(Next("0 0 1 * mon", Utc(2024, 6, 3)), Utc(2024, 6, 10));
  // One day field restricted: that one alone.
  EXPECT_EQ(Next("0 0 * * 1", Utc(2024, 5, 28)), Utc(2024, 6, 3));
  EXPECT_EQ(Next("0 0 1 * *", Utc(2024, 5, 28)), Utc(2024, 6, 1));
  // A day field starting with '*' counts as unrestricted (crontab(5)): both must match.
  EXPECT_EQ(Next("0 0 */2 * 1", Utc(2024, 6, 3)), Utc(2024, 6, 17));
  // 7 is Sunday. 2024-01-01 is a Monday.
  EXPECT_EQ(Next("0 12 * * 7", Utc(2024, 1, 1)), Utc(2024, 1, 7, 12));
  EXPECT_EQ(Next("0 12 * * 0", Utc(2024, 1, 1)), Utc(2024, 1, 7, 12));
  // Yearly, and office hours.
  EXPECT_EQ(Next("30 6 4 jul *", Utc(2024, 7, 4, 6, 30)), Utc(2025, 7, 4, 6, 30));
  EXPECT_EQ(Next("*/30 9-17 * * mon-fri", Utc(2024, 1, 5, 17, 30)), Utc(2024, 1, 8, 9));
  // Dates that never come.
  EXPECT_EQ(Next("0 0 30 2 *", Utc(2024, 1, 1)), kNever);
  EXPECT_EQ(Next("0 0 31 4,6,9,11 *", Utc(2024, 1, 1)), kNever);
  // Before 1970 and near the end of time.
  EXPECT_EQ(Next("0 0 1 1 *", Utc(1960, 6, 1)), Utc(1961, 1, 1));
  EXPECT_EQ(Next("* * * * *", -61), -60);
  EXPECT_EQ(Next("* * * * *", kNever), kNever);
  EXPECT_EQ(NextFire(Cron{}, 0), kNever);
}

}  // namespace
}  // namespace tarn::pipeline
