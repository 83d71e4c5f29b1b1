#include "util/redact.h"

#include <gtest/gtest.h>

namespace sagaflow {
namespace {

TEST(RedactTest, SecretNames) {
  for (const char* n : {"sasl.password", "SASL.PASSWORD", "ssl.key.password", "ssl.keystore.password", "ssl.key.pem",
                        "sasl.oauthbearer.config", "sasl.jaas.config", "sasl.passwd", "api_token", "client_secret"}) {
    EXPECT_TRUE(IsSecretName(n)) << n;
  }
  for (const char* n : {"sasl.username", "sasl.mechanism", "security.protocol", "ssl.ca.location", "ssl.key.location",
                        "ssl.certificate.pem", "group", "secure", "timeout_ms"}) {
    EXPECT_FALSE(IsSecretName(n)) << n;
  }
}

TEST(RedactTest, Uris) {
  struct Case {
    const char *in, *out;
  };
  for (const Case& c : {
           Case{"clickhouse://u:pw@host:8123/db", "clickhouse://u:***@host:8123/db"},
           Case{"clickhouse://u:p@w:x@host/db?secure=1", "clickhouse://u:***@host/db?secure=1"},
           Case{"clickhouse://u@host/db", "clickhouse://u@host/db"},
           Case{"clickhouse://host/db", "clickhouse://host/db"},
           Case{"kafka://b:9092/t?group=g&sasl.password=pw&sasl.username=u",
                "kafka://b:9092/t?group=g&sasl.password=***&sasl.username=u"},
           Case{"kafka://b/t?ssl.key.pem=-----BEGIN&x=1&ssl.key.password=k",
                "kafka://b/t?ssl.key.pem=***&x=1&ssl.key.password=***"},
           Case{"kafka://b/t?sasl.password", "kafka://b/t?sasl.password"},  // no value
           Case{"kafka://u:pw@b/t?", "kafka://u:***@b/t?"},
           Case{"sqlite:/tmp/a@b:c.db", "sqlite:/tmp/a@b:c.db"},
           Case{"not a uri", "not a uri"},
       }) {
    EXPECT_EQ(RedactUri(c.in), c.out) << c.in;
  }
}

}  // namespace
}  // namespace sagaflow
