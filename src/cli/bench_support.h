// What the end-to-end benchmarks (`bench pipeline`, `bench kafka`, `bench failover`) share:
// the `bench` command they hang under, their common flags, a scratch
// directory and the generated shared-corpus events.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "events/event_generator.h"
#include "util/status.h"

namespace sagaflow::cli {

// A steady-clock duration in seconds.
inline double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The `bench` subcommand of `app`, created if no other file added it yet.
CLI::App* BenchCommand(CLI::App& app);

// The median of `v` (the mean of the middle two for an even size); 0 when empty.
inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Flags of every end-to-end benchmark.
struct EndToEndBenchOptions {
  std::string corpus;  // empty: $SAGAFLOW_SHARED/corpus/texts.jsonl
  uint64_t count = 50000;
  std::string model;
  std::string entities;
  size_t workers = std::max(1u, std::thread::hardware_concurrency());
  size_t batch_size = 0;  // 0: the store's default (as `run`)
  bool json = false;
};

// --corpus, --count, --model, --entities, --workers, --batch-size, --json.
void AddEndToEndBenchOptions(CLI::App* cmd, EndToEndBenchOptions* o);

// A fresh directory under the system's temporary directory, deleted with
// everything in it on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The texts of `corpus` (empty: $SAGAFLOW_SHARED/corpus/texts.jsonl).
Result<std::vector<events::SourceText>> LoadBenchCorpus(const std::string& corpus);

// `count` events from the corpus's texts, picked at random (seeded), one
// second apart from a fixed time: the same events on every run.
struct BenchEvent {
  std::string key;    // the article id as JSON (the Kafka message key)
  std::string event;  // the event's JSON line, without newline
};
struct BenchEvents {
  std::vector<BenchEvent> events;
  uint64_t bytes = 0;  // sum of the events' sizes
};
Result<BenchEvents> GenerateBenchEvents(const std::string& corpus, uint64_t count);

}  // namespace sagaflow::cli
