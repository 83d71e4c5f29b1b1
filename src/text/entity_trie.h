// Internal to entity_matcher.cc: a byte trie of surface forms laid out as a
// double array, and the walk that finds the longest form at a position.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "text/entity_matcher_kernel.h"

namespace sagaflow::text::matcher_internal {

// The child of state s on byte c is t = slots_[s].base + c when
// slots_[t].check == s, so a transition is one load and one compare. The
// edge labelled ' ' is kept apart as space_child, taken on a whole run of
// IsSpace characters.
//
// Besides forms, a trie may hold title paths ("Ser" of a title row): the
// state after the path's space is a *title state*, where a walk also tries
// the forms of the name tries its case bits (TitleCase) select. So the trie
// stands for every title spelling x character form without holding them.
class Trie {
 public:
  // forms: normalized surface form -> entity index. paths: title spelling ->
  // TitleCase bits (none in a name trie).
  Trie(const std::map<std::string, uint32_t>& forms, const std::map<std::string, uint8_t>& paths);

  uint32_t Child(uint32_t state, uint8_t c) const noexcept {
    const uint32_t t = slots_[state].base + c;  // slots_ has 256 spare slots: always in range
    return slots_[t].check == state ? t : 0;
  }
  uint32_t SpaceChild(uint32_t state) const noexcept { return slots_[state].space_child; }
  bool Accepts(uint32_t state) const noexcept { return slots_[state].entity >= 0; }
  // The TitleCase bits of a title state, else 0.
  uint8_t TitleCases(uint32_t state) const noexcept {
    return slots_[state].entity < -1 ? static_cast<uint8_t>(-1 - slots_[state].entity) : 0;
  }

  // From `state` at s[i], the end of the longest form whose next character
  // is not a word character (setting *entity), or 0. Title states are
  // passed over (a name trie has none).
  size_t Walk(const uint8_t* s, size_t n, uint32_t state, size_t i, int32_t* entity) const noexcept {
    return WalkImpl<false>(s, n, state, i, entity, *this, *this);
  }
  // The same where the forms of `names` (kTitleAsWritten) and `all_caps`
  // (kTitleAllCaps) also count at title states; on equal ends this trie's
  // form wins, then `names`'.
  size_t Walk(const uint8_t* s, size_t n, uint32_t state, size_t i, int32_t* entity, const Trie& names,
              const Trie& all_caps) const noexcept {
    return WalkImpl<true>(s, n, state, i, entity, names, all_caps);
  }

 private:
  static constexpr uint32_t kNoParent = UINT32_MAX;  // check of a slot no byte leads to
  struct Slot {
    uint32_t check = kNoParent;  // parent state
    uint32_t base = 0;           // children at base + byte
    uint32_t space_child = 0;    // 0 = none (the root, slot 0, is never a child)
    int32_t entity = -1;         // >= 0: a form ends here; < -1: a title state with TitleCase bits -1 - entity
  };
  std::vector<Slot> slots_;  // slots_[0] is the root

  template <bool kTitles>
  size_t WalkImpl(const uint8_t* s, size_t n, uint32_t state, size_t i, int32_t* entity, const Trie& names,
                  const Trie& all_caps) const noexcept {
    size_t best = 0;
    for (;;) {
      const Slot& slot = slots_[state];
      if (slot.entity >= 0) {
        // i >= best: a form of a name trie may have ended further on.
        if (i >= best && (i == n || !IsWordAt(s, n, i))) {
          best = i;
          *entity = slot.entity;
        }
      } else if (kTitles && slot.entity < -1) {
        const auto cases = static_cast<uint8_t>(-1 - slot.entity);
        int32_t found;
        if (size_t end; (cases & 1) && (end = names.Walk(s, n, 0, i, &found)) > best) {
          best = end;
          *entity = found;
        }
        if (size_t end; (cases & 2) && (end = all_caps.Walk(s, n, 0, i, &found)) > best) {
          best = end;
          *entity = found;
        }
      }
      if (i >= n) break;
      if (slot.space_child != 0) {
        if (size_t j = SpaceRunEnd(s, n, i); j != i) {
          state = slot.space_child;
          i = j;
          continue;
        }
      }
      state = Child(state, s[i]);
      if (state == 0) break;
      ++i;
    }
    return best;
  }
};

}  // namespace sagaflow::text::matcher_internal
