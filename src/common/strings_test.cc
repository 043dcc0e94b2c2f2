#include "common/strings.h"

#include <gtest/gtest.h>

#include <limits>

namespace tarn {
namespace {

using Pieces = std::vector<std::string_view>;

TEST(SplitTest, KeepsEmptyPieces) {
  EXPECT_EQ(Split("a,b,c", ','), (Pieces{"a", "b", "c"}));
  EXPECT_EQ(Split("", ','), (Pieces{""}));
  EXPECT_EQ(Split(",", ','), (Pieces{"", ""}));
  EXPECT_EQ(Split("a,,b,", ','), (Pieces{"a", "", "b", ""}));
  EXPECT_EQ(Split("/dir/file", '/'), (Pieces{"", "dir", "file"}));
  EXPECT_EQ(Split("no-separator", ','), (Pieces{"no-separator"}));
}

TEST(TrimTest, RemovesSpacesAndTabsOnly) {
  EXPECT_EQ(Trim("  a b \t"), "a b");
  EXPECT_EQ(Trim("\t\tx"), "x");
  EXPECT_EQ(Trim("x"), "x");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim(" \t "), "");
  EXPECT_EQ(Trim("\nx\r"), "\nx\r");
}

TEST(CaseTest, LowerAndCompareAsciiOnly) {
  EXPECT_EQ(ToLower("Content-MD5"), "content-md5");
  EXPECT_EQ(ToLower("\xc3\x89"), "\xc3\x89");  // non-ASCII bytes unchanged
  EXPECT_TRUE(EqualsIgnoreCase("X-Ms-Version", "x-ms-version"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("x-ms-version", "x-ms-versio"));
  EXPECT_FALSE(EqualsIgnoreCase("abc", "abd"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));  // differ by 0x20 but are not letters
}

TEST(AffixTest, StartsAndEndsWith) {
  EXPECT_TRUE(StartsWith("x-ms-meta-foo", "x-ms-meta-"));
  EXPECT_TRUE(StartsWith("abc", ""));
  EXPECT_FALSE(StartsWith("ab", "abc"));
  EXPECT_FALSE(StartsWith("X-ms", "x-"));
  EXPECT_TRUE(EndsWith("file.parquet", ".parquet"));
  EXPECT_TRUE(EndsWith("abc", ""));
  EXPECT_FALSE(EndsWith("bc", "abc"));
  EXPECT_FALSE(EndsWith("file.csv", ".parquet"));
}

TEST(ParseInt64Test, AcceptsWholeDecimalNumbers) {
  int64_t v = -7;
  EXPECT_TRUE(ParseInt64("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseInt64("12345", &v));
  EXPECT_EQ(v, 12345);
  EXPECT_TRUE(ParseInt64("-42", &v));
  EXPECT_EQ(v, -42);
  EXPECT_TRUE(ParseInt64("007", &v));
  EXPECT_EQ(v, 7);
  EXPECT_TRUE(ParseInt64("9223372036854775807", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
}

TEST(ParseInt64Test, RejectsEverythingElseAndLeavesOutputAlone) {
  int64_t v = 99;
  for (const char* bad :
       {"", "-", "+1", " 1", "1 ", "1a", "0x10", "1.5", "--1", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999999"}) {
    EXPECT_FALSE(ParseInt64(bad, &v)) << bad;
    EXPECT_EQ(v, 99) << bad;
  }
}

}  // namespace
}  // namespace tarn
