#include "text/tokenizer.h"

#include <string>
#include <unordered_set>
#include <utility>

#include "text/token_scanner.h"

namespace sagaflow::text {
namespace {

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

bool ConsumeSuffix(std::string_view* s, std::string_view suffix) {
  if (s->size() < suffix.size() || s->substr(s->size() - suffix.size()) != suffix) return false;
  s->remove_suffix(suffix.size());
  return true;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Per-thread buffers, reused across calls so tokenizing does not allocate
// once they have grown. A callback that tokenizes again on the same thread
// gets fresh buffers instead (see Run).
struct Scratch {
  internal::GeneralTokens general;               // general-path tokens
  std::string lowered;                           // lowercased ASCII token
  std::string joined;                            // kept tokens, space-separated
  std::vector<std::pair<size_t, size_t>> spans;  // [begin, end) of each in joined
  bool busy = false;
};

}  // namespace

namespace internal {

size_t ScanGeneral(std::string_view text, size_t from, size_t complex, bool lowercase, size_t min_chars,
                   GeneralTokens* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  std::string& bytes = out->bytes;
  size_t token_begin = bytes.size();
  size_t chars = 0;
  auto flush = [&] {
    if (chars >= min_chars) {
      out->spans.emplace_back(token_begin, bytes.size());
    } else {
      bytes.resize(token_begin);
    }
    token_begin = bytes.size();
    chars = 0;
  };
  size_t i = from;
  while (i < text.size()) {
    if (i > complex && chars == 0 && p[i] < 0x80) return i;
    size_t pos = i;
    char32_t c = DecodeUtf8(text, &i);
    char32_t lowered[3];
    int count = 1;
    if (!lowercase) {
      lowered[0] = c;
    } else if (c == 0x3A3) {
      lowered[0] = LowercaseCapitalSigma(text, pos);
    } else {
      count = LowercaseFull(c, lowered);
    }
    for (int k = 0; k < count; ++k) {
      if (IsWordChar(lowered[k])) {
        AppendUtf8(lowered[k], &bytes);
        ++chars;
      } else if (chars) {
        flush();
      }
    }
  }
  if (chars) flush();
  return text.size();
}

}  // namespace internal

Result<int> TokenPatternMinLength(std::string_view token_pattern) {
  auto unsupported = [&] {
    return Status::Unsupported(
        "token_pattern '" + std::string(token_pattern) +
        "' is not supported: only maximal runs of \\w are, e.g. (?u)\\b\\w\\w+\\b, (?u)\\b\\w+\\b, \\b\\w{3,}\\b");
  };
  std::string_view s = token_pattern;
  ConsumePrefix(&s, "(?u)");
  ConsumePrefix(&s, "\\b");
  ConsumeSuffix(&s, "\\b");
  int units = 0;
  while (ConsumePrefix(&s, "\\w")) ++units;
  if (units == 0) return unsupported();
  int last;  // minimum repetitions of the last \w
  if (s == "+") {
    last = 1;
  } else if (ConsumePrefix(&s, "{") && ConsumeSuffix(&s, ",}") && !s.empty() && s.size() <= 4 &&
             s.find_first_not_of("0123456789") == std::string_view::npos) {
    last = std::stoi(std::string(s));
    if (last < 1) return unsupported();  // \w{0,} also matches empty strings
  } else {
    return unsupported();  // no quantifier: fixed-length matches, not runs
  }
  return units - 1 + last;
}

struct Tokenizer::Impl {
  TokenizerOptions options;
  int min_chars = 2;
  std::unordered_set<std::string, StringHash, std::equal_to<>> stop_words;

  bool TermsAreTokens() const { return options.ngram_max == 1 && stop_words.empty(); }
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::Create(TokenizerOptions options) {
  Result<int> min_chars = TokenPatternMinLength(options.token_pattern);
  if (!min_chars.ok()) return min_chars.status();
  if (options.ngram_min < 1 || options.ngram_min > options.ngram_max || options.ngram_max > 16) {
    return Status::InvalidArgument("ngram_range [" + std::to_string(options.ngram_min) + ", " +
                                   std::to_string(options.ngram_max) + "] is invalid: need 1 <= min <= max <= 16");
  }
  auto impl = std::make_unique<Impl>();
  impl->min_chars = *min_chars;
  for (const std::string& w : options.stop_words) impl->stop_words.insert(w);
  impl->options = std::move(options);
  return Tokenizer(std::move(impl));
}

const TokenizerOptions& Tokenizer::options() const noexcept { return impl_->options; }
int Tokenizer::min_token_chars() const noexcept { return impl_->min_chars; }
bool Tokenizer::terms_are_tokens() const noexcept { return impl_->TermsAreTokens(); }

std::vector<std::string> Tokenizer::Terms(std::string_view text) const {
  std::vector<std::string> out;
  ForEachTerm(text, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

void Tokenizer::Run(std::string_view text, bool terms, Callback cb, void* ctx) const {
  thread_local Scratch tls;
  Scratch fresh;
  Scratch& scratch = tls.busy ? fresh : tls;
  scratch.busy = true;

  // Tokens as lowercased views, handed to `emit`.
  auto scan = [&](auto&& emit) {
    struct Sink {
      decltype(emit)& on_token;
      Scratch& scratch;
      bool lowercase;
      size_t min_chars;
      void AsciiRun(const char* p, size_t n) {
        if (n < min_chars) return;
        if (!lowercase) return on_token(std::string_view(p, n));
        scratch.lowered.clear();
        internal::AppendAsciiLower(p, n, &scratch.lowered);
        on_token(std::string_view(scratch.lowered));
      }
      void Token(std::string_view t) { on_token(t); }
    } sink{emit, scratch, impl_->options.lowercase, static_cast<size_t>(impl_->min_chars)};
    internal::ScanTokens(text, impl_->options.lowercase, impl_->min_chars, &scratch.general, sink);
  };

  if (!terms || impl_->TermsAreTokens()) {
    scan([&](std::string_view t) { cb(ctx, t); });
  } else {
    // Stop words, then n-grams in scikit-learn's _word_ngrams order. Kept
    // tokens are stored space-separated so an n-gram is a contiguous slice.
    std::string& joined = scratch.joined;
    auto& spans = scratch.spans;
    joined.clear();
    spans.clear();
    scan([&](std::string_view t) {
      if (impl_->stop_words.find(t) != impl_->stop_words.end()) return;
      if (!joined.empty()) joined.push_back(' ');
      spans.emplace_back(joined.size(), joined.size() + t.size());
      joined.append(t);
    });
    const size_t count = spans.size();
    size_t min_n = static_cast<size_t>(impl_->options.ngram_min);
    const size_t max_n = static_cast<size_t>(impl_->options.ngram_max);
    if (min_n == 1) {
      for (const auto& [b, e] : spans) cb(ctx, std::string_view(joined).substr(b, e - b));
      min_n = 2;
    }
    for (size_t n = min_n; n <= max_n && n <= count; ++n) {
      for (size_t i = 0; i + n <= count; ++i) {
        size_t b = spans[i].first, e = spans[i + n - 1].second;
        cb(ctx, std::string_view(joined).substr(b, e - b));
      }
    }
  }
  scratch.busy = false;
}

}  // namespace sagaflow::text
