#include "query/table.h"

#include <gtest/gtest.h>

namespace sagaflow::query {
namespace {

TEST(Render, JsonShapes) {
  EXPECT_EQ(Render(ToTable(std::vector<TopEntityRow>{{"Jon \"Snow\"", 3, 204}}), Format::kJson),
            "[{\"entity\":\"Jon \\\"Snow\\\"\",\"mentions\":3,\"readers\":204}]\n");
  EXPECT_EQ(Render(ToTable(std::vector<SagaRow>{{"got", 2, 10}, {std::nullopt, 1, 5}}), Format::kJson),
            "[{\"saga\":\"got\",\"events\":2,\"readers\":10},{\"saga\":null,\"events\":1,\"readers\":5}]\n");
  EXPECT_EQ(Render(ToTable(std::vector<RejectedRow>{{"invalid_json", 2}}), Format::kJson),
            "[{\"reason\":\"invalid_json\",\"events\":2}]\n");
  EXPECT_EQ(Render(ToTable(std::vector<TrendRow>{{86400, 3, 70}}), Format::kJson),
            "[{\"time\":86400,\"bucket\":\"1970-01-02T00:00:00Z\",\"mentions\":3,\"readers\":70}]\n");
  EXPECT_EQ(Render(ToTable(std::vector<RejectedRow>{}), Format::kJson), "[]\n");
}

TEST(Render, CsvQuotesWhenNeeded) {
  EXPECT_EQ(Render(ToTable(std::vector<SagaRow>{{"a,b", 1, 2}, {std::nullopt, 3, 4}}), Format::kCsv),
            "saga,events,readers\r\n\"a,b\",1,2\r\n,3,4\r\n");
  EXPECT_EQ(Render(ToTable(std::vector<TopEntityRow>{{"say \"hi\"", 1, 1}}), Format::kCsv),
            "entity,mentions,readers\r\n\"say \"\"hi\"\"\",1,1\r\n");
}

TEST(Render, AlignedTable) {
  std::string t = Render(ToTable(std::vector<TopEntityRow>{{"Jon Snow", 12, 1500}, {"Éowyn", 3, 7}}), Format::kTable);
  EXPECT_EQ(t,
            "entity    mentions  readers\n"
            "--------  --------  -------\n"
            "Jon Snow        12     1500\n"
            "Éowyn            3        7\n");
  EXPECT_EQ(Render(ToTable(std::vector<SagaRow>{{std::nullopt, 1, 5}}), Format::kTable),
            "saga          events  readers\n"
            "------------  ------  -------\n"
            "(empty text)       1        5\n");
  EXPECT_EQ(Render(ToTable(std::vector<RejectedRow>{}), Format::kTable), "reason  events\n------  ------\n(no rows)\n");
}

TEST(ParseFormat, KnownNames) {
  EXPECT_EQ(*ParseFormat("csv"), Format::kCsv);
  EXPECT_FALSE(ParseFormat("xml").ok());
}

}  // namespace
}  // namespace sagaflow::query
