// Rollups of the ClickHouse store (docs/clickhouse.md#rollups): per saga,
// entity and hour/day, and per saga and hour/day, kept per source stream as
// *prefix values*, not deltas.
//
// A rollup row (key, source, upto) holds the totals of every event of that
// stream at a position <= upto that falls into the key (saga, bucket,
// entity). The sink writes a key's row for position p (its batch's last
// record of the stream) as the stored row with the largest upto, u, plus the
// batch's events after u; it writes nothing when u >= p. Every row is thus a
// function of (stream, key, upto) alone, whoever writes it and however
// often: a re-sent, retried or racing write is an identical row, and a
// longer prefix supersedes a shorter one. The tables are
// ReplacingMergeTree(upto): merges keep the longest prefix per key and
// stream; queries read them with FINAL (the same at query time), then sum.
// No sum of deltas is ever formed, so no delivery path can count twice.
//
// rollup_entity_hour is sorted (saga_id, bucket, entity_id, ...): the sink
// reads back the latest hours of every entity a batch mentions, and a
// window's top entities read one saga's hours. An entity's hourly trend
// would read the whole table through it, so the same rows are also stored
// sorted entity first in kEntityTrendTable (migration 3), written by the
// sink before rollup_entity_hour and never read back: every row there is a
// prefix as well, so it holds every row of rollup_entity_hour (and perhaps
// some of a write that failed before reaching it, correct prefixes too).
#pragma once

#include <compare>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "pipeline/sink.h"
#include "query/rollup_plan.h"
#include "sinks/clickhouse/cluster.h"
#include "util/flat_map.h"
#include "util/status.h"

namespace sagaflow::sinks::clickhouse {

// rollup_entity_hour, rollup_entity_day, rollup_saga_hour, rollup_saga_day,
// rollup_entity_hour_by_entity.
const std::vector<const char*>& RollupTables();

// The hours per entity sorted (saga_id, entity_id, bucket, ...), for trends.
constexpr const char* kEntityTrendTable = "rollup_entity_hour_by_entity";

// The first four rollup tables (migration 2).
std::vector<TableSpec> RollupSchema();
// kEntityTrendTable (migration 3).
TableSpec EntityTrendRollupSchema();

// The backfill of `table` from the stored facts for times [begin, end)
// (bucket-aligned): one INSERT ... SELECT whose rows are the prefixes of
// every stream at the largest position stored per key. Idempotent: run
// again over the same facts it inserts identical rows.
std::string RollupBackfill(const char* table, int64_t begin, int64_t end);

// Rows of one window span for the analytics queries, with the columns
// saga_id, [entity_id,] t (bucket start or event time), [mentions,]
// readers, events: rollup rows collapsed to one per key and stream, or fact
// rows collapsed per record. `where` filters them and may name sorting-key
// columns only (saga_id, entity_id): rollups apply it before the collapse.
// kEntityTrend: kEntity reading hours from kEntityTrendTable (one entity's).
enum class Family { kEntity, kEntityTrend, kSaga };
std::string SpanRows(Family family, const query::Span& span, const std::string& where);

// (saga_id, bucket, entity_id or 0, source_id): a rollup row's key and stream.
struct RollupKey {
  uint64_t saga = 0, bucket = 0, entity = 0, source = 0;
  bool operator==(const RollupKey&) const = default;
  auto operator<=>(const RollupKey&) const = default;
};
struct RollupKeyHash {
  size_t operator()(const RollupKey& k) const noexcept {
    // The ids are hashes already; unsigned products overflow on purpose.
    return static_cast<size_t>(k.saga * 0x9E3779B97F4A7C15ULL ^ k.bucket * 0xC2B2AE3D27D4EB4FULL ^
                               k.entity * 0x165667B19E3779F9ULL ^ k.source);
  }
};

// The prefixes a sink has read back or written, so that its next batches
// read back only what it cannot know. Per stream it keeps a horizon (the
// checkpoint of its last batch) and the (grain, bucket) pairs that batch
// touched; for those pairs, every stored key's longest prefix it has seen:
// up to the horizon, or past it where rows another writer left reach
// further (a batch then skips its events up to there, as for a row read
// back). That knowledge is complete while this sink alone writes the
// stream: a batch reads back all the rows of each pair it touches that is
// not known (every batch before it had landed: the resume argument of
// docs/clickhouse.md#rollups), and every later event of the stream went
// through this sink. So RollupRows relies on it only for a stream the
// batch continues (its records all lie past the horizon: otherwise the
// stream restarted) whose furthest stored checkpoint is still the horizon
// (otherwise someone else wrote records of it since: a member that had it
// after a rebalance, whose records this sink never saw); for any other
// stream it reads back the pairs and forgets the rest. Past max_keys
// everything is forgotten. Not thread-safe.
class KnownPrefixes {
 public:
  struct Prefix {
    uint64_t upto = 0;
    uint64_t values[3] = {0, 0, 0};  // as the read-back's columns
  };
  static constexpr size_t kDefaultMaxKeys = 1 << 19;
  static constexpr int kReadBackTables = 4;  // rollup tables read back: RollupTables()' first four
  explicit KnownPrefixes(size_t max_keys = kDefaultMaxKeys) : max_keys_(max_keys) {}

  // Whether a batch whose first record of the stream is at `first`
  // continues it; if the stream is known and does not, forgets it.
  bool Continues(uint64_t source, uint64_t first);
  uint64_t Horizon(uint64_t source) const;  // of a stream that continues
  void Forget(uint64_t source);
  bool Knows(uint64_t source, int grain, uint64_t bucket) const;
  // The key's longest prefix up to the horizon, or nullptr: none stored
  // (in a known pair) or not known.
  const Prefix* Find(int table, const RollupKey& key);

  // A batch's outcome, applied by Commit() once all its rows landed.
  void Stage(int table, const RollupKey& key, const Prefix& prefix);
  void StageStream(uint64_t source, uint64_t horizon, int grain, uint64_t bucket);
  void Commit();
  // After a batch that failed: nothing is known.
  void Clear();
  size_t keys() const;

 private:
  struct Stream {
    uint64_t horizon = 0;
    std::set<std::pair<int, uint64_t>> pairs;  // (grain, bucket)
  };
  // Keeps the keys of the pairs keep(source, grain, bucket) holds.
  template <typename Keep>
  void RetainPairs(Keep keep);

  size_t max_keys_;
  std::map<uint64_t, Stream> streams_;
  FlatMap<RollupKey, Prefix, RollupKeyHash> keys_[kReadBackTables];
  std::vector<std::tuple<int, RollupKey, Prefix>> staged_keys_;
  std::map<uint64_t, Stream> staged_streams_;
};

struct RollupInput {
  const pipeline::Batch* batch;
  const std::vector<uint64_t>* source_ids;  // per batch stream
  const std::vector<uint64_t>* saga_ids;    // Dimensions::sagas[i].id
  const std::vector<uint64_t>* entity_ids;  // Dimensions::entities[i].id
};
// One INSERT of TabSeparated rows (empty: nothing to insert).
struct RollupInsert {
  const char* table;
  const char* columns;
  std::string rows;
};
// Inserts that may run concurrently, chain by chain; within a chain, in
// order (the trend table before rollup_entity_hour).
using RollupChains = std::vector<std::vector<RollupInsert>>;
// The rollup rows a batch adds, from the batch and the stored prefixes of
// its keys: those `known` holds, and the others, which `select` (a query
// returning TabSeparated) reads back. Stages the batch's prefixes in
// `known`. Insert the rows before the batch's checkpoints.
Result<RollupChains> RollupRows(const RollupInput& in, KnownPrefixes* known,
                                const std::function<Result<std::string>(const std::string&)>& select);

}  // namespace sagaflow::sinks::clickhouse
