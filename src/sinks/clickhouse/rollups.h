// Rollups of the ClickHouse store (docs/clickhouse.md#rollups): one row per
// saga, UTC day, entity and source stream, holding the day's totals and
// its hours (a sparse array: the hours that had events), kept per stream
// as *prefix values*, not deltas. entity_id 0 is the saga itself (events,
// readers); any other entity_id, its mentions in the saga.
//
// A rollup row (key, source, upto) holds the totals of every event of that
// stream at a position <= upto that falls into the key (saga, day,
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
// Days with their hours inside, not one row per hour: a stream with a few
// events an hour (a topic of many partitions) has about as many hour rows
// as facts; per day it has one row for all of them, and a batch inserts one
// part instead of one per grain and family.
//
// One table, sorted (saga_id, saga_row, day, entity_id, source_id): a
// saga's entity rows, then its own (entity 0), each by day. The sink's read-back
// (a few days of each stream), windows' top entities (one saga's days) and
// saga totals and trends read ranges of the key; an entity's trend filters
// its saga's every day of the range. A second copy sorted entity first made
// trends 5-10x faster at 5 M events and cost a sixth of the server's ingest
// time: docs/clickhouse.md#rollups.
#pragma once

#include <compare>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pipeline/sink.h"
#include "query/rollup_plan.h"
#include "sinks/clickhouse/cluster.h"
#include "util/flat_map.h"
#include "util/status.h"

namespace sagaflow::sinks::clickhouse {

constexpr const char* kRollupTable = "rollup_days";

// kRollupTable (migration 4).
std::vector<TableSpec> RollupSchema();
// The rollup tables of migrations 2 and 3, which migration 4 replaces.
const std::vector<const char*>& RetiredRollupTables();

// The backfill of kRollupTable from the stored facts for times [begin,
// end) (day-aligned): one INSERT ... SELECT whose rows are the prefixes of
// every stream at the largest position stored per key. Idempotent: run
// again over the same facts it inserts identical rows.
std::string RollupBackfill(int64_t begin, int64_t end);

// Rows of one window span for the analytics queries, with the columns
// saga_id, [entity_id,] t (bucket start or event time), [mentions,]
// readers, events: rollup rows collapsed to one per key and stream, or fact
// rows collapsed per record. `where` filters them and may name sorting-key
// columns only (saga_id, entity_id): rollups apply it before the collapse.
enum class Family { kEntity, kSaga };
std::string SpanRows(Family family, const query::Span& span, const std::string& where);

// (saga_id, day, entity_id or 0, source_id): a rollup row's key and stream.
struct RollupKey {
  uint64_t saga = 0, day = 0, entity = 0, source = 0;
  bool operator==(const RollupKey&) const = default;
  auto operator<=>(const RollupKey&) const = default;
};
struct RollupKeyHash {
  size_t operator()(const RollupKey& k) const noexcept {
    // The ids are hashes already; unsigned products overflow on purpose.
    return static_cast<size_t>(k.saga * 0x9E3779B97F4A7C15ULL ^ k.day * 0xC2B2AE3D27D4EB4FULL ^
                               k.entity * 0x165667B19E3779F9ULL ^ k.source);
  }
};

// One hour of a rollup row: mentions, readers, events.
struct RollupHour {
  uint8_t hour = 0;  // of the day, 0-23
  uint64_t values[3] = {0, 0, 0};
  bool operator==(const RollupHour&) const = default;
};
// A stored row: its upto and its hours, by increasing hour.
struct RollupPrefix {
  uint64_t upto = 0;
  std::vector<RollupHour> hours;
};

// The prefixes a sink has read back or written, so that its next batches
// read back only what it cannot know. Per stream it keeps a horizon (the
// checkpoint of its last batch) and the days that batch touched; for those
// days, every stored key's longest prefix it has seen: up to the horizon,
// or past it where rows another writer left reach further (a batch then
// skips its events up to there, as for a row read back). That knowledge is
// complete while this sink alone writes the stream: a batch reads back all
// the rows of each day it touches that is not known (every batch before it
// had landed: the resume argument of docs/clickhouse.md#rollups), and every
// later event of the stream went through this sink. So RollupRows relies on
// it only for a stream the batch continues (its records all lie past the
// horizon: otherwise the stream restarted) whose furthest stored
// checkpoint is still the horizon (otherwise someone else wrote records of
// it since: a member that had it after a rebalance, whose records this
// sink never saw); for any other stream it reads back the days and forgets
// the rest. Past max_hours stored hours everything is forgotten. Not
// thread-safe.
class KnownPrefixes {
 public:
  // About 100 MB of hours (48 bytes each with their share of the keys).
  static constexpr size_t kDefaultMaxHours = size_t{1} << 21;
  explicit KnownPrefixes(size_t max_hours = kDefaultMaxHours) : max_hours_(max_hours) {}

  // Whether a batch whose first record of the stream is at `first`
  // continues it; if the stream is known and does not, forgets it.
  bool Continues(uint64_t source, uint64_t first);
  uint64_t Horizon(uint64_t source) const;  // of a stream that continues
  void Forget(uint64_t source);
  bool Knows(uint64_t source, uint64_t day) const;
  // The key's longest prefix seen, or nullptr: none stored (in a known
  // day) or not known.
  const RollupPrefix* Find(const RollupKey& key);

  // A batch's outcome, applied by Commit() once all its rows landed.
  void Stage(const RollupKey& key, RollupPrefix prefix);
  void StageStream(uint64_t source, uint64_t horizon, uint64_t day);
  void Commit();
  // After a batch that failed: nothing is known.
  void Clear();
  size_t keys() const { return keys_.size(); }
  size_t hours() const { return hours_; }

 private:
  struct Stream {
    uint64_t horizon = 0;
    std::set<uint64_t> days;
  };
  // Keeps the keys of the days keep(source, day) holds.
  template <typename Keep>
  void RetainDays(Keep keep);

  size_t max_hours_;
  size_t hours_ = 0;  // in keys_
  std::map<uint64_t, Stream> streams_;
  FlatMap<RollupKey, RollupPrefix, RollupKeyHash> keys_;
  std::vector<std::pair<RollupKey, RollupPrefix>> staged_keys_;
  std::map<uint64_t, Stream> staged_streams_;
};

struct RollupInput {
  const pipeline::Batch* batch;
  const std::vector<uint64_t>* source_ids;  // per batch stream
  const std::vector<uint64_t>* saga_ids;    // Dimensions::sagas[i].id
  const std::vector<uint64_t>* entity_ids;  // Dimensions::entities[i].id
};
// The columns of RollupRows' TabSeparated rows.
extern const char* const kRollupColumns;
// The rollup rows a batch adds (TabSeparated, in RollupKey order;
// empty: none), from the batch and the stored prefixes of its keys: those
// `known` holds, and the others, which `select` (a query returning
// TabSeparated) reads back. Stages the batch's prefixes in `known`. Insert
// the rows into kRollupTable before the batch's checkpoints.
Result<std::string> RollupRows(const RollupInput& in, KnownPrefixes* known,
                               const std::function<Result<std::string>(const std::string&)>& select);

}  // namespace sagaflow::sinks::clickhouse
