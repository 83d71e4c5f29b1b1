#include "util/sum_table.h"

#include <algorithm>

namespace sagaflow {

namespace {

// Fibonacci hashing: the top bits of key * 2^64/phi, so that keys differing
// only in their low or only in their high bits spread over the table.
size_t Slot(uint64_t key, int shift) { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift); }

}  // namespace

SumTable::Entry& SumTable::Find(uint64_t key) {
  if (2 * (entries_.size() + 1) > slots_.size()) Grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = Slot(key, shift_);; i = (i + 1) & mask) {
    const uint32_t s = slots_[i];
    if (s == 0) {
      entries_.push_back({key, 0, 0, 0});
      slots_[i] = static_cast<uint32_t>(entries_.size());
      return entries_.back();
    }
    if (entries_[s - 1].key == key) return entries_[s - 1];
  }
}

void SumTable::clear() noexcept {
  if (entries_.empty()) return;
  std::fill(slots_.begin(), slots_.end(), 0);
  entries_.clear();
}

void SumTable::Grow() {
  shift_ = slots_.empty() ? 64 - 10 : shift_ - 1;
  slots_.assign(size_t{1} << (64 - shift_), 0);
  const size_t mask = slots_.size() - 1;
  for (size_t e = 0; e < entries_.size(); ++e) {
    size_t i = Slot(entries_[e].key, shift_);
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = static_cast<uint32_t>(e + 1);
  }
}

}  // namespace sagaflow
