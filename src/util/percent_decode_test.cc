#include "util/percent_decode.h"

#include <gtest/gtest.h>

#include <string>

namespace sagaflow {
namespace {

std::string Decoded(std::string_view in, bool plus_is_space = false) {
  std::string out = "left over";
  EXPECT_TRUE(PercentDecode(in, plus_is_space, &out)) << in;
  return out;
}

bool Refused(std::string_view in) {
  std::string out;
  return !PercentDecode(in, false, &out);
}

TEST(PercentDecode, DecodesEscapesOfEitherCaseAndKeepsTheRest) {
  EXPECT_EQ(Decoded(""), "");
  EXPECT_EQ(Decoded("plain/path"), "plain/path");
  EXPECT_EQ(Decoded("p%40ss%3Aw%3aord"), "p@ss:w:ord");
  EXPECT_EQ(Decoded("%E2%9C%93"), "\xE2\x9C\x93");
  EXPECT_EQ(Decoded("%00x", false), std::string("\0x", 2));
  EXPECT_EQ(Decoded("%2525"), "%25");  // decoded once
}

TEST(PercentDecode, PlusIsASpaceOnlyInAQuery) {
  EXPECT_EQ(Decoded("a+b%2B", true), "a b+");
  EXPECT_EQ(Decoded("a+b%2B", false), "a+b+");
}

TEST(PercentDecode, RefusesAPercentWithoutTwoHexDigits) {
  for (std::string_view bad : {"%", "%4", "x%", "x%4", "%4g", "%g4", "%-1", "%+1", "% 1", "ok%zz"}) {
    EXPECT_TRUE(Refused(bad)) << bad;
  }
}

TEST(PercentDecode, AnAddressPartNamesWhatIsBadNotItsValue) {
  auto ok = PercentDecoded("a+b%40c", "the password");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "a+b@c");
  auto bad = PercentDecoded("s3cret%zz", "the password");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "bad percent escape in the password");
}

// Every byte round-trips through its escape, in both cases of hex digit.
TEST(PercentDecode, EveryByteRoundTrips) {
  constexpr char kHex[] = "0123456789abcdef";
  for (int b = 0; b < 256; ++b) {
    for (bool upper : {false, true}) {
      std::string escape = {'%', kHex[b >> 4], kHex[b & 15]};
      if (upper) {
        for (char& c : escape) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      EXPECT_EQ(Decoded(escape), std::string(1, static_cast<char>(b))) << escape;
    }
  }
}

}  // namespace
}  // namespace sagaflow
