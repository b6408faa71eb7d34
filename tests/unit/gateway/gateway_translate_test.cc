// Gateway::Admit/Handle with protocol translation: a provider of type
// anthropic (FakeHttpClient scripted with Anthropic answers) serving clients
// of every front door, and the error shapes each front door answers in.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "recording_sink.h"
#include "run_awaitable.h"
#include "server/gateway.h"
#include "upstream/fake_http_client.h"

namespace sy {
namespace {

using upstream::FakeHttpClient;
using upstream::FakeReply;

config::Config AnthropicConfig() {
  config::Config c;
  c.server.auth = config::AuthMode::kKeys;
  c.keys.emplace_back();
  c.keys.back().name = "dev";
  c.keys.back().key = "sk-client";
  config::ProviderConfig p;
  p.id = "anth";
  p.name = "Anthropic";
  p.type = "anthropic";
  p.base_url = "http://up";
  p.keys = {{"k", "sk-up", 1}};
  c.providers = {p};
  c.models.emplace_back();
  c.models.back().name = "claude";
  c.models.back().target = "anth/claude-up";
  c.models.back().provider = "anth";
  c.models.back().upstream_model = "claude-up";
  return c;
}

// Request headers a client sends (only those the gateway reads).
struct ClientHeaders {
  std::string authorization = "Bearer sk-client";
  std::string x_api_key;
  std::string x_goog_api_key;
  std::string anthropic_version;
};

struct Harness {
  boost::asio::io_context io;
  Gateway gateway{AnthropicConfig()};
  FakeHttpClient http;
  Cancellation cancel;
  testing::RecordingSink sink;

  void Call(std::string method, std::string target, std::string body, ClientHeaders h = {}) {
    GatewayRequest req{method, target, h.authorization, h.x_api_key, std::move(body), h.x_goog_api_key,
                       h.anthropic_version, "", ""};
    RequestContext ctx;
    ctx.http = &http;
    ctx.cancel = &cancel;
    ctx.watch_client = [] {};
    ctx.request_id = "test-request";
    const Admission admission = gateway.Admit(req);
    testing::RunAwaitable(io, gateway.Handle(req, admission, sink, ctx));
  }

  const upstream::HttpRequest& Sent(size_t i = 0) const { return http.requests().at(i); }
};

std::vector<std::string> HeaderValues(const upstream::HttpRequest& req, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : req.headers) {
    if (n == name) out.push_back(v);
  }
  return out;
}
using Values = std::vector<std::string>;

// The clock's values, zeroed so that bodies can be compared whole.
std::string NoClock(const std::string& body) {
  static const std::regex created("\"created\":[0-9]+");
  static const std::regex created_at("\"created_at\":\"[^\"]*\"");
  std::string out = std::regex_replace(body, created, "\"created\":0");
  return std::regex_replace(out, created_at, "\"created_at\":\"T\"");
}

// ---------------------------------------------------------------- Anthropic upstream wire

constexpr const char* kAnthropicAnswer =
    R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-up",)"
    R"("content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","stop_sequence":null,)"
    R"("usage":{"input_tokens":12,"output_tokens":5}})";

const std::string kMsgStart =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
    "\"role\":\"assistant\",\"model\":\"claude-up\",\"content\":[],\"stop_reason\":null,"
    "\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n";
const std::string kBlockStart =
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
    "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
std::string TextDelta(const std::string& text) {
  return "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
         "\"delta\":{\"type\":\"text_delta\",\"text\":\"" +
         text + "\"}}\n\n";
}
const std::string kBlockStop = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
const std::string kMsgDelta =
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}\n\n";
const std::string kMsgStop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

constexpr const char* kUpstreamHiBody =
    R"({"model":"claude-up","max_tokens":50,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]})";

// OpenAI chunk of the translated stream (clock zeroed).
std::string Chunk(const std::string& choice) {
  return "data: {\"id\":\"msg_1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"claude\","
         "\"choices\":[" +
         choice + "]}\n\n";
}

// ---------------------------------------------------------------- translation

TEST(GatewayTranslate, OpenAiChatIsTranslatedToAnthropicAndBack) {
  Harness h;
  h.http.Push(FakeReply::Json(200, kAnthropicAnswer));
  h.Call("POST", "/v1/chat/completions", R"({"model":"claude","max_tokens":50,"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(h.http.requests().size(), 1u);
  EXPECT_EQ(h.Sent().url, "http://up/v1/messages");
  EXPECT_EQ(HeaderValues(h.Sent(), "x-api-key"), Values{"sk-up"});
  EXPECT_EQ(HeaderValues(h.Sent(), "anthropic-version"), Values{"2023-06-01"});
  EXPECT_EQ(HeaderValues(h.Sent(), "Authorization"), Values{});  // the client's key stays here
  EXPECT_EQ(h.Sent().body, kUpstreamHiBody);
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_EQ(h.sink.head.content_type, "application/json");
  EXPECT_EQ(h.sink.head.content_length, std::optional<size_t>(h.sink.body.size()));
  EXPECT_EQ(NoClock(h.sink.body),
            R"({"id":"msg_1","object":"chat.completion","created":0,"model":"claude","choices":[{"index":0,)"
            R"("message":{"role":"assistant","content":"Hello!","refusal":null},"logprobs":null,"finish_reason":"stop"}],)"
            R"("usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":0},)"
            R"("completion_tokens_details":{"reasoning_tokens":0}}})");
  EXPECT_TRUE(h.sink.ended);
}

TEST(GatewayTranslate, ClientGoneDuringATranslatedAnswerDropsTheConnection) {
  Harness h;
  h.http.Push(FakeReply::Json(200, kAnthropicAnswer));
  h.sink.fail_after_writes = 1;  // the client is gone when the body is written
  h.Call("POST", "/v1/chat/completions", R"({"model":"claude","max_tokens":50,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_FALSE(h.sink.ended);   // no end after a failed write
  EXPECT_TRUE(h.sink.aborted);  // the connection is not reused
}

TEST(GatewayTranslate, OpenAiStreamIsTranslatedChunkByChunk) {
  Harness h;
  h.http.Push(FakeReply::Stream(
      {kMsgStart, kBlockStart + TextDelta("Hel"), TextDelta("lo") + kBlockStop, kMsgDelta + kMsgStop}));
  h.Call("POST", "/v1/chat/completions",
         R"({"model":"claude","max_tokens":50,"stream":true,"stream_options":{"include_usage":true},)"
         R"("messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(h.http.requests().size(), 1u);
  EXPECT_EQ(h.Sent().url, "http://up/v1/messages");
  EXPECT_EQ(HeaderValues(h.Sent(), "Accept"), Values{"text/event-stream"});
  EXPECT_EQ(h.Sent().body,
            R"({"model":"claude-up","max_tokens":50,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true})");
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_EQ(h.sink.head.content_type, "text/event-stream");
  EXPECT_FALSE(h.sink.head.content_length.has_value());
  EXPECT_EQ(h.sink.Header("Cache-Control"), "no-cache");
  const std::string with_usage_null = ",\"usage\":null";
  auto chunk = [&](const std::string& choice) {
    std::string c = Chunk(choice);
    c.insert(c.size() - 3, with_usage_null);  // before "}\n\n"
    return c;
  };
  const std::string expected =
      chunk(R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null})") +
      chunk(R"({"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null})") +
      chunk(R"({"index":0,"delta":{"content":"lo"},"logprobs":null,"finish_reason":null})") +
      chunk(R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"})") +
      "data: {\"id\":\"msg_1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"claude\",\"choices\":[],"
      "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17,\"prompt_tokens_details\":"
      "{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n"
      "data: [DONE]\n\n";
  EXPECT_EQ(NoClock(h.sink.body), expected);
  EXPECT_EQ(h.sink.pieces.size(), 4u);  // one write per upstream piece
  EXPECT_TRUE(h.sink.ended);
  EXPECT_FALSE(h.sink.aborted);
}

TEST(GatewayTranslate, AnthropicRequestToAnthropicProviderIsPassedThrough) {
  Harness h;
  const std::string answer = R"({"id":"msg_9","type":"message","content":[{"type":"text","text":"raw"}]})";
  h.http.Push(FakeReply::Json(200, answer));
  ClientHeaders headers;
  headers.authorization = "";
  headers.x_api_key = "sk-client";
  headers.anthropic_version = "2023-06-01";
  h.Call("POST", "/v1/messages",
         R"({ "model" : "claude",  "max_tokens":10, "messages":[{"role":"user","content":"hi"}], "top_k": 3 })", headers);
  ASSERT_EQ(h.http.requests().size(), 1u);
  EXPECT_EQ(h.Sent().url, "http://up/v1/messages");
  // Byte for byte, only the model value replaced.
  EXPECT_EQ(h.Sent().body,
            R"({ "model" : "claude-up",  "max_tokens":10, "messages":[{"role":"user","content":"hi"}], "top_k": 3 })");
  EXPECT_EQ(HeaderValues(h.Sent(), "x-api-key"), Values{"sk-up"});
  EXPECT_EQ(HeaderValues(h.Sent(), "anthropic-version"), Values{"2023-06-01"});
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_EQ(h.sink.body, answer);
  EXPECT_TRUE(h.sink.ended);
}

TEST(GatewayTranslate, UpstreamErrorAsFirstStreamEventBecomesAnHttpStatus) {
  Harness h;
  h.http.Push(FakeReply::Stream(
      {"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"}));
  h.Call("POST", "/v1/chat/completions",
         R"({"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(h.sink.head.status, 503);
  EXPECT_EQ(h.sink.head.content_type, "application/json");
  EXPECT_TRUE(h.sink.head.content_length.has_value());
  EXPECT_EQ(h.sink.body,
            R"({"error":{"message":"Overloaded","type":"api_error","param":null,"code":"no_provider_available"}})");
  EXPECT_EQ(h.sink.body.find("data:"), std::string::npos);
  EXPECT_TRUE(h.sink.ended);
  EXPECT_FALSE(h.sink.aborted);
}

TEST(GatewayTranslate, UpstreamErrorAsFirstStreamEventInAnthropicShapeForAGeminiClient) {
  // The same, for a client of another protocol: the error takes its shape.
  Harness h;
  h.http.Push(FakeReply::Stream(
      {"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"}));
  ClientHeaders headers;
  headers.authorization = "";
  headers.x_goog_api_key = "sk-client";
  h.Call("POST", "/v1beta/models/claude:streamGenerateContent?alt=sse",
         R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})", headers);
  EXPECT_EQ(h.sink.head.status, 503);
  EXPECT_EQ(h.sink.body, R"({"error":{"code":503,"message":"Overloaded","status":"UNAVAILABLE"}})");
}

TEST(GatewayTranslate, FailureAfterTheStreamBeganIsSentInBand) {
  Harness h;
  auto reply = FakeReply::Stream({kMsgStart, kBlockStart + TextDelta("Hel")});
  reply.body_error = {upstream::HttpErrorKind::kClosed, "connection reset by 10.0.0.7:443"};
  h.http.Push(reply);
  h.Call("POST", "/v1/chat/completions",
         R"({"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_FALSE(h.sink.head.content_length.has_value());
  const std::string expected =
      Chunk(R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null})") +
      Chunk(R"({"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null})") +
      "data: {\"error\":{\"message\":\"Provider 'anth' failed to answer.\",\"type\":\"api_error\",\"param\":null,"
      "\"code\":\"provider_error\"}}\n\n";
  EXPECT_EQ(NoClock(h.sink.body), expected);
  EXPECT_EQ(h.sink.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(h.sink.body.find("10.0.0.7"), std::string::npos);
  EXPECT_TRUE(h.sink.ended);
  EXPECT_FALSE(h.sink.aborted);
}

TEST(GatewayTranslate, StreamCutShortUpstreamEndsWithTheInBandError) {
  // The upstream body ends cleanly but without message_stop.
  Harness h;
  h.http.Push(FakeReply::Stream({kMsgStart, kBlockStart + TextDelta("Hel")}));
  h.Call("POST", "/v1/chat/completions",
         R"({"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(h.sink.head.status, 200);
  const std::string tail =
      "data: {\"error\":{\"message\":\"The upstream stream ended early (no message_stop).\",\"type\":\"api_error\","
      "\"param\":null,\"code\":\"provider_error\"}}\n\n";
  ASSERT_GE(h.sink.body.size(), tail.size());
  EXPECT_EQ(h.sink.body.substr(h.sink.body.size() - tail.size()), tail);
  EXPECT_EQ(h.sink.body.find("[DONE]"), std::string::npos);
  EXPECT_TRUE(h.sink.ended);
}

TEST(GatewayTranslate, UpstreamStatusErrorIsAnsweredInTheClientsShape) {
  Harness h;
  auto reply = FakeReply::Json(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})");
  reply.headers.emplace_back("retry-after", "9");
  h.http.Push(reply);
  h.Call("POST", "/v1/chat/completions", R"({"model":"claude","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(h.sink.head.status, 429);
  EXPECT_EQ(h.sink.Header("Retry-After"), "9");
  EXPECT_EQ(h.sink.body,
            R"({"error":{"message":"Provider 'anth' is rate limiting requests: slow down","type":"rate_limit_error",)"
            R"("param":null,"code":"rate_limit_exceeded"}})");
}

TEST(GatewayTranslate, UnsupportedParameterIs400InTheClientsShape) {
  Harness h;
  h.Call("POST", "/v1/chat/completions",
         R"({"model":"claude","seed":7,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(h.sink.head.status, 400);
  EXPECT_TRUE(h.http.requests().empty());
  EXPECT_EQ(h.sink.body,
            R"({"error":{"message":"Parameter 'seed' is not supported by providers of type 'anthropic'. Remove it, or )"
            R"(set drop_params: true for this provider or model to drop it.","type":"invalid_request_error",)"
            R"("param":"seed","code":"invalid_request_error"}})");
}

TEST(GatewayTranslate, GeminiStreamIsTranslatedToSseAndToAJsonArray) {
  const std::string body = R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})";
  ClientHeaders headers;
  headers.authorization = "";
  headers.x_goog_api_key = "sk-client";
  const std::string first =
      R"({"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"modelVersion":"claude","responseId":"msg_1"})";
  {
    Harness h;
    h.http.Push(FakeReply::Stream(
        {kMsgStart, kBlockStart + TextDelta("Hel"), TextDelta("lo") + kBlockStop, kMsgDelta + kMsgStop}));
    h.Call("POST", "/v1beta/models/claude:streamGenerateContent?alt=sse", body, headers);
    ASSERT_EQ(h.http.requests().size(), 1u);
    EXPECT_EQ(HeaderValues(h.Sent(), "Accept"), Values{"text/event-stream"});
    EXPECT_EQ(h.sink.head.status, 200);
    EXPECT_EQ(h.sink.head.content_type, "text/event-stream");
    EXPECT_EQ(h.sink.body.rfind("data: " + first + "\r\n\r\ndata: ", 0), 0u) << h.sink.body;
    EXPECT_NE(h.sink.body.find(R"("parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP")"), std::string::npos)
        << h.sink.body;
    EXPECT_EQ(h.sink.body.find("[DONE]"), std::string::npos);
    EXPECT_TRUE(h.sink.body.ends_with("}\r\n\r\n"));
    EXPECT_TRUE(h.sink.ended);
  }
  {
    Harness h;
    h.http.Push(FakeReply::Stream(
        {kMsgStart, kBlockStart + TextDelta("Hel"), TextDelta("lo") + kBlockStop, kMsgDelta + kMsgStop}));
    h.Call("POST", "/v1beta/models/claude:streamGenerateContent", body, headers);
    EXPECT_EQ(h.sink.head.status, 200);
    EXPECT_EQ(h.sink.head.content_type, "application/json");
    EXPECT_EQ(h.sink.body.rfind("[" + first + ",\r\n{", 0), 0u) << h.sink.body;
    EXPECT_TRUE(h.sink.body.ends_with("}]")) << h.sink.body;
    EXPECT_TRUE(h.sink.ended);
  }
}

TEST(GatewayTranslate, GeminiCountTokensAsksAnthropicsCountEndpoint) {
  Harness h;
  h.http.Push(FakeReply::Json(200, R"({"input_tokens":42})"));
  ClientHeaders headers;
  headers.authorization = "";
  headers.x_goog_api_key = "sk-client";
  h.Call("POST", "/v1beta/models/claude:countTokens", R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})",
         headers);
  ASSERT_EQ(h.http.requests().size(), 1u);
  EXPECT_EQ(h.Sent().url, "http://up/v1/messages/count_tokens");
  EXPECT_EQ(h.Sent().body, R"({"model":"claude-up","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]})");
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_EQ(h.sink.body, R"({"totalTokens":42})");
}

TEST(GatewayTranslate, EmbeddingsToAProviderWithoutThemIs400) {
  Harness h;
  h.Call("POST", "/v1/embeddings", R"({"model":"claude","input":"x"})");
  EXPECT_EQ(h.sink.head.status, 400);
  EXPECT_TRUE(h.http.requests().empty());
  EXPECT_EQ(h.sink.body,
            R"({"error":{"message":"providers of type anthropic have no embeddings endpoint","type":"invalid_request_error",)"
            R"("param":null,"code":"invalid_request_error"}})");
}

TEST(GatewayTranslate, OllamaChatIsTranslated) {
  Harness h;
  h.http.Push(FakeReply::Json(200, kAnthropicAnswer));
  h.Call("POST", "/api/chat",
         R"({"model":"claude","stream":false,"options":{"num_predict":50},"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(h.http.requests().size(), 1u);
  EXPECT_EQ(h.Sent().body, kUpstreamHiBody);
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_EQ(h.sink.body.rfind(R"({"model":"claude",)", 0), 0u) << h.sink.body;
  EXPECT_NE(h.sink.body.find(R"("message":{"role":"assistant","content":"Hello!")"), std::string::npos) << h.sink.body;
  EXPECT_NE(h.sink.body.find(R"("done":true)"), std::string::npos) << h.sink.body;
  EXPECT_NE(h.sink.body.find(R"("prompt_eval_count":12)"), std::string::npos) << h.sink.body;
  EXPECT_NE(h.sink.body.find(R"("eval_count":5)"), std::string::npos) << h.sink.body;
}

// ---------------------------------------------------------------- keys and front doors

TEST(GatewayTranslate, GeminiKeysAreAcceptedAsHeaderAndQuery) {
  const std::string body = R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})";
  {
    Harness h;
    h.http.Push(FakeReply::Json(200, kAnthropicAnswer));
    ClientHeaders headers;
    headers.authorization = "";
    headers.x_goog_api_key = "sk-client";
    h.Call("POST", "/v1beta/models/claude:generateContent", body, headers);
    EXPECT_EQ(h.sink.head.status, 200);
    ASSERT_EQ(h.http.requests().size(), 1u);
    EXPECT_EQ(h.Sent().url, "http://up/v1/messages");
    EXPECT_EQ(h.sink.body.rfind(R"({"candidates":[{"content":{"parts":[{"text":"Hello!"}],"role":"model"},)", 0), 0u)
        << h.sink.body;
    EXPECT_NE(h.sink.body.find(R"("modelVersion":"claude")"), std::string::npos) << h.sink.body;
  }
  {
    Harness h;
    h.http.Push(FakeReply::Json(200, kAnthropicAnswer));
    ClientHeaders headers;
    headers.authorization = "";
    h.Call("POST", "/v1beta/models/claude:generateContent?key=sk-client", body, headers);
    EXPECT_EQ(h.sink.head.status, 200);
    EXPECT_EQ(h.http.requests().size(), 1u);
  }
  {
    Harness h;
    ClientHeaders headers;
    headers.authorization = "";
    headers.x_goog_api_key = "nope";
    h.Call("POST", "/v1beta/models/claude:generateContent", body, headers);
    EXPECT_EQ(h.sink.head.status, 401);
    EXPECT_EQ(h.sink.body, R"({"error":{"code":401,"message":"Incorrect API key provided.","status":"UNAUTHENTICATED"}})");
    EXPECT_TRUE(h.http.requests().empty());
  }
  {
    Harness h;
    ClientHeaders headers;
    headers.authorization = "";
    h.Call("POST", "/v1beta/models/claude:generateContent?key=nope", body, headers);
    EXPECT_EQ(h.sink.head.status, 401);
    EXPECT_NE(h.sink.body.find(R"("status":"UNAUTHENTICATED")"), std::string::npos);
    EXPECT_TRUE(h.http.requests().empty());
  }
}

TEST(GatewayTranslate, UnknownModelOnOllamaChatIs404InOllamasWords) {
  Harness h;
  h.Call("POST", "/api/chat", R"({"model":"x","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(h.sink.head.status, 404);
  EXPECT_EQ(h.sink.body, R"({"error":"model 'x' not found"})");
  EXPECT_TRUE(h.http.requests().empty());
}

TEST(GatewayTranslate, ModelListTakesAnthropicsShapeWithAnthropicVersion) {
  Harness h;
  ClientHeaders headers;
  headers.authorization = "";
  headers.x_api_key = "sk-client";
  headers.anthropic_version = "2023-06-01";
  h.Call("GET", "/v1/models", "", headers);
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_EQ(NoClock(h.sink.body),
            R"({"data":[{"type":"model","id":"claude","display_name":"claude","created_at":"T"}],)"
            R"("has_more":false,"first_id":"claude","last_id":"claude"})");
  // Without it: OpenAI's list.
  Harness o;
  o.Call("GET", "/v1/models", "");
  EXPECT_EQ(o.sink.head.status, 200);
  // With GhostLLM's extra fields (nothing known about this upstream model).
  EXPECT_EQ(NoClock(o.sink.body),
            R"({"object":"list","data":[{"id":"claude","object":"model","created":0,"owned_by":"anth",)"
            R"("provider":"anth","context_length":null,"pricing":null,)"
            R"("capabilities":{"vision":false,"functions":false,"streaming":true}}]})");
}

TEST(GatewayTranslate, GeminiModelListNamesModelsSlashAlias) {
  Harness h;
  ClientHeaders headers;
  headers.authorization = "";
  headers.x_goog_api_key = "sk-client";
  h.Call("GET", "/v1beta/models", "", headers);
  EXPECT_EQ(h.sink.head.status, 200);
  EXPECT_EQ(h.sink.body.rfind(R"({"models":[{"name":"models/claude","version":"001","displayName":"claude",)"
                              R"("description":"Served by Switchyard via provider 'anth'.",)",
                              0),
            0u)
      << h.sink.body;
  EXPECT_EQ(h.sink.body.find("\"name\":\"models/", 20), std::string::npos);  // one model only
}

}  // namespace
}  // namespace sy
