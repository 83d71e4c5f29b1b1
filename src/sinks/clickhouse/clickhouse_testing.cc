#include "sinks/clickhouse/clickhouse_testing.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>

namespace sagaflow::sinks::clickhouse::testing {

std::string TestServerAddress() {
  const char* dir = std::getenv("SAGAFLOW_CLICKHOUSE_TEST_DIR");
  if (!dir || !*dir) return "";
  std::ifstream in(std::string(dir) + "/address");
  std::string address;
  std::getline(in, address);
  return address;
}

std::string UniqueDatabase() {
  std::string name = "t_" + std::to_string(::getpid()) + "_";
  for (char c : std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  }
  return name.substr(0, 64);
}

}  // namespace sagaflow::sinks::clickhouse::testing
