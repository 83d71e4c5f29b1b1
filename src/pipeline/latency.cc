#include "pipeline/latency.h"

#include <algorithm>

namespace sagaflow::pipeline {

void LatencyHistogram::Observe(double seconds) noexcept {
  if (!(seconds >= 0)) seconds = 0;  // also NaN
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(std::min(seconds, 1e9) * 1e6), std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::Read() const noexcept {
  Snapshot s;
  uint64_t total = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.count = total;
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

StoreStats::StoreStats(std::string store, std::vector<std::string> tables)
    : store_(std::move(store)),
      tables_(std::move(tables)),
      insert_seconds_(std::make_unique<LatencyHistogram[]>(tables_.size())) {}

}  // namespace sagaflow::pipeline
