#include "tabular/filter.h"

#include <gtest/gtest.h>

namespace tarn::tabular {
namespace {

std::string Sql(const std::string& e) {
  StatusOr<FilterSql> f = CompileFilter(e);
  EXPECT_TRUE(f.ok()) << e << ": " << f.status().message();
  return f.ok() ? f->sql : "";
}

std::string ErrorOf(const std::string& e) {
  StatusOr<FilterSql> f = CompileFilter(e);
  EXPECT_FALSE(f.ok()) << e;
  if (!f.ok()) {
    EXPECT_EQ(f.status().reason(), Reason::kInvalidInput);
  }
  return f.ok() ? "" : f.status().message();
}

TEST(FilterTest, ComparisonsAndLiterals) {
  EXPECT_EQ(Sql("age > 15"), "(\"age\" > 15)");
  EXPECT_EQ(Sql("region == 'eu'"), "(\"region\" = 'eu')");
  EXPECT_EQ(Sql("region != \"eu\""), "(\"region\" <> 'eu')");
  EXPECT_EQ(Sql("x <= -1.5e3"), "(\"x\" <= -1.5e3)");
  EXPECT_EQ(Sql("ok == TRUE"), "(\"ok\" = TRUE)");
  EXPECT_EQ(Sql("v == null"), "(\"v\" IS NULL)");
  EXPECT_EQ(Sql("v != null"), "(\"v\" IS NOT NULL)");
  EXPECT_EQ(Sql("`my col` >= 2"), "(\"my col\" >= 2)");
}

TEST(FilterTest, PrecedenceAndNot) {
  EXPECT_EQ(Sql("a == 1 or b == 2 and c == 3"), "((\"a\" = 1) OR ((\"b\" = 2) AND (\"c\" = 3)))");
  EXPECT_EQ(Sql("(a == 1 or b == 2) and not c == 3"),
            "(((\"a\" = 1) OR (\"b\" = 2)) AND (NOT (\"c\" = 3)))");
  StatusOr<FilterSql> f = CompileFilter("a == 1 AND b < 'x' or a > 2");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->identifiers, (std::vector<std::string>{"a", "b", "a"}));
}

TEST(FilterTest, ErrorsPointAtThePosition) {
  EXPECT_NE(ErrorOf("age >").find("position 5"), std::string::npos);
  EXPECT_NE(ErrorOf("age = 5").find("position 4"), std::string::npos);
  EXPECT_NE(ErrorOf("age > 5 extra").find("position 8"), std::string::npos);
  EXPECT_NE(ErrorOf("(age > 5").find("expected ')'"), std::string::npos);
  EXPECT_NE(ErrorOf("name == 'open").find("unterminated string at position 8"), std::string::npos);
  EXPECT_NE(ErrorOf("5 > age").find("position 0"), std::string::npos);
  EXPECT_NE(ErrorOf("a < null").find("null"), std::string::npos);
  ErrorOf("");
  ErrorOf("a == 1 and");
  ErrorOf("a == 12abc");
  ErrorOf(std::string(200, '(') + "a == 1" + std::string(200, ')'));
}

TEST(FilterTest, TextOperatorsAndLists) {
  EXPECT_EQ(Sql("name contains 'Bri'"), "(contains(CAST(\"name\" AS VARCHAR), 'Bri'))");
  EXPECT_EQ(Sql("name STARTSWITH 'B' and age > 15"),
            "((starts_with(CAST(\"name\" AS VARCHAR), 'B')) AND (\"age\" > 15))");
  EXPECT_EQ(Sql("file endswith \".csv\""), "(ends_with(CAST(\"file\" AS VARCHAR), '.csv'))");
  EXPECT_EQ(Sql("region in ('eu', 'us')"), "(\"region\" IN ('eu', 'us'))");
  EXPECT_EQ(Sql("not (n in (1, -2.5e1, true))"), "(NOT (\"n\" IN (1, -2.5e1, TRUE)))");
  // A column may be called like an operator.
  EXPECT_EQ(Sql("in == 1"), "(\"in\" = 1)");
  EXPECT_NE(ErrorOf("name contains 5").find("expected a string after contains at position 14"),
            std::string::npos);
  EXPECT_NE(ErrorOf("a in 1").find("expected '(' after 'in'"), std::string::npos);
  EXPECT_NE(ErrorOf("a in ()").find("expected a number, string"), std::string::npos);
  EXPECT_NE(ErrorOf("a in (1 2)").find("expected ',' or ')'"), std::string::npos);
  EXPECT_NE(ErrorOf("a in (1,").find("position 8"), std::string::npos);
  EXPECT_NE(ErrorOf("a in (null)").find("expected a number, string"), std::string::npos);
  EXPECT_NE(ErrorOf("a like 'x%'").find("contains, startswith, endswith or in"),
            std::string::npos);
  EXPECT_EQ(Sql("s contains 'x\\'); DROP TABLE t; --'"),
            "(contains(CAST(\"s\" AS VARCHAR), 'x''); DROP TABLE t; --'))");
}

TEST(FilterTest, InjectionStaysInsideQuotes) {
  // A quote inside a string literal is doubled: the whole text stays one literal.
  EXPECT_EQ(Sql("name == 'x\\'; DROP TABLE t; --'"), "(\"name\" = 'x''; DROP TABLE t; --')");
  EXPECT_EQ(Sql("name == \"a' OR '1'='1\""), "(\"name\" = 'a'' OR ''1''=''1')");
  // An identifier cannot close its quotes either.
  EXPECT_EQ(Sql("`a\" = 1 OR \"b` == 1"), "(\"a\"\" = 1 OR \"\"b\" = 1)");
  // SQL syntax outside the grammar does not parse.
  ErrorOf("a == 1; DROP TABLE t");
  ErrorOf("a == 1 -- comment");
  ErrorOf("a == 1 /* x */");
  ErrorOf("a == (SELECT 1)");
  ErrorOf(std::string("a == 'x") + '\0' + "'");
}

}  // namespace
}  // namespace tarn::tabular
