// ClickHouseAnalytics: query::Analytics over a ClickHouse store written by
// ClickHouseSink, with the same results as SqliteAnalytics for the same
// events (docs/schema.md semantics; tested differentially).
//
// Every query first collapses copies of a row (GROUP BY the row's key with
// any(): copies are identical, so any() is exact) and then aggregates; this
// is correct before merges have run and costs one hash aggregation over the
// rows the filters select. Names are joined and results ordered in C++ with
// the SQLite store's byte-wise order, so ties break identically. Safe beside
// a running writer: a query sees the inserts that completed before it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "query/analytics.h"
#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/retry.h"

namespace sagaflow::sinks::clickhouse {

class ClickHouseAnalytics final : public query::Analytics {
 public:
  // kNotFound if the database does not exist; kInvalidArgument if it is not
  // a sagaflow store; kUnsupported if its schema is newer than ours;
  // kUnavailable if the server cannot be reached (retried for
  // retry_give_up_s, 10 s by default).
  static Result<std::unique_ptr<ClickHouseAnalytics>> Open(const ClickHouseConfig& config);

  Result<std::vector<query::TopEntityRow>> TopEntities(const query::TopEntitiesQuery& q) override;
  Result<std::vector<query::SagaRow>> Sagas(const query::TimeRange& range) override;
  Result<std::vector<query::RejectedRow>> Rejected() override;
  Result<std::vector<query::DeadLetter>> DeadLetters(int64_t limit) override;
  Result<std::vector<query::TrendRow>> Trend(const query::TrendQuery& q) override;
  Result<std::vector<query::SagaTrendRow>> SagaTrend(const query::TimeRange& range, query::Bucket bucket) override;
  Status Ping() override;
  // What its requests are sent with (read_only is always set).
  const ClickHouseConfig& config() const { return client_->config(); }

 private:
  ClickHouseAnalytics(std::unique_ptr<ClickHouseClient> client, RetryPolicy retry);
  // Runs a SELECT (FORMAT TabSeparated appended) with retries and parses it.
  Result<std::vector<std::vector<std::string>>> Rows(std::string_view what, const std::string& sql, size_t columns);
  Result<uint64_t> SagaIdOf(const std::string& name);
  // id -> name of every saga (or entity) in the store.
  Result<std::unordered_map<uint64_t, std::string>> Names(const char* table, const char* id_column);

  std::unique_ptr<ClickHouseClient> client_;
  Retrier retrier_;
};

// The SQL condition selecting times in `range` (both ends included) from a
// UInt32 `time` column: "time >= A AND time <= B", or "0" when the range
// cannot hold a stored time. Exposed for tests.
std::string TimeCondition(const query::TimeRange& range);

}  // namespace sagaflow::sinks::clickhouse
