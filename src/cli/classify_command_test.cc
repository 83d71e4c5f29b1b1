// End-to-end tests of `sagaflow classify` (runs the built binary).
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "support/run_binary.h"
#include "support/tiny_model.h"
#include "text/python_reference_testing.h"

namespace {

using sagaflow::testing::ScratchDir;
using sagaflow::text::testing::Quote;
using sagaflow::text::testing::WriteFile;

using sagaflow::testing::kKeywordModelJson;

using Outcome = sagaflow::testing::CommandOutcome;

Outcome Classify(const std::string& args, const std::string& env = "", const std::string& stdin_file = "") {
  return sagaflow::testing::RunSagaflow(SAGAFLOW_BINARY, "classify " + args, env, stdin_file);
}

class ClassifyCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = dir_.File("model.json");
    WriteFile(model_, kKeywordModelJson);
    input_ = dir_.File("in.jsonl");
  }
  ScratchDir dir_;
  std::string model_, input_;
};

TEST_F(ClassifyCommandTest, LabelsDocumentsInOrderWithScores) {
  WriteFile(input_,
            "{\"id\":\"a\",\"text\":\"Stark stark ring\"}\n"
            "{\"id\":7,\"text\":\"the RING\"}\n"
            "{\"id\":\"c\",\"text\":\"nothing known\",\"extra\":1}\n");
  Outcome r = Classify("--model " + Quote(model_) + " --input " + Quote(input_));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"id\":\"a\",\"label\":\"got\",\"scores\":{\"got\":2,\"lotr\":1,\"hp\":0.5}}\n"
            "{\"id\":7,\"label\":\"lotr\",\"scores\":{\"got\":0,\"lotr\":1,\"hp\":0.5}}\n"
            "{\"id\":\"c\",\"label\":\"hp\",\"scores\":{\"got\":0,\"lotr\":0,\"hp\":0.5}}\n");
}

TEST_F(ClassifyCommandTest, EmptyTextsHaveNoLabel) {
  WriteFile(input_, "{\"id\":\"e\",\"text\":\"\"}\n{\"id\":\"w\",\"text\":\" \\t\\n\\u3000\\u2028\"}\n");
  Outcome r = Classify("--model " + Quote(model_) + " --input " + Quote(input_));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"id\":\"e\",\"label\":null,\"empty\":true}\n"
            "{\"id\":\"w\",\"label\":null,\"empty\":true}\n");
}

TEST_F(ClassifyCommandTest, BadLinesAreReportedSkippedAndFailTheRun) {
  WriteFile(input_,
            "{\"id\":\"1\",\"text\":\"wand\"}\n"
            "not json\n"
            "{\"id\":\"3\"}\n"
            "{\"id\":\"4\",\"text\":\"bad \xC3\x28 utf8\"}\n"
            "{\"id\":\"5\",\"text\":\"ring\"}\n");
  Outcome r = Classify("--model " + Quote(model_) + " --input " + Quote(input_));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out,
            "{\"id\":\"1\",\"label\":\"hp\",\"scores\":{\"got\":0,\"lotr\":0,\"hp\":1.5}}\n"
            "{\"id\":\"5\",\"label\":\"lotr\",\"scores\":{\"got\":0,\"lotr\":1,\"hp\":0.5}}\n");
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 4"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("UTF-8"), std::string::npos) << r.err;
}

TEST_F(ClassifyCommandTest, ReadsStdinAndEnvironment) {
  WriteFile(input_, "{\"id\":\"s\",\"text\":\"stark\"}\n");
  Outcome piped = Classify("", "SAGAFLOW_MODEL=" + Quote(model_), input_);
  EXPECT_EQ(piped.status, 0) << piped.err;
  EXPECT_EQ(piped.out, "{\"id\":\"s\",\"label\":\"got\",\"scores\":{\"got\":1,\"lotr\":0,\"hp\":0.5}}\n");
  Outcome env = Classify("", "SAGAFLOW_MODEL=" + Quote(model_) + " SAGAFLOW_INPUT=" + Quote(input_));
  EXPECT_EQ(env.out, piped.out);
}

TEST_F(ClassifyCommandTest, BadModelFailsWithTheFileName) {
  WriteFile(input_, "{\"id\":\"s\",\"text\":\"stark\"}\n");
  std::string bad = dir_.File("bad.json");
  WriteFile(bad, "{\"format\":\"sagaflow-text-classifier\",\"version\":9}");
  Outcome r = Classify("--model " + Quote(bad) + " --input " + Quote(input_));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  EXPECT_EQ(Classify("--model " + Quote(model_) + " --input /nonexistent/in.jsonl").status, 1);
}

// Many documents: output is buffered across flushes and stays in order.
TEST_F(ClassifyCommandTest, LargeInputKeepsOrder) {
  std::string in;
  for (int i = 0; i < 30000; ++i)
    in += "{\"id\":" + std::to_string(i) + ",\"text\":\"ring ring stark and more text\"}\n";
  WriteFile(input_, in);
  Outcome r = Classify("--model " + Quote(model_) + " --input " + Quote(input_));
  EXPECT_EQ(r.status, 0);
  size_t lines = 0, pos = 0;
  while ((pos = r.out.find('\n', pos)) != std::string::npos) ++pos, ++lines;
  EXPECT_EQ(lines, 30000u);
  EXPECT_EQ(r.out.substr(0, 8), "{\"id\":0,");
  EXPECT_NE(r.out.find("{\"id\":29999,"), std::string::npos);
}

}  // namespace
