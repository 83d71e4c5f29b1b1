#include "cli/entities_support.h"

#include <spdlog/spdlog.h>

#include "io/jsonl_documents.h"
#include "text/unicode.h"

namespace sagaflow::cli {

Result<std::vector<CorpusText>> ReadCorpus(const char* command, const std::string& path,
                                           const text::Classifier* classifier, size_t* rejected,
                                           const std::function<bool(const std::string&)>& keep) {
  auto docs = io::JsonlDocuments::Open(path);
  if (!docs.ok()) return docs.status();
  std::vector<CorpusText> texts;
  std::vector<double> scores(classifier ? classifier->labels().size() : 0);
  io::Document doc;
  std::string reason;
  for (;;) {
    auto outcome = (*docs)->Next(&doc, &reason);
    if (!outcome.ok()) return outcome.status();
    if (*outcome == io::JsonlDocuments::Outcome::kEnd) break;
    if (*outcome == io::JsonlDocuments::Outcome::kRejected) {
      spdlog::error("{}: {}: {}", command, path, reason);
      ++*rejected;
      continue;
    }
    std::string id(doc.id_json);
    if (id.size() >= 2 && id.front() == '"' && id.find('\\') == std::string::npos) id = id.substr(1, id.size() - 2);
    if (keep && !keep(id)) continue;
    CorpusText t{std::move(id), std::string(doc.text), ""};
    if (classifier && !text::IsBlank(t.text)) t.saga = classifier->labels()[classifier->Predict(t.text, scores.data())];
    texts.push_back(std::move(t));
  }
  return texts;
}

Result<LoadedDictionary> LoadDictionary(const std::string& path) {
  auto dict = path.empty() ? text::EntityDictionary::FromCurated("saga\tname\tkind\taliases\n")
                           : text::EntityDictionary::LoadFile(path);
  if (!dict.ok()) return dict.status();
  auto matcher = text::EntityMatcher::Build(*dict);
  if (!matcher.ok()) return matcher.status().WithContext(path);
  return LoadedDictionary{std::move(dict).value(), std::move(matcher).value()};
}

}  // namespace sagaflow::cli
