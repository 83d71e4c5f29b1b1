// GET /openapi.json against the server that serves it: every documented
// path and method is called (parameters and bodies from the document's own
// examples) and must answer with a documented status code and, for JSON,
// a body that matches the documented schema (types, required properties,
// nullability, array items, recursively). Then the documented errors:
// a missing token (401), a wrong method (405), bad enum values (400).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/server_testing.h"

namespace sagaflow::server {
namespace {

using nlohmann::json;

// Why `v` does not match `schema` ("" when it does).
std::string Mismatch(const json& v, const json& schema, const json& doc, const std::string& where) {
  if (schema.contains("$ref")) {
    std::string ref = schema["$ref"];
    const std::string prefix = "#/components/schemas/";
    EXPECT_EQ(ref.rfind(prefix, 0), 0u) << ref;
    return Mismatch(v, doc["components"]["schemas"].at(ref.substr(prefix.size())), doc, where);
  }
  if (schema.contains("oneOf")) {
    int matches = 0;
    std::string why;
    for (const auto& s : schema["oneOf"]) {
      std::string m = Mismatch(v, s, doc, where);
      matches += m.empty();
      why += m + "; ";
    }
    return matches == 1 ? "" : where + ": matches " + std::to_string(matches) + " of oneOf (" + why + ")";
  }
  if (v.is_null()) return schema.value("nullable", false) ? "" : where + ": null but not nullable";
  const std::string type = schema.value("type", "");
  if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end()) {
    return where + ": " + v.dump() + " not in enum";
  }
  if (type == "object") {
    if (!v.is_object()) return where + ": not an object";
    for (const auto& r : schema.value("required", json::array())) {
      if (!v.contains(r.get<std::string>())) return where + ": missing required " + r.dump();
    }
    for (const auto& [k, sub] : v.items()) {
      if (schema.contains("properties") && schema["properties"].contains(k)) {
        std::string m = Mismatch(sub, schema["properties"][k], doc, fmt::format("{}.{}", where, k));
        if (!m.empty()) return m;
      } else if (schema.contains("additionalProperties")) {
        std::string m = Mismatch(sub, schema["additionalProperties"], doc, fmt::format("{}.{}", where, k));
        if (!m.empty()) return m;
      }
    }
    return "";
  }
  if (type == "array") {
    if (!v.is_array()) return where + ": not an array";
    for (size_t i = 0; i < v.size(); ++i) {
      std::string m = Mismatch(v[i], schema.value("items", json::object()), doc, where + "[" + std::to_string(i) + "]");
      if (!m.empty()) return m;
    }
    return "";
  }
  if (type == "string") return v.is_string() ? "" : where + ": not a string";
  if (type == "integer") return v.is_number_integer() ? "" : where + ": not an integer";
  if (type == "number") return v.is_number() ? "" : where + ": not a number";
  if (type == "boolean") return v.is_boolean() ? "" : where + ": not a boolean";
  return "";
}

class OpenApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { data_ = testing::NewSampleData(); }
  static void TearDownTestSuite() { delete data_; }

  void SetUp() override {
    ASSERT_FALSE(HasFatalFailure());
    HttpServiceOptions o;
    o.api_token = "t0ken";
    server_ = testing::StartServer(*data_, o);
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->http().port());
    client_->set_default_headers({{"Authorization", "Bearer t0ken"}});
    auto r = client_->Get("/openapi.json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    doc_ = json::parse(r->body);
  }

  httplib::Result Call(httplib::Client& c, const std::string& method, const std::string& path,
                       const std::string& body) {
    if (method == "get") return c.Get(path);
    if (method == "post") return c.Post(path, body, "application/json");
    if (method == "delete") return c.Delete(path);
    return c.Patch(path, body, "application/json");
  }

  // Checks a response against the operation's documented responses.
  void ExpectDocumented(const httplib::Result& r, const json& op, const std::string& what) {
    ASSERT_TRUE(r) << what;
    const std::string code = std::to_string(r->status);
    ASSERT_TRUE(op["responses"].contains(code)) << what << " answered " << code << " (undocumented): " << r->body;
    const json& response = op["responses"][code];
    if (!response.contains("content")) return;
    const json& content = response["content"];
    const std::string type = r->get_header_value("Content-Type");
    if (content.contains("application/json")) {
      EXPECT_EQ(type, "application/json") << what;
      json body = json::parse(r->body, nullptr, false);
      ASSERT_FALSE(body.is_discarded()) << what << ": " << r->body;
      std::string m = Mismatch(body, content["application/json"]["schema"], doc_, what);
      EXPECT_EQ(m, "") << r->body.substr(0, 500);
      ++json_checked_;
    } else {
      const std::string documented = content.begin().key();
      EXPECT_EQ(type.substr(0, documented.size()), documented) << what;
    }
  }

  // Path with examples filled in, and query parameters: required ones, or all.
  std::string Url(const std::string& path, const json& op, bool all_params) {
    std::string url = path;
    std::string query;
    for (const auto& p : op.value("parameters", json::array())) {
      const std::string name = p["name"];
      if (p["in"] == "path") {
        url.replace(url.find("{" + name + "}"), name.size() + 2, p["example"].get<std::string>());
        continue;
      }
      if (!(p.value("required", false) || (all_params && p.contains("example")))) continue;
      EXPECT_TRUE(p.contains("example")) << path << " " << name;
      json ex = p["example"];
      query += (query.empty() ? "?" : "&") + name + "=" +
               httplib::detail::encode_query_param(ex.is_string() ? ex.get<std::string>() : ex.dump());
    }
    return url + query;
  }

  static testing::SampleData* data_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  json doc_;
  int json_checked_ = 0;
};

testing::SampleData* OpenApiTest::data_ = nullptr;

TEST_F(OpenApiTest, EveryDocumentedRouteAnswersAsDocumented) {
  EXPECT_EQ(doc_["openapi"].get<std::string>().substr(0, 2), "3.");
  int operations = 0;
  for (const auto& [path, item] : doc_["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      ++operations;
      std::string body;
      if (op.contains("requestBody")) body = op["requestBody"]["content"]["application/json"]["example"].dump();
      for (bool all : {false, true}) {
        const std::string url = Url(path, op, all);
        ExpectDocumented(Call(*client_, method, url, body), op, fmt::format("{} {}", method, url));
      }
      // Without the token: 401 where the operation is protected, else answered.
      httplib::Client anonymous("127.0.0.1", server_->http().port());
      auto r = Call(anonymous, method, Url(path, op, false), body);
      const bool is_public = op.contains("security") && op["security"].empty();
      ASSERT_TRUE(r);
      if (is_public) {
        EXPECT_NE(r->status, 401) << method << " " << path;
      } else {
        EXPECT_EQ(r->status, 401) << method << " " << path;
      }
      ExpectDocumented(r, op, fmt::format("{} {} without token", method, path));
      // A method it does not document: 405, documented.
      const std::string other = method == "get" ? "delete" : "get";
      ExpectDocumented(Call(*client_, other, Url(path, op, false), ""), op, fmt::format("{} {}", other, path));
      // Every enum parameter with a value outside the enum.
      for (const auto& p : op.value("parameters", json::array())) {
        if (!p["schema"].contains("enum")) continue;
        std::string url = Url(path, op, false);
        url += (url.find('?') == std::string::npos ? "?" : "&") + p["name"].get<std::string>() + "=bogus";
        auto bad = Call(*client_, method, url, body);
        ASSERT_TRUE(bad);
        EXPECT_EQ(bad->status, 400) << url;
        ExpectDocumented(bad, op, fmt::format("{} {}", method, url));
      }
    }
  }
  EXPECT_EQ(operations, 14);
  EXPECT_GT(json_checked_, 40);
}

TEST_F(OpenApiTest, EveryRouteTheServerAnswersIsDocumented) {
  // The other direction: known routes that are not in the document would be
  // routed (not 404) but missing here.
  for (const char* path :
       {"/predict", "/v1/predict", "/v1/analyze", "/v1/top-entities", "/v1/sagas", "/v1/trend", "/v1/saga-trend",
        "/v1/rejected", "/healthz", "/readyz", "/metrics", "/openapi.json", "/", "/assets/{file}"}) {
    EXPECT_TRUE(doc_["paths"].contains(path)) << path;
  }
  EXPECT_EQ(doc_["paths"].size(), 14u);
  // Labels of the model are the documented enum of "label".
  EXPECT_EQ(doc_["components"]["schemas"]["Prediction"]["properties"]["label"]["enum"], json({"got", "lotr", "hp"}));
}

}  // namespace
}  // namespace sagaflow::server
