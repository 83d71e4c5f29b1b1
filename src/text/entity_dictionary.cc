#include "text/entity_dictionary.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>

#include "text/unicode.h"
#include "util/json_writer.h"

namespace sagaflow::text {

namespace {

constexpr std::string_view kCuratedHeader = "saga\tname\tkind\taliases";
constexpr std::string_view kUnscopedField = "*";

// Calls fn(line_number, line) for every line of `text`, without the '\n' and
// one '\r' before it. A final line without '\n' counts; an empty remainder
// after the last '\n' does not. Stops early when fn returns a non-OK status.
template <typename Fn>
Status ForEachLine(std::string_view text, Fn&& fn) {
  size_t number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    SAGAFLOW_RETURN_IF_ERROR(fn(++number, line));
  }
  return Status::Ok();
}

// `s` as a JSON string, so that whitespace and control characters show.
std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

Status LineError(size_t line, std::string_view what) {
  return Status::InvalidArgument(fmt::format("line {}: {}", line, what));
}

bool IsComment(std::string_view line) { return !line.empty() && line.front() == '#'; }

// Blank or comment; safe on invalid UTF-8 (which is neither).
bool IsIgnorable(std::string_view line) { return IsComment(line) || (IsValidUtf8(line) && IsBlank(line)); }

// Splits `s` on `sep`, keeping empty fields.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

// Checks that a curated surface form is valid UTF-8 and already normalized.
Status CheckSurfaceForm(size_t line, std::string_view what, std::string_view form) {
  std::string normalized;
  if (!NormalizeSurfaceForm(form, &normalized)) return LineError(line, fmt::format("{} is not valid UTF-8", what));
  if (normalized.empty()) return LineError(line, fmt::format("{} is empty", what));
  if (normalized != form) {
    return LineError(line, fmt::format("{} {} has leading, trailing, repeated or non-space whitespace; write {}", what,
                                       Quoted(form), Quoted(normalized)));
  }
  return Status::Ok();
}

template <typename List>
bool Contains(const List& list, std::string_view value) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

}  // namespace

bool NormalizeSurfaceForm(std::string_view name, std::string* out) {
  out->clear();
  if (!IsValidUtf8(name)) return false;
  bool pending_space = false;
  for (size_t i = 0; i < name.size();) {
    size_t start = i;
    char32_t c = DecodeUtf8(name, &i);
    if (IsSpace(c)) {
      pending_space = !out->empty();
      continue;
    }
    if (pending_space) out->push_back(' ');
    pending_space = false;
    out->append(name.substr(start, i - start));
  }
  return true;
}

bool EntityDictionary::LooksCurated(std::string_view text) {
  std::string_view first;
  (void)ForEachLine(text, [&](size_t, std::string_view line) {
    if (IsIgnorable(line)) return Status::Ok();
    first = line;
    return Status::Unavailable("found");  // stops the walk
  });
  return first == kCuratedHeader;
}

Result<EntityDictionary> EntityDictionary::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("cannot open entity dictionary {}", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::IoError(fmt::format("cannot read entity dictionary {}", path));
  const std::string text = std::move(buf).str();
  auto dict = LooksCurated(text) ? FromCurated(text) : FromFlatList(text);
  if (!dict.ok()) return dict.status().WithContext(path);
  return dict;
}

Result<EntityDictionary> EntityDictionary::FromFlatList(std::string_view text) {
  EntityDictionary dict;
  std::unordered_map<std::string, size_t> first_line;  // normalized name -> line it was first seen on
  std::string name;
  Status st = ForEachLine(text, [&](size_t line, std::string_view raw) {
    if (!NormalizeSurfaceForm(raw, &name)) return LineError(line, "not valid UTF-8");
    if (name.empty()) {
      dict.notes_.push_back(fmt::format("line {}: blank line dropped", line));
      return Status::Ok();
    }
    if (name != raw)
      dict.notes_.push_back(fmt::format("line {}: {} normalized to {}", line, Quoted(raw), Quoted(name)));
    auto [it, inserted] = first_line.emplace(name, line);
    if (!inserted) {
      dict.notes_.push_back(
          fmt::format("line {}: duplicate {} merged into the entry of line {}", line, Quoted(name), it->second));
      return Status::Ok();
    }
    dict.entities_.push_back(Entity{name, "", "other", {}});
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return dict;
}

Result<EntityDictionary> EntityDictionary::FromCurated(std::string_view text) {
  EntityDictionary dict;
  bool have_header = false;
  // "<saga>\t<surface form>" -> line that defined it; saga "" = unscoped.
  std::unordered_map<std::string, size_t> surface_line;
  std::unordered_map<std::string, size_t> title_line;  // the same for title spellings
  std::unordered_map<std::string, size_t> name_line;
  Status st = ForEachLine(text, [&](size_t line, std::string_view raw) -> Status {
    // Records that `line` maps `form` in the scope `saga`; an error if some line already does.
    auto claim = [line](std::unordered_map<std::string, size_t>& lines, const std::string& saga,
                        const std::string& form) -> Status {
      auto [it, inserted] = lines.emplace(saga + '\t' + form, line);
      if (inserted) return Status::Ok();
      const std::string scope = saga.empty() ? "unscoped" : "saga " + saga;
      if (it->second == line) return LineError(line, fmt::format("{} appears twice in this entry", Quoted(form)));
      return LineError(line, fmt::format("{} is already mapped in {} by line {}", Quoted(form), scope, it->second));
    };
    if (!IsValidUtf8(raw)) return LineError(line, "not valid UTF-8");
    if (IsIgnorable(raw)) return Status::Ok();
    if (!have_header) {
      if (raw != kCuratedHeader) {
        return LineError(line, fmt::format("expected the header {} before any entry", Quoted(kCuratedHeader)));
      }
      have_header = true;
      return Status::Ok();
    }
    std::vector<std::string_view> fields = Split(raw, '\t');
    if (fields.size() != 3 && fields.size() != 4) {
      return LineError(
          line, fmt::format("expected 3 or 4 tab-separated fields (saga, name, kind, aliases), got {}", fields.size()));
    }
    Entity e;
    if (fields[0] != kUnscopedField) {
      if (!Contains(kSagas, fields[0])) {
        return LineError(line, fmt::format("unknown saga {} (expected {}, or * for unscoped)", Quoted(fields[0]),
                                           fmt::join(kSagas, ", ")));
      }
      e.saga = std::string(fields[0]);
    }
    if (fields[2] == kTitleKind) {
      Title title{e.saga, {}};
      SAGAFLOW_RETURN_IF_ERROR(CheckSurfaceForm(line, "title", fields[1]));
      title.spellings.emplace_back(fields[1]);
      if (fields.size() == 4 && !fields[3].empty()) {
        for (std::string_view spelling : Split(fields[3], '|')) {
          SAGAFLOW_RETURN_IF_ERROR(CheckSurfaceForm(line, "title spelling", spelling));
          title.spellings.emplace_back(spelling);
        }
      }
      // Titles have a namespace of their own: "Lord" may be a title and an alias.
      for (const std::string& spelling : title.spellings) {
        SAGAFLOW_RETURN_IF_ERROR(claim(title_line, title.saga, spelling));
      }
      dict.titles_.push_back(std::move(title));
      return Status::Ok();
    }
    SAGAFLOW_RETURN_IF_ERROR(CheckSurfaceForm(line, "name", fields[1]));
    e.name = std::string(fields[1]);
    if (!Contains(kEntityKinds, fields[2])) {
      return LineError(line, fmt::format("unknown kind {} (expected {}, or {} for a title row)", Quoted(fields[2]),
                                         fmt::join(kEntityKinds, ", "), kTitleKind));
    }
    e.kind = std::string(fields[2]);
    if (fields.size() == 4 && !fields[3].empty()) {
      for (std::string_view alias : Split(fields[3], '|')) {
        SAGAFLOW_RETURN_IF_ERROR(CheckSurfaceForm(line, "alias", alias));
        e.aliases.emplace_back(alias);
      }
    }
    if (auto [it, inserted] = name_line.emplace(e.name, line); !inserted) {
      return LineError(line, fmt::format("canonical name {} already defined on line {}", Quoted(e.name), it->second));
    }
    SAGAFLOW_RETURN_IF_ERROR(claim(surface_line, e.saga, e.name));
    for (const std::string& alias : e.aliases) SAGAFLOW_RETURN_IF_ERROR(claim(surface_line, e.saga, alias));
    dict.entities_.push_back(std::move(e));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!have_header) return Status::InvalidArgument(fmt::format("missing the header {}", Quoted(kCuratedHeader)));
  return dict;
}

}  // namespace sagaflow::text
