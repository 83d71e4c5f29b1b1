#include "text/entity_forms.h"

#include <gtest/gtest.h>

#include <map>

#include "text/entity_matcher.h"

namespace sagaflow::text {
namespace {

EntityDictionary Curated(std::string_view rows) {
  auto dict = EntityDictionary::FromCurated(std::string("saga\tname\tkind\taliases\n") + std::string(rows));
  EXPECT_TRUE(dict.ok()) << dict.status().ToString();
  return std::move(dict).value();
}

// The entity names a scope maps these strings to ("" = not a form).
std::map<std::string, std::string> Resolve(const EntityDictionary& dict, std::string_view saga,
                                           std::initializer_list<std::string> strings) {
  auto scope = ExpandScopeForms(dict, saga);
  EXPECT_TRUE(scope.ok()) << scope.status().ToString();
  std::map<std::string, std::string> out;
  for (const std::string& s : strings) {
    auto it = scope->form.find(s);
    out[s] = it == scope->form.end() ? "" : dict.entities()[it->second].name;
  }
  return out;
}

constexpr char kRows[] =
    "got\tSer\ttitle\n"
    "*\tLord\ttitle\tLords\n"
    "hp\tProfessor\ttitle\tProfessors\n"
    "got\tJaime Lannister\tcharacter\tJaime\n"
    "got\tJon Snow\tcharacter\tJon|Lord Snow\n"
    "got\tSnow Man\tcharacter\tSnow\n"
    "got\tWinterfell\tplace\n"
    "got\tKing's Landing\tplace\n"
    "hp\tMinerva McGonagall\tcharacter\tMcGonagall\n"
    "*\tTom\tcharacter\n";

TEST(EntityFormsTest, TitlesPrecedeCharacterFormsOfTheirScope) {
  const EntityDictionary dict = Curated(kRows);
  auto got = Resolve(dict, "got",
                     {"Ser Jaime", "Ser Jaime Lannister", "Lord Jaime", "Lords Jaime", "Ser Winterfell", "Ser Tom",
                      "Professor McGonagall", "Ser Ser Jaime"});
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"Ser Jaime", "Jaime Lannister"},
                                                     {"Ser Jaime Lannister", "Jaime Lannister"},
                                                     {"Lord Jaime", "Jaime Lannister"},
                                                     {"Lords Jaime", "Jaime Lannister"},
                                                     {"Ser Winterfell", ""},  // a place: no title form
                                                     {"Ser Tom", "Tom"},      // unscoped characters are seen too
                                                     {"Professor McGonagall", ""},
                                                     {"Ser Ser Jaime", ""}}));
  auto hp = Resolve(dict, "hp", {"Professors McGonagall", "Lord Tom", "Ser Tom"});
  EXPECT_EQ(hp, (std::map<std::string, std::string>{
                    {"Professors McGonagall", "Minerva McGonagall"}, {"Lord Tom", "Tom"}, {"Ser Tom", ""}}));
  // Texts of unknown saga: unscoped titles and entries only.
  EXPECT_EQ(Resolve(dict, "", {"Lord Tom", "Ser Tom"}),
            (std::map<std::string, std::string>{{"Lord Tom", "Tom"}, {"Ser Tom", ""}}));
}

TEST(EntityFormsTest, ExplicitFormsBeatGeneratedOnes) {
  const EntityDictionary dict = Curated(kRows);
  // "Lord Snow" is Jon's alias; the title would make it Snow Man's.
  EXPECT_EQ(
      Resolve(dict, "got", {"Lord Snow", "LORD SNOW", "Lords Snow", "Ser Snow"}),
      (std::map<std::string, std::string>{
          {"Lord Snow", "Jon Snow"}, {"LORD SNOW", "Jon Snow"}, {"Lords Snow", "Snow Man"}, {"Ser Snow", "Snow Man"}}));
}

TEST(EntityFormsTest, AllCapsAndQuoteSpellings) {
  const EntityDictionary dict = Curated(std::string(kRows) +
                                        "lotr\tStra\xc3\x9f"
                                        "e\tplace\n");
  EXPECT_EQ(Resolve(dict, "got",
                    {"JAIME", "JAIME LANNISTER", "SER JAIME", "King\xe2\x80\x99s Landing", "King\xe2\x80\x98s Landing",
                     "KING\xe2\x80\x99S LANDING", "KING'S LANDING", "Jaime LANNISTER", "WINTERFELL"}),
            (std::map<std::string, std::string>{{"JAIME", "Jaime Lannister"},
                                                {"JAIME LANNISTER", "Jaime Lannister"},
                                                {"SER JAIME", "Jaime Lannister"},
                                                {"King\xe2\x80\x99s Landing", "King's Landing"},
                                                {"King\xe2\x80\x98s Landing", "King's Landing"},
                                                {"KING\xe2\x80\x99S LANDING", "King's Landing"},
                                                {"KING'S LANDING", "King's Landing"},
                                                {"Jaime LANNISTER", ""},
                                                {"WINTERFELL", "Winterfell"}}));
  // Python's full uppercase mapping: "ß".upper() == "SS".
  EXPECT_EQ(Resolve(dict, "lotr", {"STRASSE", "STRAßE"}), (std::map<std::string, std::string>{{"STRASSE",
                                                                                               "Stra\xc3\x9f"
                                                                                               "e"},
                                                                                              {"STRAßE", ""}}));
}

TEST(EntityFormsTest, TooManyQuotesIsAnError) {
  const EntityDictionary dict = Curated("*\ta'b'c'd'e'f'g\tother\n");
  auto scope = ExpandScopeForms(dict, "");
  ASSERT_FALSE(scope.ok());
  EXPECT_NE(scope.status().message().find("quote characters"), std::string::npos) << scope.status().ToString();
}

TEST(EntityFormsTest, MatcherCountsTitleFormsAsOneMention) {
  const EntityDictionary dict = Curated(kRows);
  auto matcher = EntityMatcher::Build(dict);
  ASSERT_TRUE(matcher.ok()) << matcher.status().ToString();
  std::vector<MentionSpan> spans;
  const std::string text = "Ser  Jaime Lannister met Lord Snow, then SER JAIME and Jaime at King\xe2\x80\x99s Landing.";
  matcher->Find(text, "got", &spans);
  std::vector<std::pair<std::string, std::string>> found;
  found.reserve(spans.size());
  for (const MentionSpan& m : spans) {
    found.emplace_back(text.substr(m.begin, m.end - m.begin), dict.entities()[m.entity].name);
  }
  EXPECT_EQ(found, (std::vector<std::pair<std::string, std::string>>{
                       {"Ser  Jaime Lannister", "Jaime Lannister"},
                       {"Lord Snow", "Jon Snow"},
                       {"SER JAIME", "Jaime Lannister"},
                       {"Jaime", "Jaime Lannister"},
                       {"King\xe2\x80\x99s Landing", "King's Landing"},
                   }));
  // Plural titles: the title goes with the first name; the others count by their own forms.
  const std::string hp = "Professors McGonagall and Tom arrived.";
  matcher->Find(hp, "hp", &spans);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(hp.substr(spans[0].begin, spans[0].end - spans[0].begin), "Professors McGonagall");
  EXPECT_EQ(dict.entities()[spans[1].entity].name, "Tom");
}

// The matcher holds title x character form as two factors; where two products
// spell the same string ("Grand Maester" + "Pycelle", "Grand" + "Maester
// Pycelle") it must still follow the forms' rule: the lowest entity wins.
// Mixed spellings ("SER Jaime", "Ser JAIME") are no product and never match.
TEST(EntityFormsTest, MatcherFollowsTheFormsWhereTitleProductsCollide) {
  for (const bool pycelle_first : {true, false}) {
    const std::string pycelle = "got\tPycelle\tcharacter\n";
    const std::string maester = "got\tMaester Pycelle Jr\tcharacter\tMaester Pycelle\n";
    const EntityDictionary dict = Curated(std::string(kRows) + "got\tGrand\ttitle\tGrand Maester\n" +
                                          (pycelle_first ? pycelle + maester : maester + pycelle));
    const std::string expected = pycelle_first ? "Pycelle" : "Maester Pycelle Jr";
    EXPECT_EQ(Resolve(dict, "got", {"Grand Maester Pycelle"})["Grand Maester Pycelle"], expected);
    auto matcher = EntityMatcher::Build(dict);
    ASSERT_TRUE(matcher.ok()) << matcher.status().ToString();
    for (const auto& [text, surface] :
         std::map<std::string, std::string>{{"Grand Maester Pycelle", "Grand Maester Pycelle"},
                                            {"GRAND MAESTER PYCELLE", "GRAND MAESTER PYCELLE"},
                                            {"x Grand  Maester\tPycelle.", "Grand  Maester\tPycelle"}}) {
      std::vector<MentionSpan> spans;
      matcher->Find(text, "got", &spans);
      ASSERT_EQ(spans.size(), 1u) << text;
      EXPECT_EQ(dict.entities()[spans[0].entity].name, expected) << text;
      EXPECT_EQ(text.substr(spans[0].begin, spans[0].end - spans[0].begin), surface);
    }
    const std::string mixed = "SER Jaime, Ser JAIME";
    std::vector<MentionSpan> spans;
    matcher->Find(mixed, "got", &spans);
    std::vector<std::string> surfaces;
    surfaces.reserve(spans.size());
    for (const MentionSpan& m : spans) surfaces.push_back(mixed.substr(m.begin, m.end - m.begin));
    EXPECT_EQ(surfaces, (std::vector<std::string>{"Jaime", "JAIME"}));
  }
}

}  // namespace
}  // namespace sagaflow::text
