#include "adapters/records/field_parse.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace ordersync {
namespace {

bool Lower(std::string_view s, std::string_view want) {
  if (s.size() != want.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != want[i]) return false;
  }
  return true;
}

bool Digits(std::string_view s, size_t n, int* out) {
  if (s.size() < n) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

bool ParseBool(std::string_view t, bool* out) {
  if (Lower(t, "true") || Lower(t, "yes") || Lower(t, "y") || t == "1") {
    *out = true;
    return true;
  }
  if (Lower(t, "false") || Lower(t, "no") || Lower(t, "n") || t == "0") {
    *out = false;
    return true;
  }
  return false;
}

bool ParseInt64(std::string_view t, int64_t* out) {
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  if (t.empty()) return false;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  return ec == std::errc() && p == t.data() + t.size();
}

bool ParseMoneyMinor(std::string_view t, int64_t* out) {
  bool negative = false;
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) {
    negative = t.front() == '-';
    t.remove_prefix(1);
  }
  const size_t dot = t.find('.');
  std::string_view whole = t.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : t.substr(dot + 1);
  if (whole.empty() && frac.empty()) return false;
  if (frac.size() > 2) {
    // Trailing zeros beyond cents are fine ("19.990").
    for (size_t i = 2; i < frac.size(); ++i) {
      if (frac[i] != '0') return false;
    }
    frac = frac.substr(0, 2);
  }
  int64_t w = 0;
  if (!whole.empty()) {
    for (char c : whole) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
    if (ec != std::errc() || w > INT64_MAX / 100 - 1) return false;
  }
  int64_t f = 0;
  for (size_t i = 0; i < 2; ++i) {
    int d = 0;
    if (i < frac.size()) {
      if (!std::isdigit(static_cast<unsigned char>(frac[i]))) return false;
      d = frac[i] - '0';
    }
    f = f * 10 + d;
  }
  *out = (negative ? -1 : 1) * (w * 100 + f);
  return true;
}

bool ParseTimestampNs(std::string_view t, int64_t* out) {
  if (t.empty()) return false;
  if (t.size() > 10 && t.find('-') == std::string_view::npos) return ParseInt64(t, out);  // ns
  int year, month, day;
  if (!Digits(t, 4, &year) || t.size() < 10 || t[4] != '-' || !Digits(t.substr(5), 2, &month) || t[7] != '-' ||
      !Digits(t.substr(8), 2, &day)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  int hour = 0, minute = 0, second = 0;
  int64_t frac_ns = 0, offset_s = 0;
  std::string_view rest = t.substr(10);
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ') return false;
    rest.remove_prefix(1);
    if (!Digits(rest, 2, &hour) || rest.size() < 5 || rest[2] != ':' || !Digits(rest.substr(3), 2, &minute)) {
      return false;
    }
    rest.remove_prefix(5);
    if (!rest.empty() && rest[0] == ':') {
      if (!Digits(rest.substr(1), 2, &second)) return false;
      rest.remove_prefix(3);
    }
    if (!rest.empty() && rest[0] == '.') {
      rest.remove_prefix(1);
      int64_t scale = 100'000'000;
      size_t n = 0;
      while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n]))) {
        if (scale > 0) frac_ns += (rest[n] - '0') * scale;
        scale /= 10;
        ++n;
      }
      if (n == 0) return false;
      rest.remove_prefix(n);
    }
    if (rest == "Z" || rest == "z") {
      rest = {};
    } else if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
      int oh = 0, om = 0;
      const int sign = rest[0] == '-' ? -1 : 1;
      rest.remove_prefix(1);
      if (!Digits(rest, 2, &oh)) return false;
      rest.remove_prefix(2);
      if (!rest.empty() && rest[0] == ':') rest.remove_prefix(1);
      if (!rest.empty()) {
        if (!Digits(rest, 2, &om)) return false;
        rest.remove_prefix(2);
      }
      offset_s = sign * (oh * 3600 + om * 60);
    }
    if (!rest.empty() || hour > 23 || minute > 59 || second > 60) return false;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t secs = timegm(&tm);
  if (tm.tm_mday != day) return false;  // 2024-02-31
  *out = (static_cast<int64_t>(secs) - offset_s) * 1'000'000'000 + frac_ns;
  return true;
}

std::string FormatTimestampNs(int64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof f, ".%09lld", static_cast<long long>(frac));
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  return out + "Z";
}

std::string FormatMoneyMinor(int64_t minor) {
  const bool negative = minor < 0;
  const uint64_t v = negative ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  std::string cents = std::to_string(v % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return (negative ? "-" : "") + std::to_string(v / 100) + "." + cents;
}

}  // namespace ordersync
