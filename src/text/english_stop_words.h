// The English stop-word list of scikit-learn's CountVectorizer
// (stop_words="english"), so `sagaflow train --stop-words english` removes
// exactly the tokens scikit-learn removes.
//
// Derived from scikit-learn (sklearn/feature_extraction/_stop_words.py),
// which took it from the Glasgow Information Retrieval Group
// (http://ir.dcs.gla.ac.uk/resources/linguistic_utils/stop_words).
// scikit-learn is BSD-3-Clause licensed; its notice is reproduced in
// english_stop_words.cc beside the list.
//
// english_stop_words_test.cc checks the list against the installed
// scikit-learn's ENGLISH_STOP_WORDS.
#pragma once

#include <span>
#include <string_view>

namespace sagaflow::text {

// The 318 words, sorted, lowercase ASCII. Static storage; thread-safe.
std::span<const std::string_view> EnglishStopWords() noexcept;

}  // namespace sagaflow::text
