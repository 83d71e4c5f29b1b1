// FlatMap: a hash map for aggregating a batch's rows by key before they are
// written (one rollup row per key). Open addressing over a dense array of
// entries: no allocation per key, iteration in first-found order, and
// clear() keeps the memory for the next batch. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace sagaflow {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class FlatMap {
 public:
  struct Entry {
    Key key;
    Value value;
  };

  // The value of `key`, value-initialized when the key is new. The
  // reference is valid until the next operator[] or clear().
  Value& operator[](const Key& key) {
    if (2 * (entries_.size() + 1) > slots_.size()) Grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = Slot(key);; i = (i + 1) & mask) {
      const uint32_t s = slots_[i];
      if (s == 0) {
        entries_.push_back({key, Value{}});
        slots_[i] = static_cast<uint32_t>(entries_.size());
        return entries_.back().value;
      }
      if (entries_[s - 1].key == key) return entries_[s - 1].value;
    }
  }
  // The value of `key`, or nullptr.
  Value* Find(const Key& key) {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = Slot(key);; i = (i + 1) & mask) {
      const uint32_t s = slots_[i];
      if (s == 0) return nullptr;
      if (entries_[s - 1].key == key) return &entries_[s - 1].value;
    }
  }
  // Every entry, in the order their keys were first found.
  std::vector<Entry>& entries() noexcept { return entries_; }
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  // Keeps the entries for which keep(entry) is true, in their order.
  template <typename Pred>
  void Retain(Pred keep) {
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return !keep(e); }),
                   entries_.end());
    std::fill(slots_.begin(), slots_.end(), 0);
    if (!slots_.empty()) Reindex();
  }
  void clear() noexcept {
    if (entries_.empty()) return;
    std::fill(slots_.begin(), slots_.end(), 0);
    entries_.clear();
  }

 private:
  // Fibonacci hashing of the hash: its top bits, so that hashes differing
  // only in their low or only in their high bits spread over the table.
  size_t Slot(const Key& key) const {
    return static_cast<size_t>((static_cast<uint64_t>(Hash()(key)) * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  void Grow() {
    shift_ = slots_.empty() ? 64 - 10 : shift_ - 1;
    slots_.assign(size_t{1} << (64 - shift_), 0);
    Reindex();
  }
  void Reindex() {
    const size_t mask = slots_.size() - 1;
    for (size_t e = 0; e < entries_.size(); ++e) {
      size_t i = Slot(entries_[e].key);
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = static_cast<uint32_t>(e + 1);
    }
  }

  std::vector<uint32_t> slots_;  // 1 + index into entries_; 0: free
  std::vector<Entry> entries_;
  int shift_ = 64;  // slots_.size() == 2^(64 - shift_)
};

}  // namespace sagaflow
