// Files for tests: a scratch directory per test object, and whole-file reads
// and writes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace sagaflow::testing {

// A fresh directory under the system's temporary directory (unique per
// process and object, so tests that ctest runs in parallel never share
// files), removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The path of `name` in the directory (not created).
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The file's bytes; "" when it cannot be read.
std::string ReadFile(const std::string& path);
// Replaces the file's contents with `data`.
void WriteFile(const std::string& path, std::string_view data);

}  // namespace sagaflow::testing
