// `sagaflow entities score --gold FILE-or-DIR --input TEXTS --entities D
// [--model M] [--format table|json] [--floors FILE]` (docs/entities.md,
// "Scoring").
//
// Gold: a directory holds texts.tsv ("saga<TAB>id": the gold texts and the
// saga each is matched in) and one <saga>.tsv of annotations per saga; a
// file is one annotation file (texts.tsv is read from its directory when
// there). Scored texts: those of texts.tsv whose saga has an annotation
// file loaded, plus every id annotated. A text's saga is the model's label
// with --model, else texts.tsv's. Exit status (README, "Exit status"): 0; 1
// when an input cannot be loaded, a gold row does not match its text or a
// figure is below its floor (--floors); 2 for a bad command line.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/entities_support.h"
#include "text/entity_score.h"
#include "util/json_writer.h"

namespace sagaflow::cli {

namespace {

namespace fs = std::filesystem;

struct ScoreOptions {
  std::string gold;
  std::string input;
  std::string entities;
  std::string model;
  std::string format = "table";
  std::string floors;
};

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read " + path);
  return std::move(buf).str();
}

// The gold set: annotations by id, and the saga texts.tsv gives each gold text.
struct GoldSet {
  std::map<std::string, std::vector<text::GoldMention>> mentions;
  std::map<std::string, std::string> saga_of;  // id -> saga (texts scored)
};

Result<GoldSet> LoadGold(const std::string& path) {
  GoldSet gold;
  std::vector<fs::path> files;
  fs::path dir;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    dir = path;
    for (std::string_view saga : text::kSagas) {
      const fs::path file = dir / (std::string(saga) + ".tsv");
      if (fs::exists(file, ec)) files.push_back(file);
    }
    if (files.empty()) return Status::NotFound(fmt::format("{}: no gold file (got.tsv, lotr.tsv, hp.tsv)", path));
  } else {
    files.push_back(path);
    dir = fs::path(path).parent_path();
  }
  std::set<std::string> sagas_loaded;
  for (const fs::path& file : files) {
    auto content = ReadWhole(file.string());
    if (!content.ok()) return content.status();
    SAGAFLOW_RETURN_IF_ERROR(text::ParseGold(*content, file.string(), &gold.mentions));
    sagas_loaded.insert(file.stem().string());
  }
  const fs::path texts = dir.empty() ? fs::path("texts.tsv") : dir / "texts.tsv";
  if (fs::exists(texts, ec)) {
    auto content = ReadWhole(texts.string());
    if (!content.ok()) return content.status();
    std::istringstream in(*content);
    size_t number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#' || line == "saga\tid") continue;
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) {
        return Status::InvalidArgument(fmt::format("{}:{}: expected saga<TAB>id", texts.string(), number));
      }
      const std::string saga = line.substr(0, tab), id = line.substr(tab + 1);
      if (sagas_loaded.count(saga) || gold.mentions.count(id)) gold.saga_of[id] = saga;
    }
  }
  for (const auto& [id, mentions] : gold.mentions) gold.saga_of.emplace(id, "");
  return gold;
}

// Checks the gold mentions against the text; reports each mismatch. False if any.
bool CheckGold(const std::string& text, const std::vector<uint32_t>& offsets,
               const std::vector<text::GoldMention>& gold) {
  bool ok = true;
  const size_t length = offsets.size() - 1;
  for (const text::GoldMention& g : gold) {
    if (g.end > length) {
      spdlog::error("entities score: {}: end {} is past the text's {} characters", g.where, g.end, length);
      ok = false;
      continue;
    }
    const std::string_view actual = std::string_view(text).substr(offsets[g.start], offsets[g.end] - offsets[g.start]);
    if (actual != g.surface) {
      spdlog::error("entities score: {}: surface \"{}\" but the text has \"{}\" at {}..{}", g.where, g.surface, actual,
                    g.start, g.end);
      ok = false;
    }
  }
  return ok;
}

void WriteCounts(JsonWriter& w, const text::Counts& c) {
  w.BeginObject();
  w.Key("texts"), w.Int(c.texts);
  w.Key("gold"), w.Int(c.gold);
  w.Key("predicted"), w.Int(c.predicted);
  w.Key("true_positives"), w.Int(c.true_positives);
  w.Key("unscored"), w.Int(c.unscored);
  w.Key("precision"), w.Double(c.precision());
  w.Key("recall"), w.Double(c.recall());
  w.Key("f1"), w.Double(c.f1());
  w.EndObject();
}

std::string FormatJson(const text::ScoreReport& r) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("sagas");
  w.BeginObject();
  for (const auto& [saga, c] : r.per_saga) {
    w.Key(saga);
    WriteCounts(w, c);
  }
  w.EndObject();
  w.Key("all");
  WriteCounts(w, r.overall);
  for (const auto& [key, list] : {std::pair{"split", &r.split}, std::pair{"confusions", &r.confusions}}) {
    w.Key(key);
    w.BeginArray();
    for (const text::SplitEntity& s : *list) {
      w.BeginObject();
      w.Key("saga"), w.String(s.saga);
      w.Key("entity"), w.String(s.entity);
      w.Key("predicted_as");
      w.BeginArray();
      for (const std::string& name : s.predicted_as) w.String(name);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  for (const auto& [key, list] : {std::pair{"misses", &r.misses}, std::pair{"false_positives", &r.false_positives}}) {
    w.Key(key);
    w.BeginArray();
    for (const text::Tally& t : *list) {
      w.BeginObject();
      w.Key("saga"), w.String(t.saga);
      w.Key("surface"), w.String(t.surface);
      w.Key("entity"), w.String(t.entity);
      w.Key("count"), w.Int(t.count);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  out += '\n';
  return out;
}

std::string FormatTable(const text::ScoreReport& r) {
  std::string out = fmt::format("{:<6} {:>6} {:>6} {:>10} {:>6} {:>10} {:>7} {:>7}\n", "saga", "texts", "gold",
                                "predicted", "TP", "precision", "recall", "F1");
  auto row = [&](const std::string& saga, const text::Counts& c) {
    out += fmt::format("{:<6} {:>6} {:>6} {:>10} {:>6} {:>10.3f} {:>7.3f} {:>7.3f}\n", saga, c.texts, c.gold,
                       c.predicted, c.true_positives, c.precision(), c.recall(), c.f1());
  };
  for (const auto& [saga, c] : r.per_saga) row(saga.empty() ? "-" : saga, c);
  row("all", r.overall);
  out += fmt::format("not scored (entities of kind other): {}\n", r.overall.unscored);
  for (const auto& [title, list] : {std::pair{"split entities (two or more names stand for one entity)", &r.split},
                                    std::pair{"confusions (mentions resolved to another entity)", &r.confusions}}) {
    out += fmt::format("\n{}: {}\n", title, list->empty() ? "none" : std::to_string(list->size()));
    for (const text::SplitEntity& s : *list) {
      out += fmt::format("  {}\t{}\tpredicted as {}\n", s.saga, s.entity, fmt::join(s.predicted_as, " | "));
    }
  }
  for (const auto& [title, list] :
       {std::pair{"misses (gold mentions no prediction matched)", &r.misses},
        std::pair{"false positives (predictions matching no gold mention)", &r.false_positives}}) {
    out += fmt::format("\n{}: {}\n", title, list->size());
    for (const text::Tally& t : *list) out += fmt::format("  {}\t{}\t{}\t{}\n", t.count, t.saga, t.surface, t.entity);
  }
  return out;
}

// Floors: "saga<TAB>metric<TAB>value" lines ('#' comments); metric precision,
// recall or f1 (the figure must be >= value) or split (the number of split
// entities of that saga, or of all, must be <= value). Returns the failures.
Result<std::vector<std::string>> CheckFloors(const std::string& path, const text::ScoreReport& r) {
  auto content = ReadWhole(path);
  if (!content.ok()) return content.status();
  std::vector<std::string> failures;
  std::istringstream in(*content);
  size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string saga, metric;
    double value;
    if (!(fields >> saga >> metric >> value)) {
      return Status::InvalidArgument(fmt::format("{}:{}: expected saga, metric, value", path, number));
    }
    const text::Counts* c = saga == "all" ? &r.overall : nullptr;
    if (auto it = r.per_saga.find(saga); it != r.per_saga.end()) c = &it->second;
    if (c == nullptr) {
      failures.push_back(fmt::format("{}:{}: saga {} was not scored", path, number, saga));
      continue;
    }
    double actual;
    if (metric == "precision") {
      actual = c->precision();
    } else if (metric == "recall") {
      actual = c->recall();
    } else if (metric == "f1") {
      actual = c->f1();
    } else if (metric == "split") {
      actual = static_cast<double>(std::count_if(
          r.split.begin(), r.split.end(), [&](const text::SplitEntity& s) { return saga == "all" || s.saga == saga; }));
      if (actual > value) failures.push_back(fmt::format("{} split entities: {} > {}", saga, actual, value));
      continue;
    } else {
      return Status::InvalidArgument(
          fmt::format("{}:{}: unknown metric \"{}\" (precision, recall, f1, split)", path, number, metric));
    }
    if (actual < value) failures.push_back(fmt::format("{} {}: {:.4f} < floor {}", saga, metric, actual, value));
  }
  return failures;
}

int RunScore(const ScoreOptions& o) {
  if (o.format != "table" && o.format != "json") {
    spdlog::error("entities score: --format must be table or json");
    return kExitUsage;
  }
  auto gold = LoadGold(o.gold);
  if (!gold.ok()) {
    spdlog::error("entities score: {}", gold.status().ToString());
    return kExitFailure;
  }
  auto loaded = LoadDictionary(o.entities);
  if (!loaded.ok()) {
    spdlog::error("entities score: {}", loaded.status().ToString());
    return kExitFailure;
  }
  std::optional<text::Classifier> classifier;
  if (!o.model.empty()) {
    auto c = text::Classifier::LoadFile(o.model);
    if (!c.ok()) {
      spdlog::error("entities score: {}", c.status().ToString());
      return kExitFailure;
    }
    classifier.emplace(std::move(c).value());
  }
  size_t rejected = 0;
  auto corpus = ReadCorpus("entities score", o.input, classifier ? &*classifier : nullptr, &rejected,
                           [&](const std::string& id) { return gold->saga_of.count(id) > 0; });
  if (!corpus.ok()) {
    spdlog::error("entities score: {}", corpus.status().ToString());
    return kExitFailure;
  }
  std::map<std::string, const CorpusText*> by_id;
  for (const CorpusText& t : *corpus) by_id.emplace(t.id, &t);
  bool ok = true;
  std::vector<text::ScoredText> scored;
  std::vector<text::MentionSpan> spans;
  const auto& entities = loaded->dict.entities();
  for (const auto& [id, listed_saga] : gold->saga_of) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      spdlog::error("entities score: gold text {} is not in {}", id, o.input);
      ok = false;
      continue;
    }
    const CorpusText& t = *it->second;
    text::ScoredText s{id, classifier ? t.saga : listed_saga, {}, {}};
    if (auto g = gold->mentions.find(id); g != gold->mentions.end()) s.gold = g->second;
    const std::vector<uint32_t> offsets = text::CodePointOffsets(t.text);
    ok &= CheckGold(t.text, offsets, s.gold);
    loaded->matcher.Find(t.text, s.saga, &spans);
    for (const text::MentionSpan& m : spans) {
      const auto cp = [&](uint32_t byte) {
        return static_cast<uint32_t>(std::lower_bound(offsets.begin(), offsets.end(), byte) - offsets.begin());
      };
      const std::string_view kind = text::GoldKind(entities[m.entity].kind);
      if (kind.empty()) {
        ++s.unscored;
        continue;
      }
      s.predicted.push_back(text::SpanMention{cp(m.begin), cp(m.end), t.text.substr(m.begin, m.end - m.begin),
                                              entities[m.entity].name, std::string(kind)});
    }
    scored.push_back(std::move(s));
  }
  if (!ok) return kExitFailure;
  const text::ScoreReport report = text::Score(scored);
  const std::string out = o.format == "json" ? FormatJson(report) : FormatTable(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) return kExitFailure;
  if (!o.floors.empty()) {
    auto failures = CheckFloors(o.floors, report);
    if (!failures.ok()) {
      spdlog::error("entities score: {}", failures.status().ToString());
      return kExitFailure;
    }
    for (const std::string& f : *failures) spdlog::error("entities score: below the floor of {}: {}", o.floors, f);
    if (!failures->empty()) return kExitFailure;
  }
  return rejected ? kExitFailure : kExitSuccess;
}

}  // namespace

void AddEntitiesScoreCommand(CLI::App* entities) {
  auto o = std::make_shared<ScoreOptions>();
  CLI::App* cmd = entities->add_subcommand(
      "score", "Precision, recall, F1 and split entities of the matcher against hand-annotated gold mentions");
  cmd->add_option("--gold", o->gold, "Gold directory (texts.tsv, <saga>.tsv) or one annotation file")
      ->envname("SAGAFLOW_GOLD")
      ->required();
  cmd->add_option("--input", o->input, "The texts: JSON lines {\"id\",\"text\"} holding every gold text")
      ->envname("SAGAFLOW_INPUT")
      ->required();
  cmd->add_option("--entities", o->entities, "Entity dictionary: flat list or curated TSV")
      ->envname("SAGAFLOW_ENTITIES")
      ->required();
  cmd->add_option("--model", o->model, "Text model JSON: match each text in its predicted saga (default: texts.tsv's)")
      ->envname("SAGAFLOW_MODEL");
  cmd->add_option("--format", o->format, "table or json")->envname("SAGAFLOW_FORMAT")->capture_default_str();
  cmd->add_option("--floors", o->floors, "Exit 1 when a figure is below its floor in this file")
      ->envname("SAGAFLOW_FLOORS");
  cmd->callback([o] { SetExitStatus(RunScore(*o)); });
}

}  // namespace sagaflow::cli
