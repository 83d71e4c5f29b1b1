// Internal to src/text: the classifier's vocabulary, a perfect hash table from
// term to feature index built for the token hot path.
//
// A term is keyed by its first 8 bytes, its last 8 bytes (when longer than 8)
// and its length, which identifies every term of up to 16 bytes exactly; the
// rare longer terms are confirmed against an exact map. The table is built
// "hash and displace" style (as CHD/PTHash): a key's bucket selects a
// displacement that moves it to a slot no other key uses, so a lookup reads
// exactly one slot and one compare decides hit or miss. The common path has
// no data-dependent branch, so consecutive lookups overlap in the CPU.
// Immutable after construction; lookups are thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sagaflow::text::internal {

class TermTable {
  struct Slot;

 public:
  static constexpr uint32_t kMissSpread = 8;  // FindRun's misses: first_miss + [0, 8)

  TermTable() : TermTable({}, 1) {}

  // terms[j] gets feature index j; terms must be distinct. Terms of fewer
  // than min_chars code points are left out: the tokenizer never produces
  // them, so they can never be counted (and FindRun need not check lengths).
  TermTable(const std::vector<std::string>& terms, size_t min_chars) {
    std::vector<Key> keys;
    keys.reserve(terms.size());
    std::deque<std::string> key_ids;  // prefix, tail and length of each long term, as bytes
    std::unordered_map<std::string_view, int, StringHash, std::equal_to<>> long_keys;
    for (size_t j = 0; j < terms.size(); ++j) {
      const std::string& t = terms[j];
      size_t chars = 0;
      for (char c : t) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      if (chars < min_chars) continue;
      Key k{PrefixOf(t.data(), t.size()), TailOf(t.data(), t.size()), static_cast<uint32_t>(t.size()),
            static_cast<int32_t>(j)};
      if (t.size() > 16) {
        // Confirmed in the exact map; long terms sharing a key share a slot.
        long_terms_.emplace(t, static_cast<int>(j));
        k.feature = kLongTerm;
        char id[20];
        std::memcpy(id, &k.prefix, 8);
        std::memcpy(id + 8, &k.tail, 8);
        std::memcpy(id + 16, &k.len, 4);
        key_ids.emplace_back(id, sizeof id);
        if (!long_keys.emplace(key_ids.back(), 0).second) continue;
      }
      keys.push_back(k);
    }
    Build(keys);
  }

  // Feature index of `term` (exact bytes), or -1.
  int Find(std::string_view term) const noexcept {
    if (term.size() > 16) {
      auto it = long_terms_.find(term);
      return it == long_terms_.end() ? -1 : it->second;
    }
    uint64_t w = PrefixOf(term.data(), term.size()), tail = TailOf(term.data(), term.size());
    const Slot& s = slots_[SlotOf(KeyHash(w, term.size(), tail))];
    return s.prefix == w && s.tail == tail && s.len == term.size() ? s.feature : -1;
  }

  // The classifier's hot path: the feature index of the run p[0..n) of ASCII
  // word bytes, already in the model's case (the caller lowercases a copy of
  // the text when the model lowercases). A miss returns first_miss + a value
  // in [0, kMissSpread) that varies between tokens, so that a caller counting
  // misses into dummy features does not chain every increment on one
  // counter. Reads p[0..max(n, 8)): the caller scans a copy padded with 8
  // bytes, so the key is two unaligned loads and no bounds check.
  //
  // A RunFinder is a small copy of the table's addresses, meant to live in a
  // local variable (registers) during a scan; valid while the table lives.
  class RunFinder {
   public:
    explicit RunFinder(const TermTable& t)
        : slots_(t.slots_.data()),
          displacements_(t.displacements_.data()),
          slot_shift_(t.slot_shift_),
          bucket_shift_(t.bucket_shift_),
          table_(&t) {}

    __attribute__((always_inline)) uint32_t Find(const char* p, size_t n, uint32_t first_miss) const noexcept {
      const uint64_t long_mask = -static_cast<uint64_t>(n > 8);
      uint64_t w, tail;
      std::memcpy(&w, p, 8);
      w &= kPrefixMask[n < 8 ? n : 8];
      std::memcpy(&tail, p + ((n - 8) & long_mask), 8);
      tail &= long_mask;
      const uint64_t h = KeyHash(w, n, tail);
      const size_t pos = static_cast<size_t>(((h ^ displacements_[h >> bucket_shift_]) * kPositionMul) >> slot_shift_);
      const Slot& s = slots_[pos];
      const uint64_t match = ((s.prefix ^ w) | (s.tail ^ tail) | (s.len ^ n)) == 0;
      if (__builtin_expect(match & static_cast<uint64_t>(n > 16), 0)) return table_->FindLong(p, n, first_miss);
      // match ? s.feature : a dummy, selected with a mask.
      const uint32_t keep = -static_cast<uint32_t>(match);
      const uint32_t miss = first_miss + static_cast<uint32_t>(pos & (kMissSpread - 1));
      return (static_cast<uint32_t>(s.feature) & keep) | (miss & ~keep);
    }

   private:
    const Slot* slots_;
    const uint64_t* displacements_;
    uint64_t slot_shift_, bucket_shift_;
    const TermTable* table_;
  };

 private:
  static constexpr int32_t kLongTerm = -2;  // slot feature: confirm in long_terms_
  static constexpr uint64_t kPrefixMask[9] = {0,
                                              0xFF,
                                              0xFFFF,
                                              0xFFFFFF,
                                              0xFFFFFFFF,
                                              0xFFFFFFFFFF,
                                              0xFFFFFFFFFFFF,
                                              0xFFFFFFFFFFFFFF,
                                              0xFFFFFFFFFFFFFFFF};

  struct Slot {
    uint64_t prefix = 0;  // first min(8, len) bytes, little-endian, zero-padded
    uint64_t tail = 0;    // TailOf the term
    uint64_t len = 0;     // 0: empty (no run matches: runs are never empty)
    int32_t feature = -1;
  };
  struct Key {
    uint64_t prefix, tail;
    uint32_t len;
    int32_t feature;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  static uint64_t PrefixOf(const char* p, size_t n) noexcept {
    uint64_t w = 0;
    std::memcpy(&w, p, n < 8 ? n : 8);
    return w;
  }
  // The last 8 bytes of a term longer than 8 bytes, else 0.
  static uint64_t TailOf(const char* p, size_t n) noexcept {
    uint64_t t = 0;
    if (n > 8) std::memcpy(&t, p + n - 8, 8);
    return t;
  }

  static uint64_t KeyHash(uint64_t w, size_t n, uint64_t tail) noexcept {
    return (w ^ n ^ ((tail << 29) | (tail >> 35))) * 0x9E3779B97F4A7C15ull;
  }
  static uint64_t Displacement(uint32_t d) noexcept { return d * 0xD6E8FEB86659FD93ull; }
  static constexpr uint64_t kPositionMul = 0xFF51AFD7ED558CCDull;
  size_t Position(uint64_t h, uint64_t displacement) const noexcept {
    return static_cast<size_t>(((h ^ displacement) * kPositionMul) >> slot_shift_);
  }
  size_t SlotOf(uint64_t h) const noexcept { return Position(h, displacements_[h >> bucket_shift_]); }

  // Places every key in its own slot: buckets in decreasing size each get
  // the first displacement that lands all their keys on free slots. Grows the
  // table in the (unlikely) case some bucket finds none.
  void Build(const std::vector<Key>& keys) {
    for (int extra = 0;; ++extra) {
      size_t slots = 16, buckets = 2;
      while (slots < 2 * keys.size()) slots <<= 1;
      slots <<= extra;
      while (buckets * 2 <= keys.size()) buckets <<= 1;  // about 1-2 keys per bucket
      slot_shift_ = 64 - __builtin_ctzll(slots);
      bucket_shift_ = 64 - __builtin_ctzll(buckets);
      if (TryPlace(keys, slots, buckets)) return;
    }
  }

  bool TryPlace(const std::vector<Key>& keys, size_t slots, size_t buckets) {
    slots_.assign(slots, Slot{});
    displacements_.assign(buckets, 0);
    std::vector<std::vector<const Key*>> by_bucket(buckets);
    for (const Key& k : keys) by_bucket[KeyHash(k.prefix, k.len, k.tail) >> bucket_shift_].push_back(&k);
    std::vector<uint32_t> order(buckets);
    for (uint32_t b = 0; b < buckets; ++b) order[b] = b;
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return by_bucket[a].size() > by_bucket[b].size(); });
    std::vector<size_t> pos;
    for (uint32_t b : order) {
      const auto& members = by_bucket[b];
      if (members.empty()) break;
      bool placed = false;
      for (uint32_t d = 0; d < (1u << 20) && !placed; ++d) {
        pos.clear();
        placed = true;
        for (const Key* k : members) {
          size_t p = Position(KeyHash(k->prefix, k->len, k->tail), Displacement(d));
          if (slots_[p].len != 0 || std::find(pos.begin(), pos.end(), p) != pos.end()) {
            placed = false;
            break;
          }
          pos.push_back(p);
        }
        if (placed) {
          displacements_[b] = Displacement(d);
          for (size_t i = 0; i < members.size(); ++i) {
            const Key* k = members[i];
            slots_[pos[i]] = Slot{k->prefix, k->tail, k->len, k->feature};
          }
        }
      }
      if (!placed) return false;
    }
    return true;
  }

  __attribute__((noinline)) uint32_t FindLong(const char* p, size_t n, uint32_t first_miss) const noexcept {
    auto it = long_terms_.find(std::string_view(p, n));
    return it == long_terms_.end() ? first_miss : static_cast<uint32_t>(it->second);
  }

  std::vector<Slot> slots_;
  std::vector<uint64_t> displacements_;  // per bucket, premultiplied
  uint64_t slot_shift_ = 60;
  uint64_t bucket_shift_ = 63;
  std::unordered_map<std::string, int, StringHash, std::equal_to<>> long_terms_;
};

}  // namespace sagaflow::text::internal
