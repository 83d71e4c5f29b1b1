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

#include <functional>
#include <string>
#include <vector>

#include "pipeline/sink.h"
#include "query/rollup_plan.h"
#include "sinks/clickhouse/cluster.h"
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
// its keys, which `select` (a query returning TabSeparated) reads back.
// Insert them after the batch's facts and before its checkpoints.
Result<RollupChains> RollupRows(const RollupInput& in,
                                const std::function<Result<std::string>(const std::string&)>& select);

}  // namespace sagaflow::sinks::clickhouse
