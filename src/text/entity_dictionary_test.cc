#include "text/entity_dictionary.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/shared_data.h"
#include "text/python_reference_testing.h"

namespace sagaflow::text {
namespace {

std::vector<std::string> Names(const EntityDictionary& dict) {
  std::vector<std::string> names;
  for (const auto& e : dict.entities()) names.push_back(e.name);
  return names;
}

TEST(FlatListTest, NormalizesDropsAndMergesWithNotes) {
  auto dict = EntityDictionary::FromFlatList("Jon\nSam  \n\n  Bilbo \t Baggins\r\nSam\n   \nJon\xc2\xa0Snow\n");
  ASSERT_TRUE(dict.ok()) << dict.status().ToString();
  EXPECT_EQ(Names(*dict), (std::vector<std::string>{"Jon", "Sam", "Bilbo Baggins", "Jon Snow"}));
  for (const auto& e : dict->entities()) {
    EXPECT_EQ(e.saga, "");
    EXPECT_EQ(e.kind, "other");
    EXPECT_TRUE(e.aliases.empty());
  }
  EXPECT_EQ(dict->notes(), (std::vector<std::string>{
                               "line 2: \"Sam  \" normalized to \"Sam\"",
                               "line 3: blank line dropped",
                               "line 4: \"  Bilbo \\t Baggins\" normalized to \"Bilbo Baggins\"",
                               "line 5: duplicate \"Sam\" merged into the entry of line 2",
                               "line 6: blank line dropped",
                               "line 7: \"Jon\xc2\xa0Snow\" normalized to \"Jon Snow\"",
                           }));
}

TEST(FlatListTest, CaseMattersAndLastLineNeedsNoNewline) {
  auto dict = EntityDictionary::FromFlatList("dale\nDale");
  ASSERT_TRUE(dict.ok());
  EXPECT_EQ(Names(*dict), (std::vector<std::string>{"dale", "Dale"}));
  EXPECT_TRUE(dict->notes().empty());
}

TEST(FlatListTest, RejectsInvalidUtf8WithLineNumber) {
  auto dict = EntityDictionary::FromFlatList("Jon\nSa\xffm\n");
  ASSERT_FALSE(dict.ok());
  EXPECT_EQ(dict.status().message(), "line 2: not valid UTF-8");
}

TEST(NormalizeSurfaceFormTest, CollapsesEveryUnicodeSpace) {
  std::string out;
  ASSERT_TRUE(NormalizeSurfaceForm("\u3000King's\u2028\t Landing\x1c", &out));
  EXPECT_EQ(out, "King's Landing");
  ASSERT_TRUE(NormalizeSurfaceForm("Jon\u200bSnow", &out));  // U+200B is not whitespace in Python
  EXPECT_EQ(out, "Jon\u200bSnow");
  EXPECT_FALSE(NormalizeSurfaceForm("\xc3", &out));
}

constexpr char kHeader[] = "saga\tname\tkind\taliases\n";

TEST(CuratedTest, ParsesScopesKindsAliasesAndComments) {
  std::string tsv = std::string("# comment\n\n") + kHeader +
                    "got\tSamwell Tarly\tcharacter\tSam|Samwell\n"
                    "# another comment\n"
                    "lotr\tSamwise Gamgee\tcharacter\tSam|Samwise|Sam Gamgee\n"
                    "*\tTom\tother\n"
                    "hp\tHogwarts\tplace\t\n";
  ASSERT_TRUE(EntityDictionary::LooksCurated(tsv));
  auto dict = EntityDictionary::FromCurated(tsv);
  ASSERT_TRUE(dict.ok()) << dict.status().ToString();
  const auto& es = dict->entities();
  ASSERT_EQ(es.size(), 4u);
  EXPECT_EQ(es[0].saga, "got");
  EXPECT_EQ(es[0].aliases, (std::vector<std::string>{"Sam", "Samwell"}));
  EXPECT_EQ(es[1].saga, "lotr");
  EXPECT_EQ(es[1].name, "Samwise Gamgee");
  EXPECT_EQ(es[2].saga, "");
  EXPECT_EQ(es[2].kind, "other");
  EXPECT_TRUE(es[2].aliases.empty());
  EXPECT_EQ(es[3].kind, "place");
  EXPECT_TRUE(es[3].aliases.empty());
  EXPECT_TRUE(dict->notes().empty());
}

TEST(CuratedTest, RejectsWithLineNumbers) {
  struct Case {
    std::string body;
    std::string error;
  };
  const Case cases[] = {
      {"got\tJon Snow\n", "line 2: expected 3 or 4 tab-separated fields (saga, name, kind, aliases), got 2"},
      {"got\tJon Snow\tcharacter\tJon\textra\n",
       "line 2: expected 3 or 4 tab-separated fields (saga, name, kind, aliases), got 5"},
      {"gott\tJon Snow\tcharacter\n", "line 2: unknown saga \"gott\" (expected got, lotr, hp, or * for unscoped)"},
      {"\tJon Snow\tcharacter\n", "line 2: unknown saga \"\" (expected got, lotr, hp, or * for unscoped)"},
      {"got\tJon Snow\thero\n",
       "line 2: unknown kind \"hero\" (expected character, place, house, group, other, or title for a title row)"},
      {"got\tJon  Snow\tcharacter\n",
       "line 2: name \"Jon  Snow\" has leading, trailing, repeated or non-space whitespace; write \"Jon Snow\""},
      {"got\t\tcharacter\n", "line 2: name is empty"},
      {"got\tJon Snow\tcharacter\tJon||Snow\n", "line 2: alias is empty"},
      {"got\tJon Snow\tcharacter\tJon|\n", "line 2: alias is empty"},
      {"got\tJon Snow\tcharacter\t Jon\n",
       "line 2: alias \" Jon\" has leading, trailing, repeated or non-space whitespace; write \"Jon\""},
      {"got\tJon Snow\tcharacter\tJon\xe2\x80\x83Snow\n",
       "line 2: alias \"Jon\xe2\x80\x83Snow\" has leading, trailing, repeated or non-space whitespace; write \"Jon "
       "Snow\""},
      {"got\tJon\xff\tcharacter\n", "line 2: not valid UTF-8"},
      {"\xf0\n", "line 2: not valid UTF-8"},
      {"got\tJon Snow\tcharacter\tJon|Jon\n", "line 2: \"Jon\" appears twice in this entry"},
      {"got\tJon Snow\tcharacter\tJon Snow\n", "line 2: \"Jon Snow\" appears twice in this entry"},
      {"got\tJon Snow\tcharacter\tJon\ngot\tJon Arryn\tcharacter\tJon\n",
       "line 3: \"Jon\" is already mapped in saga got by line 2"},
      {"*\tTom\tother\n\n*\tTom Bombadil\tcharacter\tTom\n", "line 4: \"Tom\" is already mapped in unscoped by line 2"},
      {"got\tStark\thouse\nlotr\tStark\tother\n", "line 3: canonical name \"Stark\" already defined on line 2"},
      {"got\tSer\ttitle\tSers|Ser\n", "line 2: \"Ser\" appears twice in this entry"},
      {"*\tLord\ttitle\n*\tLady\ttitle\tLord\n", "line 3: \"Lord\" is already mapped in unscoped by line 2"},
      {"got\tSer \ttitle\n",
       "line 2: title \"Ser \" has leading, trailing, repeated or non-space whitespace; write "
       "\"Ser\""},
      {"hp\tProfessor\ttitle\tProfessors|\n", "line 2: title spelling is empty"},
  };
  for (const auto& c : cases) {
    auto dict = EntityDictionary::FromCurated(kHeader + c.body);
    ASSERT_FALSE(dict.ok()) << c.body;
    EXPECT_EQ(dict.status().message(), c.error) << c.body;
  }
}

TEST(CuratedTest, SameSurfaceFormInDifferentScopesIsFine) {
  auto dict = EntityDictionary::FromCurated(std::string(kHeader) +
                                            "got\tSamwell Tarly\tcharacter\tSam\n"
                                            "lotr\tSamwise Gamgee\tcharacter\tSam\n"
                                            "*\tSam\tother\n");
  ASSERT_TRUE(dict.ok()) << dict.status().ToString();
  EXPECT_EQ(dict->entities().size(), 3u);
}

TEST(CuratedTest, TitleRowsAndGroups) {
  auto dict = EntityDictionary::FromCurated(std::string(kHeader) +
                                            "got\tSer\ttitle\n"
                                            "*\tLord\ttitle\tLords\n"
                                            "got\tLord\ttitle\n"                 // another scope: fine
                                            "got\tLord Snow\tcharacter\tLord\n"  // titles have their own namespace
                                            "got\tNight's Watch\tgroup\n");
  ASSERT_TRUE(dict.ok()) << dict.status().ToString();
  ASSERT_EQ(dict->titles().size(), 3u);
  EXPECT_EQ(dict->titles()[0].saga, "got");
  EXPECT_EQ(dict->titles()[0].spellings, (std::vector<std::string>{"Ser"}));
  EXPECT_EQ(dict->titles()[1].saga, "");
  EXPECT_EQ(dict->titles()[1].spellings, (std::vector<std::string>{"Lord", "Lords"}));
  EXPECT_EQ(Names(*dict), (std::vector<std::string>{"Lord Snow", "Night's Watch"}));
  EXPECT_EQ(dict->entities()[1].kind, "group");
}

TEST(CuratedTest, RequiresHeader) {
  auto dict = EntityDictionary::FromCurated("got\tJon Snow\tcharacter\n");
  ASSERT_FALSE(dict.ok());
  EXPECT_EQ(dict.status().message(), "line 1: expected the header \"saga\\tname\\tkind\\taliases\" before any entry");
  dict = EntityDictionary::FromCurated("# only a comment\n");
  ASSERT_FALSE(dict.ok());
  EXPECT_EQ(dict.status().message(), "missing the header \"saga\\tname\\tkind\\taliases\"");
}

TEST(LoadFileTest, DetectsFormat) {
  EXPECT_TRUE(EntityDictionary::LooksCurated("# c\n\n  \nsaga\tname\tkind\taliases\r\n"));
  EXPECT_FALSE(EntityDictionary::LooksCurated("Jon\nsaga\tname\tkind\taliases\n"));
  EXPECT_FALSE(EntityDictionary::LooksCurated("saga name kind aliases\n"));
  EXPECT_FALSE(EntityDictionary::LooksCurated(""));
  EXPECT_FALSE(EntityDictionary::LooksCurated(std::string_view("\xf0\0\0", 3)));  // found by the fuzzer
  EXPECT_TRUE(EntityDictionary::LooksCurated("# \xff\nsaga\tname\tkind\taliases\n"));

  const testing::ScratchDir dir;
  const std::string path = dir.File("flat.txt");
  { std::ofstream(path) << "# not a comment in a flat list\nJon\n"; }
  auto dict = EntityDictionary::LoadFile(path);
  ASSERT_TRUE(dict.ok());
  EXPECT_EQ(Names(*dict), (std::vector<std::string>{"# not a comment in a flat list", "Jon"}));

  { std::ofstream(path) << kHeader << "got\tJon Snow\tcharacter\tJon\nxx\tA\tother\n"; }
  dict = EntityDictionary::LoadFile(path);
  ASSERT_FALSE(dict.ok());
  EXPECT_EQ(dict.status().message(),
            path + ": line 3: unknown saga \"xx\" (expected got, lotr, hp, or * for unscoped)");

  dict = EntityDictionary::LoadFile(path + ".missing");
  ASSERT_FALSE(dict.ok());
  EXPECT_EQ(dict.status().code(), Status::Code::kNotFound);
}

TEST(LoadFileTest, CuratedSagaDictionaryLoads) {
  auto dict = EntityDictionary::LoadFile(sagaflow::testing::SourceDir() + "/data/entities/sagas.tsv");
  ASSERT_TRUE(dict.ok()) << dict.status().ToString();
  std::map<std::string, int> per_saga;
  std::map<std::string, const Entity*> by_name;
  for (const auto& e : dict->entities()) {
    ++per_saga[e.saga];
    by_name[e.name] = &e;
  }
  for (const char* saga : {"got", "lotr", "hp"}) {
    EXPECT_GE(per_saga[saga], 60) << saga;
  }
  auto has_alias = [&](const std::string& name, const std::string& saga, const std::string& alias) {
    auto it = by_name.find(name);
    if (it == by_name.end()) return false;
    const auto& a = it->second->aliases;
    return it->second->saga == saga && std::find(a.begin(), a.end(), alias) != a.end();
  };
  EXPECT_TRUE(has_alias("Jon Snow", "got", "Jon"));
  EXPECT_TRUE(has_alias("Daenerys Targaryen", "got", "Dany"));
  EXPECT_TRUE(has_alias("Daenerys Targaryen", "got", "Khaleesi"));
  EXPECT_TRUE(has_alias("Daenerys Targaryen", "got", "Daenerys"));
  EXPECT_TRUE(has_alias("Samwell Tarly", "got", "Sam"));
  EXPECT_TRUE(has_alias("Samwise Gamgee", "lotr", "Sam"));
  EXPECT_TRUE(has_alias("Eddard Stark", "got", "Ned"));
  EXPECT_TRUE(has_alias("Eddard Stark", "got", "Eddard"));
  EXPECT_TRUE(has_alias("Harry Potter", "hp", "Harry"));
  EXPECT_TRUE(has_alias("Frodo Baggins", "lotr", "Frodo"));
  for (const char* place : {"Winterfell", "King's Landing", "Mordor", "Hogwarts"}) {
    ASSERT_TRUE(by_name.count(place)) << place;
    EXPECT_EQ(by_name[place]->kind, "place") << place;
  }
}

}  // namespace
}  // namespace sagaflow::text
