// Differential test: EntityMatcher::Count against tests/reference/entity_reference.py,
// an independent implementation with Python's re, on the shared corpus (flat
// list; curated dictionary scoped by the prototype model's labels, as it is
// and with a fixed list of titles) and on thousands of generated texts made
// of boundary cases, titles, ALL-CAPS and quote spellings.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "io/jsonl_documents.h"
#include "support/shared_data.h"
#include "text/entity_forms.h"
#include "text/entity_matcher.h"
#include "text/python_reference_testing.h"
#include "util/json_writer.h"

namespace sagaflow::text {
namespace {

// A file in this process's own directory: ctest runs the tests of this file
// as concurrent processes, which must not share paths.
std::string ScratchFile(const std::string& name) {
  static const testing::ScratchDir dir;
  return dir.File(name);
}

// id (as compact JSON) -> canonical name -> count
using Counts = std::map<std::string, std::map<std::string, uint32_t>>;

std::map<std::string, std::string> ReadSagas(const std::string& tsv_path) {
  std::map<std::string, std::string> saga_of;
  std::ifstream in(tsv_path);
  for (std::string line; std::getline(in, line);) {
    std::string id = line.substr(0, line.find('\t'));
    std::string rest = line.find('\t') == std::string::npos ? "" : line.substr(line.find('\t') + 1);
    std::string saga = rest.substr(0, rest.find('\t'));
    if (id != "id") saga_of[id] = saga;
  }
  return saga_of;
}

Counts RunReference(const std::string& dict, const std::string& input, const std::string& sagas) {
  const std::string out = ScratchFile("entity_reference_out.jsonl");
  std::string cmd = sagaflow::testing::Python() + " " + sagaflow::testing::SourceDir() +
                    "/tests/reference/entity_reference.py --entities '" + dict + "' --input '" + input +
                    "' --output '" + out + "'";
  if (!sagas.empty()) cmd += " --sagas '" + sagas + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  Counts counts;
  std::ifstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    auto& m = counts[j["id"].dump()];
    for (auto& [name, n] : j["mentions"].items()) m[name] = n.get<uint32_t>();
  }
  return counts;
}

Counts RunMatcher(const std::string& dict_path, const std::string& input, const std::string& sagas, bool simd) {
  auto dict = EntityDictionary::LoadFile(dict_path);
  EXPECT_TRUE(dict.ok()) << dict.status().ToString();
  auto matcher = EntityMatcher::Build(*dict, MatcherOptions{.simd = simd});
  EXPECT_TRUE(matcher.ok());
  const auto saga_of = sagas.empty() ? std::map<std::string, std::string>() : ReadSagas(sagas);
  auto docs = io::JsonlDocuments::Open(input);
  EXPECT_TRUE(docs.ok());
  Counts counts;
  io::Document doc;
  std::string reason;
  std::vector<Mention> mentions;
  for (;;) {
    auto outcome = (*docs)->Next(&doc, &reason);
    EXPECT_TRUE(outcome.ok());
    if (!outcome.ok() || *outcome == io::JsonlDocuments::Outcome::kEnd) break;
    EXPECT_EQ(*outcome, io::JsonlDocuments::Outcome::kDocument) << reason;
    auto id = nlohmann::json::parse(doc.id_json);
    auto it = id.is_string() ? saga_of.find(id.get<std::string>()) : saga_of.end();
    matcher->Count(doc.text, it == saga_of.end() ? "" : it->second, &mentions);
    auto& m = counts[id.dump()];
    for (const Mention& x : mentions) m[dict->entities()[x.entity].name] = x.count;
  }
  return counts;
}

// Compares per text, reporting the first few differing texts in full.
void ExpectSameCounts(const Counts& expected, const Counts& actual, size_t min_mentions) {
  EXPECT_EQ(expected.size(), actual.size());
  size_t reported = 0, total = 0;
  for (const auto& [id, m] : expected) {
    for (const auto& [name, n] : m) total += n;
    auto it = actual.find(id);
    if (it == actual.end() || it->second != m) {
      if (++reported > 5) continue;
      ADD_FAILURE() << "text " << id << ": reference " << nlohmann::json(m).dump() << " vs matcher "
                    << (it == actual.end() ? "missing" : nlohmann::json(it->second).dump());
    }
  }
  EXPECT_EQ(reported, 0u) << "texts that differ";
  EXPECT_GE(total, min_mentions) << "too few mentions for a meaningful comparison";
}

TEST(EntityDifferentialTest, CorpusWithFlatList) {
  SAGAFLOW_REQUIRE_SHARED(texts, "corpus/texts.jsonl");
  SAGAFLOW_REQUIRE_SHARED(entities, "corpus/entities.txt");
  const Counts expected = RunReference(entities, texts, "");
  ExpectSameCounts(expected, RunMatcher(entities, texts, "", true), 50000);
  ExpectSameCounts(expected, RunMatcher(entities, texts, "", false), 50000);
}

TEST(EntityDifferentialTest, CorpusWithCuratedDictionaryScopedByModelLabels) {
  SAGAFLOW_REQUIRE_SHARED(texts, "corpus/texts.jsonl");
  SAGAFLOW_REQUIRE_SHARED(sagas, "models/sklearn-predictions.tsv");
  const std::string dict = sagaflow::testing::SourceDir() + "/data/entities/sagas.tsv";
  ExpectSameCounts(RunReference(dict, texts, sagas), RunMatcher(dict, texts, sagas, true), 50000);
}

// The curated dictionary's entities with a fixed list of titles instead of
// its own title rows (whatever the dictionary holds, the titles are used).
TEST(EntityDifferentialTest, CorpusWithCuratedDictionaryAndTitles) {
  SAGAFLOW_REQUIRE_SHARED(texts, "corpus/texts.jsonl");
  SAGAFLOW_REQUIRE_SHARED(sagas, "models/sklearn-predictions.tsv");
  std::ifstream in(sagaflow::testing::SourceDir() + "/data/entities/sagas.tsv", std::ios::binary);
  const std::string dict = ScratchFile("entity_titles_dict.tsv");
  {
    std::ofstream out(dict, std::ios::binary);
    for (std::string line; std::getline(in, line);) {
      if (line.find("\ttitle") == std::string::npos) out << line << "\n";
    }
    out << "got\tSer\ttitle\ngot\tMaester\ttitle\ngot\tKhal\ttitle\n*\tLord\ttitle\tLords\n*\tLady\ttitle\n"
           "*\tKing\ttitle\n*\tPrince\ttitle\n*\tUncle\ttitle\nhp\tProfessor\ttitle\tProfessors\nhp\tMr.\ttitle\t"
           "Mr\nhp\tMrs.\ttitle\tMrs\nhp\tMadam\ttitle\nlotr\tMaster\ttitle\n";
  }
  ExpectSameCounts(RunReference(dict, texts, sagas), RunMatcher(dict, texts, sagas, true), 50000);
}

// A dictionary full of hard cases: scopes and shadowing, forms sharing
// prefixes, first runs of exactly 8 and more than 8 bytes, non-ASCII and
// combining characters, forms that begin or end with non-word characters,
// one-character forms.
constexpr char kHardDictionary[] =
    "saga\tname\tkind\taliases\n"
    "got\tJon Snow\tcharacter\tJon|Lord Snow|Jon S\n"
    "got\tSamwell Tarly\tcharacter\tSam|Samwell\n"
    "got\tWinterfell\tplace\tWinterfells|Abcdefgh|Abcdefghi\n"
    "lotr\tSamwise Gamgee\tcharacter\tSam|Samwise|Sam Gamgee\n"
    "lotr\t\xc3\x89omer\tcharacter\tJomer|\xc3\x89o\n"
    "lotr\tTh\xc3\xa9oden\tcharacter\tTh\xc3\xa9oden King|Theode\xcc\x81n\n"
    "lotr\tD\xc2\xaenedain\tother\tD\n"
    "hp\tHermione Granger\tcharacter\tHermione|Granger|Miss Granger\n"
    "hp\tMad-Eye Moody\tcharacter\tMad-Eye|Moody|Mad\n"
    "*\tKing's Landing\tplace\tKing's|Landing|Kings\n"
    "*\tTom\tother\tT|To|Tom Tom\n"
    "*\ts'pose\tother\t'|-x-\n"
    "*\t\xe6\x97\xa5\xe6\x9c\xac\tother\t\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n"
    "*\t\xce\x91\xce\x92 \xce\x93\tother\t\xce\xb1\xce\xb2\n"
    "*\tx_1\tother\t_x|x|R2 D2\n"
    "*\tSam\tother\tSamwell Tarly Jr\n"
    "got\tSer\ttitle\tSers\n"
    "*\tLord\ttitle\tL'd|Lords\n"
    "hp\tProfessor\ttitle\tProfessors|Prof.\n"
    "got\tSnow Man\tcharacter\tSnow|Lord Jon\n"
    "got\tPycelle\tcharacter\n"
    "got\tMaester Pycelle Jr\tcharacter\tMaester Pycelle\n"
    "got\tGrand\ttitle\tGrand Maester\n"
    "hp\tStra\xc3\x9f"
    "e\tcharacter\t\xc3\x9f|Ma\xc3\x9f"
    "e Moody\n"
    "*\tO'Neil O\xe2\x80\x99Hara\tcharacter\t\xe2\x80\x98x\xe2\x80\x99|O'\n"
    "lotr\tEowyn\tcharacter\t\xc3\x89owyn|\xc3\xa9owyn\n";

// What generated texts are made of: whole surface forms, fragments of them
// (cut at character boundaries), word characters of other scripts and
// digits, and separators (punctuation, marks, whitespace of every kind).
struct Pieces {
  std::vector<std::string> forms, fragments, word_chars, separators;

  explicit Pieces(const EntityDictionary& dict) {
    std::set<std::string> all;  // every string some scope matches: names, aliases, titles, caps, quotes
    for (std::string_view saga : {"", "got", "lotr", "hp"}) {
      auto scope = ExpandScopeForms(dict, saga);
      EXPECT_TRUE(scope.ok());
      if (scope.ok()) {
        for (const auto& [form, entity] : scope->form) all.insert(form);
      }
    }
    {
      for (const auto& f : all) {
        forms.push_back(f);
        for (size_t cut = 1; cut < f.size(); ++cut) {
          if ((static_cast<uint8_t>(f[cut]) & 0xC0) == 0x80) continue;  // whole characters only
          fragments.push_back(f.substr(0, cut));
          fragments.push_back(f.substr(cut));
        }
      }
    }
    word_chars = {"a", "Z", "9", "_", "\xc3\xa9", "\xce\xb1", "\xe6\x97\xa5", "\xd9\xa3", "\xc2\xb2", "\xe2\x85\xa0"};
    separators = {"'",
                  "\xe2\x80\x99",
                  "\xe2\x80\x98",
                  "-",
                  ".",
                  ",",
                  "\xcc\x81",
                  "\xe2\x80\x8b",
                  "\xc2\xae",
                  "\"",
                  "(",
                  " ",
                  " ",
                  " ",
                  "  ",
                  "\t",
                  "\n",
                  "\r\n",
                  "\xc2\xa0",
                  "\xe3\x80\x80",
                  "\xe2\x80\xa8",
                  "\xe1\x9a\x80",
                  "\x1c",
                  "\xc2\x85",
                  "\xe2\x80\x83",
                  " \xe2\x80\x83\n "};
  }

  std::string Text(std::mt19937& rng) const {
    auto pick = [&](const std::vector<std::string>& v) -> const std::string& {
      return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
    };
    std::string text;
    const int n = std::uniform_int_distribution<int>(0, 60)(rng);
    for (int i = 0; i < n; ++i) {
      const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
      text += pick(kind < 3 ? forms : kind < 5 ? fragments : kind < 6 ? word_chars : separators);
    }
    return text;
  }
};

void GenerateAndCompare(bool flat) {
  auto curated = EntityDictionary::FromCurated(kHardDictionary);
  ASSERT_TRUE(curated.ok()) << curated.status().ToString();
  std::string dict_path = ScratchFile("entity_generated_dict.tsv");
  {
    std::ofstream out(dict_path, std::ios::binary);
    if (!flat) {
      out << kHardDictionary;
    } else {  // every form as its own entity, with whitespace to normalize and duplicates
      for (const auto& e : curated->entities()) {
        out << "  " << e.name << " \t\n" << e.name << "\n";
        for (const auto& a : e.aliases) out << a << "\r\n";
      }
    }
  }
  const Pieces pieces(*curated);
  const char* sagas[] = {"", "got", "lotr", "hp", "xx"};
  std::mt19937 rng(20240601);
  std::string texts_path = ScratchFile("entity_generated_texts.jsonl"),
              sagas_path = ScratchFile("entity_generated_sagas.tsv");
  {
    std::ofstream texts(texts_path, std::ios::binary), saga_tsv(sagas_path, std::ios::binary);
    for (int k = 0; k < 4000; ++k) {
      const std::string text = pieces.Text(rng);
      std::string line = "{\"id\":\"g" + std::to_string(k) + "\",\"text\":";
      AppendJsonString(&line, text);
      texts << line << "}\n";
      saga_tsv << "g" << k << "\t" << sagas[k % 5] << "\n";
    }
  }
  const Counts expected = RunReference(dict_path, texts_path, sagas_path);
  ExpectSameCounts(expected, RunMatcher(dict_path, texts_path, sagas_path, true), 5000);
  ExpectSameCounts(expected, RunMatcher(dict_path, texts_path, sagas_path, false), 5000);
}

TEST(EntityDifferentialTest, GeneratedBoundaryCasesCurated) { GenerateAndCompare(false); }
TEST(EntityDifferentialTest, GeneratedBoundaryCasesFlatList) { GenerateAndCompare(true); }

}  // namespace
}  // namespace sagaflow::text
