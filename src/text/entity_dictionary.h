// EntityDictionary: the entities whose mentions `extract` and the pipeline
// count, loaded from one of two formats (docs/entities.md):
//
//   * a flat list (the prototype's entities.txt): one name per line. Names
//     are trimmed, inner whitespace runs become one space, blank lines are
//     dropped and duplicates merged; each surviving name is its own unscoped
//     entity of kind "other". What was changed is reported by notes().
//   * a curated TSV (data/entities/sagas.tsv): a header line
//     "saga<TAB>name<TAB>kind<TAB>aliases", then one entity per line with its
//     saga scope, canonical name, kind and '|'-separated aliases, and title
//     rows (kind "title": a title such as "Ser" with its other spellings,
//     not an entity; EntityForms turns them into surface forms). Validated
//     strictly: any error names its line and nothing is loaded.
//
// A surface form (a name or an alias) is stored normalized: non-empty, valid
// UTF-8, no leading or trailing whitespace and single spaces between words.
// Within one scope (a saga, or unscoped) each surface form belongs to one
// entity; canonical names are unique in the whole dictionary.
//
// Immutable after loading; safe to share between threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sagaflow::text {

// The sagas a curated dictionary may scope entries to (the classifier's labels).
inline constexpr std::string_view kSagas[] = {"got", "lotr", "hp"};
// Entity kinds of the curated format. Title rows use the kind kTitleKind.
inline constexpr std::string_view kEntityKinds[] = {"character", "place", "house", "group", "other"};
inline constexpr std::string_view kTitleKind = "title";

struct Entity {
  std::string name;                  // canonical name, e.g. "Jon Snow"
  std::string saga;                  // "" = unscoped (counts in every text), else one of kSagas
  std::string kind;                  // one of kEntityKinds
  std::vector<std::string> aliases;  // other surface forms folding into this entity (not incl. name)
};

// A title row: in texts of its scope, any of its spellings, whitespace, then
// a surface form of a "character" entity of that scope is one mention of
// that entity (docs/entities.md, "Titles").
struct Title {
  std::string saga;                    // "" = unscoped, as for Entity
  std::vector<std::string> spellings;  // the title first ("Professor"), then the others ("Professors")
};

class EntityDictionary {
 public:
  // Reads `path` and parses it as curated when its first line that is neither
  // blank nor a '#' comment is exactly the curated header, else as a flat list.
  // Errors name the file (and the line).
  static Result<EntityDictionary> LoadFile(const std::string& path);
  static Result<EntityDictionary> FromFlatList(std::string_view text);
  static Result<EntityDictionary> FromCurated(std::string_view text);

  // True when `text` would be parsed by FromCurated (see LoadFile).
  static bool LooksCurated(std::string_view text);

  const std::vector<Entity>& entities() const noexcept { return entities_; }
  // Title rows in file order (none in a flat list).
  const std::vector<Title>& titles() const noexcept { return titles_; }
  // What loading trimmed, merged or dropped, one line each ("line 7: ...").
  const std::vector<std::string>& notes() const noexcept { return notes_; }

 private:
  EntityDictionary() = default;
  std::vector<Entity> entities_;
  std::vector<Title> titles_;
  std::vector<std::string> notes_;
};

// Writes the normalized form of `name` to *out: IsSpace runs become one
// space, leading and trailing ones are dropped. Returns false (leaving *out
// unspecified) when `name` is not valid UTF-8.
bool NormalizeSurfaceForm(std::string_view name, std::string* out);

}  // namespace sagaflow::text
