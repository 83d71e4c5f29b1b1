// ClickHouseSink: the star schema in ClickHouse over its HTTP interface.
//
// ClickHouse has no transactions, so a batch is written as four inserts in
// an order that makes every crash point safe (docs/clickhouse.md):
//   1. fact_readers  the mentions of the batch's new events,
//   2. fact_event    its new events,
//   3. dead_letter   its new dead letters,
//   4. source        its checkpoints, last.
// The rollups (rollups.h) go in beside 1-3, on a connection of their own,
// and before 4. A crash before 4 leaves rows without their checkpoint: the next run reads
// those records again, finds their events already stored (a primary-key
// lookup per batch until a batch of the stream finds none: a writer stores
// a stream in position order, so what follows is new) and skips them. Whatever slips through that
// check (a timed-out insert that did land, two writers racing) is a copy
// with the same sorting key: ReplacingMergeTree merges it away and every
// query collapses it meanwhile, so a redelivered record never changes a
// result. Where the server supports insert_deduplication_token, each insert
// also carries a token derived from its content.
//
// Retriable errors (kUnavailable: server down, overloaded, timeouts) are
// retried inside Write() with bounded exponential backoff for as long as the
// URI's retry_give_up_s allows (for ever by default); the pipeline holds its
// bounded set of batches meanwhile. A non-retriable error (kInvalidArgument:
// the server refused the rows or the statement) fails Write() at once,
// before the checkpoints: the pipeline stops and nothing is acknowledged
// past the refused rows.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pipeline/sink.h"
#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/migrations.h"
#include "sinks/clickhouse/retry.h"
#include "sinks/clickhouse/rollups.h"

namespace sagaflow::sinks::clickhouse {

class ClickHouseSink final : public pipeline::Sink {
 public:
  static Result<std::unique_ptr<ClickHouseSink>> Open(const ClickHouseConfig& config);
  ~ClickHouseSink() override;

  std::string Describe() const override { return client_->config().Describe(); }
  Status Prepare(const pipeline::Dimensions& dimensions) override;
  Result<std::optional<sources::Checkpoint>> LoadCheckpoint(std::string_view stream_key) override;
  Result<pipeline::WriteReport> Write(const pipeline::Batch& batch) override;

  // Ends a retry loop early (thread-safe): the pending Write() then fails
  // with kUnavailable, having acknowledged nothing it did not store.
  void Abandon() noexcept override { stop_.store(true); }

  const pipeline::StoreStats* stats() const noexcept override { return &stats_; }
  const RetryStats& retry_stats() const { return retrier_.stats(); }
  // Requests sent over all the sink's connections.
  uint64_t requests() const;
  const ServerFeatures& features() const { return features_; }

 private:
  explicit ClickHouseSink(std::unique_ptr<ClickHouseClient> client);
  Status UpsertDimensions(const pipeline::Dimensions& dims);
  Result<pipeline::WriteReport> WriteBatch(const pipeline::Batch& batch);
  // Positions of the batch's records already stored, per batch stream:
  // (*events)[s] and (*dead)[s], sorted.
  Status StoredPositions(const pipeline::Batch& batch, const std::vector<uint64_t>& source_ids,
                         std::vector<std::vector<uint64_t>>* events, std::vector<std::vector<uint64_t>>* dead);
  Result<int64_t> FirstSeen(const pipeline::StreamCheckpoint& stream, uint64_t source_id);
  // Through `client`: client_ or rollup_client_ (one thread per client).
  Status InsertRows(ClickHouseClient& client, const char* table, const char* columns, const std::string& rows);
  Result<std::string> Select(ClickHouseClient& client, std::string_view what, const std::string& sql);
  Result<std::string> Select(std::string_view what, const std::string& sql) { return Select(*client_, what, sql); }
  // The batch's rollup rows (rollups.h), read back and inserted on
  // rollup_client_.
  Status WriteRollups(const pipeline::Batch& batch, const std::vector<uint64_t>& source_ids);

  std::unique_ptr<ClickHouseClient> client_;
  // Another connection, for the rollups of a batch, which run at the same
  // time as the facts' inserts on client_.
  std::unique_ptr<ClickHouseClient> rollup_client_;
  std::atomic<bool> stop_{false};
  pipeline::StoreStats stats_{
      "clickhouse", {"fact_readers", "fact_event", "dead_letter", "source", "dim_saga", "dim_entity", kRollupTable}};
  Retrier retrier_;
  ServerFeatures features_;
  bool prepared_ = false;
  std::vector<uint64_t> saga_ids_;                       // Dimensions::sagas[i].id
  std::vector<uint64_t> entity_ids_;                     // Dimensions::entities[i].id
  std::unordered_map<std::string, int64_t> first_seen_;  // stream key -> first_seen_at
  // Stream key -> a position from which on no record of the stream is
  // stored (learnt from a duplicate check that found none, moved past each
  // batch written): batches entirely beyond it skip the check. A writer
  // racing on the same stream can make it wrong; the queries' collapse
  // keeps results exact then, only the duplicate count is lower.
  std::unordered_map<std::string, uint64_t> new_from_;
  // The rollup prefixes of the streams this sink writes (rollups.h); only
  // WriteRollups' thread uses it during a batch.
  KnownPrefixes known_;
};

}  // namespace sagaflow::sinks::clickhouse
