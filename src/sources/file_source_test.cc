#include "sources/file_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

namespace sagaflow::sources {
namespace {

namespace fs = std::filesystem;

class FakeCheckpoints : public CheckpointReader {
 public:
  Result<std::optional<Checkpoint>> LoadCheckpoint(std::string_view key) override {
    auto it = stored.find(std::string(key));
    if (it == stored.end()) return std::optional<Checkpoint>();
    return std::optional<Checkpoint>(it->second);
  }
  std::map<std::string, Checkpoint> stored;
};

struct Read {
  std::vector<Record> records;
  std::vector<std::string> payloads;
};

Read ReadAll(Source& s) {
  Read r;
  Record rec;
  for (;;) {
    auto n = s.Next(&rec);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == Source::ReadResult::kEnd) break;
    r.records.push_back(rec);
    r.payloads.emplace_back(rec.payload);
  }
  return r;
}

Checkpoint After(const Record& r, std::string_view payload) { return {r.position, r.line, Fnv1a64(payload)}; }

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sagaflow-source-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path dir_;
};

TEST_F(FileSourceTest, ReadsLinesWithPositionsSkippingBlankOnes) {
  std::string p = Write("e.jsonl", "{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}");
  auto s = FileSource::Open(p, 1 << 20);
  ASSERT_TRUE(s.ok());
  FakeCheckpoints cps;
  ASSERT_TRUE((*s)->Start(&cps).ok());
  Read r = ReadAll(**s);
  ASSERT_EQ(r.payloads.size(), 3u);
  EXPECT_EQ(r.payloads[0], "{\"a\":1}");
  EXPECT_EQ(r.records[0].position, 0u);
  EXPECT_EQ(r.records[0].line, 1u);
  EXPECT_EQ(r.payloads[1], "{\"b\":2}");
  EXPECT_EQ(r.records[1].position, 13u);
  EXPECT_EQ(r.records[1].line, 4u);
  EXPECT_EQ(r.payloads[2], "{\"c\":3}");  // last line without a newline
  EXPECT_EQ(r.records[2].line, 5u);
}

TEST_F(FileSourceTest, IdentityIsTheFirstLineNotThePath) {
  std::string content = "{\"first\":1}\n{\"second\":2}\n";
  auto a = FileSource::Open(Write("a.jsonl", content), 1 << 20);
  auto b = FileSource::Open(Write("b.jsonl", content + "{\"third\":3}\n"), 1 << 20);
  auto c = FileSource::Open(Write("c.jsonl", "{\"other\":1}\n"), 1 << 20);
  auto empty = FileSource::Open(Write("d.jsonl", ""), 1 << 20);
  FakeCheckpoints cps;
  for (auto* s : {&a, &b, &c, &empty}) ASSERT_TRUE((**s)->Start(&cps).ok());
  EXPECT_EQ((*a)->StreamKey(0), (*b)->StreamKey(0));
  EXPECT_NE((*a)->StreamKey(0), (*c)->StreamKey(0));
  EXPECT_EQ((*a)->StreamKey(0), FileSource::KeyForFirstLine("{\"first\":1}", false));
  EXPECT_EQ((*empty)->StreamKey(0), "file:empty");
  EXPECT_TRUE(ReadAll(**empty).records.empty());
}

TEST_F(FileSourceTest, ResumesAfterTheCommittedRecord) {
  std::string content;
  for (int i = 0; i < 10; ++i) content += "{\"n\":" + std::to_string(i) + "}\n";
  std::string p = Write("e.jsonl", content);
  auto first = FileSource::Open(p, 1 << 20);
  FakeCheckpoints cps;
  ASSERT_TRUE((*first)->Start(&cps).ok());
  Read all = ReadAll(**first);
  ASSERT_EQ(all.records.size(), 10u);
  cps.stored[(*first)->StreamKey(0)] = After(all.records[3], all.payloads[3]);

  auto again = FileSource::Open(p, 1 << 20);
  ASSERT_TRUE((*again)->Start(&cps).ok());
  Read rest = ReadAll(**again);
  ASSERT_EQ(rest.payloads.size(), 6u);
  EXPECT_EQ(rest.payloads[0], "{\"n\":4}");
  EXPECT_EQ(rest.records[0].line, 5u);
  EXPECT_EQ(rest.records[0].position, all.records[4].position);
  EXPECT_EQ((*again)->SkippedRecords(), 0u);  // a regular file seeks

  // All committed: nothing left.
  cps.stored[(*first)->StreamKey(0)] = After(all.records[9], all.payloads[9]);
  auto done = FileSource::Open(p, 1 << 20);
  ASSERT_TRUE((*done)->Start(&cps).ok());
  EXPECT_TRUE(ReadAll(**done).records.empty());
}

TEST_F(FileSourceTest, PipeResumesByReadingThrough) {
  std::string content;
  for (int i = 0; i < 1000; ++i) content += "{\"n\":" + std::to_string(i) + "}\n";
  std::string p = Write("e.jsonl", content);
  auto file = FileSource::Open(p, 1 << 20);
  FakeCheckpoints cps;
  ASSERT_TRUE((*file)->Start(&cps).ok());
  Read all = ReadAll(**file);
  cps.stored[(*file)->StreamKey(0)] = After(all.records[499], all.payloads[499]);

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::thread writer([&] {
    size_t off = 0;
    while (off < content.size()) {
      ssize_t n = ::write(fds[1], content.data() + off, std::min<size_t>(4096, content.size() - off));
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  int saved = ::dup(0);
  ::dup2(fds[0], 0);
  ::close(fds[0]);
  auto pipe = FileSource::Open("-", 1 << 20);
  ASSERT_TRUE(pipe.ok());
  ASSERT_TRUE((*pipe)->Start(&cps).ok());
  EXPECT_EQ((*pipe)->StreamKey(0), (*file)->StreamKey(0));
  Read rest = ReadAll(**pipe);
  writer.join();
  ::dup2(saved, 0);
  ::close(saved);
  ASSERT_EQ(rest.payloads.size(), 500u);
  EXPECT_EQ(rest.payloads.front(), "{\"n\":500}");
  EXPECT_EQ(rest.records.front().position, all.records[500].position);
  EXPECT_EQ((*pipe)->SkippedRecords(), 500u);
}

TEST_F(FileSourceTest, RefusesADifferentInputWithTheSameFirstLine) {
  std::string p = Write("e.jsonl", "{\"same\":1}\n{\"x\":1}\n{\"y\":1}\n");
  auto s = FileSource::Open(p, 1 << 20);
  FakeCheckpoints cps;
  ASSERT_TRUE((*s)->Start(&cps).ok());
  Read all = ReadAll(**s);
  cps.stored[(*s)->StreamKey(0)] = After(all.records[1], all.payloads[1]);

  // Same first line, different second line of the same length.
  std::string q = Write("f.jsonl", "{\"same\":1}\n{\"z\":1}\n{\"y\":1}\n");
  auto other = FileSource::Open(q, 1 << 20);
  ASSERT_TRUE((*other)->Start(&cps).ok());
  Record rec;
  auto n = (*other)->Next(&rec);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("differs"), std::string::npos) << n.status().message();

  // Shorter than the checkpoint.
  std::string r = Write("g.jsonl", "{\"same\":1}\n");
  auto shorter = FileSource::Open(r, 1 << 20);
  ASSERT_TRUE((*shorter)->Start(&cps).ok());
  n = (*shorter)->Next(&rec);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("ends before"), std::string::npos) << n.status().message();

  // Same first line, the committed position falls inside a line.
  std::string t = Write("h.jsonl", "{\"same\":1}\n{\"longer line\":1}\n");
  auto misaligned = FileSource::Open(t, 1 << 20);
  ASSERT_TRUE((*misaligned)->Start(&cps).ok());
  n = (*misaligned)->Next(&rec);
  EXPECT_FALSE(n.ok());
}

TEST_F(FileSourceTest, TooLongLinesAreRecordsWithoutPayload) {
  std::string p = Write("e.jsonl", "{\"a\":1}\n" + std::string(300, 'x') + "\n{\"b\":2}\n");
  auto s = FileSource::Open(p, 100);
  FakeCheckpoints cps;
  ASSERT_TRUE((*s)->Start(&cps).ok());
  Read r = ReadAll(**s);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[1].kind, Record::Kind::kTooLarge);
  EXPECT_EQ(r.records[1].line, 2u);
  EXPECT_EQ(r.payloads[2], "{\"b\":2}");

  // Resuming after a too-large record (digest 0) checks its position only.
  cps.stored[(*s)->StreamKey(0)] = Checkpoint{r.records[1].position, 2, 0};
  auto again = FileSource::Open(p, 100);
  ASSERT_TRUE((*again)->Start(&cps).ok());
  Read rest = ReadAll(**again);
  ASSERT_EQ(rest.payloads.size(), 1u);
  EXPECT_EQ(rest.payloads[0], "{\"b\":2}");
}

TEST_F(FileSourceTest, StopEndsReading) {
  std::string p = Write("e.jsonl", "{\"a\":1}\n{\"b\":2}\n");
  auto s = FileSource::Open(p, 1 << 20);
  FakeCheckpoints cps;
  ASSERT_TRUE((*s)->Start(&cps).ok());
  (*s)->RequestStop();
  Record rec;
  auto n = (*s)->Next(&rec);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Source::ReadResult::kEnd);
}

TEST_F(FileSourceTest, OpenErrors) {
  EXPECT_FALSE(FileSource::Open((dir_ / "missing.jsonl").string(), 100).ok());
  EXPECT_FALSE(FileSource::Open(dir_.string(), 100).ok());
}

}  // namespace
}  // namespace sagaflow::sources
