// Test access to the throw-away ClickHouse server of the ctest fixture
// (scripts/clickhouse-test-server; its directory in
// SAGAFLOW_CLICKHOUSE_TEST_DIR). Without one, tests skip, except with
// CI=true, where they fail: CI must never pass by skipping.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "support/shared_data.h"

namespace sagaflow::sinks::clickhouse::testing {

// "HOST:PORT" of the test server's HTTP interface, or "" if there is none.
std::string TestServerAddress();
// A database name unique to this process and test, e.g. "t_1234_Writes".
std::string UniqueDatabase();

}  // namespace sagaflow::sinks::clickhouse::testing

#define SAGAFLOW_REQUIRE_CLICKHOUSE(var)                                                                  \
  std::string var = ::sagaflow::sinks::clickhouse::testing::TestServerAddress();                          \
  if ((var).empty()) {                                                                                    \
    if (::sagaflow::testing::InCi()) FAIL() << "no ClickHouse test server under CI=true";                 \
    GTEST_SKIP() << "no ClickHouse test server (run through ctest, or set SAGAFLOW_CLICKHOUSE_TEST_DIR)"; \
  }
