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
constexpr int kReadBack = KnownPrefixes::kReadBackTables;  // tables read back: the first four

// The read-back's table index of a row holding a stream's furthest checkpoint.
constexpr uint64_t kCheckpointRow = 255;

// 0 for the hour tables, 1 for the day tables.
int GrainOf(int table) { return kTables[table].width == query::kDay ? 1 : 0; }

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

struct Entry {
  uint64_t stored[3] = {0, 0, 0};  // the longest stored prefix's values
  bool has_stored = false;
  uint64_t upto = 0;              // its position
  uint64_t added[3] = {0, 0, 0};  // the batch's events after it
  bool adds = false;
};
using Entries = FlatMap<RollupKey, Entry, RollupKeyHash>;

std::string List(const std::set<uint64_t>& values) {
  std::string out;
  for (uint64_t v : values) out += fmt::format("{}{}", out.empty() ? "" : ", ", v);
  return out;
}

// (source_id, bucket) pairs, as a ClickHouse tuple list.
std::string PairList(const std::set<std::pair<uint64_t, uint64_t>>& pairs) {
  std::string out;
  for (const auto& [source, bucket] : pairs) out += fmt::format("{}({}, {})", out.empty() ? "" : ", ", source, bucket);
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

bool KnownPrefixes::Continues(uint64_t source, uint64_t first) {
  auto it = streams_.find(source);
  if (it == streams_.end()) return false;
  if (first > it->second.horizon) return true;
  // Records at or before the horizon: the stream restarted (a re-sent
  // batch, a resume at an older checkpoint). Read it back whole.
  Forget(source);
  return false;
}

void KnownPrefixes::Forget(uint64_t source) {
  if (streams_.erase(source) > 0) RetainPairs([&](uint64_t s, int, uint64_t) { return s != source; });
}

uint64_t KnownPrefixes::Horizon(uint64_t source) const {
  auto it = streams_.find(source);
  return it == streams_.end() ? 0 : it->second.horizon;
}

bool KnownPrefixes::Knows(uint64_t source, int grain, uint64_t bucket) const {
  auto it = streams_.find(source);
  return it != streams_.end() && it->second.pairs.count({grain, bucket}) > 0;
}

const KnownPrefixes::Prefix* KnownPrefixes::Find(int table, const RollupKey& key) { return keys_[table].Find(key); }

void KnownPrefixes::Stage(int table, const RollupKey& key, const Prefix& prefix) {
  staged_keys_.emplace_back(table, key, prefix);
}

void KnownPrefixes::StageStream(uint64_t source, uint64_t horizon, int grain, uint64_t bucket) {
  Stream& s = staged_streams_[source];
  s.horizon = horizon;
  s.pairs.emplace(grain, bucket);
}

void KnownPrefixes::Commit() {
  // A stream's known pairs are the ones its last batch touched: that bounds
  // the memory by a batch's pairs, and a live stream's current hour and day
  // are touched by every batch (a late event reads its older pair back).
  bool dropped = false;
  for (auto& [source, staged] : staged_streams_) {
    auto [it, is_new] = streams_.try_emplace(source);
    if (!is_new &&
        !std::includes(staged.pairs.begin(), staged.pairs.end(), it->second.pairs.begin(), it->second.pairs.end())) {
      dropped = true;
    }
    it->second = std::move(staged);
  }
  staged_streams_.clear();
  if (dropped) {
    RetainPairs([&](uint64_t source, int grain, uint64_t bucket) { return Knows(source, grain, bucket); });
  }
  for (const auto& [table, key, prefix] : staged_keys_) keys_[table][key] = prefix;
  staged_keys_.clear();
  if (keys() > max_keys_) Clear();
}

void KnownPrefixes::Clear() {
  streams_.clear();
  for (auto& table : keys_) table.clear();
  staged_keys_.clear();
  staged_streams_.clear();
}

size_t KnownPrefixes::keys() const {
  size_t n = 0;
  for (const auto& table : keys_) n += table.size();
  return n;
}

template <typename Keep>
void KnownPrefixes::RetainPairs(Keep keep) {
  for (int t = 0; t < kReadBack; ++t) {
    const int grain = GrainOf(t);
    keys_[t].Retain([&](const auto& e) { return keep(e.key.source, grain, e.key.bucket); });
  }
  for (auto it = streams_.begin(); it != streams_.end();) {
    auto& pairs = it->second.pairs;
    for (auto p = pairs.begin(); p != pairs.end();)
      p = keep(it->first, p->first, p->second) ? std::next(p) : pairs.erase(p);
    it = pairs.empty() ? streams_.erase(it) : std::next(it);
  }
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

Result<RollupChains> RollupRows(const RollupInput& in, KnownPrefixes* known,
                                const std::function<Result<std::string>(const std::string&)>& select) {
  const pipeline::Batch& batch = *in.batch;
  RollupChains chains;
  if (batch.events.empty()) return chains;
  Entries entries[kReadBack];
  // Each stream's buckets in the batch: hours, days.
  std::set<std::pair<uint64_t, uint64_t>> stream_buckets[2];
  // The keys of an event in each table, in kTables order (entity tables:
  // one per mention).
  auto for_each_key = [&](const pipeline::EventRow& e, auto f) {
    const uint64_t source = (*in.source_ids)[e.stream];
    const uint64_t saga = e.saga >= 0 ? (*in.saga_ids)[static_cast<size_t>(e.saga)] : 0;
    const uint64_t time = static_cast<uint64_t>(e.time);
    for (int t = 0; t < kReadBack; ++t) {
      const uint64_t bucket = time / static_cast<uint64_t>(kTables[t].width) * static_cast<uint64_t>(kTables[t].width);
      if (!kTables[t].entity) {
        f(t, RollupKey{saga, bucket, 0, source}, uint64_t{1}, uint64_t{0});
        continue;
      }
      for (uint32_t i = 0; i < e.mention_count; ++i) {
        const pipeline::MentionRow& m = batch.mentions[e.first_mention + i];
        f(t, RollupKey{saga, bucket, (*in.entity_ids)[m.entity], source}, uint64_t{1}, uint64_t{m.count});
      }
    }
  };
  auto add = [&](const pipeline::EventRow& e, int t, const RollupKey& k, uint64_t one, uint64_t mentions) {
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
    const uint64_t hour = static_cast<uint64_t>(e.time / query::kHour * query::kHour);
    const uint64_t day = static_cast<uint64_t>(e.time / query::kDay * query::kDay);
    stream_buckets[0].emplace(source, hour);
    stream_buckets[1].emplace(source, day);
    for_each_key(e, [&](int t, const RollupKey& k, uint64_t one, uint64_t mentions) { add(e, t, k, one, mentions); });
  }

  // The longest stored prefix of every key the batch touches: from `known`
  // for the pairs it knows of the streams the batch continues, read back
  // for the others.
  std::map<uint64_t, uint64_t> horizons;  // source id -> horizon, of the streams continued
  for (const auto& [source, first] : first_of) {
    if (known->Continues(source, first)) horizons.emplace(source, known->Horizon(source));
  }
  std::set<uint64_t> overlapping;  // sources with a stored prefix reaching into the batch
  auto apply = [&](const uint64_t* v) {
    if (v[0] >= kReadBack) return Status::Corruption("rollup read-back: bad table index");
    const RollupKey key{v[1], v[2], v[3], v[4]};
    Entry* entry = entries[v[0]].Find(key);
    if (entry == nullptr) {
      // A key of the stream's bucket that the batch does not touch: known
      // from now on all the same.
      known->Stage(static_cast<int>(v[0]), key, {v[8], {v[5], v[6], v[7]}});
      return Status::Ok();
    }
    entry->has_stored = true;
    std::copy(v + 5, v + 8, entry->stored);
    entry->upto = v[8];
    if (entry->upto >= first_of[v[4]]) overlapping.insert(v[4]);
    return Status::Ok();
  };
  // Reads back the rows of the pairs of the streams `read_stream` selects
  // that it calls unknown, and with them the furthest checkpoint stored of
  // each stream in `check`.
  auto read_back = [&](auto read_stream, const std::map<uint64_t, uint64_t>& check,
                       std::map<uint64_t, uint64_t>* checkpoints) -> Status {
    std::string sql;
    for (int t = 0; t < kReadBack; ++t) {
      const Table& table = kTables[t];
      std::set<std::pair<uint64_t, uint64_t>> pairs;
      std::set<uint64_t> buckets;
      for (const auto& [source, bucket] : stream_buckets[GrainOf(t)]) {
        if (read_stream(source, GrainOf(t), bucket)) pairs.emplace(source, bucket), buckets.insert(bucket);
      }
      if (pairs.empty()) continue;
      // The rows of each stream's own buckets: the plain bucket list
      // narrows the primary-key range, the pairs select the rows. (Every
      // stream's buckets crossed with every stream would read other
      // streams' rows too: with many partitions read in chunks, a batch
      // spans far more time than any one stream's part of it.)
      sql += fmt::format(
          "{}SELECT toUInt8({}), saga_id, bucket, {}, source_id, {}, argMax(readers, upto), {}, max(upto) FROM {} "
          "WHERE bucket IN ({}) AND (source_id, bucket) IN ({}) GROUP BY saga_id, bucket, {}source_id",
          sql.empty() ? "" : " UNION ALL ", t, table.entity ? "entity_id" : "toUInt64(0)",
          table.entity ? "argMax(mentions, upto)" : "argMax(events, upto)",
          table.entity ? "argMax(events, upto)" : "toUInt64(0)", table.name, List(buckets), PairList(pairs),
          table.entity ? "entity_id, " : "");
    }
    if (!check.empty()) {
      std::set<uint64_t> sources;
      for (const auto& entry : check) sources.insert(entry.first);
      sql += fmt::format(
          "{}SELECT toUInt8({}), toUInt64(0), toUInt32(0), toUInt64(0), source_id, toUInt64(0), toUInt64(0), "
          "toUInt64(0), max(position) FROM source WHERE source_id IN ({}) GROUP BY source_id",
          sql.empty() ? "" : " UNION ALL ", kCheckpointRow, List(sources));
    }
    if (sql.empty()) return Status::Ok();
    auto body = select(sql + " FORMAT TabSeparated");
    if (!body.ok()) return body.status();
    return ForEachUintRow(*body, 9, "a rollup read-back", [&](const uint64_t* v) {
      if (v[0] != kCheckpointRow) return apply(v);
      (*checkpoints)[v[4]] = v[8];
      return Status::Ok();
    });
  };
  std::map<uint64_t, uint64_t> checkpoints;                // source id -> furthest stored
  std::set<std::tuple<uint64_t, int, uint64_t>> not_read;  // (source, grain, bucket): known
  SAGAFLOW_RETURN_IF_ERROR(read_back(
      [&](uint64_t source, int grain, uint64_t bucket) {
        if (!horizons.count(source) || !known->Knows(source, grain, bucket)) return true;
        not_read.emplace(source, grain, bucket);
        return false;
      },
      horizons, &checkpoints));
  // A stream continued whose furthest stored checkpoint is not the horizon
  // was written by someone else since (a member that had it after a
  // rebalance, a zombie): what this sink knows of it may lack their
  // records. Its known pairs are read back after all.
  std::set<uint64_t> doubted;
  for (const auto& [source, horizon] : horizons) {
    auto it = checkpoints.find(source);
    if (it == checkpoints.end() || it->second != horizon) doubted.insert(source);
  }
  if (!doubted.empty()) {
    for (uint64_t source : doubted) {
      known->Forget(source);
      horizons.erase(source);
    }
    SAGAFLOW_RETURN_IF_ERROR(read_back(
        [&](uint64_t source, int grain, uint64_t bucket) {
          return doubted.count(source) && not_read.count({source, grain, bucket});
        },
        {}, &checkpoints));
  }
  // The known pairs' keys.
  for (int t = 0; t < kReadBack; ++t) {
    for (auto& [k, entry] : entries[t].entries()) {
      const KnownPrefixes::Prefix* prefix = horizons.count(k.source) ? known->Find(t, k) : nullptr;
      if (prefix == nullptr) continue;
      entry.has_stored = true;
      std::copy(prefix->values, prefix->values + 3, entry.stored);
      entry.upto = prefix->upto;
      // A prefix read back earlier may reach past the horizon, into this
      // batch: another writer's rows (one killed after its rows, before its
      // checkpoint).
      if (entry.upto >= first_of[k.source]) overlapping.insert(k.source);
    }
  }
  // A re-sent or overlapping batch: its streams' keys add only the events
  // past each key's stored prefix.
  if (!overlapping.empty()) {
    for (auto& table : entries) {
      for (auto& [k, entry] : table.entries()) {
        if (!overlapping.count(k.source)) continue;
        std::fill(entry.added, entry.added + 3, 0);
        entry.adds = false;
      }
    }
    for (const pipeline::EventRow& e : batch.events) {
      if (!overlapping.count((*in.source_ids)[e.stream])) continue;
      for_each_key(e, [&](int t, const RollupKey& k, uint64_t one, uint64_t mentions) {
        const Entry& entry = *entries[t].Find(k);
        if (entry.has_stored && e.position <= entry.upto) return;  // in the stored prefix
        add(e, t, k, one, mentions);
      });
    }
  }
  // A key's new prefix ends at the batch's last record of its stream, the
  // stream's next horizon.
  std::map<uint64_t, uint64_t> end_of;  // source id -> position
  for (size_t s = 0; s < batch.streams.size(); ++s) end_of[(*in.source_ids)[s]] = batch.streams[s].checkpoint.position;
  for (int grain = 0; grain < 2; ++grain) {
    for (const auto& [source, bucket] : stream_buckets[grain])
      known->StageStream(source, end_of[source], grain, bucket);
  }
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
      if (!entry.adds || (entry.has_stored && entry.upto >= upto)) {
        if (entry.has_stored)
          known->Stage(t, e->key, {entry.upto, {entry.stored[0], entry.stored[1], entry.stored[2]}});
        continue;
      }
      uint64_t v[3];
      for (int i = 0; i < 3; ++i) v[i] = entry.stored[i] + entry.added[i];
      known->Stage(t, e->key, {upto, {v[0], v[1], v[2]}});
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
