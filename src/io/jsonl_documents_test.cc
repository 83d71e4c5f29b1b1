#include "io/jsonl_documents.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace sagaflow::io {
namespace {

struct Read {
  std::vector<std::string> ids, texts, rejected;
};

Read ReadString(const std::string& data) {
  char path[] = "/tmp/sagaflow_jsonl_XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
  auto docs = JsonlDocuments::Open(path);
  EXPECT_TRUE(docs.ok());
  Read r;
  Document d;
  std::string why;
  for (;;) {
    auto o = (*docs)->Next(&d, &why);
    EXPECT_TRUE(o.ok());
    if (*o == JsonlDocuments::Outcome::kEnd) break;
    if (*o == JsonlDocuments::Outcome::kRejected) {
      r.rejected.push_back(why);
    } else {
      r.ids.emplace_back(d.id_json);
      r.texts.emplace_back(d.text);
    }
  }
  ::unlink(path);
  return r;
}

TEST(JsonlDocuments, ReadsDocumentsAndRejectsBadLinesWithLineNumbers) {
  std::string input =
      "{\"id\":\"a\",\"text\":\"Hello \\\"Jon\\\"\",\"extra\":[1,2]}\n"
      "{\"id\":7,\"text\":\"\\u00e9t\\u00e9\"}\n"
      "not json\n"
      "{\"id\":\"b\"}\n"
      "{\"id\":\"c\",\"text\":5}\n"
      "{\"id\":\"d\",\"text\":\"\xff\xfe\"}\n"
      "{\"id\":\"e\",\"text\":\"\\ud800\"}\n"
      "[1]\n"
      "{\"id\":true,\"text\":\"x\"}\n"
      "\n"
      "{\"id\":\"f\",\"text\":\"ok\"} trailing\n"
      "{\"id\":\"g\",\"text\":\"last\"}";
  Read r = ReadString(input);
  EXPECT_EQ(r.ids, (std::vector<std::string>{"\"a\"", "7", "\"g\""}));
  EXPECT_EQ(r.texts, (std::vector<std::string>{"Hello \"Jon\"", "\xc3\xa9t\xc3\xa9", "last"}));
  ASSERT_EQ(r.rejected.size(), 8u);
  EXPECT_EQ(r.rejected[0].rfind("line 3: ", 0), 0u) << r.rejected[0];
  EXPECT_EQ(r.rejected[1], "line 4: missing field \"text\"");
  EXPECT_EQ(r.rejected[2], "line 5: field \"text\": must be a string");
  EXPECT_NE(r.rejected[3].find("line 6: "), std::string::npos);
  EXPECT_NE(r.rejected[3].find("UTF-8"), std::string::npos) << r.rejected[3];
  EXPECT_EQ(r.rejected[4].rfind("line 7: ", 0), 0u) << r.rejected[4];
  EXPECT_EQ(r.rejected[5], "line 8: not a JSON object");
  EXPECT_EQ(r.rejected[6], "line 9: field \"id\": must be a string or an integer");
  EXPECT_EQ(r.rejected[7].rfind("line 11: ", 0), 0u) << r.rejected[7];
}

}  // namespace
}  // namespace sagaflow::io
