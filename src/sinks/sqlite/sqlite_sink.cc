#include "sinks/sqlite/sqlite_sink.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "sinks/sqlite/migrations.h"

namespace sagaflow::sinks::sqlite {

namespace {

Status Assign(Result<Statement> r, Statement* out) {
  if (!r.ok()) return r.status();
  *out = std::move(*r);
  return Status::Ok();
}

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

constexpr int kMentionsPerInsert = 64;
constexpr int kMentionColumns = 6;

// OR FAIL, not the default ABORT: a statement that inserts many rows and
// may abort halfway needs a statement journal, a copy of every page it
// changes (64 KiB pages) to undo its own rows, which cost a quarter of the
// insert (callgrind). A failure here rolls the whole batch back anyway.
std::string MultiRowMentionInsert() {
  std::string sql = "INSERT OR FAIL INTO fact_readers(event_key, entity_id, saga_id, mentions, readers, time) VALUES ";
  for (int r = 0; r < kMentionsPerInsert; ++r) {
    sql += r ? ",(" : "(";
    for (int c = 0; c < kMentionColumns; ++c) {
      sql += (c ? ",?" : "?") + std::to_string(r * kMentionColumns + c + 1);
    }
    sql += ")";
  }
  return sql;
}

// Keys of the batch's sums: the bucket number (time / 3600 or / 86400;
// times are below 2^32, so below 2^21), the saga slot (index into
// Dimensions::sagas + 1, 0 for no saga; below 2^11, Prepare) and the entity
// index (below 2^32).
constexpr int kSagaSlotBits = 11;
constexpr uint64_t kMaxSagaSlots = uint64_t{1} << kSagaSlotBits;
uint64_t EntityKey(uint64_t bucket_no, uint64_t saga_slot, uint64_t entity) {
  return bucket_no << (32 + kSagaSlotBits) | saga_slot << 32 | entity;
}
uint64_t EntityKeyBucket(uint64_t key) { return key >> (32 + kSagaSlotBits); }
uint64_t EntityKeySaga(uint64_t key) { return (key >> 32) & (kMaxSagaSlots - 1); }
uint64_t EntityKeyEntity(uint64_t key) { return key & 0xFFFFFFFFu; }
uint64_t SagaKey(uint64_t bucket_no, uint64_t saga_slot) { return bucket_no << kSagaSlotBits | saga_slot; }
uint64_t SagaKeyBucket(uint64_t key) { return key >> kSagaSlotBits; }
uint64_t SagaKeySaga(uint64_t key) { return key & (kMaxSagaSlots - 1); }

// Adds a batch's sums to a rollup row: INSERT of the key columns, then the
// sum columns (parameters in that order), adding to a stored row.
std::string RollupUpsert(const char* table, std::initializer_list<const char*> keys,
                         std::initializer_list<const char*> sums) {
  std::string columns, params, set;
  int n = 0;
  for (const char* c : keys) columns += fmt::format("{}{}", n++ ? ", " : "", c);
  for (const char* c : sums) {
    columns += fmt::format(", {}", c);
    set += fmt::format("{0}{1} = {1} + excluded.{1}", set.empty() ? "" : ", ", c);
    ++n;
  }
  for (int i = 1; i <= n; ++i) params += fmt::format("{}?{}", i > 1 ? ", " : "", i);
  return fmt::format("INSERT INTO {}({}) VALUES ({}) ON CONFLICT DO UPDATE SET {}", table, columns, params, set);
}

}  // namespace

Result<std::unique_ptr<SqliteSink>> SqliteSink::Open(const std::string& path, const SqliteOptions& options) {
  if (options.synchronous != "NORMAL" && options.synchronous != "FULL") {
    return Status::InvalidArgument("synchronous must be NORMAL or FULL");
  }
  if (options.page_size < 512 || options.page_size > 65536 || (options.page_size & (options.page_size - 1)) != 0) {
    return Status::InvalidArgument("page_size must be a power of two from 512 to 65536");
  }
  auto db = Db::Open(path, Db::Mode::kReadWriteCreate);
  if (!db.ok()) return db.status();
  // Before WAL mode: a database's page size is fixed once it has a header.
  // 64 KiB pages: a batch commits in 16x fewer WAL frames (two pwrite calls
  // each) than with SQLite's default 4 KiB, for 3-12% more events/s in
  // `bench pipeline`; the cost is a larger minimum write per commit (a few
  // dirty pages), which only a trickle of tiny batches notices.
  SAGAFLOW_RETURN_IF_ERROR((*db)->Exec("PRAGMA page_size = " + std::to_string(options.page_size)));
  // WAL: readers (queries, a dashboard) never block the writer, and a commit
  // appends to the log instead of rewriting pages in place.
  SAGAFLOW_RETURN_IF_ERROR((*db)->Exec("PRAGMA journal_mode = WAL"));
  SAGAFLOW_RETURN_IF_ERROR((*db)->Exec("PRAGMA synchronous = " + options.synchronous));
  // 8 MiB: the writer appends, so it needs only the right edges of its
  // B-trees. A cache larger than the database (it was 64 MiB) fills with
  // fresh memory, one page fault and kernel zeroing per new page, and
  // `bench pipeline` ran 10-15% slower with it.
  SAGAFLOW_RETURN_IF_ERROR((*db)->Exec("PRAGMA cache_size = -8192"));
  SAGAFLOW_RETURN_IF_ERROR((*db)->Exec("PRAGMA temp_store = MEMORY"));
  return std::unique_ptr<SqliteSink>(new SqliteSink(std::move(*db)));
}

SqliteSink::~SqliteSink() = default;

Status SqliteSink::RequirePowerLossDurability() { return db_->Exec("PRAGMA synchronous = FULL"); }

Result<std::string> SqliteSink::Synchronous() {
  auto q = db_->Prepare("PRAGMA synchronous");
  if (!q.ok()) return q.status();
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal("PRAGMA synchronous answered nothing");
  switch (q->Int(0)) {
    case 1:
      return std::string("NORMAL");
    case 2:
      return std::string("FULL");
    default:
      return std::to_string(q->Int(0));
  }
}

Status SqliteSink::Prepare(const pipeline::Dimensions& dims) {
  if (dims.sagas.size() >= kMaxSagaSlots) {
    return Status::InvalidArgument(
        fmt::format("{} sagas: the SQLite store takes at most {}", dims.sagas.size(), kMaxSagaSlots - 1));
  }
  SAGAFLOW_RETURN_IF_ERROR(Migrate(*db_));
  SAGAFLOW_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  auto upsert = [&]() -> Status {
    auto saga = db_->Prepare("INSERT INTO dim_saga(saga_id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
    auto saga_check = db_->Prepare("SELECT name FROM dim_saga WHERE saga_id = ?1");
    // The kind is a type-1 attribute: a corrected dictionary updates it.
    auto entity = db_->Prepare(
        "INSERT INTO dim_entity(entity_id, name, saga_id, kind) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT(entity_id) DO UPDATE SET kind = excluded.kind "
        "WHERE name = excluded.name AND saga_id IS excluded.saga_id");
    auto entity_check = db_->Prepare("SELECT name, coalesce(saga_id, 0) FROM dim_entity WHERE entity_id = ?1");
    for (auto* r : {&saga, &saga_check, &entity, &entity_check}) {
      if (!r->ok()) return r->status();
    }
    saga_ids_.clear();
    for (const auto& s : dims.sagas) {
      saga->Bind(1, s.id);
      saga->Bind(2, s.name);
      SAGAFLOW_RETURN_IF_ERROR(saga->Run());
      saga_check->Bind(1, s.id);
      auto row = saga_check->Step();
      if (!row.ok()) return row.status();
      if (!*row || saga_check->Text(0) != s.name) {
        return Status::Corruption(fmt::format("dim_saga: id {} of saga \"{}\" is taken by \"{}\"", s.id, s.name,
                                              *row ? saga_check->Text(0) : ""));
      }
      saga_check->Reset();
      saga_ids_.push_back(s.id);
    }
    entity_ids_.clear();
    for (const auto& e : dims.entities) {
      entity->Bind(1, e.id);
      entity->Bind(2, e.name);
      entity->Bind(3, e.saga_id ? std::optional<int64_t>(e.saga_id) : std::nullopt);
      entity->Bind(4, e.kind);
      SAGAFLOW_RETURN_IF_ERROR(entity->Run());
      entity_check->Bind(1, e.id);
      auto row = entity_check->Step();
      if (!row.ok()) return row.status();
      if (!*row || entity_check->Text(0) != e.name || entity_check->Int(1) != e.saga_id) {
        return Status::Corruption(
            fmt::format("dim_entity: id {} of entity \"{}\" is taken by another entity", e.id, e.name));
      }
      entity_check->Reset();
      entity_ids_.push_back(e.id);
    }
    return Status::Ok();
  };
  Status st = upsert();
  if (!st.ok()) {
    db_->Exec("ROLLBACK");
    return st;
  }
  SAGAFLOW_RETURN_IF_ERROR(db_->Exec("COMMIT"));

  SAGAFLOW_RETURN_IF_ERROR(
      Assign(db_->Prepare("INSERT INTO source(source_id, stream_key, description, first_seen_at, updated_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT DO NOTHING"),
             &insert_source_));
  SAGAFLOW_RETURN_IF_ERROR(Assign(
      db_->Prepare("INSERT INTO fact_event(source_id, position, line, article_id, saga_id, readers, time, status) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(source_id, position) DO NOTHING"),
      &insert_event_));
  SAGAFLOW_RETURN_IF_ERROR(
      Assign(db_->Prepare("INSERT INTO fact_readers(event_key, entity_id, saga_id, mentions, readers, time) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
             &insert_mention_));
  SAGAFLOW_RETURN_IF_ERROR(Assign(db_->Prepare(MultiRowMentionInsert()), &insert_mentions_));
  SAGAFLOW_RETURN_IF_ERROR(Assign(
      db_->Prepare("INSERT INTO dead_letter(source_id, position, line, reason, detail, excerpt, payload_bytes, "
                   "received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(source_id, position) DO NOTHING"),
      &insert_dead_letter_));
  for (auto [table, out] : {std::pair{"rollup_entity_hour", &entity_hour_}, {"rollup_entity_day", &entity_day_}}) {
    SAGAFLOW_RETURN_IF_ERROR(Assign(
        db_->Prepare(RollupUpsert(table, {"saga_id", "bucket", "entity_id"}, {"mentions", "readers", "events"})), out));
  }
  for (auto [table, out] : {std::pair{"rollup_saga_hour", &saga_hour_}, {"rollup_saga_day", &saga_day_}}) {
    SAGAFLOW_RETURN_IF_ERROR(
        Assign(db_->Prepare(RollupUpsert(table, {"saga_id", "bucket"}, {"events", "readers"})), out));
  }
  SAGAFLOW_RETURN_IF_ERROR(
      Assign(db_->Prepare("INSERT INTO zone_event(hour, key_min, key_max) VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE "
                          "SET key_min = min(key_min, excluded.key_min), key_max = max(key_max, excluded.key_max)"),
             &zone_event_));
  SAGAFLOW_RETURN_IF_ERROR(Assign(
      db_->Prepare("INSERT INTO zone_readers(hour, rowid_min, rowid_max, rows) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO "
                   "UPDATE SET rowid_min = min(rowid_min, excluded.rowid_min), rowid_max = max(rowid_max, "
                   "excluded.rowid_max), rows = rows + excluded.rows"),
      &zone_readers_));
  SAGAFLOW_RETURN_IF_ERROR(
      Assign(db_->Prepare("SELECT coalesce(max(rowid), 0) FROM fact_readers"), &max_readers_rowid_));
  SAGAFLOW_RETURN_IF_ERROR(Assign(db_->Prepare("SELECT days_until FROM rollup_state"), &read_days_until_));
  SAGAFLOW_RETURN_IF_ERROR(Assign(db_->Prepare(kFoldEntityDays), &fold_entity_days_));
  SAGAFLOW_RETURN_IF_ERROR(Assign(db_->Prepare(kFoldSagaDays), &fold_saga_days_));
  SAGAFLOW_RETURN_IF_ERROR(Assign(db_->Prepare("UPDATE rollup_state SET days_until = ?1"), &set_days_until_));
  // Positions only move forward, even if two runs share a source.
  SAGAFLOW_RETURN_IF_ERROR(
      Assign(db_->Prepare("UPDATE source SET position = ?2, line = ?3, digest = ?4, description = ?5, updated_at = ?6 "
                          "WHERE source_id = ?1 AND (position IS NULL OR position < ?2)"),
             &update_source_));
  return Status::Ok();
}

Result<std::optional<sources::Checkpoint>> SqliteSink::LoadCheckpoint(std::string_view stream_key) {
  if (insert_event_.raw() == nullptr) return Status::Internal("SqliteSink::LoadCheckpoint before Prepare");
  auto q = db_->Prepare("SELECT position, line, digest FROM source WHERE stream_key = ?1 AND position IS NOT NULL");
  if (!q.ok()) return q.status();
  q->Bind(1, stream_key);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<sources::Checkpoint>();
  sources::Checkpoint cp;
  cp.position = static_cast<uint64_t>(q->Int(0));
  cp.line = static_cast<uint64_t>(q->Int(1));
  cp.digest = static_cast<uint64_t>(q->Int(2));
  return std::optional<sources::Checkpoint>(cp);
}

Result<int64_t> SqliteSink::EnsureSource(const pipeline::StreamCheckpoint& stream) {
  const int64_t id = pipeline::SourceId(stream.key);
  if (known_sources_.count(stream.key)) return id;
  insert_source_.Bind(1, id);
  insert_source_.BindStatic(2, stream.key);
  insert_source_.BindStatic(3, stream.description);
  insert_source_.Bind(4, Now());
  SAGAFLOW_RETURN_IF_ERROR(insert_source_.Run());
  return id;
}

Status SqliteSink::WriteRows(const pipeline::Batch& batch, pipeline::WriteReport* report) {
  std::vector<int64_t> source_ids;
  for (const auto& s : batch.streams) {
    auto id = EnsureSource(s);
    if (!id.ok()) return id.status();
    source_ids.push_back(*id);
  }
  for (const pipeline::EventRow& e : batch.events) {
    const bool has_saga = e.saga >= 0;
    const int64_t saga_id = has_saga ? saga_ids_[static_cast<size_t>(e.saga)] : 0;
    insert_event_.Bind(1, source_ids[e.stream]);
    insert_event_.Bind(2, static_cast<int64_t>(e.position));
    insert_event_.Bind(3, static_cast<int64_t>(e.line));
    insert_event_.BindStatic(4, e.article_id);
    has_saga ? insert_event_.Bind(5, saga_id) : insert_event_.BindNull(5);
    insert_event_.Bind(6, e.readers);
    insert_event_.Bind(7, e.time);
    insert_event_.BindStatic(8, pipeline::EventStatusName(e.status));
    SAGAFLOW_RETURN_IF_ERROR(insert_event_.Run());
    if (db_->Changes() == 0) {
      ++report->duplicates;
      continue;
    }
    ++report->events;
    const int64_t key = db_->LastInsertRowid();
    const auto hour_no = static_cast<uint64_t>(e.time / 3600);
    const uint64_t saga_slot = has_saga ? static_cast<uint64_t>(e.saga) + 1 : 0;
    Sums& saga = saga_hours_[SagaKey(hour_no, saga_slot)];
    ++saga.a;
    saga.b += e.readers;
    Sums& zone = zones_[hour_no];
    zone.a = zone.a == 0 ? key : std::min(zone.a, key);  // event keys are > 0
    zone.b = std::max(zone.b, key);
    zone.c += e.mention_count;
    for (uint32_t i = 0; i < e.mention_count; ++i) {
      const pipeline::MentionRow& m = batch.mentions[e.first_mention + i];
      pending_.push_back({key, entity_ids_[m.entity], saga_id, static_cast<int64_t>(m.count), e.readers, e.time});
      Sums& entity = entity_hours_[EntityKey(hour_no, saga_slot, m.entity)];
      entity.a += m.count;
      entity.b += e.readers;
      ++entity.c;
    }
    report->mentions += e.mention_count;
    if (pending_.size() >= kMentionsPerInsert) SAGAFLOW_RETURN_IF_ERROR(FlushMentions(false));
  }
  SAGAFLOW_RETURN_IF_ERROR(FlushMentions(true));
  SAGAFLOW_RETURN_IF_ERROR(WriteRollups());
  const int64_t now = Now();
  for (const pipeline::DeadLetterRow& d : batch.dead_letters) {
    insert_dead_letter_.Bind(1, source_ids[d.stream]);
    insert_dead_letter_.Bind(2, static_cast<int64_t>(d.position));
    insert_dead_letter_.Bind(3, static_cast<int64_t>(d.line));
    insert_dead_letter_.BindStatic(4, events::RejectReasonName(d.reason));
    insert_dead_letter_.BindStatic(5, d.detail);
    insert_dead_letter_.BindStatic(6, d.excerpt);
    insert_dead_letter_.Bind(7, static_cast<int64_t>(d.payload_bytes));
    insert_dead_letter_.Bind(8, now);
    SAGAFLOW_RETURN_IF_ERROR(insert_dead_letter_.Run());
    if (db_->Changes() == 0) {
      ++report->duplicates;
    } else {
      ++report->dead_letters;
    }
  }
  for (size_t i = 0; i < batch.streams.size(); ++i) {
    const auto& s = batch.streams[i];
    update_source_.Bind(1, source_ids[i]);
    update_source_.Bind(2, static_cast<int64_t>(s.checkpoint.position));
    update_source_.Bind(3, static_cast<int64_t>(s.checkpoint.line));
    update_source_.Bind(4, static_cast<int64_t>(s.checkpoint.digest));
    update_source_.BindStatic(5, s.description);
    update_source_.Bind(6, now);
    SAGAFLOW_RETURN_IF_ERROR(update_source_.Run());
  }
  return Status::Ok();
}

Status SqliteSink::WriteRollups() {
  auto saga_id = [this](uint64_t slot) { return slot == 0 ? 0 : saga_ids_[slot - 1]; };
  auto write_entities = [&](Statement& stmt, const FlatMap<uint64_t, Sums>& sums, int64_t width) -> Status {
    for (const auto& [key, v] : sums.entries()) {
      stmt.Bind(1, saga_id(EntityKeySaga(key)));
      stmt.Bind(2, static_cast<int64_t>(EntityKeyBucket(key)) * width);
      stmt.Bind(3, entity_ids_[EntityKeyEntity(key)]);
      stmt.Bind(4, v.a);
      stmt.Bind(5, v.b);
      stmt.Bind(6, v.c);
      SAGAFLOW_RETURN_IF_ERROR(stmt.Run());
    }
    return Status::Ok();
  };
  auto write_sagas = [&](Statement& stmt, const FlatMap<uint64_t, Sums>& sums, int64_t width) -> Status {
    for (const auto& [key, v] : sums.entries()) {
      stmt.Bind(1, saga_id(SagaKeySaga(key)));
      stmt.Bind(2, static_cast<int64_t>(SagaKeyBucket(key)) * width);
      stmt.Bind(3, v.a);
      stmt.Bind(4, v.b);
      SAGAFLOW_RETURN_IF_ERROR(stmt.Run());
    }
    return Status::Ok();
  };
  SAGAFLOW_RETURN_IF_ERROR(write_entities(entity_hour_, entity_hours_, 3600));
  SAGAFLOW_RETURN_IF_ERROR(write_sagas(saga_hour_, saga_hours_, 3600));
  // Days before days_until (migration 3) are folded: late events add to
  // their day rows too. Later days wait in the hours.
  const auto folded_hours = static_cast<uint64_t>(days_until_ / 3600);
  for (const auto& [key, h] : entity_hours_.entries()) {
    if (EntityKeyBucket(key) >= folded_hours) continue;
    Sums& d = entity_days_[EntityKey(EntityKeyBucket(key) / 24, EntityKeySaga(key), EntityKeyEntity(key))];
    d.a += h.a, d.b += h.b, d.c += h.c;
  }
  uint64_t newest_hour = 0;
  for (const auto& [key, h] : saga_hours_.entries()) {
    newest_hour = std::max(newest_hour, SagaKeyBucket(key));
    if (SagaKeyBucket(key) >= folded_hours) continue;
    Sums& d = saga_days_[SagaKey(SagaKeyBucket(key) / 24, SagaKeySaga(key))];
    d.a += h.a, d.b += h.b;
  }
  SAGAFLOW_RETURN_IF_ERROR(write_entities(entity_day_, entity_days_, 86400));
  SAGAFLOW_RETURN_IF_ERROR(write_sagas(saga_day_, saga_days_, 86400));
  SAGAFLOW_RETURN_IF_ERROR(FoldDays(static_cast<int64_t>(newest_hour / 24) * 86400));
  // The batch's fact_readers rows got the rowids after the table's previous
  // maximum (append-only table): each hour's zone takes the batch's range.
  auto max_rowid = max_readers_rowid_.Step();
  if (!max_rowid.ok()) return max_rowid.status();
  const int64_t last = max_readers_rowid_.Int(0);
  max_readers_rowid_.Reset();
  for (const auto& [hour_no, z] : zones_.entries()) {
    const auto hour = static_cast<int64_t>(hour_no) * 3600;
    zone_event_.Bind(1, hour);
    zone_event_.Bind(2, z.a);
    zone_event_.Bind(3, z.b);
    SAGAFLOW_RETURN_IF_ERROR(zone_event_.Run());
    if (z.c == 0) continue;
    zone_readers_.Bind(1, hour);
    zone_readers_.Bind(2, readers_rowid_before_ + 1);
    zone_readers_.Bind(3, last);
    zone_readers_.Bind(4, z.c);
    SAGAFLOW_RETURN_IF_ERROR(zone_readers_.Run());
  }
  return Status::Ok();
}

Status SqliteSink::FoldDays(int64_t newest_day) {
  // Up to the newest day with events, never past today's: one event from
  // the far future must not turn every later batch into late events.
  const int64_t until = std::min(newest_day, Now() / 86400 * 86400);
  if (until <= days_until_) return Status::Ok();
  for (Statement* fold : {&fold_entity_days_, &fold_saga_days_}) {
    fold->Bind(1, days_until_);
    fold->Bind(2, until);
    SAGAFLOW_RETURN_IF_ERROR(fold->Run());
  }
  set_days_until_.Bind(1, until);
  SAGAFLOW_RETURN_IF_ERROR(set_days_until_.Run());
  days_until_ = until;
  return Status::Ok();
}

Status SqliteSink::FlushMentions(bool all) {
  size_t done = 0;
  for (; pending_.size() - done >= kMentionsPerInsert; done += kMentionsPerInsert) {
    int p = 1;
    for (size_t i = done; i < done + kMentionsPerInsert; ++i) {
      const PendingMention& m = pending_[i];
      for (int64_t v : {m.event_key, m.entity_id, m.saga_id, m.mentions, m.readers, m.time})
        insert_mentions_.Bind(p++, v);
    }
    SAGAFLOW_RETURN_IF_ERROR(insert_mentions_.Run());
  }
  if (all) {
    for (; done < pending_.size(); ++done) {
      const PendingMention& m = pending_[done];
      int p = 1;
      for (int64_t v : {m.event_key, m.entity_id, m.saga_id, m.mentions, m.readers, m.time})
        insert_mention_.Bind(p++, v);
      SAGAFLOW_RETURN_IF_ERROR(insert_mention_.Run());
    }
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(done));
  return Status::Ok();
}

Result<pipeline::WriteReport> SqliteSink::Write(const pipeline::Batch& batch) {
  const auto start = std::chrono::steady_clock::now();
  auto report = WriteTransaction(batch);
  stats_.insert_seconds(0).Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  stats_.SetUp(report.ok());
  return report;
}

Result<pipeline::WriteReport> SqliteSink::WriteTransaction(const pipeline::Batch& batch) {
  pipeline::WriteReport report;
  pending_.clear();
  for (auto* t : {&entity_hours_, &saga_hours_, &zones_, &entity_days_, &saga_days_}) t->clear();
  SAGAFLOW_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  Status st = [&]() -> Status {
    auto before = max_readers_rowid_.Step();
    if (!before.ok()) return before.status();
    readers_rowid_before_ = max_readers_rowid_.Int(0);
    max_readers_rowid_.Reset();
    // Read under the write lock: another writer may have folded days.
    auto days = read_days_until_.Step();
    if (!days.ok()) return days.status();
    if (!*days) return Status::Corruption("rollup_state has no row");
    days_until_ = read_days_until_.Int(0);
    read_days_until_.Reset();
    return WriteRows(batch, &report);
  }();
  if (!st.ok()) {
    db_->Exec("ROLLBACK");
    return st;
  }
  st = db_->Exec("COMMIT");
  if (!st.ok()) {
    db_->Exec("ROLLBACK");
    return st;
  }
  for (const auto& s : batch.streams) known_sources_.emplace(s.key, pipeline::SourceId(s.key));
  return report;
}

}  // namespace sagaflow::sinks::sqlite
