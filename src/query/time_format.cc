#include "query/time_format.h"

#include <fmt/format.h>

#include <cctype>

namespace sagaflow::query {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) noexcept {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

namespace {

// Reads exactly `n` digits at s[*i].
bool Digits(std::string_view s, size_t* i, size_t n, int64_t* out) {
  if (*i + n > s.size()) return false;
  int64_t v = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

bool LeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, int64_t m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && LeapYear(y) ? 29 : kDays[m - 1];
}

}  // namespace

Result<int64_t> ParseTime(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("invalid time \"{}\": {} (use unix seconds or ISO 8601 such as 2024-03-01T12:30:00Z)", text, why));
  };
  if (text.empty()) return bad("empty");
  bool all_digits = true;
  for (char c : text) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits) {
    if (text.size() > 12) return bad("out of range");
    int64_t v = 0;
    for (char c : text) v = v * 10 + (c - '0');
    return v;
  }
  size_t i = 0;
  int64_t year, month, day, hour = 0, minute = 0, second = 0;
  if (!Digits(text, &i, 4, &year) || i >= text.size() || text[i++] != '-' || !Digits(text, &i, 2, &month) ||
      i >= text.size() || text[i++] != '-' || !Digits(text, &i, 2, &day)) {
    return bad("expected YYYY-MM-DD");
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return bad("no such date");
  if (i < text.size() && (text[i] == 'T' || text[i] == 't' || text[i] == ' ')) {
    ++i;
    if (!Digits(text, &i, 2, &hour) || i >= text.size() || text[i++] != ':' || !Digits(text, &i, 2, &minute)) {
      return bad("expected HH:MM after the date");
    }
    if (i < text.size() && text[i] == ':') {
      ++i;
      if (!Digits(text, &i, 2, &second)) return bad("expected seconds as SS");
    }
    if (i < text.size() && (text[i] == '.' || text[i] == ',')) return bad("fractional seconds are not supported");
    if (hour > 23 || minute > 59 || second > 59) return bad("no such time of day");
  }
  int64_t offset = 0;
  if (i < text.size()) {
    if (text[i] == 'Z' || text[i] == 'z') {
      ++i;
    } else if (text[i] == '+' || text[i] == '-') {
      const int sign = text[i++] == '-' ? -1 : 1;
      int64_t oh, om = 0;
      if (!Digits(text, &i, 2, &oh)) return bad("expected a UTC offset as +HH:MM");
      if (i < text.size() && text[i] == ':') ++i;
      if (i < text.size() && !Digits(text, &i, 2, &om)) return bad("expected a UTC offset as +HH:MM");
      if (oh > 23 || om > 59) return bad("no such UTC offset");
      offset = sign * (oh * 3600 + om * 60);
    }
  }
  if (i != text.size()) return bad("unexpected characters at the end");
  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * 86400 + hour * 3600 + minute * 60 + second - offset;
}

std::string FormatTime(int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t rem = t - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, rem / 3600, rem / 60 % 60, rem % 60);
}

}  // namespace sagaflow::query
