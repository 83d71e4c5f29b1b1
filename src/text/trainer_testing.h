// Test helpers shared by the trainer's tests: running a Python script with
// Debian's Python (scikit-learn, numpy) and exchanging files with it.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/scratch_dir.h"
#include "support/shared_data.h"

namespace sagaflow::text::testing {

using ::sagaflow::testing::ReadFile;
using ::sagaflow::testing::ScratchDir;
using ::sagaflow::testing::WriteFile;

// Runs `script` with sagaflow::testing::Python() and `args`; returns its
// stdout. A non-zero exit is a test failure (stderr goes to the test log).
inline std::string RunPython(const ScratchDir& dir, const std::string& script, const std::vector<std::string>& args) {
  const std::string path = dir.File("script.py");
  WriteFile(path, script);
  std::string command = "'" + sagaflow::testing::Python() + "' -W ignore '" + path + "'";
  for (const std::string& a : args) command += " '" + a + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return "";
  }
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << " failed";
  return out;
}

inline std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> lines;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(line);
  return lines;
}

}  // namespace sagaflow::text::testing
