#include "util/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sagaflow {
namespace {

TEST(JsonWriter, WritesNestedObjectsThatParseBack) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("id");
  w.String("a\"b\\c\n\x01 é");
  w.Key("scores");
  w.BeginObject();
  w.Key("got");
  w.Double(-2.0487682309745878);
  w.Key("hp");
  w.Double(0.1);
  w.EndObject();
  w.Key("empty");
  w.Bool(false);
  w.Key("label");
  w.Null();
  w.Key("n");
  w.Int(-42);
  w.Key("list");
  w.BeginArray();
  w.Int(1);
  w.Int(2);
  w.EndArray();
  w.EndObject();
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["id"], "a\"b\\c\n\x01 é");
  EXPECT_EQ(j["scores"]["got"].get<double>(), -2.0487682309745878);
  EXPECT_EQ(j["scores"]["hp"].get<double>(), 0.1);
  EXPECT_EQ(j["empty"], false);
  EXPECT_TRUE(j["label"].is_null());
  EXPECT_EQ(j["n"], -42);
  EXPECT_EQ(j["list"], nlohmann::json::array({1, 2}));
}

TEST(JsonWriter, NonFiniteDoublesBecomeNull) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.Double(std::numeric_limits<double>::infinity());
  w.Double(std::nan(""));
  w.EndArray();
  EXPECT_EQ(out, "[null,null]");
}

}  // namespace
}  // namespace sagaflow
