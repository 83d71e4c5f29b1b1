// `sagaflow validate` (runs the built binary): one checklist line per check,
// exit 0 or 1, nothing created, consumed or written; settings files as every
// command reads them (precedence, strictness); deploy/'s example file.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "kafka/dev_broker.h"
#include "support/run_binary.h"
#include "support/scratch_dir.h"
#include "text/python_reference_testing.h"

namespace {

using sagaflow::testing::ScratchDir;
using sagaflow::testing::WriteFile;
using sagaflow::text::testing::Quote;
using Outcome = sagaflow::testing::CommandOutcome;

const std::string kSourceDir = SAGAFLOW_SOURCE_DIR;
const std::string kEntities = kSourceDir + "/data/entities/sagas.tsv";

Outcome Sagaflow(const std::string& args, const std::string& env = "") {
  return sagaflow::testing::RunSagaflow(SAGAFLOW_BINARY, args, env);
}

// The checklist line of `check` ("" if absent).
std::string Line(const std::string& out, const std::string& check) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 6 && line.compare(6, check.size() + 1, check + " ") == 0) return line;
  }
  return "";
}

class ValidateCommandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_dir_ = new ScratchDir;
    const Outcome t = Sagaflow("train --data " + Quote(kSourceDir + "/data/sample/train.jsonl") + " --out " +
                               Quote(model_dir_->File("model.json")) + " --folds 0");
    ASSERT_EQ(t.status, 0) << t.err;
  }
  static void TearDownTestSuite() { delete model_dir_; }
  static std::string Model() { return model_dir_->File("model.json"); }
  std::string Analysis() const { return " --model " + Quote(Model()) + " --entities " + Quote(kEntities); }

  static ScratchDir* model_dir_;
  ScratchDir dir_;
};
ScratchDir* ValidateCommandTest::model_dir_ = nullptr;

TEST_F(ValidateCommandTest, SqliteStoreIsCheckedNeverCreated) {
  const std::string db = dir_.File("store.db");
  Outcome fresh = Sagaflow("validate" + Analysis() + " --store " + Quote("sqlite:" + db));
  EXPECT_EQ(fresh.status, 0) << fresh.out << fresh.err;
  EXPECT_NE(Line(fresh.out, "model").find("ok    model             "), std::string::npos) << fresh.out;
  EXPECT_NE(Line(fresh.out, "model").find("labels got, lotr, hp"), std::string::npos) << fresh.out;
  EXPECT_NE(Line(fresh.out, "entities").find("entities"), std::string::npos) << fresh.out;
  EXPECT_NE(Line(fresh.out, "store").find("absent; migrate or run creates it"), std::string::npos) << fresh.out;
  EXPECT_NE(Line(fresh.out, "source").find("skip"), std::string::npos) << fresh.out;
  EXPECT_FALSE(std::filesystem::exists(db));  // validate created nothing

  const Outcome migrate = Sagaflow("migrate --store " + Quote("sqlite:" + db));
  ASSERT_EQ(migrate.status, 0) << migrate.err;
  const auto size = std::filesystem::file_size(db);
  const auto mtime = std::filesystem::last_write_time(db);
  Outcome migrated = Sagaflow("validate --store " + Quote("sqlite:" + db));
  EXPECT_EQ(migrated.status, 0) << migrated.out << migrated.err;
  EXPECT_NE(Line(migrated.out, "store schema").find("this binary's"), std::string::npos) << migrated.out;
  EXPECT_NE(Line(migrated.out, "store privileges").find("ok"), std::string::npos) << migrated.out;
  EXPECT_EQ(std::filesystem::file_size(db), size);
  EXPECT_EQ(std::filesystem::last_write_time(db), mtime);

  WriteFile(dir_.File("not-a-db"), "hello, this is not SQLite\n");
  Outcome garbage = Sagaflow("validate --store " + Quote("sqlite:" + dir_.File("not-a-db")));
  EXPECT_EQ(garbage.status, 1) << garbage.out;
  EXPECT_EQ(Line(garbage.out, "store").rfind("FAIL", 0), 0u) << garbage.out;
  EXPECT_NE(garbage.out.find("validate: 1 of "), std::string::npos) << garbage.out;

  Outcome nowhere = Sagaflow("validate --store " + Quote("sqlite:" + dir_.File("no/such/dir/x.db")));
  EXPECT_EQ(nowhere.status, 1) << nowhere.out;
  EXPECT_NE(Line(nowhere.out, "store").find("neither it nor its directory exists"), std::string::npos) << nowhere.out;
}

TEST_F(ValidateCommandTest, BadFilesFailTheirLinesAndJsonSaysTheSame) {
  WriteFile(dir_.File("bad.json"), "{\"not\": \"a model\"}");
  const std::string args = "validate --model " + Quote(dir_.File("bad.json")) + " --entities " +
                           Quote(dir_.File("absent.tsv")) + " --source " + Quote(dir_.File("absent.jsonl"));
  const Outcome text = Sagaflow(args);
  EXPECT_EQ(text.status, 1) << text.out;
  for (const char* check : {"model", "entities", "source"}) {
    EXPECT_EQ(Line(text.out, check).rfind("FAIL", 0), 0u) << check << "\n" << text.out;
  }
  EXPECT_EQ(Line(text.out, "analysis"), "") << text.out;  // not tried without both files
  EXPECT_NE(text.out.find("validate: 3 of "), std::string::npos) << text.out;

  const Outcome json = Sagaflow(args + " --json");
  EXPECT_EQ(json.status, 1);
  const auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["ok"], false);
  int failed = 0;
  for (const auto& c : doc["checks"]) failed += c["status"] == "fail" ? 1 : 0;
  EXPECT_EQ(failed, 3) << json.out;

  WriteFile(dir_.File("events.jsonl"), "{}\n");
  const Outcome ok = Sagaflow("validate" + Analysis() + " --source " + Quote(dir_.File("events.jsonl")) + " --json");
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["ok"], true);
}

TEST_F(ValidateCommandTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Sagaflow("validate").status, 2);  // nothing to check
  EXPECT_EQ(Sagaflow("validate --store sqlite:x.db --timeout 0").status, 2);
  WriteFile(dir_.File("typo.toml"), "store = sqlite:x.db\n[validate]\ntimeuot = 3\n");
  const Outcome typo = Sagaflow("validate --config " + Quote(dir_.File("typo.toml")));
  EXPECT_EQ(typo.status, 2);
  EXPECT_NE(typo.err.find(dir_.File("typo.toml") + " line 3: unknown key timeuot in [validate]"), std::string::npos)
      << typo.err;
  // A file that cannot be read is a runtime failure, as a missing --kafka-config.
  const Outcome absent = Sagaflow("validate --config " + Quote(dir_.File("absent.toml")));
  EXPECT_EQ(absent.status, 1) << absent.err;
  EXPECT_NE(absent.err.find("absent.toml"), std::string::npos) << absent.err;
}

// The checklist names the store each source of settings gave.
TEST_F(ValidateCommandTest, FlagsOverVariablesOverTheFile) {
  const std::string file = dir_.File("sagaflow.toml");
  WriteFile(file, "store = \"sqlite:" + dir_.File("from-file.db") + "\"\n");
  const std::string config = " --config " + Quote(file);
  EXPECT_NE(Sagaflow("validate" + config).out.find("from-file.db"), std::string::npos);
  const std::string env = "SAGAFLOW_STORE=" + Quote("sqlite:" + dir_.File("from-env.db"));
  EXPECT_NE(Sagaflow("validate" + config, env).out.find("from-env.db"), std::string::npos);
  const Outcome flag = Sagaflow("validate" + config + " --store " + Quote("sqlite:" + dir_.File("from-flag.db")), env);
  EXPECT_NE(flag.out.find("from-flag.db"), std::string::npos) << flag.out;
  EXPECT_EQ(flag.out.find("from-env.db"), std::string::npos) << flag.out;
  // The variable names the file as well.
  EXPECT_NE(Sagaflow("validate", "SAGAFLOW_CONFIG=" + Quote(file)).out.find("from-file.db"), std::string::npos);
}

TEST_F(ValidateCommandTest, KafkaClusterAndTopicWithoutCreatingOrConsuming) {
  auto broker = sagaflow::kafka::DevBroker::Start({1, "events", 3});
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  const std::string bootstrap = (*broker)->bootstrap();
  const Outcome ok = Sagaflow("validate --source " + Quote("kafka://" + bootstrap + "/events?group=g"));
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
  EXPECT_NE(Line(ok.out, "kafka").find("ok    kafka             " + bootstrap + ": cluster "), std::string::npos)
      << ok.out;
  EXPECT_NE(Line(ok.out, "kafka topic").find("events: 3 partitions, each with a leader"), std::string::npos) << ok.out;

  // A missing topic stays missing: asking twice finds it absent twice.
  for (int i = 0; i < 2; ++i) {
    const Outcome missing = Sagaflow("validate --source " + Quote("kafka://" + bootstrap + "/nosuch?group=g"));
    EXPECT_EQ(missing.status, 1) << missing.out;
    EXPECT_NE(Line(missing.out, "kafka topic").find("FAIL  kafka topic       nosuch does not exist"), std::string::npos)
        << missing.out;
  }

  const auto start = std::chrono::steady_clock::now();
  const Outcome down = Sagaflow("validate --timeout 1 --source " + Quote("kafka://127.0.0.1:1/events?group=g"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(down.status, 1);
  EXPECT_NE(Line(down.out, "kafka").find("no answer within 1 s"), std::string::npos) << down.out;
  EXPECT_NE(Line(down.out, "kafka topic").find("skip"), std::string::npos) << down.out;
}

// Authentication fails with librdkafka's reason; no secret of any source
// of credentials reaches the output of a failing or a passing check.
TEST_F(ValidateCommandTest, AuthenticationFailsWithTheReasonAndSecretsStayHidden) {
  auto broker = sagaflow::kafka::DevBroker::Start({1, "events", 2});
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  const std::string secret = "Pl4nted-S3cret";
  WriteFile(dir_.File("kafka.properties"),
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n"
            "sasl.username=sagaflow\nsasl.password=" +
                secret + "\n");
  WriteFile(dir_.File("sagaflow.toml"), "store-password = \"" + secret + "\"\n");
  const Outcome o = Sagaflow("validate --config " + Quote(dir_.File("sagaflow.toml")) + " --kafka-config " +
                             Quote(dir_.File("kafka.properties")) + " --timeout 5 --source " +
                             Quote("kafka://" + (*broker)->bootstrap() + "/events?group=g&sasl.password=" + secret) +
                             " --store " + Quote("clickhouse://sagaflow:" + secret + "@127.0.0.1:1/db"));
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(Line(o.out, "kafka").find("authentication or TLS failed: _AUTHENTICATION"), std::string::npos) << o.out;
  EXPECT_NE(Line(o.out, "store").rfind("FAIL", 0), std::string::npos) << o.out;
  EXPECT_EQ((o.out + o.err).find(secret), std::string::npos) << o.out << o.err;
  const Outcome json = Sagaflow("validate --json --store " + Quote("clickhouse://u:" + secret + "@127.0.0.1:1/db"));
  EXPECT_EQ((json.out + json.err).find(secret), std::string::npos) << json.out << json.err;
}

// deploy/sagaflow.example.toml is read by every command it has a section
// for (values checked against their options), and validate passes with it
// once the deployment-specific addresses are overridden.
TEST_F(ValidateCommandTest, TheDeployExampleParses) {
  const std::string example = kSourceDir + "/deploy/sagaflow.example.toml";
  ASSERT_TRUE(std::filesystem::exists(example));
  for (const char* command : {"run", "serve", "migrate", "validate", "query sagas"}) {
    const Outcome help = Sagaflow("--config " + Quote(example) + " " + command + " --help");
    EXPECT_EQ(help.status, 0) << command << ": " << help.err;
  }
  WriteFile(dir_.File("events.jsonl"), "{}\n");
  const Outcome o =
      Sagaflow("validate --config " + Quote(example) + Analysis() + " --store " +
               Quote("sqlite:" + dir_.File("store.db")) + " --source " + Quote(dir_.File("events.jsonl")));
  EXPECT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_NE(Line(o.out, "config").find("ok"), std::string::npos) << o.out;
}

}  // namespace
