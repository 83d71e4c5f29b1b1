#include "pipeline/analysis_model.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sagaflow::pipeline {

Result<std::unique_ptr<AnalysisModel>> AnalysisModel::Load(const std::string& model_path,
                                                           const std::string& entities_path) {
  auto classifier = text::Classifier::LoadFile(model_path);
  if (!classifier.ok()) return classifier.status();
  if (classifier->labels().empty()) return Status::InvalidArgument(model_path + ": the model has no labels");
  auto dictionary = text::EntityDictionary::LoadFile(entities_path);
  if (!dictionary.ok()) return dictionary.status();
  for (const auto& note : dictionary->notes()) spdlog::debug("entities {}: {}", entities_path, note);
  if (!dictionary->notes().empty()) {
    spdlog::info("entities {}: {} entities ({} normalisation notes; --log-level debug lists them)", entities_path,
                 dictionary->entities().size(), dictionary->notes().size());
  }
  auto matcher = text::EntityMatcher::Build(*dictionary);
  if (!matcher.ok()) return matcher.status().WithContext(entities_path);
  auto dims = Dimensions::Build(classifier->labels(), EntityDims(*dictionary));
  if (!dims.ok()) return dims.status();
  for (size_t i = 0; i < classifier->labels().size(); ++i) {
    if (dims->sagas[i].name != classifier->labels()[i]) {
      return Status::InvalidArgument(fmt::format("{}: duplicate label \"{}\"", model_path, classifier->labels()[i]));
    }
  }
  return std::unique_ptr<AnalysisModel>(
      new AnalysisModel{std::move(*classifier), std::move(*dictionary), std::move(*matcher), std::move(*dims)});
}

}  // namespace sagaflow::pipeline
