// Tokenizer: turns a text into the terms scikit-learn's word analyzer
// (CountVectorizer/TfidfVectorizer with analyzer="word") produces:
//
//   1. text.lower() when `lowercase` (Python semantics, see unicode.h);
//   2. re.findall(token_pattern, ...), for the supported family of patterns
//      that mean "maximal runs of \w of at least k characters", e.g. the
//      default (?u)\b\w\w+\b (k = 2), (?u)\b\w+\b (k = 1), \b\w{3,}\b (k = 3);
//   3. stop words removed (exact string match on the lowercased tokens);
//   4. word n-grams for n in [ngram_min, ngram_max], joined by one space, in
//      scikit-learn's order (all tokens first when ngram_min == 1, then each
//      larger n left to right).
//
// Used by the classifier and by the native trainer, so both see the same
// terms as scikit-learn. A Tokenizer is immutable after Create(): its const
// methods are thread-safe (scratch space is thread-local, reused across calls,
// so steady-state tokenization does not allocate).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "util/status.h"

namespace sagaflow::text {

inline constexpr std::string_view kDefaultTokenPattern = R"((?u)\b\w\w+\b)";

// The minimal token length k (in code points) of a supported token_pattern:
// optional (?u) flag, optional \b on both ends, and \w+, \w\w+ (any number of
// \w before +) or \w{k,}. Anything else is Unsupported, naming token_pattern.
Result<int> TokenPatternMinLength(std::string_view token_pattern);

struct TokenizerOptions {
  bool lowercase = true;
  std::string token_pattern = std::string(kDefaultTokenPattern);
  int ngram_min = 1;
  int ngram_max = 1;
  std::vector<std::string> stop_words;  // empty = no stop-word removal
};

class Tokenizer {
 public:
  // Validates options (pattern family, 1 <= ngram_min <= ngram_max <= 16).
  static Result<Tokenizer> Create(TokenizerOptions options);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  const TokenizerOptions& options() const noexcept;
  int min_token_chars() const noexcept;
  // True when terms are exactly the tokens (unigrams, no stop words): the
  // classifier's fast path.
  bool terms_are_tokens() const noexcept;

  // Calls on_token(std::string_view) for every token of steps 1-2, in order.
  // The view is valid only during the call. text must be valid UTF-8.
  template <typename F>
  void ForEachToken(std::string_view text, F&& on_token) const {
    Run(text, /*terms=*/false, &Thunk<std::remove_reference_t<F>>, &on_token);
  }
  // Calls on_term(std::string_view) for every term (steps 1-4), in order.
  template <typename F>
  void ForEachTerm(std::string_view text, F&& on_term) const {
    Run(text, /*terms=*/true, &Thunk<std::remove_reference_t<F>>, &on_term);
  }
  std::vector<std::string> Terms(std::string_view text) const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  using Callback = void (*)(void* ctx, std::string_view piece);
  template <typename F>
  static void Thunk(void* ctx, std::string_view piece) {
    (*static_cast<F*>(ctx))(piece);
  }
  void Run(std::string_view text, bool terms, Callback cb, void* ctx) const;

  std::unique_ptr<Impl> impl_;
};

}  // namespace sagaflow::text
