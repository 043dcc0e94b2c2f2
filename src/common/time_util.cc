#include "common/time_util.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>

namespace tarn {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
// 100 ns ticks between 1601-01-01 and 1970-01-01.
constexpr int64_t kFiletimeUnixEpoch = 116'444'736'000'000'000;

constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Splits Unix micros into a broken-down UTC time and the microseconds within the second.
bool ToUtc(int64_t unix_micros, std::tm* tm, int64_t* micros_in_second) {
  int64_t secs = FloorDiv(unix_micros, kMicrosPerSecond);
  *micros_in_second = unix_micros - secs * kMicrosPerSecond;
  auto t = static_cast<std::time_t>(secs);
  return gmtime_r(&t, tm) != nullptr;
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month0) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month0 == 1 && IsLeapYear(year) ? 29 : kDays[month0];
}

// A minimal cursor over the text being parsed.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool Done() const { return pos_ == s_.size(); }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool Eat(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  // Reads between min_digits and max_digits decimal digits.
  bool Digits(int min_digits, int max_digits, int* value, int* count = nullptr) {
    int v = 0;
    int n = 0;
    while (n < max_digits && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + (s_[pos_] - '0');
      ++pos_;
      ++n;
    }
    if (n < min_digits) return false;
    *value = v;
    if (count) *count = n;
    return true;
  }
  // Reads one of the three-letter names (ASCII case-insensitive) and returns its index.
  bool Name(const char* const* names, int count, int* index) {
    if (s_.size() - pos_ < 3) return false;
    for (int i = 0; i < count; ++i) {
      bool match = true;
      for (int k = 0; k < 3; ++k) {
        char a = s_[pos_ + k];
        char b = names[i][k];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
        if (a != b) match = false;
      }
      if (match) {
        pos_ += 3;
        *index = i;
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Validates the fields (timegm would silently normalize them) and converts to Unix seconds.
std::optional<int64_t> ToUnixSeconds(int year, int month0, int day, int hour, int minute,
                                     int second) {
  if (month0 < 0 || month0 > 11) return std::nullopt;
  if (day < 1 || day > DaysInMonth(year, month0)) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;  // 60: leap second
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month0;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t NowMillis() { return NowMicros() / 1000; }

int64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string FormatHttpDate(int64_t unix_micros) {
  std::tm tm{};
  int64_t frac = 0;
  if (!ToUtc(unix_micros, &tm, &frac)) return "Thu, 01 Jan 1970 00:00:00 GMT";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kWeekdays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::optional<int64_t> ParseHttpDate(std::string_view s) {
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". A one-digit day is tolerated.
  Cursor c(s);
  int weekday, day, month, year, hour, minute, second;
  if (!c.Name(kWeekdays, 7, &weekday) || !c.Eat(',') || !c.Eat(' ')) return std::nullopt;
  if (!c.Digits(1, 2, &day) || !c.Eat(' ')) return std::nullopt;
  if (!c.Name(kMonths, 12, &month) || !c.Eat(' ')) return std::nullopt;
  if (!c.Digits(4, 4, &year) || !c.Eat(' ')) return std::nullopt;
  if (!c.Digits(2, 2, &hour) || !c.Eat(':') || !c.Digits(2, 2, &minute) || !c.Eat(':') ||
      !c.Digits(2, 2, &second) || !c.Eat(' ')) {
    return std::nullopt;
  }
  if (!c.Eat('G') || !c.Eat('M') || !c.Eat('T') || !c.Done()) return std::nullopt;
  auto secs = ToUnixSeconds(year, month, day, hour, minute, second);
  if (!secs) return std::nullopt;
  return *secs * kMicrosPerSecond;
}

std::string FormatIso8601(int64_t unix_micros) {
  std::tm tm{};
  int64_t frac = 0;
  if (!ToUtc(unix_micros, &tm, &frac)) return "1970-01-01T00:00:00.0000000Z";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06d0Z", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(frac));
  return buf;
}

std::optional<int64_t> ParseIso8601(std::string_view s) {
  // Besides "YYYY-MM-DDThh:mm:ss[.f{1,7}]Z" this accepts the shorter forms that Azure SAS
  // tokens allow ("YYYY-MM-DD" and "YYYY-MM-DDThh:mmZ"; az documents the latter for --expiry).
  Cursor c(s);
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!c.Digits(4, 4, &year) || !c.Eat('-') || !c.Digits(2, 2, &month) || !c.Eat('-') ||
      !c.Digits(2, 2, &day)) {
    return std::nullopt;
  }
  int64_t frac_micros = 0;
  if (!c.Done()) {
    if (!c.Eat('T') || !c.Digits(2, 2, &hour) || !c.Eat(':') || !c.Digits(2, 2, &minute)) {
      return std::nullopt;
    }
    if (c.Eat(':')) {
      if (!c.Digits(2, 2, &second)) return std::nullopt;
      if (c.Eat('.')) {
        int frac = 0;
        int digits = 0;
        if (!c.Digits(1, 7, &frac, &digits)) return std::nullopt;
        // Scale to 100 ns ticks, then truncate to microseconds.
        for (int i = digits; i < 7; ++i) frac *= 10;
        frac_micros = frac / 10;
      }
    }
    if (!c.Eat('Z') || !c.Done()) return std::nullopt;
  }
  auto secs = ToUnixSeconds(year, month - 1, day, hour, minute, second);
  if (!secs) return std::nullopt;
  return *secs * kMicrosPerSecond + frac_micros;
}

std::string FormatFiletime(int64_t unix_micros) {
  int64_t ticks = 0;
  if (__builtin_mul_overflow(unix_micros, int64_t{10}, &ticks) ||
      __builtin_add_overflow(ticks, kFiletimeUnixEpoch, &ticks)) {
    ticks =
        unix_micros < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  return std::to_string(ticks);
}

}  // namespace tarn
