// Insert throughput of a store's sink alone (no parsing, no analysis): a
// benchmark, not a test. Writes synthetic batches shaped like the pipeline's
// (2048 events of ~25-byte article ids, 8 mentions each by default, 1% dead
// letters) and prints events/s and rows/s (events + mentions + dead letters).
//
//   build/src/sinks/clickhouse/sink_bench STORE [EVENTS] [BATCH] [MENTIONS]
//   e.g. sink_bench clickhouse://127.0.0.1:8123/bench 1000000
//        sink_bench sqlite:/tmp/bench.db 1000000
// The store should be fresh: re-running into the same store measures the
// duplicate path instead.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "pipeline/store_uri.h"

using namespace sagaflow;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s STORE [EVENTS=200000] [BATCH=2048] [MENTIONS=8]\n", argv[0]);
    return 2;
  }
  const uint64_t total = argc > 2 ? std::stoull(argv[2]) : 200000;
  const uint64_t batch_size = argc > 3 ? std::stoull(argv[3]) : 2048;
  const uint32_t mentions = argc > 4 ? static_cast<uint32_t>(std::stoul(argv[4])) : 8;

  std::vector<pipeline::EntityDim> entities;
  for (int i = 0; i < 200; ++i) {
    const char* saga = i % 3 == 0 ? "got" : i % 3 == 1 ? "lotr" : "hp";
    entities.push_back({0, "Entity " + std::to_string(i), saga, 0, "character"});
  }
  auto dims = pipeline::Dimensions::Build({"got", "lotr", "hp"}, entities);
  auto sink = pipeline::OpenSink(argv[1]);
  if (!dims.ok() || !sink.ok()) {
    std::fprintf(stderr, "%s\n", (!dims.ok() ? dims.status() : sink.status()).ToString().c_str());
    return 1;
  }
  if (Status st = (*sink)->Prepare(*dims); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  std::mt19937_64 rng(1);
  uint64_t rows = 0, position = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t done = 0; done < total;) {
    pipeline::Batch b;
    b.sequence = done / batch_size;
    const uint64_t n = std::min(batch_size, total - done);
    for (uint64_t i = 0; i < n; ++i, ++position) {
      if (rng() % 100 == 0) {
        b.dead_letters.push_back({0, position, position + 1, events::RejectReason::kInvalidJson,
                                  "expected a JSON object", "{\"id\": \"broken", 14});
        continue;
      }
      pipeline::EventRow& e = b.events.emplace_back();
      e.position = position * 5000;  // byte offsets of ~5 KB events
      e.line = position + 1;
      e.article_id = "article-" + std::to_string(position) + "-abcdefghij";
      e.saga = static_cast<int32_t>(rng() % 3);
      e.readers = 100 + static_cast<int64_t>(rng() % 99901);
      e.time = 1700000000 + static_cast<int64_t>(position);
      e.first_mention = static_cast<uint32_t>(b.mentions.size());
      for (uint32_t m = 0; m < mentions; ++m) {
        b.mentions.push_back(
            {static_cast<uint32_t>(e.saga + 3 * ((rng() % 66))), 1 + static_cast<uint32_t>(rng() % 5)});
      }
      e.mention_count = mentions;
    }
    b.records = n;
    b.streams = {{"bench:stream", "synthetic", {position - 1, position, 0}}};
    auto r = (*sink)->Write(b);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    rows += r->events + r->mentions + r->dead_letters;
    done += n;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%s: %llu records in %.2f s: %.0f events/s, %.0f rows/s (%llu rows, batches of %llu, %u mentions/event)\n",
      (*sink)->Describe().c_str(), static_cast<unsigned long long>(total), s, total / s, rows / s,
      static_cast<unsigned long long>(rows), static_cast<unsigned long long>(batch_size), mentions);
  return 0;
}
