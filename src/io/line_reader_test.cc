#include "io/line_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

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

}  // namespace
}  // namespace sagaflow::io
