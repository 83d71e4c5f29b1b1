#include "text/entity_matcher.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "text/entity_matcher_testing.h"

namespace sagaflow::text {
namespace {

using Counts = std::map<std::string, uint32_t>;

// Counts by canonical name, checking that both candidate kernels and the
// naive oracle agree and that the output is ordered by entity index.
Counts CountWithAll(const EntityDictionary& dict, std::string_view text, std::string_view saga = "") {
  std::vector<Mention> simd, portable;
  auto m1 = EntityMatcher::Build(dict, MatcherOptions{.simd = true});
  auto m2 = EntityMatcher::Build(dict, MatcherOptions{.simd = false});
  EXPECT_TRUE(m1.ok() && m2.ok());
  m1->Count(text, saga, &simd);
  m2->Count(text, saga, &portable);
  EXPECT_EQ(simd, portable) << text;
  EXPECT_EQ(simd, testing::NaiveCount(dict, text, saga)) << text;
  Counts counts;
  for (size_t i = 0; i < simd.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(simd[i - 1].entity, simd[i].entity);
    }
    EXPECT_GT(simd[i].count, 0u);
    counts[dict.entities()[simd[i].entity].name] = simd[i].count;
  }
  return counts;
}

EntityDictionary Flat(std::string_view names) {
  auto dict = EntityDictionary::FromFlatList(names);
  EXPECT_TRUE(dict.ok()) << dict.status().ToString();
  return std::move(dict).value();
}

TEST(EntityMatcherTest, LongestValidMatchNotLongestCandidate) {
  auto dict = Flat("Jon\nJon Snow\n");
  EXPECT_EQ(CountWithAll(dict, "Jon Snowden"), (Counts{{"Jon", 1}}));
  EXPECT_EQ(CountWithAll(dict, "Jon Snow."), (Counts{{"Jon Snow", 1}}));
  EXPECT_EQ(CountWithAll(dict, "Jon Snow_"), (Counts{{"Jon", 1}}));
  EXPECT_EQ(CountWithAll(dict, "Jon Snow, Jon, Jonas, Jon Snowy Jon"), (Counts{{"Jon Snow", 1}, {"Jon", 3}}));
  auto deep = Flat("a b\na b c\na b c d\n");
  EXPECT_EQ(CountWithAll(deep, "a b c dx"), (Counts{{"a b c", 1}}));
  EXPECT_EQ(CountWithAll(deep, "a b cd a b c d"), (Counts{{"a b", 1}, {"a b c d", 1}}));
}

TEST(EntityMatcherTest, NamesInsideWordsDoNotCount) {
  auto dict = Flat("Sam\nSamwise\nSam Gamgee\nTom\n");
  EXPECT_EQ(CountWithAll(dict, "Sam, Samwise and Sam Gamgee; Samwell, Sams."),
            (Counts{{"Sam", 1}, {"Samwise", 1}, {"Sam Gamgee", 1}}));
  EXPECT_EQ(CountWithAll(dict, "Tomorrow Tom said Tom's hat; Tommy, ATom, Tom"), (Counts{{"Tom", 3}}));
  EXPECT_EQ(CountWithAll(dict, "TomTom Tom2 2Tom"), Counts{});
}

TEST(EntityMatcherTest, SpacesMatchAnyWhitespaceRun) {
  auto dict = Flat("Jon Snow\nKing's Landing\n");
  for (const char* text :
       {"Jon Snow", "Jon  Snow", "Jon\tSnow", "Jon\n\nSnow", "Jon \r\n Snow", "Jon\xc2\xa0Snow", "Jon\u3000Snow",
        "Jon\u2028Snow", "Jon\u1680Snow", "Jon\x1cSnow", "Jon\xc2\x85Snow", "Jon\u2009\u200a Snow"}) {
    EXPECT_EQ(CountWithAll(dict, text), (Counts{{"Jon Snow", 1}})) << text;
  }
  // Not whitespace in Python: zero width space, Mongolian vowel separator, nothing at all.
  for (const char* text : {"Jon\u200bSnow", "Jon\u180eSnow", "JonSnow", "Jon-Snow"}) {
    EXPECT_EQ(CountWithAll(dict, text), Counts{}) << text;
  }
  // ' U+2019 U+2018 are one character for matching (docs/entities.md).
  EXPECT_EQ(CountWithAll(dict, "in King's\n  Landing, King's Landings, King\xe2\x80\x99s Landing"),
            (Counts{{"King's Landing", 2}}));
}

TEST(EntityMatcherTest, BoundariesUsePythonWordCharacters) {
  auto dict = Flat("Jon\n");
  // Word characters on either side: letters of any script, digits of any
  // kind (including superscripts and fractions), underscore.
  for (const char* text :
       {"\xc3\xa9Jon", "Jon\xc3\xa9", "Jon1", "1Jon", "_Jon", "Jon_", "Jon\xce\xb1", "\xe6\x97\xa5Jon", "Jon\xd9\xa3",
        "Jon\xc2\xb2", "Jon\xc2\xbd", "\xe2\x85\xa0Jon", "Jon\xd7\x90"}) {
    EXPECT_EQ(CountWithAll(dict, text), Counts{}) << text;
  }
  // Non-word neighbours: punctuation, curly quotes, combining marks,
  // format characters, symbols, text start and end.
  for (const char* text :
       {"Jon", "(Jon)", "\xe2\x80\x9cJon\xe2\x80\x9d", "Jon\xcc\x81", "\xcc\x81Jon", "Jon\xe2\x80\x8b", "\xc2\xadJon",
        "Jon\xe0\xb8\xb1", "\xc2\xaeJon\xc2\xae", "-Jon-", "Jon\xef\xbb\xbf"}) {
    EXPECT_EQ(CountWithAll(dict, text), (Counts{{"Jon", 1}})) << text;
  }
}

TEST(EntityMatcherTest, NonAsciiAndPunctuationInNames) {
  auto dict = Flat("\xc3\x89omer\nTh\xc3\xa9oden\ns'pose\nHot Pie\n-x-\n\xc3\xa9\n");
  EXPECT_EQ(CountWithAll(dict, "\xc3\x89omer and Th\xc3\xa9oden, \xc3\xa9\xc3\x89omer Th\xc3\xa9odenx"),
            (Counts{{"\xc3\x89omer", 1}, {"Th\xc3\xa9oden", 1}}));
  EXPECT_EQ(CountWithAll(dict, "I s'pose Hot  Pie is\xc2\xa0s'posed"), (Counts{{"s'pose", 1}, {"Hot Pie", 1}}));
  // A form that begins and ends with non-word characters still needs
  // non-word neighbours.
  EXPECT_EQ(CountWithAll(dict, "a-x- -x- -x-b"), (Counts{{"-x-", 1}}));
  EXPECT_EQ(CountWithAll(dict, "\xc3\xa9 \xc3\xa9\xc3\xa9 x\xc3\xa9 \xc3\xa9"), (Counts{{"\xc3\xa9", 2}}));
}

TEST(EntityMatcherTest, LeftmostMatchWinsOverlaps) {
  auto dict = Flat("Ser Jorah\nJorah Mormont\nA B\nB C\n");
  EXPECT_EQ(CountWithAll(dict, "Ser Jorah Mormont"), (Counts{{"Ser Jorah", 1}}));
  EXPECT_EQ(CountWithAll(dict, "A B C B C"), (Counts{{"A B", 1}, {"B C", 1}}));
  EXPECT_EQ(CountWithAll(dict, "Ser Jorahs Jorah Mormont"), (Counts{{"Jorah Mormont", 1}}));
}

TEST(EntityMatcherTest, SingleCharacterNamesAndTextEdges) {
  auto dict = Flat("I\nX Y\n");
  EXPECT_EQ(CountWithAll(dict, "I"), (Counts{{"I", 1}}));
  EXPECT_EQ(CountWithAll(dict, "I I, It I'm X Y X"), (Counts{{"I", 3}, {"X Y", 1}}));
  EXPECT_EQ(CountWithAll(dict, "X\xe2\x80\x83Y"), (Counts{{"X Y", 1}}));
  EXPECT_EQ(CountWithAll(dict, ""), Counts{});
  EXPECT_EQ(CountWithAll(dict, "X "), Counts{});
}

TEST(EntityMatcherTest, ScopedEntriesShadowUnscopedOnesInTheirSaga) {
  auto dict = EntityDictionary::FromCurated(
      "saga\tname\tkind\taliases\n"
      "got\tSamwell Tarly\tcharacter\tSam\n"
      "lotr\tSamwise Gamgee\tcharacter\tSam|Samwise\n"
      "lotr\tTom Bombadil\tcharacter\tTom\n"
      "*\tTom\tother\n"
      "*\tSam\tother\n");
  ASSERT_TRUE(dict.ok()) << dict.status().ToString();
  const char* text = "Sam met Tom and Samwise.";
  EXPECT_EQ(CountWithAll(*dict, text, "got"), (Counts{{"Samwell Tarly", 1}, {"Tom", 1}}));
  EXPECT_EQ(CountWithAll(*dict, text, "lotr"), (Counts{{"Samwise Gamgee", 2}, {"Tom Bombadil", 1}}));
  EXPECT_EQ(CountWithAll(*dict, text, ""), (Counts{{"Sam", 1}, {"Tom", 1}}));
  EXPECT_EQ(CountWithAll(*dict, text, "hp"), (Counts{{"Sam", 1}, {"Tom", 1}}));  // no hp entries: unscoped only
  EXPECT_EQ(CountWithAll(*dict, text, "unknown"), (Counts{{"Sam", 1}, {"Tom", 1}}));
}

TEST(EntityMatcherTest, ClearsOutputAndReusesItsCapacity) {
  auto dict = Flat("Jon\nArya\n");
  auto matcher = EntityMatcher::Build(dict);
  ASSERT_TRUE(matcher.ok());
  std::vector<Mention> out{{7, 7}};
  out.reserve(dict.entities().size());
  const Mention* data = out.data();
  matcher->Count("Arya, Jon, Arya", "", &out);
  EXPECT_EQ(out, (std::vector<Mention>{{0, 1}, {1, 2}}));
  matcher->Count("nobody", "", &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.data(), data);
}

// A form whose first word is a common word that the form continues only
// through whitespace ("the High Septon") is rejected early when the next
// characters cannot continue it; every whitespace variant must still walk.
TEST(EntityMatcherTest, FirstWordContinuedOnlyThroughWhitespace) {
  auto dict = Flat("the High Septon\nthe Wall\nthe\u00e9 Wall\nJon\nthe_x y\n");
  for (const char* text : {"the High Septon",
                           "the  High Septon",
                           "the\nWall",
                           "the\n\nWall",
                           "the\u00a0Wall",
                           "the\u3000High Septon",
                           "the",
                           "the ",
                           "the  ",
                           "the X",
                           "the H",
                           "the Hig",
                           "theWall",
                           "the-Wall",
                           "the Wallace",
                           "the\u00e9 Wall",
                           "the Jon",
                           "the \u00c9 Wall",
                           "the\x1cWall",
                           "the_x y",
                           "the the Wall",
                           "xthe Wall",
                           "\u00e9the Wall",
                           "the\u2019 Wall",
                           "the Wall.the High Septon"}) {
    CountWithAll(dict, text);
    CountWithAll(dict, std::string(61, '-') + text);
  }
  EXPECT_EQ(CountWithAll(dict, "the  High\nSepton, the\u00a0Wall and the Wallace"),
            (Counts{{"the High Septon", 1}, {"the Wall", 1}}));
}

// Names placed across the kernel's 64-byte blocks and 4096-byte chunks.
TEST(EntityMatcherTest, MatchesAcrossBlockAndChunkBoundaries) {
  auto dict = Flat("Jon Snow\nJon\nx\n");
  for (size_t pad : {0, 1, 30, 31, 32, 33, 55, 56, 57, 62, 63, 64, 65, 127, 4085, 4088, 4090, 4095, 4096, 4097}) {
    for (const char* filler : {"-", "a", "\xc3\xa9", "\xe2\x80\x99"}) {
      std::string text;
      while (text.size() < pad) text += filler;
      text += " Jon Snow x Jon\xe2\x80\x83Snow Jon";
      CountWithAll(dict, text);
      text += std::string(pad, ' ') + "Jon";
      CountWithAll(dict, text);
    }
  }
}

// Random texts built from fragments of the names, other words, other
// scripts and whitespace runs, checked against the naive oracle.
TEST(EntityMatcherTest, RandomTextsAgreeWithNaiveOracle) {
  auto dict = EntityDictionary::FromCurated(
      "saga\tname\tkind\taliases\n"
      "got\tJon Snow\tcharacter\tJon|Lord Snow\n"
      "got\tSamwell Tarly\tcharacter\tSam\n"
      "lotr\tSamwise Gamgee\tcharacter\tSam|Sam Gamgee|Samwise\n"
      "lotr\t\xc3\x89omer\tcharacter\n"
      "*\tKing's Landing\tplace\n"
      "*\tJon Snow Jr\tother\tJon S\n"
      "*\tTom\tother\tT\n");
  ASSERT_TRUE(dict.ok()) << dict.status().ToString();
  const std::vector<std::string> pieces = {
      "Jon",      "Snow",     "Sam",          "Samwise",      "Gamgee",       "Lord",   "King's", "Landing", "Tom",
      "T",        "S",        "Jr",           "\xc3\x89omer", "\xc3\x89",     "omer",   "wise",   "_",       "1",
      "\xc2\xb2", "\xce\xb1", "\xe6\x97\xa5", "\xcc\x81",     "\xe2\x80\x99", "'",      ".",      ",",       "-",
      " ",        "  ",       "\t",           "\n",           "\xc2\xa0",     "\u3000", "\u2028", "\u200b",  "\x1c"};
  std::mt19937 rng(12345);
  const char* sagas[] = {"", "got", "lotr", "hp"};
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    int n = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int i = 0; i < n; ++i) text += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
    CountWithAll(*dict, text, sagas[round % 4]);
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace sagaflow::text
