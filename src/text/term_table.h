// Internal to src/text: the classifier's vocabulary, a perfect hash table from
// term to feature index built for the token hot path.
//
// A term of up to 16 bytes is keyed by its bytes as two little-endian words,
// zero-padded: exact, as no term a tokenizer produces contains a NUL byte
// (terms that do are left out: they can never be counted). The rare longer
// terms live in an exact map. The table is built "hash and displace" style
// (as CHD/PTHash): a key's bucket selects a displacement that moves it to a
// slot no other key uses, so a lookup reads exactly one slot and two compares
// decide hit or miss. The common path has no data-dependent branch, so
// consecutive lookups overlap in the CPU.
// Immutable after construction; lookups are thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sagaflow::text::internal {

// The low `bytes` bytes of a word (all of them from 8 on).
constexpr uint64_t ByteMask(size_t bytes) { return bytes >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * bytes)) - 1; }

class TermTable {
  struct Slot;

 public:
  static constexpr uint32_t kMissSpread = 8;  // RunFinder's misses: terms.size() + [0, 8)
  static constexpr size_t kShortTerm = 16;    // longest term kept in the slots

  TermTable() : TermTable({}, 1) {}

  // terms[j] gets feature index j; terms must be distinct. Terms of fewer
  // than min_chars code points, or with a NUL byte, are left out: the
  // tokenizer never produces them, so they can never be counted (and
  // RunFinder need not check lengths).
  TermTable(const std::vector<std::string>& terms, size_t min_chars) : num_terms_(terms.size()) {
    std::vector<Key> keys;
    keys.reserve(terms.size());
    for (size_t j = 0; j < terms.size(); ++j) {
      const std::string& t = terms[j];
      size_t chars = 0;
      for (char c : t) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      if (chars < min_chars || t.find('\0') != std::string::npos) continue;
      if (t.size() > kShortTerm) {
        long_terms_.emplace(t, static_cast<uint32_t>(j));
      } else {
        keys.push_back(Key{Word(t.data(), t.size(), 0), Word(t.data(), t.size(), 8), static_cast<uint32_t>(j)});
      }
    }
    Build(keys);
  }

  // Feature index of `term` (exact bytes), or -1.
  int Find(std::string_view term) const noexcept {
    if (term.size() > kShortTerm) {
      auto it = long_terms_.find(term);
      return it == long_terms_.end() ? -1 : static_cast<int>(it->second);
    }
    if (term.empty() || term.find('\0') != std::string_view::npos) return -1;
    const uint64_t w0 = Word(term.data(), term.size(), 0), w1 = Word(term.data(), term.size(), 8);
    const uint64_t h = KeyHash(w0, w1);
    const Slot& s = slots_[Position(h, displacements_[h >> shift_])];
    return s.w0 == w0 && s.w1 == w1 ? static_cast<int>(s.answer[0]) : -1;
  }

  // The classifier's hot path: the feature index of the run p[0..n) (n >= 1)
  // of ASCII word bytes, already in the model's case (the caller lowercases
  // a copy of the text when the model lowercases). A miss returns
  // terms.size() + a value in [0, kMissSpread) that varies between tokens,
  // so that a caller counting misses into dummy features does not chain
  // every increment on one counter. Reads p[0..max(n, 16)): the caller scans
  // a copy with 16 bytes of slack, so the key is two unaligned loads and two
  // masks, with no bounds check; what the slack holds does not matter.
  //
  // A RunFinder is a small copy of the table's addresses, meant to live in a
  // local variable (registers) during a scan; valid while the table lives.
  class RunFinder {
   public:
    explicit RunFinder(const TermTable& t)
        : slots_(t.slots_.data()), displacements_(t.displacements_.data()), shift_(t.shift_), table_(&t) {}

    __attribute__((always_inline)) size_t Find(const char* p, size_t n) const noexcept {
      // Runs of more than 16 bytes are about 1 in 100,000 in English text.
      if (__builtin_expect(n > kShortTerm, 0)) return table_->FindLong(p, n);
      uint64_t w0, w1;
      std::memcpy(&w0, p, 8);
      std::memcpy(&w1, p + 8, 8);
      w0 &= kKeyMask[n];
      w1 &= kKeyMask[kShortTerm + 1 + n];
      const uint64_t h = KeyHash(w0, w1);
      const Slot& s = slots_[((h ^ displacements_[h >> shift_]) * kPositionMul) >> shift_];
      // A hit: the slot's feature; a miss (or an empty slot, whose w0 = 0
      // no run has): its dummy. Hits are too irregular for a branch to
      // predict, so the outcome indexes the slot's answers.
      return s.answer[((s.w0 ^ w0) | (s.w1 ^ w1)) != 0];
    }

   private:
    const Slot* slots_;
    const uint64_t* displacements_;
    uint64_t shift_;
    const TermTable* table_;
  };

 private:
  // kKeyMask[n], kKeyMask[17 + n]: the bytes of the two key words that
  // belong to a term of n bytes (one flat array: one base register).
  static constexpr std::array<uint64_t, 2 * (kShortTerm + 1)> kKeyMask = [] {
    std::array<uint64_t, 2 * (kShortTerm + 1)> m{};
    for (size_t n = 0; n <= kShortTerm; ++n) {
      m[n] = ByteMask(n);
      m[kShortTerm + 1 + n] = n > 8 ? ByteMask(n - 8) : 0;
    }
    return m;
  }();

  struct Slot {
    uint64_t w0 = 0;  // bytes 0-7 of the term, zero-padded; 0 = empty slot
    uint64_t w1 = 0;  // bytes 8-15, zero-padded
    // [0]: the term's index (empty slot: = [1]); [1]: the dummy a miss on
    // this slot returns.
    uint32_t answer[2] = {0, 0};
  };
  struct Key {
    uint64_t w0, w1;
    uint32_t feature;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  // Bytes [from, from + 8) of p[0..n), zero-padded.
  static uint64_t Word(const char* p, size_t n, size_t from) noexcept {
    uint64_t w = 0;
    if (from < n) std::memcpy(&w, p + from, n - from < 8 ? n - from : 8);
    return w;
  }

  static uint64_t KeyHash(uint64_t w0, uint64_t w1) noexcept {
    return (w0 ^ ((w1 << 29) | (w1 >> 35))) * 0x9E3779B97F4A7C15ull;
  }
  static uint64_t Displacement(uint32_t d) noexcept { return d * 0xD6E8FEB86659FD93ull; }
  static constexpr uint64_t kPositionMul = 0xFF51AFD7ED558CCDull;
  // The slot of a key of hash h in bucket h >> shift_ (as many buckets as
  // slots: one shift for both, so the hot path keeps one shift count).
  size_t Position(uint64_t h, uint64_t displacement) const noexcept {
    return static_cast<size_t>(((h ^ displacement) * kPositionMul) >> shift_);
  }

  // Places every key in its own slot: buckets in decreasing size each get
  // the first displacement that lands all their keys on free slots. Grows the
  // table in the (unlikely) case some bucket finds none. The table is as
  // small as the keys allow (load factor 0.5 to 1), so that it stays in the
  // L1 cache beside the text: a lookup reads one slot whatever the load.
  void Build(const std::vector<Key>& keys) {
    for (int extra = 0;; ++extra) {
      size_t slots = 16;
      while (slots < keys.size()) slots <<= 1;
      slots <<= extra;
      shift_ = 64 - __builtin_ctzll(slots);
      if (TryPlace(keys, slots)) break;
    }
    for (size_t pos = 0; pos < slots_.size(); ++pos) {
      Slot& s = slots_[pos];
      s.answer[1] = static_cast<uint32_t>(num_terms_ + (pos & (kMissSpread - 1)));
      if (s.w0 == 0) s.answer[0] = s.answer[1];
    }
  }

  bool TryPlace(const std::vector<Key>& keys, size_t slots) {
    slots_.assign(slots, Slot{});
    displacements_.assign(slots, 0);
    std::vector<std::vector<const Key*>> by_bucket(slots);
    for (const Key& k : keys) by_bucket[KeyHash(k.w0, k.w1) >> shift_].push_back(&k);
    std::vector<uint32_t> order(slots);
    for (uint32_t b = 0; b < slots; ++b) order[b] = b;
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
          size_t p = Position(KeyHash(k->w0, k->w1), Displacement(d));
          if (slots_[p].w0 != 0 || std::find(pos.begin(), pos.end(), p) != pos.end()) {
            placed = false;
            break;
          }
          pos.push_back(p);
        }
        if (placed) {
          displacements_[b] = Displacement(d);
          for (size_t i = 0; i < members.size(); ++i) {
            const Key* k = members[i];
            slots_[pos[i]] = Slot{k->w0, k->w1, {k->feature, 0}};
          }
        }
      }
      if (!placed) return false;
    }
    return true;
  }

  __attribute__((noinline)) size_t FindLong(const char* p, size_t n) const noexcept {
    auto it = long_terms_.find(std::string_view(p, n));
    return it == long_terms_.end() ? num_terms_ : it->second;
  }

  size_t num_terms_;
  std::vector<Slot> slots_;
  std::vector<uint64_t> displacements_;  // per bucket, premultiplied
  uint64_t shift_ = 60;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> long_terms_;
};

}  // namespace sagaflow::text::internal
