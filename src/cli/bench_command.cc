// `sagaflow bench`: benchmarks (they print figures; they are not tests), and
// its first benchmark `sagaflow bench text`: single-thread throughput of the
// text engines on the shared corpus, beside the Python anchors they replace,
// measured in the same run by tools/bench_anchors.py with Debian's Python:
//
//   classify        Classifier::Predict per text      vs  scikit-learn Pipeline.predict(all texts)
//   match flat      EntityMatcher::Count, entities.txt  vs  pyahocorasick iter_long, same names
//   match curated   EntityMatcher::Count, sagas.tsv     vs  pyahocorasick iter_long, same names
//
// Every figure is the median of --repetitions measurements, each repeating
// whole passes over the corpus for at least --seconds of --clock time (CPU
// time by default, on both sides); repetitions alternate between sagaflow and
// the anchors. MB = 1e6 bytes of UTF-8 text. docs/training.md ("Benchmarks")
// explains the setup.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli/bench_support.h"
#include "cli/commands.h"
#include "io/jsonl_documents.h"
#include "text/classifier.h"
#include "text/entity_dictionary.h"
#include "text/entity_forms.h"
#include "text/entity_matcher.h"
#include "util/json_writer.h"

namespace sagaflow::cli {
namespace {

namespace fs = std::filesystem;

struct BenchTextOptions {
  std::string shared = SAGAFLOW_SHARED_DEFAULT;
  std::string model;  // default: export the shared prototype pipeline
  std::string dictionary = std::string(SAGAFLOW_SOURCE_DIR) + "/data/entities/sagas.tsv";
  std::string python = "/usr/bin/python3";
  double seconds = 1.0;
  int repetitions = 5;
  bool anchors = true;
  std::string format = "table";
  std::string clock = "cpu";
};

// Seconds on the chosen clock: "cpu" = CPU time of this process (robust when
// other processes share the machine), "wall" = elapsed time.
double Now(bool cpu) {
  timespec ts;
  clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Passes per second over at least `seconds` of the clock.
template <typename Pass>
double PassesPerSecond(Pass&& pass, double seconds, bool cpu) {
  const double start = Now(cpu);
  int passes = 0;
  double elapsed = 0;
  do {
    pass();
    ++passes;
    elapsed = Now(cpu) - start;
  } while (elapsed < seconds);
  return passes / elapsed;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command, returns its stdout; a non-zero exit is an error.
Result<std::string> Capture(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return Status::Unavailable("cannot run: " + command);
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (status != 0) return Status::Unavailable(fmt::format("failed (status {}): {}", status, command));
  return out;
}

struct Corpus {
  std::vector<std::string> texts;
  size_t bytes = 0;
};

Result<Corpus> LoadCorpus(const std::string& path) {
  auto docs = io::JsonlDocuments::Open(path);
  if (!docs.ok()) return docs.status();
  Corpus corpus;
  io::Document doc;
  std::string reason;
  for (;;) {
    auto outcome = (*docs)->Next(&doc, &reason);
    if (!outcome.ok()) return outcome.status();
    if (*outcome == io::JsonlDocuments::Outcome::kEnd) break;
    if (*outcome == io::JsonlDocuments::Outcome::kRejected)
      return Status::Corruption(fmt::format("{}: {}", path, reason));
    corpus.texts.emplace_back(doc.text);
    corpus.bytes += doc.text.size();
  }
  if (corpus.texts.empty()) return Status::InvalidArgument(path + ": no documents");
  return corpus;
}

// Every string the matcher matches for the dictionary (names, aliases and
// what EntityForms derives from them: title forms, ALL-CAPS and quote
// spellings), distinct over all scopes, one per line: what pyahocorasick's
// automaton is built from, so that both sides look for the same strings.
Status WriteSurfaceForms(const text::EntityDictionary& dict, const std::string& path) {
  auto scopes = text::ExpandForms(dict);
  if (!scopes.ok()) return scopes.status();
  std::set<std::string> forms;
  for (const text::ScopeForms& scope : *scopes) {
    for (const auto& [form, entity] : scope.form) forms.insert(form);
  }
  std::ofstream out(path, std::ios::binary);
  for (const std::string& f : forms) out << f << '\n';
  out.close();
  return out ? Status::Ok() : Status::IoError("cannot write " + path);
}

struct Row {
  std::string name;  // what sagaflow measured
  double mb_per_s = 0;
  double docs_per_s = 0;
  std::string anchor;          // what it is compared with
  double anchor_mb_per_s = 0;  // 0 = not measured
  double target = 0;           // required ratio, 0 = none
};

int RunBenchText(const BenchTextOptions& o) {
  const std::string corpus_path = o.shared + "/corpus/texts.jsonl";
  const std::string flat_path = o.shared + "/corpus/entities.txt";
  const std::string joblib_path = o.shared + "/models/classification_pipeline.joblib";
  auto corpus = LoadCorpus(corpus_path);
  if (!corpus.ok()) {
    spdlog::error("bench text: {}", corpus.status().ToString());
    return kExitFailure;
  }
  const fs::path tmp = fs::temp_directory_path() / fmt::format("sagaflow-bench-text-{}", ::getpid());
  fs::create_directories(tmp);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{tmp};

  std::string model_path = o.model;
  if (model_path.empty()) {
    model_path = (tmp / "prototype-model.json").string();
    const std::string cmd = fmt::format("{} {} {} {} --labels got,lotr,hp >&2", Quote(o.python),
                                        Quote(std::string(SAGAFLOW_SOURCE_DIR) + "/tools/export_sklearn_model.py"),
                                        Quote(joblib_path), Quote(model_path));
    if (auto r = Capture(cmd); !r.ok()) {
      spdlog::error("bench text: exporting the prototype model: {}", r.status().message());
      return kExitFailure;
    }
  }
  auto classifier = text::Classifier::LoadFile(model_path);
  auto flat = text::EntityDictionary::LoadFile(flat_path);
  auto curated = text::EntityDictionary::LoadFile(o.dictionary);
  for (const Status* st : {&classifier.status(), &flat.status(), &curated.status()}) {
    if (!st->ok()) {
      spdlog::error("bench text: {}", st->ToString());
      return kExitFailure;
    }
  }
  auto flat_matcher = text::EntityMatcher::Build(*flat);
  auto curated_matcher = text::EntityMatcher::Build(*curated);
  if (!flat_matcher.ok() || !curated_matcher.ok()) {
    spdlog::error("bench text: {}", (flat_matcher.ok() ? curated_matcher.status() : flat_matcher.status()).ToString());
    return kExitFailure;
  }

  const bool cpu = o.clock == "cpu";
  const std::string model_name = o.model.empty() ? joblib_path + " (exported)" : o.model;
  const std::vector<std::string>& texts = corpus->texts;
  const double mb = corpus->bytes / 1e6;
  const double docs = static_cast<double>(texts.size());
  std::vector<double> scores(classifier->labels().size());
  std::vector<std::string> saga(texts.size());  // predicted label: the curated matcher's scope
  uint64_t sink = 0;                            // keeps the measured work observable

  std::vector<text::Mention> mentions;
  mentions.reserve(std::max(flat->entities().size(), curated->entities().size()));
  auto classify_pass = [&] {
    for (size_t i = 0; i < texts.size(); ++i) sink += classifier->Predict(texts[i], scores.data());
  };
  auto flat_pass = [&] {
    for (const std::string& t : texts) {
      flat_matcher->Count(t, "", &mentions);
      for (const text::Mention& m : mentions) sink += m.count;
    }
  };
  auto curated_pass = [&] {
    for (size_t i = 0; i < texts.size(); ++i) {
      curated_matcher->Count(texts[i], saga[i], &mentions);
      for (const text::Mention& m : mentions) sink += m.count;
    }
  };
  for (size_t i = 0; i < texts.size(); ++i)
    saga[i] = classifier->labels()[classifier->Predict(texts[i], scores.data())];

  std::string anchors_cmd;
  if (o.anchors) {
    const std::string flat_names = (tmp / "flat-names.txt").string();
    const std::string curated_names = (tmp / "curated-names.txt").string();
    for (const Status& st : {WriteSurfaceForms(*flat, flat_names), WriteSurfaceForms(*curated, curated_names)}) {
      if (!st.ok()) {
        spdlog::error("bench text: {}", st.ToString());
        return kExitFailure;
      }
    }
    anchors_cmd = fmt::format(
        "{} {} --texts {} --model {} --names flat={} --names curated={} --repetitions 1 --seconds {} --clock {}",
        Quote(o.python), Quote(std::string(SAGAFLOW_SOURCE_DIR) + "/tools/bench_anchors.py"), Quote(corpus_path),
        Quote(joblib_path), Quote(flat_names), Quote(curated_names), o.seconds, o.clock);
  }

  // Repetitions alternate between sagaflow and the anchors, so a change of
  // load on the machine affects both sides alike.
  spdlog::info("bench text: {} documents, {:.2f} MB; {} repetitions of >= {} s ({} time) per figure", texts.size(), mb,
               o.repetitions, o.seconds, o.clock);
  classify_pass();  // warm-up
  flat_pass();
  curated_pass();
  std::vector<double> classify_rates, flat_rates, curated_rates;
  std::map<std::string, std::vector<double>> anchor_rates;  // results key -> MB/s per repetition
  std::map<std::string, std::string> anchor_whats;
  for (int r = 0; r < o.repetitions; ++r) {
    classify_rates.push_back(PassesPerSecond(classify_pass, o.seconds, cpu));
    flat_rates.push_back(PassesPerSecond(flat_pass, o.seconds, cpu));
    curated_rates.push_back(PassesPerSecond(curated_pass, o.seconds, cpu));
    if (anchors_cmd.empty()) continue;
    auto out = Capture(anchors_cmd);
    if (!out.ok()) {
      spdlog::error("bench text: anchors: {}", out.status().message());
      return kExitFailure;
    }
    nlohmann::json j = nlohmann::json::parse(*out, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("results") || !j["results"].is_object()) {
      spdlog::error("bench text: anchors: unexpected output: {}", *out);
      return kExitFailure;
    }
    for (auto& [key, result] : j["results"].items()) {
      anchor_rates[key].push_back(result["mb_per_s"].get<double>());
      anchor_whats[key] = result["what"].get<std::string>();
    }
    spdlog::info("bench text: repetition {} of {} done", r + 1, o.repetitions);
  }
  const double classify_rate = Median(classify_rates);
  const double flat_rate = Median(flat_rates);
  const double curated_rate = Median(curated_rates);
  auto anchor_mb = [&](const char* key) { return anchor_rates.count(key) ? Median(anchor_rates[key]) : 0.0; };
  auto anchor_what = [&](const char* key, const char* fallback) {
    return anchor_whats.count(key) ? anchor_whats[key] : std::string(fallback);
  };

  const std::vector<Row> rows = {
      {"classify (Classifier::Predict per text)", classify_rate * mb, classify_rate * docs,
       anchor_what("sklearn", "scikit-learn Pipeline.predict"), anchor_mb("sklearn"), 50},
      {fmt::format("match, flat list ({} entities)", flat->entities().size()), flat_rate * mb, flat_rate * docs,
       anchor_what("ahocorasick:flat", "pyahocorasick iter_long"), anchor_mb("ahocorasick:flat"), 20},
      {fmt::format("match, curated dictionary ({} entities)", curated->entities().size()), curated_rate * mb,
       curated_rate * docs, anchor_what("ahocorasick:curated", "pyahocorasick iter_long"),
       anchor_mb("ahocorasick:curated"), 20},
  };

  if (o.format == "json") {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("benchmark"), w.String("text");
    w.Key("documents"), w.Int(static_cast<int64_t>(texts.size()));
    w.Key("bytes"), w.Int(static_cast<int64_t>(corpus->bytes));
    w.Key("repetitions"), w.Int(o.repetitions);
    w.Key("seconds"), w.Double(o.seconds);
    w.Key("clock"), w.String(o.clock);
    w.Key("threads"), w.Int(1);
    w.Key("model"), w.String(model_name);
    w.Key("results");
    w.BeginArray();
    for (const Row& r : rows) {
      w.BeginObject();
      w.Key("name"), w.String(r.name);
      w.Key("mb_per_s"), w.Double(r.mb_per_s);
      w.Key("docs_per_s"), w.Double(r.docs_per_s);
      w.Key("anchor"), w.String(r.anchor);
      w.Key("anchor_mb_per_s");
      r.anchor_mb_per_s > 0 ? w.Double(r.anchor_mb_per_s) : w.Null();
      w.Key("ratio");
      r.anchor_mb_per_s > 0 ? w.Double(r.mb_per_s / r.anchor_mb_per_s) : w.Null();
      w.Key("target_ratio"), w.Double(r.target);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    out.push_back('\n');
    std::fputs(out.c_str(), stdout);
  } else {
    std::printf("bench text: %zu documents, %.2f MB (%s), 1 thread, median of %d x >= %g s of %s time\n", texts.size(),
                mb, corpus_path.c_str(), o.repetitions, o.seconds, o.clock.c_str());
    std::printf("model: %s\n", model_name.c_str());
    std::printf("%-42s %10s %10s   %-58s %10s %8s %7s\n", "sagaflow", "MB/s", "docs/s", "anchor", "MB/s", "ratio",
                "target");
    for (const Row& r : rows) {
      std::string anchor_value = r.anchor_mb_per_s > 0 ? fmt::format("{:.1f}", r.anchor_mb_per_s) : "-";
      std::string ratio = r.anchor_mb_per_s > 0 ? fmt::format("{:.1f}x", r.mb_per_s / r.anchor_mb_per_s) : "-";
      std::printf("%-42s %10.1f %10.0f   %-58s %10s %8s %6.0fx\n", r.name.c_str(), r.mb_per_s, r.docs_per_s,
                  r.anchor.c_str(), anchor_value.c_str(), ratio.c_str(), r.target);
    }
  }
  spdlog::debug("bench text: checksum {}", sink);
  return 0;
}

}  // namespace

void AddBenchCommand(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (they print figures; they are not tests)");
  bench->require_subcommand(1);

  auto o = std::make_shared<BenchTextOptions>();
  CLI::App* cmd = bench->add_subcommand(
      "text", "Single-thread MB/s of classification and entity matching vs scikit-learn and pyahocorasick");
  cmd->add_option("--shared", o->shared, "Shared data directory (corpus, prototype model, entities.txt)")
      ->envname("SAGAFLOW_SHARED")
      ->capture_default_str();
  cmd->add_option("--model", o->model, "Model JSON (default: the shared prototype pipeline, exported on the fly)")
      ->envname("SAGAFLOW_BENCH_MODEL");
  cmd->add_option("--dictionary", o->dictionary, "Curated entity dictionary")
      ->envname("SAGAFLOW_BENCH_DICTIONARY")
      ->capture_default_str();
  cmd->add_option("--python", o->python, "Python with scikit-learn and pyahocorasick (Debian's)")
      ->envname("SAGAFLOW_PYTHON")
      ->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "Minimum duration of one measurement")
      ->envname("SAGAFLOW_BENCH_SECONDS")
      ->check(Above(0.0))
      ->capture_default_str();
  cmd->add_option("--repetitions", o->repetitions, "Measurements per figure (the median is reported)")
      ->envname("SAGAFLOW_BENCH_REPETITIONS")
      ->check(InRange(1, 1000))
      ->capture_default_str();
  cmd->add_option("--clock", o->clock, "Time measured: cpu (process CPU time, robust on a shared machine) or wall")
      ->envname("SAGAFLOW_BENCH_CLOCK")
      ->check(CLI::IsMember({"cpu", "wall"}))
      ->capture_default_str();
  cmd->add_flag("!--no-anchors", o->anchors, "Skip the Python anchors")->envname("SAGAFLOW_BENCH_ANCHORS");
  cmd->add_option("--format", o->format, "Output: table or json")
      ->envname("SAGAFLOW_BENCH_FORMAT")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([o] { SetExitStatus(RunBenchText(*o)); });
}

}  // namespace sagaflow::cli
