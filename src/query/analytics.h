// Analytics: the questions the star schema answers, as one interface every
// store implements (SQLite now, ClickHouse next) with the same results for
// the same events, and every front end uses (the `query` command, the HTTP
// API). Results are plain rows; rendering lives in query/table.h.
//
// Shared semantics (docs/schema.md):
//  - time windows include both ends; an absent bound is open;
//  - top-entities orders by the chosen measure, then the other one, both
//    descending, then by entity name ascending (deterministic ties);
//  - an unknown saga or entity is a kNotFound status whose message names it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace sagaflow::query {

struct TimeRange {
  std::optional<int64_t> from;  // inclusive, unix seconds
  std::optional<int64_t> to;    // inclusive
};

enum class Measure { kMentions, kReaders };

struct TopEntitiesQuery {
  std::string saga;
  TimeRange range;
  int64_t limit = 8;  // 0 = all
  Measure by = Measure::kMentions;
};

struct TopEntityRow {
  std::string entity;
  int64_t mentions = 0;  // total mentions in the saga's events
  int64_t readers = 0;   // total readers of the events that mention it
};

struct SagaRow {
  std::optional<std::string> saga;  // nullopt: events with an empty text
  int64_t events = 0;
  int64_t readers = 0;
};

struct RejectedRow {
  std::string reason;  // events::RejectReasonName
  int64_t events = 0;
};

struct DeadLetter {
  std::string source;  // stream key
  int64_t line = 0;
  int64_t position = 0;
  std::string reason;
  std::string detail;
  std::string excerpt;
};

enum class Bucket { kHour, kDay };

struct TrendQuery {
  std::string entity;               // canonical name (all scopes with that name)
  std::optional<std::string> saga;  // only events classified into this saga
  Bucket bucket = Bucket::kDay;
  TimeRange range;
};

struct TrendRow {
  int64_t time = 0;  // start of the bucket, unix seconds (UTC)
  int64_t mentions = 0;
  int64_t readers = 0;
};

struct SagaTrendRow {
  std::optional<std::string> saga;  // nullopt: events with an empty text
  int64_t time = 0;                 // start of the bucket, unix seconds (UTC)
  int64_t events = 0;
  int64_t readers = 0;
};

// Analytics objects are not thread-safe: one thread at a time uses one (the
// HTTP server leases one per request from a pool; a SQLite one owns its own
// connection, a ClickHouse one its own HTTP client).
class Analytics {
 public:
  virtual ~Analytics() = default;
  // Top entities of a saga: the prototype's analytics.sql.
  virtual Result<std::vector<TopEntityRow>> TopEntities(const TopEntitiesQuery& q) = 0;
  // Events and readers per known saga (zeros included, in name order), then
  // one row for empty texts (saga = nullopt).
  virtual Result<std::vector<SagaRow>> Sagas(const TimeRange& range) = 0;
  // Dead-lettered records per reason, most frequent first, then by reason.
  virtual Result<std::vector<RejectedRow>> Rejected() = 0;
  // The newest dead letters, newest first (at most `limit`, 0 = all).
  virtual Result<std::vector<DeadLetter>> DeadLetters(int64_t limit) = 0;
  // Mentions and readers of an entity per time bucket, oldest first; buckets
  // without mentions are omitted.
  virtual Result<std::vector<TrendRow>> Trend(const TrendQuery& q) = 0;
  // Events and readers per saga per time bucket (readers per saga over
  // time), ordered by bucket, then saga name with empty texts (saga =
  // nullopt) last; (saga, bucket) pairs without events are omitted.
  virtual Result<std::vector<SagaTrendRow>> SagaTrend(const TimeRange& range, Bucket bucket) = 0;
  // A cheap query proving the store answers (readiness probes).
  virtual Status Ping() = 0;
};

}  // namespace sagaflow::query
