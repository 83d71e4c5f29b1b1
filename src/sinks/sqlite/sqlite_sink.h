// SqliteSink: the star schema in an embedded SQLite database (WAL mode).
// Each batch is one transaction holding its facts, its dead letters, the
// rollups and zone maps they change (docs/schema.md#rollups) and the
// checkpoints it advances, so the stored position and the stored rows can
// never disagree, whatever moment the process dies at.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "pipeline/sink.h"
#include "sinks/sqlite/sqlite_db.h"
#include "util/flat_map.h"

namespace sagaflow::sinks::sqlite {

struct SqliteOptions {
  // PRAGMA synchronous: NORMAL survives process crashes (SIGKILL) and stays
  // consistent on power loss (the newest transactions may roll back, their
  // source positions with them); FULL also makes each commit survive power loss.
  std::string synchronous = "NORMAL";
  // PRAGMA page_size of a database this sink creates (a power of two from
  // 512 to 65536); an existing database keeps the size it was made with.
  // Large pages: a batch's facts fill a few large WAL frames instead of many
  // small ones, so the writer makes fewer system calls (see Open).
  int page_size = kDefaultPageSize;
  static constexpr int kDefaultPageSize = 65536;
};

class SqliteSink final : public pipeline::Sink {
 public:
  static Result<std::unique_ptr<SqliteSink>> Open(const std::string& path, const SqliteOptions& options = {});
  ~SqliteSink() override;

  std::string Describe() const override { return "sqlite:" + db_->path(); }
  Status Prepare(const pipeline::Dimensions& dimensions) override;
  // synchronous=FULL: in WAL mode NORMAL syncs only at checkpoints, so the
  // newest commits can roll back on power loss although they were acknowledged.
  Status RequirePowerLossDurability() override;
  // The PRAGMA synchronous in force: "NORMAL" or "FULL".
  Result<std::string> Synchronous();
  Result<std::optional<sources::Checkpoint>> LoadCheckpoint(std::string_view stream_key) override;
  Result<pipeline::WriteReport> Write(const pipeline::Batch& batch) override;
  // One "batch" latency per Write() (a batch is one transaction).
  const pipeline::StoreStats* stats() const noexcept override { return &stats_; }

 private:
  explicit SqliteSink(std::unique_ptr<Db> db) : db_(std::move(db)) {}
  Result<int64_t> EnsureSource(const pipeline::StreamCheckpoint& stream);
  Result<pipeline::WriteReport> WriteTransaction(const pipeline::Batch& batch);
  Status WriteRows(const pipeline::Batch& batch, pipeline::WriteReport* report);
  // fact_readers rows go out kMentionsPerInsert at a time: one statement
  // execution per many rows is most of the writer's speed.
  struct PendingMention {
    int64_t event_key, entity_id, saga_id, mentions, readers, time;
  };
  Status FlushMentions(bool all);
  std::vector<PendingMention> pending_;
  // What the batch's new rows add to the rollups and zones, written by
  // WriteRollups() at the end of the transaction. Keys (sqlite_sink.cc):
  // hour or day number, saga slot, entity index; sums: mentions, readers,
  // events (entities), events, readers (sagas), event_key min, max and
  // fact_readers rows (zones, keyed by hour number).
  struct Sums {
    int64_t a, b, c;
  };
  FlatMap<uint64_t, Sums> entity_hours_, saga_hours_, zones_, entity_days_, saga_days_;
  int64_t readers_rowid_before_ = 0;  // max(rowid) of fact_readers when the transaction began
  int64_t days_until_ = 0;            // rollup_state.days_until when the transaction began
  Status WriteRollups();
  // Folds the hours of the days from days_until_ to `newest_day` (a day
  // start) into the day rollups and moves days_until_ there.
  Status FoldDays(int64_t newest_day);

  std::unique_ptr<Db> db_;
  std::vector<int64_t> saga_ids_;                           // Dimensions::sagas[i].id
  std::vector<int64_t> entity_ids_;                         // Dimensions::entities[i].id
  std::unordered_map<std::string, int64_t> known_sources_;  // stream keys whose source row is committed
  pipeline::StoreStats stats_{"sqlite", {"batch"}};
  Statement insert_source_, insert_event_, insert_mention_, insert_mentions_, insert_dead_letter_, update_source_;
  Statement entity_hour_, entity_day_, saga_hour_, saga_day_, zone_event_, zone_readers_, max_readers_rowid_;
  Statement read_days_until_, fold_entity_days_, fold_saga_days_, set_days_until_;
};

}  // namespace sagaflow::sinks::sqlite
