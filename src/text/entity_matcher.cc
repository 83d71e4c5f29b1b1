#include "text/entity_matcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "text/unicode.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SAGAFLOW_HAVE_AVX2_KERNEL 1
#endif

// How Count finds matches fast (the rules are in entity_matcher.h):
//
// 1. A kernel classifies the text 64 bytes at a time into two bit masks:
//    ASCII word bytes ([0-9A-Za-z_]), and candidate starts: positions whose
//    next three bytes may begin some surface form (StartBytes), right after
//    a byte that is not an ASCII word byte (a byte >= 0x80 may end a
//    non-word character, so it qualifies and the exact check follows).
// 2. Most forms begin with a run of ASCII word bytes ("Jon" in "Jon Snow",
//    "King" in "King's Landing"), and a match needs the text's run of ASCII
//    word bytes at the candidate to equal it exactly: a shorter or longer
//    run would put a word byte against a non-word one. So the text's run
//    (its first 8 bytes and its length, read off the word mask) goes through
//    a bit filter of the forms' first runs, without a branch on the outcome;
//    the few survivors look the run up in a hash table, which yields the
//    trie state after it.
// 3. From there a byte trie (a double array) is walked, taking a form's
//    space on a whole run of IsSpace characters and remembering the longest
//    accepting state whose next character is not a word character.
// Forms that begin with any other byte are walked from the trie's root.

namespace sagaflow::text {

namespace {

// The kernel classifies this many bytes per call, so that the call through a
// pointer (CPU dispatch) costs nothing per byte.
constexpr size_t kChunk = 4096;
constexpr size_t kChunkBlocks = kChunk / 64;

bool IsAsciiWordByte(uint8_t b) {
  return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || b == '_';
}

// Lead bytes of every IsSpace character.
const std::array<bool, 256>& SpaceLeadBytes() {
  static const std::array<bool, 256> lead = [] {
    std::array<bool, 256> table{};
    for (char32_t c = 0; c <= 0x10FFFF; ++c) {
      if ((c < 0xD800 || c > 0xDFFF) && IsSpace(c)) {
        std::string utf8;
        AppendUtf8(c, &utf8);
        table[static_cast<uint8_t>(utf8[0])] = true;
      }
    }
    return table;
  }();
  return lead;
}

// Which three bytes can begin a surface form, as Teddy-style nibble tables:
// forms go to one of 8 buckets by their first byte, and bucket bit j
// survives at a position when the byte there and the next two bytes all
// have nibbles that some form of bucket j has at that offset. Admits extra
// triples, never misses one. The lowercase first bytes, which start common
// words, get buckets of their own. At an offset past a form's end any byte
// fits (the byte after a match is only known to be a non-word one); at a
// form's space any byte that starts an IsSpace character, and after it any
// byte (the whitespace run may go on). Bytes past the text end read as 0.
struct StartBytes {
  static constexpr int kDepth = 3;
  // Per offset, each 16-entry table twice (one copy per AVX2 lane).
  alignas(32) uint8_t lo[kDepth][32] = {};
  alignas(32) uint8_t hi[kDepth][32] = {};

  explicit StartBytes(const std::map<std::string, uint32_t>& forms) {
    std::vector<uint8_t> own_bucket;  // lowercase first bytes with a bucket of their own
    for (const auto& [form, entity] : forms) {
      const uint8_t b = static_cast<uint8_t>(form[0]);
      if (b >= 'a' && b <= 'z' && own_bucket.size() < 5 &&
          std::find(own_bucket.begin(), own_bucket.end(), b) == own_bucket.end()) {
        own_bucket.push_back(b);
      }
    }
    auto bucket_of = [&](uint8_t b) -> uint8_t {
      auto it = std::find(own_bucket.begin(), own_bucket.end(), b);
      if (it != own_bucket.end()) return static_cast<uint8_t>(1u << (it - own_bucket.begin()));
      return b >> 4 == 4 ? 1u << 5 : b >> 4 == 5 ? 1u << 6 : 1u << 7;
    };
    const std::array<bool, 256>& space_lead = SpaceLeadBytes();
    for (const auto& [form, entity] : forms) {
      const uint8_t bucket = bucket_of(static_cast<uint8_t>(form[0]));
      const size_t space = form.find(' ');
      for (size_t at = 0; at < kDepth; ++at) {
        for (int b = 0; b < 256; ++b) {
          const bool fits =
              at >= form.size() || (space < at) || (space == at ? space_lead[b] : b == static_cast<uint8_t>(form[at]));
          if (fits) Set(at, static_cast<uint8_t>(b), bucket);
        }
      }
    }
  }
  bool Admits(const uint8_t bytes[kDepth]) const {
    uint8_t buckets = 0xFF;
    for (int at = 0; at < kDepth; ++at) buckets &= lo[at][bytes[at] & 15] & hi[at][bytes[at] >> 4];
    return buckets != 0;
  }

 private:
  void Set(size_t at, uint8_t b, uint8_t bucket) {
    lo[at][b & 15] |= bucket;
    lo[at][16 + (b & 15)] |= bucket;
    hi[at][b >> 4] |= bucket;
    hi[at][16 + (b >> 4)] |= bucket;
  }
};

// The kernel's output for `blocks` 64-byte blocks of s: bit i of word[k]:
// byte 64k+i is an ASCII word byte; of start[k]: a match may start there,
// as the bytes there may begin a form (StartBytes) and the byte
// before is not an ASCII word byte (prev_nonword for the first). Bytes at
// or past `avail` are treated as 0.
struct BlockMasks {
  uint64_t word[kChunkBlocks + 2];  // a chunk, one block past it, and a zero word
  uint64_t start[kChunkBlocks + 1];
};

void PortableMasks(const StartBytes& start, const uint8_t* s, size_t avail, size_t blocks, bool prev_nonword,
                   BlockMasks* out) {
  bool after_nonword = prev_nonword;
  for (size_t k = 0; k < blocks; ++k) {
    uint64_t word = 0, begin = 0;
    for (size_t i = k * 64; i < k * 64 + 64 && i < avail; ++i) {
      const bool is_word = IsAsciiWordByte(s[i]);
      uint8_t bytes[StartBytes::kDepth];
      for (size_t at = 0; at < StartBytes::kDepth; ++at) bytes[at] = i + at < avail ? s[i + at] : 0;
      word |= uint64_t{is_word} << (i % 64);
      begin |= uint64_t{after_nonword && start.Admits(bytes)} << (i % 64);
      after_nonword = !is_word;
    }
    out->word[k] = word;
    out->start[k] = begin;
  }
}

#ifdef SAGAFLOW_HAVE_AVX2_KERNEL
// Bytes with first <= x <= first + span (unsigned): min(x - first, span) == x - first.
__attribute__((target("avx2"))) inline __m256i InRange(__m256i x, char first, char span) {
  const __m256i d = _mm256_sub_epi8(x, _mm256_set1_epi8(first));
  return _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(span)), d);
}

// Buckets of each byte of x in the nibble tables lo, hi.
__attribute__((target("avx2"))) inline __m256i Lookup(const uint8_t* lo, const uint8_t* hi, __m256i x) {
  const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
  const __m256i lo_bits =
      _mm256_shuffle_epi8(_mm256_load_si256(reinterpret_cast<const __m256i*>(lo)), _mm256_and_si256(x, low_nibbles));
  const __m256i hi_bits = _mm256_shuffle_epi8(_mm256_load_si256(reinterpret_cast<const __m256i*>(hi)),
                                              _mm256_and_si256(_mm256_srli_epi16(x, 4), low_nibbles));
  return _mm256_and_si256(lo_bits, hi_bits);
}

// p[0, 34) must be readable.
__attribute__((target("avx2"))) inline void Classify32(const StartBytes& start, const uint8_t* p, uint32_t* word,
                                                       uint32_t* begins) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  __m256i buckets = Lookup(start.lo[0], start.hi[0], v);
  for (int at = 1; at < StartBytes::kDepth; ++at) {
    const __m256i next = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + at));
    buckets = _mm256_and_si256(buckets, Lookup(start.lo[at], start.hi[at], next));
  }
  *begins = ~static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(buckets, _mm256_setzero_si256())));
  const __m256i digit = InRange(v, '0', 9);
  const __m256i alpha = InRange(_mm256_or_si256(v, _mm256_set1_epi8(0x20)), 'a', 25);
  const __m256i underscore = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('_'));
  *word = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(digit, alpha), underscore)));
}

__attribute__((target("avx2"))) void Avx2Masks(const StartBytes& start, const uint8_t* s, size_t avail, size_t blocks,
                                               bool prev_nonword, BlockMasks* out) {
  uint64_t carry = prev_nonword;
  alignas(32) uint8_t tail[96];
  for (size_t k = 0; k < blocks; ++k) {
    const uint8_t* p = s + k * 64;
    const size_t left = avail - k * 64;
    if (left < 64 + StartBytes::kDepth - 1) {  // never read past the text: classify a zero-padded copy
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, p, left);
      p = tail;
    }
    uint32_t w0, b0, w1, b1;
    Classify32(start, p, &w0, &b0);
    Classify32(start, p + 32, &w1, &b1);
    const uint64_t valid = left < 64 ? (uint64_t{1} << left) - 1 : ~uint64_t{0};
    const uint64_t word = (uint64_t{w1} << 32 | w0) & valid;
    const uint64_t begins = (uint64_t{b1} << 32 | b0) & valid;
    out->word[k] = word;
    out->start[k] = ((~word << 1) | carry) & begins;
    carry = (~word) >> 63;
  }
}
#endif

// Up to 8 bytes of s from p, s[p] in the lowest byte, zeros past s[n).
uint64_t LoadKey(const uint8_t* s, size_t n, size_t p) noexcept {
  uint64_t key = 0;
  if constexpr (std::endian::native == std::endian::little) {
    if (p + 8 <= n) {
      std::memcpy(&key, s + p, 8);
    } else {
      std::memcpy(&key, s + p, n - p);
    }
  } else {
    for (size_t j = 0; j < 8 && p + j < n; ++j) key |= uint64_t{s[p + j]} << (8 * j);
  }
  return key;
}

// The bytes of a LoadKey that belong to a run of `run` bytes (all 8 from 8 on).
inline uint64_t RunKeyMask(size_t run) noexcept {
  static constexpr uint64_t kMask[9] = {
      0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFF, 0xFFFFFFFFFFFF, 0xFFFFFFFFFFFFFF, ~uint64_t{0}};
  return kMask[std::min<size_t>(run, 8)];
}

// Maps the first run of ASCII word bytes of every form (its first 8 bytes
// and its length, lengths above 8 counting as 9) to the trie state after
// those bytes. Open addressing at most 1/4 full, behind a 32 Kibit filter,
// so that a miss (nearly every lookup) costs one bit test.
class FirstRunTable {
 public:
  struct Entry {
    uint64_t key = 0;
    uint32_t state = 0;
    uint32_t length = 0;  // 0 = empty
    // When the run is a whole prefix (length <= 8) after which the forms go
    // on only through whitespace ("the" of "the High Septon"): bit b & 63
    // is set for every byte b that may follow the whitespace. A quick
    // rejection for the common words that begin a form (Scan).
    bool only_space = false;
    uint64_t follow = 0;
  };

  explicit FirstRunTable(size_t runs) {
    size_t size = 16;
    while (size < 4 * runs) size *= 2;
    entries_.resize(size);
    shift_ = 64 - std::countr_zero(size);
  }
  void Insert(const Entry& entry) {
    const uint64_t h = Hash(entry.key, entry.length);
    filter_[(h >> 49) & 511] |= uint64_t{1} << ((h >> 43) & 63);
    for (size_t i = h >> shift_;; i = (i + 1) & (entries_.size() - 1)) {
      Entry& e = entries_[i];
      if (e.length == 0) e = entry;
      if (e.key == entry.key && e.length == entry.length) return;
    }
  }
  // False: no form begins with this run. True: one may (about 1 in 64
  // other runs pass too).
  bool MayContain(uint64_t key, size_t length) const noexcept {
    const uint64_t h = Hash(key, length);
    return (filter_[(h >> 49) & 511] >> ((h >> 43) & 63)) & 1;
  }
  // The entry of the run, or nullptr when no form begins with it.
  const Entry* Find(uint64_t key, size_t length) const noexcept {
    const uint64_t h = Hash(key, length);
    for (size_t i = h >> shift_;; i = (i + 1) & (entries_.size() - 1)) {
      const Entry& e = entries_[i];
      if (e.length == 0) return nullptr;
      if (e.key == key && e.length == length) return &e;
    }
  }

 private:
  static uint64_t Hash(uint64_t key, size_t length) noexcept { return (key + length) * 0x9E3779B97F4A7C15ull; }

  std::array<uint64_t, 512> filter_{};
  std::vector<Entry> entries_;
  int shift_;
};

// Python's ASCII whitespace: \t \n \v \f \r, \x1c-\x1f and space.
inline bool IsAsciiSpace(uint8_t b) noexcept { return (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x20); }

bool IsWordAt(const uint8_t* s, size_t n, size_t i) noexcept {
  if (s[i] < 0x80) return IsAsciiWordByte(s[i]);
  return IsWordChar(DecodeUtf8(std::string_view(reinterpret_cast<const char*>(s), n), &i));
}

// Whether the character ending just before s[p] (p > 0) is a word character.
bool IsWordBefore(const uint8_t* s, size_t n, size_t p) noexcept {
  size_t i = p - 1;
  while ((s[i] & 0xC0) == 0x80) --i;  // back to the lead byte
  return IsWordAt(s, n, i);
}

// End of the run of IsSpace characters starting at s[i] (i itself when none).
size_t SpaceRunEnd(const uint8_t* s, size_t n, size_t i) noexcept {
  const std::string_view text(reinterpret_cast<const char*>(s), n);
  while (i < n) {
    if (s[i] < 0x80) {
      if (!IsAsciiSpace(s[i])) break;
      ++i;
    } else {
      size_t j = i;
      if (!IsSpace(DecodeUtf8(text, &j))) break;
      i = j;
    }
  }
  return i;
}

// The surface forms of one scope as a byte trie laid out as a double array:
// the child of state s on byte c is t = slots_[s].base + c when
// slots_[t].check == s, so a transition is one load and one compare. The
// edge labelled ' ' is kept apart as space_child, taken on a whole run of
// IsSpace characters.
class ScopeAutomaton {
 public:
  // forms: surface form -> entity index; forms are normalized and unique.
  explicit ScopeAutomaton(const std::map<std::string, uint32_t>& forms);

  bool empty() const { return empty_; }
  // Calls on_match(entity) for every match, left to right. kAvx2: with the
  // AVX2 kernel, which only code compiled for AVX2 may call (ScanAvx2).
  template <bool kAvx2, typename OnMatch>
  void Scan(const uint8_t* s, size_t n, OnMatch&& on_match) const noexcept;

 private:
  static constexpr uint32_t kNoParent = UINT32_MAX;  // check of a slot no byte leads to
  struct Slot {
    uint32_t check = kNoParent;  // parent state
    uint32_t base = 0;           // children at base + byte
    uint32_t space_child = 0;    // 0 = none (the root, slot 0, is never a child)
    int32_t entity = -1;         // >= 0: a surface form ends here
  };

  uint32_t Child(uint32_t state, uint8_t c) const noexcept {
    const uint32_t t = slots_[state].base + c;  // slots_ has 256 spare slots: always in range
    return slots_[t].check == state ? t : 0;
  }
  void Place(const std::map<std::string, uint32_t>& forms);
  size_t Walk(const uint8_t* s, size_t n, uint32_t state, size_t i, int32_t* entity) const noexcept;

  std::vector<Slot> slots_;  // slots_[0] is the root
  FirstRunTable first_runs_;
  StartBytes start_;
  bool empty_;
};

size_t FirstRunLength(std::string_view form) {
  size_t length = 0;
  while (length < form.size() && IsAsciiWordByte(static_cast<uint8_t>(form[length]))) ++length;
  return length;
}

ScopeAutomaton::ScopeAutomaton(const std::map<std::string, uint32_t>& forms)
    : first_runs_(forms.size()), start_(forms), empty_(forms.empty()) {
  Place(forms);
  for (const auto& [form, entity] : forms) {
    const size_t run = FirstRunLength(form);
    if (run == 0) continue;  // walked from the root
    const size_t prefix = std::min<size_t>(run, 8);
    uint32_t state = 0;
    for (size_t j = 0; j < prefix; ++j) state = Child(state, static_cast<uint8_t>(form[j]));
    FirstRunTable::Entry entry{LoadKey(reinterpret_cast<const uint8_t*>(form.data()), prefix, 0), state,
                               static_cast<uint32_t>(std::min<size_t>(run, 9))};
    const Slot& slot = slots_[state];
    bool byte_children = false;
    for (int c = 0; c < 256; ++c) byte_children |= Child(state, static_cast<uint8_t>(c)) != 0;
    if (run <= 8 && slot.entity < 0 && slot.space_child != 0 && !byte_children) {
      entry.only_space = true;
      for (int c = 0; c < 256; ++c) {
        if (Child(slot.space_child, static_cast<uint8_t>(c)) != 0) entry.follow |= uint64_t{1} << (c & 63);
      }
    }
    first_runs_.Insert(entry);
  }
}

void ScopeAutomaton::Place(const std::map<std::string, uint32_t>& forms) {
  // Build with ordered child maps, then place the states breadth-first.
  struct Draft {
    std::map<uint8_t, uint32_t> kids;
    int32_t entity = -1;
  };
  std::vector<Draft> draft(1);
  for (const auto& [form, entity] : forms) {
    uint32_t node = 0;
    for (char ch : form) {
      auto [it, inserted] = draft[node].kids.emplace(static_cast<uint8_t>(ch), static_cast<uint32_t>(draft.size()));
      if (inserted) draft.emplace_back();
      node = it->second;
    }
    draft[node].entity = static_cast<int32_t>(entity);
  }

  // First fit: a state's byte children go to the lowest base whose slots
  // are all free; a space child takes the lowest free slot.
  std::vector<bool> used(1, true);  // the root
  size_t first_free = 1;
  auto is_free = [&](size_t slot) { return slot >= used.size() || !used[slot]; };
  auto take = [&](size_t slot) {
    if (slot >= used.size()) used.resize(slot + 1, false);
    used[slot] = true;
    while (!is_free(first_free)) ++first_free;
  };
  slots_.resize(256 + 1);
  std::vector<std::pair<uint32_t, uint32_t>> queue{{0, 0}};  // (draft node, state)
  std::vector<std::pair<uint8_t, uint32_t>> bytes;           // (label, draft child)
  for (size_t q = 0; q < queue.size(); ++q) {
    const auto [node, state] = queue[q];
    const Draft& d = draft[node];
    bytes.clear();
    for (const auto& [label, child] : d.kids) {
      if (label != ' ') bytes.emplace_back(label, child);
    }
    uint32_t base = 0;
    if (!bytes.empty()) {
      size_t b = first_free > bytes[0].first ? first_free - bytes[0].first : 1;
      while (!std::all_of(bytes.begin(), bytes.end(), [&](const auto& e) { return is_free(b + e.first); })) ++b;
      base = static_cast<uint32_t>(b);
    }
    for (const auto& [label, child] : bytes) {
      take(base + label);
      queue.emplace_back(child, base + label);
    }
    uint32_t space_child = 0;
    if (auto it = d.kids.find(' '); it != d.kids.end()) {
      space_child = static_cast<uint32_t>(first_free);
      take(space_child);
      queue.emplace_back(it->second, space_child);
    }
    slots_.resize(std::max(slots_.size(), used.size() + 256));
    Slot& slot = slots_[state];
    slot.base = base;
    slot.space_child = space_child;
    slot.entity = d.entity;
    for (const auto& [label, child] : bytes) slots_[base + label].check = state;
  }
}

// From `state` at s[i], the end of the longest form whose next character is
// not a word character (setting *entity), or 0.
size_t ScopeAutomaton::Walk(const uint8_t* s, size_t n, uint32_t state, size_t i, int32_t* entity) const noexcept {
  size_t best = 0;
  for (;;) {
    const Slot& slot = slots_[state];
    if (slot.entity >= 0 && (i == n || !IsWordAt(s, n, i))) {
      best = i;
      *entity = slot.entity;
    }
    if (i >= n) break;
    if (slot.space_child != 0) {
      if (size_t j = SpaceRunEnd(s, n, i); j != i) {
        state = slot.space_child;
        i = j;
        continue;
      }
    }
    state = Child(state, s[i]);
    if (state == 0) break;
    ++i;
  }
  return best;
}

// Appends the offsets of the set bits of `mask` (+ base) to out[*count...],
// eight at a time without a branch per bit; writes up to 63 entries past
// the new count.
inline void AppendBits(uint64_t mask, uint16_t base, uint16_t* out, size_t* count) noexcept {
  const int bits = std::popcount(mask);
  uint16_t* dst = out + *count;
  for (int done = 0; done < bits; done += 8) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      dst[done + j] = static_cast<uint16_t>(base + std::countr_zero(mask | (uint64_t{1} << 63)));
      mask &= mask - 1;
    }
  }
  *count += bits;
}

template <bool kAvx2, typename OnMatch>
void ScopeAutomaton::Scan(const uint8_t* s, size_t n, OnMatch&& on_match) const noexcept {
  BlockMasks masks;
  uint16_t starts[kChunk + 64];  // candidate offsets in the chunk
  uint16_t hits[kChunk];         // those that pass the first-run filter
  uint8_t hit_runs[kChunk];      // and the length of their first run (up to 9)
  size_t resume = 0;             // matches do not overlap: no candidate before the last match's end
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t len = std::min(kChunk, n - base);
    // One block more than the chunk's, for the word runs that cross its end.
    const size_t blocks = (std::min(n - base, len + 64) + 63) / 64;
    const bool prev_nonword = base == 0 || !IsAsciiWordByte(s[base - 1]);
#ifdef SAGAFLOW_HAVE_AVX2_KERNEL
    if constexpr (kAvx2) {
      Avx2Masks(start_, s + base, n - base, blocks, prev_nonword, &masks);
    } else {
      PortableMasks(start_, s + base, n - base, blocks, prev_nonword, &masks);
    }
#else
    PortableMasks(start_, s + base, n - base, blocks, prev_nonword, &masks);
#endif
    masks.word[blocks] = 0;
    size_t num_starts = 0;
    for (size_t k = 0; k < (len + 63) / 64; ++k) AppendBits(masks.start[k], k * 64, starts, &num_starts);

    // Filter without branching on the outcome (it is unpredictable): keep
    // the candidates whose first run may be in the table, or that have none.
    size_t num_hits = 0;
    for (size_t c = 0; c < num_starts; ++c) {
      const size_t off = starts[c], k = off / 64, bit = off % 64;
      // The word bits from off on (two shifts: a shift by 64 is undefined).
      const uint64_t ahead = masks.word[k] >> bit | (masks.word[k + 1] << 1) << (63 - bit);
      const size_t run = std::countr_one(ahead);
      const uint64_t key = LoadKey(s, n, base + off) & RunKeyMask(run);
      hits[num_hits] = static_cast<uint16_t>(off);
      hit_runs[num_hits] = static_cast<uint8_t>(std::min<size_t>(run, 9));
      num_hits += run == 0 || first_runs_.MayContain(key, std::min<size_t>(run, 9));
    }

    for (size_t c = 0; c < num_hits; ++c) {
      const size_t p = base + hits[c], run = hit_runs[c];
      if (p < resume) continue;
      uint32_t state = 0;
      size_t i = p;
      if (run != 0) {
        const uint64_t key = LoadKey(s, n, p) & RunKeyMask(run);
        const FirstRunTable::Entry* entry = first_runs_.Find(key, run);
        if (entry == nullptr) continue;
        state = entry->state;
        i = p + std::min<size_t>(run, 8);
        if (entry->only_space) {
          // The walk would fail unless whitespace follows (an ASCII byte
          // that is not one, or the text end, fails) and, after one ASCII
          // space, a byte of `follow` (or more whitespace) comes next.
          if (i == n || (s[i] < 0x80 && !IsAsciiSpace(s[i]))) continue;
          if (s[i] == ' ' && i + 1 < n && s[i + 1] < 0x80 && !IsAsciiSpace(s[i + 1]) &&
              !((entry->follow >> (s[i + 1] & 63)) & 1)) {
            continue;
          }
        }
      }
      if (p > 0 && s[p - 1] >= 0x80 && IsWordBefore(s, n, p)) continue;
      int32_t entity;
      if (size_t end = Walk(s, n, state, i, &entity)) {
        on_match(static_cast<uint32_t>(entity));
        resume = end;
      }
    }
  }
}

// Mention counts of one Count call: dense by entity (all zero between
// calls), with the entities seen listed. Per thread, grown on demand.
struct MentionCounts {
  std::vector<uint32_t> count;    // by entity
  std::vector<uint32_t> touched;  // entities with count != 0, first-seen order, + 1 spare entry
};

// Counts the matches of `automaton` in s[0..n) into *counts; returns how
// many entities it touched. flatten: the scan, the trie walk and the
// counting inlined into one function, so its state stays in registers.
[[gnu::flatten]] size_t ScanPortable(const ScopeAutomaton& automaton, const uint8_t* s, size_t n,
                                     MentionCounts* counts) noexcept {
  uint32_t* count = counts->count.data();
  uint32_t* touched = counts->touched.data();
  size_t num_touched = 0;
  automaton.Scan<false>(s, n, [&](uint32_t entity) {
    touched[num_touched] = entity;
    num_touched += count[entity]++ == 0;
  });
  return num_touched;
}

#ifdef SAGAFLOW_HAVE_AVX2_KERNEL
// The same compiled for AVX2 (and BMI2, POPCNT), with the AVX2 kernel.
__attribute__((target("avx2,bmi,bmi2,popcnt,lzcnt"), flatten)) size_t ScanAvx2(const ScopeAutomaton& automaton,
                                                                               const uint8_t* s, size_t n,
                                                                               MentionCounts* counts) noexcept {
  uint32_t* count = counts->count.data();
  uint32_t* touched = counts->touched.data();
  size_t num_touched = 0;
  automaton.Scan<true>(s, n, [&](uint32_t entity) {
    touched[num_touched] = entity;
    num_touched += count[entity]++ == 0;
  });
  return num_touched;
}
#endif

}  // namespace

struct EntityMatcher::Impl {
  using ScanFn = size_t (*)(const ScopeAutomaton&, const uint8_t*, size_t, MentionCounts*) noexcept;

  ScopeAutomaton unscoped;
  std::vector<std::pair<std::string, ScopeAutomaton>> scoped;  // one per saga with entries
  size_t num_entities = 0;
  ScanFn scan = ScanPortable;

  const ScopeAutomaton& For(std::string_view saga) const noexcept {
    for (const auto& [name, automaton] : scoped) {
      if (name == saga) return automaton;
    }
    return unscoped;
  }
};

EntityMatcher::EntityMatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EntityMatcher::EntityMatcher(EntityMatcher&&) noexcept = default;
EntityMatcher& EntityMatcher::operator=(EntityMatcher&&) noexcept = default;
EntityMatcher::~EntityMatcher() = default;

Result<EntityMatcher> EntityMatcher::Build(const EntityDictionary& dict, const MatcherOptions& options) {
  // Surface forms per scope: the unscoped ones, and per saga that saga's
  // own forms plus the unscoped forms they do not shadow.
  const auto& entities = dict.entities();
  std::map<std::string, uint32_t> unscoped;
  std::map<std::string, std::map<std::string, uint32_t>> scoped;
  std::string normalized;
  for (uint32_t k = 0; k < entities.size(); ++k) {
    const Entity& e = entities[k];
    auto& forms = e.saga.empty() ? unscoped : scoped[e.saga];
    auto add = [&](const std::string& form) -> Status {
      if (!NormalizeSurfaceForm(form, &normalized) || normalized.empty() || normalized != form) {
        return Status::InvalidArgument(fmt::format("entity {}: surface form is not normalized", e.name));
      }
      if (!forms.emplace(form, k).second) {
        return Status::InvalidArgument(fmt::format("entity {}: surface form {} mapped twice", e.name, form));
      }
      return Status::Ok();
    };
    SAGAFLOW_RETURN_IF_ERROR(add(e.name));
    for (const std::string& alias : e.aliases) SAGAFLOW_RETURN_IF_ERROR(add(alias));
  }
  auto impl = std::unique_ptr<Impl>(new Impl{ScopeAutomaton(unscoped), {}, entities.size(), ScanPortable});
#ifdef SAGAFLOW_HAVE_AVX2_KERNEL
  if (options.simd && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2")) impl->scan = ScanAvx2;
#else
  (void)options;
#endif
  for (auto& [saga, forms] : scoped) {
    forms.insert(unscoped.begin(), unscoped.end());  // insert() keeps the scoped entry on a clash
    impl->scoped.emplace_back(saga, ScopeAutomaton(forms));
  }
  return EntityMatcher(std::move(impl));
}

Result<EntityMatcher> EntityMatcher::Build(const EntityDictionary& dict) { return Build(dict, MatcherOptions{}); }

void EntityMatcher::Count(std::string_view text, std::string_view saga, std::vector<Mention>* out) const noexcept {
  out->clear();
  const ScopeAutomaton& automaton = impl_->For(saga);
  if (automaton.empty()) return;
  thread_local MentionCounts counts;
  if (counts.count.size() < impl_->num_entities) {
    counts.count.resize(impl_->num_entities, 0);
    counts.touched.resize(impl_->num_entities + 1);  // Scan* write one entry past the last touched
  }
  const size_t touched = impl_->scan(automaton, reinterpret_cast<const uint8_t*>(text.data()), text.size(), &counts);
  std::sort(counts.touched.begin(), counts.touched.begin() + static_cast<ptrdiff_t>(touched));
  for (size_t i = 0; i < touched; ++i) {
    const uint32_t entity = counts.touched[i];
    out->push_back(Mention{entity, counts.count[entity]});
    counts.count[entity] = 0;
  }
}

}  // namespace sagaflow::text
