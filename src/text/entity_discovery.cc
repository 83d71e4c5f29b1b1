#include "text/entity_discovery.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "text/entity_forms.h"
#include "text/unicode.h"

namespace sagaflow::text {

namespace {

// A word of a text: word characters, joined inside by ' U+2019 or -.
struct Token {
  size_t begin, end;  // byte offsets
  bool capitalized;   // first character is an uppercase letter
  bool all_caps;      // two or more letters, none lower case
  bool lower;         // first character is a lower-case letter
  bool initial;       // first in its sentence (or after an opening quote or bracket)
  bool spaced;        // only whitespace between the previous token and this one
};

bool IsUpper(char32_t c) {
  char32_t lower[3];
  return LowercaseFull(c, lower) != 1 || lower[0] != c;
}

bool IsLowerLetter(char32_t c) {
  if (!IsWordChar(c) || IsUpper(c)) return false;
  std::string s, upper;
  AppendUtf8(c, &s);
  AppendUppercase(s, &upper);
  return upper != s;
}

bool IsJoiner(char32_t c) { return c == '\'' || c == 0x2019 || c == '-'; }

// Characters after which the next word starts a sentence (or a quotation).
bool StartsSentenceAfter(char32_t c) {
  switch (c) {
    case '.':
    case '!':
    case '?':
    case ':':
    case ';':
    case 0x2026:  // ellipsis
    case '"':
    case 0x201C:
    case 0x2018:
    case '(':
    case '[':
      return true;
    default:
      return false;
  }
}

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  bool initial = true, spaced = false;
  for (size_t i = 0; i < text.size();) {
    size_t start = i;
    char32_t c = DecodeUtf8(text, &i);
    if (!IsWordChar(c)) {
      if (StartsSentenceAfter(c)) initial = true;
      if (!IsSpace(c)) spaced = false;
      continue;
    }
    Token t{start, i, IsUpper(c), false, IsLowerLetter(c), initial, spaced};
    int letters = 0, lower_letters = 0;
    auto note = [&](char32_t ch) {
      if (IsUpper(ch)) ++letters;
      if (IsLowerLetter(ch)) ++letters, ++lower_letters;
    };
    note(c);
    for (;;) {
      size_t j = i;
      if (j >= text.size()) break;
      char32_t d = DecodeUtf8(text, &j);
      if (IsWordChar(d)) {
        note(d);
        i = j;
        continue;
      }
      if (IsJoiner(d) && j < text.size()) {
        size_t k = j;
        char32_t e = DecodeUtf8(text, &k);
        if (IsWordChar(e)) {
          note(e);
          i = k;
          continue;
        }
      }
      break;
    }
    t.end = i;
    t.all_caps = letters >= 2 && lower_letters == 0;
    tokens.push_back(t);
    initial = false;
    spaced = true;
  }
  return tokens;
}

std::string Lower(std::string_view s) {
  std::string out;
  AppendLowercase(s, &out);
  return out;
}

// s with whitespace runs as single spaces.
std::string Collapse(std::string_view s) {
  std::string out;
  NormalizeSurfaceForm(s, &out);
  return out;
}

// About `width` bytes before and after text[begin, end), cut at characters, the mention in brackets.
std::string Context(std::string_view text, size_t begin, size_t end, size_t width = 50) {
  size_t from = begin > width ? begin - width : 0, to = std::min(text.size(), end + width);
  while (from > 0 && (static_cast<uint8_t>(text[from]) & 0xC0) == 0x80) --from;
  while (to < text.size() && (static_cast<uint8_t>(text[to]) & 0xC0) == 0x80) ++to;
  return Collapse(std::string(text.substr(from, begin - from)) + "[" + std::string(text.substr(begin, end - begin)) +
                  "]" + std::string(text.substr(end, to - end)));
}

constexpr std::string_view kPlaceWords[] = {
    "River", "Tower", "Towers", "Keep",   "Hall",    "Gate", "Castle",  "Bridge", "Isle",     "Islands",   "Island",
    "Sea",   "Wood",  "Forest", "Hill",   "Hills",   "Vale", "Valley",  "Road",   "Street",   "Alley",     "Inn",
    "Pass",  "Ford",  "Falls",  "Rock",   "Bay",     "Lake", "Fields",  "Marsh",  "Mountain", "Mountains", "Wall",
    "Manor", "Lane",  "Place",  "Square", "Harbour", "Port", "Gardens", "Downs",  "Dale",     "Deep"};

std::string GuessKind(const Proposal& p) {
  if (p.with_title > 0) return "character";
  const size_t space = p.name.rfind(' ');
  const std::string_view last =
      space == std::string::npos ? std::string_view(p.name) : std::string_view(p.name).substr(space + 1);
  const std::string_view first = std::string_view(p.name).substr(0, p.name.find(' '));
  for (std::string_view w : {first, last}) {  // "Tower of Joy", "Castle Black", "Sunset Sea"
    if (std::find(std::begin(kPlaceWords), std::end(kPlaceWords), w) != std::end(kPlaceWords)) return "place";
  }
  if (p.name.rfind("House ", 0) == 0) return "house";
  if (space == std::string::npos && p.name.size() > 3 && p.name.back() == 's') return "group";
  return "character";
}

}  // namespace

EntityDiscovery::EntityDiscovery(const EntityDictionary& dict, const EntityMatcher& matcher)
    : dict_(dict), matcher_(matcher) {}

void EntityDiscovery::Add(std::string text, std::string saga) { texts_.emplace_back(std::move(saga), std::move(text)); }

std::vector<Proposal> EntityDiscovery::Proposals(int min_count) const {
  // Corpus statistics for the sentence-initial rule, keyed by the lower-cased word.
  std::unordered_map<std::string, int> lower_count, inner_capitalized;
  std::vector<std::vector<Token>> tokens(texts_.size());
  for (size_t t = 0; t < texts_.size(); ++t) {
    const std::string& text = texts_[t].second;
    tokens[t] = Tokenize(text);
    for (const Token& tok : tokens[t]) {
      const std::string_view word = std::string_view(text).substr(tok.begin, tok.end - tok.begin);
      if (tok.lower) ++lower_count[std::string(word)];
      if (tok.capitalized && !tok.initial && !tok.all_caps) ++inner_capitalized[Lower(word)];
    }
  }
  auto name_like = [&](std::string_view word) {
    const std::string key = Lower(word);
    auto cap = inner_capitalized.find(key);
    auto low = lower_count.find(key);
    return (cap == inner_capitalized.end() ? 0 : cap->second) > (low == lower_count.end() ? 0 : low->second);
  };

  // Per saga: title spellings (longest first) and the strings the matcher knows.
  struct Scope {
    std::vector<std::string> titles;
    std::map<std::string, uint32_t> forms;
  };
  std::map<std::string, Scope> scopes;
  auto scope_of = [&](const std::string& saga) -> const Scope& {
    auto it = scopes.find(saga);
    if (it != scopes.end()) return it->second;
    Scope scope;
    for (const Title& title : dict_.titles()) {
      if (title.saga.empty() || title.saga == saga) {
        scope.titles.insert(scope.titles.end(), title.spellings.begin(), title.spellings.end());
      }
    }
    std::sort(scope.titles.begin(), scope.titles.end(), [](const std::string& a, const std::string& b) {
      return a.size() > b.size() || (a.size() == b.size() && a < b);
    });
    if (auto forms = ExpandScopeForms(dict_, saga); forms.ok()) scope.forms = std::move(forms->form);
    return scopes.emplace(saga, std::move(scope)).first->second;
  };

  struct Draft {
    Proposal p;
    std::set<int64_t> end_entities;  // entities the matcher finds ending where the candidate ends
    size_t last_text = SIZE_MAX;
  };
  std::map<std::pair<std::string, std::string>, Draft> drafts;
  std::vector<MentionSpan> spans;
  for (size_t t = 0; t < texts_.size(); ++t) {
    const auto& [saga, text] = texts_[t];
    const Scope& scope = scope_of(saga);
    matcher_.Find(text, saga, &spans);
    const std::vector<Token>& toks = tokens[t];
    auto word = [&, &text = text](size_t k) {
      return std::string_view(text).substr(toks[k].begin, toks[k].end - toks[k].begin);
    };
    auto is_name_word = [&](size_t k) {
      const Token& tok = toks[k];
      const std::string_view w = word(k);  // "I'm", "I’ll": the pronoun, not a name
      return tok.capitalized && !tok.all_caps && w.size() > 1 && !w.starts_with("I'") && !w.starts_with("I\u2019");
    };
    for (size_t i = 0; i < toks.size();) {
      if (!is_name_word(i) || (toks[i].initial && !name_like(word(i))) || word(i) == "The" || word(i) == "An") {
        ++i;
        continue;
      }
      const size_t first = i;
      size_t last = i, j = i + 1, connectors = 0;
      while (j < toks.size() && toks[j].spaced && j - first < 8) {
        if (is_name_word(j)) {
          last = j++;
          connectors = 0;
        } else if (connectors < 2 &&
                   std::find(std::begin(kConnectors), std::end(kConnectors), word(j)) != std::end(kConnectors)) {
          ++connectors;
          ++j;
        } else {
          break;
        }
      }
      i = last + 1;
      size_t begin = toks[first].begin, end = toks[last].end;
      const std::string_view tail = std::string_view(text).substr(begin, end - begin);
      if (tail.ends_with("'s")) end -= 2;
      if (tail.ends_with("\u2019s")) end -= 4;
      if (end <= begin) continue;
      bool known = false;
      std::set<int64_t> ending_here;
      for (const MentionSpan& m : spans) {
        if (m.begin == begin && m.end == end) known = true;
        if (m.end == end && m.begin >= begin) ending_here.insert(m.entity);
      }
      if (known) continue;
      const std::string seen = Collapse(std::string_view(text).substr(begin, end - begin));
      std::string name = seen;
      bool titled = false;
      for (const std::string& title : scope.titles) {
        if (name.size() > title.size() + 1 && name.compare(0, title.size(), title) == 0 && name[title.size()] == ' ') {
          name.erase(0, title.size() + 1);
          titled = true;
          break;
        }
      }
      Draft& d = drafts[{saga, name}];
      if (d.p.count == 0) {
        d.p.saga = saga;
        d.p.name = name;
      }
      ++d.p.count;
      ++d.p.seen[seen];
      d.p.with_title += titled;
      if (first > 0 && toks[first - 1].spaced && word(first - 1) == "the") ++d.p.after_the;
      if (d.last_text != t) ++d.p.texts;
      d.last_text = t;
      if (d.p.contexts.size() < 2) d.p.contexts.push_back(Context(text, begin, end));
      d.end_entities.insert(ending_here.begin(), ending_here.end());
    }
  }

  std::vector<Proposal> out;
  for (auto& [key, d] : drafts) {
    if (d.p.count < min_count) continue;
    const Scope& scope = scope_of(d.p.saga);
    if (auto it = scope.forms.find(d.p.name); it != scope.forms.end()) {
      d.p.link = it->second;
    } else if (d.end_entities.size() == 1) {
      d.p.link = *d.end_entities.begin();
    }
    d.p.kind = d.p.link >= 0 ? dict_.entities()[d.p.link].kind : GuessKind(d.p);
    out.push_back(std::move(d.p));
  }
  auto saga_rank = [](const std::string& saga) {
    auto it = std::find(std::begin(kSagas), std::end(kSagas), saga);
    return it - std::begin(kSagas);  // "" and unknown sagas last
  };
  std::sort(out.begin(), out.end(), [&](const Proposal& a, const Proposal& b) {
    if (saga_rank(a.saga) != saga_rank(b.saga)) return saga_rank(a.saga) < saga_rank(b.saga);
    if (a.saga != b.saga) return a.saga < b.saga;
    if (a.count != b.count) return a.count > b.count;
    return a.name < b.name;
  });
  return out;
}

}  // namespace sagaflow::text
