#include "sinks/clickhouse/rollups.h"

#include <gtest/gtest.h>

namespace sagaflow::sinks::clickhouse {
namespace {

constexpr int kHours = 0, kDays = 1;            // grains
constexpr int kEntityHour = 0, kEntityDay = 1;  // tables, RollupTables() order

KnownPrefixes::Prefix P(uint64_t upto, uint64_t a) { return {upto, {a, a + 1, a + 2}}; }

// Stages one batch of `source` touching the hour and the day of `bucket`
// with one key each, ending at `horizon`.
void StageBatch(KnownPrefixes* known, uint64_t source, uint64_t bucket, uint64_t horizon, uint64_t value) {
  known->Stage(kEntityHour, RollupKey{1, bucket, 7, source}, P(horizon, value));
  known->Stage(kEntityDay, RollupKey{1, bucket / 86400 * 86400, 7, source}, P(horizon, value));
  known->StageStream(source, horizon, kHours, bucket);
  known->StageStream(source, horizon, kDays, bucket / 86400 * 86400);
}

// Streams 5 and 6, one batch each committed, in the same hour.
KnownPrefixes TwoStreamsKnown() {
  KnownPrefixes known;
  StageBatch(&known, 5, 3600, 40, 10);
  StageBatch(&known, 6, 3600, 90, 20);
  known.Commit();
  return known;
}

TEST(KnownPrefixes, AStreamIsKnownOnceABatchOfItLanded) {
  KnownPrefixes known;
  EXPECT_FALSE(known.Continues(5, 0));
  StageBatch(&known, 5, 3600, 40, 10);
  EXPECT_FALSE(known.Continues(5, 41)) << "staged, not committed";
  known.Commit();
  EXPECT_TRUE(known.Continues(5, 41));
  EXPECT_EQ(known.Horizon(5), 40u);
  EXPECT_TRUE(known.Knows(5, kHours, 3600));
  EXPECT_TRUE(known.Knows(5, kDays, 0));
  EXPECT_FALSE(known.Knows(5, kHours, 7200));
  EXPECT_FALSE(known.Knows(6, kHours, 3600));
  const KnownPrefixes::Prefix* p = known.Find(kEntityHour, RollupKey{1, 3600, 7, 5});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->upto, 40u);
  EXPECT_EQ(p->values[2], 12u);
  EXPECT_EQ(known.Find(kEntityHour, RollupKey{1, 3600, 8, 5}), nullptr);
  EXPECT_EQ(known.keys(), 2u);
}

TEST(KnownPrefixes, ARecordAtOrBeforeTheHorizonForgetsTheStreamOnly) {
  KnownPrefixes known = TwoStreamsKnown();
  EXPECT_FALSE(known.Continues(5, 40));  // a re-sent record: restarted
  EXPECT_FALSE(known.Knows(5, kHours, 3600));
  EXPECT_EQ(known.Find(kEntityHour, RollupKey{1, 3600, 7, 5}), nullptr);
  EXPECT_FALSE(known.Continues(5, 41)) << "forgotten";
  EXPECT_TRUE(known.Continues(6, 91));
  EXPECT_NE(known.Find(kEntityDay, RollupKey{1, 0, 7, 6}), nullptr);
  EXPECT_EQ(known.keys(), 2u);
  known.Forget(6);
  EXPECT_EQ(known.keys(), 0u);
}

TEST(KnownPrefixes, AStreamKnowsThePairsItsLastBatchTouched) {
  KnownPrefixes known = TwoStreamsKnown();
  // Stream 5 moves on to the next hour of the same day.
  StageBatch(&known, 5, 7200, 80, 30);
  known.Commit();
  EXPECT_EQ(known.Horizon(5), 80u);
  EXPECT_FALSE(known.Knows(5, kHours, 3600));
  EXPECT_EQ(known.Find(kEntityHour, RollupKey{1, 3600, 7, 5}), nullptr);
  EXPECT_TRUE(known.Knows(5, kHours, 7200));
  EXPECT_EQ(known.Find(kEntityDay, RollupKey{1, 0, 7, 5})->values[0], 30u);
  // Stream 6 was not in that batch: it keeps what it knew.
  EXPECT_TRUE(known.Knows(6, kHours, 3600));
  EXPECT_EQ(known.Find(kEntityHour, RollupKey{1, 3600, 7, 6})->upto, 90u);
  EXPECT_EQ(known.keys(), 4u);
}

TEST(KnownPrefixes, AFailedBatchAndTooManyKeysForgetEverything) {
  KnownPrefixes known(5);
  StageBatch(&known, 5, 3600, 40, 10);
  known.Commit();
  StageBatch(&known, 5, 7200, 80, 30);
  known.Clear();  // the batch failed: neither it nor what came before is known
  EXPECT_FALSE(known.Continues(5, 81));
  EXPECT_EQ(known.keys(), 0u);
  known.Commit();
  EXPECT_EQ(known.keys(), 0u) << "the failed batch's stage is gone";
  StageBatch(&known, 5, 3600, 40, 10);
  StageBatch(&known, 6, 3600, 40, 10);
  known.Commit();
  EXPECT_EQ(known.keys(), 4u);
  StageBatch(&known, 7, 3600, 40, 10);
  known.Commit();  // 6 keys > 5
  EXPECT_EQ(known.keys(), 0u);
  EXPECT_FALSE(known.Continues(5, 41));
}

}  // namespace
}  // namespace sagaflow::sinks::clickhouse
