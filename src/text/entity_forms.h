// EntityForms: every string a text of one saga scope matches, and the entity
// each one counts for, derived from a dictionary by the rules of
// docs/entities.md ("Which forms"):
//
//   tier 0  explicit forms: names and aliases of the entries scoped to the
//           saga, then of the unscoped entries they do not shadow;
//   tier 1  title forms: a spelling of a title row of the scope, a space,
//           then a tier-0 form of a "character" entity ("Ser Jaime");
//   tier 2  variants of tier-0 strings, tier 3 of tier-1 strings: the
//           ALL-CAPS spelling (Python's str.upper()), and every spelling in
//           which each of the quote characters ' U+2019 U+2018 is replaced
//           by any of the three (also in the ALL-CAPS spelling).
//
// A string claimed by several (tier, entity) pairs goes to the lowest tier,
// then to the lowest entity index: explicit forms beat generated ones.
// The matcher builds its automata from these strings; the Python reference
// (tests/reference/entity_reference.py) derives the same mapping on its own.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "text/entity_dictionary.h"
#include "util/status.h"

namespace sagaflow::text {

// A form with more quote characters than this is refused (its variants
// would number 3^n).
inline constexpr int kMaxQuotesPerForm = 5;

// How a title spelling may be followed by a character form (TitledForms).
enum TitleCase : uint8_t {
  kTitleAsWritten = 1,  // "Ser " + a form as written or in a quote spelling
  kTitleAllCaps = 2,    // "SER " + a form's ALL-CAPS spelling (or its quote spellings)
};

// Tiers 1 and 3 factored as title spelling x character form, so that a
// matcher need not hold every product: `form` has exactly the strings
// path + ' ' + name for path in `paths` and name in the map its case bits
// name, besides the direct ones.
struct TitledForms {
  std::map<std::string, uint8_t> paths;            // title spellings (quote and ALL-CAPS too) -> TitleCase bits
  std::map<std::string, uint32_t> names;           // character forms, quote spellings -> entity
  std::map<std::string, uint32_t> all_caps_names;  // their ALL-CAPS spellings, quote spellings -> entity
};

struct ScopeForms {
  std::string saga;                        // "" = the unscoped entries only (texts of unknown saga)
  std::map<std::string, uint32_t> form;    // every string -> entity index
  std::map<std::string, uint32_t> direct;  // the strings of `form` won by tiers 0 and 2
  TitledForms titled;                      // the rest of `form`, factored (a string may resolve apart from
                                           // its factors when two products collide: `form` decides)
  size_t explicit_forms = 0;               // how many strings are of tier 0
};

// The scopes a matcher needs: "" first, then every saga of kSagas that has
// an entry or a title row. Errors: a form that is not normalized, a form
// mapped twice within a scope by the entries (FromCurated refuses both, but
// a dictionary may be built by hand), too many quote characters.
Result<std::vector<ScopeForms>> ExpandForms(const EntityDictionary& dict);

// The strings of one scope (saga "" = unscoped only).
Result<ScopeForms> ExpandScopeForms(const EntityDictionary& dict, std::string_view saga);

// True for the quote characters that are one character for matching.
bool IsQuoteVariant(char32_t c) noexcept;

}  // namespace sagaflow::text
