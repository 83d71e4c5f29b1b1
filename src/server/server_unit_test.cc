// The pieces of the HTTP service that need no server: the metrics registry's
// exposition, the pipeline counters as metrics, token comparison and parsing.
#include <gtest/gtest.h>

#include <thread>

#include "server/auth.h"
#include "server/metrics.h"
#include "server/pipeline_metrics.h"

namespace sagaflow::server {
namespace {

TEST(MetricsTest, RendersCountersGaugesAndHistogramsInTextFormat) {
  MetricsRegistry r;
  CounterFamily* c = r.AddCounter("x_requests_total", "Requests\nby route", {"route", "code"});
  c->With({"/a", "200"})->Increment(3);
  c->With({"/b\"\\\n", "404"})->Increment();
  r.AddGauge("x_in_flight", "In flight")->With({})->Set(2);
  HistogramFamily* h = r.AddHistogram("x_seconds", "Latency", {"route"}, {0.1, 1});
  Histogram* a = h->With({"/a"});
  for (double v : {0.05, 0.1, 0.5, 3.0}) a->Observe(v);
  r.AddCollector([](MetricsText& t) {
    t.Family("x_extra", "gauge", "From elsewhere");
    t.Sample("x_extra", {{"partition", "0"}}, 1.5);
  });
  EXPECT_EQ(r.Render(),
            "# HELP x_requests_total Requests\\nby route\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{route=\"/a\",code=\"200\"} 3\n"
            "x_requests_total{route=\"/b\\\"\\\\\\n\",code=\"404\"} 1\n"
            "# HELP x_in_flight In flight\n"
            "# TYPE x_in_flight gauge\n"
            "x_in_flight 2\n"
            "# HELP x_seconds Latency\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{route=\"/a\",le=\"0.1\"} 2\n"
            "x_seconds_bucket{route=\"/a\",le=\"1\"} 3\n"
            "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
            "x_seconds_sum{route=\"/a\"} 3.65\n"
            "x_seconds_count{route=\"/a\"} 4\n"
            "# HELP x_extra From elsewhere\n"
            "# TYPE x_extra gauge\n"
            "x_extra{partition=\"0\"} 1.5\n");
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry r;
  CounterFamily* c = r.AddCounter("n_total", "n", {"t"});
  HistogramFamily* h = r.AddHistogram("d_seconds", "d", {});
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c->With({std::to_string(i % 3)})->Increment();
        h->With({})->Observe(0.001 * (i % 7));
        if (i % 1000 == 0) r.Render();
      }
    });
  }
  for (auto& t : threads) t.join();
  uint64_t total = 0;
  c->ForEach([&](const std::vector<std::string>&, const Counter& k) { total += k.value(); });
  EXPECT_EQ(total, 40000u);
  EXPECT_EQ(h->With({})->Read().count, 40000u);
}

TEST(MetricsTest, PipelineCountersBecomeFamilies) {
  pipeline::PipelineCounters counters("file", "sqlite");
  counters.source.received = 10;
  counters.sink.dropped = 2;
  counters.classified = 7;
  counters.empty = 1;
  counters.rejected_by_reason[static_cast<size_t>(events::RejectReason::kInvalidJson)] = 2;
  std::string out;
  MetricsText text(&out);
  AppendPipelineMetrics(counters.Snapshot(), text);
  for (const char* line :
       {"sagaflow_component_received_total{component=\"source\",kind=\"file\"} 10\n",
        "sagaflow_component_dropped_total{component=\"sink\",kind=\"sqlite\"} 2\n",
        "sagaflow_events_total{status=\"classified\"} 7\n", "sagaflow_events_total{status=\"empty\"} 1\n",
        "sagaflow_rejected_total{reason=\"invalid_json\"} 2\n", "sagaflow_duplicates_total 2\n",
        "sagaflow_records_read_total 10\n", "# TYPE sagaflow_rejected_total counter\n"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
  }
}

TEST(AuthTest, ConstantTimeEqualsIsEquality) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abd", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "abc"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("abc\0", 4), "abc"));
}

TEST(AuthTest, BearerTokens) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bEaReR   abc  "), "abc");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken("Bearerabc"), "");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken(""), "");
}

}  // namespace
}  // namespace sagaflow::server
