#include "tracking/tracking_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tarn::tracking::tracking_json {
namespace {

TEST(TrackingJson, MetricsTakeMlflowsSpellingsOfNanAndInfinity) {
  auto nan = MetricOf(Json{{"key", "m"}, {"value", "NaN"}, {"timestamp", 1}, {"step", "3"}});
  ASSERT_TRUE(nan.ok());
  EXPECT_TRUE(nan->is_nan);
  EXPECT_EQ(nan->step, 3);
  // Infinities are kept as MLflow's store keeps them: the largest finite doubles.
  auto inf = MetricOf(Json{{"key", "m"}, {"value", "-Infinity"}, {"timestamp", "7"}});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ(inf->value, -std::numeric_limits<double>::max());
  EXPECT_EQ(inf->timestamp, 7);
  EXPECT_EQ(MetricOf(Json{{"key", "m"}, {"value", "high"}, {"timestamp", 1}}).status().reason(),
            Reason::kMlflowInvalidParameterValue);
  EXPECT_FALSE(MetricOf(Json{{"key", "m"}, {"value", 1}}).ok());  // no timestamp
  EXPECT_EQ(DoubleToJson(std::nan("")), "NaN");
  EXPECT_EQ(DoubleToJson(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(TrackingJson, FieldFiltersAsTheClientsSendThem) {
  auto f = ParseFieldFilter(
      "name LIKE 'sales%' AND tag.`mlflow.prompt.is_prompt` != 'true' and tags.team = \"ml\"",
      "filter");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[0].key, "name");
  EXPECT_EQ((*f)[0].op, "LIKE");
  EXPECT_EQ((*f)[1].key, "tags.mlflow.prompt.is_prompt");
  EXPECT_EQ((*f)[1].op, "!=");
  EXPECT_EQ((*f)[2].key, "tags.team");
  EXPECT_EQ((*f)[2].value, "ml");
  EXPECT_TRUE(ParseFieldFilter("", "filter")->empty());
  for (const char* bad : {"name", "name = x", "name = 'a' OR name = 'b'", "name ~ 'a'",
                          "tags. = 'a'", "name = 'unterminated"}) {
    EXPECT_EQ(ParseFieldFilter(bad, "filter").status().reason(),
              Reason::kMlflowInvalidParameterValue)
        << bad;
  }
}

TEST(TrackingJson, LikeMatchesAsSqlDoes) {
  EXPECT_TRUE(SqlLike("sales-2024", "sales%", false));
  EXPECT_FALSE(SqlLike("Sales-2024", "sales%", false));
  EXPECT_TRUE(SqlLike("Sales-2024", "sales%", true));
  EXPECT_TRUE(SqlLike("a_b", "a\\_b", false));
  EXPECT_FALSE(SqlLike("axb", "a\\_b", false));
  EXPECT_TRUE(SqlLike("axb", "a_b", false));
  EXPECT_TRUE(SqlLike("", "%", false));
  EXPECT_FALSE(SqlLike("abc", "ab", false));
  EXPECT_TRUE(ClauseHolds(FieldClause{"tags.x", "!=", "true"}, ""));
}

TEST(TrackingJson, NumbersComeAsNumbersOrStrings) {
  EXPECT_EQ(*IntField(Json{{"n", "42"}}, "n", 0), 42);
  EXPECT_EQ(*IntField(Json{{"n", 42.0}}, "n", 0), 42);
  EXPECT_EQ(*IntField(Json::object(), "n", 7), 7);
  EXPECT_FALSE(IntField(Json{{"n", "4x"}}, "n", 0).ok());
  EXPECT_FALSE(IntField(Json{{"n", 1.5}}, "n", 0).ok());
  EXPECT_EQ(StringList(Json{{"ids", "1"}}, "ids"), std::vector<std::string>{"1"});
}

}  // namespace
}  // namespace tarn::tracking::tracking_json

namespace tarn::tracking::tracking_json {
namespace {

TEST(TrackingJson, MetricsTextIsTheSameJsonAsMetricsToJson) {
  std::vector<Metric> points{Metric{"loss", 0.1, 1700000000000, 0, false},
                             Metric{"loss", 1e-300, 2, 1, false},
                             Metric{"l\xc3\xa9 \"q\"", -3, 3, -2, false},
                             Metric{"n", 0, 4, 3, true},
                             Metric{"big", std::numeric_limits<double>::max(), 5, 4, false}};
  Json direct = Json::parse(MetricsText(points, "25"));
  EXPECT_EQ(direct["metrics"], MetricsToJson(points));
  EXPECT_EQ(direct["next_page_token"], "25");
  EXPECT_FALSE(Json::parse(MetricsText({}, "")).contains("next_page_token"));
  EXPECT_EQ(Json::parse(MetricsText({}, ""))["metrics"], Json::array());
}

}  // namespace
}  // namespace tarn::tracking::tracking_json
