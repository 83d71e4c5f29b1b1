// The embedded pipeline end to end on the shared corpus, checked against an
// independent computation: events produced with a fixed seed (plus crafted
// empty and rejected lines) are run into SQLite, and every saga total and
// every entity's mentions and readers must equal what pipeline_reference.py
// computes from scikit-learn's own predictions (sklearn-predictions.tsv)
// and the reference mention counter. Then: a re-run adds nothing, and a run
// killed with SIGKILL at random moments and restarted ends identical.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "support/shared_data.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sagaflow::testing::Python;
using sagaflow::testing::SourceDir;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Starts argv[0..] with stdout/stderr to files; returns the child's pid.
pid_t Spawn(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
  pid_t pid = ::fork();
  if (pid == 0) {
    FILE* o = std::freopen(out.c_str(), "w", stdout);
    FILE* e = std::freopen(err.c_str(), "w", stderr);
    (void)o;
    (void)e;
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

struct Output {
  int status;
  std::string out, err;
};

class PipelineE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fs::temp_directory_path() / ("sagaflow-e2e-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(work_);
    fs::create_directories(work_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(work_);
  }

  Output Run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {SAGAFLOW_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t pid = Spawn(argv, work_ / "stdout", work_ / "stderr");
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(work_ / "stdout"), Slurp(work_ / "stderr")};
  }

  Output Shell(const std::string& cmd) {
    int rc = std::system((cmd + " > " + (work_ / "sh.out").string() + " 2> " + (work_ / "sh.err").string()).c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, Slurp(work_ / "sh.out"), Slurp(work_ / "sh.err")};
  }

  // Exports the prototype's scikit-learn model with Debian's Python.
  bool ExportModel(const std::string& joblib) {
    model_ = (work_ / "model.json").string();
    Output o = Shell(Python() + " " + SourceDir() + "/tools/export_sklearn_model.py --labels got,lotr,hp " + joblib +
                     " " + model_);
    if (o.status != 0) {
      ADD_FAILURE() << "exporting the model failed: " << o.err;
      return false;
    }
    return true;
  }

  std::vector<std::string> RunArgs(const std::string& store, const std::string& entities) {
    return {"run",    "--source",  events_, "--store",    "sqlite:" + store, "--model",      model_, "--entities",
            entities, "--summary", "json",  "--progress", "never",           "--batch-size", "64"};
  }

  // Every answer of the store, as the reference shapes them.
  json Answers(const std::string& store) {
    json out;
    auto query = [&](std::vector<std::string> args) {
      std::vector<std::string> full = {"query", "--store", "sqlite:" + store, "--format", "json"};
      full.insert(full.end(), args.begin(), args.end());
      Output o = Run(full);
      EXPECT_EQ(o.status, 0) << o.err;
      return json::parse(o.out);
    };
    out["sagas"] = query({"sagas"});
    for (const char* saga : {"got", "hp", "lotr"}) {
      out["top"][saga] = query({"top-entities", "--saga", saga, "--limit", "0"});
      out["top_by_readers"][saga] = query({"top-entities", "--saga", saga, "--limit", "0", "--by", "readers"});
    }
    out["rejected"] = query({"rejected"});
    return out;
  }

  void ProduceEvents(const std::string& corpus) {
    events_ = (work_ / "events.jsonl").string();
    Output o = Run({"produce", "--input", corpus, "--output", events_, "--seed", "7", "--count", "4000", "--order",
                    "random", "--start-time", "2023-11-14T00:00:00Z", "--interval", "37"});
    ASSERT_EQ(o.status, 0) << o.err;
    // Empty texts and rejected records beside the corpus events.
    std::ofstream(events_, std::ios::app) << R"({"id":"blank","time":1700000000,"readers":321,"text":" \n\t"})"
                                             "\n"
                                          << "this line is not JSON\n"
                                          << R"({"id":"no-text","time":1700000000,"readers":5})"
                                             "\n"
                                          << R"({"id":"empty","time":1700000001,"readers":9,"text":""})"
                                             "\n";
  }

  json Reference(const std::string& predictions, const std::string& entities) {
    Output o = Shell(Python() + " " + SourceDir() + "/tests/integration/pipeline_reference.py --events " + events_ +
                     " --predictions " + predictions + " --entities " + entities);
    EXPECT_EQ(o.status, 0) << o.err;
    return json::parse(o.out);
  }

  void ExpectSame(const json& got, const json& want) {
    for (const auto& [key, value] : want.items()) {
      if (key == "top" || key == "top_by_readers") {
        for (const auto& [saga, rows] : value.items()) {
          EXPECT_EQ(got[key][saga], rows) << key << " " << saga;
        }
      } else {
        EXPECT_EQ(got[key], value) << key;
      }
    }
  }

  fs::path work_;
  std::string model_, events_;
};

TEST_F(PipelineE2E, TotalsEqualTheIndependentReferenceAndReRunsAddNothing) {
  SAGAFLOW_REQUIRE_SHARED(corpus, "corpus/texts.jsonl");
  SAGAFLOW_REQUIRE_SHARED(joblib, "models/classification_pipeline.joblib");
  SAGAFLOW_REQUIRE_SHARED(predictions, "models/sklearn-predictions.tsv");
  ASSERT_TRUE(ExportModel(joblib));
  ProduceEvents(corpus);
  // Both dictionaries: the project's curated one and the prototype's raw list.
  SAGAFLOW_REQUIRE_SHARED(raw_entities, "corpus/entities.txt");
  for (const std::string& entities : {SourceDir() + "/data/entities/sagas.tsv", raw_entities}) {
    SCOPED_TRACE(entities);
    const std::string store = (work_ / (fs::path(entities).stem().string() + ".db")).string();
    Output first = Run(RunArgs(store, entities));
    ASSERT_EQ(first.status, 0) << first.err;
    json summary = json::parse(first.out);
    EXPECT_EQ(summary["records"], 4004);
    EXPECT_EQ(summary["empty"], 2);
    EXPECT_EQ(summary["rejected"], 2);
    const json want = Reference(predictions, entities);
    const json got = Answers(store);
    ExpectSame(got, want);
    // The reference must have found something to compare, or the test proves nothing.
    EXPECT_GT(want["top"]["got"].size(), 10u);
    EXPECT_GT(want["top"]["hp"].size(), 10u);

    Output again = Run(RunArgs(store, entities));
    ASSERT_EQ(again.status, 0) << again.err;
    EXPECT_EQ(json::parse(again.out)["records"], 0);
    EXPECT_EQ(Answers(store), got);
  }
}

TEST_F(PipelineE2E, SigkillAtRandomMomentsThenRestartGivesIdenticalResults) {
  SAGAFLOW_REQUIRE_SHARED(corpus, "corpus/texts.jsonl");
  SAGAFLOW_REQUIRE_SHARED(joblib, "models/classification_pipeline.joblib");
  ASSERT_TRUE(ExportModel(joblib));
  ProduceEvents(corpus);
  const std::string entities = SourceDir() + "/data/entities/sagas.tsv";

  const std::string reference_store = (work_ / "reference.db").string();
  auto start = std::chrono::steady_clock::now();
  Output ref = Run(RunArgs(reference_store, entities));
  ASSERT_EQ(ref.status, 0) << ref.err;
  const auto full_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  const json reference = Answers(reference_store);

  const std::string store = (work_ / "killed.db").string();
  std::mt19937 rng(20231114);
  std::vector<std::string> argv = {SAGAFLOW_BINARY};
  auto args = RunArgs(store, entities);
  argv.insert(argv.end(), args.begin(), args.end());
  int kills = 0, attempts = 0;
  std::string delays;
  while (kills < 6 && attempts < 60) {
    ++attempts;
    // Anywhere in an uninterrupted run's duration: start-up, migrations, batches, the end.
    const int delay = std::uniform_int_distribution<int>(1, static_cast<int>(std::max<int64_t>(full_ms / 2, 10)))(rng);
    pid_t pid = Spawn(argv, work_ / "kill.out", work_ / "kill.err");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      ++kills;
      delays += std::to_string(delay) + "ms ";
    } else {
      // The run finished before the kill: start over on a new store so that
      // every counted kill interrupted the same run.
      ASSERT_EQ(WEXITSTATUS(status), 0) << Slurp(work_ / "kill.err");
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(store + suffix);
      kills = 0;
      delays.clear();
    }
  }
  ASSERT_GE(kills, 5) << "could not kill a run mid-way (uninterrupted run: " << full_ms << " ms)";
  Output last = Run(RunArgs(store, entities));
  ASSERT_EQ(last.status, 0) << last.err;
  EXPECT_EQ(Answers(store), reference) << "after SIGKILL at " << delays;
  std::cout << "SIGKILLed " << kills << " runs at " << delays << "(uninterrupted run " << full_ms << " ms)\n";
}

}  // namespace
