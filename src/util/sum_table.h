// SumTable: three int64 sums per uint64 key, for aggregating a batch's rows
// before they are written (one rollup row per key). Open addressing over a
// dense entry array: no allocation per key, and clear() keeps the memory
// for the next batch. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sagaflow {

class SumTable {
 public:
  struct Entry {
    uint64_t key;
    int64_t a, b, c;
  };

  // The entry of `key`, all sums 0 when it is new. The reference is valid
  // until the next call of Find or clear.
  Entry& Find(uint64_t key);
  // Every entry, in the order their keys were first found.
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  bool empty() const noexcept { return entries_.empty(); }
  void clear() noexcept;

 private:
  void Grow();
  std::vector<uint32_t> slots_;  // 1 + index into entries_; 0: free
  std::vector<Entry> entries_;
  int shift_ = 64;  // slots_.size() == 2^(64 - shift_)
};

}  // namespace sagaflow
