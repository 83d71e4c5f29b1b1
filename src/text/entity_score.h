// EntityScore: how well predicted mentions (the matcher's) agree with a
// hand-annotated gold set (`sagaflow entities score`; the gold format and the
// rules are in docs/entities.md, "Scoring").
//
// Per text, predicted mentions are taken left to right; one is a true
// positive when it overlaps a gold mention of the same canonical entity
// that no earlier prediction matched (the leftmost such one). Precision =
// TP / predicted, recall = TP / gold, F1 their harmonic mean (0 when both
// are 0). A prediction that overlaps a gold mention of another entity stands
// for that entity when its name is no gold entity of the saga and its kind
// is the gold mention's: the dictionary then has a second name for it. A gold
// entity is *split* when predictions of two or more canonical names stand
// for it (its own name included); any other entity overlapping its mentions
// is a *confusion* (an ambiguous form resolved to a different entity).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sagaflow::text {

// A mention as a span of code points of its text, [start, end).
struct SpanMention {
  uint32_t start = 0, end = 0;
  std::string surface;  // the text's characters there
  std::string entity;   // canonical name
  std::string kind;     // person, place or group (GoldKind of a dictionary kind)
};

struct GoldMention : SpanMention {
  std::string where;  // "file:line", for messages
};

// The gold kind of a dictionary kind: character -> person, place -> place,
// house and group -> group; "" for the rest (`other`: gods, swords, games),
// which the gold set does not annotate and so are not scored.
std::string_view GoldKind(std::string_view dictionary_kind) noexcept;

// One gold text: its saga (the scope it is matched in) and both mention lists.
struct ScoredText {
  std::string id;
  std::string saga;
  std::vector<GoldMention> gold;
  std::vector<SpanMention> predicted;  // of a gold kind
  int64_t unscored = 0;                // predictions of entities of no gold kind
};

struct Counts {
  int64_t texts = 0, gold = 0, predicted = 0, true_positives = 0, unscored = 0;
  double precision() const { return predicted ? double(true_positives) / double(predicted) : 0; }
  double recall() const { return gold ? double(true_positives) / double(gold) : 0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
  }
};

// (saga, surface, entity) with how often: a miss or a false positive.
struct Tally {
  std::string saga, surface, entity;
  int64_t count = 0;
};

// A split (two or more names stand for the entity) or a confusion (other
// entities overlap its mentions).
struct SplitEntity {
  std::string saga, entity;
  std::vector<std::string> predicted_as;  // canonical names, sorted
};

struct ScoreReport {
  std::map<std::string, Counts> per_saga;  // by saga; "all" is `overall`
  Counts overall;
  std::vector<SplitEntity> split;       // sorted by saga, entity
  std::vector<SplitEntity> confusions;  // the same order; predicted_as: the other entities
  std::vector<Tally> misses;            // gold mentions no prediction matched; by count desc, then saga, surface
  std::vector<Tally> false_positives;   // predictions that matched no gold mention; same order
};

ScoreReport Score(const std::vector<ScoredText>& texts);

// Parses a gold annotation file (docs/entities.md): '#' comments and blank
// lines ignored, the header "id\tstart\tend\tsurface\tentity\tkind", then
// one mention per line. `file` names it in errors ("file:line: ...").
// Appends to *out (id -> mentions); does not check the text (ScoreCli does).
Status ParseGold(std::string_view content, const std::string& file,
                 std::map<std::string, std::vector<GoldMention>>* out);

// Code point offsets of `text` (valid UTF-8): result[k] = byte offset of code
// point k, result.back() = text.size().
std::vector<uint32_t> CodePointOffsets(std::string_view text);

}  // namespace sagaflow::text
