// LineReader: reads newline-delimited records from a file descriptor in large
// blocks, without copying lines that fit the block. Lines longer than
// max_line_bytes are reported as too long and skipped without being buffered,
// so a hostile input cannot exhaust memory.
//
// Every returned view stays valid until the next call to Next(), and is
// followed in memory by at least kPadding readable bytes, so it can be handed
// to simdjson as padded input without a copy.
//
// Not thread-safe; one reader per input.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sagaflow::io {

class LineReader {
 public:
  static constexpr size_t kPadding = 64;  // >= SIMDJSON_PADDING

  enum class Kind { kLine, kTooLong, kEnd };
  struct Line {
    Kind kind = Kind::kEnd;
    std::string_view text;  // without the trailing '\n' (and '\r' before it)
    uint64_t number = 0;    // 1-based line number
    uint64_t offset = 0;    // byte offset of the line's first byte
  };

  // Takes ownership of fd when owns_fd is true.
  LineReader(int fd, bool owns_fd, size_t max_line_bytes = 16 << 20);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Opens `path`, or stdin for "-".
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path, size_t max_line_bytes = 16 << 20);

  // Skips the first `bytes` bytes of input (used to resume a file source at a
  // committed offset). Must be called before the first Next().
  Status SkipTo(uint64_t byte_offset, uint64_t line_number);

  // Reads the next line. Returns an I/O error status on read failure.
  Status Next(Line* line);

 private:
  Status Fill();  // reads more bytes after compacting the buffer
  // Hands out the line of `len` bytes at begin_ (followed by `terminator`
  // newline bytes; dropped if too_long) and consumes both.
  void Emit(Line* line, uint64_t start_offset, size_t len, size_t terminator, bool too_long);
  int fd_;
  bool owns_fd_;
  size_t max_line_;
  std::unique_ptr<char[]> buf_;
  size_t cap_;        // usable capacity (excluding padding)
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last valid byte
  bool eof_ = false;
  uint64_t line_no_ = 0;
  uint64_t consumed_ = 0;  // absolute offset of buf_[begin_]
};

}  // namespace sagaflow::io
