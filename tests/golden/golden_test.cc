// Data-driven golden tests in the manner of DuckDB's sqllogictest: each
// tests/golden/*.test file writes events files, runs the real `sagaflow`
// binary on them and compares query results with the expected JSON written
// below each query. The format is described in tests/golden/README.md.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Splits on spaces; "double quotes" group words.
std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) out.push_back(cur);
  return out;
}

// "bytes ..." lines: %XX is a byte, %% a percent sign.
std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 1 < s.size() && s[i + 1] == '%') {
      out += '%';
      ++i;
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Output {
  int status;
  std::string out, err;
};

class GoldenFile {
 public:
  GoldenFile(fs::path file, fs::path work) : file_(std::move(file)), work_(std::move(work)) {
    model_ = (file_.parent_path() / "model.json").string();
    entities_ = (file_.parent_path() / "entities.tsv").string();
  }

  void Run() {
    std::ifstream in(file_);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    for (size_t i = 0; i < lines.size();) {
      const std::string& line = lines[i];
      const std::string where = file_.filename().string() + ":" + std::to_string(i + 1);
      if (line.empty() || line[0] == '#') {
        ++i;
        continue;
      }
      std::vector<std::string> w = Words(line);
      if (w[0] == "model" || w[0] == "entities") {
        ASSERT_EQ(w.size(), 2u) << where;
        (w[0] == "model" ? model_ : entities_) = (file_.parent_path() / w[1]).string();
        ++i;
      } else if (w[0] == "events") {
        ASSERT_GE(w.size(), 2u) << where;
        const bool append = w.size() > 2 && w[2] == "append";
        std::string content;
        for (++i; i < lines.size() && lines[i] != "end"; ++i) {
          content += lines[i].rfind("bytes ", 0) == 0 ? PercentDecode(lines[i].substr(6)) : lines[i];
          content += '\n';
        }
        ASSERT_LT(i, lines.size()) << where << ": events block without \"end\"";
        ++i;
        std::ofstream(work_ / (w[1] + ".jsonl"), append ? std::ios::app | std::ios::binary : std::ios::binary)
            << content;
      } else if (w[0] == "run" || w[0] == "run-error" || w[0] == "query" || w[0] == "query-error") {
        std::vector<std::string> expected_lines;
        size_t j = i + 1;
        if (j < lines.size() && lines[j] == "----") {
          for (++j; j < lines.size() && !lines[j].empty(); ++j) expected_lines.push_back(lines[j]);
        }
        std::string expected;
        for (const auto& l : expected_lines) expected += l + "\n";
        Check(w, expected, where);
        i = j;
      } else {
        FAIL() << where << ": unknown directive \"" << w[0] << "\"";
      }
    }
  }

 private:
  Output Exec(const std::vector<std::string>& args) {
    std::string cmd = Quote(SAGAFLOW_BINARY);
    for (const auto& a : args) cmd += " " + Quote(a);
    const fs::path out = work_ / "stdout", err = work_ / "stderr";
    cmd += " > " + Quote(out.string()) + " 2> " + Quote(err.string());
    int rc = std::system(cmd.c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, Slurp(out), Slurp(err)};
  }

  std::string Store() const { return "sqlite:" + (work_ / "store.db").string(); }

  std::vector<std::string> RunArgs(const std::string& events, std::vector<std::string>::const_iterator flags,
                                   std::vector<std::string>::const_iterator end) {
    std::vector<std::string> args = {"run",       "--source",   (work_ / (events + ".jsonl")).string(),
                                     "--store",   Store(),      "--model",
                                     model_,      "--entities", entities_,
                                     "--summary", "json",       "--progress",
                                     "never"};
    args.insert(args.end(), flags, end);
    return args;
  }

  static std::string Trimmed(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

  void Check(const std::vector<std::string>& w, const std::string& expected, const std::string& where) {
    if (w[0] == "run-error") {
      // run-error EXIT NAME [flags]: the exit status and a part of stderr.
      ASSERT_GE(w.size(), 3u) << where;
      Output o = Exec(RunArgs(w[2], w.begin() + 3, w.end()));
      EXPECT_EQ(o.status, std::stoi(w[1])) << where << ": " << o.err;
      EXPECT_NE(o.err.find(Trimmed(expected)), std::string::npos) << where << ": stderr was: " << o.err;
      return;
    }
    if (w[0] == "run") {
      ASSERT_GE(w.size(), 2u) << where;
      Output o = Exec(RunArgs(w[1], w.begin() + 2, w.end()));
      ASSERT_EQ(o.status, 0) << where << ": " << o.err;
      if (expected.empty()) return;
      // The expected object lists the summary fields that must match.
      json want = json::parse(expected), got = json::parse(o.out);
      for (auto& [key, value] : want.items()) {
        EXPECT_EQ(got[key], value) << where << ": summary field \"" << key << "\"\n" << o.out;
      }
      return;
    }
    if (w[0] == "query") {
      std::vector<std::string> args = {"query", "--store", Store(), "--format", "json"};
      args.insert(args.end(), w.begin() + 1, w.end());
      Output o = Exec(args);
      ASSERT_EQ(o.status, 0) << where << ": " << o.err;
      json got = json::parse(o.out), want = json::parse(expected);
      EXPECT_EQ(got, want) << where << "\n  expected: " << want.dump() << "\n  actual:   " << got.dump();
      return;
    }
    // query-error EXIT args...: the exit status and a part of stderr.
    ASSERT_GE(w.size(), 2u) << where;
    std::vector<std::string> args = {"query", "--store", Store(), "--format", "json"};
    args.insert(args.end(), w.begin() + 2, w.end());
    Output o = Exec(args);
    EXPECT_EQ(o.status, std::stoi(w[1])) << where << ": " << o.err;
    const std::string want = Trimmed(expected);
    EXPECT_NE(o.err.find(want), std::string::npos) << where << ": stderr was: " << o.err;
    EXPECT_TRUE(o.out.empty()) << where << ": a failed query printed " << o.out;
  }

  fs::path file_, work_;
  std::string model_, entities_;
};

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(SAGAFLOW_GOLDEN_DIR)) {
    if (e.path().extension() == ".test") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, File) {
  fs::path work = fs::temp_directory_path() / ("sagaflow-golden-" + std::to_string(::getpid()) + "-" + GetParam());
  fs::remove_all(work);
  fs::create_directories(work);
  GoldenFile(fs::path(SAGAFLOW_GOLDEN_DIR) / (GetParam() + ".test"), work).Run();
  if (!HasFailure()) fs::remove_all(work);
}

INSTANTIATE_TEST_SUITE_P(Files, Golden, ::testing::ValuesIn(GoldenFiles()),
                         [](const auto& info) { return info.param; });

}  // namespace
