// Dimension ids: derived from names (docs/schema.md), and the curated
// dictionary's published entities keep theirs (data/entities/published_ids.tsv).
#include "pipeline/dimensions.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "support/shared_data.h"
#include "text/entity_dictionary.h"

namespace sagaflow::pipeline {
namespace {

TEST(StableIdTest, IsFnv1a64WithTheTopBitCleared) {
  // Values from the Python one-liner in docs/schema.md.
  EXPECT_EQ(StableId(""), 0x4BF29CE484222325);
  EXPECT_EQ(SagaId("got"), StableId("saga/got"));
  EXPECT_EQ(EntityId("", "Tom"), StableId("entity//Tom"));
  EXPECT_EQ(EntityId("got", "Eddard Stark"), 5960623288391056249);
}

// Stores hold facts under these ids: an entity renamed, moved to another
// saga or dropped from the dictionary would orphan them.
TEST(PublishedIdsTest, EveryPublishedEntityKeepsItsIdAndEveryEntityIsPublished) {
  const std::string dir = sagaflow::testing::SourceDir() + "/data/entities/";
  auto dict = text::EntityDictionary::LoadFile(dir + "sagas.tsv");
  ASSERT_TRUE(dict.ok()) << dict.status().ToString();
  std::map<std::pair<std::string, std::string>, int64_t> current;
  for (const EntityDim& e : EntityDims(*dict)) current.emplace(std::pair{e.saga, e.name}, e.id);

  std::ifstream in(dir + "published_ids.tsv");
  ASSERT_TRUE(in) << dir << "published_ids.tsv";
  std::string line;
  size_t published = 0, line_no = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    if (!header) {
      EXPECT_EQ(line, "saga\tname\tentity_id");
      header = true;
      continue;
    }
    std::istringstream fields(line);
    std::string saga, name, id;
    ASSERT_TRUE(std::getline(fields, saga, '\t') && std::getline(fields, name, '\t') && std::getline(fields, id))
        << "published_ids.tsv:" << line_no;
    ++published;
    EXPECT_EQ(EntityId(saga, name), std::stoll(id)) << "published_ids.tsv:" << line_no << ": the id of " << name;
    auto it = current.find({saga, name});
    if (it == current.end()) {
      ADD_FAILURE() << "published_ids.tsv:" << line_no << ": \"" << name << "\" (saga \"" << saga
                    << "\") is no longer in sagas.tsv: stored facts keep its id " << id
                    << "; keep the name and add the new spelling as an alias";
      continue;
    }
    current.erase(it);
  }
  EXPECT_GT(published, 1000u);
  for (const auto& [key, id] : current) {
    ADD_FAILURE() << "\"" << key.second << "\" (saga \"" << key.first
                  << "\") is new in sagas.tsv: append it to published_ids.tsv: " << key.first << '\t' << key.second
                  << '\t' << id;
  }
}

}  // namespace
}  // namespace sagaflow::pipeline
