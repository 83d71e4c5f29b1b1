// Bounded, always-valid excerpts of untrusted payloads for the dead-letter
// table: a rejected record may be invalid UTF-8 or megabytes long, but what is
// stored about it must be short, valid text that any client can print.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sagaflow::events {

inline constexpr size_t kExcerptBytes = 256;

// Returns at most `max_bytes` bytes of valid UTF-8 taken from the start of
// `raw`: each maximal invalid subsequence becomes U+FFFD (as WHATWG/Unicode
// recommend), a character is never cut in half, and a trailing "…" marks a
// truncated excerpt. max_bytes must be >= 8.
std::string Utf8Excerpt(std::string_view raw, size_t max_bytes = kExcerptBytes);

// Length of the valid UTF-8 sequence starting at s[0] (1..4), or 0 if the
// bytes there do not start a valid sequence (Unicode table 3-7).
size_t ValidUtf8SequenceLength(std::string_view s) noexcept;

}  // namespace sagaflow::events
