// `sagaflow train`: fits a text model on labelled JSON lines and writes it in
// the model format (docs/model-format.md), like fitting scikit-learn's
// Pipeline(CountVectorizer(...), LinearSVC()). docs/training.md has the details.
//
// Input: {"text": "...", "label": "got"} per line (other fields ignored).
// A bad line is reported on stderr (line number and reason) and skipped.
// With --folds K >= 2, K-fold cross-validation is reported on stderr first;
// then the model is fitted on all documents and written to --out (atomically:
// a temporary file renamed into place).
// Exit status: 0; 1 when lines were rejected (the model is still written);
// 2 when no model could be written.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "text/english_stop_words.h"
#include "text/trainer.h"
#include "util/json_writer.h"

namespace sagaflow::cli {
namespace {

struct TrainCommandOptions {
  std::string data;
  std::string out;
  std::vector<std::string> labels;
  std::string min_df = "1";
  std::string max_df = "1.0";
  size_t max_features = 0;
  std::string stop_words = "none";
  bool lowercase = true;
  std::string token_pattern = std::string(text::kDefaultTokenPattern);
  int ngram_min = 1;
  int ngram_max = 1;
  double c = 1.0;
  double intercept_scaling = 1.0;
  double tol = 1e-4;
  int max_iter = 1000;
  uint32_t seed = 0;
  int folds = 5;
  uint32_t fold_seed = 0;
};

Result<text::TrainerOptions> MakeTrainerOptions(const TrainCommandOptions& o) {
  text::TrainerOptions t;
  t.tokenizer.lowercase = o.lowercase;
  t.tokenizer.token_pattern = o.token_pattern;
  t.tokenizer.ngram_min = o.ngram_min;
  t.tokenizer.ngram_max = o.ngram_max;
  if (o.stop_words == "english") {
    for (std::string_view w : text::EnglishStopWords()) t.tokenizer.stop_words.emplace_back(w);
  }
  t.stop_words_name = o.stop_words;
  auto min_df = text::DocumentFrequencyBound::Parse(o.min_df, "--min-df");
  if (!min_df.ok()) return min_df.status();
  auto max_df = text::DocumentFrequencyBound::Parse(o.max_df, "--max-df");
  if (!max_df.ok()) return max_df.status();
  t.vocabulary.min_df = *min_df;
  t.vocabulary.max_df = *max_df;
  t.vocabulary.max_features = o.max_features;
  if (!(o.c > 0)) return Status::InvalidArgument("--c must be > 0");
  if (!(o.tol > 0)) return Status::InvalidArgument("--tol must be > 0");
  t.svm.c = o.c;
  t.svm.intercept_scaling = o.intercept_scaling;
  t.svm.tol = o.tol;
  t.svm.max_iter = o.max_iter;
  t.svm.seed = o.seed;
  t.labels = o.labels;
  return t;
}

void ReportCrossValidation(const text::CrossValidation& cv, const std::vector<std::string>& labels) {
  spdlog::info("train: {}-fold cross-validation: accuracy {:.4f} ({} of {} held-out documents)", cv.folds,
               static_cast<double>(cv.correct()) / cv.total(), cv.correct(), cv.total());
  for (int f = 0; f < cv.folds; ++f) {
    spdlog::info("train:   fold {}: {:.4f} ({} of {})", f + 1,
                 static_cast<double>(cv.fold_correct[f]) / cv.fold_size[f], cv.fold_correct[f], cv.fold_size[f]);
  }
  for (size_t t = 0; t < labels.size(); ++t) {
    size_t support = 0, predicted = 0;
    for (size_t p = 0; p < labels.size(); ++p) {
      support += cv.confusion[t][p];
      predicted += cv.confusion[p][t];
    }
    const size_t hits = cv.confusion[t][t];
    std::string row;
    for (size_t p = 0; p < labels.size(); ++p) row += fmt::format(" {}={}", labels[p], cv.confusion[t][p]);
    spdlog::info("train:   {}: {} documents, {} correct (recall {:.4f}, precision {:.4f}); predicted as:{}", labels[t],
                 support, hits, support ? static_cast<double>(hits) / support : 0.0,
                 predicted ? static_cast<double>(hits) / predicted : 0.0, row);
  }
}

std::string Provenance(const TrainCommandOptions& o, size_t documents, uint64_t rejected,
                       const text::TrainedModel& model, const text::CrossValidation* cv) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("written_by"), w.String("sagaflow train");
  w.Key("sagaflow_version"), w.String(SAGAFLOW_VERSION);
  w.Key("data"), w.String(o.data);
  w.Key("documents"), w.Int(static_cast<int64_t>(documents));
  w.Key("rejected_lines"), w.Int(static_cast<int64_t>(rejected));
  w.Key("vectorizer");
  w.BeginObject();
  w.Key("min_df"), w.String(o.min_df);
  w.Key("max_df"), w.String(o.max_df);
  w.Key("max_features");
  if (o.max_features) {
    w.Int(static_cast<int64_t>(o.max_features));
  } else {
    w.Null();
  }
  w.Key("stop_words"), w.String(o.stop_words);
  w.EndObject();
  w.Key("svm");
  w.BeginObject();
  w.Key("loss"), w.String("squared_hinge");
  w.Key("penalty"), w.String("l2");
  w.Key("solver"), w.String("dual coordinate descent (liblinear L2R_L2LOSS_SVC_DUAL)");
  w.Key("C"), w.Double(o.c);
  w.Key("intercept_scaling"), w.Double(o.intercept_scaling);
  w.Key("tol"), w.Double(o.tol);
  w.Key("max_iter"), w.Int(o.max_iter);
  w.Key("seed"), w.Int(o.seed);
  w.Key("iterations");
  w.BeginArray();
  for (int it : model.iterations) w.Int(it);
  w.EndArray();
  w.Key("converged"), w.Bool(model.converged);
  w.EndObject();
  if (cv != nullptr) {
    w.Key("cross_validation");
    w.BeginObject();
    w.Key("folds"), w.Int(cv->folds);
    w.Key("seed"), w.Int(o.fold_seed);
    w.Key("accuracy"), w.Double(static_cast<double>(cv->correct()) / cv->total());
    w.EndObject();
  }
  w.EndObject();
  return out;
}

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = fmt::format("{}.tmp-{}", path, ::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Status::IoError(fmt::format("cannot create {}", tmp));
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    return Status::IoError(fmt::format("writing {} failed", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return Status::IoError(fmt::format("renaming {} to {}: {}", tmp, path, ec.message()));
  }
  return Status::Ok();
}

int RunTrain(const TrainCommandOptions& o) {
  auto options = MakeTrainerOptions(o);
  if (!options.ok()) {
    spdlog::error("train: {}", options.status().message());
    return kExitUsage;
  }
  uint64_t rejected = 0;
  auto docs = text::ReadLabelledJsonl(o.data, [&](const std::string& why) {
    spdlog::warn("train: {}: {}; skipped", o.data, why);
    ++rejected;
  });
  if (!docs.ok()) {
    spdlog::error("train: reading {}: {}", o.data, docs.status().ToString());
    return kExitFailure;
  }
  auto set = text::TrainingSet::Create(*docs, *options);
  if (!set.ok()) {
    spdlog::error("train: {}: {}", o.data, set.status().message());
    return kExitFailure;
  }
  {
    std::vector<size_t> support(set->labels().size(), 0);
    for (size_t d = 0; d < set->size(); ++d) ++support[set->label_of(d)];
    std::string counts;
    for (size_t k = 0; k < support.size(); ++k)
      counts += fmt::format("{}{}={}", k ? " " : "", set->labels()[k], support[k]);
    spdlog::info("train: {} documents ({} lines rejected), labels in class order: {}", set->size(), rejected, counts);
  }

  std::unique_ptr<text::CrossValidation> cv;
  if (o.folds >= 2) {
    auto result = text::CrossValidate(*set, *options, o.folds, o.fold_seed);
    if (!result.ok()) {
      spdlog::error("train: cross-validation: {}", result.status().message());
      return kExitFailure;
    }
    cv = std::make_unique<text::CrossValidation>(std::move(*result));
    ReportCrossValidation(*cv, set->labels());
  }

  std::vector<uint32_t> all(set->size());
  for (uint32_t d = 0; d < all.size(); ++d) all[d] = d;
  auto model = text::Fit(*set, all, *options);
  if (!model.ok()) {
    spdlog::error("train: {}", model.status().message());
    return kExitFailure;
  }
  if (!model->converged) {
    spdlog::warn("train: the solver did not reach --tol {} within --max-iter {} passes; consider raising --max-iter",
                 o.tol, o.max_iter);
  }
  {
    const text::SparseRows x = set->counts().Vectorize(all, model->term_ids);
    std::vector<double> scores(set->labels().size());
    size_t correct = 0;
    for (uint32_t d : all) correct += static_cast<uint32_t>(model->Predict(x, d, scores.data())) == set->label_of(d);
    spdlog::info("train: fitted on all {} documents: {} terms, training accuracy {:.4f}", all.size(),
                 model->terms.size(), static_cast<double>(correct) / all.size());
  }
  const std::string json = text::ModelJson(*model, *options, Provenance(o, set->size(), rejected, *model, cv.get()));
  Status st = WriteFileAtomically(o.out, json);
  if (!st.ok()) {
    spdlog::error("train: {}", st.ToString());
    return kExitFailure;
  }
  spdlog::info("train: wrote {} ({} bytes)", o.out, json.size());
  return rejected ? 1 : 0;
}

}  // namespace

void AddTrainCommand(CLI::App& app) {
  auto o = std::make_shared<TrainCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Fit a bag-of-words linear SVM (CountVectorizer + LinearSVC) on labelled JSON lines {\"text\",\"label\"}");
  cmd->add_option("--data", o->data, "Labelled JSON-lines input, '-' for stdin")
      ->envname("SAGAFLOW_TRAIN_DATA")
      ->required();
  cmd->add_option("--out", o->out, "Where to write the model JSON (docs/model-format.md)")
      ->envname("SAGAFLOW_TRAIN_OUT")
      ->required();
  cmd->add_option("--labels", o->labels,
                  "Class order, comma-separated (e.g. got,lotr,hp); default: order of first appearance")
      ->envname("SAGAFLOW_TRAIN_LABELS")
      ->delimiter(',');
  cmd->add_option("--min-df", o->min_df, "Ignore terms in fewer documents: a count (10) or a proportion (0.01)")
      ->envname("SAGAFLOW_TRAIN_MIN_DF")
      ->capture_default_str();
  cmd->add_option("--max-df", o->max_df, "Ignore terms in more documents: a count (500) or a proportion (0.7)")
      ->envname("SAGAFLOW_TRAIN_MAX_DF")
      ->capture_default_str();
  cmd->add_option("--max-features", o->max_features, "Keep the N most frequent terms (0 = all)")
      ->envname("SAGAFLOW_TRAIN_MAX_FEATURES")
      ->capture_default_str();
  cmd->add_option("--stop-words", o->stop_words, "Stop-word list: english (scikit-learn's) or none")
      ->envname("SAGAFLOW_TRAIN_STOP_WORDS")
      ->check(CLI::IsMember({"english", "none"}))
      ->capture_default_str();
  cmd->add_option("--lowercase", o->lowercase, "Lowercase texts before tokenizing (Python str.lower())")
      ->envname("SAGAFLOW_TRAIN_LOWERCASE")
      ->capture_default_str();
  cmd->add_option("--token-pattern", o->token_pattern, "Token regular expression (the \\w-run family)")
      ->envname("SAGAFLOW_TRAIN_TOKEN_PATTERN")
      ->capture_default_str();
  cmd->add_option("--ngram-min", o->ngram_min, "Smallest word n-gram")
      ->envname("SAGAFLOW_TRAIN_NGRAM_MIN")
      ->capture_default_str();
  cmd->add_option("--ngram-max", o->ngram_max, "Largest word n-gram")
      ->envname("SAGAFLOW_TRAIN_NGRAM_MAX")
      ->capture_default_str();
  cmd->add_option("--c", o->c, "SVM regularization C (larger = less regularization)")
      ->envname("SAGAFLOW_TRAIN_C")
      ->capture_default_str();
  cmd->add_option("--intercept-scaling", o->intercept_scaling, "Bias feature value; 0 fits no intercept")
      ->envname("SAGAFLOW_TRAIN_INTERCEPT_SCALING")
      ->capture_default_str();
  cmd->add_option("--tol", o->tol, "Solver stopping tolerance")->envname("SAGAFLOW_TRAIN_TOL")->capture_default_str();
  cmd->add_option("--max-iter", o->max_iter, "Solver passes at most")
      ->envname("SAGAFLOW_TRAIN_MAX_ITER")
      ->check(AtLeast(1))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the solver's coordinate order")
      ->envname("SAGAFLOW_TRAIN_SEED")
      ->capture_default_str();
  cmd->add_option("--folds", o->folds, "Cross-validation folds reported before the final fit (0 or 1 = none)")
      ->envname("SAGAFLOW_TRAIN_FOLDS")
      ->check(AtLeast(0))
      ->capture_default_str();
  cmd->add_option("--fold-seed", o->fold_seed, "Seed of the stratified fold assignment")
      ->envname("SAGAFLOW_TRAIN_FOLD_SEED")
      ->capture_default_str();
  cmd->callback([o] { SetExitStatus(RunTrain(*o)); });
}

}  // namespace sagaflow::cli
