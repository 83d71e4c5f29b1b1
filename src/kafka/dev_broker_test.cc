#include "kafka/dev_broker.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kafka/kafka_testing.h"
#include "kafka/producer.h"

namespace sagaflow::kafka {
namespace {

TEST(DevBroker, ServesMetadataForItsTopicAndRejectsBadCommands) {
  auto broker = DevBroker::Start({.brokers = 1, .topic = "t", .partitions = 3});
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  EXPECT_NE((*broker)->bootstrap().find(':'), std::string::npos);

  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", (*broker)->bootstrap().c_str(), err, sizeof err),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  ASSERT_NE(rk, nullptr) << err;
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, "t", nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  ASSERT_EQ(rd_kafka_metadata(rk, 0, topic, &md, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(md->topic_cnt, 1);
  EXPECT_EQ(md->topics[0].partition_cnt, 3);
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(rk);

  EXPECT_TRUE((*broker)->Control("fail Fetch 2 NOT_LEADER_FOR_PARTITION").ok());
  EXPECT_TRUE((*broker)->Control("fail 8 1 _TRANSPORT").ok());
  EXPECT_TRUE((*broker)->Control("down 1").ok());
  EXPECT_TRUE((*broker)->Control("up 1").ok());
  EXPECT_TRUE((*broker)->Control("rtt -1 5").ok());
  EXPECT_FALSE((*broker)->Control("fail Nope 1 _TRANSPORT").ok());
  EXPECT_FALSE((*broker)->Control("fail Fetch 1 NOT_AN_ERROR").ok());
  EXPECT_FALSE((*broker)->Control("explode").ok());
}

// PartitionFor predicts where the producer puts each key: the partitions'
// end offsets after producing equal the counts it predicts.
TEST(DevBroker, ProducerSendsEachKeyToPartitionFor) {
  constexpr int kPartitions = 7;
  auto broker = DevBroker::Start({.brokers = 1, .topic = "t", .partitions = kPartitions});
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  auto producer = KafkaProducer::Open({(*broker)->bootstrap(), "t", {}});
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  std::vector<int64_t> predicted(kPartitions);
  for (int i = 0; i < 500; ++i) {
    const std::string key = "\"article-" + std::to_string(i * 7919 % 1000) + "\"";
    const int32_t p = PartitionFor(key, kPartitions);
    ASSERT_GE(p, 0);
    ASSERT_LT(p, kPartitions);
    ++predicted[p];
    ASSERT_TRUE((*producer)->Send(key, "{}").ok());
  }
  ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(30)).ok());
  EXPECT_EQ(testing::EndOffsets((*broker)->bootstrap(), "t", kPartitions), predicted);
  EXPECT_GT(*std::min_element(predicted.begin(), predicted.end()), 0) << "the keys spread over every partition";
}

}  // namespace
}  // namespace sagaflow::kafka
