// What `entities discover` and `entities score` share: reading a corpus of
// {"id","text"} lines labelled by a model, and loading a dictionary with
// its matcher.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "text/classifier.h"
#include "text/entity_dictionary.h"
#include "text/entity_matcher.h"
#include "util/status.h"

namespace sagaflow::cli {

struct CorpusText {
  std::string id;  // a JSON string id unquoted, other ids as written
  std::string text;
  std::string saga;  // the model's label; "" without a model or for a blank text
};

// Reads {"id","text"} lines of `path`, keeping those `keep` accepts (by id;
// all when null), labelled by `classifier` when given. Rejected lines are
// reported on stderr (prefixed by `command`) and counted in *rejected.
Result<std::vector<CorpusText>> ReadCorpus(const char* command, const std::string& path,
                                           const text::Classifier* classifier, size_t* rejected,
                                           const std::function<bool(const std::string&)>& keep = nullptr);

struct LoadedDictionary {
  text::EntityDictionary dict;
  text::EntityMatcher matcher;
};

// The dictionary of `path` and its matcher; an empty dictionary when path is empty.
Result<LoadedDictionary> LoadDictionary(const std::string& path);

}  // namespace sagaflow::cli
