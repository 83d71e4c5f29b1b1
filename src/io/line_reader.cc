#include "io/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sagaflow::io {

namespace {
constexpr size_t kBlock = 1 << 20;
}

LineReader::LineReader(int fd, bool owns_fd, size_t max_line_bytes)
    : fd_(fd), owns_fd_(owns_fd), max_line_(max_line_bytes) {
  cap_ = std::max(kBlock, max_line_ + 1);
  buf_.reset(new char[cap_ + kPadding]);
  std::memset(buf_.get() + cap_, 0, kPadding);
}

LineReader::~LineReader() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path, size_t max_line_bytes) {
  if (path == "-") return std::make_unique<LineReader>(0, false, max_line_bytes);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  return std::make_unique<LineReader>(fd, true, max_line_bytes);
}

Status LineReader::SkipTo(uint64_t byte_offset, uint64_t line_number) {
  if (::lseek(fd_, static_cast<off_t>(byte_offset), SEEK_SET) < 0) {
    // Not seekable (a pipe): read and discard.
    uint64_t left = byte_offset;
    while (left > 0) {
      ssize_t n = ::read(fd_, buf_.get(), std::min<uint64_t>(cap_, left));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IoError(std::string("read: ") + std::strerror(errno));
      if (n == 0) return Status::IoError("input is shorter than the committed offset");
      left -= static_cast<uint64_t>(n);
    }
  }
  consumed_ = byte_offset;
  line_no_ = line_number;
  return Status::Ok();
}

Status LineReader::Fill() {
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ < cap_) {
    ssize_t n = ::read(fd_, buf_.get() + end_, cap_ - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError(std::string("read: ") + std::strerror(errno));
    if (n == 0) {
      eof_ = true;
      break;
    }
    end_ += static_cast<size_t>(n);
    break;  // hand back what we have; the caller asks again if needed
  }
  return Status::Ok();
}

void LineReader::Emit(Line* line, uint64_t start_offset, size_t len, size_t terminator, bool too_long) {
  ++line_no_;
  line->number = line_no_;
  line->offset = start_offset;
  const size_t consumed = len + terminator;
  if (too_long || len > max_line_) {
    line->kind = Kind::kTooLong;
    line->text = {};
  } else {
    if (len > 0 && buf_[begin_ + len - 1] == '\r') --len;
    line->kind = Kind::kLine;
    // Padding contract: bytes after the view are readable. They are within
    // buf_ + cap_ + kPadding because len < cap_.
    line->text = std::string_view(buf_.get() + begin_, len);
  }
  consumed_ += consumed;
  begin_ += consumed;
}

Status LineReader::Next(Line* line) {
  bool too_long = false;
  uint64_t start_offset = consumed_;
  for (;;) {
    const char* base = buf_.get();
    const char* nl = static_cast<const char*>(std::memchr(base + begin_, '\n', end_ - begin_));
    if (nl != nullptr) {
      Emit(line, start_offset, static_cast<size_t>(nl - (base + begin_)), 1, too_long);
      return Status::Ok();
    }
    if (eof_) {
      if (begin_ == end_ && !too_long) {
        line->kind = Kind::kEnd;
        return Status::Ok();
      }
      // Last line without a trailing newline: zero the padding after it.
      std::memset(buf_.get() + end_, 0, std::min(kPadding, cap_ + kPadding - end_));
      Emit(line, start_offset, end_ - begin_, 0, too_long);
      return Status::Ok();
    }
    if (end_ - begin_ > max_line_) {
      // Drop what we have of this line and keep scanning for its end.
      too_long = true;
      consumed_ += end_ - begin_;
      begin_ = end_;
    }
    SAGAFLOW_RETURN_IF_ERROR(Fill());
  }
}

}  // namespace sagaflow::io
