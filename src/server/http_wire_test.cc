// The wire-format pieces of the HTTP front (http_wire.h) alone: targets,
// percent-encoding, header block and framing checks, content decoding and
// the response writer.
#include "server/http_wire.h"

#include <brotli/encode.h>
#include <gtest/gtest.h>
#include <zlib.h>

namespace sagaflow::server::wire {
namespace {

HttpRequest Target(std::string_view target) {
  HttpRequest req;
  auto refused = ParseTarget(target, &req);
  EXPECT_FALSE(refused) << target << ": " << refused->message;
  return req;
}

int TargetStatus(std::string_view target) {
  HttpRequest req;
  auto refused = ParseTarget(target, &req);
  return refused ? refused->status : 0;
}

TEST(HttpWireTest, TargetsAreDecodedOriginOrAbsoluteForm) {
  HttpRequest r = Target("/v1/trend?entity=Jon+Snow&saga=got&x=%C3%A9%26&flag&&empty=");
  EXPECT_EQ(r.path, "/v1/trend");
  ASSERT_EQ(r.params.size(), 5u);
  EXPECT_EQ(r.params[0], (std::pair<std::string, std::string>{"entity", "Jon Snow"}));
  EXPECT_EQ(r.params[2], (std::pair<std::string, std::string>{"x", "\xC3\xA9&"}));
  EXPECT_EQ(r.params[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(r.params[4], (std::pair<std::string, std::string>{"empty", ""}));
  EXPECT_EQ(r.Param("saga"), "got");
  EXPECT_EQ(r.ParamCount("saga"), 1u);
  EXPECT_EQ(Target("/a%20b+c").path, "/a b+c");  // '+' is a space only in the query
  EXPECT_EQ(Target("http://example.com:8080/healthz?x=1").path, "/healthz");
  EXPECT_EQ(Target("HTTP://example.com/healthz").Param("x"), std::nullopt);
  EXPECT_EQ(Target("http://example.com").path, "/");
  EXPECT_EQ(Target("http://example.com?saga=got").Param("saga"), "got");
  for (const char* bad : {"/v1/sagas?from=%C", "/v1/sagas?from=%", "/v1/sagas?from=%zz", "/a%2", "/a%g0",
                          "/v1/sagas?%=1", "*", "example.com:80", "ftp://x/y", "http:///path", "", "healthz"}) {
    EXPECT_EQ(TargetStatus(bad), 400) << bad;
  }
}

TEST(HttpWireTest, HeaderBlockRefusesObsFoldAndTooManyFields) {
  EXPECT_FALSE(CheckHeaderBlock("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\n\r\n", 2));
  auto many = CheckHeaderBlock("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", 2);
  ASSERT_TRUE(many);
  EXPECT_EQ(many->status, 431);
  for (const char* fold : {"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\n  more\r\n\r\n", "GET / HTTP/1.1\r\n Host: x\r\n\r\n",
                           "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\n\tmore\r\n\r\n"}) {
    auto r = CheckHeaderBlock(fold, 100);
    ASSERT_TRUE(r) << fold;
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->message.find("folding"), std::string::npos);
  }
}

int FramingStatus(const HttpFields& h, bool http11 = true) {
  auto r = CheckFraming(h, http11);
  return r ? r->status : 0;
}

TEST(HttpWireTest, FramingIsUnambiguous) {
  EXPECT_EQ(FramingStatus({{"Host", "x"}, {"Content-Length", "5"}}), 0);
  EXPECT_EQ(FramingStatus({{"Host", "x"}, {"Content-Length", "5"}, {"content-length", "5"}}), 400);
  EXPECT_EQ(FramingStatus({{"Host", "x"}, {"Content-Length", "5, 5"}}), 400);
  EXPECT_EQ(FramingStatus({{"Host", "x"}, {"Transfer-Encoding", "chunked"}}), 0);
  EXPECT_EQ(FramingStatus({{"Host", "x"}, {"Transfer-Encoding", " Chunked "}}), 0);
  EXPECT_EQ(FramingStatus({{"Host", "x"}, {"Transfer-Encoding", "gzip, chunked"}}), 501);
  EXPECT_EQ(FramingStatus({{"Host", "x"}, {"Transfer-Encoding", "chunked, gzip"}}), 400);
  EXPECT_EQ(FramingStatus({{"Host", "x"}, {"Transfer-Encoding", "identity"}}), 400);
  EXPECT_EQ(FramingStatus({{"Transfer-Encoding", "chunked"}}, false), 400);  // HTTP/1.0
  EXPECT_EQ(FramingStatus({}), 400);                                         // HTTP/1.1 without Host
  EXPECT_EQ(FramingStatus({}, false), 0);                                    // HTTP/1.0 may omit it
  EXPECT_EQ(FramingStatus({{"Host", "x"}, {"Host", "y"}}), 400);
}

std::string Gzip(const std::string& in, int window_bits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(compressBound(static_cast<uLong>(in.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Brotli(const std::string& in) {
  size_t size = BrotliEncoderMaxCompressedSize(in.size());
  std::string out(size, '\0');
  EXPECT_TRUE(BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, in.size(), reinterpret_cast<const uint8_t*>(in.data()),
                                    &size, reinterpret_cast<uint8_t*>(out.data())));
  out.resize(size);
  return out;
}

int DecodeStatus(std::string_view coding, std::string body, size_t limit, std::string* out = nullptr) {
  auto r = DecodeContent(coding, limit, &body);
  if (out) *out = body;
  return r ? r->status : 0;
}

TEST(HttpWireTest, ContentEncodingsAreUndoneWithinTheLimit) {
  const std::string text = R"({"text": ")" + std::string(5000, 'a') + "\"}";
  std::string out;
  for (const auto& [coding, body] : std::vector<std::pair<std::string, std::string>>{{"gzip", Gzip(text, 31)},
                                                                                     {"x-gzip", Gzip(text, 31)},
                                                                                     {"deflate", Gzip(text, 15)},
                                                                                     {"deflate", Gzip(text, -15)},
                                                                                     {"br", Brotli(text)},
                                                                                     {"identity", text},
                                                                                     {"", text}}) {
    EXPECT_EQ(DecodeStatus(coding, body, 1 << 20, &out), 0) << coding;
    EXPECT_EQ(out, text) << coding;
  }
  // A small body that decodes to more than the limit: 413, checked while decoding.
  const std::string bomb = Gzip(std::string(size_t{64} << 20, 'a'), 31);
  EXPECT_LT(bomb.size(), size_t{1} << 20);
  EXPECT_EQ(DecodeStatus("gzip", bomb, 1 << 20), 413);
  EXPECT_EQ(DecodeStatus("br", Brotli(std::string(size_t{4} << 20, 'a')), 1 << 20), 413);
  EXPECT_EQ(DecodeStatus("gzip", "not gzip at all", 1 << 20), 400);
  const std::string gz = Gzip(text, 31);
  EXPECT_EQ(DecodeStatus("gzip", gz.substr(0, gz.size() / 2), 1 << 20), 400);  // truncated
  EXPECT_EQ(DecodeStatus("gzip", gz + "trailing", 1 << 20), 400);
  EXPECT_EQ(DecodeStatus("br", "\xff\xff\xff", 1 << 20), 400);
  EXPECT_EQ(DecodeStatus("compress", text, 1 << 20), 415);
}

TEST(HttpWireTest, ResponsesCarryLengthTypeAndConnection) {
  HttpResponse res;
  SendJson(res, 200, R"({"ok":true})");
  res.SetHeader("Cache-Control", "no-cache");
  res.SetHeader("cache-control", "no-store");  // replaces, whatever the case
  std::string out;
  AppendResponse(res, false, true, false, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
            "Cache-Control: no-store\r\n\r\n{\"ok\":true}");
  out.clear();
  AppendResponse(res, true, false, false, &out);  // HEAD: the GET's length, no body
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n"
            "Cache-Control: no-store\r\n\r\n");
  out.clear();
  HttpResponse error;
  SendError(error, 431, "too many");
  AppendResponse(error, false, true, true, &out);
  EXPECT_EQ(out.rfind("HTTP/1.0 431 Request Header Fields Too Large\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_NE(out.find(R"({"error":{"code":431,"message":"too many"}})"), std::string::npos) << out;
}

}  // namespace
}  // namespace sagaflow::server::wire
