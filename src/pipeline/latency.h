// Latency distributions the pipeline and its stores record for monitoring
// (Prometheus histograms on /metrics): fixed buckets, lock-free updates from
// any thread, consistent-enough reads at any time.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sagaflow::pipeline {

class LatencyHistogram {
 public:
  // Upper bounds in seconds, 1 ms .. 60 s (+Inf is implicit).
  static constexpr std::array<double, 15> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,      2.5,   5,    10,    30,   60};
  struct Snapshot {
    std::array<uint64_t, kBounds.size() + 1> cumulative{};  // per bound, +Inf last
    double sum = 0;                                         // seconds
    uint64_t count = 0;
  };

  void Observe(double seconds) noexcept;
  Snapshot Read() const noexcept;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> sum_micros_{0};
};

// What a store reports about its own requests: how long each write request
// took, per table (or "batch" for a store that writes a batch as one
// transaction), and whether its last request succeeded. Thread-safe.
class StoreStats {
 public:
  StoreStats(std::string store, std::vector<std::string> tables);
  const std::string& store() const { return store_; }  // "sqlite", "clickhouse"
  const std::vector<std::string>& tables() const { return tables_; }
  LatencyHistogram& insert_seconds(size_t table) { return insert_seconds_[table]; }
  const LatencyHistogram& insert_seconds(size_t table) const { return insert_seconds_[table]; }
  // 1 from a successful request on, 0 from a failed or retried one on.
  void SetUp(bool up) noexcept { up_.store(up, std::memory_order_relaxed); }
  bool up() const noexcept { return up_.load(std::memory_order_relaxed); }

 private:
  std::string store_;
  std::vector<std::string> tables_;
  std::unique_ptr<LatencyHistogram[]> insert_seconds_;
  std::atomic<bool> up_{true};
};

}  // namespace sagaflow::pipeline
