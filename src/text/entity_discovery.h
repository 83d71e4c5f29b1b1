// EntityDiscovery: proposes the named entities a dictionary lacks, from a
// corpus whose texts are labelled with sagas (`sagaflow entities discover`,
// docs/entities.md "Discovery").
//
// A candidate is a capitalized word sequence: capitalized words (first
// character an uppercase letter; `'`, U+2019 and `-` may join word characters
// inside a word: "King's", "Mad-Eye"), separated by whitespace only, with the
// connectors of kConnectors allowed between two of them ("Aegon the
// Conqueror", "Tower of Joy"). A final possessive 's is dropped, as is a
// leading "The"/"A"/"An". ALL-CAPS words end a sequence (their spelling
// matches through the forms they capitalize), as does any other character.
//
// A sentence-initial word (first in the text, or after . ! ? : ; or an
// opening quote or bracket) is a name only when the corpus shows it
// capitalized inside sentences more often than in lower case; otherwise the
// sequence starts at the next word ("Then Harry" -> "Harry").
//
// A candidate occurrence that the dictionary's matcher matches exactly is
// known and not counted. A leading title spelling of the scope is taken off
// the candidate's name ("Ser Barristan" and "Barristan" are one proposal).
// The proposal links to an entity when the rest is one of its forms or the
// matcher finds that entity, and only it, inside the occurrences; else it
// is new. Results are deterministic: sorted by count, then name.
//
// Thread-compatible; one Discovery per run.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "text/entity_dictionary.h"
#include "text/entity_matcher.h"

namespace sagaflow::text {

inline constexpr std::string_view kConnectors[] = {"of",  "the", "de", "du",  "da", "di",
                                                   "del", "la",  "le", "van", "von"};

struct Proposal {
  std::string saga;
  std::string name;                   // title taken off
  std::map<std::string, int> seen;    // spellings as they occurred in the texts -> count
  int count = 0;                      // occurrences not matched by the dictionary
  int texts = 0;                      // texts with at least one
  int after_the = 0;                  // occurrences right after a lower-case "the" (epithets)
  int with_title = 0;                 // occurrences with a title before the name
  std::vector<std::string> contexts;  // the first two, whitespace collapsed, about 50 characters each side
  int64_t link = -1;                  // entity index, or -1 = new
  std::string kind;                   // a guess for a new entity: character, place, house or group
};

class EntityDiscovery {
 public:
  // dict and matcher (built from dict) must outlive this object.
  EntityDiscovery(const EntityDictionary& dict, const EntityMatcher& matcher);

  // Adds a text of saga `saga` (valid UTF-8). Texts must all be added
  // before Proposals(): the sentence-initial rule reads the whole corpus.
  void Add(std::string text, std::string saga);

  // Proposals with count >= min_count, per saga in kSagas order (unscoped
  // texts, saga "", last), each sorted by count descending then name.
  std::vector<Proposal> Proposals(int min_count) const;

 private:
  const EntityDictionary& dict_;
  const EntityMatcher& matcher_;
  std::vector<std::pair<std::string, std::string>> texts_;  // (saga, text)
};

}  // namespace sagaflow::text
