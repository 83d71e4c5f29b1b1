#include "text/classifier.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_set>

#include "text/term_table.h"
#include "text/token_scanner.h"

// Scores must be computed as scipy does: every product rounded before the
// addition. This file is compiled with -ffp-contract=off (src/text/CMakeLists.txt).

namespace sagaflow::text {
namespace {

using nlohmann::json;

enum class Norm { kNone, kL1, kL2 };

// Errors name the offending field as a JSON path, e.g. "vectorizer.terms[3]".
class ModelReader {
 public:
  Status Error(const std::string& path, const std::string& what) const {
    return Status::InvalidArgument("model field " + path + ": " + what);
  }

  Status CheckKeys(const json& obj, const std::string& path, std::initializer_list<const char*> required,
                   std::initializer_list<const char*> optional) const {
    if (!obj.is_object()) return Error(path.empty() ? "(top level)" : path, "must be an object");
    std::set<std::string> known;
    for (const char* k : required) {
      known.insert(k);
      if (!obj.contains(k)) return Error(Join(path, k), "is missing");
    }
    for (const char* k : optional) known.insert(k);
    for (const auto& [k, v] : obj.items()) {
      if (!known.count(k)) return Error(Join(path, k), "is not part of the model format (docs/model-format.md)");
    }
    return Status::Ok();
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  Result<bool> Bool(const json& v, const std::string& path) const {
    if (!v.is_boolean()) return Error(path, "must be true or false");
    return v.get<bool>();
  }

  Result<std::string> String(const json& v, const std::string& path) const {
    if (!v.is_string()) return Error(path, "must be a string");
    return v.get<std::string>();
  }

  Result<double> Number(const json& v, const std::string& path) const {
    if (!v.is_number()) return Error(path, "must be a number");
    double d = v.get<double>();
    if (!std::isfinite(d)) return Error(path, "must be finite");
    return d;
  }

  Result<std::vector<double>> Numbers(const json& v, const std::string& path, size_t expected) const {
    if (!v.is_array()) return Error(path, "must be an array of numbers");
    if (v.size() != expected) {
      return Error(path, "has " + std::to_string(v.size()) + " entries, expected " + std::to_string(expected));
    }
    std::vector<double> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      Result<double> d = Number(v[i], path + "[" + std::to_string(i) + "]");
      if (!d.ok()) return d.status();
      out.push_back(*d);
    }
    return out;
  }

  // An array of distinct strings (non-empty ones when `non_empty`).
  Result<std::vector<std::string>> Strings(const json& v, const std::string& path, bool distinct,
                                           bool non_empty) const {
    if (!v.is_array()) return Error(path, "must be an array of strings");
    std::vector<std::string> out;
    out.reserve(v.size());
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      if (!v[i].is_string()) return Error(p, "must be a string");
      std::string s = v[i].get<std::string>();
      if (!IsValidUtf8(s)) return Error(p, "is not valid UTF-8");
      if (non_empty && s.empty()) return Error(p, "must not be empty");
      if (distinct && !seen.insert(s).second) return Error(p, "duplicates \"" + s + "\"");
      out.push_back(std::move(s));
    }
    return out;
  }
};

// Per-thread scratch of Predict, grown on demand and left all-zero between
// calls, so steady-state prediction does not allocate. Counting is
// branch-free: a token that is not a feature counts into one of kDummies
// dummy features after the real ones (rotating, so that consecutive misses do
// not wait on each other's increment), dropped afterwards.
constexpr uint32_t kDummies = internal::TermTable::kMissSpread;

struct PredictScratch {
  std::vector<uint32_t> counts;     // by feature, then the dummies
  std::vector<uint32_t> touched;    // features with counts != 0, first-seen order
  std::vector<uint64_t> seen;       // bitmap, used to order dense feature sets
  std::vector<double> values;       // feature values in visiting order
  internal::GeneralTokens general;  // tokenizer scratch
  std::vector<unsigned char> copy;  // the text in the model's case (ScanTokens), + 64 bytes

  void Prepare(size_t features) {
    if (counts.size() < features + kDummies) {
      counts.resize(features + kDummies, 0);
      touched.resize(features + kDummies + 1);  // Counter::Add writes one entry past the last touched
      values.resize(features + kDummies);
    }
    if (seen.size() < (features + 63) / 64) seen.resize((features + 63) / 64, 0);
  }
};

// Counts features into a PredictScratch. Kept in a local object during a scan
// so the running totals can live in registers. With kTrack, the features seen
// are also listed (first-seen order) for the caller to sort; without it the
// caller finds them by scanning the counts, which is cheaper per token and
// pays off when the text is long relative to the vocabulary.
template <bool kTrack>
struct Counter {
  uint32_t* counts;
  uint32_t* touched;
  size_t num_touched = 0;
  uint32_t first_dummy;
  uint32_t rotation = 0;

  __attribute__((always_inline)) uint32_t Miss() noexcept { return first_dummy + (rotation++ & (kDummies - 1)); }
  __attribute__((always_inline)) void Add(size_t f) noexcept {
    if constexpr (kTrack) {
      touched[num_touched] = static_cast<uint32_t>(f);
      num_touched += counts[f]++ == 0;
    } else {
      ++counts[f];
    }
  }
};

// The ASCII fast path's token sink. All state the hot loop updates lives in
// this object, a local of Predict that never leaves inlined code, so it stays
// in registers.
template <bool kTrack>
struct RunSink {
  internal::TermTable::RunFinder finder;
  const internal::TermTable& terms;
  const char* text;
  const char* copy;  // the text in the model's case (ScanTokens writes it)
  Counter<kTrack> counter;

  __attribute__((always_inline)) void AsciiRun(const char* p, size_t n) {
    counter.Add(finder.Find(copy + (p - text), n));
  }
  void Token(std::string_view t) {
    int f = terms.Find(t);
    counter.Add(f >= 0 ? static_cast<uint32_t>(f) : counter.Miss());
  }
};

// acc[k] = sum over i of values[i] * weights[features[i] * kRows + k], added
// in order i = 0, 1, ... as scipy does; the sums stay in registers.
template <size_t kRows>
void Accumulate(const double* values, const uint32_t* features, size_t n, const double* weights, double* acc) noexcept {
  double sum[kRows] = {};
  for (size_t i = 0; i < n; ++i) {
    const double x = values[i];
    const double* w = weights + size_t{features[i]} * kRows;
    for (size_t k = 0; k < kRows; ++k) sum[k] += x * w[k];
  }
  for (size_t k = 0; k < kRows; ++k) acc[k] = sum[k];
}

}  // namespace

struct Classifier::Impl {
  std::vector<std::string> labels;
  Tokenizer tokenizer;
  internal::TermTable terms;
  size_t num_features = 0;
  bool binary_counts = false;
  bool tfidf = false;
  bool sublinear_tf = false;
  bool use_idf = false;
  Norm norm = Norm::kNone;
  std::vector<double> idf;
  size_t rows = 0;              // coefficient rows: labels, or 1 for binary models
  std::vector<double> weights;  // weights[j * rows + k] = coef[k][j]
  std::vector<double> intercept;

  // The counting pass of models whose terms are the tokens (unigrams, no
  // stop words): CountTokens<PortableBlocks>, or its AVX2 build when the
  // CPU has AVX2 and BMI2. Returns OrderCounted/OrderTouched's count.
  using CountTokensFn = size_t (*)(const Impl&, PredictScratch*, std::string_view) noexcept;
  CountTokensFn count_tokens = CountTokensPortable;

  Impl(Tokenizer t, const ClassifierOptions& options) : tokenizer(std::move(t)) {
#ifdef SAGAFLOW_HAVE_AVX2_BLOCKS
    if (options.simd && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2")) {
      count_tokens = CountTokensAvx2;
    }
#else
    (void)options;
#endif
  }

  // Runs are looked up in a copy of the text in the model's case, written
  // by the scan itself (s->copy: text.size() + 64 bytes), so the table reads
  // whole 8-byte words without bounds checks or a lowercasing step per token.
  template <typename Blocks>
  __attribute__((always_inline)) static size_t CountTokens(const Impl& m, PredictScratch* s,
                                                           std::string_view text) noexcept {
    const bool lowercase = m.tokenizer.options().lowercase;
    const int min_chars = m.tokenizer.min_token_chars();
    const uint32_t first_dummy = static_cast<uint32_t>(m.num_features);
    unsigned char* copy = s->copy.data();
    const char* copy_chars = reinterpret_cast<const char*>(copy);
    if (m.num_features <= text.size() / 8) {
      RunSink<false> sink{internal::TermTable::RunFinder(m.terms),
                          m.terms,
                          text.data(),
                          copy_chars,
                          {s->counts.data(), s->touched.data(), 0, first_dummy}};
      internal::ScanTokens<Blocks, true>(text, lowercase, min_chars, &s->general, sink, copy);
      return m.OrderCounted(s);
    }
    RunSink<true> sink{internal::TermTable::RunFinder(m.terms),
                       m.terms,
                       text.data(),
                       copy_chars,
                       {s->counts.data(), s->touched.data(), 0, first_dummy}};
    internal::ScanTokens<Blocks, true>(text, lowercase, min_chars, &s->general, sink, copy);
    return m.OrderTouched(s, sink.counter.num_touched);
  }
  // flatten: the whole scan, sink and table lookups inlined, in registers.
  [[gnu::flatten]] static size_t CountTokensPortable(const Impl& m, PredictScratch* s, std::string_view text) noexcept {
    return CountTokens<internal::PortableBlocks>(m, s, text);
  }
#ifdef SAGAFLOW_HAVE_AVX2_BLOCKS
  __attribute__((target("avx2,bmi,bmi2,popcnt,lzcnt"), flatten)) static size_t CountTokensAvx2(
      const Impl& m, PredictScratch* s, std::string_view text) noexcept {
    return CountTokens<internal::Avx2Blocks>(m, s, text);
  }
#endif

  // Drops the dummy features and sorts the touched features into visiting
  // order (docs/model-format.md); returns how many there are.
  size_t OrderTouched(PredictScratch* s, size_t num_touched) const {
    uint32_t* t = s->touched.data();
    size_t n = 0;
    for (size_t i = 0; i < num_touched; ++i) {
      if (t[i] < num_features) t[n++] = t[i];
    }
    for (uint32_t d = 0; d < kDummies; ++d) s->counts[num_features + d] = 0;
    size_t words = (num_features + 63) / 64;
    if (n * 8 >= words) {  // dense enough: order through the bitmap
      for (size_t i = 0; i < n; ++i) s->seen[t[i] >> 6] |= uint64_t{1} << (t[i] & 63);
      size_t k = 0;
      for (size_t w = 0; w < words; ++w) {
        for (uint64_t bits = s->seen[w]; bits; bits &= bits - 1) {
          t[k++] = static_cast<uint32_t>(w * 64 + __builtin_ctzll(bits));
        }
        s->seen[w] = 0;
      }
    } else {
      std::sort(t, t + n);
    }
    if (tfidf && use_idf) std::reverse(t, t + n);
    return n;
  }

  // The same for untracked counting: lists the features with a count.
  size_t OrderCounted(PredictScratch* s) const {
    uint32_t* t = s->touched.data();
    const uint32_t* c = s->counts.data();
    size_t n = 0;
    uint32_t j = 0;
#if defined(__SSE2__)
    // Four counts at a time: the indices of the non-zero ones, in order,
    // come from a table by their mask (writes up to 3 entries past the
    // result: touched has kDummies spare entries).
    static constexpr auto kNonZero = [] {
      std::array<std::array<uint32_t, 5>, 16> table{};  // indices, then how many
      for (uint32_t mask = 0; mask < 16; ++mask) {
        uint32_t k = 0;
        for (uint32_t bit = 0; bit < 4; ++bit) {
          if (mask >> bit & 1) table[mask][k++] = bit;
        }
        table[mask][4] = k;
      }
      return table;
    }();
    const __m128i zero = _mm_setzero_si128();
    for (; j + 4 <= num_features; j += 4) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + j));
      const unsigned mask = ~_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(v, zero))) & 15u;
      const __m128i offsets = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kNonZero[mask].data()));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(t + n), _mm_add_epi32(offsets, _mm_set1_epi32(static_cast<int>(j))));
      n += kNonZero[mask][4];
    }
#endif
    for (; j < num_features; ++j) {
      t[n] = j;
      n += c[j] != 0;
    }
    for (uint32_t d = 0; d < kDummies; ++d) s->counts[num_features + d] = 0;
    if (tfidf && use_idf) std::reverse(t, t + n);
    return n;
  }

  // Feature values of the n ordered features into s->values (and resets
  // their counts).
  void FeatureValues(PredictScratch* s, size_t n) const {
    double* v = s->values.data();
    for (size_t i = 0; i < n; ++i) {
      uint32_t f = s->touched[i];
      double x = binary_counts ? 1.0 : static_cast<double>(s->counts[f]);
      s->counts[f] = 0;
      if (tfidf) {
        if (sublinear_tf) x = std::log(x) + 1.0;
        if (use_idf) x = x * idf[f];
      }
      v[i] = x;
    }
    if (norm == Norm::kNone) return;
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += norm == Norm::kL2 ? v[i] * v[i] : std::fabs(v[i]);
    if (sum == 0.0) return;
    if (norm == Norm::kL2) sum = std::sqrt(sum);
    for (size_t i = 0; i < n; ++i) v[i] /= sum;
  }
};

Classifier::Classifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Classifier::Classifier(Classifier&&) noexcept = default;
Classifier& Classifier::operator=(Classifier&&) noexcept = default;
Classifier::~Classifier() = default;

const std::vector<std::string>& Classifier::labels() const noexcept { return impl_->labels; }
const Tokenizer& Classifier::tokenizer() const noexcept { return impl_->tokenizer; }
size_t Classifier::num_features() const noexcept { return impl_->num_features; }

Result<Classifier> Classifier::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot open model file " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read model file " + path);
  Result<Classifier> c = FromJson(buf.str());
  if (!c.ok()) return c.status().WithContext(path);
  return c;
}

Result<Classifier> Classifier::FromJson(std::string_view text) { return FromJson(text, ClassifierOptions{}); }

Result<Classifier> Classifier::FromJson(std::string_view text, const ClassifierOptions& options) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("model is not valid JSON");
  ModelReader r;
#define SAGAFLOW_ASSIGN(var, expr)                      \
  auto var##_result = (expr);                           \
  if (!var##_result.ok()) return var##_result.status(); \
  auto var = std::move(var##_result).value()  // NOLINT(bugprone-macro-parentheses): var is the name declared

  SAGAFLOW_RETURN_IF_ERROR(
      r.CheckKeys(doc, "", {"format", "version", "labels", "vectorizer", "classifier"}, {"provenance"}));
  SAGAFLOW_ASSIGN(format, r.String(doc["format"], "format"));
  if (format != "sagaflow-text-classifier") return r.Error("format", "must be \"sagaflow-text-classifier\"");
  if (!doc["version"].is_number_integer() || doc["version"].get<int64_t>() != 1) {
    return r.Error("version", "must be 1 (this reader knows version 1 only)");
  }
  if (doc.contains("provenance") && !doc["provenance"].is_object()) return r.Error("provenance", "must be an object");
  SAGAFLOW_ASSIGN(labels, r.Strings(doc["labels"], "labels", /*distinct=*/true, /*non_empty=*/true));
  if (labels.size() < 2) return r.Error("labels", "needs at least 2 labels");

  // Vectorizer.
  const json& vec = doc["vectorizer"];
  SAGAFLOW_RETURN_IF_ERROR(r.CheckKeys(vec, "vectorizer",
                                       {"type", "lowercase", "token_pattern", "ngram_range", "binary", "terms"},
                                       {"stop_words", "tfidf"}));
  SAGAFLOW_ASSIGN(type, r.String(vec["type"], "vectorizer.type"));
  if (type != "count" && type != "tfidf") return r.Error("vectorizer.type", "must be \"count\" or \"tfidf\"");
  TokenizerOptions topts;
  SAGAFLOW_ASSIGN(lowercase, r.Bool(vec["lowercase"], "vectorizer.lowercase"));
  SAGAFLOW_ASSIGN(pattern, r.String(vec["token_pattern"], "vectorizer.token_pattern"));
  topts.lowercase = lowercase;
  topts.token_pattern = pattern;
  const json& ngram = vec["ngram_range"];
  if (!ngram.is_array() || ngram.size() != 2 || !ngram[0].is_number_integer() || !ngram[1].is_number_integer()) {
    return r.Error("vectorizer.ngram_range", "must be [min, max] integers");
  }
  int64_t nmin = ngram[0].get<int64_t>(), nmax = ngram[1].get<int64_t>();
  if (nmin < 1 || nmin > nmax || nmax > 16) return r.Error("vectorizer.ngram_range", "needs 1 <= min <= max <= 16");
  topts.ngram_min = static_cast<int>(nmin);
  topts.ngram_max = static_cast<int>(nmax);
  if (vec.contains("stop_words")) {
    SAGAFLOW_ASSIGN(stop, r.Strings(vec["stop_words"], "vectorizer.stop_words", false, false));
    topts.stop_words = std::move(stop);
  }
  Result<Tokenizer> tokenizer = Tokenizer::Create(std::move(topts));
  if (!tokenizer.ok()) return tokenizer.status().WithContext("model field vectorizer");
  auto impl = std::make_unique<Impl>(std::move(tokenizer).value(), options);
  impl->labels = std::move(labels);
  SAGAFLOW_ASSIGN(binary_counts, r.Bool(vec["binary"], "vectorizer.binary"));
  impl->binary_counts = binary_counts;
  SAGAFLOW_ASSIGN(terms, r.Strings(vec["terms"], "vectorizer.terms", /*distinct=*/true, /*non_empty=*/false));
  impl->num_features = terms.size();
  if (terms.size() > (size_t{1} << 31)) return r.Error("vectorizer.terms", "has too many terms");
  impl->tfidf = type == "tfidf";
  if (impl->tfidf != vec.contains("tfidf")) {
    return r.Error("vectorizer.tfidf",
                   impl->tfidf ? "is required when type is \"tfidf\"" : "is only allowed when type is \"tfidf\"");
  }
  if (impl->tfidf) {
    const json& t = vec["tfidf"];
    SAGAFLOW_RETURN_IF_ERROR(
        r.CheckKeys(t, "vectorizer.tfidf", {"norm", "use_idf", "sublinear_tf"}, {"smooth_idf", "idf"}));
    if (t["norm"].is_null()) {
      impl->norm = Norm::kNone;
    } else if (t["norm"] == "l2") {
      impl->norm = Norm::kL2;
    } else if (t["norm"] == "l1") {
      impl->norm = Norm::kL1;
    } else {
      return r.Error("vectorizer.tfidf.norm", "must be \"l2\", \"l1\" or null");
    }
    SAGAFLOW_ASSIGN(use_idf, r.Bool(t["use_idf"], "vectorizer.tfidf.use_idf"));
    SAGAFLOW_ASSIGN(sublinear, r.Bool(t["sublinear_tf"], "vectorizer.tfidf.sublinear_tf"));
    if (t.contains("smooth_idf"))
      SAGAFLOW_RETURN_IF_ERROR(r.Bool(t["smooth_idf"], "vectorizer.tfidf.smooth_idf").status());
    impl->use_idf = use_idf;
    impl->sublinear_tf = sublinear;
    if (use_idf) {
      if (!t.contains("idf")) return r.Error("vectorizer.tfidf.idf", "is required when use_idf is true");
      SAGAFLOW_ASSIGN(idf, r.Numbers(t["idf"], "vectorizer.tfidf.idf", terms.size()));
      impl->idf = std::move(idf);
    }
  }
  impl->terms = internal::TermTable(terms, static_cast<size_t>(impl->tokenizer.min_token_chars()));

  // Classifier.
  const json& clf = doc["classifier"];
  SAGAFLOW_RETURN_IF_ERROR(r.CheckKeys(clf, "classifier", {"kind", "scheme", "coef", "intercept"}, {}));
  SAGAFLOW_ASSIGN(kind, r.String(clf["kind"], "classifier.kind"));
  if (kind != "LinearSVC" && kind != "LogisticRegression" && kind != "SGDClassifier" && kind != "MultinomialNB") {
    return r.Error("classifier.kind", "must be LinearSVC, LogisticRegression, SGDClassifier or MultinomialNB");
  }
  SAGAFLOW_ASSIGN(scheme, r.String(clf["scheme"], "classifier.scheme"));
  size_t nlabels = impl->labels.size();
  if (scheme == "binary") {
    if (nlabels != 2) return r.Error("classifier.scheme", "\"binary\" needs exactly 2 labels");
    impl->rows = 1;
  } else if (scheme == "ovr" || scheme == "multinomial") {
    impl->rows = nlabels;
  } else {
    return r.Error("classifier.scheme", "must be \"ovr\", \"multinomial\" or \"binary\"");
  }
  const json& coef = clf["coef"];
  if (!coef.is_array() || coef.size() != impl->rows) {
    return r.Error("classifier.coef", "must be an array of " + std::to_string(impl->rows) + " rows");
  }
  impl->weights.assign(impl->rows * terms.size(), 0.0);
  for (size_t k = 0; k < impl->rows; ++k) {
    SAGAFLOW_ASSIGN(row, r.Numbers(coef[k], "classifier.coef[" + std::to_string(k) + "]", terms.size()));
    for (size_t j = 0; j < row.size(); ++j) impl->weights[j * impl->rows + k] = row[j];
  }
  SAGAFLOW_ASSIGN(intercept, r.Numbers(clf["intercept"], "classifier.intercept", impl->rows));
  impl->intercept = std::move(intercept);
#undef SAGAFLOW_ASSIGN
  return Classifier(std::move(impl));
}

int Classifier::Predict(std::string_view text, double* scores) const noexcept {
  const Impl& m = *impl_;
  thread_local PredictScratch s;
  s.Prepare(m.num_features);
  const uint32_t first_dummy = static_cast<uint32_t>(m.num_features);
  size_t n;

  if (m.tokenizer.terms_are_tokens()) {
    if (s.copy.size() < text.size() + 64) s.copy.resize(text.size() + 64);
    n = m.count_tokens(m, &s, text);
  } else {
    Counter<true> counter{s.counts.data(), s.touched.data(), 0, first_dummy};
    m.tokenizer.ForEachTerm(text, [&](std::string_view t) {
      int f = m.terms.Find(t);
      counter.Add(f >= 0 ? static_cast<uint32_t>(f) : counter.Miss());
    });
    n = m.OrderTouched(&s, counter.num_touched);
  }

  m.FeatureValues(&s, n);
  const size_t rows = m.rows;
  double binary_score = 0.0;
  double* acc = rows == 1 ? &binary_score : scores;
  switch (rows) {
    case 1:
      Accumulate<1>(s.values.data(), s.touched.data(), n, m.weights.data(), acc);
      break;
    case 2:
      Accumulate<2>(s.values.data(), s.touched.data(), n, m.weights.data(), acc);
      break;
    case 3:
      Accumulate<3>(s.values.data(), s.touched.data(), n, m.weights.data(), acc);
      break;
    case 4:
      Accumulate<4>(s.values.data(), s.touched.data(), n, m.weights.data(), acc);
      break;
    default:
      for (size_t k = 0; k < rows; ++k) acc[k] = 0.0;
      for (size_t i = 0; i < n; ++i) {
        const double x = s.values[i];
        const double* w = &m.weights[size_t{s.touched[i]} * rows];
        for (size_t k = 0; k < rows; ++k) acc[k] += x * w[k];
      }
  }
  for (size_t k = 0; k < rows; ++k) acc[k] += m.intercept[k];
  if (rows == 1) {
    scores[0] = -binary_score;
    scores[1] = binary_score;
    return binary_score > 0 ? 1 : 0;
  }
  int best = 0;
  for (size_t k = 1; k < rows; ++k) {
    if (scores[k] > scores[best]) best = static_cast<int>(k);
  }
  return best;
}

}  // namespace sagaflow::text
