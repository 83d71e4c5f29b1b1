#include "support/shared_data.h"

#include <cstdlib>
#include <filesystem>

namespace sagaflow::testing {

std::string SharedDir() {
  const char* env = std::getenv("SAGAFLOW_SHARED");
  return env && *env ? env : SAGAFLOW_SHARED_DEFAULT;
}

std::string SharedPath(const std::string& relative) {
  std::filesystem::path p = std::filesystem::path(SharedDir()) / relative;
  return std::filesystem::exists(p) ? p.string() : std::string();
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::string SourceDir() { return SAGAFLOW_SOURCE_DIR; }

std::string Python() {
  const char* env = std::getenv("SAGAFLOW_PYTHON");
  return env && *env ? env : "/usr/bin/python3";
}

}  // namespace sagaflow::testing
