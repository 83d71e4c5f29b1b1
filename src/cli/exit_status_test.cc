// Exit statuses of every command (runs the built binary): 0 success, 1
// runtime failure, 2 usage error (commands.h, README "Exit status"), whatever
// CLI11's own error codes are; bound errors give the bounds as plain numbers.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "support/run_binary.h"
#include "support/scratch_dir.h"
#include "text/python_reference_testing.h"

namespace {

using sagaflow::testing::ScratchDir;
using sagaflow::testing::WriteFile;
using sagaflow::text::testing::Quote;

using Outcome = sagaflow::testing::CommandOutcome;

Outcome Sagaflow(const std::string& args) { return sagaflow::testing::RunSagaflow(SAGAFLOW_BINARY, args); }

// The subcommands `sagaflow --help` lists, and those of `bench` and `entities`.
std::vector<std::string> Commands() {
  std::vector<std::string> out;
  for (const std::string& prefix : {std::string(), std::string("bench "), std::string("entities ")}) {
    const Outcome help = Sagaflow(prefix + "--help");
    EXPECT_EQ(help.status, 0) << help.err;
    std::istringstream lines(help.out.substr(help.out.find("Subcommands:")));
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line)) {
      std::smatch m;
      if (std::regex_search(line, m, std::regex(R"(^  ([a-z][a-z-]*)\s)"))) out.push_back(prefix + m[1].str());
    }
  }
  return out;
}

TEST(ExitStatusTest, HelpAndVersionExitZero) {
  EXPECT_EQ(Sagaflow("--help").status, 0);
  const Outcome v = Sagaflow("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.out.find("sagaflow "), std::string::npos) << v.out;
}

// CLI11 exits 106 (RequiredError), 109 (ExtrasError), 105 (ValidationError)...
// by itself; every one of them is a usage error, 2, for every command.
TEST(ExitStatusTest, EveryParseErrorOfEveryCommandIsTwo) {
  const std::vector<std::string> commands = Commands();
  const std::set<std::string> listed(commands.begin(), commands.end());
  for (const char* expected : {"classify", "produce", "run", "migrate", "query", "train", "bench", "dev-broker",
                               "extract", "serve", "bench text", "bench pipeline", "bench kafka", "bench failover",
                               "entities", "entities discover", "entities score", "validate"}) {
    EXPECT_TRUE(listed.count(expected)) << expected << " is not listed by --help";
  }
  for (const std::string& c : commands) {
    EXPECT_EQ(Sagaflow(c + " --help").status, 0) << c;
    const Outcome extra = Sagaflow(c + " --no-such-flag");
    EXPECT_EQ(extra.status, 2) << c << ": " << extra.err;
    // CLI11 names the first problem it finds (often a missing required flag).
    EXPECT_NE(extra.err.find("Run with --help"), std::string::npos) << c << ": " << extra.err;
  }
  EXPECT_EQ(Sagaflow("").status, 2);  // a subcommand is required
  EXPECT_EQ(Sagaflow("no-such-command").status, 2);
  EXPECT_EQ(Sagaflow("--log-format xml classify --model m").status, 2);
  const Outcome missing = Sagaflow("run --model m.json");  // --store, --entities missing
  EXPECT_EQ(missing.status, 2) << missing.err;
  EXPECT_EQ(Sagaflow("query --store sqlite:x.db").status, 2);                                   // no query named
  EXPECT_EQ(Sagaflow("query --store sqlite:x.db sagas --format xml").status, 2);                // not a member
  EXPECT_EQ(Sagaflow("run --store sqlite:x --model m --entities e --workers many").status, 2);  // not a number
}

TEST(ExitStatusTest, BoundsArePlainNumbers) {
  struct Case {
    std::string args, message;
  };
  for (const Case& c : std::vector<Case>{
           {"query --store sqlite:x.db top-entities --saga got --limit -1", "-1 is not a number of at least 0"},
           {"query --store sqlite:x.db rejected --list --limit -5", "-5 is not a number of at least 0"},
           {"serve --model m --entities e --port 70000", "70000 is not a number from 0 to 65535"},
           {"serve --model m --entities e --read-timeout 0", "0 is not a number from 0.01 to 3600"},
           {"run --store sqlite:x --model m --entities e --batch-bytes 1",
            "1 is not a number from 65536 to 4294967296"},
           {"run --store sqlite:x --model m --entities e --stop-when-idle -1", "-1 is not a number of at least 0"},
           {"train --data d --out o --max-iter 0", "0 is not a number of at least 1"},
           {"bench text --seconds 0", "0 is not a number above 0"},
           {"bench failover --model m --entities e --partitions 0", "0 is not a number from 1 to 256"},
           {"entities discover --model m --min-count 0", "0 is not a number of at least 1"},
       }) {
    const Outcome r = Sagaflow(c.args);
    EXPECT_EQ(r.status, 2) << c.args << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
    // No bound is printed as a 309-digit number (the largest double).
    EXPECT_FALSE(std::regex_search(r.err, std::regex("[0-9]{25}"))) << c.args << ": " << r.err;
  }
}

// Wrong on the command line (an address no store or source has) -> 2; right
// on the command line but failing while working -> 1.
TEST(ExitStatusTest, UsageVersusRuntimeFailures) {
  ScratchDir dir;
  const std::string model = dir.File("model.json");
  const std::string entities = std::string(SAGAFLOW_SOURCE_DIR) + "/data/entities/sagas.tsv";
  const Outcome t = Sagaflow("train --data " + Quote(std::string(SAGAFLOW_SOURCE_DIR) + "/data/sample/train.jsonl") +
                             " --out " + Quote(model) + " --folds 0");
  ASSERT_EQ(t.status, 0) << t.err;
  const std::string store = "sqlite:" + dir.File("store.db");
  const std::string analysis = " --model " + Quote(model) + " --entities " + Quote(entities);
  WriteFile(dir.File("events.jsonl"), "{\"id\":\"a\",\"time\":1,\"readers\":3,\"text\":\"Frodo\"}\n");

  struct Case {
    std::string args;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           // usage: malformed or unsupported addresses, inconsistent flags
           {"run --source " + Quote(dir.File("events.jsonl")) + " --store nosuch:thing" + analysis, 2},
           {"run --source ftp://host/x --store " + Quote(store) + analysis, 2},
           {"run --source kafka://127.0.0.1:1/topic --store " + Quote(store) + analysis, 2},  // no ?group=
           {"migrate --store clickhouse://host:notaport/db", 2},
           {"migrate --store " + Quote(store) + " --model " + Quote(model), 2},  // --model needs --entities
           {"serve --store nosuch:thing" + analysis, 2},
           {"produce --input " + Quote(dir.File("events.jsonl")) + " --start-time yesterday", 2},
           {"query --store " + Quote(store) + " sagas --from 2000 --to 1000", 2},
           // runtime: files, stores and data that fail
           {"run --source " + Quote(dir.File("absent.jsonl")) + " --store " + Quote(store) + analysis, 1},
           {"run --source " + Quote(dir.File("events.jsonl")) + " --store " + Quote(store) + " --model " +
                Quote(dir.File("absent.json")) + " --entities " + Quote(entities),
            1},
           {"classify --model " + Quote(dir.File("absent.json")) + " --input " + Quote(dir.File("events.jsonl")), 1},
           {"extract --entities " + Quote(dir.File("absent.tsv")) + " --input " + Quote(dir.File("events.jsonl")), 1},
           {"produce --input " + Quote(dir.File("absent.jsonl")), 1},
           {"train --data " + Quote(dir.File("absent.jsonl")) + " --out " + Quote(dir.File("m2.json")), 1},
           {"query --store " + Quote("sqlite:" + dir.File("no/such/dir.db")) + " sagas", 1},
           {"entities discover --model " + Quote(dir.File("absent.json")) + " --input " +
                Quote(dir.File("events.jsonl")),
            1},
           {"entities score --gold " + Quote(dir.File("absent")) + " --entities " + Quote(entities) + " --input " +
                Quote(dir.File("events.jsonl")),
            1},
           {"bench kafka --model " + Quote(model) + " --entities " + Quote(entities) + " --kafka-config " +
                Quote(dir.File("absent.properties")),
            1},
           {"serve --port 0 --store " + Quote(store) + " --model " + Quote(dir.File("absent.json")) + " --entities " +
                Quote(entities),
            1},
           // success
           {"run --source " + Quote(dir.File("events.jsonl")) + " --store " + Quote(store) + analysis, 0},
           {"query --store " + Quote(store) + " sagas", 0},
       }) {
    const Outcome r = Sagaflow(c.args);
    EXPECT_EQ(r.status, c.status) << c.args << "\n" << r.err;
  }
}

}  // namespace
