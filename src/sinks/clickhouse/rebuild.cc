#include "sinks/clickhouse/rebuild.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "sinks/clickhouse/sql.h"

namespace sagaflow::sinks::clickhouse {

namespace {

// Rows per copy step, about: whole days are never split.
constexpr uint64_t kStepRows = 2'000'000;
constexpr int64_t kSecondsPerDay = 86400;

// "(a, b)" -> "a, b": how system.tables spells a sorting key.
std::string Unparenthesized(std::string_view key) {
  if (key.size() >= 2 && key.front() == '(' && key.back() == ')') key = key.substr(1, key.size() - 2);
  return std::string(key);
}

// The names of one rebuild (rebuild.h).
struct Names {
  std::string live, building, retired;  // the MergeTree tables (cluster: the *_local ones)
  std::string building_insert;          // where the copy inserts (cluster: the Distributed T_vN)
  std::string source;                   // where the copy reads (cluster: the Distributed T)
};

Names NamesOf(const ClickHouseConfig& config, const std::string& table, int version) {
  const std::string building = fmt::format("{}_v{}", table, version);
  const std::string retired = fmt::format("{}_v{}", table, version - 1);
  if (config.cluster.empty()) return {table, building, retired, building, table};
  return {table + "_local", building + "_local", retired + "_local", building, table};
}

std::string Qualified(const ClickHouseConfig& config, const std::string& table) {
  return config.cluster.empty() ? table : config.database + "." + table;
}
std::string OnCluster(const ClickHouseConfig& config) {
  return config.cluster.empty() ? "" : " ON CLUSTER " + config.cluster;
}

constexpr int kUnknownTable = 60;  // UNKNOWN_TABLE

// The live table's sorting key ("" when it is missing) and whether the
// building and retired tables exist.
struct Layout {
  std::string key;
  bool building = false, retired = false;
};

// One read of system.tables, which lists a snapshot of the database: a swap
// by another process (two renames, one after the other) is seen before,
// between or after its renames, never torn across them as separate reads
// of the three names could be (the live table at the old key read before
// the swap, the retired one found after it).
Result<Layout> ReadLayout(ClickHouseClient& client, const Names& names) {
  auto body = client.Query(
      fmt::format("SELECT name, sorting_key FROM system.tables WHERE database = {} AND name IN ({}, {}, {}) "
                  "FORMAT TabSeparated",
                  QuoteString(client.config().database), QuoteString(names.live), QuoteString(names.building),
                  QuoteString(names.retired)),
      false);
  if (!body.ok()) return body.status();
  auto rows = ParseTsv(*body, 2);
  if (!rows.ok()) return rows.status();
  Layout layout;
  for (const auto& row : *rows) {
    if (row[0] == names.live) layout.key = row[1];
    if (row[0] == names.building) layout.building = true;
    if (row[0] == names.retired) layout.retired = true;
  }
  return layout;
}

Status DropIfExists(ClickHouseClient& client, Retrier& retrier, const std::string& table) {
  Result<bool> exists = false;
  auto look = [&] {
    return retrier.Run("look for " + table, [&] {
      exists = TableExists(client, table);
      return exists.status();
    });
  };
  SAGAFLOW_RETURN_IF_ERROR(look());
  if (!*exists) return Status::Ok();
  const ClickHouseConfig& config = client.config();
  Status dropped = RetriedQuery(client, retrier, "drop " + table,
                                fmt::format("DROP TABLE IF EXISTS {}{}", Qualified(config, table), OnCluster(config)))
                       .status();
  // Two processes migrating at once: 18.16's IF EXISTS does not cover a
  // table the other one is dropping meanwhile (error 60, "doesn't exist"),
  // which system.tables may still list. Gone is what was asked.
  if (dropped.ok() || client.last_error_code() == kUnknownTable) return Status::Ok();
  SAGAFLOW_RETURN_IF_ERROR(look());
  return *exists ? dropped : Status::Ok();
}

}  // namespace

Status DropSchemaTable(ClickHouseClient& client, Retrier& retrier, const std::string& table) {
  SAGAFLOW_RETURN_IF_ERROR(DropIfExists(client, retrier, table));
  if (client.config().cluster.empty()) return Status::Ok();
  return DropIfExists(client, retrier, table + "_local");
}

namespace {

// Rows per day of `column` in `table`.
Result<std::map<int64_t, uint64_t>> DayCounts(ClickHouseClient& client, Retrier& retrier, const std::string& table,
                                              const char* column) {
  auto body = RetriedQuery(client, retrier, "count the rows of " + table,
                           fmt::format("SELECT intDiv({0}, {1}) AS d, count() FROM {2} GROUP BY d FORMAT TabSeparated",
                                       column, kSecondsPerDay, table));
  if (!body.ok()) return body.status();
  auto rows = ParseTsv(*body, 2);
  if (!rows.ok()) return rows.status();
  std::map<int64_t, uint64_t> out;
  for (const auto& r : *rows) {
    auto day = ParseInt(r[0], "a day");
    auto n = ParseUint(r[1], "a count");
    if (!day.ok() || !n.ok()) return Status::Corruption(table + ": unreadable row counts");
    out[*day] = *n;
  }
  return out;
}

// Copies every row of names.source missing from the building table, in
// steps of whole days (rebuild.h).
Status Copy(ClickHouseClient& client, Retrier& retrier, const Rebuild& rebuild, const Names& names, int version) {
  const char* column = rebuild.time_column;
  auto old_days = DayCounts(client, retrier, names.source, column);
  if (!old_days.ok()) return old_days.status();
  auto new_days = DayCounts(client, retrier, names.building_insert, column);
  if (!new_days.ok()) return new_days.status();
  struct Step {
    int64_t first_day = 0, end_day = 0;
    uint64_t old_rows = 0, new_rows = 0;
  };
  std::vector<Step> steps;
  uint64_t total = 0;
  for (const auto& [day, n] : *old_days) {
    if (steps.empty() || steps.back().old_rows + n > kStepRows) steps.push_back({day, day, 0, 0});
    Step& s = steps.back();
    s.end_day = day + 1;
    s.old_rows += n;
    total += n;
  }
  for (Step& s : steps) {
    for (auto it = new_days->lower_bound(s.first_day); it != new_days->end() && it->first < s.end_day; ++it) {
      s.new_rows += it->second;
    }
  }
  const std::string& table = rebuild.table.name;
  spdlog::info("{}: migration {}: copying {} rows of {} to its new sorting key in {} steps", client.config().Describe(),
               version, total, table, steps.size());
  const bool tty = ::isatty(STDERR_FILENO);
  size_t done = 0;
  for (const Step& s : steps) {
    if (s.new_rows < s.old_rows) {
      const std::string range =
          fmt::format("{0} >= {1} AND {0} < {2}", column, s.first_day * kSecondsPerDay, s.end_day * kSecondsPerDay);
      // A step begun by a run that was killed: only the rows it did not
      // copy. GLOBAL: on a cluster the set is read once, through the
      // Distributed table, and sent to every shard.
      const std::string missing = s.new_rows == 0
                                      ? ""
                                      : fmt::format(" AND ({0}) GLOBAL NOT IN (SELECT {0} FROM {1} WHERE {2})",
                                                    rebuild.row_key, names.building_insert, range);
      SAGAFLOW_RETURN_IF_ERROR(RetriedQuery(client, retrier, fmt::format("migration {}: copy {}", version, table),
                                            fmt::format("INSERT INTO {} SELECT * FROM {} WHERE {}{}",
                                                        names.building_insert, names.source, range, missing))
                                   .status());
    }
    ++done;
    if (tty) {
      std::fprintf(stderr, "\rmigration %d: %s %3zu%% (%zu of %zu steps)", version, table.c_str(),
                   100 * done / steps.size(), done, steps.size());
    }
  }
  if (tty && !steps.empty()) std::fprintf(stderr, "\n");
  return Status::Ok();
}

}  // namespace

Result<std::string> SortingKey(ClickHouseClient& client, const std::string& table) {
  const std::string name = client.config().cluster.empty() ? table : table + "_local";
  auto body = client.Query(fmt::format("SELECT sorting_key FROM system.tables WHERE database = {} AND name = {} "
                                       "FORMAT TabSeparated",
                                       QuoteString(client.config().database), QuoteString(name)),
                           false);
  if (!body.ok()) return body.status();
  auto rows = ParseTsv(*body, 1);
  if (!rows.ok()) return rows.status();
  return rows->empty() ? std::string() : rows->front()[0];
}

Status RebuildTable(ClickHouseClient& client, Retrier& retrier, const Rebuild& rebuild, int version) {
  const ClickHouseConfig& config = client.config();
  const std::string table = rebuild.table.name;
  const std::string want = Unparenthesized(rebuild.table.order_by);
  const Names names = NamesOf(config, table, version);
  const std::string what = fmt::format("migration {}: {}", version, table);
  // Each pass moves one state forward (rebuild.h); a failed copy or rename
  // is judged by the state it left on the next pass.
  Status last = Status::Ok();
  for (int pass = 0; pass < 4; ++pass) {
    Result<Layout> layout = Status::Internal("unset");
    SAGAFLOW_RETURN_IF_ERROR(retrier.Run("read the layout of " + table, [&] {
      layout = ReadLayout(client, names);
      return layout.status();
    }));
    const std::string& key = layout->key;
    if (key == want) {
      // Done: only leftovers to drop (the Distributed T_vN of a cluster
      // names a table that is gone).
      SAGAFLOW_RETURN_IF_ERROR(DropIfExists(client, retrier, names.retired));
      SAGAFLOW_RETURN_IF_ERROR(DropIfExists(client, retrier, names.building));
      if (names.building_insert != names.building) {
        SAGAFLOW_RETURN_IF_ERROR(DropIfExists(client, retrier, names.building_insert));
      }
      return Status::Ok();
    }
    std::string rename;
    if (key.empty()) {
      // A swap cut between its renames: finish it (or undo it).
      if (!layout->building && !layout->retired)
        return Status::Corruption(fmt::format("{}: table {} is missing", what, table));
      rename =
          fmt::format("RENAME TABLE {} TO {}{}", Qualified(config, layout->building ? names.building : names.retired),
                      Qualified(config, names.live), OnCluster(config));
    } else {
      if (layout->retired) {
        return Status::Corruption(
            fmt::format("{}: both {} (sorted by {}) and {} exist; drop the one that is not "
                        "the store's and migrate again",
                        what, names.live, key, names.retired));
      }
      TableSpec spec = rebuild.table;
      const std::string building_name = table + fmt::format("_v{}", version);
      spec.name = building_name.c_str();
      SAGAFLOW_RETURN_IF_ERROR(EnsureTable(client, retrier, what, spec));
      // Another process migrating at once may swap the tables meanwhile:
      // its building table is this one, and the copy then fails on a table
      // that is gone, or the live table already has the new key (and takes
      // writes). Either way the next pass reads the state it left.
      last = Copy(client, retrier, rebuild, names, version);
      if (!last.ok()) {
        spdlog::warn("{}: {}: {}", config.Describe(), what, last.ToString());
        continue;
      }
      Result<Layout> now = Status::Internal("unset");
      SAGAFLOW_RETURN_IF_ERROR(retrier.Run("read the layout of " + table, [&] {
        now = ReadLayout(client, names);
        return now.status();
      }));
      if (now->key != key) continue;
      rename = fmt::format("RENAME TABLE {} TO {}, {} TO {}{}", Qualified(config, names.live),
                           Qualified(config, names.retired), Qualified(config, names.building),
                           Qualified(config, names.live), OnCluster(config));
    }
    // Not retried as such: a rename that landed but whose answer was lost
    // fails when repeated; the next pass reads what it did.
    auto r = client.Query(rename);
    last = r.status();
    if (!r.ok()) spdlog::warn("{}: {}: {}", config.Describe(), what, r.status().ToString());
  }
  return last.ok() ? Status::Internal(fmt::format("{}: the rebuild did not converge", what)) : last;
}

}  // namespace sagaflow::sinks::clickhouse
