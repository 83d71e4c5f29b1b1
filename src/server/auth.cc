#include "server/auth.h"

#include <cstddef>

namespace sagaflow::server {

bool ConstantTimeEquals(std::string_view a, std::string_view b) noexcept {
  // Loops over b (the secret) whatever a's length, so the time tells
  // nothing but b's length.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  // Keep the compiler from turning the loop into an early exit.
  volatile unsigned char result = diff;
  return result == 0;
}

std::string_view BearerToken(std::string_view h) noexcept {
  constexpr std::string_view kScheme = "bearer";
  if (h.size() <= kScheme.size() || (h[kScheme.size()] != ' ' && h[kScheme.size()] != '\t')) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = h[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return {};
  }
  h.remove_prefix(kScheme.size());
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  return h;
}

}  // namespace sagaflow::server
