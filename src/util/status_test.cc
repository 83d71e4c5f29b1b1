#include "util/status.h"

#include <gtest/gtest.h>

namespace sagaflow {
namespace {

Result<int> Half(int v) {
  if (v % 2) return Status::InvalidArgument("odd value " + std::to_string(v));
  return v / 2;
}

TEST(Status, OkAndErrorsCarryMessages) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Status::NotFound("model.json").WithContext("loading model");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_EQ(s.ToString(), "not found: loading model: model.json");
}

TEST(Result, HoldsValueOrStatus) {
  auto a = Half(4);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 2);
  auto b = Half(3);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "odd value 3");
}

}  // namespace
}  // namespace sagaflow
