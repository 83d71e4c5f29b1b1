#include "events/event_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace sagaflow::events {
namespace {

struct Parsed {
  bool ok;
  Event event;
  Rejection rejection;
  std::string id, text;  // copies: the event's views die with the parser's next parse
};

Parsed Parse(EventParser& p, std::string_view record) {
  simdjson::padded_string padded(record);
  Parsed r;
  r.ok = p.Parse(std::string_view(padded.data(), padded.size()), &r.event, &r.rejection);
  if (r.ok) {
    r.id.assign(r.event.id);
    r.text.assign(r.event.text);
  }
  return r;
}

TEST(EventParser, AcceptsTheContractAndIgnoresUnknownFields) {
  EventParser p;
  auto r = Parse(p, R"({"id":"a1","time":1700000000,"readers":42,"text":"Winter \u00e9","extra":[1,{"x":2}]})");
  ASSERT_TRUE(r.ok) << r.rejection.detail;
  EXPECT_EQ(r.id, "a1");
  EXPECT_EQ(r.event.time, 1700000000);
  EXPECT_EQ(r.event.readers, 42);
  EXPECT_EQ(r.text, "Winter \xC3\xA9");
}

TEST(EventParser, AcceptsBoundsAndEmptyText) {
  EventParser p;
  auto r = Parse(p, R"({"text":"","readers":0,"time":0,"id":"x"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.text, "");
  r = Parse(p, R"({"id":"x","time":4294967295,"readers":2147483647,"text":" "})");
  ASSERT_TRUE(r.ok) << r.rejection.detail;
  EXPECT_EQ(r.event.time, kMaxTime);
  EXPECT_EQ(r.event.readers, kMaxReaders);
  r = Parse(p, R"({"id":")" + std::string(kMaxIdBytes, 'i') + R"(","time":1,"readers":1,"text":"t"})");
  EXPECT_TRUE(r.ok);
}

struct RejectCase {
  const char* record;
  RejectReason reason;
  const char* detail_part;
};

class EventParserRejects : public ::testing::TestWithParam<RejectCase> {};

TEST_P(EventParserRejects, WithReasonAndDetail) {
  EventParser p;
  const RejectCase& c = GetParam();
  auto r = Parse(p, c.record);
  ASSERT_FALSE(r.ok) << c.record;
  EXPECT_EQ(RejectReasonName(r.rejection.reason), RejectReasonName(c.reason)) << c.record;
  EXPECT_NE(r.rejection.detail.find(c.detail_part), std::string::npos) << r.rejection.detail;
}

INSTANTIATE_TEST_SUITE_P(
    Contract, EventParserRejects,
    ::testing::Values(
        RejectCase{"not json", RejectReason::kInvalidJson, "malformed JSON"},
        RejectCase{R"({"id":"a","time":1,"readers":1,"text":"t")", RejectReason::kInvalidJson, "malformed"},
        RejectCase{R"({"id":"a","time":1,"readers":1,"text":"t"} trailing)", RejectReason::kInvalidJson, "malformed"},
        RejectCase{"{\"id\":\"a\",\"time\":1,\"readers\":1,\"text\":\"bad \xFF byte\"}", RejectReason::kInvalidUtf8,
                   "UTF-8"},
        RejectCase{R"({"id":"a","time":1,"readers":1,"text":"\ud800"})", RejectReason::kInvalidJson, "surrogate"},
        RejectCase{R"([1,2])", RejectReason::kNotAnObject, "an array"},
        RejectCase{R"("text")", RejectReason::kNotAnObject, "a string"},
        RejectCase{R"({"time":1,"readers":1,"text":"t"})", RejectReason::kMissingField, "\"id\""},
        RejectCase{R"({"id":"a","readers":1,"text":"t"})", RejectReason::kMissingField, "\"time\""},
        RejectCase{R"({"id":"a","time":1,"text":"t"})", RejectReason::kMissingField, "\"readers\""},
        RejectCase{R"({"id":"a","time":1,"readers":1})", RejectReason::kMissingField, "\"text\""},
        RejectCase{R"({"id":7,"time":1,"readers":1,"text":"t"})", RejectReason::kWrongType, "\"id\" must be a string"},
        RejectCase{R"({"id":"a","time":1,"readers":1,"text":null})", RejectReason::kWrongType, "not null"},
        RejectCase{R"({"id":"a","time":"1","readers":1,"text":"t"})", RejectReason::kWrongType, "\"time\""},
        RejectCase{R"({"id":"a","time":1.5,"readers":1,"text":"t"})", RejectReason::kWrongType, "fraction"},
        RejectCase{R"({"id":"a","time":1,"readers":1e3,"text":"t"})", RejectReason::kWrongType, "\"readers\""},
        RejectCase{R"({"id":"a","time":1,"readers":true,"text":"t"})", RejectReason::kWrongType, "boolean"},
        RejectCase{R"({"id":"a","id":"b","time":1,"readers":1,"text":"t"})", RejectReason::kDuplicateField, "twice"},
        RejectCase{R"({"id":"","time":1,"readers":1,"text":"t"})", RejectReason::kEmptyId, "empty"},
        RejectCase{R"({"id":"a","time":1,"readers":-1,"text":"t"})", RejectReason::kNegativeReaders, "negative"},
        RejectCase{R"({"id":"a","time":1,"readers":2147483648,"text":"t"})", RejectReason::kReadersOutOfRange,
                   "2147483648"},
        RejectCase{R"({"id":"a","time":1,"readers":18446744073709551615,"text":"t"})", RejectReason::kReadersOutOfRange,
                   "maximum"},
        RejectCase{R"({"id":"a","time":-1,"readers":1,"text":"t"})", RejectReason::kTimeOutOfRange, "outside"},
        RejectCase{R"({"id":"a","time":4294967296,"readers":1,"text":"t"})", RejectReason::kTimeOutOfRange,
                   "outside"}));

TEST(EventParser, RejectsOverLongId) {
  EventParser p;
  auto r = Parse(p, R"({"id":")" + std::string(kMaxIdBytes + 1, 'i') + R"(","time":1,"readers":1,"text":"t"})");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.rejection.reason, RejectReason::kIdTooLong);
}

TEST(EventParser, ReasonNamesAreDistinctAndStable) {
  std::set<std::string_view> names;
  for (int i = 0; i < kRejectReasonCount; ++i) names.insert(RejectReasonName(static_cast<RejectReason>(i)));
  EXPECT_EQ(names.size(), static_cast<size_t>(kRejectReasonCount));
  EXPECT_EQ(RejectReasonName(RejectReason::kTooLarge), "too_large");
  EXPECT_EQ(RejectReasonName(RejectReason::kTimeOutOfRange), "time_out_of_range");
}

TEST(EventParser, ReusableAfterRejection) {
  EventParser p;
  EXPECT_FALSE(Parse(p, "{").ok);
  auto r = Parse(p, R"({"id":"ok","time":5,"readers":6,"text":"fine"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.text, "fine");
}

}  // namespace
}  // namespace sagaflow::events
