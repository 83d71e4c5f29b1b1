// End-to-end tests of `sagaflow extract` (runs the built binary).
#include <gtest/gtest.h>

#include "support/run_binary.h"
#include "support/tiny_model.h"
#include "text/python_reference_testing.h"

namespace {

using sagaflow::testing::ScratchDir;
using sagaflow::text::testing::Quote;
using sagaflow::text::testing::WriteFile;

using sagaflow::testing::kKeywordModelJson;

constexpr const char* kDictionary =
    "saga\tname\tkind\taliases\n"
    "got\tSamwell Tarly\tcharacter\tSam\n"
    "got\tHouse Stark\thouse\tStark\n"
    "lotr\tSamwise Gamgee\tcharacter\tSam|Samwise\n"
    "*\tTom\tother\n";

using Outcome = sagaflow::testing::CommandOutcome;

class ExtractCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = dir_.File("model.json");
    WriteFile(model_, kKeywordModelJson);
    dict_ = dir_.File("sagas.tsv");
    WriteFile(dict_, kDictionary);
    input_ = dir_.File("in.jsonl");
  }
  Outcome Extract(const std::string& args, const std::string& env = "", const std::string& stdin_file = "") {
    return sagaflow::testing::RunSagaflow(SAGAFLOW_BINARY, "extract " + args, env, stdin_file);
  }
  ScratchDir dir_;
  std::string model_, dict_, input_;
};

TEST_F(ExtractCommandTest, ScopesTheDictionaryByTheModelsSaga) {
  WriteFile(input_,
            "{\"id\":\"a\",\"text\":\"Sam of House Stark met Tom. Samwise? Stark.\"}\n"
            "{\"id\":7,\"text\":\"Sam and Samwise took the Ring; Tomorrow Tom\"}\n"
            "{\"id\":\"c\",\"text\":\" \\n\"}\n"
            "{\"id\":\"d\",\"text\":\"Tom's wand\"}\n");
  Outcome r = Extract("--entities " + Quote(dict_) + " --model " + Quote(model_) + " --input " + Quote(input_));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"id\":\"a\",\"saga\":\"got\",\"mentions\":{\"Samwell Tarly\":1,\"House Stark\":2,\"Tom\":1}}\n"
            "{\"id\":7,\"saga\":\"lotr\",\"mentions\":{\"Samwise Gamgee\":2,\"Tom\":1}}\n"
            "{\"id\":\"c\",\"saga\":null,\"mentions\":{}}\n"
            "{\"id\":\"d\",\"saga\":\"hp\",\"mentions\":{\"Tom\":1}}\n");
}

TEST_F(ExtractCommandTest, WithoutModelOnlyUnscopedEntriesCountAndSagaIsAbsent) {
  WriteFile(input_, "{\"id\":1,\"text\":\"Sam and Tom, Tom\"}\n");
  Outcome r = Extract("", "SAGAFLOW_ENTITIES=" + Quote(dict_), input_);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "{\"id\":1,\"mentions\":{\"Tom\":2}}\n");
}

TEST_F(ExtractCommandTest, FlatListAndEnvironmentVariables) {
  std::string flat = dir_.File("entities.txt");
  WriteFile(flat, "Jon\nJon Snow  \nJon\n");
  WriteFile(input_, "{\"id\":\"x\",\"text\":\"Jon Snowden and Jon\\u00a0Snow\"}\n");
  Outcome r = Extract("", "SAGAFLOW_ENTITIES=" + Quote(flat) + " SAGAFLOW_INPUT=" + Quote(input_));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "{\"id\":\"x\",\"mentions\":{\"Jon\":1,\"Jon Snow\":1}}\n");
}

TEST_F(ExtractCommandTest, BadLinesAreReportedSkippedAndFailTheRun) {
  WriteFile(input_,
            "{\"id\":1,\"text\":\"Tom\"}\n"
            "not json\n"
            "{\"id\":2}\n"
            "{\"id\":3,\"text\":\"Tom Tom\"}\n");
  Outcome r = Extract("--entities " + Quote(dict_) + " --input " + Quote(input_));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out,
            "{\"id\":1,\"mentions\":{\"Tom\":1}}\n"
            "{\"id\":3,\"mentions\":{\"Tom\":2}}\n");
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 3: missing field \"text\""), std::string::npos) << r.err;
}

TEST_F(ExtractCommandTest, InvalidDictionaryExitsWithStatus1AndLineNumber) {
  WriteFile(dict_, "saga\tname\tkind\taliases\ngot\tJon Snow\thero\n");
  WriteFile(input_, "{\"id\":1,\"text\":\"Jon\"}\n");
  Outcome r = Extract("--entities " + Quote(dict_) + " --input " + Quote(input_));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("line 2: unknown kind \"hero\""), std::string::npos) << r.err;
}

}  // namespace
