#include "sinks/sqlite/sqlite_analytics.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <unordered_map>

#include "query/rollup_plan.h"
#include "query/top_entities_order.h"
#include "sinks/sqlite/migrations.h"

namespace sagaflow::sinks::sqlite {

namespace {

using query::Grain;
using query::Span;

const char* Suffix(Grain g) { return g == Grain::kDay ? "day" : "hour"; }

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
  if (*version < LatestSchemaVersion()) {
    // Read-only: the queries need the rollups a migration builds.
    return Status::Unsupported(
        fmt::format("{}: schema version {} predates this sagaflow's rollups ({}): run `sagaflow migrate --store "
                    "sqlite:{}` (or `run`) first",
                    path, *version, LatestSchemaVersion(), path));
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

Result<SqliteAnalytics::RowRange> SqliteAnalytics::FactRows(const char* table, const Span& span) {
  // The hour's zone: rows outside it hold other hours. zone_readers also
  // counts the hour's rows: if its range no longer holds them all (rowids
  // renumbered behind the store's back), scan the whole table instead.
  const bool readers = std::string_view(table) == "fact_readers";
  const int64_t hour = span.begin / query::kHour * query::kHour;
  auto& stmt = readers ? zone_readers_ : zone_event_;
  if (stmt.raw() == nullptr) {
    auto prepared = db_->Prepare(
        readers ? "SELECT z.rowid_min, z.rowid_max, z.rows = (SELECT count(*) FROM fact_readers f WHERE f.rowid "
                  "BETWEEN z.rowid_min AND z.rowid_max AND f.time >= z.hour AND f.time < z.hour + 3600) "
                  "FROM zone_readers z WHERE z.hour = ?1"
                : "SELECT key_min, key_max, 1 FROM zone_event WHERE hour = ?1");
    if (!prepared.ok()) return prepared.status();
    stmt = std::move(*prepared);
  }
  stmt.Bind(1, hour);
  auto row = stmt.Step();
  if (!row.ok()) return row.status();
  RowRange range{1, 0};  // empty: no row of that hour
  if (*row) {
    range = {stmt.Int(0), stmt.Int(1)};
    if (stmt.Int(2) == 0) {
      spdlog::warn("{}: zone of hour {} does not hold its fact rows; scanning {}", db_->path(), hour, table);
      range = {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
    }
  }
  stmt.Reset();
  return range;
}

Status SqliteAnalytics::ForEachSpan(const query::TimeRange& range, bool use_days, Family family,
                                    const std::string& select, const std::string& where,
                                    const std::function<void(Statement&)>& bind,
                                    const std::function<void(Statement&)>& row) {
  // One read transaction: the days folded and the rows of every span from
  // the same commit of the writer.
  SAGAFLOW_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  Status st = SpansInTransaction(range, use_days, family, select, where, bind, row);
  db_->Exec("COMMIT");
  return st;
}

Status SqliteAnalytics::SpansInTransaction(const query::TimeRange& range, bool use_days, Family family,
                                           const std::string& select, const std::string& where,
                                           const std::function<void(Statement&)>& bind,
                                           const std::function<void(Statement&)>& row) {
  auto days = db_->Prepare("SELECT days_until FROM rollup_state");
  if (!days.ok()) return days.status();
  auto found = days->Step();
  if (!found.ok()) return found.status();
  if (!*found) return Status::Corruption(fmt::format("{}: rollup_state has no row", db_->path()));
  const int64_t days_until = days->Int(0);
  days->Reset();
  // Each span's rows under the same column names (t: the bucket's start or
  // the fact's time), so that one `select` reads rollups and facts alike.
  const bool entity = family == Family::kEntity;
  for (const Span& span : query::PlanSpans(range, use_days, days_until)) {
    std::string rows;
    RowRange keys{0, 0};
    if (span.grain == Grain::kFacts) {
      auto r = FactRows(entity ? "fact_readers" : "fact_event", span);
      if (!r.ok()) return r.status();
      if (r->first > r->second) continue;
      keys = *r;
      rows = entity ? "SELECT saga_id, entity_id, time AS t, mentions, readers, 1 AS events FROM fact_readers "
                      "WHERE rowid BETWEEN ?8 AND ?9 AND time >= ?6 AND time < ?7"
                    : "SELECT coalesce(saga_id, 0) AS saga_id, time AS t, 1 AS events, readers FROM fact_event "
                      "WHERE event_key BETWEEN ?8 AND ?9 AND time >= ?6 AND time < ?7";
    } else {
      rows = fmt::format(
          fmt::runtime(entity ? "SELECT saga_id, entity_id, bucket AS t, mentions, readers, events FROM "
                                "rollup_entity_{} WHERE bucket >= ?6 AND bucket < ?7"
                              : "SELECT saga_id, bucket AS t, events, readers FROM rollup_saga_{} WHERE bucket >= "
                                "?6 AND bucket < ?7"),
          Suffix(span.grain));
    }
    auto stmt = db_->Prepare(fmt::format("SELECT {} FROM ({}) WHERE {} GROUP BY 1, 2", select, rows, where));
    if (!stmt.ok()) return stmt.status();
    bind(*stmt);
    stmt->Bind(6, span.begin);
    stmt->Bind(7, span.end);
    if (span.grain == Grain::kFacts) {
      stmt->Bind(8, keys.first);
      stmt->Bind(9, keys.second);
    }
    SAGAFLOW_RETURN_IF_ERROR(ForEachRow(*stmt, row));
  }
  return Status::Ok();
}

Result<std::vector<query::TopEntityRow>> SqliteAnalytics::TopEntities(const query::TopEntitiesQuery& q) {
  auto saga = SagaIdOf(q.saga);
  if (!saga.ok()) return saga.status();
  // Whole days and hours from the rollups, the edges from the facts
  // (sums are the same either way: the rollups hold the facts' sums).
  std::unordered_map<int64_t, std::pair<int64_t, int64_t>> sums;  // entity -> mentions, readers
  Status st = ForEachSpan(
      q.range, true, Family::kEntity, "entity_id, 0, sum(mentions), sum(readers)", "saga_id = ?1",
      [&](Statement& s) { s.Bind(1, *saga); },
      [&](Statement& s) {
        auto& v = sums[s.Int(0)];
        v.first += s.Int(2);
        v.second += s.Int(3);
      });
  if (!st.ok()) return st;
  auto names = EntityNames();
  if (!names.ok()) return names.status();
  std::vector<query::RankedEntity<int64_t>> out;
  for (const auto& [id, v] : sums) {
    auto name = names->find(id);
    if (name == names->end()) continue;  // an inner join with dim_entity
    out.push_back({{name->second, v.first, v.second}, id});
  }
  return query::RankTopEntities(std::move(out), q.by, q.limit);
}

Result<std::unordered_map<int64_t, std::string>> SqliteAnalytics::EntityNames() {
  auto stmt = db_->Prepare("SELECT entity_id, name FROM dim_entity");
  if (!stmt.ok()) return stmt.status();
  std::unordered_map<int64_t, std::string> names;
  Status st = ForEachRow(*stmt, [&](Statement& s) { names.emplace(s.Int(0), s.Text(1)); });
  if (!st.ok()) return st;
  return names;
}

Result<std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>>> SqliteAnalytics::SagaTotals(
    const query::TimeRange& range, int64_t width) {
  // (bucket, saga id or 0) -> events, readers; width 0: one bucket.
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> totals;
  const std::string bucket = width ? fmt::format("t / {0} * {0}", width) : "0";
  Status st = ForEachSpan(
      range, width != query::kHour, Family::kSaga, fmt::format("{}, saga_id, sum(events), sum(readers)", bucket), "1",
      [](Statement&) {},
      [&](Statement& s) {
        auto& v = totals[{s.Int(0), s.Int(1)}];
        v.first += s.Int(2);
        v.second += s.Int(3);
      });
  if (!st.ok()) return st;
  return totals;
}

Result<std::vector<std::pair<int64_t, std::string>>> SqliteAnalytics::SagaNames() {
  auto stmt = db_->Prepare("SELECT saga_id, name FROM dim_saga ORDER BY name");
  if (!stmt.ok()) return stmt.status();
  std::vector<std::pair<int64_t, std::string>> names;
  Status st = ForEachRow(*stmt, [&](Statement& s) { names.emplace_back(s.Int(0), s.Text(1)); });
  if (!st.ok()) return st;
  return names;
}

Result<std::vector<query::SagaRow>> SqliteAnalytics::Sagas(const query::TimeRange& range) {
  auto totals = SagaTotals(range, 0);
  if (!totals.ok()) return totals.status();
  auto names = SagaNames();
  if (!names.ok()) return names.status();
  // Every known saga by name (zeros included), then the empty texts (0).
  std::vector<query::SagaRow> rows;
  for (const auto& [id, name] : *names) {
    auto t = totals->find({0, id});
    rows.push_back({name, t == totals->end() ? 0 : t->second.first, t == totals->end() ? 0 : t->second.second});
  }
  auto empty = totals->find({0, 0});
  rows.push_back({std::nullopt, empty == totals->end() ? 0 : empty->second.first,
                  empty == totals->end() ? 0 : empty->second.second});
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
  const int64_t width = q.bucket == query::Bucket::kHour ? query::kHour : query::kDay;
  std::map<int64_t, std::pair<int64_t, int64_t>> buckets;  // oldest first
  Status st = ForEachSpan(
      q.range, width == query::kDay, Family::kEntity,
      fmt::format("t / {0} * {0}, 0, sum(mentions), sum(readers)", width),
      saga ? "entity_id IN (SELECT entity_id FROM dim_entity WHERE name = ?2) AND saga_id = ?1"
           : "entity_id IN (SELECT entity_id FROM dim_entity WHERE name = ?2)",
      [&](Statement& s) {
        if (saga) s.Bind(1, *saga);
        s.Bind(2, q.entity);
      },
      [&](Statement& s) {
        auto& v = buckets[s.Int(0)];
        v.first += s.Int(2);
        v.second += s.Int(3);
      });
  if (!st.ok()) return st;
  std::vector<query::TrendRow> rows;
  rows.reserve(buckets.size());
  for (const auto& [t, v] : buckets) rows.push_back({t, v.first, v.second});
  return rows;
}

Result<std::vector<query::SagaTrendRow>> SqliteAnalytics::SagaTrend(const query::TimeRange& range,
                                                                    query::Bucket bucket) {
  auto totals = SagaTotals(range, bucket == query::Bucket::kHour ? query::kHour : query::kDay);
  if (!totals.ok()) return totals.status();
  auto names = SagaNames();
  if (!names.ok()) return names.status();
  std::unordered_map<int64_t, const std::string*> name_of;
  for (const auto& [id, name] : *names) name_of.emplace(id, &name);
  // By bucket, then saga name, empty texts (0) last; an id missing from
  // dim_saga is left out as Sagas() leaves it out.
  std::vector<query::SagaTrendRow> rows;
  for (const auto& [key, v] : *totals) {
    query::SagaTrendRow row{std::nullopt, key.first, v.first, v.second};
    if (key.second != 0) {
      auto name = name_of.find(key.second);
      if (name == name_of.end()) continue;
      row.saga = *name->second;
    }
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const query::SagaTrendRow& a, const query::SagaTrendRow& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.saga.has_value() != b.saga.has_value()) return a.saga.has_value();
    return a.saga < b.saga;
  });
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
