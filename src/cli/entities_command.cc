// `sagaflow entities discover` and `sagaflow entities score`
// (docs/entities.md, "Discovery" and "Scoring").
//
// discover: labels every text of a corpus with the model and proposes, per
// saga, the names the dictionary lacks as curated TSV rows with their
// evidence in comments (stdout). score: compares the matcher's mentions on
// the gold texts with the gold annotations (stdout: a table, or --format
// json), and with --floors exits 1 when a figure is below its floor.
// Both exit 1 when an input cannot be loaded or input lines were rejected
// (reported on stderr, skipped), 2 for a bad command line (README, "Exit
// status").
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/entities_support.h"
#include "text/classifier.h"
#include "text/entity_discovery.h"

namespace sagaflow::cli {

namespace {

struct DiscoverOptions {
  std::string input = "-";
  std::string model;
  std::string dictionary;
  int min_count = 3;
};

std::string Quoted(std::string_view s) { return fmt::format("\"{}\"", s); }

int RunDiscover(const DiscoverOptions& o) {
  auto classifier = text::Classifier::LoadFile(o.model);
  if (!classifier.ok()) {
    spdlog::error("entities discover: {}", classifier.status().ToString());
    return kExitFailure;
  }
  auto loaded = LoadDictionary(o.dictionary);
  if (!loaded.ok()) {
    spdlog::error("entities discover: {}", loaded.status().ToString());
    return kExitFailure;
  }
  size_t rejected = 0;
  auto corpus = ReadCorpus("entities discover", o.input, &*classifier, &rejected);
  if (!corpus.ok()) {
    spdlog::error("entities discover: {}", corpus.status().ToString());
    return kExitFailure;
  }
  text::EntityDiscovery discovery(loaded->dict, loaded->matcher);
  std::map<std::string, int> per_saga;
  for (CorpusText& t : *corpus) {
    if (t.saga.empty()) continue;
    ++per_saga[t.saga];
    discovery.Add(std::move(t.text), t.saga);
  }
  const auto proposals = discovery.Proposals(o.min_count);
  const auto& entities = loaded->dict.entities();
  std::map<std::string, std::string> canonical_saga;  // canonical names in use -> their saga
  for (const text::Entity& e : entities) canonical_saga[e.name] = e.saga.empty() ? "*" : e.saga;

  std::string out = fmt::format(
      "# sagaflow entities discover: {} texts ({}), dictionary {}, min count {}\n"
      "# Rows are proposed new entities (kind guessed); \"# link\" lines propose an alias for an existing\n"
      "# entity (add it to that entity's aliases). Review every one. The contexts are corpus text:\n"
      "# do not commit them.\n"
      "saga\tname\tkind\taliases\n",
      corpus->size(),
      fmt::join(
          [&] {
            std::vector<std::string> parts;
            parts.reserve(per_saga.size());
            for (const auto& [saga, n] : per_saga) parts.push_back(fmt::format("{} {}", saga, n));
            return parts;
          }(),
          ", "),
      o.dictionary.empty() ? "(none)" : o.dictionary, o.min_count);
  std::string saga;
  for (const text::Proposal& p : proposals) {
    if (p.saga != saga) {
      saga = p.saga;
      size_t fresh = 0, links = 0;
      for (const text::Proposal& q : proposals) {
        if (q.saga == saga) (q.link < 0 ? fresh : links)++;
      }
      out += fmt::format("\n# == {}: {} new, {} links ==\n", saga, fresh, links);
    }
    std::vector<std::string> seen;
    for (const auto& [spelling, n] : p.seen) seen.push_back(fmt::format("{} {}", Quoted(spelling), n));
    out += fmt::format("# {}: {} mentions in {} texts; seen as {}", Quoted(p.name), p.count, p.texts,
                       fmt::join(seen, ", "));
    if (p.after_the > 0) out += fmt::format("; after \"the\" {} times (an epithet?)", p.after_the);
    out += "\n";
    for (const std::string& c : p.contexts) out += fmt::format("#   {}\n", c);
    if (p.link >= 0) {
      const text::Entity& e = entities[p.link];
      out += fmt::format("# link\t{}\t{}\t{}\n", e.saga.empty() ? "*" : e.saga, e.name, p.name);
    } else if (auto it = canonical_saga.find(p.name); it != canonical_saga.end()) {
      out += fmt::format("# (canonical name already used in {}: choose another)\n#{}\t{}\t{}\t\n", it->second, p.saga,
                         p.name, p.kind);
    } else {
      out += fmt::format("{}\t{}\t{}\t\n", p.saga, p.name, p.kind);
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) return kExitFailure;
  return rejected ? kExitFailure : kExitSuccess;
}

}  // namespace

void AddEntitiesCommand(CLI::App& app) {
  CLI::App* entities = app.add_subcommand("entities", "Grow and measure the entity dictionary (docs/entities.md)");
  entities->require_subcommand(1);

  auto d = std::make_shared<DiscoverOptions>();
  CLI::App* cmd = entities->add_subcommand(
      "discover", "Propose, per saga, the names a dictionary lacks (curated TSV with evidence in comments)");
  cmd->add_option("--input", d->input, "Corpus: JSON lines {\"id\",\"text\"}, '-' for stdin")
      ->envname("SAGAFLOW_INPUT")
      ->capture_default_str();
  cmd->add_option("--model", d->model, "Text model JSON whose labels are the sagas")
      ->envname("SAGAFLOW_MODEL")
      ->required();
  cmd->add_option("--dictionary", d->dictionary, "The entity dictionary to extend (default: none)")
      ->envname("SAGAFLOW_ENTITIES");
  cmd->add_option("--min-count", d->min_count, "Propose names seen at least this often (unmatched)")
      ->envname("SAGAFLOW_MIN_COUNT")
      ->check(AtLeast(1))
      ->capture_default_str();
  cmd->callback([d] { SetExitStatus(RunDiscover(*d)); });

  AddEntitiesScoreCommand(entities);
}

}  // namespace sagaflow::cli
