// Test-only helpers for differential tests against Python and scikit-learn:
// run tests/reference/sklearn_reference.py under Debian's /usr/bin/python3
// with JSON lines in and out. Python is a hard requirement of these tests
// (scripts/setup installs it): a missing interpreter fails them.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "support/scratch_dir.h"
#include "support/shared_data.h"
#include "util/json_writer.h"

namespace sagaflow::text::testing {

using ::sagaflow::testing::ReadFile;
using ::sagaflow::testing::ScratchDir;
using ::sagaflow::testing::WriteFile;

inline std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) c == '\'' ? q += "'\\''" : q += c;
  return q + "'";
}

// Runs `python3 <script> <args>` with `input` on stdin; returns stdout.
// Records a test failure (and returns "") when Python exits non-zero.
inline std::string RunReference(const std::vector<std::string>& args, const std::string& input) {
  ScratchDir dir;
  std::string in = dir.File("in"), out = dir.File("out");
  WriteFile(in, input);
  std::string cmd = Quote(sagaflow::testing::Python()) + " " +
                    Quote(sagaflow::testing::SourceDir() + "/tests/reference/sklearn_reference.py");
  for (const std::string& a : args) cmd += " " + Quote(a);
  cmd += " < " + Quote(in) + " > " + Quote(out);
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << "failed: " << cmd;
  return rc == 0 ? ReadFile(out) : std::string();
}

// Exports a fitted pipeline with tools/export_sklearn_model.py; returns its
// exit status (2: refused).
inline int ExportModel(const std::string& joblib, const std::string& out_json, const std::string& labels = "") {
  std::string cmd = Quote(sagaflow::testing::Python()) + " " +
                    Quote(sagaflow::testing::SourceDir() + "/tools/export_sklearn_model.py") + " " + Quote(joblib) +
                    " " + Quote(out_json);
  if (!labels.empty()) cmd += " --labels " + Quote(labels);
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

struct CorpusDoc {
  std::string id;
  std::string text;
};

inline std::vector<CorpusDoc> ReadCorpus(const std::string& path) {
  std::vector<CorpusDoc> docs;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    docs.push_back({j["id"].get<std::string>(), j["text"].get<std::string>()});
  }
  return docs;
}

// {"text": t} per line.
inline std::string TextsAsJsonl(const std::vector<std::string>& texts) {
  std::string s;
  for (const std::string& t : texts) {
    s += "{\"text\":";
    AppendJsonString(&s, t);
    s += "}\n";
  }
  return s;
}

inline std::vector<nlohmann::json> ParseJsonLines(const std::string& data) {
  std::vector<nlohmann::json> out;
  std::istringstream in(data);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// Random UTF-8 texts that stress tokenization and lowercasing: other
// scripts' letters and digits, combining marks, full-width forms, 'İ', 'ẞ',
// Σ in many contexts, digits like '²' '٣', underscores, emoji, CJK,
// whitespace variants, salted with `words` in odd casings.
inline std::vector<std::string> GenerateTexts(size_t count, const std::vector<std::string>& words, uint32_t seed) {
  static const char* const kPieces[] = {" ",
                                        " ",
                                        " ",
                                        "  ",
                                        "\t",
                                        "\n",
                                        "\r\n",
                                        "\u00a0",
                                        "\u2003",
                                        "\u3000",
                                        "\u2028",
                                        "\x1c",
                                        "\x1f",
                                        "\u0085",
                                        ".",
                                        ",",
                                        "'",
                                        "\u2019",
                                        "\"",
                                        "-",
                                        "\u2014",
                                        "\u2026",
                                        "(",
                                        ")",
                                        "!",
                                        "?",
                                        ":",
                                        ";",
                                        "_",
                                        "__",
                                        "a_b",
                                        "0",
                                        "42",
                                        "\u00b2",
                                        "\u00b3",
                                        "\u0663",
                                        "\u0967",
                                        "\u2155",
                                        "\u216b",
                                        "\u2460",
                                        "\uff11",
                                        "\U0001d7d8",
                                        "\u0130",
                                        "\u0130stanbul",
                                        "\u1e9e",
                                        "\u00df",
                                        "\u03a3",
                                        "\u03a3",
                                        "\u03a3\u03a3",
                                        "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3",
                                        "\u03c3",
                                        "\u03c2",
                                        "\u0391",
                                        "A\u03a3",
                                        "\u03a3A",
                                        "a\u0345\u03a3",
                                        "A\u00ad\u03a3",
                                        "A'\u03a3",
                                        "A.\u03a3",
                                        "A:\u03a3b",
                                        "\u0301",
                                        "\u0307",
                                        "\u0345",
                                        "\u02b0",
                                        "\u00b7",
                                        "e\u0301",
                                        "\u00c9",
                                        "\u00e9",
                                        "\u0152uvre",
                                        "\u00c5ngstr\u00f6m",
                                        "\u212b",
                                        "\u212a",
                                        "\u2126",
                                        "\u0178",
                                        "\u01c5",
                                        "\u01c4",
                                        "\u1f88",
                                        "\u1fbc",
                                        "\uff21\uff22\uff23",
                                        "\uff41",
                                        "\u0410\u0411\u0412",
                                        "\u0436\u0437",
                                        "\u05d0\u05d1",
                                        "\u0627\u0644",
                                        "\u4e2d\u6587",
                                        "\u3042",
                                        "\u30ab\u30bf",
                                        "\ud55c",
                                        "\u0e01",
                                        "\U0001f600",
                                        "\U0001f1eb\U0001f1f7",
                                        "\u2764\ufe0f",
                                        "\U00010400",
                                        "\U00010428",
                                        "\U0001e900",
                                        "\u13a0",
                                        "\uab70",
                                        "\u2c2f",
                                        "\u0587",
                                        "\ufb00",
                                        "\u0149",
                                        "\u1e96",
                                        "\u0390",
                                        "\u1f50",
                                        "\u2160\u2161",
                                        "\u24b6",
                                        "\u24d0",
                                        "\u00aa",
                                        "\u00ba",
                                        "\u00b5",
                                        "\u0131",
                                        "I",
                                        "i",
                                        "\u200b",
                                        "\u200d",
                                        "\ufeff",
                                        "\u00ad",
                                        "\x01",
                                        "\u007f",
                                        "\u0080",
                                        "\U0010ffff",
                                        "\ufffd",
                                        "\u0903",
                                        "\u0bcd",
                                        "\U000e0041"};
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  std::vector<std::string> texts;
  for (size_t t = 0; t < count; ++t) {
    std::string s;
    size_t parts = 1 + pick(60);
    for (size_t p = 0; p < parts; ++p) {
      if (pick(80) == 0) s.push_back('\0');  // (a NUL cannot sit in kPieces' C strings)
      if (!words.empty() && pick(3) == 0) {
        std::string w = words[pick(words.size())];
        switch (pick(5)) {
          case 0:
            for (char& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            break;
          case 1:
            if (!w.empty()) w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
            break;
          case 2:
            for (size_t k = 0; k < w.size(); k += 2)
              w[k] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[k])));
            break;
          default:
            break;
        }
        s += w;
      } else {
        s += kPieces[pick(std::size(kPieces))];
      }
    }
    texts.push_back(std::move(s));
  }
  return texts;
}

}  // namespace sagaflow::text::testing
