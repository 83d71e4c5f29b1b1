// FileSource: events as JSON lines from a file or standard input.
//
// Stream identity is the content, not the path (as Vector's checksum
// fingerprint): "file:" + the FNV-1a digest of the first line (at most its
// first 4 KiB). The same events moved, renamed or piped through stdin are
// recognised as the same stream and resume where they stopped; a file that
// grew keeps its identity and continues with its new lines. On resume the
// committed record must still be at its position with the same digest,
// otherwise Start()/Next() fail rather than skip into a different input.
//
// Regular files resume with a seek; pipes read through (and count) the
// records already committed.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "io/line_reader.h"
#include "sources/source.h"

namespace sagaflow::sources {

class FileSource final : public Source {
 public:
  // path: a file, or "-" for standard input. Records longer than
  // max_record_bytes are delivered as kTooLarge without being buffered.
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path, size_t max_record_bytes);
  ~FileSource() override;

  std::string Describe() const override;
  Status Start(CheckpointReader* committed) override;
  const std::string& StreamKey(uint32_t stream) const override { return key_; }
  Result<ReadResult> Next(Record* record) override;
  uint64_t SkippedRecords() const override { return skipped_; }
  void RequestStop() override;

  // The identity key of a stream whose first line is `first_line` (as
  // io::LineReader returns it); nullopt line = empty input, too_long = the
  // first line exceeded the limit.
  static std::string KeyForFirstLine(std::optional<std::string_view> first_line, bool too_long);

 private:
  FileSource(std::string path, int fd, bool owns_fd, bool seekable, size_t max_record_bytes);
  Status ReadLine(io::LineReader::Line* line);
  Status VerifyCommitted(const io::LineReader::Line& line) const;

  std::string path_;
  int fd_;
  bool owns_fd_;
  bool seekable_;
  size_t max_record_bytes_;
  std::string key_;
  std::unique_ptr<io::LineReader> reader_;
  std::optional<Checkpoint> resume_;  // committed record not yet passed
  bool pending_ = false;              // reader_ holds an unread line in pending_line_
  io::LineReader::Line pending_line_;
  uint64_t skipped_ = 0;
  std::atomic<bool> stop_{false};
};

}  // namespace sagaflow::sources
