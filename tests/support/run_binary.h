// Runs the built sagaflow binary from a test and captures what it printed.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "support/scratch_dir.h"
#include "text/python_reference_testing.h"

namespace sagaflow::testing {

struct CommandOutcome {
  int status;  // exit status, -1 if it did not exit normally
  std::string out, err;
};

// `env` is prepended to the command line ("NAME=value ..."); `stdin_file`
// (if any) is its standard input. `args` are shell words, quoted by the caller.
inline CommandOutcome RunSagaflow(const std::string& binary, const std::string& args, const std::string& env = "",
                                  const std::string& stdin_file = "") {
  using text::testing::Quote;
  ScratchDir dir;
  const std::string out = dir.File("out"), err = dir.File("err");
  std::string cmd = env + " " + Quote(binary) + " " + args + " > " + Quote(out) + " 2> " + Quote(err);
  if (!stdin_file.empty()) cmd += " < " + Quote(stdin_file);
  const int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ReadFile(out), ReadFile(err)};
}

}  // namespace sagaflow::testing
