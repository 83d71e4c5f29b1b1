#include "text/entity_score.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>

namespace sagaflow::text {

namespace {

constexpr std::string_view kGoldHeader = "id\tstart\tend\tsurface\tentity\tkind";
constexpr std::string_view kGoldKinds[] = {"person", "place", "group"};

bool Overlaps(const SpanMention& a, const SpanMention& b) { return a.start < b.end && b.start < a.end; }

std::vector<Tally> Sorted(const std::map<std::tuple<std::string, std::string, std::string>, int64_t>& counts) {
  std::vector<Tally> out;
  out.reserve(counts.size());
  for (const auto& [key, n] : counts) out.push_back(Tally{std::get<0>(key), std::get<1>(key), std::get<2>(key), n});
  std::stable_sort(out.begin(), out.end(), [](const Tally& a, const Tally& b) { return a.count > b.count; });
  return out;
}

bool ParseOffset(std::string_view s, uint32_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

}  // namespace

std::string_view GoldKind(std::string_view dictionary_kind) noexcept {
  if (dictionary_kind == "character") return "person";
  if (dictionary_kind == "place") return "place";
  if (dictionary_kind == "house" || dictionary_kind == "group") return "group";
  return "";
}

ScoreReport Score(const std::vector<ScoredText>& texts) {
  ScoreReport report;
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> misses, false_positives;
  // (saga, gold entity) -> the predictions overlapping its mentions: name -> whether it may stand for it
  std::map<std::pair<std::string, std::string>, std::map<std::string, bool>> overlapped_by;
  std::set<std::pair<std::string, std::string>> gold_entities;  // (saga, name)
  for (const ScoredText& t : texts) {
    for (const GoldMention& g : t.gold) gold_entities.emplace(t.saga, g.entity);
  }
  for (const ScoredText& t : texts) {
    Counts& c = report.per_saga[t.saga];
    ++c.texts;
    c.gold += static_cast<int64_t>(t.gold.size());
    c.predicted += static_cast<int64_t>(t.predicted.size());
    c.unscored += t.unscored;
    std::vector<bool> matched(t.gold.size(), false);
    for (const SpanMention& p : t.predicted) {
      bool hit = false;
      for (size_t g = 0; g < t.gold.size(); ++g) {
        if (Overlaps(p, t.gold[g])) {
          const bool stands_for = p.entity == t.gold[g].entity ||
                                  (p.kind == t.gold[g].kind && gold_entities.count({t.saga, p.entity}) == 0);
          overlapped_by[{t.saga, t.gold[g].entity}].emplace(p.entity, stands_for);
        }
        if (!hit && !matched[g] && t.gold[g].entity == p.entity && Overlaps(p, t.gold[g])) {
          matched[g] = true;
          hit = true;
        }
      }
      if (hit) {
        ++c.true_positives;
      } else {
        ++false_positives[{t.saga, p.surface, p.entity}];
      }
    }
    for (size_t g = 0; g < t.gold.size(); ++g) {
      if (!matched[g]) ++misses[{t.saga, t.gold[g].surface, t.gold[g].entity}];
    }
  }
  for (const auto& [saga, c] : report.per_saga) {
    report.overall.texts += c.texts;
    report.overall.gold += c.gold;
    report.overall.predicted += c.predicted;
    report.overall.true_positives += c.true_positives;
    report.overall.unscored += c.unscored;
  }
  for (const auto& [key, names] : overlapped_by) {
    SplitEntity same{key.first, key.second, {}}, other{key.first, key.second, {}};
    for (const auto& [name, stands_for] : names) (stands_for ? same : other).predicted_as.push_back(name);
    if (same.predicted_as.size() >= 2) report.split.push_back(std::move(same));
    if (!other.predicted_as.empty()) report.confusions.push_back(std::move(other));
  }
  report.misses = Sorted(misses);
  report.false_positives = Sorted(false_positives);
  return report;
}

Status ParseGold(std::string_view content, const std::string& file,
                 std::map<std::string, std::vector<GoldMention>>* out) {
  bool have_header = false;
  size_t number = 0;
  while (!content.empty()) {
    const size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content = nl == std::string_view::npos ? std::string_view() : content.substr(nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = fmt::format("{}:{}", file, number);
    if (!have_header) {
      if (line != kGoldHeader) {
        return Status::InvalidArgument(
            fmt::format("{}: expected the header id, start, end, surface, entity, kind (tab-separated)", where));
      }
      have_header = true;
      continue;
    }
    std::vector<std::string_view> f;
    for (size_t at; (at = line.find('\t')) != std::string_view::npos; line.remove_prefix(at + 1))
      f.push_back(line.substr(0, at));
    f.push_back(line);
    if (f.size() != 6) {
      return Status::InvalidArgument(fmt::format(
          "{}: expected 6 tab-separated fields (id, start, end, surface, entity, kind), got {}", where, f.size()));
    }
    GoldMention m;
    if (!ParseOffset(f[1], &m.start) || !ParseOffset(f[2], &m.end) || m.end <= m.start) {
      return Status::InvalidArgument(
          fmt::format("{}: start and end must be code point offsets with start < end", where));
    }
    if (f[0].empty() || f[3].empty() || f[4].empty()) {
      return Status::InvalidArgument(fmt::format("{}: empty id, surface or entity", where));
    }
    if (std::find(std::begin(kGoldKinds), std::end(kGoldKinds), f[5]) == std::end(kGoldKinds)) {
      return Status::InvalidArgument(
          fmt::format("{}: unknown kind \"{}\" (expected person, place or group)", where, f[5]));
    }
    m.surface = std::string(f[3]);
    m.entity = std::string(f[4]);
    m.kind = std::string(f[5]);
    m.where = where;
    (*out)[std::string(f[0])].push_back(std::move(m));
  }
  if (!have_header) return Status::InvalidArgument(fmt::format("{}: no header line", file));
  for (auto& [id, mentions] : *out) {
    std::stable_sort(mentions.begin(), mentions.end(),
                     [](const GoldMention& a, const GoldMention& b) { return a.start < b.start; });
  }
  return Status::Ok();
}

std::vector<uint32_t> CodePointOffsets(std::string_view text) {
  std::vector<uint32_t> offsets;
  offsets.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<uint8_t>(text[i]) & 0xC0) != 0x80) offsets.push_back(static_cast<uint32_t>(i));
  }
  offsets.push_back(static_cast<uint32_t>(text.size()));
  return offsets;
}

}  // namespace sagaflow::text
