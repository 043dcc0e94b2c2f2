#include "store/tracking/run_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tarn::tracking {
namespace {

std::vector<Clause> Parse(std::string_view filter) {
  StatusOr<std::vector<Clause>> r = ParseRunFilter(filter);
  EXPECT_TRUE(r.ok()) << filter << ": " << r.status().ToString();
  return r.ok() ? *r : std::vector<Clause>{};
}

Clause One(std::string_view filter) {
  std::vector<Clause> c = Parse(filter);
  EXPECT_EQ(c.size(), 1u) << filter;
  return c.empty() ? Clause{} : c[0];
}

// The filter is refused as an invalid parameter, with a message that contains `part`.
void ExpectRefused(std::string_view filter, std::string_view part) {
  StatusOr<std::vector<Clause>> r = ParseRunFilter(filter);
  ASSERT_FALSE(r.ok()) << "accepted: " << filter;
  EXPECT_EQ(r.status().reason(), Reason::kMlflowInvalidParameterValue) << filter;
  EXPECT_NE(r.status().message().find(part), std::string::npos)
      << filter << "\n  message: " << r.status().message() << "\n  expected to contain: " << part;
}

void ExpectOrderRefused(std::string_view item, std::string_view part) {
  StatusOr<OrderBy> r = ParseRunOrderBy(item);
  ASSERT_FALSE(r.ok()) << "accepted: " << item;
  EXPECT_EQ(r.status().reason(), Reason::kMlflowInvalidParameterValue) << item;
  EXPECT_NE(r.status().message().find(part), std::string::npos)
      << item << "\n  message: " << r.status().message() << "\n  expected to contain: " << part;
}

TEST(RunFilterTest, EmptyFilterHasNoClauses) {
  EXPECT_TRUE(Parse("").empty());
  EXPECT_TRUE(Parse("  \t\n ").empty());
}

TEST(RunFilterTest, EveryEntityAndItsAliases) {
  for (const char* e : {"metrics", "metric"}) {
    Clause c = One(std::string(e) + ".acc > 0.9");
    EXPECT_EQ(c.entity, Entity::kMetric);
    EXPECT_EQ(c.key, "acc");
    EXPECT_EQ(c.op, ">");
    ASSERT_TRUE(c.number.has_value());
    EXPECT_DOUBLE_EQ(*c.number, 0.9);
  }
  for (const char* e : {"params", "param", "parameters", "parameter"}) {
    Clause c = One(std::string(e) + ".lr = '0.01'");
    EXPECT_EQ(c.entity, Entity::kParam) << e;
    EXPECT_EQ(c.key, "lr");
    EXPECT_EQ(c.text, "0.01");
    EXPECT_FALSE(c.number.has_value());
  }
  for (const char* e : {"tags", "tag"}) {
    Clause c = One(std::string(e) + ".team != 'nlp'");
    EXPECT_EQ(c.entity, Entity::kTag) << e;
    EXPECT_EQ(c.op, "!=");
  }
  for (const char* e : {"attributes", "attribute", "attr", "run"}) {
    Clause c = One(std::string(e) + ".status = 'FINISHED'");
    EXPECT_EQ(c.entity, Entity::kAttribute) << e;
    EXPECT_EQ(c.key, "status");
    EXPECT_EQ(c.text, "FINISHED");
  }
  for (const char* e : {"datasets", "dataset"}) {
    Clause c = One(std::string(e) + ".digest = 'abc'");
    EXPECT_EQ(c.entity, Entity::kDataset) << e;
    EXPECT_EQ(c.key, "digest");
  }
}

TEST(RunFilterTest, NumbersInTheirForms) {
  struct Case {
    const char* literal;
    double value;
  };
  for (Case c : {Case{"1", 1}, Case{"-1.5", -1.5}, Case{"2e-3", 0.002}, Case{"1E3", 1000},
                 Case{"+3", 3}, Case{".5", 0.5}, Case{"7.", 7}, Case{"-0", 0}}) {
    Clause cl = One(std::string("metrics.m <= ") + c.literal);
    ASSERT_TRUE(cl.number.has_value()) << c.literal;
    EXPECT_DOUBLE_EQ(*cl.number, c.value) << c.literal;
    EXPECT_EQ(cl.text, c.literal);
  }
  Clause tight = One("metrics.m>=-2");
  EXPECT_EQ(tight.op, ">=");
  EXPECT_DOUBLE_EQ(*tight.number, -2);
  Clause start = One("attributes.start_time < 1700000000123");
  EXPECT_EQ(start.text, "1700000000123");
}

TEST(RunFilterTest, QuotingOfKeysAndValues) {
  Clause c = One("tags.`mlflow.runName` = 'x'");
  EXPECT_EQ(c.key, "mlflow.runName");
  c = One("tags.mlflow.runName = 'x'");  // a bare key may hold dots
  EXPECT_EQ(c.key, "mlflow.runName");
  c = One("params.\"my key\" = \"my value\"");
  EXPECT_EQ(c.key, "my key");
  EXPECT_EQ(c.text, "my value");
  c = One("params.'single key' = 'v'");
  EXPECT_EQ(c.key, "single key");
  c = One("`metrics`.`a b` > 1");
  EXPECT_EQ(c.entity, Entity::kMetric);
  EXPECT_EQ(c.key, "a b");
  c = One("params.a-b/c_1.d = 'v'");
  EXPECT_EQ(c.key, "a-b/c_1.d");
  c = One("tags.`with``tick` = 'v'");
  EXPECT_EQ(c.key, "with`tick");
  c = One("params.p = 'it''s'");
  EXPECT_EQ(c.text, "it's");
  c = One("params.p = \"say \"\"hi\"\"\"");
  EXPECT_EQ(c.text, "say \"hi\"");
  c = One("params.p = 'a\\'b'");  // MLflow keeps the backslash; it does not end the string
  EXPECT_EQ(c.text, "a\\'b");
  c = One("params.p = 'C:\\temp'");
  EXPECT_EQ(c.text, "C:\\temp");
  c = One("params.p = ''");
  EXPECT_EQ(c.text, "");
  c = One("params.p = 'AND OR ( ) = \"'");
  EXPECT_EQ(c.text, "AND OR ( ) = \"");
  c = One("params.p = '\xc3\xa9t\xc3\xa9'");
  EXPECT_EQ(c.text, "\xc3\xa9t\xc3\xa9");
}

TEST(RunFilterTest, KeywordsInAnyCaseAndSeveralClauses) {
  std::vector<Clause> c = Parse(
      "metrics.acc > 0.9 and params.model like 'cnn%' AnD tags.team ILIKE 'NLP' AND "
      "tags.x is not null AND tags.y IS NULL");
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[1].op, "LIKE");
  EXPECT_EQ(c[1].text, "cnn%");
  EXPECT_EQ(c[2].op, "ILIKE");
  EXPECT_EQ(c[3].op, "IS NOT NULL");
  EXPECT_EQ(c[3].key, "x");
  EXPECT_EQ(c[4].op, "IS NULL");
  c = Parse("params.a='1'AND params.b='2'");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].text, "2");
}

TEST(RunFilterTest, InLists) {
  Clause c = One("attributes.run_id IN ('a1', \"b2\",'c3' )");
  EXPECT_EQ(c.op, "IN");
  EXPECT_EQ(c.list, (std::vector<std::string>{"a1", "b2", "c3"}));
  c = One("run_id not in ('x')");
  EXPECT_EQ(c.op, "NOT IN");
  EXPECT_EQ(c.key, "run_id");
  EXPECT_EQ(c.list, (std::vector<std::string>{"x"}));
  c = One("datasets.name IN ('train', 'eval')");
  EXPECT_EQ(c.entity, Entity::kDataset);
  EXPECT_EQ(c.list.size(), 2u);
  c = One("datasets.context NOT IN ('training')");
  EXPECT_EQ(c.op, "NOT IN");
}

TEST(RunFilterTest, AttributeKeysAreNormalized) {
  EXPECT_EQ(One("attributes.created > 5").key, "start_time");
  EXPECT_EQ(One("Created > 5").key, "start_time");
  EXPECT_EQ(One("attributes.`Run name` = 'x'").key, "run_name");
  EXPECT_EQ(One("attributes.\"run name\" = 'x'").key, "run_name");
  Clause bare = One("start_time >= 100");  // no entity: an attribute, as in MLflow
  EXPECT_EQ(bare.entity, Entity::kAttribute);
  EXPECT_EQ(bare.key, "start_time");
  EXPECT_EQ(One("end_time != 3").key, "end_time");
  EXPECT_EQ(One("user_id = 'ann'").key, "user_id");
  EXPECT_EQ(One("attr.artifact_uri LIKE 's3://%'").key, "artifact_uri");
}

TEST(RunFilterTest, RefusesOrAndParentheses) {
  ExpectRefused("metrics.a > 1 OR metrics.b < 2", "OR is not supported");
  ExpectRefused("metrics.a > 1 or metrics.b < 2", "OR is not supported");
  ExpectRefused("(metrics.a > 1)", "Parentheses are not supported");
  ExpectRefused("metrics.a > 1 AND (params.b = 'x')", "Parentheses are not supported");
  ExpectRefused("metrics.a > 1)", "Parentheses are not supported");
  ExpectRefused("params.a = ('x')", "only IN and NOT IN take a list");
}

TEST(RunFilterTest, RefusesUnknownEntitiesAndKeys) {
  ExpectRefused("foo.bar = 'x'", "Invalid entity type 'foo'");
  ExpectRefused("Metrics.acc > 1", "Invalid entity type 'Metrics'");
  ExpectRefused("acc > 1", "Invalid attribute key 'acc'");
  ExpectRefused("attributes.lifecycle_stage = 'active'", "Invalid attribute key 'lifecycle_stage'");
  ExpectRefused("attributes.experiment_id = '1'", "expected one of run_id, run_name");
  ExpectRefused("datasets.source = 'x'", "Invalid dataset key 'source'");
  ExpectRefused("metrics. > 1", "Missing key after 'metrics.'");
  ExpectRefused("metrics.", "Missing key");
  ExpectRefused("= 1", "Expected a clause");
  ExpectRefused("AND metrics.a > 1", "Expected a clause");
}

TEST(RunFilterTest, RefusesMissingOrMalformedPieces) {
  ExpectRefused("params.x =", "Missing value after 'params.x ='");
  ExpectRefused("params.x = ", "Missing value");
  ExpectRefused("metrics.acc", "Missing comparator after 'metrics.acc'");
  ExpectRefused("metrics.acc 1", "Expected a comparator after 'metrics.acc', found '1'");
  ExpectRefused("metrics.acc == 1", "Invalid comparator '=='");
  ExpectRefused("metrics.acc <> 1", "Invalid comparator '<>'");
  ExpectRefused("params.x NOT LIKE 'a'", "Invalid comparator 'NOT LIKE'");
  ExpectRefused("tags.x IS 'a'", "Expected NULL or NOT NULL after 'IS'");
  ExpectRefused("params.x = 'abc", "Unterminated string");
  ExpectRefused("params.`x = 'abc'", "Unterminated string");
  ExpectRefused("params.x = \"abc", "close it with \"");
  ExpectRefused("metrics.a > 1 AND", "Missing a clause after the last AND");
  ExpectRefused("metrics.a > 1 metrics.b > 2", "Expected AND or the end of the filter");
  ExpectRefused("metrics.a > 1;", "Expected AND or the end of the filter");
  ExpectRefused("metrics.a > 1AND metrics.b > 2", "Expected a numeric value");
  ExpectRefused("attributes.run_id IN ()", "is empty");
  ExpectRefused("attributes.run_id IN ('a',)", "Expected a quoted string in the list");
  ExpectRefused("attributes.run_id IN ('a' 'b')", "Expected ',' or ')'");
  ExpectRefused("attributes.run_id IN ('a'", "Expected ',' or ')'");
  ExpectRefused("attributes.run_id IN 'a'", "Expected a parenthesized list");
  ExpectRefused("attributes.run_id IN (1, 2)", "Expected a quoted string in the list");
}

TEST(RunFilterTest, RefusesTypeMismatches) {
  // Numeric comparison on a param, string comparison on a metric.
  ExpectRefused("params.x > '1'", "Invalid comparator '>' for param 'x'");
  ExpectRefused("params.x = 1", "Expected a quoted string value for param 'x'");
  ExpectRefused("tags.x = `v`", "backticks quote keys");
  ExpectRefused("metrics.acc = 'x'", "Expected a numeric value for metric 'acc'");
  ExpectRefused("metrics.acc LIKE '1'", "Invalid comparator 'LIKE' for metric 'acc'");
  ExpectRefused("metrics.acc = nan", "Expected a numeric value");
  ExpectRefused("metrics.acc = 1e999", "out of range");
  ExpectRefused("metrics.acc = 1.2.3", "Expected a numeric value");
  ExpectRefused("attributes.start_time > 'yesterday'", "numeric value for attribute 'start_time'");
  ExpectRefused("attributes.status = 3", "Expected a quoted string value for attribute");
  ExpectRefused("attributes.status IN ('RUNNING')", "only run_id takes IN / NOT IN");
  ExpectRefused("attributes.run_name > 'a'", "expected one of =, !=, LIKE, ILIKE");
  ExpectRefused("metrics.x IS NOT NULL", "only params and tags take IS NULL / IS NOT NULL");
  ExpectRefused("datasets.name > 'a'", "Invalid comparator '>' for dataset 'name'");
  ExpectRefused("params.x IN ('a')", "Invalid comparator 'IN' for param 'x'");
}

TEST(RunFilterTest, Limits) {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += (i ? " AND " : "") + std::string("metrics.m > 1");
  EXPECT_EQ(Parse(hundred).size(), 100u);
  ExpectRefused(hundred + " AND metrics.m > 1", "more than 100 clauses");
  std::string long_filter = "params.p = '" + std::string(4096, 'x') + "'";
  ExpectRefused(long_filter, "at most 4096");
  std::string just_fits = "params.p = '" + std::string(4096 - 13, 'x') + "'";
  ASSERT_EQ(just_fits.size(), 4096u);
  EXPECT_EQ(One(just_fits).text.size(), 4096u - 13);
}

TEST(RunFilterTest, MessagesShowTextSafely) {
  StatusOr<std::vector<Clause>> r = ParseRunFilter("`fo\x01o`.bar = 'x'");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'fo?o'"), std::string::npos) << r.status().message();
  r = ParseRunFilter("f\xff\xc3.bar = 'x'");  // not UTF-8
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'f?" "?'"), std::string::npos) << r.status().message();
  r = ParseRunFilter("foo" + std::string(500, 'o') + ".bar = 'x'");
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 400u);
  EXPECT_EQ(QuoteForMessage("\xe2\x82\xac\xed\xa0\x80"), "'\xe2\x82\xac?" "?" "?'");  // a surrogate
}

TEST(RunOrderByTest, ParsesEntitiesKeysAndDirections) {
  StatusOr<OrderBy> o = ParseRunOrderBy("metrics.acc DESC");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->entity, Entity::kMetric);
  EXPECT_EQ(o->key, "acc");
  EXPECT_FALSE(o->ascending);

  o = ParseRunOrderBy("params.lr");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->entity, Entity::kParam);
  EXPECT_TRUE(o->ascending);

  o = ParseRunOrderBy("  tags.`my key`   asc ");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->entity, Entity::kTag);
  EXPECT_EQ(o->key, "my key");
  EXPECT_TRUE(o->ascending);

  o = ParseRunOrderBy("start_time desc");  // no entity: an attribute
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->entity, Entity::kAttribute);
  EXPECT_EQ(o->key, "start_time");
  EXPECT_FALSE(o->ascending);

  o = ParseRunOrderBy("attributes.created DESC");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->key, "start_time");

  for (const char* k : {"run_id", "run_name", "status", "user_id", "artifact_uri", "end_time"}) {
    o = ParseRunOrderBy(std::string("attr.") + k);
    ASSERT_TRUE(o.ok()) << k;
    EXPECT_EQ(o->key, k);
  }
  o = ParseRunOrderBy("tags.\"mlflow.runName\" DESC");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->key, "mlflow.runName");
}

TEST(RunOrderByTest, RefusesMalformedItems) {
  ExpectOrderRefused("", "expected <entity>.<key> [ASC|DESC]");
  ExpectOrderRefused("metrics.acc DOWN", "Invalid ordering 'DOWN'");
  ExpectOrderRefused("metrics.acc DESC ASC", "Unexpected 'ASC'");
  ExpectOrderRefused("metrics.acc, params.b", "Invalid ordering ','");
  ExpectOrderRefused("datasets.name", "Invalid order_by entity 'dataset'");
  ExpectOrderRefused("foo.bar", "Invalid entity type 'foo'");
  ExpectOrderRefused("lifecycle_stage", "Invalid attribute key 'lifecycle_stage'");
  ExpectOrderRefused("attributes.`run name`", "Invalid attribute key 'run name'");
  ExpectOrderRefused("metrics.`acc DESC", "Unterminated string");
  ExpectOrderRefused("(metrics.acc)", "Parentheses");
  ExpectOrderRefused(std::string(5000, 'a'), "at most 4096");
}

}  // namespace
}  // namespace tarn::tracking
