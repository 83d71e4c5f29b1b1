// `sagaflow validate` against the ClickHouse test server (18.16, the roles
// of docs/clickhouse.md as users.xml profiles): reachable, schema version,
// and whether the login may do what `run` does; nothing created.
#include <gtest/gtest.h>

#include "sinks/clickhouse/clickhouse_testing.h"
#include "support/run_binary.h"
#include "text/python_reference_testing.h"

namespace {

using sagaflow::text::testing::Quote;
using Outcome = sagaflow::testing::CommandOutcome;

Outcome Sagaflow(const std::string& args) { return sagaflow::testing::RunSagaflow(SAGAFLOW_BINARY, args); }

std::string Line(const std::string& out, const std::string& check) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 6 && line.compare(6, check.size() + 1, check + " ") == 0) return line;
  }
  return "";
}

TEST(ValidateClickHouseTest, SchemaAndPrivilegesOfEachRole) {
  SAGAFLOW_REQUIRE_CLICKHOUSE(address);
  const std::string store =
      " --store " + Quote("clickhouse://" + address + "/" + sagaflow::sinks::clickhouse::testing::UniqueDatabase());
  // Asked twice: validate did not create the database the first time.
  for (int i = 0; i < 2; ++i) {
    const Outcome fresh = Sagaflow("validate" + store);
    EXPECT_EQ(fresh.status, 0) << fresh.out << fresh.err;
    EXPECT_NE(Line(fresh.out, "store").find("ok    store             clickhouse://default@"), std::string::npos)
        << fresh.out;
    EXPECT_NE(Line(fresh.out, "store schema").find("does not exist: migrate (or run at start) creates it"),
              std::string::npos)
        << fresh.out;
  }
  // The writer role (allow_ddl=0) cannot apply the migrations a fresh store needs...
  const std::string writer = " --store-user sagaflow_writer --store-password sagaflow-writer-pw";
  const Outcome early = Sagaflow("validate" + store + writer);
  EXPECT_EQ(early.status, 1) << early.out;
  EXPECT_NE(Line(early.out, "store privileges").find("FAIL  store privileges  user sagaflow_writer has allow_ddl=0"),
            std::string::npos)
      << early.out;

  const Outcome migrate = Sagaflow("migrate" + store);
  ASSERT_EQ(migrate.status, 0) << migrate.err;
  const Outcome current = Sagaflow("validate" + store);
  EXPECT_EQ(current.status, 0) << current.out;
  EXPECT_NE(Line(current.out, "store schema").find("this binary's"), std::string::npos) << current.out;
  // ... but may run once they are applied.
  const Outcome late = Sagaflow("validate" + store + writer);
  EXPECT_EQ(late.status, 0) << late.out << late.err;

  // The reader role (readonly=1) cannot insert.
  const Outcome reader =
      Sagaflow("validate" + store + " --store-user sagaflow_reader --store-password sagaflow-reader-pw");
  EXPECT_EQ(reader.status, 1) << reader.out;
  EXPECT_NE(Line(reader.out, "store privileges").find("readonly=1: run cannot insert"), std::string::npos)
      << reader.out;

  const Outcome wrong = Sagaflow("validate" + store + " --store-user sagaflow_test --store-password Pl4nted-wrong");
  EXPECT_EQ(wrong.status, 1) << wrong.out;
  EXPECT_EQ(Line(wrong.out, "store").rfind("FAIL", 0), 0u) << wrong.out;
  EXPECT_EQ((wrong.out + wrong.err).find("Pl4nted"), std::string::npos) << wrong.out << wrong.err;

  const Outcome down = Sagaflow("validate --timeout 1 --store clickhouse://127.0.0.1:1/db");
  EXPECT_EQ(down.status, 1) << down.out;
  EXPECT_EQ(Line(down.out, "store").rfind("FAIL", 0), 0u) << down.out;
}

}  // namespace
