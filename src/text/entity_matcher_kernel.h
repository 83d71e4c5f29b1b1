// Internal to entity_matcher.cc: the pieces of EntityMatcher's scan that do
// not depend on the trie (the candidate kernels, the first-run table and
// the character tests the walk needs). How they fit together is explained
// at the top of entity_matcher.cc.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "text/unicode.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SAGAFLOW_HAVE_AVX2_KERNEL 1
#endif

namespace sagaflow::text::matcher_internal {

// The kernel classifies this many bytes per call, so that the call through a
// pointer (CPU dispatch) costs nothing per byte.
constexpr size_t kChunk = 4096;
constexpr size_t kChunkBlocks = kChunk / 64;

inline bool IsAsciiWordByte(uint8_t b) {
  return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || b == '_';
}

// Lead bytes of every IsSpace character.
inline const std::array<bool, 256>& SpaceLeadBytes() {
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

  explicit StartBytes(const std::vector<std::string>& forms) {
    std::vector<uint8_t> own_bucket;  // lowercase first bytes with a bucket of their own
    for (const std::string& form : forms) {
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
    for (const std::string& form : forms) {
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

inline void PortableMasks(const StartBytes& start, const uint8_t* s, size_t avail, size_t blocks, bool prev_nonword,
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

__attribute__((target("avx2"))) inline void Avx2Masks(const StartBytes& start, const uint8_t* s, size_t avail,
                                                      size_t blocks, bool prev_nonword, BlockMasks* out) {
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
inline uint64_t LoadKey(const uint8_t* s, size_t n, size_t p) noexcept {
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

inline bool IsWordAt(const uint8_t* s, size_t n, size_t i) noexcept {
  if (s[i] < 0x80) return IsAsciiWordByte(s[i]);
  return IsWordChar(DecodeUtf8(std::string_view(reinterpret_cast<const char*>(s), n), &i));
}

// Whether the character ending just before s[p] (p > 0) is a word character.
inline bool IsWordBefore(const uint8_t* s, size_t n, size_t p) noexcept {
  size_t i = p - 1;
  while ((s[i] & 0xC0) == 0x80) --i;  // back to the lead byte
  return IsWordAt(s, n, i);
}

// End of the run of IsSpace characters starting at s[i] (i itself when none).
inline size_t SpaceRunEnd(const uint8_t* s, size_t n, size_t i) noexcept {
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

}  // namespace sagaflow::text::matcher_internal
