// Retrier: repeats an operation that failed with a retriable error
// (Status kUnavailable, see clickhouse_client.h) with bounded exponential
// backoff and jitter, until it succeeds, fails for good, the policy's
// give-up time passes, or a stop is requested. It holds nothing but the
// operation's own inputs, so memory stays bounded however long an outage
// lasts.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>

#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/clickhouse_config.h"
#include "util/status.h"

namespace sagaflow::sinks::clickhouse {

// The wait before retry number `attempt` (1 = first retry): a uniform draw
// from [d/2, d] where d = min(max, initial * 2^(attempt-1)) ("equal jitter":
// never hammering, never waiting more than the cap).
std::chrono::milliseconds Backoff(const RetryPolicy& policy, uint32_t attempt, std::mt19937_64& rng);

// Counters of all retried operations, readable from any thread.
struct RetryStats {
  std::atomic<uint64_t> retries{0};        // attempts after a retriable failure
  std::atomic<uint64_t> outages{0};        // operations that needed at least one retry
  std::atomic<uint64_t> gave_up{0};        // operations abandoned (give-up time, stop)
  std::atomic<uint64_t> waited_ms{0};      // time spent in backoff
  std::atomic<uint64_t> not_retriable{0};  // operations failed by a non-retriable error
};

class Retrier {
 public:
  // `stop` (may be null) ends the retries early when set; `what` names the
  // store in logs.
  Retrier(RetryPolicy policy, std::string what, const std::atomic<bool>* stop = nullptr);

  // Runs op() until it does not return kUnavailable (then returns that), or
  // gives up (returns the last kUnavailable, with the retry count added).
  // `operation` names it in logs ("insert into fact_event"). Thread-safe:
  // several threads may run operations at once.
  Status Run(std::string_view operation, const std::function<Status()>& op);

  const RetryStats& stats() const { return stats_; }

 private:
  RetryPolicy policy_;
  std::string what_;
  const std::atomic<bool>* stop_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // guarded by rng_mu_
  RetryStats stats_;
};

// client.Query(sql, use_database) through `retrier`: the answer's body, or
// the error that ended the retries.
Result<std::string> RetriedQuery(ClickHouseClient& client, Retrier& retrier, std::string_view what,
                                 const std::string& sql, bool use_database = true);

}  // namespace sagaflow::sinks::clickhouse
