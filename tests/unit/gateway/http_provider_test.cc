// HttpProvider over a FakeHttpClient: what goes upstream, and how every
// kind of upstream answer reaches the client.
#include "provider/http_provider.h"

#include <gtest/gtest.h>

#include "frontdoor/openai/openai_frontdoor.h"
#include "recording_sink.h"
#include "run_awaitable.h"
#include "upstream/fake_http_client.h"

namespace sy {
namespace {

using upstream::FakeHttpClient;
using upstream::FakeReply;
using upstream::HttpErrorKind;

config::ProviderConfig Config() {
  config::ProviderConfig p;
  p.id = "up";
  p.name = "Upstream";
  p.base_url = "https://api.example.com/v1";
  p.keys = {{"k1", "sk-upstream-1", 1}};
  p.headers = {{"OpenAI-Organization", "org-1"}};
  p.timeout_s = 42;
  return p;
}

InternalRequest Request(bool stream) {
  std::string body = std::string(R"({"model":"alias", "stream":)") + (stream ? "true" : "false") +
                     R"(,"messages":[{"role":"user","content":"hi"}]})";
  auto parsed = openai::ParseRequest(Operation::kChatCompletions, body);
  return std::get<InternalRequest>(std::move(parsed));
}

struct Harness {
  boost::asio::io_context io;
  FakeHttpClient http;
  HttpProvider provider{Config()};
  testing::RecordingSink sink;
  Cancellation cancel;

  ProviderOutcome Forward(const InternalRequest& req) {
    ProviderCall call{&req, "gpt-4o", &http, &cancel, nullptr, nullptr, false, {}};
    return testing::RunAwaitable(io, provider.Forward(std::move(call), sink));
  }
};

TEST(HttpProvider, SendsRewrittenBodyWithProviderKeyAndHeaders) {
  Harness h;
  h.http.Push(FakeReply::Json(200, R"({"id":"x"})"));
  auto req = Request(false);
  auto outcome = h.Forward(req);
  EXPECT_FALSE(outcome.error);
  ASSERT_EQ(h.http.requests().size(), 1u);
  const auto& sent = h.http.requests()[0];
  EXPECT_EQ(sent.url, "https://api.example.com/v1/chat/completions");
  EXPECT_EQ(sent.body, R"({"model":"gpt-4o", "stream":false,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(sent.read_timeout, std::chrono::seconds(42));
  bool saw_auth = false, saw_org = false;
  for (const auto& [name, value] : sent.headers) {
    if (name == "Authorization") saw_auth = value == "Bearer sk-upstream-1";
    if (name == "OpenAI-Organization") saw_org = value == "org-1";
  }
  EXPECT_TRUE(saw_auth);
  EXPECT_TRUE(saw_org);
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_EQ(h.sink.head.content_length, std::optional<size_t>(10));
  EXPECT_EQ(h.sink.body, R"({"id":"x"})");
  EXPECT_TRUE(h.sink.ended);
}

TEST(HttpProvider, StreamIsForwardedPieceByPiece) {
  Harness h;
  h.http.Push(FakeReply::Stream({"data: {\"a\":1}\n\n", "data: {\"a\":2}\n\n", "data: [DONE]\n\n"}));
  auto outcome = h.Forward(Request(true));
  EXPECT_FALSE(outcome.error);
  ASSERT_EQ(h.sink.pieces.size(), 3u);
  EXPECT_EQ(h.sink.pieces[1], "data: {\"a\":2}\n\n");
  EXPECT_FALSE(h.sink.head.content_length.has_value());  // chunked to the client
  EXPECT_EQ(h.sink.head.content_type, "text/event-stream");
  EXPECT_EQ(h.sink.Header("Cache-Control"), "no-cache");
  EXPECT_TRUE(h.sink.ended);
}

TEST(HttpProvider, StreamWithoutDoneIsAnError) {
  Harness h;
  h.http.Push(FakeReply::Stream({"data: {\"a\":1}\n\n"}));
  auto outcome = h.Forward(Request(true));
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kProviderError);
  EXPECT_TRUE(h.sink.started());
  EXPECT_FALSE(h.sink.ended);
}

TEST(HttpProvider, RateLimitKeepsRetryAfter) {
  Harness h;
  auto reply = FakeReply::Json(429, R"({"error":{"message":"slow down"}})");
  reply.headers.emplace_back("Retry-After", "7");
  h.http.Push(reply);
  auto outcome = h.Forward(Request(false));
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kRateLimited);
  EXPECT_EQ(outcome.error->retry_after, std::optional<std::string>("7"));
  EXPECT_NE(outcome.error->message.find("slow down"), std::string::npos);
  EXPECT_FALSE(h.sink.started());
  EXPECT_TRUE(h.provider.healthy());
}

TEST(HttpProvider, ServerErrorsAndBadCredentialsAre502) {
  Harness h;
  h.http.Push(FakeReply::Json(500, R"({"error":{"message":"kaboom"}})"));
  auto outcome = h.Forward(Request(false));
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kProviderError);
  // An upstream 5xx gets a plain message; its words go to the log only.
  EXPECT_EQ(outcome.error->message, "Provider 'up' returned HTTP 500.");
  EXPECT_NE(outcome.error->detail.find("kaboom"), std::string::npos);

  Harness h2;
  h2.http.Push(FakeReply::Json(401, R"({"error":{"message":"bad key sk-upstream-1"}})"));
  outcome = h2.Forward(Request(false));
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kProviderError);
  // The upstream's words about our key are not repeated to the client.
  EXPECT_EQ(outcome.error->message.find("sk-upstream-1"), std::string::npos);
}

TEST(HttpProvider, ClientErrorsPassThrough) {
  Harness h;
  h.http.Push(FakeReply::Json(400, R"({"error":{"message":"bad temperature"}})"));
  auto outcome = h.Forward(Request(false));
  EXPECT_FALSE(outcome.error);
  EXPECT_EQ(h.sink.head.status, 400);
  EXPECT_EQ(h.sink.body, R"({"error":{"message":"bad temperature"}})");
}

TEST(HttpProvider, TransportFailuresMapToStatusAndHealth) {
  Harness h;
  h.http.Push(FakeReply::Fail(HttpErrorKind::kConnect, "connection refused"));
  EXPECT_EQ(h.Forward(Request(false)).error->code, ErrorCode::kNoProvider);
  h.http.Push(FakeReply::Fail(HttpErrorKind::kTimeout));
  EXPECT_EQ(h.Forward(Request(false)).error->code, ErrorCode::kUpstreamTimeout);
  EXPECT_TRUE(h.provider.healthy());
  h.http.Push(FakeReply::Fail(HttpErrorKind::kClosed));
  EXPECT_EQ(h.Forward(Request(false)).error->code, ErrorCode::kProviderError);
  EXPECT_FALSE(h.provider.healthy());  // three failures in a row
  h.http.Push(FakeReply::Json(200, "{}"));
  EXPECT_FALSE(h.Forward(Request(false)).error);
  EXPECT_TRUE(h.provider.healthy());
}

TEST(HttpProvider, ClientGoneMidStreamCancelsUpstream) {
  Harness h;
  auto reply = FakeReply::Stream({"data: 1\n\n", "data: 2\n\n"});
  reply.hang_after_pieces = true;
  h.http.Push(reply);
  h.sink.fail_after_writes = 1;
  auto outcome = h.Forward(Request(true));
  EXPECT_TRUE(outcome.client_gone);
  EXPECT_TRUE(h.cancel.cancelled());
  EXPECT_EQ(h.sink.pieces.size(), 1u);
}

TEST(HttpProvider, CancellationWhileWaitingForHeaders) {
  Harness h;
  FakeReply reply;
  reply.hang_before_headers = true;
  h.http.Push(reply);
  auto req = Request(false);
  boost::asio::post(h.io, [&] { h.cancel.Cancel(); });
  auto outcome = h.Forward(req);
  EXPECT_TRUE(outcome.client_gone);
  EXPECT_FALSE(h.sink.started());
  EXPECT_EQ(h.http.cancelled(), 1);
}

TEST(HttpProvider, TransportErrorMessagesCarryNoInternalAddresses) {
  const std::pair<HttpErrorKind, const char*> cases[] = {
      {HttpErrorKind::kConnect, "connect to 10.1.2.3:8443 via proxy.internal:3128: refused"},
      {HttpErrorKind::kTls, "cannot load ca_file /etc/switchyard/secret-ca.pem: no such file"},
      {HttpErrorKind::kTimeout, "read from 10.1.2.3:8443 timed out"},
      {HttpErrorKind::kProtocol, "garbage from 10.1.2.3:8443"},
  };
  for (const auto& [kind, text] : cases) {
    Harness h;
    h.http.Push(FakeReply::Fail(kind, text));
    auto outcome = h.Forward(Request(false));
    ASSERT_TRUE(outcome.error) << text;
    for (const char* secret : {"10.1.2.3", "8443", "proxy.internal", "/etc/switchyard", "secret-ca"}) {
      EXPECT_EQ(outcome.error->message.find(secret), std::string::npos) << outcome.error->message;
    }
    EXPECT_EQ(outcome.error->detail.find(text) != std::string::npos, true) << outcome.error->detail;
  }
}

TEST(HttpProvider, BodyThatFailsBeforeItsFirstByteGetsACleanStatus) {
  // Regression: the client's 200 head was committed as soon as the upstream's
  // head arrived, so a body broken from its first byte could only be aborted.
  for (auto kind : {HttpErrorKind::kProtocol, HttpErrorKind::kTimeout}) {
    Harness h;
    auto reply = FakeReply::Stream({});
    reply.body_error = {kind, "bad chunk size from 10.0.0.1:443"};
    h.http.Push(reply);
    auto outcome = h.Forward(Request(true));
    ASSERT_TRUE(outcome.error);
    EXPECT_EQ(outcome.error->code, kind == HttpErrorKind::kTimeout ? ErrorCode::kUpstreamTimeout : ErrorCode::kProviderError);
    EXPECT_FALSE(h.sink.started());
  }
}

TEST(HttpProvider, UpstreamRequestIdIsKeptUnderItsOwnName) {
  Harness h;
  auto reply = FakeReply::Json(200, R"({"id":"x"})");
  reply.headers.emplace_back("x-request-id", "req_upstream_1");
  h.http.Push(reply);
  h.Forward(Request(false));
  EXPECT_EQ(h.sink.Header("x-upstream-request-id"), "req_upstream_1");
  EXPECT_EQ(h.sink.Header("x-request-id"), "");
}

TEST(HttpProvider, ResponseOverMaxResponseBytesIsRefusedOrCut) {
  auto cfg = Config();
  cfg.max_response_bytes = 10;
  {
    // Announced length over the limit: refused before anything is sent.
    boost::asio::io_context io;
    FakeHttpClient http;
    HttpProvider provider{cfg};
    testing::RecordingSink sink;
    Cancellation cancel;
    http.Push(FakeReply::Json(200, R"({"id":"a much longer body than ten bytes"})"));
    auto req = Request(false);
    ProviderCall call{&req, "gpt-4o", &http, &cancel, nullptr, nullptr, false, {}};
    auto outcome = testing::RunAwaitable(io, provider.Forward(std::move(call), sink));
    ASSERT_TRUE(outcome.error);
    EXPECT_EQ(outcome.error->code, ErrorCode::kProviderError);
    EXPECT_FALSE(sink.started());
  }
  {
    // A chunked (endless) body: cut once past the limit.
    boost::asio::io_context io;
    FakeHttpClient http;
    HttpProvider provider{cfg};
    testing::RecordingSink sink;
    Cancellation cancel;
    http.Push(FakeReply::Stream({"0123456789", "0123456789", "0123456789"}));
    auto req = Request(false);
    ProviderCall call{&req, "gpt-4o", &http, &cancel, nullptr, nullptr, false, {}};
    auto outcome = testing::RunAwaitable(io, provider.Forward(std::move(call), sink));
    ASSERT_TRUE(outcome.error);
    EXPECT_LE(sink.body.size(), 10u);
    EXPECT_FALSE(sink.ended);
  }
}

}  // namespace
}  // namespace sy
