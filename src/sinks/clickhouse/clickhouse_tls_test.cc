// HTTPS to a real clickhouse-server 18.16 (the ctest fixture's, configured by
// scripts/clickhouse-test-server with https_port, an openssl-made CA, a
// server certificate for IP 127.0.0.1 only, and client certificates
// required): the server is verified, the client certificate presented, and a
// wrong CA, a wrong host name, a missing client certificate or certificate
// file fail with a clear, non-retriable message.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "pipeline/dimensions.h"
#include "sinks/clickhouse/clickhouse_analytics.h"
#include "sinks/clickhouse/clickhouse_client.h"
#include "sinks/clickhouse/clickhouse_sink.h"
#include "sinks/clickhouse/clickhouse_testing.h"
#include "support/scratch_dir.h"

namespace sagaflow::sinks::clickhouse {
namespace {

class ClickHouseTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SAGAFLOW_REQUIRE_CLICKHOUSE(address);
    dir_ = std::getenv("SAGAFLOW_CLICKHOUSE_TEST_DIR");
    std::ifstream in(dir_ + "/https_address");
    std::getline(in, https_);
    ASSERT_FALSE(https_.empty()) << "the test server has no https_address";
    tls_ = dir_ + "/tls/";
    database_ = testing::UniqueDatabase();
  }
  void TearDown() override {
    if (database_.empty()) return;
    auto c = ParseClickHouseUri(Uri(https_, kClientCertificate));
    if (!c.ok()) return;
    auto client = ClickHouseClient::Create(*c);
    if (client.ok()) (void)(*client)->Query("DROP DATABASE IF EXISTS " + database_, false);
  }

  static constexpr const char* kClientCertificate = "&cert_file={tls}client.crt&key_file={tls}client.key";
  // clickhouses://HOST_PORT/DB?ca_file=<the test CA><extra>, {tls} = the certificates' folder.
  std::string Uri(const std::string& host_port, std::string extra, const std::string& ca = "") const {
    for (size_t at; (at = extra.find("{tls}")) != std::string::npos;) extra.replace(at, 5, tls_);
    return "clickhouses://" + host_port + "/" + database_ +
           "?retry_give_up_s=1&retry_initial_ms=10&ca_file=" + (ca.empty() ? tls_ + "ca.crt" : ca) + extra;
  }
  // The outcome of one query over `uri`.
  Result<std::string> Select(const std::string& uri) {
    auto c = ParseClickHouseUri(uri);
    if (!c.ok()) return c.status();
    auto client = ClickHouseClient::Create(*c);
    if (!client.ok()) return client.status();
    return (*client)->Query("SELECT 'over tls' FORMAT TabSeparated", false);
  }

  std::string dir_, https_, tls_, database_;
};

TEST_F(ClickHouseTlsTest, VerifiedServerAndClientCertificate) {
  const std::string uri = Uri(https_, kClientCertificate);
  auto config = ParseClickHouseUri(uri);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->secure);
  EXPECT_EQ(config->BaseUrl().substr(0, 8), "https://");
  EXPECT_EQ(config->Describe().substr(0, 14), "clickhouses://");
  auto r = Select(uri);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "over tls\n");

  // The store itself over HTTPS: migrate, write dimensions, read them back.
  auto sink = ClickHouseSink::Open(*config);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  auto dims = pipeline::Dimensions::Build({"got", "lotr", "hp"}, {});
  ASSERT_TRUE(dims.ok());
  Status st = (*sink)->Prepare(*dims);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto analytics = ClickHouseAnalytics::Open(*config);
  ASSERT_TRUE(analytics.ok()) << analytics.status().ToString();
  auto sagas = (*analytics)->Sagas({});
  ASSERT_TRUE(sagas.ok()) << sagas.status().ToString();
  EXPECT_GE(sagas->size(), 3u);
}

TEST_F(ClickHouseTlsTest, SchemesAndDefaultPort) {
  auto s = ParseClickHouseUri("clickhouses://h/db");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->secure);
  EXPECT_EQ(s->port, 8443);
  auto q = ParseClickHouseUri("clickhouse://h/db?secure=1");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->port, 8443);
  EXPECT_EQ(ParseClickHouseUri("clickhouse://h/db")->port, 8123);
  EXPECT_EQ(ParseClickHouseUri("clickhouses://h:9443/db")->port, 9443);
  // Certificates without HTTPS, or a certificate without its key: refused.
  EXPECT_EQ(ParseClickHouseUri("clickhouse://h/db?ca_file=/x").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ParseClickHouseUri("clickhouses://h/db?cert_file=/x").status().code(), Status::Code::kInvalidArgument);
}

TEST_F(ClickHouseTlsTest, WrongCaWrongHostNoClientCertificateFailClearly) {
  // A CA the server's certificate is not signed by.
  const sagaflow::testing::ScratchDir other;
  const std::string make_ca = "openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + other.File("ca.key") +
                              "' -out '" + other.File("ca.crt") + "' -days 2 -subj '/CN=another CA' >/dev/null 2>&1";
  ASSERT_EQ(std::system(make_ca.c_str()), 0);
  auto wrong_ca = Select(Uri(https_, kClientCertificate, other.File("ca.crt")));
  ASSERT_FALSE(wrong_ca.ok());
  EXPECT_EQ(wrong_ca.status().code(), Status::Code::kInvalidArgument) << wrong_ca.status().ToString();
  EXPECT_NE(wrong_ca.status().message().find("certificate"), std::string::npos) << wrong_ca.status().ToString();

  // The system store does not know the test CA.
  auto c = ParseClickHouseUri("clickhouses://" + https_ + "/" + database_ + "?retry_give_up_s=1");
  ASSERT_TRUE(c.ok());
  auto client = ClickHouseClient::Create(*c);
  ASSERT_TRUE(client.ok());
  auto system_store = (*client)->Query("SELECT 1", false);
  ASSERT_FALSE(system_store.ok());
  EXPECT_NE(system_store.status().message().find("certificate"), std::string::npos) << system_store.status().ToString();

  // The certificate is for 127.0.0.1 only: "localhost" is the wrong name.
  const std::string port = https_.substr(https_.rfind(':') + 1);
  auto wrong_host = Select(Uri("localhost:" + port, kClientCertificate));
  ASSERT_FALSE(wrong_host.ok());
  EXPECT_EQ(wrong_host.status().code(), Status::Code::kInvalidArgument) << wrong_host.status().ToString();
  EXPECT_NE(wrong_host.status().message().find("localhost"), std::string::npos) << wrong_host.status().ToString();

  // The server requires a client certificate.
  EXPECT_FALSE(Select(Uri(https_, "")).ok());

  // A certificate file that is not there is named before any connection.
  auto missing = Select(Uri(https_, "&cert_file={tls}nope.crt&key_file={tls}client.key"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.crt"), std::string::npos) << missing.status().ToString();
}

}  // namespace
}  // namespace sagaflow::sinks::clickhouse
