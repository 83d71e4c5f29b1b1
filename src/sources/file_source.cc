#include "sources/file_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sagaflow::sources {

namespace {
constexpr size_t kIdentityBytes = 4096;
using Kind = io::LineReader::Kind;
}  // namespace

uint64_t Fnv1a64(std::string_view bytes) noexcept {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return h;
}

std::string FileSource::KeyForFirstLine(std::optional<std::string_view> first_line, bool too_long) {
  if (too_long) return "file:first-line-too-long";
  if (!first_line) return "file:empty";
  return fmt::format("file:{:016x}", Fnv1a64(first_line->substr(0, kIdentityBytes)));
}

FileSource::FileSource(std::string path, int fd, bool owns_fd, bool seekable, size_t max_record_bytes)
    : path_(std::move(path)), fd_(fd), owns_fd_(owns_fd), seekable_(seekable), max_record_bytes_(max_record_bytes) {}

FileSource::~FileSource() {
  reader_.reset();
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path, size_t max_record_bytes) {
  int fd = 0;
  bool owns = false;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IoError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    owns = true;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = Status::IoError(fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
    if (owns) ::close(fd);
    return s;
  }
  if (S_ISDIR(st.st_mode)) {
    if (owns) ::close(fd);
    return Status::InvalidArgument(path + " is a directory, not a JSONL file");
  }
  return std::unique_ptr<FileSource>(new FileSource(path, fd, owns, S_ISREG(st.st_mode), max_record_bytes));
}

std::string FileSource::Describe() const { return path_ == "-" ? "file:- (stdin)" : "file:" + path_; }

void FileSource::RequestStop() { stop_.store(true, std::memory_order_relaxed); }

Status FileSource::Start(CheckpointReader* committed) {
  // Identity first: the first line. A regular file is read through a
  // throw-away reader and then re-read from the start or the committed
  // record; a pipe keeps its first line pending.
  io::LineReader::Line first;
  if (seekable_) {
    if (::lseek(fd_, 0, SEEK_SET) < 0) return Status::IoError(fmt::format("seek {}: {}", path_, std::strerror(errno)));
    io::LineReader probe(fd_, false, max_record_bytes_);
    SAGAFLOW_RETURN_IF_ERROR(probe.Next(&first));
    key_ = KeyForFirstLine(first.kind == Kind::kEnd ? std::nullopt : std::optional<std::string_view>(first.text),
                           first.kind == Kind::kTooLong);
    reader_ = std::make_unique<io::LineReader>(fd_, false, max_record_bytes_);
  } else {
    reader_ = std::make_unique<io::LineReader>(fd_, false, max_record_bytes_);
    SAGAFLOW_RETURN_IF_ERROR(reader_->Next(&first));
    key_ = KeyForFirstLine(first.kind == Kind::kEnd ? std::nullopt : std::optional<std::string_view>(first.text),
                           first.kind == Kind::kTooLong);
    pending_ = true;
    pending_line_ = first;
  }

  auto cp = committed->LoadCheckpoint(key_);
  if (!cp.ok()) return cp.status();
  resume_ = *cp;
  if (seekable_) {
    if (resume_) {
      // Seek to the committed record itself: Next() verifies and drops it.
      if (resume_->line == 0) return Status::Corruption(fmt::format("{}: checkpoint without a line number", key_));
      SAGAFLOW_RETURN_IF_ERROR(reader_->SkipTo(resume_->position, resume_->line - 1));
    } else {
      SAGAFLOW_RETURN_IF_ERROR(reader_->SkipTo(0, 0));
    }
  }
  return Status::Ok();
}

Status FileSource::ReadLine(io::LineReader::Line* line) {
  if (pending_) {
    pending_ = false;
    *line = pending_line_;
    return Status::Ok();
  }
  return reader_->Next(line);
}

Status FileSource::VerifyCommitted(const io::LineReader::Line& line) const {
  const Checkpoint& cp = *resume_;
  auto mismatch = [&](std::string_view what) {
    return Status::InvalidArgument(fmt::format(
        "{} is not the input committed as stream {} ({}); it shares only its first line. Use another store, "
        "or give the input a different first line",
        Describe(), key_, what));
  };
  if (line.kind == Kind::kEnd) {
    return mismatch(fmt::format("it ends before the committed line {} at byte {}", cp.line, cp.position));
  }
  if (line.offset != cp.position || line.number != cp.line) {
    return mismatch(fmt::format("no line {} starts at byte {}", cp.line, cp.position));
  }
  if (cp.digest != 0) {
    if (line.kind != Kind::kLine || Fnv1a64(line.text) != cp.digest) {
      return mismatch(fmt::format("line {} differs from the committed one", cp.line));
    }
  }
  return Status::Ok();
}

Result<Source::ReadResult> FileSource::Next(Record* record) {
  io::LineReader::Line line;
  for (;;) {
    if (stop_.load(std::memory_order_relaxed)) return ReadResult::kEnd;
    SAGAFLOW_RETURN_IF_ERROR(ReadLine(&line));
    if (resume_) {
      // Pass the records up to the committed one (a pipe reads through them).
      if (line.kind != Kind::kEnd && line.offset < resume_->position) {
        ++skipped_;
        continue;
      }
      SAGAFLOW_RETURN_IF_ERROR(VerifyCommitted(line));
      if (!seekable_) ++skipped_;
      resume_.reset();
      continue;
    }
    if (line.kind == Kind::kEnd) return ReadResult::kEnd;
    // Blank lines separate nothing in JSON Lines: not records.
    if (line.kind == Kind::kLine && line.text.find_first_not_of(" \t") == std::string_view::npos) continue;
    break;
  }
  record->stream = 0;
  record->position = line.offset;
  record->line = line.number;
  if (line.kind == Kind::kTooLong) {
    record->kind = Record::Kind::kTooLarge;
    record->payload = {};
    record->size = 0;  // unknown without buffering it
  } else {
    record->kind = Record::Kind::kPayload;
    record->payload = line.text;
    record->size = line.text.size();
  }
  return ReadResult::kRecord;
}

}  // namespace sagaflow::sources
