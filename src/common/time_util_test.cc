#include "common/time_util.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tarn {
namespace {

constexpr int64_t kSec = 1'000'000;
constexpr int64_t kRfcExample = 784111777 * kSec;     // Sun, 06 Nov 1994 08:49:37 GMT
constexpr int64_t kAzureExample = 1677033688 * kSec;  // 2023-02-22T02:41:28Z

TEST(ClockTest, NowIsPlausibleAndConsistent) {
  int64_t micros = NowMicros();
  int64_t millis = NowMillis();
  EXPECT_GT(micros, 1'600'000'000 * kSec);  // after September 2020
  EXPECT_LT(micros, 4'102'444'800 * kSec);  // before 2100
  EXPECT_NEAR(static_cast<double>(millis), static_cast<double>(micros / 1000), 5000.0);
}

TEST(ClockTest, MonotonicDoesNotGoBackwards) {
  int64_t a = MonotonicMicros();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  int64_t b = MonotonicMicros();
  EXPECT_GE(b - a, 2000);
}

TEST(HttpDateTest, FormatsKnownDates) {
  EXPECT_EQ(FormatHttpDate(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(951782400 * kSec), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(kAzureExample + 999'999), "Wed, 22 Feb 2023 02:41:28 GMT");
  EXPECT_EQ(FormatHttpDate(-1), "Wed, 31 Dec 1969 23:59:59 GMT");  // floors, not truncates
}

TEST(HttpDateTest, ParsesKnownDates) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(ParseHttpDate("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400 * kSec);
  EXPECT_EQ(ParseHttpDate("Sun, 6 Nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(ParseHttpDate("sun, 06 nov 1994 08:49:37 GMT"), kRfcExample);
}

TEST(HttpDateTest, RejectsMalformedDates) {
  EXPECT_FALSE(ParseHttpDate(""));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 1994 08:49:37"));       // no zone
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 PST"));   // not GMT
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT "));  // trailing junk
  EXPECT_FALSE(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"));  // RFC 850
  EXPECT_FALSE(ParseHttpDate("Sun Nov  6 08:49:37 1994"));        // asctime
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, 31 Apr 1994 08:49:37 GMT"));  // no April 31st
  EXPECT_FALSE(ParseHttpDate("Sun, 29 Feb 1900 08:49:37 GMT"));  // not a leap year
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 1994 24:00:00 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 1994 08:60:00 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, 00 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 94 08:49:37 GMT"));
}

TEST(HttpDateTest, RoundTripsWholeSeconds) {
  for (int64_t secs :
       {int64_t{0}, int64_t{1}, int64_t{784111777}, int64_t{951868799}, int64_t{1677033688},
        int64_t{2147483648}, int64_t{253402300799}, int64_t{-11644473600}}) {
    std::string text = FormatHttpDate(secs * kSec);
    EXPECT_EQ(ParseHttpDate(text), secs * kSec) << text;
  }
}

TEST(Iso8601Test, FormatsSevenFractionDigits) {
  EXPECT_EQ(FormatIso8601(kAzureExample + 123456), "2023-02-22T02:41:28.1234560Z");
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.0000000Z");
  EXPECT_EQ(FormatIso8601(kRfcExample + 1), "1994-11-06T08:49:37.0000010Z");
  EXPECT_EQ(FormatIso8601(-1), "1969-12-31T23:59:59.9999990Z");
}

TEST(Iso8601Test, ParsesFractionsOfAnyLength) {
  EXPECT_EQ(ParseIso8601("2023-02-22T02:41:28.1234567Z"), kAzureExample + 123456);
  EXPECT_EQ(ParseIso8601("2023-02-22T02:41:28.123456Z"), kAzureExample + 123456);
  EXPECT_EQ(ParseIso8601("2023-02-22T02:41:28.5Z"), kAzureExample + 500000);
  EXPECT_EQ(ParseIso8601("2023-02-22T02:41:28.001Z"), kAzureExample + 1000);
  EXPECT_EQ(ParseIso8601("2023-02-22T02:41:28Z"), kAzureExample);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIso8601("1601-01-01T00:00:00Z"), -11644473600 * kSec);
}

TEST(Iso8601Test, ParsesShortSasForms) {
  EXPECT_EQ(ParseIso8601("2023-02-22T02:41Z"), kAzureExample - 28 * kSec);
  EXPECT_EQ(ParseIso8601("2023-02-22"), (kAzureExample / kSec - (2 * 3600 + 41 * 60 + 28)) * kSec);
}

TEST(Iso8601Test, RejectsMalformedText) {
  EXPECT_FALSE(ParseIso8601(""));
  EXPECT_FALSE(ParseIso8601("2023-02-22T02:41:28"));            // no Z
  EXPECT_FALSE(ParseIso8601("2023-02-22T02:41:28.Z"));          // empty fraction
  EXPECT_FALSE(ParseIso8601("2023-02-22T02:41:28.12345678Z"));  // 8 digits
  EXPECT_FALSE(ParseIso8601("2023-02-22T02:41:28+00:00"));      // offsets are not accepted
  EXPECT_FALSE(ParseIso8601("2023-02-22 02:41:28Z"));
  EXPECT_FALSE(ParseIso8601("2023-2-22T02:41:28Z"));
  EXPECT_FALSE(ParseIso8601("2023-02-30T02:41:28Z"));
  EXPECT_FALSE(ParseIso8601("2023-13-01T02:41:28Z"));
  EXPECT_FALSE(ParseIso8601("2023-02-22T25:41:28Z"));
  EXPECT_FALSE(ParseIso8601("2023-02-22T02:41:28ZZ"));
  EXPECT_FALSE(ParseIso8601("2023-02-22T"));
}

TEST(Iso8601Test, RoundTripsMicroseconds) {
  for (int64_t micros : {int64_t{0}, int64_t{1}, int64_t{-1}, kAzureExample + 999999,
                         kRfcExample + 42, int64_t{253402300799} * kSec + 999999}) {
    std::string text = FormatIso8601(micros);
    EXPECT_EQ(ParseIso8601(text), micros) << text;
  }
}

TEST(FiletimeTest, KnownValues) {
  EXPECT_EQ(FormatFiletime(0), "116444736000000000");
  EXPECT_EQ(FormatFiletime(-11644473600 * kSec), "0");  // 1601-01-01
  EXPECT_EQ(FormatFiletime(kAzureExample + 123456), "133215072881234560");
}

TEST(TimeFormatTest, ThreadSafe) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 2000; ++i) {
        int64_t micros = (int64_t{t} * 1'000'000'000 + i * 86'401) * kSec + i;
        if (ParseIso8601(FormatIso8601(micros)) != micros) ++failures[t];
        if (ParseHttpDate(FormatHttpDate(micros)) != micros - micros % kSec) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace tarn
