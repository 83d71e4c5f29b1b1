// `sagaflow bench failover`: how long a consumer group leaves partitions
// unconsumed when one member dies without leaving (SIGKILL, a lost node).
// Starts the dev broker in process, --consumers `sagaflow run` processes of
// one group into one SQLite store, and a producer at a steady --rate; once
// every partition is being stored it SIGKILLs one consumer and watches the
// store's checkpoints (polled every 50 ms). It prints the time from the kill
// until every partition is stored again and the largest gap in stored events
// of any partition, then stops producing, waits for the survivors to store
// everything and checks the store holds every produced event exactly once.
// A benchmark, not a test: it prints figures.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "cli/bench_support.h"
#include "cli/commands.h"
#include "kafka/dev_broker.h"
#include "kafka/producer.h"
#include "pipeline/report.h"
#include "sinks/sqlite/sqlite_db.h"
#include "util/json_writer.h"

extern char** environ;

namespace sagaflow::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchFailoverOptions {
  std::string corpus;
  std::string model;
  std::string entities;
  int consumers = 2;
  int partitions = 8;
  double rate = 64;                     // events/s produced
  double warmup = 10;                   // seconds of steady consumption before the kill
  double observe = 30;                  // seconds watched after the kill
  std::vector<std::string> properties;  // KEY=VALUE appended to the consumers' address
  std::string kafka_config;             // --kafka-config FILE: the producer's and the consumers' properties
  bool json = false;
};

// A `sagaflow run` child process, its stderr in a log file.
class Consumer {
 public:
  Consumer(const std::vector<std::string>& argv, std::string log) : log_(std::move(log)) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Consumer() {
    Signal(SIGKILL);
    Wait();
  }
  bool started() const { return pid_ > 0; }
  const std::string& log() const { return log_; }
  void Signal(int sig) {
    if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
  }
  // The wait status (once reaped; -1 if it never started).
  int Wait() {
    if (pid_ <= 0) return -1;
    if (reaped_) return status_;
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return status_;
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
};

// The consumers' last log lines, on stderr: their logs go with the scratch
// directory when the bench fails.
void PrintLogTails(const std::vector<std::unique_ptr<Consumer>>& consumers) {
  constexpr size_t kLines = 15;
  for (const auto& c : consumers) {
    std::ifstream in(c->log());
    std::deque<std::string> tail;
    for (std::string line; std::getline(in, line);) {
      tail.push_back(std::move(line));
      if (tail.size() > kLines) tail.pop_front();
    }
    std::fprintf(stderr, "--- %s (last %zu lines)\n", c->log().c_str(), tail.size());
    for (const auto& line : tail) std::fprintf(stderr, "%s\n", line.c_str());
  }
}

// When each partition's stored checkpoint moved, from polling the store.
class CheckpointWatch {
 public:
  explicit CheckpointWatch(std::string path) : path_(std::move(path)) {}
  // Polls until Stop(); `origin` is time zero of the timelines.
  void Run(Clock::time_point origin) {
    std::unique_ptr<sinks::sqlite::Db> db;
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!db) {
        auto opened = sinks::sqlite::Db::Open(path_, sinks::sqlite::Db::Mode::kReadOnly);
        if (!opened.ok()) continue;  // not created yet
        db = std::move(*opened);
      }
      auto q = db->Prepare("SELECT stream_key, position FROM source");
      if (!q.ok()) continue;  // not migrated yet
      const double now = Seconds(Clock::now() - origin);
      std::lock_guard<std::mutex> lock(mu_);
      while (true) {
        auto row = q->Step();
        if (!row.ok() || !*row) break;
        auto& t = timelines_[q->Text(0)];
        const int64_t position = q->Int(1);
        if (t.empty() || t.back().second != position) t.emplace_back(now, position);
      }
    }
  }
  void Stop() { stop_ = true; }
  std::map<std::string, std::vector<std::pair<double, int64_t>>> Timelines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return timelines_;
  }

 private:
  std::string path_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::pair<double, int64_t>>> timelines_;  // key -> (seconds, position)
};

// Every partition stored something within the last `window` seconds.
bool AllAdvancing(const std::map<std::string, std::vector<std::pair<double, int64_t>>>& timelines, int partitions,
                  double now, double window) {
  if (static_cast<int>(timelines.size()) < partitions) return false;
  for (const auto& [key, t] : timelines) {
    if (t.size() < 2 || now - t.back().first > window) return false;
  }
  return true;
}

Result<int64_t> StoredRecords(const std::string& path) {
  auto db = sinks::sqlite::Db::Open(path, sinks::sqlite::Db::Mode::kReadOnly);
  if (!db.ok()) return db.status();
  auto q = (*db)->Prepare("SELECT (SELECT count(*) FROM fact_event) + (SELECT count(*) FROM dead_letter)");
  if (!q.ok()) return q.status();
  auto row = q->Step();
  if (!row.ok()) return row.status();
  return q->Int(0);
}

int RunBenchFailover(const BenchFailoverOptions& o) {
  int config_status = kExitFailure;
  const auto kafka_properties = LoadKafkaConfig("bench failover", o.kafka_config, &config_status);
  if (!kafka_properties) return config_status;
  auto generated = GenerateBenchEvents(o.corpus, 2000);  // produced round and round
  if (!generated.ok()) {
    spdlog::error("bench failover: {}", generated.status().ToString());
    return kExitFailure;
  }
  auto broker = kafka::DevBroker::Start({.brokers = 1, .topic = "events", .partitions = o.partitions});
  if (!broker.ok()) {
    spdlog::error("bench failover: {}", broker.status().ToString());
    return 1;
  }
  ScratchDir dir("sagaflow-bench-failover");
  const std::string store = (dir.path() / "store.db").string();
  std::string source = "kafka://" + (*broker)->bootstrap() + "/events?group=failover";
  for (const auto& p : o.properties) source += "&" + p;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();

  const auto origin = Clock::now();
  CheckpointWatch watch(store);
  std::thread watcher([&] { watch.Run(origin); });
  std::atomic<bool> producing{true};
  std::atomic<int64_t> produced{0};
  // Written by the producer thread, read after it was joined; the main
  // thread polls only the flag meanwhile.
  Status produce_status;
  std::atomic<bool> produce_failed{false};
  std::thread producer([&] {
    produce_status = [&]() -> Status {
      kafka::Properties producer_properties = *kafka_properties;
      producer_properties.emplace_back("linger.ms", "5");
      auto prod = kafka::KafkaProducer::Open({(*broker)->bootstrap(), "events", std::move(producer_properties)});
      if (!prod.ok()) return prod.status();
      const auto start = Clock::now();
      for (size_t i = 0; producing; ++i) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / o.rate));
        std::this_thread::sleep_until(due);
        const BenchEvent& e = generated->events[i % generated->events.size()];
        SAGAFLOW_RETURN_IF_ERROR((*prod)->Send(e.key, e.event));
        ++produced;
      }
      return (*prod)->Flush(std::chrono::seconds(60));
    }();
    if (!produce_status.ok()) produce_failed = true;
  });
  auto finish_threads = [&] {
    producing = false;
    if (producer.joinable()) producer.join();
    watch.Stop();
    if (watcher.joinable()) watcher.join();
  };

  std::vector<std::string> run_args{self,         "run",   "--source",   source,     "--store",   "sqlite:" + store,
                                    "--model",    o.model, "--entities", o.entities, "--workers", "1",
                                    "--progress", "never"};
  if (!o.kafka_config.empty()) run_args.insert(run_args.end(), {"--kafka-config", o.kafka_config});
  std::vector<std::unique_ptr<Consumer>> consumers;
  for (int i = 0; i < o.consumers; ++i) {
    consumers.push_back(
        std::make_unique<Consumer>(run_args, (dir.path() / ("consumer-" + std::to_string(i) + ".log")).string()));
    if (!consumers.back()->started()) {
      spdlog::error("bench failover: could not start {}", self);
      finish_threads();
      return 1;
    }
  }
  // Steady state: every partition stored within the last second, for at
  // least --warmup seconds after the start.
  const auto warm_deadline = origin + std::chrono::seconds(120);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const double now = Seconds(Clock::now() - origin);
    if (now >= o.warmup && AllAdvancing(watch.Timelines(), o.partitions, now, 1.0)) break;
    if (produce_failed) {
      finish_threads();
      spdlog::error("bench failover: producing: {}", produce_status.ToString());
      return 1;
    }
    if (Clock::now() > warm_deadline) {
      spdlog::error("bench failover: the consumers did not store every partition within 120 s");
      finish_threads();
      PrintLogTails(consumers);
      return 1;
    }
  }
  const double killed_at = Seconds(Clock::now() - origin);
  consumers[0]->Signal(SIGKILL);
  consumers[0]->Wait();
  spdlog::info("bench failover: consumer 0 SIGKILLed at {:.1f} s", killed_at);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.observe));

  // Per partition, the longest stretch without a stored record that ends
  // after the kill: the end is when the partition was consumed again. A
  // partition counts as consumed again only if it is being stored at the end
  // of the observation too (stored within its last second, as in the steady
  // state before the kill): a checkpoint the poll saw just after the kill may
  // have been written just before it.
  const auto timelines = watch.Timelines();
  const double observed_until = Seconds(Clock::now() - origin);
  double failover = 0, largest_gap = 0;
  std::string slowest, gappiest;
  bool all_resumed = static_cast<int>(timelines.size()) == o.partitions;
  for (const auto& [key, t] : timelines) {
    double gap = 0, end = 0;
    for (size_t i = 1; i < t.size(); ++i) {
      if (t[i].first > killed_at && t[i].first - t[i - 1].first > gap) {
        gap = t[i].first - t[i - 1].first;
        end = t[i].first;
      }
    }
    if (gap == 0 || observed_until - t.back().first > 1.0) {
      all_resumed = false;
      spdlog::error("bench failover: {} is not being stored {} s after the kill (last stored {:.1f} s after it)", key,
                    o.observe, t.back().first - killed_at);
      continue;
    }
    if (end - killed_at > failover) failover = end - killed_at, slowest = key;
    if (gap > largest_gap) largest_gap = gap, gappiest = key;
  }

  // Everything produced must end up stored, once.
  producing = false;
  producer.join();
  const int64_t total = produced.load();
  const auto drain_deadline = Clock::now() + std::chrono::seconds(120);
  Result<int64_t> stored = int64_t{0};
  while (Clock::now() < drain_deadline) {
    stored = StoredRecords(store);
    if (stored.ok() && *stored >= total) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // The survivors drain and commit on SIGTERM: exit 0 (run's contract).
  for (auto& c : consumers) c->Signal(SIGTERM);
  bool survivors_ok = true;
  for (size_t i = 1; i < consumers.size(); ++i) {
    const int st = consumers[i]->Wait();
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      survivors_ok = false;
      spdlog::error("bench failover: consumer {} did not exit 0 after SIGTERM (wait status {})", i, st);
    }
  }
  watch.Stop();
  watcher.join();
  stored = StoredRecords(store);
  if (!produce_status.ok() || !stored.ok()) {
    spdlog::error("bench failover: {}", (produce_status.ok() ? stored.status() : produce_status).ToString());
    PrintLogTails(consumers);
    return 1;
  }
  std::string settings = o.properties.empty() ? "sagaflow's defaults" : "";
  for (const auto& p : o.properties) settings += (settings.empty() ? "" : " ") + p;
  if (o.json) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("benchmark"), w.String("failover");
    w.Key("consumers"), w.Int(o.consumers);
    w.Key("partitions"), w.Int(o.partitions);
    w.Key("rate"), w.Double(o.rate);
    w.Key("settings"), w.String(settings);
    w.Key("failover_seconds"), w.Double(failover);
    w.Key("largest_gap_seconds"), w.Double(largest_gap);
    w.Key("produced"), w.Int(total);
    w.Key("stored"), w.Int(*stored);
    w.EndObject();
    out.push_back('\n');
    std::fputs(out.c_str(), stdout);
  } else {
    std::printf("failover: %d consumers of one group, %d partitions (dev broker), %.0f events/s, %s\n", o.consumers,
                o.partitions, o.rate, settings.c_str());
    std::printf("  one consumer SIGKILLed at %.1f s: every partition stored again %.1f s after the kill (last: %s)\n",
                killed_at, failover, slowest.c_str());
    std::printf("  largest gap in stored events: %.1f s (%s)\n", largest_gap, gappiest.c_str());
    std::printf("  produced %s events, stored %s\n", pipeline::Thousands(static_cast<uint64_t>(total)).c_str(),
                pipeline::Thousands(static_cast<uint64_t>(*stored)).c_str());
  }
  if (!all_resumed || !survivors_ok || *stored != total) {
    if (*stored != total) spdlog::error("bench failover: stored {} records of {} produced", *stored, total);
    PrintLogTails(consumers);
    return 1;
  }
  return 0;
}

}  // namespace

void AddBenchFailoverCommand(CLI::App& app) {
  auto o = std::make_shared<BenchFailoverOptions>();
  CLI::App* cmd = BenchCommand(app)->add_subcommand(
      "failover",
      "Time until a SIGKILLed consumer's partitions are consumed again, and the largest gap in stored events");
  cmd->add_option("--corpus", o->corpus, "Texts to make events of (default: $SAGAFLOW_SHARED/corpus/texts.jsonl)")
      ->envname("SAGAFLOW_BENCH_CORPUS");
  cmd->add_option("--model", o->model, "Model JSON")->envname("SAGAFLOW_MODEL")->required();
  cmd->add_option("--entities", o->entities, "Entity dictionary")->envname("SAGAFLOW_ENTITIES")->required();
  cmd->add_option("--consumers", o->consumers, "`sagaflow run` processes in the group (one is killed)")
      ->check(InRange(2, 16))
      ->capture_default_str();
  cmd->add_option("--partitions", o->partitions, "Topic partitions")->check(InRange(1, 256))->capture_default_str();
  cmd->add_option("--rate", o->rate, "Events per second produced (keep the backlog under the dev broker's 5 MB)")
      ->check(InRange(1.0, 100000.0))
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Seconds of steady consumption before the kill")
      ->check(InRange(1.0, 600.0))
      ->capture_default_str();
  cmd->add_option("--observe", o->observe, "Seconds watched after the kill (more than the failover takes)")
      ->check(InRange(1.0, 900.0))
      ->capture_default_str();
  cmd->add_option("--property", o->properties,
                  "KEY=VALUE librdkafka consumer property for the consumers' address, e.g. session.timeout.ms=45000 "
                  "(repeatable)");
  AddKafkaConfigOption(cmd, &o->kafka_config);
  cmd->add_flag("--json", o->json, "One JSON object instead of text");
  cmd->callback([o] { SetExitStatus(RunBenchFailover(*o)); });
}

}  // namespace sagaflow::cli
