// The prototype's event generator (`sagaflow produce`): turns a corpus of
// {"id","text"} documents into events {"id","time","readers","text"}.
// Deterministic for a given seed on every machine: it uses its own PRNG
// (xoshiro256** seeded by splitmix64) and unbiased bounded integers
// (Lemire's method) instead of <random>'s distributions, whose output differs
// between standard libraries.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sagaflow::events {

struct SourceText {
  std::string id_json;  // the id as a JSON string literal, quotes included
  std::string text;     // valid UTF-8
};

// Reads the documents of a corpus: a JSONL file (one {"id","text"} per line)
// or a directory of JSON files holding one such object each (the prototype's
// layout, read in file-name order). Unreadable documents are logged and
// skipped; *skipped counts them.
Result<std::vector<SourceText>> LoadCorpus(const std::string& path, uint64_t* skipped);

enum class Order { kSequential, kRandom };

struct GeneratorOptions {
  uint64_t seed = 1;
  uint64_t count = 0;                // events to write; 0 = one per document
  Order order = Order::kSequential;  // sequential wraps around; random picks with replacement
  int64_t start_time = 0;            // time of the first event (unix seconds)
  int64_t interval = 1;              // seconds between consecutive events
  int64_t min_readers = 100;         // readers are uniform in [min, max], as the prototype
  int64_t max_readers = 100000;
};

// Small, fast, reproducible PRNG (xoshiro256**). Not thread-safe.
class Random {
 public:
  explicit Random(uint64_t seed);
  uint64_t Next() noexcept;
  // Uniform in [0, bound), bound > 0, without modulo bias.
  uint64_t Below(uint64_t bound) noexcept;
  // Uniform in [lo, hi], lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) noexcept;

 private:
  uint64_t s_[4];
};

// Generates options.count events (or one per text) in order, calling
// emit(text, event) with the document each is made from and the event as one
// JSON object (no newline). Stops at the first error emit returns. Returns
// the number generated.
Result<uint64_t> GenerateEvents(const std::vector<SourceText>& texts, const GeneratorOptions& options,
                                const std::function<Status(const SourceText& text, std::string_view event)>& emit);

// Writes options.count events (or one per text) as JSON lines to `out`.
// Returns the number written.
Result<uint64_t> WriteEvents(const std::vector<SourceText>& texts, const GeneratorOptions& options, std::FILE* out);

}  // namespace sagaflow::events
