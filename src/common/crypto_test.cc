#include "common/crypto.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/encoding.h"

namespace tarn {
namespace {

using namespace std::string_literals;

TEST(DigestTest, Md5KnownVectors) {
  EXPECT_EQ(HexEncode(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(HexEncode(Md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(HexEncode(Md5("The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6");
}

TEST(DigestTest, Sha256KnownVectors) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(DigestTest, SizesAreRaw) {
  EXPECT_EQ(Md5("x").size(), 16u);
  EXPECT_EQ(Sha256("x").size(), 32u);
  EXPECT_EQ(HmacSha256("k", "x").size(), 32u);
}

TEST(HmacTest, Rfc4231TestCase1) {
  std::string key(20, '\x0b');
  EXPECT_EQ(HexEncode(HmacSha256(key, "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacTest, Rfc4231TestCase2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacTest, Rfc4231TestCase6KeyLongerThanBlock) {
  std::string key(131, '\xaa');
  EXPECT_EQ(HexEncode(HmacSha256(key, "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacTest, EmptyKeyAndMessage) {
  // Well-known value of HMAC-SHA256 with an empty key over an empty message.
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacTest, AzureSharedKeyStyleBase64Key) {
  // Shared Key signs with the base64-decoded account key; the key bytes may contain NULs.
  auto key = Base64Decode("AAECAwQFBgcICQoLDA0ODw==");
  ASSERT_TRUE(key.has_value());
  ASSERT_EQ(key->size(), 16u);
  EXPECT_NE(HmacSha256(*key, "GET\n"), HmacSha256("", "GET\n"));
  EXPECT_EQ(HmacSha256(*key, "GET\n"), HmacSha256(*key, "GET\n"));
}

TEST(Md5StreamTest, MatchesOneShot) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 7 + 3);
  Md5Stream s;
  for (size_t pos = 0; pos < data.size(); pos += 997)
    s.Update(std::string_view(data).substr(pos, 997));
  EXPECT_EQ(s.Finish(), Md5(data));
}

TEST(Md5StreamTest, EmptyStreamAndEmptyUpdates) {
  Md5Stream s;
  s.Update("");
  s.Update("a");
  s.Update("");
  s.Update("bc");
  EXPECT_EQ(HexEncode(s.Finish()), "900150983cd24fb0d6963f7d28e17f72");
  Md5Stream empty;
  EXPECT_EQ(HexEncode(empty.Finish()), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(Md5StreamTest, FinishTwiceReturnsSameDigest) {
  Md5Stream s;
  s.Update("abc");
  std::string first = s.Finish();
  EXPECT_EQ(s.Finish(), first);
}

TEST(OverlappedMd5Test, MixedPiecesMatchOneShotInOrder) {
  std::string data;
  for (int i = 0; i < 3000000; ++i) data += static_cast<char>(i * 13 + i / 7);
  OverlappedMd5 md5;
  size_t pos = 0;
  for (size_t n : {size_t{1}, size_t{700000}, size_t{5}, size_t{1 << 20}, size_t{3}}) {
    std::string_view piece = std::string_view(data).substr(pos, n);
    if (n > 100) {
      md5.Begin(piece);
      md5.End();
    } else {
      md5.Update(piece);
    }
    pos += n;
  }
  // Pieces begun back to back, without End in between, are hashed in order too.
  md5.Begin(std::string_view(data).substr(pos, 400000));
  pos += 400000;
  md5.Begin(std::string_view(data).substr(pos));
  EXPECT_EQ(md5.Finish(), Md5(data));
  OverlappedMd5 unused;  // no thread started, nothing to join
  EXPECT_EQ(HexEncode(unused.Finish()), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(RandomTest, BytesHaveRequestedLengthAndDiffer) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(1).size(), 1u);
  std::string a = RandomBytes(32);
  std::string b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(RandomBytes(3 << 20).size(), size_t{3} << 20);
}

TEST(RandomTest, U64ValuesAreDistinct) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(RandomU64());
  EXPECT_EQ(seen.size(), 1000u);
}

void ExpectVersion4Uuid(const std::string& u) {
  ASSERT_EQ(u.size(), 36u) << u;
  for (size_t k = 0; k < u.size(); ++k) {
    if (k == 8 || k == 13 || k == 18 || k == 23) {
      EXPECT_EQ(u[k], '-') << u;
    } else {
      EXPECT_TRUE((u[k] >= '0' && u[k] <= '9') || (u[k] >= 'a' && u[k] <= 'f')) << u;
    }
  }
  EXPECT_EQ(u[14], '4') << u;
  EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;
}

TEST(UuidTest, RequestIdsAreVersion4AndDistinctAcrossThreads) {
  constexpr int kEach = 20000;
  std::vector<std::string> a, b;
  std::thread ta([&] {
    for (int i = 0; i < kEach; ++i) a.push_back(NewRequestId());
  });
  std::thread tb([&] {
    for (int i = 0; i < kEach; ++i) b.push_back(NewRequestId());
  });
  ta.join();
  tb.join();
  std::set<std::string> seen(a.begin(), a.end());
  seen.insert(b.begin(), b.end());
  EXPECT_EQ(seen.size(), size_t{2 * kEach});
  for (int i = 0; i < 100; ++i) ExpectVersion4Uuid(a[static_cast<size_t>(i)]);
}

TEST(UuidTest, FormatIsVersion4) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string u = NewUuid();
    ExpectVersion4Uuid(u);
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(SecureEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(SecureEquals("", ""));
  EXPECT_TRUE(SecureEquals("abc", "abc"));
  EXPECT_TRUE(SecureEquals("a\0b"s, "a\0b"s));
  EXPECT_FALSE(SecureEquals("abc", "abd"));
  EXPECT_FALSE(SecureEquals("abc", "ab"));
  EXPECT_FALSE(SecureEquals("", "a"));
  EXPECT_FALSE(SecureEquals("a\0b"s, "a\0c"s));
}

}  // namespace
}  // namespace tarn
