#include "io/line_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

namespace sagaflow::io {
namespace {

// Feeds `data` through a pipe so reads arrive in arbitrary chunks.
std::vector<LineReader::Line> ReadAll(const std::string& data, size_t max_line, std::vector<std::string>* texts) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  std::thread writer([&] {
    for (size_t i = 0; i < data.size(); i += 7) {
      size_t n = std::min<size_t>(7, data.size() - i);
      EXPECT_EQ(::write(fds[1], data.data() + i, n), static_cast<ssize_t>(n));
    }
    ::close(fds[1]);
  });
  LineReader reader(fds[0], true, max_line);
  std::vector<LineReader::Line> out;
  for (;;) {
    LineReader::Line l;
    EXPECT_TRUE(reader.Next(&l).ok());
    if (l.kind == LineReader::Kind::kEnd) break;
    out.push_back(l);
    texts->emplace_back(l.text);
  }
  writer.join();
  return out;
}

TEST(LineReader, SplitsLinesAndTracksNumbersAndOffsets) {
  std::vector<std::string> texts;
  auto lines = ReadAll("a\nbc\r\n\nlast", 100, &texts);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(texts, (std::vector<std::string>{"a", "bc", "", "last"}));
  EXPECT_EQ(lines[1].number, 2u);
  EXPECT_EQ(lines[1].offset, 2u);
  EXPECT_EQ(lines[3].offset, 7u);
}

TEST(LineReader, SkipsOverlongLinesWithoutLosingTheNext) {
  std::string big(5000, 'x');
  std::vector<std::string> texts;
  auto lines = ReadAll("ok\n" + big + "\nafter\n" + big, 1000, &texts);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].kind, LineReader::Kind::kLine);
  EXPECT_EQ(lines[1].kind, LineReader::Kind::kTooLong);
  EXPECT_EQ(lines[2].kind, LineReader::Kind::kLine);
  EXPECT_EQ(texts[2], "after");
  EXPECT_EQ(lines[2].number, 3u);
  EXPECT_EQ(lines[2].offset, 3u + 5001u);
  EXPECT_EQ(lines[3].kind, LineReader::Kind::kTooLong);
}

// Generated inputs (line lengths around the limit and the buffer size, CRs,
// a last line with or without its newline) against a plain split.
TEST(LineReader, EqualsAPlainSplitOnGeneratedInputs) {
  std::mt19937 rng(20261127);
  for (int round = 0; round < 300; ++round) {
    const size_t max_line = 1 + rng() % 200;
    std::string data;
    const int lines = static_cast<int>(rng() % 12);
    for (int i = 0; i < lines; ++i) {
      const unsigned pick = rng() % 3;
      size_t len = pick == 0 ? max_line + rng() % 3 - 1 : pick == 1 ? rng() % 4 : rng() % (2 * max_line + 2);
      for (size_t k = 0; k < len; ++k) data.push_back(rng() % 9 == 0 ? '\r' : static_cast<char>('a' + rng() % 26));
      if (i + 1 < lines || rng() % 2) data.push_back('\n');
    }
    struct Expected {
      LineReader::Kind kind;
      std::string text;
      uint64_t offset;
    };
    std::vector<Expected> expected;
    for (size_t start = 0; start < data.size();) {
      size_t nl = data.find('\n', start);
      size_t end = nl == std::string::npos ? data.size() : nl;
      std::string text = data.substr(start, end - start);
      if (text.size() > max_line) {
        expected.push_back({LineReader::Kind::kTooLong, "", start});
      } else {
        if (!text.empty() && text.back() == '\r') text.pop_back();
        expected.push_back({LineReader::Kind::kLine, text, start});
      }
      start = nl == std::string::npos ? data.size() : nl + 1;
    }
    std::vector<std::string> texts;
    auto got = ReadAll(data, max_line, &texts);
    ASSERT_EQ(got.size(), expected.size()) << "round " << round;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].kind, expected[i].kind) << "round " << round << " line " << i + 1;
      EXPECT_EQ(texts[i], expected[i].text) << "round " << round << " line " << i + 1;
      EXPECT_EQ(got[i].offset, expected[i].offset) << "round " << round << " line " << i + 1;
      EXPECT_EQ(got[i].number, i + 1);
    }
  }
}

}  // namespace
}  // namespace sagaflow::io
