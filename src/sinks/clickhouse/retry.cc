#include "sinks/clickhouse/retry.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace sagaflow::sinks::clickhouse {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds Backoff(const RetryPolicy& policy, uint32_t attempt, std::mt19937_64& rng) {
  const int64_t initial = std::max<int64_t>(1, policy.initial.count());
  const int64_t cap = std::max(initial, static_cast<int64_t>(policy.max.count()));
  int64_t d = initial;
  for (uint32_t i = 1; i < attempt && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  std::uniform_int_distribution<int64_t> jitter(d / 2, d);
  return std::chrono::milliseconds(jitter(rng));
}

Retrier::Retrier(RetryPolicy policy, std::string what, const std::atomic<bool>* stop)
    : policy_(policy), what_(std::move(what)), stop_(stop), rng_(std::random_device{}()) {}

Status Retrier::Run(std::string_view operation, const std::function<Status()>& op) {
  const auto start = Clock::now();
  auto last_log = start;
  uint32_t attempt = 0;
  for (;;) {
    Status st = op();
    if (st.code() != Status::Code::kUnavailable) {
      if (!st.ok()) stats_.not_retriable.fetch_add(1, std::memory_order_relaxed);
      if (attempt > 0 && st.ok()) {
        spdlog::info("{}: {} succeeded after {} retries ({:.1f} s)", what_, operation, attempt,
                     std::chrono::duration<double>(Clock::now() - start).count());
      }
      return st;
    }
    const auto elapsed = Clock::now() - start;
    const bool give_up = policy_.give_up_after.count() > 0 && elapsed >= policy_.give_up_after;
    if (give_up || (stop_ && stop_->load())) {
      stats_.gave_up.fetch_add(1, std::memory_order_relaxed);
      return Status::Unavailable(fmt::format("{} (gave up {} after {} retries, {:.1f} s)", st.message(), operation,
                                             attempt, std::chrono::duration<double>(elapsed).count()));
    }
    if (attempt == 0) stats_.outages.fetch_add(1, std::memory_order_relaxed);
    ++attempt;
    stats_.retries.fetch_add(1, std::memory_order_relaxed);
    std::chrono::milliseconds wait;
    {
      std::lock_guard<std::mutex> lock(rng_mu_);
      wait = Backoff(policy_, attempt, rng_);
    }
    // The first failure, then at most one line per 30 s while it lasts.
    if (attempt == 1 || Clock::now() - last_log >= std::chrono::seconds(30)) {
      last_log = Clock::now();
      spdlog::warn("{}: {} failed (retry {} in {} ms): {}", what_, operation, attempt, wait.count(), st.message());
    }
    // Sleep in slices so that a stop request is seen promptly.
    const auto until = Clock::now() + wait;
    while (Clock::now() < until && !(stop_ && stop_->load())) {
      std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
    }
    stats_.waited_ms.fetch_add(static_cast<uint64_t>(wait.count()), std::memory_order_relaxed);
  }
}

Result<std::string> RetriedQuery(ClickHouseClient& client, Retrier& retrier, std::string_view what,
                                 const std::string& sql, bool use_database) {
  Result<std::string> body = Status::Internal("unset");
  SAGAFLOW_RETURN_IF_ERROR(retrier.Run(what, [&] {
    body = client.Query(sql, use_database);
    return body.ok() ? Status::Ok() : body.status();
  }));
  return body;
}

}  // namespace sagaflow::sinks::clickhouse
