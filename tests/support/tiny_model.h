// A three-saga model and dictionary small enough to reason about in tests:
// "ring" votes lotr, "wand" votes hp, anything else is got (ties go to the
// first label); Jon Snow (alias Jon) counts in got, Frodo in lotr, Harry in
// hp, and Tom in every saga.
#pragma once

namespace sagaflow::testing {

inline constexpr const char* kTinyModelJson = R"({
  "format": "sagaflow-text-classifier", "version": 1, "labels": ["got", "lotr", "hp"],
  "vectorizer": {"type": "count", "lowercase": true, "token_pattern": "(?u)\\b\\w\\w+\\b",
                 "ngram_range": [1, 1], "binary": false, "terms": ["ring", "wand"]},
  "classifier": {"kind": "LinearSVC", "scheme": "ovr", "coef": [[0, 0], [1, 0], [0, 1]], "intercept": [0, 0, 0]}
})";

inline constexpr const char* kTinyEntitiesTsv =
    "saga\tname\tkind\taliases\n"
    "got\tJon Snow\tcharacter\tJon\n"
    "lotr\tFrodo\tcharacter\n"
    "hp\tHarry\tcharacter\n"
    "*\tTom\tother\n";

// Scores a text by keyword counts: "stark" votes got, "ring" lotr, "wand" hp,
// and hp starts at 0.5, so a text with none of them is hp; scores are whole
// counts (plus 0.5 for hp), easy to spell out in expected output.
inline constexpr const char* kKeywordModelJson =
    R"({"format":"sagaflow-text-classifier","version":1,"labels":["got","lotr","hp"],
  "vectorizer":{"type":"count","lowercase":true,"token_pattern":"(?u)\\b\\w\\w+\\b","ngram_range":[1,1],
                "binary":false,"terms":["stark","ring","wand"]},
  "classifier":{"kind":"LinearSVC","scheme":"ovr","coef":[[1,0,0],[0,1,0],[0,0,1]],"intercept":[0,0,0.5]}})";

}  // namespace sagaflow::testing
