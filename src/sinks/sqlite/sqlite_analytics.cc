#include "sinks/sqlite/sqlite_analytics.h"

#include <fmt/format.h>

#include <filesystem>
#include <limits>

#include "sinks/sqlite/migrations.h"

namespace sagaflow::sinks::sqlite {

namespace {

int64_t From(const query::TimeRange& r) { return r.from.value_or(std::numeric_limits<int64_t>::min()); }
int64_t To(const query::TimeRange& r) { return r.to.value_or(std::numeric_limits<int64_t>::max()); }

// Runs `stmt` and calls row(stmt) for each result row.
template <typename F>
Status ForEachRow(Statement& stmt, F row) {
  for (;;) {
    auto r = stmt.Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
    row(stmt);
  }
}

// "a, b, c" of the first column of a one-column query.
Result<std::string> List(Db& db, std::string_view sql, std::string_view param = {}) {
  auto q = db.Prepare(sql);
  if (!q.ok()) return q.status();
  if (!param.empty()) q->Bind(1, param);
  std::string out;
  Status st = ForEachRow(*q, [&](Statement& s) { out += (out.empty() ? "" : ", ") + s.Text(0); });
  if (!st.ok()) return st;
  return out;
}

}  // namespace

Result<std::unique_ptr<SqliteAnalytics>> SqliteAnalytics::Open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::NotFound(fmt::format("no store at {}", path));
  auto db = Db::Open(path, Db::Mode::kReadOnly);
  if (!db.ok()) return db.status();
  auto version = SchemaVersion(**db);
  if (!version.ok()) return version.status().WithContext(path);
  if (*version == 0)
    return Status::InvalidArgument(fmt::format("{} is not a sagaflow store (no schema_version)", path));
  if (*version > LatestSchemaVersion()) {
    return Status::Unsupported(fmt::format("{}: schema version {} is newer than this sagaflow supports ({})", path,
                                           *version, LatestSchemaVersion()));
  }
  return std::unique_ptr<SqliteAnalytics>(new SqliteAnalytics(std::move(*db)));
}

Result<int64_t> SqliteAnalytics::SagaIdOf(const std::string& name) {
  auto q = db_->Prepare("SELECT saga_id FROM dim_saga WHERE name = ?1");
  if (!q.ok()) return q.status();
  q->Bind(1, name);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (*row) return q->Int(0);
  auto known = List(*db_, "SELECT name FROM dim_saga ORDER BY name");
  return Status::NotFound(fmt::format("unknown saga \"{}\" (known: {})", name, known.ok() ? *known : "?"));
}

Result<std::vector<query::TopEntityRow>> SqliteAnalytics::TopEntities(const query::TopEntitiesQuery& q) {
  auto saga = SagaIdOf(q.saga);
  if (!saga.ok()) return saga.status();
  // Two fixed statements (the order is not a parameter SQL can bind).
  static constexpr const char* kByMentions =
      "SELECT e.name, sum(f.mentions) AS m, sum(f.readers) AS r FROM fact_readers f "
      "JOIN dim_entity e ON e.entity_id = f.entity_id "
      "WHERE f.saga_id = ?1 AND f.time >= ?2 AND f.time <= ?3 GROUP BY f.entity_id "
      "ORDER BY m DESC, r DESC, e.name, f.entity_id LIMIT ?4";
  static constexpr const char* kByReaders =
      "SELECT e.name, sum(f.mentions) AS m, sum(f.readers) AS r FROM fact_readers f "
      "JOIN dim_entity e ON e.entity_id = f.entity_id "
      "WHERE f.saga_id = ?1 AND f.time >= ?2 AND f.time <= ?3 GROUP BY f.entity_id "
      "ORDER BY r DESC, m DESC, e.name, f.entity_id LIMIT ?4";
  auto stmt = db_->Prepare(q.by == query::Measure::kReaders ? kByReaders : kByMentions);
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, *saga);
  stmt->Bind(2, From(q.range));
  stmt->Bind(3, To(q.range));
  stmt->Bind(4, q.limit > 0 ? q.limit : int64_t{-1});
  std::vector<query::TopEntityRow> rows;
  Status st = ForEachRow(*stmt, [&](Statement& s) { rows.push_back({s.Text(0), s.Int(1), s.Int(2)}); });
  if (!st.ok()) return st;
  return rows;
}

Result<std::vector<query::SagaRow>> SqliteAnalytics::Sagas(const query::TimeRange& range) {
  auto stmt = db_->Prepare(
      "WITH agg AS (SELECT saga_id, count(*) AS n, sum(readers) AS r FROM fact_event "
      "             WHERE time >= ?1 AND time <= ?2 GROUP BY saga_id) "
      "SELECT name, n, r FROM ("
      "  SELECT s.name AS name, coalesce(a.n, 0) AS n, coalesce(a.r, 0) AS r FROM dim_saga s "
      "  LEFT JOIN agg a ON a.saga_id = s.saga_id "
      "  UNION ALL SELECT NULL, coalesce(sum(n), 0), coalesce(sum(r), 0) FROM agg WHERE saga_id IS NULL) "
      "ORDER BY name IS NULL, name");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, From(range));
  stmt->Bind(2, To(range));
  std::vector<query::SagaRow> rows;
  Status st = ForEachRow(*stmt, [&](Statement& s) {
    query::SagaRow row;
    if (!s.IsNull(0)) row.saga = s.Text(0);
    row.events = s.Int(1);
    row.readers = s.Int(2);
    rows.push_back(std::move(row));
  });
  if (!st.ok()) return st;
  return rows;
}

Result<std::vector<query::RejectedRow>> SqliteAnalytics::Rejected() {
  auto stmt = db_->Prepare("SELECT reason, count(*) AS n FROM dead_letter GROUP BY reason ORDER BY n DESC, reason");
  if (!stmt.ok()) return stmt.status();
  std::vector<query::RejectedRow> rows;
  Status st = ForEachRow(*stmt, [&](Statement& s) { rows.push_back({s.Text(0), s.Int(1)}); });
  if (!st.ok()) return st;
  return rows;
}

Result<std::vector<query::DeadLetter>> SqliteAnalytics::DeadLetters(int64_t limit) {
  auto stmt = db_->Prepare(
      "SELECT coalesce(s.stream_key, ''), d.line, d.position, d.reason, d.detail, d.excerpt FROM dead_letter d "
      "LEFT JOIN source s ON s.source_id = d.source_id ORDER BY d.dead_letter_id DESC LIMIT ?1");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, limit > 0 ? limit : int64_t{-1});
  std::vector<query::DeadLetter> rows;
  Status st = ForEachRow(*stmt, [&](Statement& s) {
    rows.push_back({s.Text(0), s.Int(1), s.Int(2), s.Text(3), s.Text(4), s.Text(5)});
  });
  if (!st.ok()) return st;
  return rows;
}

Result<std::vector<query::TrendRow>> SqliteAnalytics::Trend(const query::TrendQuery& q) {
  auto exists = db_->Prepare("SELECT 1 FROM dim_entity WHERE name = ?1 LIMIT 1");
  if (!exists.ok()) return exists.status();
  exists->Bind(1, q.entity);
  auto found = exists->Step();
  if (!found.ok()) return found.status();
  if (!*found) {
    auto similar = List(*db_,
                        "SELECT DISTINCT name FROM dim_entity WHERE lower(name) = lower(?1) "
                        "OR name LIKE '%' || ?1 || '%' ORDER BY name LIMIT 5",
                        q.entity);
    std::string hint = similar.ok() && !similar->empty() ? fmt::format(" (did you mean: {}?)", *similar) : "";
    return Status::NotFound(fmt::format("unknown entity \"{}\"{}", q.entity, hint));
  }
  std::optional<int64_t> saga;
  if (q.saga) {
    auto id = SagaIdOf(*q.saga);
    if (!id.ok()) return id.status();
    saga = *id;
  }
  static constexpr const char* kAllSagas =
      "SELECT (time / ?1) * ?1 AS b, sum(mentions), sum(readers) FROM fact_readers "
      "WHERE entity_id IN (SELECT entity_id FROM dim_entity WHERE name = ?2) AND time >= ?3 AND time <= ?4 "
      "GROUP BY b ORDER BY b";
  static constexpr const char* kOneSaga =
      "SELECT (time / ?1) * ?1 AS b, sum(mentions), sum(readers) FROM fact_readers "
      "WHERE entity_id IN (SELECT entity_id FROM dim_entity WHERE name = ?2) AND time >= ?3 AND time <= ?4 "
      "AND saga_id = ?5 GROUP BY b ORDER BY b";
  auto stmt = db_->Prepare(saga ? kOneSaga : kAllSagas);
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, int64_t{q.bucket == query::Bucket::kHour ? 3600 : 86400});
  stmt->Bind(2, q.entity);
  stmt->Bind(3, From(q.range));
  stmt->Bind(4, To(q.range));
  if (saga) stmt->Bind(5, *saga);
  std::vector<query::TrendRow> rows;
  Status st = ForEachRow(*stmt, [&](Statement& s) { rows.push_back({s.Int(0), s.Int(1), s.Int(2)}); });
  if (!st.ok()) return st;
  return rows;
}

Result<std::vector<query::SagaTrendRow>> SqliteAnalytics::SagaTrend(const query::TimeRange& range,
                                                                    query::Bucket bucket) {
  // Empty texts have no saga (NULL); an id missing from dim_saga is left out
  // as Sagas() leaves it out.
  auto stmt = db_->Prepare(
      "SELECT s.name, (f.time / ?1) * ?1 AS b, count(*), sum(f.readers) FROM fact_event f "
      "LEFT JOIN dim_saga s ON s.saga_id = f.saga_id "
      "WHERE f.time >= ?2 AND f.time <= ?3 AND (f.saga_id IS NULL OR s.saga_id IS NOT NULL) "
      "GROUP BY f.saga_id, b ORDER BY b, s.name IS NULL, s.name");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, int64_t{bucket == query::Bucket::kHour ? 3600 : 86400});
  stmt->Bind(2, From(range));
  stmt->Bind(3, To(range));
  std::vector<query::SagaTrendRow> rows;
  Status st = ForEachRow(*stmt, [&](Statement& s) {
    query::SagaTrendRow row;
    if (!s.IsNull(0)) row.saga = s.Text(0);
    row.time = s.Int(1);
    row.events = s.Int(2);
    row.readers = s.Int(3);
    rows.push_back(std::move(row));
  });
  if (!st.ok()) return st;
  return rows;
}

Status SqliteAnalytics::Ping() {
  // An open connection keeps answering after its file was deleted or
  // replaced: check that the path still names the file we read.
  std::error_code ec;
  if (!std::filesystem::exists(db_->path(), ec)) return Status::Unavailable(fmt::format("no store at {}", db_->path()));
  auto stmt = db_->Prepare("SELECT max(version) FROM schema_version");
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  return Status::Ok();
}

}  // namespace sagaflow::sinks::sqlite
