#include <gtest/gtest.h>

#include "tabular/tabular.h"

namespace tarn::tabular {
namespace {

using nlohmann::json;

TEST(OptionsTest, DocExampleParsesAndRoundTrips) {
  json j = json::parse(R"({"separator": ",", "header": true, "infer_column_types": true,
      "set_column_types": {"amount": "float", "when": "datetime:%Y-%m-%d"},
      "partition_format": null, "include_path": false, "support_multi_line": false,
      "encoding": "utf8", "empty_as_string": false})");
  StatusOr<Options> o = ParseOptions(j);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->set_column_types.at("amount"), "float");
  EXPECT_TRUE(o->partition_format.empty());
  StatusOr<Options> again = ParseOptions(OptionsToJson(*o));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *o);
  EXPECT_TRUE(ParseOptions(json()).ok());
}

TEST(OptionsTest, ErrorsNameTheKey) {
  auto bad = [](const char* text) {
    StatusOr<Options> o = ParseOptions(json::parse(text));
    EXPECT_FALSE(o.ok()) << text;
    EXPECT_EQ(o.status().reason(), Reason::kInvalidInput);
    return o.ok() ? "" : o.status().message();
  };
  EXPECT_NE(bad(R"({"sepparator": ";"})").find("sepparator"), std::string::npos);
  EXPECT_NE(bad(R"({"header": "yes"})").find("options.header"), std::string::npos);
  EXPECT_NE(bad(R"({"set_column_types": {"a": "int"}})").find("set_column_types.a"),
            std::string::npos);
  bad(R"({"encoding": "ebcdic"})");
  bad(R"({"invalid_lines": "skip"})");
  bad(R"({"separator": ""})");
  bad(R"({"partition_format": "{a}/{a}"})");
  bad(R"([1])");
}

TEST(TransformsTest, ParseValidateRoundTrip) {
  json j = json::parse(R"([{"op": "take", "count": 10}, {"op": "skip", "count": 2},
      {"op": "take_sample", "probability": 0.5, "seed": 7}, {"op": "keep_columns", "columns": ["a", "b"]},
      {"op": "drop_columns", "columns": "b"}, {"op": "filter", "expression": "a > 1"},
      {"op": "random_split", "percentage": 0.8, "seed": 1, "part": 1}])");
  StatusOr<std::vector<Transform>> t = ParseTransforms(j);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->size(), 7u);
  EXPECT_EQ((*t)[2].seed, 7);
  EXPECT_EQ((*t)[4].columns, std::vector<std::string>{"b"});
  EXPECT_EQ((*t)[6].part, 1);
  StatusOr<std::vector<Transform>> again = ParseTransforms(TransformsToJson(*t));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *t);
}

TEST(TransformsTest, ErrorsNameIndexAndField) {
  auto bad = [](const char* text) {
    StatusOr<std::vector<Transform>> t = ParseTransforms(json::parse(text));
    EXPECT_FALSE(t.ok()) << text;
    return t.ok() ? "" : t.status().message();
  };
  EXPECT_NE(bad(R"([{"op": "take", "count": 1}, {"op": "take"}])").find("transforms[1].count"),
            std::string::npos);
  EXPECT_NE(bad(R"([{"op": "shuffle"}])").find("shuffle"), std::string::npos);
  EXPECT_NE(bad(R"([{"op": "take", "count": 1, "seed": 2}])").find("seed"), std::string::npos);
  EXPECT_NE(bad(R"([{"op": "filter", "expression": "a >"}])").find("position"), std::string::npos);
  bad(R"([{"op": "take", "count": -1}])");
  bad(R"([{"op": "take_sample", "probability": 1.5}])");
  bad(R"([{"op": "random_split", "percentage": 0.5, "part": 2}])");
  bad(R"([{"op": "keep_columns", "columns": []}])");
  bad(R"({"op": "take"})");
}

TEST(FormatTest, Names) {
  EXPECT_EQ(*ParseFormat("jsonl"), Format::kJsonLines);
  EXPECT_EQ(FormatName(*ParseFormat("parquet")), "parquet");
  EXPECT_FALSE(ParseFormat("xlsx").ok());
}

}  // namespace
}  // namespace tarn::tabular
