// Test-only: a deliberately naive implementation of EntityMatcher::Count's
// rules (entity_matcher.h), written straight from their wording over decoded
// code points, used as the oracle of the randomized tests and the fuzzer.
// The strings a scope matches come from ExpandScopeForms (its rules are
// checked against the Python reference by the differential test).
// Quadratic; never use it outside tests.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "text/entity_dictionary.h"
#include "text/entity_forms.h"
#include "text/entity_matcher.h"
#include "text/unicode.h"

namespace sagaflow::text::testing {

inline std::u32string Decode(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) out.push_back(DecodeUtf8(s, &i));
  return out;
}

// Counts per entity index, as Count() would report them.
inline std::vector<Mention> NaiveCount(const EntityDictionary& dict, std::string_view text, std::string_view saga) {
  // The strings a text of `saga` sees (a saga without entries or titles sees the unscoped ones).
  auto scope = ExpandScopeForms(dict, saga);
  std::map<std::u32string, uint32_t> forms;
  if (scope.ok()) {
    for (const auto& [form, k] : scope->form) forms.emplace(Decode(form), k);
  }
  const std::u32string t = Decode(text);
  auto word_at = [&](size_t i) { return i < t.size() && IsWordChar(t[i]); };
  // End of `form` matched at t[p], or npos.
  auto match = [&](const std::u32string& form, size_t p) -> size_t {
    size_t j = p;
    for (char32_t c : form) {
      if (c == U' ') {
        if (j >= t.size() || !IsSpace(t[j])) return std::u32string::npos;
        while (j < t.size() && IsSpace(t[j])) ++j;
      } else {
        if (j >= t.size() || t[j] != c) return std::u32string::npos;
        ++j;
      }
    }
    return word_at(j) ? std::u32string::npos : j;
  };
  std::map<uint32_t, uint32_t> counts;
  for (size_t p = 0; p < t.size();) {
    size_t best = std::u32string::npos;
    uint32_t entity = 0;
    if (p == 0 || !IsWordChar(t[p - 1])) {
      for (const auto& [form, k] : forms) {
        size_t end = match(form, p);
        if (end != std::u32string::npos && (best == std::u32string::npos || end > best)) {
          best = end;
          entity = k;
        }
      }
    }
    if (best == std::u32string::npos) {
      ++p;
    } else {
      ++counts[entity];
      p = best;
    }
  }
  std::vector<Mention> out;
  out.reserve(counts.size());
  for (const auto& [k, n] : counts) out.push_back(Mention{k, n});
  return out;
}

}  // namespace sagaflow::text::testing
