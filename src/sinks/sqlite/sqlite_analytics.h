// SqliteAnalytics: query::Analytics over a SQLite store written by
// SqliteSink. Opens the database read-only; safe beside a running writer
// (WAL readers see the last committed batch).
#pragma once

#include <memory>
#include <string>

#include "query/analytics.h"
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
  std::unique_ptr<Db> db_;
};

}  // namespace sagaflow::sinks::sqlite
