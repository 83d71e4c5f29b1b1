#include "sinks/clickhouse/rollups.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "sinks/clickhouse/sql.h"
#include "util/flat_map.h"

namespace sagaflow::sinks::clickhouse {

namespace {

struct Table {
  const char* name;
  bool entity;
  int64_t width;
  const char* order_by;
};
// Indexes are the first column of WriteRollups' read-back query; the last
// table is not read back (rollups.h: kEntityTrendTable).
constexpr Table kTables[] = {{"rollup_entity_hour", true, query::kHour, "(saga_id, bucket, entity_id, source_id)"},
                             {"rollup_entity_day", true, query::kDay, "(saga_id, bucket, entity_id, source_id)"},
                             {"rollup_saga_hour", false, query::kHour, "(bucket, saga_id, source_id)"},
                             {"rollup_saga_day", false, query::kDay, "(bucket, saga_id, source_id)"},
                             {kEntityTrendTable, true, query::kHour, "(saga_id, entity_id, bucket, source_id)"}};
constexpr int kReadBack = 4;  // tables read back: the first four

TableSpec SpecOf(const Table& t) {
  // Sharded by stream: a stream's prefixes stay on the shard of its facts.
  return t.entity ? TableSpec{t.name,
                              "saga_id   UInt64,\n  bucket    UInt32,\n  entity_id UInt64,\n"
                              "  source_id UInt64,\n  mentions  UInt64,\n  readers   UInt64,\n"
                              "  events    UInt64,\n  upto      UInt64",
                              "ReplacingMergeTree",
                              "upto",
                              t.order_by,
                              "source_id"}
                  : TableSpec{t.name,
                              "bucket    UInt32,\n  saga_id   UInt64,\n  source_id UInt64,\n"
                              "  events    UInt64,\n  readers   UInt64,\n  upto      UInt64",
                              "ReplacingMergeTree",
                              "upto",
                              t.order_by,
                              "source_id"};
}

const char* kEntityColumns = "saga_id, bucket, entity_id, source_id, mentions, readers, events, upto";
const char* kSagaColumns = "bucket, saga_id, source_id, events, readers, upto";

// (saga_id, bucket, entity_id or 0, source_id)
using Key = std::tuple<uint64_t, uint64_t, uint64_t, uint64_t>;
struct KeyHash {
  size_t operator()(const Key& k) const noexcept {
    // The ids are hashes already; unsigned products overflow on purpose.
    const auto [a, b, c, d] = k;
    return static_cast<size_t>(a * 0x9E3779B97F4A7C15ULL ^ b * 0xC2B2AE3D27D4EB4FULL ^ c * 0x165667B19E3779F9ULL ^ d);
  }
};
struct Entry {
  uint64_t stored[3] = {0, 0, 0};  // the longest stored prefix's values
  bool has_stored = false;
  uint64_t upto = 0;              // its position
  uint64_t added[3] = {0, 0, 0};  // the batch's events after it
  bool adds = false;
};
using Entries = FlatMap<Key, Entry, KeyHash>;

std::string List(const std::set<uint64_t>& values) {
  std::string out;
  for (uint64_t v : values) out += fmt::format("{}{}", out.empty() ? "" : ", ", v);
  return out;
}

}  // namespace

const std::vector<const char*>& RollupTables() {
  static const std::vector<const char*> kNames = {kTables[0].name, kTables[1].name, kTables[2].name, kTables[3].name,
                                                  kTables[4].name};
  return kNames;
}

std::vector<TableSpec> RollupSchema() {
  std::vector<TableSpec> out;
  out.reserve(kReadBack);
  for (int t = 0; t < kReadBack; ++t) out.push_back(SpecOf(kTables[t]));
  return out;
}

TableSpec EntityTrendRollupSchema() { return SpecOf(kTables[kReadBack]); }

std::string RollupBackfill(const char* table, int64_t begin, int64_t end) {
  for (const Table& t : kTables) {
    if (std::string_view(t.name) != table) continue;
    // Each record once (its copies collapsed), then per key and stream the
    // totals up to the largest position stored: a prefix.
    if (t.entity) {
      return fmt::format(
          "INSERT INTO {0} ({1}) SELECT saga_id, toUInt32(intDiv(t, {2}) * {2}) AS b, entity_id, source_id, "
          "toUInt64(sum(m)), toUInt64(sum(r)), toUInt64(count()), max(position) FROM ("
          " SELECT saga_id, entity_id, source_id, position, any(time) AS t, any(mentions) AS m, any(readers) AS r"
          " FROM fact_readers WHERE time >= {3} AND time < {4} GROUP BY saga_id, entity_id, source_id, position)"
          " GROUP BY saga_id, b, entity_id, source_id",
          t.name, kEntityColumns, t.width, begin, end);
    }
    return fmt::format(
        "INSERT INTO {0} ({1}) SELECT toUInt32(intDiv(t, {2}) * {2}) AS b, saga_id, source_id, toUInt64(count()), "
        "toUInt64(sum(r)), max(position) FROM ("
        " SELECT saga_id, source_id, position, any(time) AS t, any(readers) AS r"
        " FROM fact_event WHERE time >= {3} AND time < {4} GROUP BY saga_id, source_id, position)"
        " GROUP BY b, saga_id, source_id",
        t.name, kSagaColumns, t.width, begin, end);
  }
  return "";
}

std::string SpanRows(Family family, const query::Span& span, const std::string& where) {
  const bool entity = family != Family::kSaga;
  if (span.grain == query::Grain::kFacts) {
    // Every record once: copies share the sorting key and every value.
    // fact_readers is sorted by (saga_id, time, ...): the saga and the
    // span's times narrow the read to the rows of that span (PREWHERE: only
    // they are read).
    return entity ? fmt::format(
                        "SELECT saga_id, entity_id, toUInt32(any(time)) AS t, toUInt64(any(mentions)) AS m,"
                        " toUInt64(any(readers)) AS r, toUInt64(1) AS n FROM fact_readers"
                        " PREWHERE time >= {} AND time < {} AND {} GROUP BY saga_id, entity_id, source_id, position",
                        span.begin, span.end, where)
                  : fmt::format(
                        "SELECT saga_id, toUInt32(any(time)) AS t, toUInt64(1) AS n,"
                        " toUInt64(any(readers)) AS r FROM fact_event"
                        " WHERE time >= {} AND time < {} AND {} GROUP BY saga_id, source_id, position",
                        span.begin, span.end, where);
  }
  const char* table = span.grain == query::Grain::kDay ? "rollup_entity_day"
                      : family == Family::kEntityTrend ? kEntityTrendTable
                                                       : "rollup_entity_hour";
  const char* suffix = span.grain == query::Grain::kDay ? "day" : "hour";
  // The longest prefix of every key and stream: FINAL keeps the row with the
  // largest upto per sorting key (rows with equal upto are identical), a
  // merge of sorted parts that costs about a fifth of GROUP BY ... argMax
  // over 200,000 keys on 18.16. `where` and the bucket range name
  // sorting-key columns only, which every version of a key shares, so
  // filtering them before FINAL (PREWHERE) drops whole keys, never a version.
  return entity ? fmt::format(
                      "SELECT saga_id, entity_id, bucket AS t, mentions AS m, readers AS r, events AS n"
                      " FROM {} FINAL PREWHERE bucket >= {} AND bucket < {} AND {}",
                      table, span.begin, span.end, where)
                : fmt::format(
                      "SELECT saga_id, bucket AS t, events AS n, readers AS r"
                      " FROM rollup_saga_{} FINAL PREWHERE bucket >= {} AND bucket < {} AND {}",
                      suffix, span.begin, span.end, where);
}

Result<RollupChains> RollupRows(const RollupInput& in,
                                const std::function<Result<std::string>(const std::string&)>& select) {
  const pipeline::Batch& batch = *in.batch;
  RollupChains chains;
  if (batch.events.empty()) return chains;
  Entries entries[kReadBack];
  std::set<uint64_t> sources, buckets[2];  // hours, days
  // The keys of an event in each table, in kTables order (entity tables:
  // one per mention).
  auto for_each_key = [&](const pipeline::EventRow& e, auto f) {
    const uint64_t source = (*in.source_ids)[e.stream];
    const uint64_t saga = e.saga >= 0 ? (*in.saga_ids)[static_cast<size_t>(e.saga)] : 0;
    const uint64_t time = static_cast<uint64_t>(e.time);
    for (int t = 0; t < kReadBack; ++t) {
      const uint64_t bucket = time / static_cast<uint64_t>(kTables[t].width) * static_cast<uint64_t>(kTables[t].width);
      if (!kTables[t].entity) {
        f(t, Key{saga, bucket, 0, source}, uint64_t{1}, uint64_t{0});
        continue;
      }
      for (uint32_t i = 0; i < e.mention_count; ++i) {
        const pipeline::MentionRow& m = batch.mentions[e.first_mention + i];
        f(t, Key{saga, bucket, (*in.entity_ids)[m.entity], source}, uint64_t{1}, uint64_t{m.count});
      }
    }
  };
  auto add = [&](const pipeline::EventRow& e, int t, const Key& k, uint64_t one, uint64_t mentions) {
    Entry& entry = entries[t][k];
    entry.adds = true;
    if (kTables[t].entity) {
      entry.added[0] += mentions;
      entry.added[1] += static_cast<uint64_t>(e.readers);
      entry.added[2] += one;
    } else {
      entry.added[0] += one;
      entry.added[1] += static_cast<uint64_t>(e.readers);
    }
  };
  // Every event adds to its keys, as if no stored prefix reached into the
  // batch (the usual case: checked below).
  std::map<uint64_t, uint64_t> first_of;  // source id -> the batch's first event position
  for (const pipeline::EventRow& e : batch.events) {
    const uint64_t source = (*in.source_ids)[e.stream];
    auto [first, is_new] = first_of.emplace(source, e.position);
    if (!is_new) first->second = std::min(first->second, e.position);
    sources.insert(source);
    buckets[0].insert(static_cast<uint64_t>(e.time) / 3600 * 3600);
    buckets[1].insert(static_cast<uint64_t>(e.time) / 86400 * 86400);
    for_each_key(e, [&](int t, const Key& k, uint64_t one, uint64_t mentions) { add(e, t, k, one, mentions); });
  }

  // The longest stored prefix of every key the batch touches.
  std::string sql;
  for (int t = 0; t < kReadBack; ++t) {
    const Table& table = kTables[t];
    sql += fmt::format(
        "{}SELECT toUInt8({}), saga_id, bucket, {}, source_id, {}, argMax(readers, upto), {}, max(upto) FROM {} "
        "WHERE source_id IN ({}) AND bucket IN ({}) GROUP BY saga_id, bucket, {}source_id",
        t ? " UNION ALL " : "", t, table.entity ? "entity_id" : "toUInt64(0)",
        table.entity ? "argMax(mentions, upto)" : "argMax(events, upto)",
        table.entity ? "argMax(events, upto)" : "toUInt64(0)", table.name, List(sources),
        List(buckets[table.width == query::kDay]), table.entity ? "entity_id, " : "");
  }
  auto body = select(sql + " FORMAT TabSeparated");
  if (!body.ok()) return body.status();
  std::set<uint64_t> overlapping;  // sources with a stored prefix reaching into the batch
  SAGAFLOW_RETURN_IF_ERROR(ForEachUintRow(*body, 9, "a rollup read-back", [&](const uint64_t* v) {
    if (v[0] >= kReadBack) return Status::Corruption("rollup read-back: bad table index");
    Entry* entry = entries[v[0]].Find(Key{v[1], v[2], v[3], v[4]});
    if (entry == nullptr) return Status::Ok();  // a key of another event's bucket
    entry->has_stored = true;
    std::copy(v + 5, v + 8, entry->stored);
    entry->upto = v[8];
    if (entry->upto >= first_of[v[4]]) overlapping.insert(v[4]);
    return Status::Ok();
  }));
  // A re-sent or overlapping batch: its streams' keys add only the events
  // past each key's stored prefix.
  if (!overlapping.empty()) {
    for (auto& table : entries) {
      for (auto& [k, entry] : table.entries()) {
        if (!overlapping.count(std::get<3>(k))) continue;
        std::fill(entry.added, entry.added + 3, 0);
        entry.adds = false;
      }
    }
    for (const pipeline::EventRow& e : batch.events) {
      if (!overlapping.count((*in.source_ids)[e.stream])) continue;
      for_each_key(e, [&](int t, const Key& k, uint64_t one, uint64_t mentions) {
        const Entry& entry = *entries[t].Find(k);
        if (entry.has_stored && e.position <= entry.upto) return;  // in the stored prefix
        add(e, t, k, one, mentions);
      });
    }
  }
  // A key's new prefix ends at the batch's last record of its stream.
  std::map<uint64_t, uint64_t> end_of;  // source id -> position
  for (size_t s = 0; s < batch.streams.size(); ++s) end_of[(*in.source_ids)[s]] = batch.streams[s].checkpoint.position;
  for (int t = 0; t < kReadBack; ++t) {
    // In key order, as the tables sort them: the server's sort of the block
    // is then a check, and equal row sets are equal bodies (dedup tokens).
    std::vector<const Entries::Entry*> sorted;
    sorted.reserve(entries[t].size());
    for (const auto& e : entries[t].entries()) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->key < b->key; });
    std::string data;
    for (const Entries::Entry* e : sorted) {
      const Entry& entry = e->value;
      const auto [saga, bucket, entity, source] = e->key;
      const uint64_t upto = end_of[source];
      if (!entry.adds || (entry.has_stored && entry.upto >= upto)) continue;
      uint64_t v[3];
      for (int i = 0; i < 3; ++i) v[i] = entry.stored[i] + entry.added[i];
      TsvRows row(&data);
      if (kTables[t].entity) {
        row.Uint(saga).Uint(bucket).Uint(entity).Uint(source).Uint(v[0]).Uint(v[1]).Uint(v[2]).Uint(upto).EndRow();
      } else {
        row.Uint(bucket).Uint(saga).Uint(source).Uint(v[0]).Uint(v[1]).Uint(upto).EndRow();
      }
    }
    const char* columns = kTables[t].entity ? kEntityColumns : kSagaColumns;
    if (t == 0) {
      // The entity hours go to the trend table too, first: were the next
      // insert lost, a retry reads the shorter prefix back and writes both
      // again (an identical row), so the trend table holds every row of
      // rollup_entity_hour (rollups.h).
      chains.push_back({{kTables[kReadBack].name, kEntityColumns, data}, {kTables[t].name, columns, std::move(data)}});
    } else {
      chains.push_back({{kTables[t].name, columns, std::move(data)}});
    }
  }
  return chains;
}

}  // namespace sagaflow::sinks::clickhouse
