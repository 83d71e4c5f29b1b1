// Rollup plans: which parts of a time window the stores answer from their
// rollups (whole days, whole hours) and which from the facts (the partial
// hours at the window's edges). Store-independent, so that SQLite and
// ClickHouse split every window the same way (docs/schema.md#rollups).
#pragma once

#include <cstdint>
#include <vector>

#include "query/analytics.h"

namespace sagaflow::query {

// Event times are 0..2^32-1 (docs/events.md): the domain of every plan.
inline constexpr int64_t kTimeEnd = int64_t{1} << 32;  // exclusive
inline constexpr int64_t kHour = 3600;
inline constexpr int64_t kDay = 86400;

enum class Grain { kFacts, kHour, kDay };

// Times [begin, end) read at one grain: for kHour and kDay both ends are
// multiples of the grain's width; a kFacts span lies within one hour.
struct Span {
  Grain grain;
  int64_t begin;
  int64_t end;
};

// Past every time: the day rollups of a store that holds every day.
inline constexpr int64_t kAllDays = (kTimeEnd + kDay - 1) / kDay * kDay;

// The spans covering `range` (both ends inclusive, open bounds = the whole
// domain), in time order, without overlap: facts for the partial hour at
// each edge, hours for the partial days, days for the rest (only hours when
// `use_days` is false, e.g. for hourly buckets). Whole days from
// `days_before` (a multiple of kDay) on are read as hours: a store whose day
// rollups stop there. Empty when the range holds no valid time.
std::vector<Span> PlanSpans(const TimeRange& range, bool use_days, int64_t days_before = kAllDays);

}  // namespace sagaflow::query
