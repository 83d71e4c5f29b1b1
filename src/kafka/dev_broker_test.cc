#include "kafka/dev_broker.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

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

}  // namespace
}  // namespace sagaflow::kafka
