// ColumnLineage: which input columns each output column of a step's SELECT comes from.
#include "tabular/column_lineage.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace tarn::tabular {

// gtest finds it by ADL: readable failures.
static void PrintTo(const OutputColumn& c, std::ostream* os) {
  *os << c.name << " <- {";
  for (const ColumnOrigin& o : c.from) *os << " " << o.input << "." << o.column;
  *os << " } " << c.transformation;
}

namespace {

const std::map<std::string, std::vector<std::string>> kInputs = {
    {"sales", {"id", "region", "amount", "day"}},
    {"orders", {"id", "region", "day", "amount"}},
    {"regions", {"region", "name", "manager"}},
};

ColumnOrigin O(std::string input, std::string column) {
  return ColumnOrigin{.input = std::move(input), .column = std::move(column)};
}

OutputColumn Col(std::string name, std::vector<ColumnOrigin> from, std::string transformation) {
  return OutputColumn{.name = std::move(name),
                      .from = std::move(from),
                      .transformation = std::move(transformation)};
}

std::vector<OutputColumn> Lineage(const std::string& sql,
                                  const std::map<std::string, std::vector<std::string>>& inputs =
                                      kInputs) {
  StatusOr<std::vector<OutputColumn>> r = ColumnLineage(sql, inputs);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().message();
  return r.ok() ? *r : std::vector<OutputColumn>{};
}

TEST(ColumnLineageTest, ProjectionRenameCast) {
  EXPECT_EQ(Lineage("SELECT id, region AS area, CAST(amount AS BIGINT) AS whole, amount::INT, "
                    "day FROM sales"),
            (std::vector<OutputColumn>{
                Col("id", {O("sales", "id")}, "IDENTITY"),
                Col("area", {O("sales", "region")}, "IDENTITY"),
                Col("whole", {O("sales", "amount")}, "TRANSFORMATION"),
                Col("CAST(amount AS INTEGER)", {O("sales", "amount")}, "TRANSFORMATION"),
                Col("day", {O("sales", "day")}, "IDENTITY"),
            }));
}

TEST(ColumnLineageTest, NamesFollowTheInputsSpellingAndMatchCaseInsensitively) {
  EXPECT_EQ(Lineage("SELECT AMOUNT, Amount * 2 FROM SALES"),
            (std::vector<OutputColumn>{
                Col("amount", {O("sales", "amount")}, "IDENTITY"),
                Col("(Amount * 2)", {O("sales", "amount")}, "TRANSFORMATION"),
            }));
}

TEST(ColumnLineageTest, DistinctWithCastAndTryCast) {
  EXPECT_EQ(Lineage("SELECT DISTINCT CAST(id AS BIGINT) AS id, region, "
                    "TRY_CAST(amount AS DOUBLE) AS amount FROM sales"),
            (std::vector<OutputColumn>{
                Col("id", {O("sales", "id")}, "TRANSFORMATION"),
                Col("region", {O("sales", "region")}, "IDENTITY"),
                Col("amount", {O("sales", "amount")}, "TRANSFORMATION"),
            }));
}

TEST(ColumnLineageTest, AggregatesWithGroupBy) {
  EXPECT_EQ(Lineage("SELECT region, day, count(*) AS orders, sum(amount) AS revenue, "
                    "count(DISTINCT id), avg(amount + 1) AS mean FROM orders "
                    "WHERE amount IS NOT NULL GROUP BY region, day ORDER BY revenue DESC LIMIT 10"),
            (std::vector<OutputColumn>{
                Col("region", {O("orders", "region")}, "IDENTITY"),
                Col("day", {O("orders", "day")}, "IDENTITY"),
                Col("orders", {}, "AGGREGATION"),
                Col("revenue", {O("orders", "amount")}, "AGGREGATION"),
                Col("count(DISTINCT id)", {O("orders", "id")}, "AGGREGATION"),
                Col("mean", {O("orders", "amount")}, "AGGREGATION"),
            }));
}

TEST(ColumnLineageTest, UnaliasedAggregatesAndWindowsAreNamedAsDuckDbNamesThem) {
  EXPECT_EQ(Lineage("SELECT count(*), sum(amount) FILTER (WHERE id > 1), "
                    "string_agg(region, ',' ORDER BY day) FROM sales"),
            (std::vector<OutputColumn>{
                Col("count_star()", {}, "AGGREGATION"),
                Col("sum(amount) FILTER (WHERE (id > 1))", {O("sales", "amount")}, "AGGREGATION"),
                Col("string_agg(region, ',' ORDER BY \"day\")", {O("sales", "region")},
                    "AGGREGATION"),
            }));
  // Window functions: their arguments are origins, PARTITION BY and ORDER BY are not.
  EXPECT_EQ(Lineage("SELECT sum(amount) OVER (PARTITION BY region) AS running, "
                    "row_number() OVER (ORDER BY day) AS n, lag(amount, 1, id) OVER w AS prev "
                    "FROM sales WINDOW w AS (ORDER BY day)"),
            (std::vector<OutputColumn>{
                Col("running", {O("sales", "amount")}, "AGGREGATION"),
                Col("n", {}, "TRANSFORMATION"),
                Col("prev", {O("sales", "amount"), O("sales", "id")}, "TRANSFORMATION"),
            }));
}

TEST(ColumnLineageTest, JoinWithAliasesAndQualifiedRefs) {
  EXPECT_EQ(Lineage("SELECT s.id, r.name AS region_name, s.amount * 2 AS doubled, manager "
                    "FROM sales s JOIN regions AS r ON s.region = r.region WHERE s.amount > 0"),
            (std::vector<OutputColumn>{
                Col("id", {O("sales", "id")}, "IDENTITY"),
                Col("region_name", {O("regions", "name")}, "IDENTITY"),
                Col("doubled", {O("sales", "amount")}, "TRANSFORMATION"),
                Col("manager", {O("regions", "manager")}, "IDENTITY"),
            }));
}

TEST(ColumnLineageTest, AmbiguousUnqualifiedRefTakesEveryInputThatHasIt) {
  EXPECT_EQ(Lineage("SELECT region, upper(region) AS r FROM sales JOIN regions USING (region)"),
            (std::vector<OutputColumn>{
                Col("region", {O("regions", "region"), O("sales", "region")}, "IDENTITY"),
                Col("r", {O("regions", "region"), O("sales", "region")}, "TRANSFORMATION"),
            }));
}

TEST(ColumnLineageTest, StarAndQualifiedStar) {
  EXPECT_EQ(Lineage("SELECT * FROM regions"),
            (std::vector<OutputColumn>{
                Col("region", {O("regions", "region")}, "IDENTITY"),
                Col("name", {O("regions", "name")}, "IDENTITY"),
                Col("manager", {O("regions", "manager")}, "IDENTITY"),
            }));
  EXPECT_EQ(Lineage("SELECT r.*, s.amount FROM sales s, regions r"),
            (std::vector<OutputColumn>{
                Col("region", {O("regions", "region")}, "IDENTITY"),
                Col("name", {O("regions", "name")}, "IDENTITY"),
                Col("manager", {O("regions", "manager")}, "IDENTITY"),
                Col("amount", {O("sales", "amount")}, "IDENTITY"),
            }));
  // FROM-first: SELECT * implied.
  EXPECT_EQ(Lineage("FROM regions").size(), 3u);
}

TEST(ColumnLineageTest, StarExcludeReplaceRename) {
  EXPECT_EQ(Lineage("SELECT * EXCLUDE (id, day) REPLACE (amount * 100 AS amount) "
                    "RENAME (region AS area) FROM sales"),
            (std::vector<OutputColumn>{
                Col("area", {O("sales", "region")}, "IDENTITY"),
                Col("amount", {O("sales", "amount")}, "TRANSFORMATION"),
            }));
}

TEST(ColumnLineageTest, StarOverUsingJoinShowsTheJoinColumnOnce) {
  // DuckDB: id region amount day name manager.
  EXPECT_EQ(Lineage("SELECT * FROM sales JOIN regions USING (region)"),
            (std::vector<OutputColumn>{
                Col("id", {O("sales", "id")}, "IDENTITY"),
                Col("region", {O("regions", "region"), O("sales", "region")}, "IDENTITY"),
                Col("amount", {O("sales", "amount")}, "IDENTITY"),
                Col("day", {O("sales", "day")}, "IDENTITY"),
                Col("name", {O("regions", "name")}, "IDENTITY"),
                Col("manager", {O("regions", "manager")}, "IDENTITY"),
            }));
  // NATURAL: id, region and day are common to both.
  std::vector<OutputColumn> natural = Lineage("SELECT * FROM sales NATURAL JOIN orders");
  ASSERT_EQ(natural.size(), 4u);
  EXPECT_EQ(natural[0], Col("id", {O("orders", "id"), O("sales", "id")}, "IDENTITY"));
  EXPECT_EQ(natural[2].name, "amount");
  EXPECT_EQ(natural[2].from,
            (std::vector<ColumnOrigin>{O("orders", "amount"), O("sales", "amount")}));
}

TEST(ColumnLineageTest, RepeatedNamesAreDeduplicatedAsDuckDbWritesThem) {
  EXPECT_EQ(Lineage("SELECT s.id, o.id, o.ID, 1 AS id_1 FROM sales s JOIN orders o ON s.id = o.id"),
            (std::vector<OutputColumn>{
                Col("id", {O("sales", "id")}, "IDENTITY"),
                Col("id_1", {O("orders", "id")}, "IDENTITY"),
                Col("id_2", {O("orders", "id")}, "IDENTITY"),
                Col("id_1_1", {}, "TRANSFORMATION"),
            }));
}

TEST(ColumnLineageTest, CaseExpression) {
  EXPECT_EQ(Lineage("SELECT CASE WHEN amount > 100 THEN 'big' WHEN region = 'n' THEN name "
                    "ELSE NULL END AS size FROM sales JOIN regions USING (region)"),
            (std::vector<OutputColumn>{
                Col("size",
                    {O("regions", "name"), O("regions", "region"), O("sales", "amount"),
                     O("sales", "region")},
                    "TRANSFORMATION"),
            }));
}

TEST(ColumnLineageTest, LiteralsHaveNoOrigin) {
  EXPECT_EQ(Lineage("SELECT 1 AS one, 'x', now() AS at, id FROM sales"),
            (std::vector<OutputColumn>{
                Col("one", {}, "TRANSFORMATION"),
                Col("'x'", {}, "TRANSFORMATION"),
                Col("at", {}, "TRANSFORMATION"),
                Col("id", {O("sales", "id")}, "IDENTITY"),
            }));
}

TEST(ColumnLineageTest, CtesAndSubqueriesAreFollowed) {
  EXPECT_EQ(Lineage("WITH big AS (SELECT id, amount * 2 AS amount2, region FROM sales "
                    "WHERE amount > 10), per AS (SELECT region, sum(amount2) AS total FROM big "
                    "GROUP BY region) SELECT p.region AS area, p.total, b.id "
                    "FROM per p JOIN big b USING (region)"),
            (std::vector<OutputColumn>{
                Col("area", {O("sales", "region")}, "IDENTITY"),
                Col("total", {O("sales", "amount")}, "AGGREGATION"),
                Col("id", {O("sales", "id")}, "IDENTITY"),
            }));
  EXPECT_EQ(Lineage("SELECT t.a, t.b FROM (SELECT id, upper(region) FROM sales) AS t(a, b)"),
            (std::vector<OutputColumn>{
                Col("a", {O("sales", "id")}, "IDENTITY"),
                Col("b", {O("sales", "region")}, "TRANSFORMATION"),
            }));
  // A CTE named like an input shadows it; inside its own body the name is still the input.
  EXPECT_EQ(Lineage("WITH sales AS (SELECT id * 2 AS id FROM sales) SELECT id FROM sales"),
            (std::vector<OutputColumn>{Col("id", {O("sales", "id")}, "TRANSFORMATION")}));
  EXPECT_EQ(Lineage("WITH x(k) AS MATERIALIZED (SELECT region FROM regions) SELECT * FROM x"),
            (std::vector<OutputColumn>{Col("k", {O("regions", "region")}, "IDENTITY")}));
}

TEST(ColumnLineageTest, LaterSelectItemsMayUseEarlierAliases) {
  EXPECT_EQ(Lineage("SELECT amount * 2 AS d, d + 1 AS e FROM sales"),
            (std::vector<OutputColumn>{
                Col("d", {O("sales", "amount")}, "TRANSFORMATION"),
                Col("e", {O("sales", "amount")}, "TRANSFORMATION"),
            }));
}

TEST(ColumnLineageTest, SetOperationsGiveNoColumns) {
  EXPECT_TRUE(Lineage("SELECT id FROM sales UNION SELECT id FROM orders").empty());
  EXPECT_TRUE(Lineage("SELECT id FROM sales EXCEPT SELECT id FROM orders").empty());
  EXPECT_TRUE(Lineage("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r "
                      "WHERE n < 3) SELECT n FROM r")
                  .empty());
  // Through a subquery: the union's columns are unknown, the rest stays.
  EXPECT_EQ(Lineage("SELECT u.id, s.amount FROM (SELECT id FROM sales UNION ALL "
                    "SELECT id FROM orders) u JOIN sales s USING (id)"),
            (std::vector<OutputColumn>{Col("amount", {O("sales", "amount")}, "IDENTITY")}));
}

TEST(ColumnLineageTest, WhatItCannotFollowIsLeftOut) {
  // A table that is not an input, a table function, an unknown column.
  EXPECT_TRUE(Lineage("SELECT id FROM elsewhere").empty());
  EXPECT_TRUE(Lineage("SELECT * FROM range(3)").empty());
  EXPECT_EQ(Lineage("SELECT nope, id FROM sales"),
            (std::vector<OutputColumn>{Col("id", {O("sales", "id")}, "IDENTITY")}));
  // A scalar subquery, a lambda whose parameter is named like a column, COLUMNS(*).
  EXPECT_EQ(Lineage("SELECT (SELECT max(amount) FROM orders) AS m, "
                    "list_transform([1, 2], amount -> amount + 1) AS l, id FROM sales"),
            (std::vector<OutputColumn>{Col("id", {O("sales", "id")}, "IDENTITY")}));
  EXPECT_TRUE(Lineage("SELECT COLUMNS('a.*') FROM sales").empty());
  // A * over a table function: its columns and every column after it are unknown.
  EXPECT_EQ(Lineage("SELECT s.id, *, s.amount FROM sales s, range(3) t"),
            (std::vector<OutputColumn>{
                Col("id", {O("sales", "id")}, "IDENTITY"),
                Col("id_1", {O("sales", "id")}, "IDENTITY"),
                Col("region", {O("sales", "region")}, "IDENTITY"),
                Col("amount", {O("sales", "amount")}, "IDENTITY"),
                Col("day", {O("sales", "day")}, "IDENTITY"),
            }));
  // Which twin of a USING column a qualified EXCLUDE drops: not guessed.
  EXPECT_EQ(Lineage("SELECT r.name, * EXCLUDE (s.region) "
                    "FROM sales s JOIN regions r USING (region)"),
            (std::vector<OutputColumn>{Col("name", {O("regions", "name")}, "IDENTITY")}));
  // A column the unknown table could hold: not guessed.
  EXPECT_EQ(Lineage("SELECT range, amount FROM sales, range(3)"),
            (std::vector<OutputColumn>{Col("amount", {O("sales", "amount")}, "IDENTITY")}));
}

TEST(ColumnLineageTest, WeirdIdentifiers) {
  const std::map<std::string, std::vector<std::string>> inputs = {
      {"my table", {"a \"quoted\" col", "with space", "Ünïcode"}}};
  // DuckDB folds ASCII case only: "ünïcode" is not "Ünïcode", so that column is unknown.
  EXPECT_EQ(Lineage("SELECT \"a \"\"quoted\"\" col\" AS \"out \"\"x\"\"\", t.\"with space\", "
                    "\"ünïcode\" FROM \"my table\" t",
                    inputs),
            (std::vector<OutputColumn>{
                Col("out \"x\"", {O("my table", "a \"quoted\" col")}, "IDENTITY"),
                Col("with space", {O("my table", "with space")}, "IDENTITY"),
            }));
}

TEST(ColumnLineageTest, HostileInputIsInvalid) {
  for (const char* sql :
       {"", "SELEC id FROM sales", "SELECT id FROM sales; SELECT 1", "DELETE FROM sales",
        "COPY sales TO 'x.csv'", "CREATE TABLE t AS SELECT 1", "EXPLAIN SELECT 1",
        "SELECT 'unterminated", "ATTACH 'x.db'", "/* only a comment */"}) {
    StatusOr<std::vector<OutputColumn>> r = ColumnLineage(sql, kInputs);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().reason(), Reason::kInvalidInput) << sql;
  }
  // Deep nesting neither crashes nor throws.
  std::string deep = "SELECT ";
  for (int i = 0; i < 2000; ++i) deep += "(";
  deep += "id";
  for (int i = 0; i < 2000; ++i) deep += ")";
  deep += " FROM sales";
  StatusOr<std::vector<OutputColumn>> r = ColumnLineage(deep, kInputs);
  EXPECT_TRUE(r.ok() || r.status().reason() == Reason::kInvalidInput);
}

}  // namespace
}  // namespace tarn::tabular
