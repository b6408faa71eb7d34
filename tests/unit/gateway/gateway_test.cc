// Gateway::Handle end to end above the socket: routing, auth, front door,
// model resolution and error shapes, with a FakeHttpClient upstream.
#include "server/gateway.h"

#include <gtest/gtest.h>

#include "recording_sink.h"
#include "run_awaitable.h"
#include "upstream/fake_http_client.h"

namespace sy {
namespace {

using upstream::FakeHttpClient;
using upstream::FakeReply;

config::Config TestConfig() {
  config::Config c;
  c.server.auth = config::AuthMode::kKeys;
  c.keys.emplace_back();
  c.keys.back().name = "dev";
  c.keys.back().key = "sk-client";
  config::ProviderConfig p;
  p.id = "mock";
  p.name = "Mock";
  p.base_url = "http://127.0.0.1:9/v1";
  p.keys = {{"k", "sk-up", 1}};
  c.providers = {p};
  c.models.emplace_back();
  c.models.back().name = "gpt-4";
  c.models.back().target = "mock/gpt-4o";
  c.models.back().provider = "mock";
  c.models.back().upstream_model = "gpt-4o";
  return c;
}

struct Harness {
  boost::asio::io_context io;
  Gateway gateway{TestConfig()};
  FakeHttpClient http;
  Cancellation cancel;
  testing::RecordingSink sink;
  int watched = 0;

  void Call(std::string method, std::string target, std::string body, std::string auth = "Bearer sk-client") {
    GatewayRequest req{method, target, auth, "", std::move(body), "", "", "", ""};
    RequestContext ctx;
    ctx.http = &http;
    ctx.cancel = &cancel;
    ctx.watch_client = [this] { ++watched; };
    ctx.request_id = "test-request";
    const Admission admission = gateway.Admit(req);
    testing::RunAwaitable(io, gateway.Handle(req, admission, sink, ctx));
  }
};

constexpr const char* kChat = R"({"model":"gpt-4","messages":[{"role":"user","content":"hi"}]})";

TEST(Gateway, ChatGoesUpstreamAndWatchesTheClient) {
  Harness h;
  h.http.Push(FakeReply::Json(200, R"({"ok":true})"));
  h.Call("POST", "/v1/chat/completions", kChat);
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_EQ(h.sink.body, R"({"ok":true})");
  EXPECT_EQ(h.watched, 1);
  ASSERT_EQ(h.http.requests().size(), 1u);
  EXPECT_NE(h.http.requests()[0].body.find("\"gpt-4o\""), std::string::npos);
}

TEST(Gateway, MissingAndWrongKeysAre401InOpenAiShape) {
  Harness h;
  h.Call("POST", "/v1/chat/completions", kChat, "");
  EXPECT_EQ(h.sink.head.status, 401);
  EXPECT_NE(h.sink.body.find("\"code\":\"invalid_api_key\""), std::string::npos);
  EXPECT_NE(h.sink.body.find("Missing API key"), std::string::npos);
  Harness h2;
  h2.Call("GET", "/v1/models", "", "Bearer nope");
  EXPECT_EQ(h2.sink.head.status, 401);
  EXPECT_TRUE(h2.http.requests().empty());
}

TEST(Gateway, UnknownModelIs404ModelNotFound) {
  Harness h;
  h.Call("POST", "/v1/chat/completions", R"({"model":"nope","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(h.sink.head.status, 404);
  EXPECT_NE(h.sink.body.find("\"code\":\"model_not_found\""), std::string::npos);
  EXPECT_EQ(h.watched, 0);
}

TEST(Gateway, MalformedJsonIs400) {
  Harness h;
  h.Call("POST", "/v1/chat/completions", R"({"model":)");
  EXPECT_EQ(h.sink.head.status, 400);
  EXPECT_NE(h.sink.body.find("not valid JSON"), std::string::npos);
}

TEST(Gateway, UpstreamErrorsBecomeGatewayStatuses) {
  Harness h;
  auto reply = FakeReply::Json(429, "{}");
  reply.headers.emplace_back("Retry-After", "3");
  h.http.Push(reply);
  h.Call("POST", "/v1/chat/completions", kChat);
  EXPECT_EQ(h.sink.head.status, 429);
  EXPECT_EQ(h.sink.Header("Retry-After"), "3");
}

TEST(Gateway, MidStreamFailureIsSentInBand) {
  Harness h;
  auto reply = FakeReply::Stream({"data: {}\n\n"});
  reply.body_error = {upstream::HttpErrorKind::kClosed, "upstream closed"};
  h.http.Push(reply);
  h.Call("POST", "/v1/chat/completions",
         R"({"model":"gpt-4","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(h.sink.head.status, 200);
  ASSERT_EQ(h.sink.pieces.size(), 2u);
  EXPECT_EQ(h.sink.pieces[1].rfind("data: {\"error\":", 0), 0u);
  EXPECT_TRUE(h.sink.ended);
}

TEST(Gateway, StreamFailureOnALengthFramedResponseAbortsInsteadOfAppendingAnEvent) {
  // Regression: an SSE error event was appended to a Content-Length body on a
  // kept-alive connection, corrupting the next response.
  Harness h;
  auto reply = FakeReply::Json(200, R"({"partial":)");
  reply.headers = {{"Content-Type", "text/event-stream"}, {"Content-Length", "100"}};
  reply.body_error = {upstream::HttpErrorKind::kClosed, "upstream closed"};
  h.http.Push(reply);
  h.Call("POST", "/v1/chat/completions",
         R"({"model":"gpt-4","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(h.sink.began);
  EXPECT_TRUE(h.sink.head.content_length.has_value());
  EXPECT_TRUE(h.sink.aborted);
  EXPECT_FALSE(h.sink.ended);
  EXPECT_EQ(h.sink.body.find("\"error\""), std::string::npos);
}

TEST(Gateway, AdmitRefusesBeforeTheBody) {
  Harness h;
  GatewayRequest no_key{"POST", "/v1/chat/completions", "", "", "", "", "", "", ""};
  auto a = h.gateway.Admit(no_key);
  ASSERT_TRUE(a.error);
  EXPECT_EQ(a.error->code, ErrorCode::kUnauthorized);
  GatewayRequest wrong{"POST", "/v1/chat/completions", "Bearer nope", "", "", "", "", "", ""};
  EXPECT_EQ(h.gateway.Admit(wrong).error->code, ErrorCode::kUnauthorized);
  GatewayRequest unknown{"POST", "/v2/x", "Bearer sk-client", "", "", "", "", "", ""};
  EXPECT_EQ(h.gateway.Admit(unknown).error->code, ErrorCode::kNotFound);
  GatewayRequest ok{"POST", "/v1/chat/completions", "Bearer sk-client", "", "", "", "", "", ""};
  auto admitted = h.gateway.Admit(ok);
  EXPECT_FALSE(admitted.error);
  EXPECT_EQ(admitted.route.endpoint, Endpoint::kChatCompletions);
  EXPECT_EQ(h.gateway.StartupProblem(), "");
}

TEST(Gateway, HealthReadinessRootAndModels) {
  Harness h;
  h.Call("GET", "/health", "", "");
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_NE(h.sink.body.find(R"("providers":[{"id":"mock","name":"Mock","healthy":true,"models_count":1}])"),
            std::string::npos);
  EXPECT_NE(h.sink.body.find(R"("connections":{"open":0,"max":10000,"rejected_total":0})"), std::string::npos);
  Harness r;
  r.Call("GET", "/readiness", "", "");
  EXPECT_EQ(r.sink.body.rfind(R"({"status":"ready","models_available":1,"timestamp":")", 0), 0u) << r.sink.body;
  r.gateway.BeginDrain();
  testing::RecordingSink drained;
  r.sink = drained;
  r.Call("GET", "/readiness", "", "");
  EXPECT_EQ(r.sink.head.status, 503);
  Harness root;
  root.Call("GET", "/", "", "");
  EXPECT_NE(root.sink.body.find("\"name\":\"Switchyard\""), std::string::npos);
  Harness m;
  m.Call("GET", "/v1/models/mock%2Fgpt-4o-mini", "");
  EXPECT_EQ(m.sink.head.status, 200);
  EXPECT_NE(m.sink.body.find("\"id\":\"mock/gpt-4o-mini\""), std::string::npos);
}

TEST(Gateway, UnknownPathAndWrongMethod) {
  Harness h;
  h.Call("GET", "/v2/nothing", "", "");
  EXPECT_EQ(h.sink.head.status, 404);
  Harness m;
  m.Call("DELETE", "/v1/chat/completions", "");
  EXPECT_EQ(m.sink.head.status, 405);
}

}  // namespace
}  // namespace sy
