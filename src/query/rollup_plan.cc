#include "query/rollup_plan.h"

#include <algorithm>

namespace sagaflow::query {

namespace {

int64_t FloorTo(int64_t t, int64_t width) { return t / width * width; }  // t >= 0
int64_t CeilTo(int64_t t, int64_t width) { return (t + width - 1) / width * width; }

void Add(std::vector<Span>* out, Grain grain, int64_t begin, int64_t end) {
  if (begin < end) out->push_back({grain, begin, end});
}

}  // namespace

std::vector<Span> PlanSpans(const TimeRange& range, bool use_days, int64_t days_before) {
  const int64_t begin = std::max<int64_t>(range.from.value_or(0), 0);
  // No time lies past kTimeEnd: an open or later end extends to a whole day,
  // so that it needs no facts.
  const int64_t end = range.to && *range.to < kTimeEnd - 1 ? *range.to + 1 : kAllDays;
  std::vector<Span> out;
  if (begin >= end || begin >= kTimeEnd) return out;
  const int64_t hours_begin = CeilTo(begin, kHour), hours_end = FloorTo(end, kHour);
  if (hours_begin >= hours_end) {  // no whole hour inside: at most two partial ones
    Add(&out, Grain::kFacts, begin, std::min(hours_begin, end));
    Add(&out, Grain::kFacts, hours_begin, end);
    return out;
  }
  Add(&out, Grain::kFacts, begin, hours_begin);
  const int64_t days_begin = CeilTo(hours_begin, kDay);
  const int64_t days_end = std::min(FloorTo(hours_end, kDay), FloorTo(std::max<int64_t>(days_before, 0), kDay));
  if (!use_days || days_begin >= days_end) {
    Add(&out, Grain::kHour, hours_begin, hours_end);
  } else {
    Add(&out, Grain::kHour, hours_begin, days_begin);
    Add(&out, Grain::kDay, days_begin, days_end);
    Add(&out, Grain::kHour, days_end, hours_end);
  }
  Add(&out, Grain::kFacts, hours_end, end);
  return out;
}

}  // namespace sagaflow::query
