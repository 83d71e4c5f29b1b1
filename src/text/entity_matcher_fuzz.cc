// libFuzzer target: the input is "<selector byte><dictionary>\0<text>". The
// dictionary (flat list, or curated when it has the header) must load or be
// rejected cleanly; when it loads and the text is valid UTF-8, both candidate
// kernels and the naive oracle must count the same. Build with clang and
// -DSAGAFLOW_FUZZ=ON, run e.g. `build-fuzz/entity_matcher_fuzz -max_len=4096`.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "text/entity_matcher.h"
#include "text/entity_matcher_testing.h"
#include "text/unicode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sagaflow::text;
  if (size < 1) return 0;
  const std::string_view sagas[] = {"", "got", "lotr", "hp", "xx"};
  const std::string_view saga = sagas[data[0] % 5];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = input.find('\0');
  if (split == std::string_view::npos) return 0;
  const std::string_view dict_text = input.substr(0, split), text = input.substr(split + 1);

  auto dict = EntityDictionary::LooksCurated(dict_text) ? EntityDictionary::FromCurated(dict_text)
                                                        : EntityDictionary::FromFlatList(dict_text);
  if (!dict.ok() || !IsValidUtf8(text)) return 0;
  auto simd = EntityMatcher::Build(*dict, MatcherOptions{.simd = true});
  auto portable = EntityMatcher::Build(*dict, MatcherOptions{.simd = false});
  if (!simd.ok() || !portable.ok()) {
    std::fprintf(stderr, "a loaded dictionary must build\n");
    std::abort();
  }
  std::vector<Mention> a, b;
  simd->Count(text, saga, &a);
  portable->Count(text, saga, &b);
  if (a != b || a != testing::NaiveCount(*dict, text, saga)) {
    std::fprintf(stderr, "kernels or oracle disagree\n");
    std::abort();
  }
  return 0;
}
