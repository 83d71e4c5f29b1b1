#include "sinks/clickhouse/rollups.h"

#include <gtest/gtest.h>

#include <string>

#include "sinks/clickhouse/sql.h"

namespace sagaflow::sinks::clickhouse {
namespace {

constexpr uint64_t kDay = 86400;
constexpr uint64_t kHour = 3600;

RollupPrefix P(uint64_t upto, uint64_t a, size_t hours = 1) {
  RollupPrefix p{upto, {}};
  for (size_t h = 0; h < hours; ++h) p.hours.push_back({static_cast<uint8_t>(h), {a, a + 1, a + 2}});
  return p;
}

// Stages one batch of `source` touching one key of the day of `time`,
// ending at `horizon`.
void StageBatch(KnownPrefixes* known, uint64_t source, uint64_t time, uint64_t horizon, uint64_t value) {
  known->Stage(RollupKey{1, time / kDay * kDay, 7, source}, P(horizon, value));
  known->StageStream(source, horizon, time / kDay * kDay);
}

// Streams 5 and 6, one batch each committed, in the same day.
KnownPrefixes TwoStreamsKnown() {
  KnownPrefixes known;
  StageBatch(&known, 5, kHour, 40, 10);
  StageBatch(&known, 6, kHour, 90, 20);
  known.Commit();
  return known;
}

TEST(KnownPrefixes, AStreamIsKnownOnceABatchOfItLanded) {
  KnownPrefixes known;
  EXPECT_FALSE(known.Continues(5, 0));
  StageBatch(&known, 5, kHour, 40, 10);
  EXPECT_FALSE(known.Continues(5, 41)) << "staged, not committed";
  known.Commit();
  EXPECT_TRUE(known.Continues(5, 41));
  EXPECT_EQ(known.Horizon(5), 40u);
  EXPECT_TRUE(known.Knows(5, 0));
  EXPECT_FALSE(known.Knows(5, kDay));
  EXPECT_FALSE(known.Knows(6, 0));
  const RollupPrefix* p = known.Find(RollupKey{1, 0, 7, 5});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->upto, 40u);
  ASSERT_EQ(p->hours.size(), 1u);
  EXPECT_EQ(p->hours[0].values[2], 12u);
  EXPECT_EQ(known.Find(RollupKey{1, 0, 8, 5}), nullptr);
  EXPECT_EQ(known.keys(), 1u);
  EXPECT_EQ(known.hours(), 1u);
}

TEST(KnownPrefixes, ARecordAtOrBeforeTheHorizonForgetsTheStreamOnly) {
  KnownPrefixes known = TwoStreamsKnown();
  EXPECT_FALSE(known.Continues(5, 40));  // a re-sent record: restarted
  EXPECT_FALSE(known.Knows(5, 0));
  EXPECT_EQ(known.Find(RollupKey{1, 0, 7, 5}), nullptr);
  EXPECT_FALSE(known.Continues(5, 41)) << "forgotten";
  EXPECT_TRUE(known.Continues(6, 91));
  EXPECT_NE(known.Find(RollupKey{1, 0, 7, 6}), nullptr);
  EXPECT_EQ(known.keys(), 1u);
  known.Forget(6);
  EXPECT_EQ(known.keys(), 0u);
  EXPECT_EQ(known.hours(), 0u);
}

TEST(KnownPrefixes, AStreamKnowsTheDaysItsLastBatchTouched) {
  KnownPrefixes known = TwoStreamsKnown();
  // Stream 5 moves on to the next day.
  StageBatch(&known, 5, kDay + kHour, 80, 30);
  known.Commit();
  EXPECT_EQ(known.Horizon(5), 80u);
  EXPECT_FALSE(known.Knows(5, 0));
  EXPECT_EQ(known.Find(RollupKey{1, 0, 7, 5}), nullptr);
  EXPECT_TRUE(known.Knows(5, kDay));
  EXPECT_EQ(known.Find(RollupKey{1, kDay, 7, 5})->hours[0].values[0], 30u);
  // Stream 6 was not in that batch: it keeps what it knew.
  EXPECT_TRUE(known.Knows(6, 0));
  EXPECT_EQ(known.Find(RollupKey{1, 0, 7, 6})->upto, 90u);
  EXPECT_EQ(known.keys(), 2u);
}

TEST(KnownPrefixes, AFailedBatchAndTooManyHoursForgetEverything) {
  KnownPrefixes known(5);
  StageBatch(&known, 5, kHour, 40, 10);
  known.Commit();
  StageBatch(&known, 5, kDay, 80, 30);
  known.Clear();  // the batch failed: neither it nor what came before is known
  EXPECT_FALSE(known.Continues(5, 81));
  EXPECT_EQ(known.keys(), 0u);
  known.Commit();
  EXPECT_EQ(known.keys(), 0u) << "the failed batch's stage is gone";
  known.Stage(RollupKey{1, 0, 7, 5}, P(40, 10, 4));
  known.StageStream(5, 40, 0);
  known.Commit();
  EXPECT_EQ(known.hours(), 4u);
  known.Stage(RollupKey{1, 0, 7, 5}, P(50, 10, 5));  // the same key, longer
  known.StageStream(5, 50, 0);
  known.Commit();
  EXPECT_EQ(known.hours(), 5u);
  EXPECT_TRUE(known.Continues(5, 51));
  StageBatch(&known, 6, kHour, 40, 10);
  known.Commit();  // 6 hours > 5
  EXPECT_EQ(known.hours(), 0u);
  EXPECT_FALSE(known.Continues(5, 51));
}

// One stream's events, each mentioning entity 0 of saga 0 once.
struct Events {
  pipeline::Batch batch;
  std::vector<uint64_t> source_ids{77}, saga_ids{1000}, entity_ids{2000};
  explicit Events(const std::vector<std::pair<uint64_t, int64_t>>& position_time) {
    for (const auto& [position, time] : position_time) {
      pipeline::EventRow e;
      e.stream = 0;
      e.position = position;
      e.time = time;
      e.saga = 0;
      e.readers = 10;
      e.first_mention = static_cast<uint32_t>(batch.mentions.size());
      e.mention_count = 1;
      batch.mentions.push_back(pipeline::MentionRow{0, 2});
      batch.events.push_back(e);
    }
    pipeline::StreamCheckpoint s;
    s.key = "stream";
    s.checkpoint.position = position_time.back().first;
    batch.streams.push_back(s);
  }
  RollupInput Input() const { return {&batch, &source_ids, &saga_ids, &entity_ids}; }
};

// A read-back that answers nothing and counts its calls.
struct NothingStored {
  int calls = 0;
  Result<std::string> operator()(const std::string&) {
    ++calls;
    return std::string();
  }
};

TEST(RollupRows, ADayRowHoldsItsHoursInOrderAndTheirTotals) {
  // Hours 5, 1 and 5 again of day 2; hour 0 of day 3.
  Events in({{10, 2 * kDay + 5 * kHour}, {11, 2 * kDay + kHour + 7}, {12, 2 * kDay + 5 * kHour + 1}, {13, 3 * kDay}});
  KnownPrefixes known;
  NothingStored stored;
  auto rows = RollupRows(in.Input(), &known, std::ref(stored));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(stored.calls, 1);
  // kRollupColumns; the saga's rows (entity 0) first, in key order.
  EXPECT_EQ(*rows,
            "1000\t172800\t0\t77\t0\t30\t3\t[1,5]\t[0,0]\t[10,20]\t[1,2]\t13\n"
            "1000\t172800\t2000\t77\t6\t30\t3\t[1,5]\t[2,4]\t[10,20]\t[1,2]\t13\n"
            "1000\t259200\t0\t77\t0\t10\t1\t[0]\t[0]\t[10]\t[1]\t13\n"
            "1000\t259200\t2000\t77\t2\t10\t1\t[0]\t[2]\t[10]\t[1]\t13\n");
}

TEST(RollupRows, AKnownPrefixIsLengthenedWithoutAReadBack) {
  KnownPrefixes known;
  NothingStored stored;
  Events first({{10, 2 * kDay + 5 * kHour}});
  ASSERT_TRUE(RollupRows(first.Input(), &known, std::ref(stored)).ok());
  known.Commit();
  // The next batch: hour 3 (before the stored hour 5) and hour 5 again.
  Events next({{11, 2 * kDay + 3 * kHour}, {12, 2 * kDay + 5 * kHour}});
  auto rows = RollupRows(next.Input(), &known, [](const std::string& sql) -> Result<std::string> {
    // Only the stream's furthest checkpoint is asked for: the day is known.
    EXPECT_EQ(sql.find("rollup_days"), std::string::npos) << sql;
    return std::string("1\t0\t0\t0\t77\t0\t0\t0\t0\t10\n");
  });
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows,
            "1000\t172800\t0\t77\t0\t30\t3\t[3,5]\t[0,0]\t[10,20]\t[1,2]\t12\n"
            "1000\t172800\t2000\t77\t6\t30\t3\t[3,5]\t[2,4]\t[10,20]\t[1,2]\t12\n");
}

TEST(RollupRows, StoredHoursReachingIntoTheBatchAreNotAddedAgain) {
  // Stored: the stream's prefix up to position 11 (two events, hours 3 and 5).
  Events batch({{10, 2 * kDay + 3 * kHour}, {11, 2 * kDay + 5 * kHour}, {12, 2 * kDay + 5 * kHour}});
  KnownPrefixes known;
  auto rows = RollupRows(batch.Input(), &known, [](const std::string&) -> Result<std::string> {
    return std::string(
        "0\t1000\t172800\t2000\t77\t3\t2\t10\t1\t11\n"
        "0\t1000\t172800\t2000\t77\t5\t2\t10\t1\t11\n"
        "0\t1000\t172800\t0\t77\t3\t0\t10\t1\t11\n"
        "0\t1000\t172800\t0\t77\t5\t0\t10\t1\t11\n");
  });
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows,
            "1000\t172800\t0\t77\t0\t30\t3\t[3,5]\t[0,0]\t[10,20]\t[1,2]\t12\n"
            "1000\t172800\t2000\t77\t6\t30\t3\t[3,5]\t[2,4]\t[10,20]\t[1,2]\t12\n");
}

TEST(RollupRows, NothingIsWrittenWhereTheStoredPrefixCoversTheBatch) {
  Events batch({{10, 2 * kDay}, {11, 2 * kDay + 1}});
  KnownPrefixes known;
  auto rows = RollupRows(batch.Input(), &known, [](const std::string&) -> Result<std::string> {
    return std::string(
        "0\t1000\t172800\t2000\t77\t0\t4\t20\t2\t11\n"
        "0\t1000\t172800\t0\t77\t0\t0\t20\t2\t11\n");
  });
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, "");
}

}  // namespace
}  // namespace sagaflow::sinks::clickhouse
