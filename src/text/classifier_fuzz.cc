// libFuzzer target (clang, -DSAGAFLOW_FUZZ=ON): the model reader must reject
// any malformed model with a Status, and Predict must handle any valid UTF-8
// text (every token path: ASCII blocks, separators, the general path,
// Final_Sigma scans) without crashing.
//
//   build/classifier_fuzz -max_len=4096
//
// Input layout: first byte selects the model variant; the rest is either a
// model document (variant 0) or the text to classify.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/classifier.h"
#include "text/unicode.h"

namespace {

constexpr const char* kModels[] = {
    R"({"format":"sagaflow-text-classifier","version":1,"labels":["a","b","c"],
        "vectorizer":{"type":"count","lowercase":true,"token_pattern":"(?u)\\b\\w\\w+\\b","ngram_range":[1,1],
                      "binary":false,"terms":["ring","\u03c3\u03bf\u03c2","i\u0307","ab","longer_than_eight"]},
        "classifier":{"kind":"LinearSVC","scheme":"ovr","coef":[[1,2,3,4,5],[5,4,3,2,1],[0,1,0,1,0]],
                      "intercept":[0,0,0]}})",
    R"({"format":"sagaflow-text-classifier","version":1,"labels":["a","b"],
        "vectorizer":{"type":"tfidf","lowercase":false,"token_pattern":"\\b\\w+\\b","ngram_range":[1,3],
                      "binary":true,"stop_words":["the"],"terms":["ring","the ring","a b c","\u00df"],
                      "tfidf":{"norm":"l2","use_idf":true,"sublinear_tf":true,"idf":[1,2,3,4]}},
        "classifier":{"kind":"LogisticRegression","scheme":"binary","coef":[[1,-1,2,-2]],"intercept":[0.5]}})",
};

const sagaflow::text::Classifier* Model(size_t i) {
  static const auto* models = [] {
    auto* v = new std::vector<sagaflow::text::Classifier>();
    for (const char* m : kModels) v->push_back(std::move(sagaflow::text::Classifier::FromJson(m).value()));
    return v;
  }();
  return &(*models)[i];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t variant = data[0] % 3;
  if (variant == 0) {
    auto c = sagaflow::text::Classifier::FromJson(rest);
    if (c.ok() && sagaflow::text::IsValidUtf8(rest)) {
      std::vector<double> scores(c->labels().size());
      c->Predict(rest, scores.data());
    }
    return 0;
  }
  if (!sagaflow::text::IsValidUtf8(rest)) return 0;
  const auto* c = Model(variant - 1);
  double scores[3];
  int label = c->Predict(rest, scores);
  if (label < 0 || label >= static_cast<int>(c->labels().size())) __builtin_trap();
  std::string lowered;
  sagaflow::text::AppendLowercase(rest, &lowered);
  (void)c->tokenizer().Terms(rest);
  return 0;
}
