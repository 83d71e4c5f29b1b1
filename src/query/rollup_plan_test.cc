#include "query/rollup_plan.h"

#include <gtest/gtest.h>

#include <random>

namespace sagaflow::query {
namespace {

TEST(PlanSpans, OpenWindowIsAllDays) {
  auto spans = PlanSpans({}, true);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].grain, Grain::kDay);
  EXPECT_EQ(spans[0].begin, 0);
  EXPECT_GE(spans[0].end, kTimeEnd);
}

TEST(PlanSpans, EdgesAreFactsThenHoursThenDays) {
  // 00:30 on day 0 to 02:15 on day 3 (inclusive).
  auto spans = PlanSpans({1800, 3 * kDay + 2 * kHour + 900}, true);
  ASSERT_EQ(spans.size(), 5u);
  EXPECT_EQ(spans[0].grain, Grain::kFacts);
  EXPECT_EQ(spans[0].begin, 1800);
  EXPECT_EQ(spans[0].end, kHour);
  EXPECT_EQ(spans[1].grain, Grain::kHour);
  EXPECT_EQ(spans[1].end, kDay);
  EXPECT_EQ(spans[2].grain, Grain::kDay);
  EXPECT_EQ(spans[2].end, 3 * kDay);
  EXPECT_EQ(spans[3].grain, Grain::kHour);
  EXPECT_EQ(spans[3].end, 3 * kDay + 2 * kHour);
  EXPECT_EQ(spans[4].grain, Grain::kFacts);
  EXPECT_EQ(spans[4].end, 3 * kDay + 2 * kHour + 901);
}

TEST(PlanSpans, DaysFromDaysBeforeOnAreHours) {
  // Days 1 and 2 whole; day rollups stop at day 2.
  auto spans = PlanSpans({kDay, 3 * kDay - 1}, true, 2 * kDay);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].grain, Grain::kDay);
  EXPECT_EQ(spans[0].end, 2 * kDay);
  EXPECT_EQ(spans[1].grain, Grain::kHour);
  EXPECT_EQ(spans[1].begin, 2 * kDay);
  EXPECT_EQ(spans[1].end, 3 * kDay);
  // No day rollups at all: hours only.
  spans = PlanSpans({kDay, 3 * kDay - 1}, true, 0);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].grain, Grain::kHour);
}

TEST(PlanSpans, WithinOneHourIsFactsOnly) {
  auto spans = PlanSpans({kHour + 1, 2 * kHour - 2}, true);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].grain, Grain::kFacts);
  EXPECT_TRUE(PlanSpans({10, 5}, true).empty());
  EXPECT_TRUE(PlanSpans({std::nullopt, -1}, true).empty());
  EXPECT_TRUE(PlanSpans({kTimeEnd, std::nullopt}, true).empty());
}

// Every valid time of the window is in exactly one span, no other time is,
// and rollup spans are aligned to their grain.
TEST(PlanSpans, RandomWindowsAreCoveredExactlyOnce) {
  std::mt19937_64 rng(3);
  for (int n = 0; n < 20000; ++n) {
    TimeRange r;
    const int64_t scale = n % 2 ? 10 * kDay : kTimeEnd + kDay;
    if (rng() % 5) r.from = static_cast<int64_t>(rng() % scale) - kHour;
    if (rng() % 5) r.to = (r.from ? *r.from : 0) + static_cast<int64_t>(rng() % (3 * kDay));
    const bool days = rng() % 2;
    const int64_t days_before = rng() % 3 ? static_cast<int64_t>(rng() % (12 * kDay)) / kDay * kDay : kAllDays;
    auto spans = PlanSpans(r, days, days_before);
    const int64_t lo = std::max<int64_t>(r.from.value_or(0), 0);
    const int64_t hi = std::min<int64_t>(r.to.value_or(kTimeEnd - 1), kTimeEnd - 1);
    if (lo > hi) {
      EXPECT_TRUE(spans.empty());
      continue;
    }
    ASSERT_FALSE(spans.empty());
    EXPECT_EQ(spans.front().begin, lo);
    EXPECT_GE(spans.back().end, hi + 1);
    if (spans.back().grain == Grain::kFacts) {
      EXPECT_EQ(spans.back().end, hi + 1);
    }
    for (size_t i = 0; i < spans.size(); ++i) {
      EXPECT_LT(spans[i].begin, spans[i].end);
      if (i) {
        EXPECT_EQ(spans[i].begin, spans[i - 1].end);
      }
      const int64_t w = spans[i].grain == Grain::kDay ? kDay : spans[i].grain == Grain::kHour ? kHour : 1;
      EXPECT_EQ(spans[i].begin % w, 0);
      EXPECT_EQ(spans[i].end % w, 0);
      if (!days) {
        EXPECT_NE(spans[i].grain, Grain::kDay);
      }
      if (spans[i].grain == Grain::kDay) {
        EXPECT_LE(spans[i].end, days_before);
      }
      if (spans[i].grain == Grain::kFacts) {
        EXPECT_LE(spans[i].end - spans[i].begin, kHour);
      }
    }
  }
}

}  // namespace
}  // namespace sagaflow::query
