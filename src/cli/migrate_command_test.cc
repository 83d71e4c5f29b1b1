// `sagaflow migrate` (runs the built binary): the schema and dimensions a
// separate migration step leaves are what `run` builds on, and migrating
// again changes nothing stored.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/run_binary.h"
#include "text/python_reference_testing.h"

namespace {

using sagaflow::testing::ScratchDir;
using sagaflow::text::testing::Quote;

using Outcome = sagaflow::testing::CommandOutcome;

class MigrateCommandTest : public ::testing::Test {
 protected:
  Outcome Sagaflow(const std::string& args) { return sagaflow::testing::RunSagaflow(SAGAFLOW_BINARY, args); }
  std::string Store() const { return "sqlite:" + dir_.File("store.db"); }
  std::string ModelFlags() const {
    return "--model " + Quote(model_) + " --entities " +
           Quote(std::string(SAGAFLOW_SOURCE_DIR) + "/data/entities/sagas.tsv");
  }
  nlohmann::json Sagas() {
    Outcome q = Sagaflow("query --store " + Quote(Store()) + " sagas --format json");
    EXPECT_EQ(q.status, 0) << q.err;
    return nlohmann::json::parse(q.out);
  }
  void SetUp() override {
    model_ = dir_.File("model.json");
    Outcome t = Sagaflow("train --data " + Quote(std::string(SAGAFLOW_SOURCE_DIR) + "/data/sample/train.jsonl") +
                         " --out " + Quote(model_));
    ASSERT_EQ(t.status, 0) << t.err;
  }

  ScratchDir dir_;
  std::string model_;
};

TEST_F(MigrateCommandTest, SchemaThenDimensionsThenRunThenAgainChangesNothing) {
  Outcome bare = Sagaflow("migrate --store " + Quote(Store()));
  ASSERT_EQ(bare.status, 0) << bare.err;
  EXPECT_EQ(Sagas().size(), 1u);  // only the row of empty texts: no saga known yet

  Outcome dims = Sagaflow("migrate --store " + Quote(Store()) + " " + ModelFlags());
  ASSERT_EQ(dims.status, 0) << dims.err;
  EXPECT_NE(dims.out.find("3 sagas"), std::string::npos) << dims.out;
  ASSERT_EQ(Sagas().size(), 4u);  // got, hp, lotr (zeros) + empty texts
  for (const auto& row : Sagas()) EXPECT_EQ(row["events"], 0) << row.dump();

  const std::string events = dir_.File("events.jsonl");
  Outcome produce = Sagaflow("produce --input " + Quote(std::string(SAGAFLOW_SOURCE_DIR) + "/data/sample/test.jsonl") +
                             " --seed 3 --output " + Quote(events));
  ASSERT_EQ(produce.status, 0) << produce.err;
  Outcome run = Sagaflow("run --source " + Quote(events) + " --store " + Quote(Store()) + " " + ModelFlags() +
                         " --progress never");
  ASSERT_EQ(run.status, 0) << run.err;
  const nlohmann::json before = Sagas();
  int64_t stored = 0;
  for (const auto& row : before) stored += row["events"].get<int64_t>();
  EXPECT_GT(stored, 0);

  Outcome again = Sagaflow("migrate --store " + Quote(Store()) + " " + ModelFlags());
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(Sagas(), before);
}

TEST_F(MigrateCommandTest, ModelWithoutDictionaryIsABadInvocation) {
  Outcome o = Sagaflow("migrate --store " + Quote(Store()) + " --model " + Quote(model_));
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find("--entities"), std::string::npos) << o.err;
  // A dictionary alone (a default from the environment) migrates the schema only.
  Outcome schema_only = Sagaflow("migrate --store " + Quote(Store()) + " --entities " +
                                 Quote(std::string(SAGAFLOW_SOURCE_DIR) + "/data/entities/sagas.tsv"));
  EXPECT_EQ(schema_only.status, 0) << schema_only.err;
  EXPECT_EQ(Sagas().size(), 1u);
  Outcome bad = Sagaflow("migrate --store nosuch:thing");
  EXPECT_EQ(bad.status, 2) << bad.err;
  EXPECT_NE(bad.err.find("nosuch:thing"), std::string::npos) << bad.err;
}

}  // namespace
