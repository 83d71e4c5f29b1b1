// SqliteAnalytics: query::Analytics over a SQLite store written by
// SqliteSink. Opens the database read-only; safe beside a running writer
// (WAL readers see the last committed batch). Windows are answered from the
// rollups for whole days and hours, from the facts for the partial hours at
// their edges (docs/schema.md#rollups): the same results as the facts alone.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "query/analytics.h"
#include "query/rollup_plan.h"
#include "sinks/sqlite/sqlite_db.h"

namespace sagaflow::sinks::sqlite {

class SqliteAnalytics final : public query::Analytics {
 public:
  // kNotFound if there is no database at `path`; kInvalidArgument if it is
  // not a sagaflow store; kUnsupported if its schema is newer than ours.
  static Result<std::unique_ptr<SqliteAnalytics>> Open(const std::string& path);

  Result<std::vector<query::TopEntityRow>> TopEntities(const query::TopEntitiesQuery& q) override;
  Result<std::vector<query::SagaRow>> Sagas(const query::TimeRange& range) override;
  Result<std::vector<query::RejectedRow>> Rejected() override;
  Result<std::vector<query::DeadLetter>> DeadLetters(int64_t limit) override;
  Result<std::vector<query::TrendRow>> Trend(const query::TrendQuery& q) override;
  Result<std::vector<query::SagaTrendRow>> SagaTrend(const query::TimeRange& range, query::Bucket bucket) override;
  Status Ping() override;

 private:
  explicit SqliteAnalytics(std::unique_ptr<Db> db) : db_(std::move(db)) {}
  Result<int64_t> SagaIdOf(const std::string& name);
  Result<std::unordered_map<int64_t, std::string>> EntityNames();
  Result<std::vector<std::pair<int64_t, std::string>>> SagaNames();  // by name
  // (bucket start, saga id or 0 for empty texts) -> events, readers; width
  // 0 puts the whole range in bucket 0.
  Result<std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>>> SagaTotals(const query::TimeRange& range,
                                                                                        int64_t width);
  // The rows of `span` (within one hour) may only be in this key range of
  // the fact table (event_key, or fact_readers' rowid): its hour's zone.
  // first > second: none.
  using RowRange = std::pair<int64_t, int64_t>;
  Result<RowRange> FactRows(const char* table, const query::Span& span);
  // Runs `SELECT select FROM (rows) WHERE where GROUP BY 1, 2` for every span
  // of the window, rows being the span's rollup or fact rows with columns
  // saga_id, [entity_id,] t, [mentions,] readers, events. `bind` binds
  // parameters ?1..?5 of `where`; `row` receives the result rows.
  enum class Family { kEntity, kSaga };
  Status ForEachSpan(const query::TimeRange& range, bool use_days, Family family, const std::string& select,
                     const std::string& where, const std::function<void(Statement&)>& bind,
                     const std::function<void(Statement&)>& row);
  Status SpansInTransaction(const query::TimeRange& range, bool use_days, Family family, const std::string& select,
                            const std::string& where, const std::function<void(Statement&)>& bind,
                            const std::function<void(Statement&)>& row);
  std::unique_ptr<Db> db_;
  Statement zone_event_, zone_readers_;
};

}  // namespace sagaflow::sinks::sqlite
