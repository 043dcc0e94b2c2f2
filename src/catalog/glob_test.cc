#include "catalog/glob.h"

#include <gtest/gtest.h>

namespace tarn::catalog {
namespace {

Glob MustParse(const std::string& p) {
  auto g = Glob::Parse(p);
  EXPECT_TRUE(g.ok()) << p << ": " << g.status().ToString();
  return g.ok() ? *g : *Glob::Parse("x");
}

TEST(GlobTest, StarStaysInOneSegment) {
  Glob g = MustParse("sales/*.csv");
  EXPECT_TRUE(g.Matches("sales/a.csv"));
  EXPECT_FALSE(g.Matches("sales/2024/a.csv"));
  EXPECT_FALSE(g.Matches("sales/a.parquet"));
  EXPECT_EQ(g.base_dir(), "sales");
  EXPECT_FALSE(g.recursive());
}

TEST(GlobTest, DoubleStarSpansAnyDepthIncludingNone) {
  Glob g = MustParse("/sales/**/*.csv");
  EXPECT_TRUE(g.Matches("sales/a.csv"));
  EXPECT_TRUE(g.Matches("sales/2024/01/b.csv"));
  EXPECT_FALSE(g.Matches("other/b.csv"));
  EXPECT_TRUE(g.recursive());
  EXPECT_EQ(g.base_dir(), "sales");
  Glob all = MustParse("**");
  EXPECT_TRUE(all.Matches("a"));
  EXPECT_TRUE(all.Matches("a/b/c"));
  EXPECT_EQ(all.base_dir(), "");
}

TEST(GlobTest, QuestionMarkAndClasses) {
  Glob g = MustParse("d/part-?[0-9].[!t]sv");
  EXPECT_TRUE(g.Matches("d/part-a1.csv"));
  EXPECT_FALSE(g.Matches("d/part-a1.tsv"));
  EXPECT_FALSE(g.Matches("d/part-ab.csv"));
}

TEST(GlobTest, WildcardInDirectorySegment) {
  Glob g = MustParse("region=*/day=2024-*/data.parquet");
  EXPECT_TRUE(g.Matches("region=eu/day=2024-01-02/data.parquet"));
  EXPECT_FALSE(g.Matches("region=eu/day=2023-01-02/data.parquet"));
  EXPECT_EQ(g.base_dir(), "");
  EXPECT_TRUE(g.recursive());
}

TEST(GlobTest, LiteralNamesAFileOrADirectory) {
  Glob g = MustParse("raw/2024");
  EXPECT_FALSE(g.has_wildcards());
  EXPECT_TRUE(g.Matches("raw/2024"));
  EXPECT_TRUE(g.Matches("raw/2024/x/y.csv"));
  EXPECT_FALSE(g.Matches("raw/20245/y.csv"));
  EXPECT_EQ(g.base_dir(), "raw/2024");
}

TEST(GlobTest, RejectsBadPatterns) {
  // "data/[x]*[" (an unclosed class after a closed one) once read past the pattern (fuzz/corpus).
  for (const char* p : {"", "/", "a//b", "a/../b", "./a", "a/[bc", "a**/b", "data/[x]*[",
                        "a/[x][", "[a][b][c"}) {
    auto g = Glob::Parse(p);
    EXPECT_FALSE(g.ok()) << p;
    if (!g.ok()) {
      EXPECT_EQ(g.status().reason(), Reason::kInvalidPaths) << p;
    }
  }
}

// Many '**' segments against a deep path: remembered failures keep it polynomial.
TEST(GlobTest, ManyDoubleStarsStayFast) {
  std::string pattern;
  for (int i = 0; i < 24; ++i) pattern += "**/a/";
  pattern += "nomatch.csv";
  std::string path;
  for (int i = 0; i < 60; ++i) path += "a/";
  path += "x.csv";
  EXPECT_FALSE(MustParse(pattern).Matches(path));
  EXPECT_TRUE(MustParse("**/a/**/x.csv").Matches(path));
}

}  // namespace
}  // namespace tarn::catalog
