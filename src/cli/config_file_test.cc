// Settings files on a small CLI11 app built like sagaflow's (root options,
// subcommands, nested subcommands, SAGAFLOW_*-style variables): precedence,
// sections, strictness, and the parser's values.
#include "cli/config_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "support/scratch_dir.h"

namespace sagaflow::cli {
namespace {

using sagaflow::testing::ScratchDir;
using sagaflow::testing::WriteFile;

// Variables of the test app (not sagaflow's, so the test's environment
// cannot leak into them).
constexpr const char* kWorkersVar = "SAGAFLOW_CONFIG_TEST_WORKERS";
constexpr const char* kStoreVar = "SAGAFLOW_CONFIG_TEST_STORE";
constexpr const char* kPasswordVar = "SAGAFLOW_CONFIG_TEST_PASSWORD";

struct TestApp {
  CLI::App root{"test"};
  std::string log_level = "info";
  int workers = 2;  // the built-in default
  std::string run_store, query_store, password, model;
  bool json = false;
  bool ran = false;

  TestApp() {
    root.require_subcommand(1);
    root.fallthrough();
    root.add_option("--log-level", log_level);
    CLI::App* run = root.add_subcommand("run");
    run->add_option("--workers", workers)->envname(kWorkersVar)->check(InRange(1, 256));
    run->add_option("--store", run_store)->envname(kStoreVar);
    // A check whose message echoes the value, as CLI11's own do.
    run->add_option("--store-password", password)
        ->envname(kPasswordVar)
        ->check(CLI::Validator([](std::string& v) { return v.size() <= 16 ? std::string() : "longer than 16: " + v; },
                               "SHORT"));
    run->add_flag("--json", json);
    run->callback([this] { ran = true; });
    CLI::App* query = root.add_subcommand("query");
    query->add_option("--store", query_store)->envname(kStoreVar);
    CLI::App* bench = root.add_subcommand("bench");
    bench->add_subcommand("kafka")->add_option("--model", model);
    AddConfigOption(root);
  }
  void Parse(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"sagaflow"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    root.parse(static_cast<int>(argv.size()), argv.data());
  }
};

// A TestApp that parsed `args` (on the heap: its callbacks point into it).
std::unique_ptr<TestApp> Parsed(const std::vector<std::string>& args) {
  auto app = std::make_unique<TestApp>();
  app->Parse(args);
  return app;
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {kWorkersVar, kStoreVar, kPasswordVar, "SAGAFLOW_CONFIG"}) ::unsetenv(v);
  }
  void TearDown() override { SetUp(); }
  std::string Config(const std::string& text) {
    std::string path = dir_.File("sagaflow.toml");
    WriteFile(path, text);
    return path;
  }
  // The message of the ConfigError that parsing `args` throws ("" if none).
  static std::string ConfigErrorOf(const std::vector<std::string>& args) {
    TestApp app;
    try {
      app.Parse(args);
    } catch (const CLI::ConfigError& e) {
      EXPECT_FALSE(app.ran);
      return e.what();
    }
    return "";
  }
  ScratchDir dir_;
};

TEST_F(ConfigFileTest, FlagsOverVariablesOverFileOverDefaults) {
  const std::string file = Config("workers = 5\n");
  {
    const auto app = Parsed({"run"});
    EXPECT_EQ(app->workers, 2);  // default
  }
  {
    const auto app = Parsed({"--config", file, "run"});
    EXPECT_EQ(app->workers, 5);  // file over default
    EXPECT_TRUE(app->ran);
  }
  ::setenv(kWorkersVar, "7", 1);
  {
    const auto app = Parsed({"--config", file, "run"});
    EXPECT_EQ(app->workers, 7);  // variable over file
  }
  {
    const auto app = Parsed({"--config", file, "run", "--workers", "9"});
    EXPECT_EQ(app->workers, 9);  // flag over variable
  }
  ::setenv(kWorkersVar, "", 1);  // empty: not set, as CLI11 reads variables
  {
    const auto app = Parsed({"--config", file, "run"});
    EXPECT_EQ(app->workers, 5);
  }
}

TEST_F(ConfigFileTest, ConfigAfterTheSubcommandAndFromTheVariable) {
  const std::string file = Config("workers = 5\n");
  {
    const auto app = Parsed({"run", "--config", file, "--store", "sqlite:x"});
    EXPECT_EQ(app->workers, 5);
    EXPECT_EQ(app->run_store, "sqlite:x");
  }
  ::setenv("SAGAFLOW_CONFIG", file.c_str(), 1);
  {
    const auto app = Parsed({"run"});
    EXPECT_EQ(app->workers, 5);
  }
  const std::string other = dir_.File("other.toml");
  WriteFile(other, "workers = 6\n");
  {
    const auto app = Parsed({"run", "--config", other});  // --config over SAGAFLOW_CONFIG
    EXPECT_EQ(app->workers, 6);
  }
}

TEST_F(ConfigFileTest, TopLevelKeysReachEveryCommandAndSectionsWin) {
  const std::string file = Config(
      "store = \"sqlite:shared.db\"\n"
      "log-level = debug\n"
      "model = m.json\n"
      "[query]\n"
      "store = sqlite:analytics.db\n"
      "[run]\n"
      "workers = 3\n"
      "[bench.kafka]\n"
      "model = bench.json\n");
  {
    const auto app = Parsed({"--config", file, "run"});
    EXPECT_EQ(app->run_store, "sqlite:shared.db");
    EXPECT_EQ(app->log_level, "debug");
    EXPECT_EQ(app->workers, 3);
    EXPECT_EQ(app->query_store, "");  // not the command being run
    EXPECT_EQ(app->model, "");
  }
  {
    const auto app = Parsed({"--config", file, "query"});
    EXPECT_EQ(app->query_store, "sqlite:analytics.db");
    EXPECT_EQ(app->workers, 2);
  }
  {
    const auto app = Parsed({"--config", file, "bench", "kafka"});
    EXPECT_EQ(app->model, "bench.json");
  }
  ::setenv(kStoreVar, "sqlite:env.db", 1);
  {
    const auto app = Parsed({"--config", file, "query"});  // the variable beats a section too
    EXPECT_EQ(app->query_store, "sqlite:env.db");
  }
}

TEST_F(ConfigFileTest, ValuesAsTomlAndIniWriteThem) {
  const std::string file = Config(
      "\xEF\xBB\xBF# a comment\r\n"
      "; an INI comment\n"
      "\n"
      "[run]\r\n"
      "store = \"clickhouse://h:8123/db?a=1#not-a-comment\\\\ \\\"q\\\"\"  # a comment\n"
      "store_password = 'p#ss;word'\n"
      "json = true\n");
  TestApp app;
  app.Parse({"--config", file, "run"});
  EXPECT_EQ(app.run_store, "clickhouse://h:8123/db?a=1#not-a-comment\\ \"q\"");
  EXPECT_EQ(app.password, "p#ss;word");
  EXPECT_TRUE(app.json);

  std::istringstream bare("run.workers = 4 ; INI comment\nlog-level=warn#kept\n");
  const auto settings = ParseConfigText(bare, "f.ini");
  ASSERT_EQ(settings.size(), 2u);
  EXPECT_EQ(settings[0].command, std::vector<std::string>{"run"});
  EXPECT_EQ(settings[0].key, "workers");
  EXPECT_EQ(settings[0].value, "4");
  EXPECT_EQ(settings[1].value, "warn#kept");  // a comment starts after a blank
  EXPECT_EQ(settings[1].line, 2);
}

TEST_F(ConfigFileTest, MistakesAreUsageErrorsNamingFileAndLine) {
  struct Case {
    std::string text, message;
  };
  for (const Case& c : std::vector<Case>{
           {"workers = 4\nwrkers = 5\n", "line 2: unknown key wrkers: no command has --wrkers"},
           {"[run]\nmodel = m.json\n", "line 2: unknown key model in [run]: run has no --model"},
           {"[serve]\nport = 1\n", "line 2: [serve] is not a command"},
           {"[run]\nworkers = 1\nworkers = 2\n", "line 3: workers is set twice (first on line 2)"},
           {"run.workers = 1\n[run]\nworkers = 2\n", "line 3: workers is set twice (first on line 1)"},
           {"workers\n", "line 1: expected key = value"},
           {"workers =\n", "line 1: no value after '='"},
           {"store = \"open\n", "line 1: a quoted value without its closing quote"},
           {"store = \"a\" b\n", "line 1: text after the closing quote"},
           {"store = \"\\q\"\n", "line 1: unknown escape \\q"},
           {"store = [\"a\", \"b\"]\n", "line 1: arrays and tables are not values here"},
           {"[[run]]\n", "line 1: arrays of tables"},
           {"[run\n", "line 1: expected a section header"},
           {"[run]\nworkers = 0\n", "line 2: workers: --workers: 0 is not a number from 1 to 256"},
           {"[run]\nworkers = many\n", "line 2: workers:"},
           {"help = true\n", "line 1: unknown key help"},
           {"config = other.toml\n", "line 1: unknown key config"},
       }) {
    const std::string file = Config(c.text);
    const std::string message = ConfigErrorOf({"--config", file, "run"});
    EXPECT_NE(message.find(file + " " + c.message), std::string::npos) << c.text << "-> " << message;
  }
}

TEST_F(ConfigFileTest, ARefusedSecretIsNotEchoed) {
  const std::string file = Config("[run]\nstore-password = hunter2-is-far-too-long\n");
  const std::string message = ConfigErrorOf({"--config", file, "run"});
  EXPECT_NE(message.find("line 2: store-password: the value is refused"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST_F(ConfigFileTest, AnUnreadableFileIsAFileError) {
  TestApp app;
  EXPECT_THROW(app.Parse({"--config", dir_.File("absent.toml"), "run"}), CLI::FileError);
  EXPECT_FALSE(app.ran);
  ::setenv("SAGAFLOW_CONFIG", dir_.File("absent.toml").c_str(), 1);
  TestApp from_env;  // a variable naming a missing file is no more ignored than the flag
  EXPECT_THROW(from_env.Parse({"run"}), CLI::FileError);
  EXPECT_FALSE(from_env.ran);
}

}  // namespace
}  // namespace sagaflow::cli
