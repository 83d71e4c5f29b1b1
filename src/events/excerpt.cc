#include "events/excerpt.h"

namespace sagaflow::events {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026

bool InRange(unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; }
}  // namespace

size_t ValidUtf8SequenceLength(std::string_view s) noexcept {
  if (s.empty()) return 0;
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (InRange(c, 0xC2, 0xDF)) return s.size() >= 2 && InRange(b(1), 0x80, 0xBF) ? 2 : 0;
  if (InRange(c, 0xE0, 0xEF)) {
    if (s.size() < 3) return 0;
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return InRange(b(1), lo, hi) && InRange(b(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (InRange(c, 0xF0, 0xF4)) {
    if (s.size() < 4) return 0;
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return InRange(b(1), lo, hi) && InRange(b(2), 0x80, 0xBF) && InRange(b(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

namespace {

// Length of the maximal subpart of an ill-formed sequence at s[0]: the lead
// byte plus the continuation bytes that were still acceptable (>= 1).
size_t InvalidSubpartLength(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (InRange(c, 0xC2, 0xDF)) {
    need = 2;
  } else if (InRange(c, 0xE0, 0xEF)) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (InRange(c, 0xF0, 0xF4)) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 1;
  }
  size_t i = 1;
  for (; i < need && i < s.size(); ++i) {
    if (!InRange(b(i), lo, hi)) break;
    lo = 0x80;
    hi = 0xBF;
  }
  return i;
}

}  // namespace

std::string Utf8Excerpt(std::string_view raw, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(raw.size(), max_bytes));
  const size_t budget = max_bytes - kEllipsis.size();  // room kept for the marker
  size_t cut = std::string::npos;                      // length of the longest prefix of whole characters <= budget
  for (size_t i = 0; i < raw.size();) {
    std::string_view rest = raw.substr(i);
    size_t n = ValidUtf8SequenceLength(rest);
    std::string_view piece = n ? rest.substr(0, n) : kReplacement;
    if (out.size() + piece.size() > budget && cut == std::string::npos) cut = out.size();
    if (out.size() + piece.size() > max_bytes) {
      out.resize(cut);
      out.append(kEllipsis);
      return out;
    }
    out.append(piece);
    i += n ? n : InvalidSubpartLength(rest);
  }
  return out;
}

}  // namespace sagaflow::events
