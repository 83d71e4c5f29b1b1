// End-to-end tests of `sagaflow entities discover` and `entities score`
// (runs the built binary): the score's arithmetic on a small synthetic gold
// set, its floors, bad gold rows, discovery's proposals; and the real gold
// set (data/entities/gold) on the shared corpus against the recorded floors.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/run_binary.h"
#include "support/shared_data.h"
#include "support/tiny_model.h"
#include "text/python_reference_testing.h"

namespace {

using sagaflow::testing::RunSagaflow;
using sagaflow::testing::ScratchDir;
using sagaflow::text::testing::Quote;
using sagaflow::text::testing::WriteFile;
using Outcome = sagaflow::testing::CommandOutcome;

using sagaflow::testing::kKeywordModelJson;

constexpr const char* kDictionary =
    "saga\tname\tkind\taliases\n"
    "got\tSer\ttitle\n"
    "got\tJaime Lannister\tcharacter\tJaime\n"
    "got\tHouse Stark\thouse\tStark\n"
    "got\tEddard Stark\tcharacter\tNed\n"
    "hp\tHarry Potter\tcharacter\tHarry\n";

// What scoring adds to kDictionary: a second name for Jaime Lannister and an entry of no gold kind.
constexpr const char* kScoredExtra =
    "got\tKingslayer\tcharacter\n"
    "got\tLongclaw\tother\n";

// Three gold texts. t1: "Ser Jaime" (title form) and "Stark" are found, "Ned Stark" is found as
// "Ned" (Eddard Stark) + "Stark" (House Stark, a gold entity of its own: a false positive and a
// confusion). t2: "Kingslayer" is predicted as the dictionary's second name for Jaime Lannister
// (a miss, a false positive and a split); "Longclaw" (kind other) is not scored. t3 (hp): "Harry"
// before a typographic apostrophe.
constexpr const char* kTexts =
    "{\"id\":\"t1\",\"text\":\"Ser Jaime met Ned Stark. Stark!\"}\n"
    "{\"id\":\"t2\",\"text\":\"Kingslayer laughed. Jaime left, stark naked. Longclaw.\"}\n"
    "{\"id\":\"t3\",\"text\":\"Harry\u2019s scar\"}\n"
    "{\"id\":\"other\",\"text\":\"Jaime is not in the gold set\"}\n";

constexpr const char* kGotGold =
    "# synthetic\n"
    "id\tstart\tend\tsurface\tentity\tkind\n"
    "t1\t0\t9\tSer Jaime\tJaime Lannister\tperson\n"
    "t1\t14\t23\tNed Stark\tEddard Stark\tperson\n"
    "t1\t25\t30\tStark\tHouse Stark\tgroup\n"
    "t2\t0\t10\tKingslayer\tJaime Lannister\tperson\n"
    "t2\t20\t25\tJaime\tJaime Lannister\tperson\n";

constexpr const char* kHpGold =
    "id\tstart\tend\tsurface\tentity\tkind\n"
    "t3\t0\t5\tHarry\tHarry Potter\tperson\n";

class EntitiesCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.File("model.json"), kKeywordModelJson);
    WriteFile(dir_.File("sagas.tsv"), kDictionary);
    WriteFile(dir_.File("texts.jsonl"), kTexts);
    std::filesystem::create_directory(dir_.File("gold"));
    WriteFile(dir_.File("gold/texts.tsv"), "saga\tid\ngot\tt1\ngot\tt2\nhp\tt3\n");
    WriteFile(dir_.File("gold/got.tsv"), kGotGold);
    WriteFile(dir_.File("gold/hp.tsv"), kHpGold);
  }
  Outcome Score(const std::string& extra) {
    WriteFile(dir_.File("scored.tsv"), std::string(kDictionary) + kScoredExtra);
    return RunSagaflow(SAGAFLOW_BINARY, "entities score --gold " + Quote(dir_.File("gold")) + " --input " +
                                            Quote(dir_.File("texts.jsonl")) + " --entities " +
                                            Quote(dir_.File("scored.tsv")) + " " + extra);
  }
  ScratchDir dir_;
};

TEST_F(EntitiesCommandTest, ScoreArithmetic) {
  Outcome r = Score("--format json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const auto& got = j["sagas"]["got"];
  EXPECT_EQ(got["texts"], 2);
  EXPECT_EQ(got["gold"], 5);
  EXPECT_EQ(got["predicted"], 6);  // Ser Jaime, Ned, Stark, Stark, Kingslayer, Jaime
  EXPECT_EQ(got["true_positives"], 4);
  EXPECT_EQ(got["unscored"], 1);  // Longclaw
  EXPECT_DOUBLE_EQ(got["precision"].get<double>(), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(got["recall"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(got["f1"].get<double>(), 2 * (4.0 / 6.0) * 0.8 / (4.0 / 6.0 + 0.8));
  const auto& hp = j["sagas"]["hp"];
  EXPECT_EQ(hp["true_positives"], 1);
  EXPECT_DOUBLE_EQ(hp["f1"].get<double>(), 1.0);
  const auto& all = j["all"];
  EXPECT_EQ(all["texts"], 3);
  EXPECT_EQ(all["gold"], 6);
  EXPECT_EQ(all["predicted"], 7);
  EXPECT_EQ(all["true_positives"], 5);
  EXPECT_EQ(all["unscored"], 1);
  EXPECT_DOUBLE_EQ(all["precision"].get<double>(), 5.0 / 7.0);
  EXPECT_EQ(j["split"],
            nlohmann::json::parse(
                R"([{"saga":"got","entity":"Jaime Lannister","predicted_as":["Jaime Lannister","Kingslayer"]}])"));
  EXPECT_EQ(j["confusions"],
            nlohmann::json::parse(R"([{"saga":"got","entity":"Eddard Stark","predicted_as":["House Stark"]}])"));
  EXPECT_EQ(j["misses"],
            nlohmann::json::parse(R"([{"saga":"got","surface":"Kingslayer","entity":"Jaime Lannister","count":1}])"));
  EXPECT_EQ(j["false_positives"], nlohmann::json::parse(R"([
      {"saga":"got","surface":"Kingslayer","entity":"Kingslayer","count":1},
      {"saga":"got","surface":"Stark","entity":"House Stark","count":1}])"));

  // The model gives the same sagas here; the table has the same figures.
  r = Score("--model " + Quote(dir_.File("model.json")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("got         2      5          6      4      0.667   0.800   0.727"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("split entities (two or more names stand for one entity): 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("confusions (mentions resolved to another entity): 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not scored (entities of kind other): 1"), std::string::npos) << r.out;
}

TEST_F(EntitiesCommandTest, ScoreFloors) {
  WriteFile(dir_.File("floors.tsv"), "# comment\ngot\tf1\t0.72\nall\tprecision\t0.71\nall\tsplit\t1\n");
  Outcome r = Score("--floors " + Quote(dir_.File("floors.tsv")));
  EXPECT_EQ(r.status, 0) << r.err;
  WriteFile(dir_.File("floors.tsv"), "got\tf1\t0.73\nhp\trecall\t1\nall\tsplit\t0\n");
  r = Score("--floors " + Quote(dir_.File("floors.tsv")));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("got f1: 0.7273 < floor 0.73"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("all split entities: 1 > 0"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hp recall"), std::string::npos) << r.err;
}

TEST_F(EntitiesCommandTest, GoldRowsMustMatchTheirText) {
  WriteFile(dir_.File("gold/hp.tsv"), std::string(kHpGold) + "t3\t1\t5\tHarry\tHarry Potter\tperson\n");
  Outcome r = Score("");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("hp.tsv:3: surface \"Harry\" but the text has \"arry\" at 1..5"), std::string::npos) << r.err;
  WriteFile(dir_.File("gold/hp.tsv"), std::string(kHpGold) + "t3\t1\t5\tHarry\tHarry Potter\thero\n");
  r = Score("");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("hp.tsv:3: unknown kind \"hero\""), std::string::npos) << r.err;
}

TEST_F(EntitiesCommandTest, DiscoverProposesWhatTheDictionaryLacks) {
  // got texts (they say "stark"): Barristan with and without the title, a known name, an
  // epithet, a sentence-initial common word, a linked alias.
  std::string corpus;
  for (int k = 0; k < 4; ++k) {
    corpus += "{\"id\":\"d" + std::to_string(k) +
              "\",\"text\":\"Then Ser Barristan spoke to Jaime at House Stark. Barristan laughed at the Kingslayer. "
              "Then the then. They saw Lord Commander Jaime nod. When the Tower of Joy fell, Stark men wept.\"}\n";
  }
  WriteFile(dir_.File("corpus.jsonl"), corpus);
  Outcome r = RunSagaflow(SAGAFLOW_BINARY, "entities discover --input " + Quote(dir_.File("corpus.jsonl")) +
                                               " --model " + Quote(dir_.File("model.json")) + " --dictionary " +
                                               Quote(dir_.File("sagas.tsv")) + " --min-count 4");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\nsaga\tname\tkind\taliases\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# \"Barristan\": 8 mentions in 4 texts; seen as \"Barristan\" 4, \"Ser Barristan\" 4\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\ngot\tBarristan\tcharacter\t\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ngot\tTower of Joy\tplace\t\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("after \"the\" 4 times"), std::string::npos) << r.out;  // Kingslayer
  EXPECT_NE(r.out.find("\ngot\tKingslayer\tcharacter\t\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# link\tgot\tJaime Lannister\tLord Commander Jaime\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("# \"Then"), std::string::npos) << r.out;         // sentence-initial common word
  EXPECT_EQ(r.out.find("\tJaime\t"), std::string::npos) << r.out;        // known
  EXPECT_EQ(r.out.find("# \"House Stark"), std::string::npos) << r.out;  // known
  // Deterministic.
  Outcome again = RunSagaflow(SAGAFLOW_BINARY, "entities discover --input " + Quote(dir_.File("corpus.jsonl")) +
                                                   " --model " + Quote(dir_.File("model.json")) + " --dictionary " +
                                                   Quote(dir_.File("sagas.tsv")) + " --min-count 4");
  EXPECT_EQ(again.out, r.out);
}

// The real gold set on the shared corpus, with the prototype's model, must
// stay above the floors recorded in data/entities/gold/floors.tsv.
TEST(EntitiesGoldTest, GoldSetStaysAboveFloors) {
  SAGAFLOW_REQUIRE_SHARED(texts, "corpus/texts.jsonl");
  SAGAFLOW_REQUIRE_SHARED(joblib, "models/classification_pipeline.joblib");
  const std::string gold = sagaflow::testing::SourceDir() + "/data/entities/gold";
  bool any = false;
  for (const char* saga : {"got", "lotr", "hp"}) any |= std::filesystem::exists(gold + "/" + saga + ".tsv");
  if (!any) GTEST_SKIP() << "no gold annotations in " << gold;
  ScratchDir dir;
  const std::string model = dir.File("model.json");
  ASSERT_EQ(sagaflow::text::testing::ExportModel(joblib, model, "got,lotr,hp"), 0);
  Outcome r = RunSagaflow(SAGAFLOW_BINARY, "entities score --gold " + Quote(gold) + " --input " + Quote(texts) +
                                               " --entities " +
                                               Quote(sagaflow::testing::SourceDir() + "/data/entities/sagas.tsv") +
                                               " --model " + Quote(model) + " --floors " + Quote(gold + "/floors.tsv"));
  EXPECT_EQ(r.status, 0) << r.err << r.out;
}

}  // namespace
