// AnalysisModel: everything the analyze step needs, loaded once and shared
// read-only by all worker threads: the text classifier, the entity
// dictionary and its matcher, and the star schema's dimensions derived from
// them (sagas = the classifier's labels, in label order).
#pragma once

#include <memory>
#include <string>

#include "pipeline/dimensions.h"
#include "text/classifier.h"
#include "text/entity_dictionary.h"
#include "text/entity_matcher.h"

namespace sagaflow::pipeline {

struct AnalysisModel {
  text::Classifier classifier;
  text::EntityDictionary dictionary;
  text::EntityMatcher matcher;
  Dimensions dimensions;

  // Errors name the file that failed.
  static Result<std::unique_ptr<AnalysisModel>> Load(const std::string& model_path, const std::string& entities_path);
};

}  // namespace sagaflow::pipeline
