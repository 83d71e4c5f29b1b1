#include "text/unicode.h"

#include <algorithm>
#include <cstdint>

namespace sagaflow::text {
namespace {

#include "text/unicode_data.inc"

inline uint8_t Props(char32_t c) noexcept {
  if (c >= 0x110000) return 0;
  return kStage2[kStage1[c >> kBlockShift]][c & ((1u << kBlockShift) - 1)];
}

// Decodes the code point ending just before s[end] (end > 0, valid UTF-8) and
// moves *start to its first byte.
char32_t DecodeBackward(std::string_view s, size_t end, size_t* start) noexcept {
  size_t i = end - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  *start = i;
  size_t j = i;
  return DecodeUtf8(s, &j);
}

}  // namespace

char32_t DecodeUtf8(std::string_view s, size_t* i) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + *i;
  unsigned char b0 = p[0];
  if (b0 < 0x80) {
    *i += 1;
    return b0;
  }
  if (b0 < 0xE0) {
    *i += 2;
    return (char32_t(b0 & 0x1F) << 6) | (p[1] & 0x3F);
  }
  if (b0 < 0xF0) {
    *i += 3;
    return (char32_t(b0 & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  }
  *i += 4;
  return (char32_t(b0 & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) | (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

void AppendUtf8(char32_t c, std::string* out) {
  char buf[4];
  size_t n;
  if (c < 0x80) {
    buf[0] = static_cast<char>(c);
    n = 1;
  } else if (c < 0x800) {
    buf[0] = static_cast<char>(0xC0 | (c >> 6));
    buf[1] = static_cast<char>(0x80 | (c & 0x3F));
    n = 2;
  } else if (c < 0x10000) {
    buf[0] = static_cast<char>(0xE0 | (c >> 12));
    buf[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    buf[2] = static_cast<char>(0x80 | (c & 0x3F));
    n = 3;
  } else {
    buf[0] = static_cast<char>(0xF0 | (c >> 18));
    buf[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    buf[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    buf[3] = static_cast<char>(0x80 | (c & 0x3F));
    n = 4;
  }
  out->append(buf, n);
}

bool IsValidUtf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    // Skip ASCII eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::copy_n(p + i, 8, reinterpret_cast<unsigned char*>(&w));
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;  // overlong
      if (b == 0xED) hi = 0x9F;  // surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;  // overlong
      if (b == 0xF4) hi = 0x8F;  // > U+10FFFF
    } else {
      return false;
    }
    if (i + len > n) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

bool IsWordChar(char32_t c) noexcept { return Props(c) & kWord; }
bool IsSpace(char32_t c) noexcept { return Props(c) & kSpace; }
bool IsCased(char32_t c) noexcept { return Props(c) & kCased; }
bool IsCaseIgnorable(char32_t c) noexcept { return Props(c) & kCaseIgnorable; }

int LowercaseFull(char32_t c, char32_t out[3]) noexcept {
  if (!(Props(c) & kHasLower)) {
    out[0] = c;
    return 1;
  }
  const LowerMapping* end = kLowerMappings + std::size(kLowerMappings);
  const LowerMapping* m =
      std::lower_bound(kLowerMappings, end, c, [](const LowerMapping& x, char32_t v) { return x.from < v; });
  // The generator sets kHasLower exactly for the code points listed.
  out[0] = m->to[0];
  if (m->to[1] == 0) return 1;
  out[1] = m->to[1];
  if (m->to[2] == 0) return 2;
  out[2] = m->to[2];
  return 3;
}

// CPython's handle_capital_sigma (Objects/unicodeobject.c): U+03A3 becomes
// final sigma when preceded by a cased character (skipping case-ignorable
// ones) and not followed by one (again skipping case-ignorable ones).
char32_t LowercaseCapitalSigma(std::string_view s, size_t pos) noexcept {
  size_t i = pos;
  char32_t c = 0;
  bool found = false;
  while (i > 0) {
    size_t start;
    c = DecodeBackward(s, i, &start);
    i = start;
    if (!IsCaseIgnorable(c)) {
      found = true;
      break;
    }
  }
  bool final_sigma = found && IsCased(c);
  if (final_sigma) {
    size_t j = pos;
    DecodeUtf8(s, &j);  // past the sigma
    bool stopped = false;
    while (j < s.size()) {
      c = DecodeUtf8(s, &j);
      if (!IsCaseIgnorable(c)) {
        stopped = true;
        break;
      }
    }
    final_sigma = !stopped || !IsCased(c);
  }
  return final_sigma ? 0x3C2 : 0x3C3;
}

void AppendLowercase(std::string_view utf8, std::string* out) {
  out->reserve(out->size() + utf8.size());
  size_t i = 0;
  while (i < utf8.size()) {
    unsigned char b = static_cast<unsigned char>(utf8[i]);
    if (b < 0x80) {
      out->push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
      ++i;
      continue;
    }
    size_t pos = i;
    char32_t c = DecodeUtf8(utf8, &i);
    if (c == 0x3A3) {
      AppendUtf8(LowercaseCapitalSigma(utf8, pos), out);
      continue;
    }
    char32_t mapped[3];
    int n = LowercaseFull(c, mapped);
    for (int k = 0; k < n; ++k) AppendUtf8(mapped[k], out);
  }
}

void AppendUppercase(std::string_view utf8, std::string* out) {
  const LowerMapping* end = kUpperMappings + std::size(kUpperMappings);
  size_t i = 0;
  while (i < utf8.size()) {
    const char32_t c = DecodeUtf8(utf8, &i);
    const LowerMapping* m =
        std::lower_bound(kUpperMappings, end, c, [](const LowerMapping& x, char32_t v) { return x.from < v; });
    if (m == end || m->from != c) {
      AppendUtf8(c, out);
      continue;
    }
    for (char32_t to : m->to) {
      if (to == 0) break;
      AppendUtf8(to, out);
    }
  }
}

bool IsBlank(std::string_view utf8) noexcept {
  size_t i = 0;
  while (i < utf8.size()) {
    if (!IsSpace(DecodeUtf8(utf8, &i))) return false;
  }
  return true;
}

}  // namespace sagaflow::text
