// Locating the read-only shared data (../shared: corpus, prototype model and
// its predictions) from tests. One setting: SAGAFLOW_SHARED (default: the
// directory beside the project). A missing file skips the test, except with
// CI=true, where it fails it: CI must never pass by skipping.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace sagaflow::testing {

std::string SharedDir();
// Full path of `relative` under SharedDir(), or "" when it does not exist.
std::string SharedPath(const std::string& relative);
bool InCi();
// Path to the project's source tree (for data/ and tools/).
std::string SourceDir();
// Path to Debian's Python with scikit-learn (SAGAFLOW_PYTHON, default /usr/bin/python3).
std::string Python();

}  // namespace sagaflow::testing

// Assigns the path of a shared file to `var`, or skips (fails under CI=true).
#define SAGAFLOW_REQUIRE_SHARED(var, relative)                                                             \
  std::string var = ::sagaflow::testing::SharedPath(relative);                                             \
  if ((var).empty()) {                                                                                     \
    if (::sagaflow::testing::InCi()) {                                                                     \
      FAIL() << "shared data missing under CI: " << ::sagaflow::testing::SharedDir() << "/" << (relative); \
    }                                                                                                      \
    GTEST_SKIP() << "shared data not found: " << ::sagaflow::testing::SharedDir() << "/" << (relative);    \
  }
