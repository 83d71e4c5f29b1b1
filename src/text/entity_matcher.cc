#include "text/entity_matcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "text/entity_forms.h"
#include "text/entity_matcher_kernel.h"
#include "text/entity_trie.h"
#include "text/unicode.h"

// How Count finds matches fast (the rules are in entity_matcher.h):
//
// 1. A kernel classifies the text 64 bytes at a time into two bit masks:
//    ASCII word bytes ([0-9A-Za-z_]), and candidate starts: positions whose
//    next three bytes may begin some surface form (StartBytes), right after
//    a byte that is not an ASCII word byte (a byte >= 0x80 may end a
//    non-word character, so it qualifies and the exact check follows).
// 2. Most forms begin with a run of ASCII word bytes ("Jon" in "Jon Snow",
//    "King" in "King's Landing"), and a match needs the text's run of ASCII
//    word bytes at the candidate to equal it exactly: a shorter or longer
//    run would put a word byte against a non-word one. So the text's run
//    (its first 8 bytes and its length, read off the word mask) goes through
//    a bit filter of the forms' first runs, without a branch on the outcome;
//    the few survivors look the run up in a hash table, which yields the
//    trie state after it.
// 3. From there a byte trie (a double array) is walked, taking a form's
//    space on a whole run of IsSpace characters and remembering the longest
//    accepting state whose next character is not a word character. Title
//    + character forms are not in that trie as products: after a title and
//    its space the walk also tries a trie of character forms (entity_trie.h),
//    so a dictionary with dozens of titles stays the size of its forms.
// Forms that begin with any other byte are walked from the trie's root.

namespace sagaflow::text {

namespace {

using namespace matcher_internal;  // NOLINT: the matcher's own internals

// The strings of one scope (EntityForms) as a main trie of the direct
// strings and the title paths, and two name tries that the title states
// lead into (entity_trie.h), with the filters of steps 1 and 2.
class ScopeAutomaton {
 public:
  explicit ScopeAutomaton(const ScopeForms& forms);

  bool empty() const { return empty_; }
  // Calls on_match(entity, begin, end) for every match s[begin, end), left to right. kAvx2: with the
  // AVX2 kernel, which only code compiled for AVX2 may call (ScanAvx2).
  template <bool kAvx2, typename OnMatch>
  void Scan(const uint8_t* s, size_t n, OnMatch&& on_match) const noexcept;

 private:
  size_t Walk(const uint8_t* s, size_t n, uint32_t state, size_t i, int32_t* entity) const noexcept {
    return main_.Walk(s, n, state, i, entity, names_, all_caps_names_);
  }
  void IndexFirstRuns(const std::vector<std::string>& strings);

  Trie names_, all_caps_names_;  // before main_, which is built with them
  Trie main_;
  FirstRunTable first_runs_;
  StartBytes start_;
  bool empty_;
};

size_t FirstRunLength(std::string_view form) {
  size_t length = 0;
  while (length < form.size() && IsAsciiWordByte(static_cast<uint8_t>(form[length]))) ++length;
  return length;
}

// The strings a match can begin with: the direct forms, and the title paths
// with their space (any byte may follow it, as far as StartBytes looks).
std::vector<std::string> Beginnings(const ScopeForms& forms) {
  std::vector<std::string> out;
  out.reserve(forms.direct.size() + forms.titled.paths.size());
  for (const auto& [form, entity] : forms.direct) out.push_back(form);
  for (const auto& [path, cases] : forms.titled.paths) out.push_back(path + ' ');
  return out;
}

// The main trie: the direct strings, and every product string that the
// factored tries would resolve to another entity than `form` says (two
// products that collide), which then wins as a direct string.
Trie MainTrie(const ScopeForms& forms, const Trie& names, const Trie& all_caps_names) {
  Trie main(forms.direct, forms.titled.paths);
  std::map<std::string, uint32_t> overrides;
  for (const auto& [s, entity] : forms.form) {
    if (forms.direct.count(s) != 0) continue;
    int32_t found = -1;
    const size_t end =
        main.Walk(reinterpret_cast<const uint8_t*>(s.data()), s.size(), 0, 0, &found, names, all_caps_names);
    if (end != s.size() || found != static_cast<int32_t>(entity)) overrides.emplace(s, entity);
  }
  if (overrides.empty()) return main;
  overrides.insert(forms.direct.begin(), forms.direct.end());
  return Trie(overrides, forms.titled.paths);
}

ScopeAutomaton::ScopeAutomaton(const ScopeForms& forms)
    : names_(forms.titled.names, {}),
      all_caps_names_(forms.titled.all_caps_names, {}),
      main_(MainTrie(forms, names_, all_caps_names_)),
      first_runs_(forms.direct.size() + forms.titled.paths.size()),
      start_(Beginnings(forms)),
      empty_(forms.form.empty()) {
  IndexFirstRuns(Beginnings(forms));
}

void ScopeAutomaton::IndexFirstRuns(const std::vector<std::string>& strings) {
  for (const std::string& form : strings) {
    const size_t run = FirstRunLength(form);
    if (run == 0) continue;  // walked from the root
    const size_t prefix = std::min<size_t>(run, 8);
    uint32_t state = 0;
    for (size_t j = 0; j < prefix; ++j) state = main_.Child(state, static_cast<uint8_t>(form[j]));
    FirstRunTable::Entry entry{LoadKey(reinterpret_cast<const uint8_t*>(form.data()), prefix, 0), state,
                               static_cast<uint32_t>(std::min<size_t>(run, 9))};
    bool byte_children = false;
    for (int c = 0; c < 256; ++c) byte_children |= main_.Child(state, static_cast<uint8_t>(c)) != 0;
    const uint32_t space_child = main_.SpaceChild(state);
    if (run <= 8 && !main_.Accepts(state) && space_child != 0 && !byte_children) {
      entry.only_space = true;
      const uint8_t cases = main_.TitleCases(space_child);
      for (int c = 0; c < 256; ++c) {
        const auto b = static_cast<uint8_t>(c);
        if (main_.Child(space_child, b) != 0 || ((cases & kTitleAsWritten) && names_.Child(0, b) != 0) ||
            ((cases & kTitleAllCaps) && all_caps_names_.Child(0, b) != 0)) {
          entry.follow |= uint64_t{1} << (c & 63);
        }
      }
    }
    first_runs_.Insert(entry);
  }
}

// Appends the offsets of the set bits of `mask` (+ base) to out[*count...],
// eight at a time without a branch per bit; writes up to 63 entries past
// the new count.
inline void AppendBits(uint64_t mask, uint16_t base, uint16_t* out, size_t* count) noexcept {
  const int bits = std::popcount(mask);
  uint16_t* dst = out + *count;
  for (int done = 0; done < bits; done += 8) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      dst[done + j] = static_cast<uint16_t>(base + std::countr_zero(mask | (uint64_t{1} << 63)));
      mask &= mask - 1;
    }
  }
  *count += bits;
}

template <bool kAvx2, typename OnMatch>
void ScopeAutomaton::Scan(const uint8_t* s, size_t n, OnMatch&& on_match) const noexcept {
  BlockMasks masks;
  uint16_t starts[kChunk + 64];  // candidate offsets in the chunk
  uint16_t hits[kChunk];         // those that pass the first-run filter
  uint8_t hit_runs[kChunk];      // and the length of their first run (up to 9)
  size_t resume = 0;             // matches do not overlap: no candidate before the last match's end
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t len = std::min(kChunk, n - base);
    // One block more than the chunk's, for the word runs that cross its end.
    const size_t blocks = (std::min(n - base, len + 64) + 63) / 64;
    const bool prev_nonword = base == 0 || !IsAsciiWordByte(s[base - 1]);
#ifdef SAGAFLOW_HAVE_AVX2_KERNEL
    if constexpr (kAvx2) {
      Avx2Masks(start_, s + base, n - base, blocks, prev_nonword, &masks);
    } else {
      PortableMasks(start_, s + base, n - base, blocks, prev_nonword, &masks);
    }
#else
    PortableMasks(start_, s + base, n - base, blocks, prev_nonword, &masks);
#endif
    masks.word[blocks] = 0;
    size_t num_starts = 0;
    for (size_t k = 0; k < (len + 63) / 64; ++k) AppendBits(masks.start[k], k * 64, starts, &num_starts);

    // Filter without branching on the outcome (it is unpredictable): keep
    // the candidates whose first run may be in the table, or that have none.
    size_t num_hits = 0;
    for (size_t c = 0; c < num_starts; ++c) {
      const size_t off = starts[c], k = off / 64, bit = off % 64;
      // The word bits from off on (two shifts: a shift by 64 is undefined).
      const uint64_t ahead = masks.word[k] >> bit | (masks.word[k + 1] << 1) << (63 - bit);
      const size_t run = std::countr_one(ahead);
      const uint64_t key = LoadKey(s, n, base + off) & RunKeyMask(run);
      hits[num_hits] = static_cast<uint16_t>(off);
      hit_runs[num_hits] = static_cast<uint8_t>(std::min<size_t>(run, 9));
      num_hits += run == 0 || first_runs_.MayContain(key, std::min<size_t>(run, 9));
    }

    for (size_t c = 0; c < num_hits; ++c) {
      const size_t p = base + hits[c], run = hit_runs[c];
      if (p < resume) continue;
      uint32_t state = 0;
      size_t i = p;
      if (run != 0) {
        const uint64_t key = LoadKey(s, n, p) & RunKeyMask(run);
        const FirstRunTable::Entry* entry = first_runs_.Find(key, run);
        if (entry == nullptr) continue;
        state = entry->state;
        i = p + std::min<size_t>(run, 8);
        if (entry->only_space) {
          // The walk would fail unless whitespace follows (an ASCII byte
          // that is not one, or the text end, fails) and, after one ASCII
          // space, a byte of `follow` (or more whitespace) comes next.
          if (i == n || (s[i] < 0x80 && !IsAsciiSpace(s[i]))) continue;
          if (s[i] == ' ' && i + 1 < n && s[i + 1] < 0x80 && !IsAsciiSpace(s[i + 1]) &&
              !((entry->follow >> (s[i + 1] & 63)) & 1)) {
            continue;
          }
        }
      }
      if (p > 0 && s[p - 1] >= 0x80 && IsWordBefore(s, n, p)) continue;
      int32_t entity;
      if (size_t end = Walk(s, n, state, i, &entity)) {
        on_match(static_cast<uint32_t>(entity), p, end);
        resume = end;
      }
    }
  }
}

// Mention counts of one Count call: dense by entity (all zero between
// calls), with the entities seen listed. Per thread, grown on demand.
struct MentionCounts {
  std::vector<uint32_t> count;    // by entity
  std::vector<uint32_t> touched;  // entities with count != 0, first-seen order, + 1 spare entry
};

// Counts the matches of `automaton` in s[0..n) into *counts; returns how
// many entities it touched. flatten: the scan, the trie walk and the
// counting inlined into one function, so its state stays in registers.
[[gnu::flatten]] size_t ScanPortable(const ScopeAutomaton& automaton, const uint8_t* s, size_t n,
                                     MentionCounts* counts) noexcept {
  uint32_t* count = counts->count.data();
  uint32_t* touched = counts->touched.data();
  size_t num_touched = 0;
  automaton.Scan<false>(s, n, [&](uint32_t entity, size_t, size_t) {
    touched[num_touched] = entity;
    num_touched += count[entity]++ == 0;
  });
  return num_touched;
}

#ifdef SAGAFLOW_HAVE_AVX2_KERNEL
// The same compiled for AVX2 (and BMI2, POPCNT), with the AVX2 kernel.
__attribute__((target("avx2,bmi,bmi2,popcnt,lzcnt"), flatten)) size_t ScanAvx2(const ScopeAutomaton& automaton,
                                                                               const uint8_t* s, size_t n,
                                                                               MentionCounts* counts) noexcept {
  uint32_t* count = counts->count.data();
  uint32_t* touched = counts->touched.data();
  size_t num_touched = 0;
  automaton.Scan<true>(s, n, [&](uint32_t entity, size_t, size_t) {
    touched[num_touched] = entity;
    num_touched += count[entity]++ == 0;
  });
  return num_touched;
}
#endif

}  // namespace

struct EntityMatcher::Impl {
  using ScanFn = size_t (*)(const ScopeAutomaton&, const uint8_t*, size_t, MentionCounts*) noexcept;

  ScopeAutomaton unscoped;
  std::vector<std::pair<std::string, ScopeAutomaton>> scoped;  // one per saga with entries
  size_t num_entities = 0;
  ScanFn scan = ScanPortable;

  const ScopeAutomaton& For(std::string_view saga) const noexcept {
    for (const auto& [name, automaton] : scoped) {
      if (name == saga) return automaton;
    }
    return unscoped;
  }
};

EntityMatcher::EntityMatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EntityMatcher::EntityMatcher(EntityMatcher&&) noexcept = default;
EntityMatcher& EntityMatcher::operator=(EntityMatcher&&) noexcept = default;
EntityMatcher::~EntityMatcher() = default;

Result<EntityMatcher> EntityMatcher::Build(const EntityDictionary& dict, const MatcherOptions& options) {
  auto scopes = ExpandForms(dict);  // scopes->front() is the unscoped one
  if (!scopes.ok()) return scopes.status();
  auto impl =
      std::unique_ptr<Impl>(new Impl{ScopeAutomaton(scopes->front()), {}, dict.entities().size(), ScanPortable});
#ifdef SAGAFLOW_HAVE_AVX2_KERNEL
  if (options.simd && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2")) impl->scan = ScanAvx2;
#else
  (void)options;
#endif
  for (size_t k = 1; k < scopes->size(); ++k) {
    impl->scoped.emplace_back((*scopes)[k].saga, ScopeAutomaton((*scopes)[k]));
  }
  return EntityMatcher(std::move(impl));
}

Result<EntityMatcher> EntityMatcher::Build(const EntityDictionary& dict) { return Build(dict, MatcherOptions{}); }

void EntityMatcher::Count(std::string_view text, std::string_view saga, std::vector<Mention>* out) const noexcept {
  out->clear();
  const ScopeAutomaton& automaton = impl_->For(saga);
  if (automaton.empty()) return;
  thread_local MentionCounts counts;
  if (counts.count.size() < impl_->num_entities) {
    counts.count.resize(impl_->num_entities, 0);
    counts.touched.resize(impl_->num_entities + 1);  // Scan* write one entry past the last touched
  }
  const size_t touched = impl_->scan(automaton, reinterpret_cast<const uint8_t*>(text.data()), text.size(), &counts);
  std::sort(counts.touched.begin(), counts.touched.begin() + static_cast<ptrdiff_t>(touched));
  for (size_t i = 0; i < touched; ++i) {
    const uint32_t entity = counts.touched[i];
    out->push_back(Mention{entity, counts.count[entity]});
    counts.count[entity] = 0;
  }
}

void EntityMatcher::Find(std::string_view text, std::string_view saga, std::vector<MentionSpan>* out) const {
  out->clear();
  const ScopeAutomaton& automaton = impl_->For(saga);
  if (automaton.empty()) return;
  automaton.Scan<false>(reinterpret_cast<const uint8_t*>(text.data()), text.size(),
                        [&](uint32_t entity, size_t begin, size_t end) {
                          out->push_back(MentionSpan{entity, static_cast<uint32_t>(begin), static_cast<uint32_t>(end)});
                        });
}

}  // namespace sagaflow::text
