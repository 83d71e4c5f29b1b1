#include "sinks/clickhouse/clickhouse_analytics.h"

#include <fmt/format.h>

#include <algorithm>

#include "query/rollup_plan.h"
#include "query/top_entities_order.h"
#include "sinks/clickhouse/migrations.h"
#include "sinks/clickhouse/rollups.h"
#include "sinks/clickhouse/sql.h"

namespace sagaflow::sinks::clickhouse {

namespace {

constexpr int64_t kMaxStoredTime = 4294967295;  // fact tables hold UInt32 times

// Parses the integer columns [first, last] of every row into `out`.
Status Ints(const std::vector<std::string>& row, size_t first, size_t last, int64_t* out) {
  for (size_t i = first; i <= last; ++i) {
    auto v = ParseInt(row[i], "a query result");
    if (!v.ok()) return v.status();
    out[i - first] = *v;
  }
  return Status::Ok();
}

Result<uint64_t> Id(const std::string& field) { return ParseUint(field, "an id"); }

// SQLite's LIKE treats a backslash as an ordinary character, ClickHouse's
// as an escape: double it so both read `s` the same way (% and _ stay
// wildcards in both).
std::string LikeOperand(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// The rows of every span of the window (rollups.h: SpanRows), as one
// UNION ALL; "" when the window holds no valid time.
std::string WindowRows(Family family, const query::TimeRange& range, bool use_days, const std::string& where) {
  std::string sql;
  for (const query::Span& span : query::PlanSpans(range, use_days)) {
    sql += (sql.empty() ? "" : " UNION ALL ") + SpanRows(family, span, where);
  }
  return sql;
}

}  // namespace

std::string TimeCondition(const query::TimeRange& range) {
  const int64_t from = std::max<int64_t>(range.from.value_or(0), 0);
  const int64_t to = std::min<int64_t>(range.to.value_or(kMaxStoredTime), kMaxStoredTime);
  if (from > to) return "0";
  return fmt::format("time >= {} AND time <= {}", from, to);
}

Result<std::unique_ptr<ClickHouseAnalytics>> ClickHouseAnalytics::Open(const ClickHouseConfig& config) {
  RetryPolicy retry = config.retry;
  if (retry.give_up_after.count() == 0) retry.give_up_after = std::chrono::seconds(10);
  ClickHouseConfig read_only = config;
  read_only.read_only = true;  // analytics never write
  auto client = ClickHouseClient::Create(read_only);
  if (!client.ok()) return client.status();
  std::unique_ptr<ClickHouseAnalytics> a(new ClickHouseAnalytics(std::move(*client), retry));
  Result<int> version = Status::Internal("unset");
  Status st = a->retrier_.Run("read schema version", [&] {
    version = SchemaVersion(*a->client_);
    return version.ok() ? Status::Ok() : version.status();
  });
  const std::string store = config.Describe();
  if (!st.ok()) {
    if (st.code() == Status::Code::kNotFound)
      return Status::NotFound(fmt::format("no store at {}: {}", store, st.message()));
    return st.WithContext(store);
  }
  if (*version == 0)
    return Status::InvalidArgument(fmt::format("{} is not a sagaflow store (no schema_version)", store));
  if (*version > LatestSchemaVersion()) {
    return Status::Unsupported(fmt::format("{}: schema version {} is newer than this sagaflow supports ({})", store,
                                           *version, LatestSchemaVersion()));
  }
  if (*version < LatestSchemaVersion()) {
    return Status::Unsupported(fmt::format(
        "{}: schema version {} predates this sagaflow's rollups ({}): run `sagaflow migrate` (or `run`) first", store,
        *version, LatestSchemaVersion()));
  }
  return a;
}

ClickHouseAnalytics::ClickHouseAnalytics(std::unique_ptr<ClickHouseClient> client, RetryPolicy retry)
    : client_(std::move(client)), retrier_(retry, client_->config().Describe()) {}

Result<std::vector<std::vector<std::string>>> ClickHouseAnalytics::Rows(std::string_view what, const std::string& sql,
                                                                        size_t columns) {
  auto body = RetriedQuery(*client_, retrier_, what, sql + " FORMAT TabSeparated");
  if (!body.ok()) return body.status();
  return ParseTsv(*body, columns);
}

Result<std::unordered_map<uint64_t, std::string>> ClickHouseAnalytics::Names(const char* table, const char* id_column) {
  // Names never change for an id (ids derive from names), so any() is exact.
  auto rows = Rows(fmt::format("read {}", table),
                   fmt::format("SELECT {0}, any(name) FROM {1} GROUP BY {0}", id_column, table), 2);
  if (!rows.ok()) return rows.status();
  std::unordered_map<uint64_t, std::string> names;
  for (auto& r : *rows) {
    auto id = Id(r[0]);
    if (!id.ok()) return id.status();
    names.emplace(*id, std::move(r[1]));
  }
  return names;
}

Result<uint64_t> ClickHouseAnalytics::SagaIdOf(const std::string& name) {
  auto rows = Rows("find saga", "SELECT saga_id FROM dim_saga WHERE name = " + QuoteString(name) + " LIMIT 1", 1);
  if (!rows.ok()) return rows.status();
  if (!rows->empty()) return Id(rows->front()[0]);
  auto known = Rows("list sagas", "SELECT DISTINCT name FROM dim_saga ORDER BY name", 1);
  std::string list = "?";
  if (known.ok()) {
    list.clear();
    for (const auto& r : *known) list += (list.empty() ? "" : ", ") + r[0];
  }
  return Status::NotFound(fmt::format("unknown saga \"{}\" (known: {})", name, list));
}

Result<std::vector<query::TopEntityRow>> ClickHouseAnalytics::TopEntities(const query::TopEntitiesQuery& q) {
  auto saga = SagaIdOf(q.saga);
  if (!saga.ok()) return saga.status();
  // Whole days and hours from the rollups, the edges from the facts.
  const std::string window = WindowRows(Family::kEntity, q.range, true, fmt::format("saga_id = {}", *saga));
  if (window.empty()) return std::vector<query::TopEntityRow>();
  auto rows = Rows("top entities", "SELECT entity_id, sum(m), sum(r) FROM (" + window + ") GROUP BY entity_id", 3);
  if (!rows.ok()) return rows.status();
  auto names = Names("dim_entity", "entity_id");
  if (!names.ok()) return names.status();
  std::vector<query::RankedEntity<uint64_t>> out;
  for (const auto& r : *rows) {
    auto id = Id(r[0]);
    if (!id.ok()) return id.status();
    auto name = names->find(*id);
    if (name == names->end()) continue;  // as the SQLite store's inner join
    int64_t v[2];
    SAGAFLOW_RETURN_IF_ERROR(Ints(r, 1, 2, v));
    out.push_back({{name->second, v[0], v[1]}, *id});
  }
  return query::RankTopEntities(std::move(out), q.by, q.limit);
}

Result<std::vector<query::SagaRow>> ClickHouseAnalytics::Sagas(const query::TimeRange& range) {
  const std::string window = WindowRows(Family::kSaga, range, true, "1");
  Result<std::vector<std::vector<std::string>>> rows = std::vector<std::vector<std::string>>();
  if (!window.empty()) rows = Rows("sagas", "SELECT saga_id, sum(n), sum(r) FROM (" + window + ") GROUP BY saga_id", 3);
  if (!rows.ok()) return rows.status();
  auto names = Names("dim_saga", "saga_id");
  if (!names.ok()) return names.status();
  std::unordered_map<uint64_t, std::pair<int64_t, int64_t>> totals;
  for (const auto& r : *rows) {
    auto id = Id(r[0]);
    if (!id.ok()) return id.status();
    int64_t v[2];
    SAGAFLOW_RETURN_IF_ERROR(Ints(r, 1, 2, v));
    totals[*id] = {v[0], v[1]};
  }
  std::vector<std::pair<std::string, uint64_t>> sagas;
  for (const auto& [id, name] : *names) sagas.emplace_back(name, id);
  std::sort(sagas.begin(), sagas.end());
  std::vector<query::SagaRow> out;
  for (const auto& [name, id] : sagas) {
    auto t = totals.find(id);
    out.push_back({name, t == totals.end() ? 0 : t->second.first, t == totals.end() ? 0 : t->second.second});
  }
  auto empty = totals.find(0);  // saga_id 0: events with an empty text
  out.push_back({std::nullopt, empty == totals.end() ? 0 : empty->second.first,
                 empty == totals.end() ? 0 : empty->second.second});
  return out;
}

Result<std::vector<query::RejectedRow>> ClickHouseAnalytics::Rejected() {
  auto rows = Rows("rejected",
                   "SELECT rsn, count() FROM ("
                   " SELECT any(reason) AS rsn FROM dead_letter GROUP BY source_id, position)"
                   " GROUP BY rsn",
                   2);
  if (!rows.ok()) return rows.status();
  std::vector<query::RejectedRow> out;
  for (auto& r : *rows) {
    int64_t n;
    SAGAFLOW_RETURN_IF_ERROR(Ints(r, 1, 1, &n));
    out.push_back({std::move(r[0]), n});
  }
  std::sort(out.begin(), out.end(), [](const query::RejectedRow& a, const query::RejectedRow& b) {
    return a.events != b.events ? a.events > b.events : a.reason < b.reason;
  });
  return out;
}

Result<std::vector<query::DeadLetter>> ClickHouseAnalytics::DeadLetters(int64_t limit) {
  // Newest first: SQLite orders by insertion; here the time a dead letter
  // was stored, then the position (later records are inserted later).
  auto rows = Rows("dead letters",
                   fmt::format("SELECT source_id, position, any(line), any(reason), any(detail), any(excerpt),"
                               " max(received_at) AS ra FROM dead_letter GROUP BY source_id, position"
                               " ORDER BY ra DESC, position DESC, source_id{}",
                               limit > 0 ? fmt::format(" LIMIT {}", limit) : ""),
                   7);
  if (!rows.ok()) return rows.status();
  auto rows_sources = Rows("read source", "SELECT source_id, any(stream_key) FROM source GROUP BY source_id", 2);
  if (!rows_sources.ok()) return rows_sources.status();
  std::unordered_map<uint64_t, std::string> keys;
  for (auto& r : *rows_sources) {
    auto id = Id(r[0]);
    if (!id.ok()) return id.status();
    keys.emplace(*id, std::move(r[1]));
  }
  std::vector<query::DeadLetter> out;
  for (auto& r : *rows) {
    auto id = Id(r[0]);
    if (!id.ok()) return id.status();
    int64_t v[2];
    SAGAFLOW_RETURN_IF_ERROR(Ints(r, 1, 2, v));  // position, line
    auto key = keys.find(*id);
    out.push_back({key == keys.end() ? std::string() : key->second, v[1], v[0], std::move(r[3]), std::move(r[4]),
                   std::move(r[5])});
  }
  return out;
}

Result<std::vector<query::TrendRow>> ClickHouseAnalytics::Trend(const query::TrendQuery& q) {
  const std::string entity = QuoteString(q.entity);
  auto ids = Rows("find entity", "SELECT DISTINCT entity_id FROM dim_entity WHERE name = " + entity, 1);
  if (!ids.ok()) return ids.status();
  if (ids->empty()) {
    // The SQLite store's hint: same name ignoring ASCII case, or containing
    // the input (LIKE, ASCII case-insensitive, % and _ as wildcards).
    auto similar = Rows("similar entities",
                        fmt::format("SELECT DISTINCT name FROM dim_entity WHERE lower(name) = lower({0}) OR "
                                    "lower(name) LIKE lower({1}) ORDER BY name LIMIT 5",
                                    entity, QuoteString("%" + LikeOperand(q.entity) + "%")),
                        1);
    std::string hint;
    if (similar.ok() && !similar->empty()) {
      for (const auto& r : *similar) hint += (hint.empty() ? "" : ", ") + r[0];
      hint = fmt::format(" (did you mean: {}?)", hint);
    }
    return Status::NotFound(fmt::format("unknown entity \"{}\"{}", q.entity, hint));
  }
  std::string saga_condition;
  if (q.saga) {
    auto id = SagaIdOf(*q.saga);
    if (!id.ok()) return id.status();
    saga_condition = fmt::format(" AND saga_id = {}", *id);
  }
  std::string id_list;
  for (const auto& r : *ids) {
    auto id = Id(r[0]);
    if (!id.ok()) return id.status();
    id_list += fmt::format("{}{}", id_list.empty() ? "" : ", ", *id);
  }
  const int bucket = q.bucket == query::Bucket::kHour ? 3600 : 86400;
  const std::string window = WindowRows(Family::kEntity, q.range, q.bucket == query::Bucket::kDay,
                                        fmt::format("entity_id IN ({}){}", id_list, saga_condition));
  if (window.empty()) return std::vector<query::TrendRow>();
  auto rows = Rows(
      "trend",
      fmt::format("SELECT intDiv(t, {0}) * {0} AS b, sum(m), sum(r) FROM ({1}) GROUP BY b ORDER BY b", bucket, window),
      3);
  if (!rows.ok()) return rows.status();
  std::vector<query::TrendRow> out;
  for (const auto& r : *rows) {
    int64_t v[3];
    SAGAFLOW_RETURN_IF_ERROR(Ints(r, 0, 2, v));
    out.push_back({v[0], v[1], v[2]});
  }
  return out;
}

Result<std::vector<query::SagaTrendRow>> ClickHouseAnalytics::SagaTrend(const query::TimeRange& range,
                                                                        query::Bucket bucket) {
  const int width = bucket == query::Bucket::kHour ? 3600 : 86400;
  const std::string window = WindowRows(Family::kSaga, range, bucket == query::Bucket::kDay, "1");
  if (window.empty()) return std::vector<query::SagaTrendRow>();
  auto rows =
      Rows("saga trend",
           fmt::format("SELECT saga_id, intDiv(t, {0}) * {0} AS b, sum(n), sum(r) FROM ({1}) GROUP BY saga_id, b",
                       width, window),
           4);
  if (!rows.ok()) return rows.status();
  auto names = Names("dim_saga", "saga_id");
  if (!names.ok()) return names.status();
  std::vector<query::SagaTrendRow> out;
  for (const auto& r : *rows) {
    auto id = Id(r[0]);
    if (!id.ok()) return id.status();
    int64_t v[3];
    SAGAFLOW_RETURN_IF_ERROR(Ints(r, 1, 3, v));
    query::SagaTrendRow row{std::nullopt, v[0], v[1], v[2]};
    if (*id != 0) {  // saga_id 0: events with an empty text
      auto name = names->find(*id);
      if (name == names->end()) continue;  // as Sagas(): only known sagas
      row.saga = name->second;
    }
    out.push_back(std::move(row));
  }
  // The SQLite store's order: bucket, then name byte-wise, empty texts last.
  std::sort(out.begin(), out.end(), [](const query::SagaTrendRow& a, const query::SagaTrendRow& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.saga.has_value() != b.saga.has_value()) return a.saga.has_value();
    return a.saga < b.saga;
  });
  return out;
}

Status ClickHouseAnalytics::Ping() {
  // No retries: a probe must answer promptly, and says "not ready" instead.
  auto r = client_->Query("SELECT count() FROM schema_version FORMAT TabSeparated");
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace sagaflow::sinks::clickhouse
