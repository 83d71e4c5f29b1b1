// EntityMatcher: counts whole-word mentions of a dictionary's entities in a
// text (docs/entities.md has the full rules):
//
//   * a surface form matches where its characters occur exactly (case
//     sensitive), each of its spaces matching a run of one or more IsSpace
//     characters, and the characters just before and just after the match
//     are not IsWordChar (text start and end count as non-word);
//   * scanning left to right, at each position the longest valid match wins
//     and scanning resumes at its end (leftmost-longest, non-overlapping),
//     so "Jon Snowden" counts "Jon" once and "Samwise" never counts "Sam";
//   * a text of saga S sees the entries scoped to S plus the unscoped ones,
//     an entry scoped to S shadowing an unscoped entry of the same surface
//     form; a text of unknown saga ("" or a saga without entries) sees only
//     the unscoped entries. Aliases fold into their entity's count;
//   * besides names and aliases, a text matches the strings EntityForms
//     derives from them: title + character form, ALL-CAPS spellings, and
//     the spellings with ' U+2019 U+2018 exchanged (entity_forms.h).
//
// The automaton has, per scope, a byte trie whose space edges consume
// whitespace runs, walked from every candidate start that survives two
// filters: a SIMD one (AVX2 when the CPU has it) on the first three bytes
// and the preceding byte, and a hash of the candidate's first run of ASCII
// word bytes (entity_matcher.cc explains why that run must match exactly).
//
// Immutable after Build; Count is const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "text/entity_dictionary.h"
#include "util/status.h"

namespace sagaflow::text {

struct Mention {
  uint32_t entity;  // index into EntityDictionary::entities()
  uint32_t count;
  friend bool operator==(const Mention&, const Mention&) = default;
};

// One match: text[begin, end) (UTF-8 byte offsets) counts for `entity`.
struct MentionSpan {
  uint32_t entity;
  uint32_t begin, end;
  friend bool operator==(const MentionSpan&, const MentionSpan&) = default;
};

struct MatcherOptions {
  // Use the AVX2 candidate kernel when the CPU has it. Off = the portable
  // kernel, which gives the same counts (tests run both).
  bool simd = true;
};

class EntityMatcher {
 public:
  static Result<EntityMatcher> Build(const EntityDictionary& dict);
  static Result<EntityMatcher> Build(const EntityDictionary& dict, const MatcherOptions& options);

  EntityMatcher(EntityMatcher&&) noexcept;
  EntityMatcher& operator=(EntityMatcher&&) noexcept;
  ~EntityMatcher();

  // Counts mentions in `text` (valid UTF-8) of a text of saga `saga` ("" =
  // unknown: only unscoped entries count). Clears *out, then appends one
  // Mention per entity with count > 0, ordered by entity index.
  // Allocation-free once *out has capacity for the entities found (at most
  // the dictionary's size).
  void Count(std::string_view text, std::string_view saga, std::vector<Mention>* out) const noexcept;

  // The matches Count counts, left to right, with where they are (for
  // `entities score` and `discover`; not tuned for speed: portable kernel).
  void Find(std::string_view text, std::string_view saga, std::vector<MentionSpan>* out) const;

 private:
  struct Impl;
  explicit EntityMatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sagaflow::text
