#include "common/encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace tarn {
namespace {

using namespace std::string_literals;

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, EncodesHighBytesWithPlusAndSlash) {
  EXPECT_EQ(Base64Encode("\xfb\xff\xbf"s), "+/+/");
  EXPECT_EQ(Base64Encode("\0\0\0"s), "AAAA");
}

TEST(Base64Test, DecodesRfc4648Vectors) {
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_EQ(Base64Decode("Zg=="), "f");
  EXPECT_EQ(Base64Decode("Zm8="), "fo");
  EXPECT_EQ(Base64Decode("Zm9v"), "foo");
  EXPECT_EQ(Base64Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(Base64Decode("+/+/"), "\xfb\xff\xbf"s);
}

TEST(Base64Test, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t len = 0; len <= all.size(); len += 37) {
    std::string piece = all.substr(0, len);
    auto decoded = Base64Decode(Base64Encode(piece));
    ASSERT_TRUE(decoded.has_value()) << len;
    EXPECT_EQ(*decoded, piece);
  }
}

TEST(Base64Test, RejectsInvalidInput) {
  EXPECT_FALSE(Base64Decode("Zg"));        // missing padding
  EXPECT_FALSE(Base64Decode("Zg="));       // bad length
  EXPECT_FALSE(Base64Decode("Zm9v!A=="));  // bad character
  EXPECT_FALSE(Base64Decode("Zg==Zg=="));  // padding in the middle
  EXPECT_FALSE(Base64Decode("Z==="));      // too much padding
  EXPECT_FALSE(Base64Decode("===="));
  EXPECT_FALSE(Base64Decode("Zm9v\n"));  // whitespace is not tolerated
  EXPECT_FALSE(Base64Decode("Zm-_"));    // URL-safe alphabet is not accepted
}

TEST(Base64UrlTest, RoundTripsWithoutPadding) {
  for (std::string s : {std::string(""), std::string("f"), std::string("fo"),
                        std::string("\xfb\xff\xfe", 3), std::string(100, '\x3e')}) {
    std::string e = Base64UrlEncode(s);
    EXPECT_EQ(e.find_first_of("+/="), std::string::npos) << e;
    auto d = Base64UrlDecode(e);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, s);
  }
  EXPECT_FALSE(Base64UrlDecode("a+b/").has_value());
  EXPECT_FALSE(Base64UrlDecode("abcde").has_value());
}

TEST(HexTest, EncodesLowercase) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode("\x00\x01\xab\xff"s), "0001abff");
  EXPECT_EQ(HexEncode("Az"), "417a");
}

TEST(PercentTest, DecodesEscapes) {
  EXPECT_EQ(PercentDecode("a%2Fb%2fc"), "a/b/c");
  EXPECT_EQ(PercentDecode("%E2%82%AC"), "\xe2\x82\xac");
  EXPECT_EQ(PercentDecode("%00"), "\0"s);
  EXPECT_EQ(PercentDecode("no-escapes"), "no-escapes");
  EXPECT_EQ(PercentDecode(""), "");
}

TEST(PercentTest, PlusAsSpaceOnlyWhenAsked) {
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b", /*plus_as_space=*/true), "a b");
  EXPECT_EQ(PercentDecode("a%2Bb", /*plus_as_space=*/true), "a+b");
}

TEST(PercentTest, RejectsBadEscapes) {
  EXPECT_FALSE(PercentDecode("%"));
  EXPECT_FALSE(PercentDecode("abc%2"));
  EXPECT_FALSE(PercentDecode("%G0"));
  EXPECT_FALSE(PercentDecode("%0g"));
  EXPECT_FALSE(PercentDecode("100%"));
}

TEST(PercentTest, EncodesAllButUnreserved) {
  EXPECT_EQ(PercentEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(PercentEncode("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(PercentEncode("a b/c", /*keep_slash=*/true), "a%20b/c");
  EXPECT_EQ(PercentEncode("+&=?#%"), "%2B%26%3D%3F%23%25");
  EXPECT_EQ(PercentEncode("\xe2\x82\xac"), "%E2%82%AC");
}

TEST(PercentTest, RoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(PercentDecode(PercentEncode(all)), all);
  EXPECT_EQ(PercentDecode(PercentEncode(all, true)), all);
}

TEST(Utf8Test, AcceptsValidText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));       // U+00E9
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));      // U+20AC
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));      // U+D7FF, just below surrogates
  EXPECT_TRUE(IsValidUtf8("nul\0inside"s));
}

TEST(Utf8Test, RejectsInvalidText) {
  EXPECT_FALSE(IsValidUtf8("\x80"));                  // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xc3"));                  // truncated
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc3\x28"));              // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));              // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));          // U+D800 surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));      // U+110000
  EXPECT_FALSE(IsValidUtf8("\xf8\x88\x80\x80\x80"));  // 5-byte form
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("ok\xfe"));
}

TEST(XmlEscapeTest, EscapesSpecialCharacters) {
  EXPECT_EQ(XmlEscape(""), "");
  EXPECT_EQ(XmlEscape("plain"), "plain");
  EXPECT_EQ(XmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(XmlEscape("&amp;"), "&amp;amp;");
}

}  // namespace
}  // namespace tarn
