#include "events/excerpt.h"

#include <gtest/gtest.h>

#include "events/event_generator.h"
#include "text/unicode.h"

namespace sagaflow::events {
namespace {

TEST(Utf8Excerpt, KeepsShortValidText) {
  EXPECT_EQ(Utf8Excerpt("hello \xC3\xA9\xF0\x9F\x98\x80"), "hello \xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(Utf8Excerpt(""), "");
  EXPECT_EQ(Utf8Excerpt(std::string(kExcerptBytes, 'a')), std::string(kExcerptBytes, 'a'));
}

TEST(Utf8Excerpt, ReplacesMaximalInvalidSubparts) {
  // Unicode 15 §3.9 / WHATWG: one U+FFFD per maximal subpart.
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(Utf8Excerpt("a\xFF"
                        "b"),
            "a" + r + "b");
  EXPECT_EQ(Utf8Excerpt("\xE2\x82"
                        "x"),
            r + "x");                                         // truncated 3-byte sequence: one replacement
  EXPECT_EQ(Utf8Excerpt("\xED\xA0\x80"), r + r + r);          // surrogate: ED then two lone continuations
  EXPECT_EQ(Utf8Excerpt("\xC0\xAF"), r + r);                  // overlong
  EXPECT_EQ(Utf8Excerpt("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(Utf8Excerpt("\xF0\x9F\x98"), r);                  // truncated emoji at the end
}

TEST(Utf8Excerpt, TruncatesOnCharacterBoundariesWithMarker) {
  std::string s;
  for (int i = 0; i < 200; ++i) s += "\xC3\xA9";  // 400 bytes of é
  std::string e = Utf8Excerpt(s, 64);
  EXPECT_LE(e.size(), 64u);
  EXPECT_TRUE(text::IsValidUtf8(e));
  EXPECT_EQ(e.substr(e.size() - 3), "\xE2\x80\xA6");
  EXPECT_EQ(e.size(), 60u + 3u);  // 30 é fit in the 61 bytes left for text
  EXPECT_EQ(Utf8Excerpt(std::string(65, 'a'), 64), std::string(61, 'a') + "\xE2\x80\xA6");
  EXPECT_EQ(Utf8Excerpt(std::string(64, 'a'), 64), std::string(64, 'a'));
}

TEST(Utf8Excerpt, AlwaysValidAndBoundedOnRandomBytes) {
  Random rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string raw(rng.Below(600), '\0');
    for (char& c : raw) {
      // Bias towards bytes that form (and break) multi-byte sequences.
      uint64_t pick = rng.Below(4);
      c = static_cast<char>(pick == 0 ? rng.Below(128) : 0x80 + rng.Below(128));
    }
    size_t max = 8 + rng.Below(300);
    std::string e = Utf8Excerpt(raw, max);
    ASSERT_LE(e.size(), max);
    ASSERT_TRUE(text::IsValidUtf8(e));
    if (text::IsValidUtf8(raw) && raw.size() <= max) {
      ASSERT_EQ(e, raw);
    }
  }
}

TEST(ValidUtf8SequenceLength, FollowsTable3_7) {
  EXPECT_EQ(ValidUtf8SequenceLength("a"), 1u);
  EXPECT_EQ(ValidUtf8SequenceLength("\xC2\x80"), 2u);
  EXPECT_EQ(ValidUtf8SequenceLength("\xC1\x80"), 0u);
  EXPECT_EQ(ValidUtf8SequenceLength("\xE0\xA0\x80"), 3u);
  EXPECT_EQ(ValidUtf8SequenceLength("\xE0\x9F\x80"), 0u);
  EXPECT_EQ(ValidUtf8SequenceLength("\xED\x9F\xBF"), 3u);
  EXPECT_EQ(ValidUtf8SequenceLength("\xED\xA0\x80"), 0u);
  EXPECT_EQ(ValidUtf8SequenceLength("\xF0\x90\x80\x80"), 4u);
  EXPECT_EQ(ValidUtf8SequenceLength("\xF4\x8F\xBF\xBF"), 4u);
  EXPECT_EQ(ValidUtf8SequenceLength("\xF4\x90\x80\x80"), 0u);
  EXPECT_EQ(ValidUtf8SequenceLength("\xF5\x80\x80\x80"), 0u);
}

}  // namespace
}  // namespace sagaflow::events
