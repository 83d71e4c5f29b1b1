#include "query/time_format.h"

#include <gtest/gtest.h>

namespace sagaflow::query {
namespace {

int64_t Parse(std::string_view s) {
  auto r = ParseTime(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

TEST(ParseTime, UnixSeconds) {
  EXPECT_EQ(Parse("0"), 0);
  EXPECT_EQ(Parse("1700000000"), 1700000000);
}

TEST(ParseTime, Iso8601) {
  EXPECT_EQ(Parse("1970-01-01"), 0);
  EXPECT_EQ(Parse("2023-11-14T22:13:20Z"), 1700000000);
  EXPECT_EQ(Parse("2023-11-14T22:13:20"), 1700000000);  // no zone: UTC
  EXPECT_EQ(Parse("2023-11-14 22:13:20"), 1700000000);
  EXPECT_EQ(Parse("2023-11-14T22:13Z"), 1700000000 - 20);
  EXPECT_EQ(Parse("2023-11-15T00:13:20+02:00"), 1700000000);
  EXPECT_EQ(Parse("2023-11-14T20:13:20-0200"), 1700000000);
  EXPECT_EQ(Parse("2024-02-29"), 1709164800);
  EXPECT_EQ(Parse("2106-02-07T06:28:15Z"), 4294967295);
}

TEST(ParseTime, RejectsNonsense) {
  for (const char* bad : {"", "yesterday", "2023-13-01", "2023-02-29", "2023-11-14T24:00", "2023-11-14T22:13:20.5Z",
                          "2023-11-14T22:13:20Zjunk", "-5", "2023-1-1", "99999999999999"}) {
    auto r = ParseTime(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    }
  }
}

TEST(FormatTime, RoundTrips) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatTime(4294967295), "2106-02-07T06:28:15Z");
  for (int64_t t = 0; t < 4294967295; t += 86400 * 37 + 3607) EXPECT_EQ(Parse(FormatTime(t)), t);
}

TEST(Civil, MatchesKnownDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  int64_t y;
  unsigned m, d;
  CivilFromDays(11017, &y, &m, &d);
  EXPECT_EQ(y, 2000);
  EXPECT_EQ(m, 3u);
  EXPECT_EQ(d, 1u);
}

}  // namespace
}  // namespace sagaflow::query
