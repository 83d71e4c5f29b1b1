// Internal to src/text: the one implementation of "lowercase, then find the
// maximal runs of \w of at least k code points" shared by Tokenizer (public
// API) and Classifier (hot path). Header-only so each sink is inlined.
//
// Fast path: 64-byte blocks classified at once (SSE2, or AVX2 in code
// compiled for it: see Avx2Blocks) into ASCII word bytes and non-ASCII
// bytes; runs of ASCII word bytes are tokens. A non-ASCII code
// point that is neither a word character nor changed by lower() acts exactly
// like an ASCII separator (’ … — in English text) and stays on the fast path.
// Any other code point (letters, digits, U+03A3 ...) hands the surrounding
// token to the general path, which lowercases code point by code point with
// Python's rules (some mappings change length or word-ness: 'İ' -> "i̇") and
// returns to the fast path at the next token boundary.
//
// Sink requirements (members called inline; keep them small):
//   void AsciiRun(const char* p, size_t n);  // a maximal run of ASCII word
//       bytes of the original text, NOT lowercased (the sink lowercases if it
//       needs to) and NOT filtered by length: the sink drops runs shorter
//       than min_chars itself (the classifier does it without a branch)
//   void Token(std::string_view lowered);   // a token of the general path,
//       already lowercased when lowercasing and at least min_chars code
//       points long; valid only during the call
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "text/unicode.h"

namespace sagaflow::text::internal {

inline constexpr uint64_t kLowBits(unsigned n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }

// ASCII word characters: [0-9A-Za-z_].
inline bool IsAsciiWordByte(unsigned char b) noexcept {
  return (b >= '0' && b <= '9') || ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') || b == '_';
}

struct BlockMasks {
  uint64_t word;      // bit k: byte k is an ASCII word character
  uint64_t nonascii;  // bit k: byte k >= 0x80
};

// Block classifiers: Classify<kCopy>(p, copy, lowercase) classifies the 64
// bytes at p (all readable); with kCopy it also writes them to copy[0..64)
// with 'A'..'Z' lowercased when `lowercase` (the only case change ASCII has
// in Python) and every other byte as is.
//
// The portable one: SSE2 (x86-64's baseline), else byte by byte.
struct PortableBlocks {
  template <bool kCopy>
  __attribute__((always_inline)) static BlockMasks Classify(const unsigned char* p, unsigned char* copy,
                                                            bool lowercase) noexcept {
#if defined(__SSE2__)
    uint64_t word = 0, high = 0;
    const __m128i zero_m1 = _mm_set1_epi8('0' - 1), nine_p1 = _mm_set1_epi8('9' + 1);
    const __m128i a_m1 = _mm_set1_epi8('a' - 1), z_p1 = _mm_set1_epi8('z' + 1);
    const __m128i case_bit = _mm_set1_epi8(0x20), underscore = _mm_set1_epi8('_');
    const __m128i lower_bit = _mm_set1_epi8(lowercase ? 0x20 : 0);
#pragma GCC unroll 4
    for (size_t k = 0; k < 4; ++k) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
      // Signed compares: bytes >= 0x80 are negative, so never in an ASCII range.
      __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, zero_m1), _mm_cmpgt_epi8(nine_p1, v));
      __m128i folded = _mm_or_si128(v, case_bit);
      __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(folded, a_m1), _mm_cmpgt_epi8(z_p1, folded));
      __m128i w = _mm_or_si128(_mm_or_si128(digit, alpha), _mm_cmpeq_epi8(v, underscore));
      word |= uint64_t(uint32_t(_mm_movemask_epi8(w))) << (16 * k);
      high |= uint64_t(uint32_t(_mm_movemask_epi8(v))) << (16 * k);
      if constexpr (kCopy) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(copy + 16 * k), _mm_or_si128(v, _mm_and_si128(alpha, lower_bit)));
      }
    }
    return {word, high};
#else
    uint64_t word = 0, high = 0;
    for (int k = 0; k < 64; ++k) {
      word |= uint64_t(IsAsciiWordByte(p[k])) << k;
      high |= uint64_t(p[k] >> 7) << k;
      if constexpr (kCopy) copy[k] = lowercase && p[k] >= 'A' && p[k] <= 'Z' ? p[k] + 32 : p[k];
    }
    return {word, high};
#endif
  }
};

#if defined(__x86_64__) && defined(__GNUC__)
#define SAGAFLOW_HAVE_AVX2_BLOCKS 1
// The same with AVX2, 32 bytes at a time. Only for code compiled for AVX2:
// a function with __attribute__((target("avx2,..."), flatten)) that the
// caller runs when __builtin_cpu_supports says so (flatten inlines the scan
// and this classifier into it; GCC refuses to force-inline an AVX2 function
// into one compiled without AVX2, hence no always_inline here).
struct Avx2Blocks {
  template <bool kCopy>
  __attribute__((target("avx2"))) static BlockMasks Classify(const unsigned char* p, unsigned char* copy,
                                                             bool lowercase) noexcept {
    uint64_t word = 0, high = 0;
    const __m256i zero_m1 = _mm256_set1_epi8('0' - 1), nine_p1 = _mm256_set1_epi8('9' + 1);
    const __m256i a_m1 = _mm256_set1_epi8('a' - 1), z_p1 = _mm256_set1_epi8('z' + 1);
    const __m256i case_bit = _mm256_set1_epi8(0x20), underscore = _mm256_set1_epi8('_');
    const __m256i lower_bit = _mm256_set1_epi8(lowercase ? 0x20 : 0);
#pragma GCC unroll 2
    for (size_t k = 0; k < 2; ++k) {
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * k));
      // Signed compares: bytes >= 0x80 are negative, so never in an ASCII range.
      __m256i digit = _mm256_and_si256(_mm256_cmpgt_epi8(v, zero_m1), _mm256_cmpgt_epi8(nine_p1, v));
      __m256i folded = _mm256_or_si256(v, case_bit);
      __m256i alpha = _mm256_and_si256(_mm256_cmpgt_epi8(folded, a_m1), _mm256_cmpgt_epi8(z_p1, folded));
      __m256i w = _mm256_or_si256(_mm256_or_si256(digit, alpha), _mm256_cmpeq_epi8(v, underscore));
      word |= uint64_t(uint32_t(_mm256_movemask_epi8(w))) << (32 * k);
      high |= uint64_t(uint32_t(_mm256_movemask_epi8(v))) << (32 * k);
      if constexpr (kCopy) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(copy + 32 * k),
                            _mm256_or_si256(v, _mm256_and_si256(alpha, lower_bit)));
      }
    }
    return {word, high};
  }
};
#endif

// A non-ASCII code point that lower() leaves alone and that is not \w behaves
// like an ASCII separator in the lowered text.
inline bool IsPlainSeparator(char32_t c, bool lowercase) noexcept {
  if (IsWordChar(c)) return false;
  if (!lowercase) return true;
  char32_t mapped[3];
  return c != 0x3A3 && LowercaseFull(c, mapped) == 1 && mapped[0] == c;
}

// Tokens found by the general path, lowercased, concatenated in `bytes` with
// their [begin, end) in `spans`. Reused across calls.
struct GeneralTokens {
  std::string bytes;
  std::vector<std::pair<size_t, size_t>> spans;
};

// The general path: code point by code point from `from` (a token boundary)
// until past byte `complex` and back at a token boundary before an ASCII
// byte. Appends the tokens of at least min_chars code points to *out and
// returns the position to resume the fast path at. (tokenizer.cc)
size_t ScanGeneral(std::string_view text, size_t from, size_t complex, bool lowercase, size_t min_chars,
                   GeneralTokens* out);

// Emits the runs whose end bits are in `ends`; a run open before the block
// pairs with the first end. Leaves *open set with the start of a run that
// has begun but not ended.
template <typename Sink>
__attribute__((always_inline)) inline void EmitRuns(Sink& sink, const char* text, size_t base, uint64_t starts,
                                                    uint64_t ends, bool* open, size_t* open_start) {
  if (*open && ends) {
    size_t end = base + static_cast<unsigned>(__builtin_ctzll(ends));
    sink.AsciiRun(text + *open_start, end - *open_start);
    ends &= ends - 1;
    *open = false;
  }
  while (ends) {
    size_t end = base + static_cast<unsigned>(__builtin_ctzll(ends));
    size_t start = base + static_cast<unsigned>(__builtin_ctzll(starts));
    ends &= ends - 1;
    starts &= starts - 1;
    sink.AsciiRun(text + start, end - start);
  }
  if (starts) {
    *open = true;
    *open_start = base + static_cast<unsigned>(__builtin_ctzll(starts));
  }
}

// Scans `text` (valid UTF-8) and hands its tokens to `sink`. Everything the
// hot loop touches is local (the sink is never passed to an out-of-line
// function), so the compiler keeps the sink's running state in registers.
//
// With kCopy (copy with room for text.size() + 64 bytes), the scan also
// writes the text into copy as it goes, ASCII-lowercased when `lowercase`:
// when the sink receives AsciiRun(p, n), copy[p - text.data() ...] holds the
// run's bytes, and what follows them up to 64 bytes further is readable
// (but may be anything). The classifier looks runs up there.
template <typename Blocks = PortableBlocks, bool kCopy = false, typename Sink>
__attribute__((always_inline)) inline void ScanTokens(std::string_view text, bool lowercase, int min_chars,
                                                      GeneralTokens* general, Sink& sink,
                                                      unsigned char* copy = nullptr) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t base = 0;
  bool open = false;  // a token run continues from before `base`
  size_t open_start = 0;
  alignas(16) unsigned char tail[64];
  while (base < n) {
    size_t avail = n - base;
    const unsigned char* block = p + base;
    if (avail < 64) {
      std::memcpy(tail, block, avail);
      std::memset(tail + avail, 0, 64 - avail);  // NUL: an ASCII separator
      block = tail;
    }
    BlockMasks m = Blocks::template Classify<kCopy>(block, kCopy ? copy + base : nullptr, lowercase);
    uint64_t prev = (m.word << 1) | uint64_t(open);
    uint64_t starts = m.word & ~prev;
    uint64_t ends = ~m.word & prev;
    if (m.nonascii == 0) {
      // In a short final block the NUL padding ends the last run at `avail`.
      EmitRuns(sink, text.data(), base, starts, ends, &open, &open_start);
      base += 64;
      continue;
    }
    unsigned q = static_cast<unsigned>(__builtin_ctzll(m.nonascii));
    size_t after = base + q;
    char32_t c = DecodeUtf8(text, &after);
    if (IsPlainSeparator(c, lowercase)) {
      // Byte q ends any run, exactly like an ASCII separator.
      EmitRuns(sink, text.data(), base, starts & kLowBits(q), ends & kLowBits(q + 1), &open, &open_start);
      open = false;
      base = after;
      continue;
    }
    EmitRuns(sink, text.data(), base, starts & kLowBits(q), ends & kLowBits(q), &open, &open_start);
    size_t from = open ? open_start : base + q;
    open = false;
    general->bytes.clear();
    general->spans.clear();
    base = ScanGeneral(text, from, base + q, lowercase, static_cast<size_t>(min_chars), general);
    for (const auto& [b, e] : general->spans) sink.Token(std::string_view(general->bytes).substr(b, e - b));
  }
  if (open) sink.AsciiRun(text.data() + open_start, n - open_start);
}

// Lowercases ASCII bytes (the only case change ASCII has in Python).
inline void AppendAsciiLower(const char* p, size_t n, std::string* out) {
  size_t old = out->size();
  out->resize(old + n);
  char* d = out->data() + old;
  for (size_t k = 0; k < n; ++k) {
    unsigned char b = static_cast<unsigned char>(p[k]);
    d[k] = static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b);
  }
}

}  // namespace sagaflow::text::internal
