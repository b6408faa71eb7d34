// HttpProvider's translated path (Chat, Embed, CountTokens) over a
// FakeHttpClient with the real codecs: what goes upstream in each protocol's
// native shape, and how each kind of upstream answer reaches a ChatReceiver.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "provider/http_provider.h"
#include "run_awaitable.h"
#include "upstream/fake_http_client.h"

namespace sy {
namespace {

using upstream::FakeHttpClient;
using upstream::FakeReply;
using upstream::HttpErrorKind;

// Records what the provider hands on. `alive_batches`: Events() returns
// false from that batch on (1-based; -1 = always alive).
class RecordingReceiver final : public ChatReceiver {
 public:
  boost::asio::awaitable<bool> Response(chat::Response& response) override {
    responses.push_back(response);
    co_return alive;
  }
  boost::asio::awaitable<bool> Events(std::vector<chat::StreamEvent>& events) override {
    batches.push_back(events);
    if (alive_batches >= 0 && static_cast<int>(batches.size()) >= alive_batches) co_return false;
    co_return alive;
  }

  // The kinds of every batch, in order.
  std::vector<std::vector<chat::EventKind>> Kinds() const {
    std::vector<std::vector<chat::EventKind>> out;
    for (const auto& b : batches) {
      std::vector<chat::EventKind> kinds;
      for (const auto& e : b) kinds.push_back(e.kind);
      out.push_back(std::move(kinds));
    }
    return out;
  }

  std::vector<chat::Response> responses;
  std::vector<std::vector<chat::StreamEvent>> batches;
  bool alive = true;
  int alive_batches = -1;
};

config::ProviderConfig ConfigFor(const std::string& type) {
  config::ProviderConfig p;
  p.id = "up";
  p.type = type;
  p.base_url = "http://up";
  p.keys = {{"k1", "sk-up-1", 1}};
  p.headers = {{"X-Extra", "extra-1"}};
  p.timeout_s = 42;
  return p;
}

chat::Request Hi(bool stream) {
  chat::Request r;
  r.model = "alias";
  r.stream = stream;
  r.max_tokens = 100;
  chat::Message m;
  m.role = chat::Role::kUser;
  chat::Part p;
  p.text = "hi";
  m.parts.push_back(p);
  r.messages.push_back(m);
  return r;
}

// Every value of header `name` (exact spelling) in the upstream request.
std::vector<std::string> HeaderValues(const upstream::HttpRequest& req, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : req.headers) {
    if (n == name) out.push_back(v);
  }
  return out;
}

using Values = std::vector<std::string>;

struct Harness {
  explicit Harness(const std::string& type) : provider(ConfigFor(type), MakeCodec(type)) {}

  ProviderOutcome Chat(const chat::Request& req, const std::string& model, bool drop_params = false) {
    ProviderCall call;
    call.upstream_model = model;
    call.http = &http;
    call.cancel = &cancel;
    call.chat = &req;
    call.drop_params = drop_params;
    return testing::RunAwaitable(io, provider.Chat(std::move(call), receiver));
  }
  ProviderOutcome Embed(const chat::EmbedRequest& req, const std::string& model, chat::EmbedResponse* out) {
    ProviderCall call;
    call.upstream_model = model;
    call.http = &http;
    call.cancel = &cancel;
    call.embed = &req;
    return testing::RunAwaitable(io, provider.Embed(std::move(call), out));
  }
  ProviderOutcome Count(const chat::Request& req, const std::string& model, std::optional<int64_t>* out) {
    ProviderCall call;
    call.upstream_model = model;
    call.http = &http;
    call.cancel = &cancel;
    call.chat = &req;
    return testing::RunAwaitable(io, provider.CountTokens(std::move(call), out));
  }

  boost::asio::io_context io;
  FakeHttpClient http;
  HttpProvider provider;
  RecordingReceiver receiver;
  Cancellation cancel;
};

// ---------------------------------------------------------------- Anthropic wire

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

constexpr const char* kAnthropicAnswer =
    R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-up",)"
    R"("content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","stop_sequence":null,)"
    R"("usage":{"input_tokens":12,"cache_read_input_tokens":3,"output_tokens":5}})";

// ---------------------------------------------------------------- what goes upstream

TEST(HttpProviderTranslate, AnthropicChatGoesToMessagesWithItsOwnHeaders) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Json(200, kAnthropicAnswer));
  auto outcome = h.Chat(Hi(false), "claude-up");
  EXPECT_FALSE(outcome.error);
  ASSERT_EQ(h.http.requests().size(), 1u);
  const auto& sent = h.http.requests()[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "http://up/v1/messages");
  EXPECT_EQ(HeaderValues(sent, "x-api-key"), Values{"sk-up-1"});
  EXPECT_EQ(HeaderValues(sent, "Authorization"), Values{});
  EXPECT_EQ(HeaderValues(sent, "anthropic-version"), Values{"2023-06-01"});
  EXPECT_EQ(HeaderValues(sent, "Content-Type"), Values{"application/json"});
  EXPECT_EQ(HeaderValues(sent, "Accept"), Values{});  // not streaming
  EXPECT_EQ(HeaderValues(sent, "X-Extra"), Values{"extra-1"});
  EXPECT_EQ(sent.read_timeout, std::chrono::seconds(42));
  EXPECT_EQ(sent.body,
            R"({"model":"claude-up","max_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]})");
}

TEST(HttpProviderTranslate, AnthropicStreamAsksForEventStream) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Stream({kMsgStart, kMsgStop}));
  h.Chat(Hi(true), "claude-up");
  ASSERT_EQ(h.http.requests().size(), 1u);
  const auto& sent = h.http.requests()[0];
  EXPECT_EQ(sent.url, "http://up/v1/messages");
  EXPECT_EQ(HeaderValues(sent, "Accept"), Values{"text/event-stream"});
  EXPECT_EQ(sent.body,
            R"({"model":"claude-up","max_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true})");
}

TEST(HttpProviderTranslate, TrailingSlashOfBaseUrlIsNotDoubled) {
  auto cfg = ConfigFor("anthropic");
  cfg.base_url = "http://up/";
  boost::asio::io_context io;
  FakeHttpClient http;
  HttpProvider provider(cfg);  // codec from config.type
  RecordingReceiver receiver;
  Cancellation cancel;
  http.Push(FakeReply::Json(200, kAnthropicAnswer));
  const chat::Request req = Hi(false);
  ProviderCall call;
  call.upstream_model = "claude-up";
  call.http = &http;
  call.cancel = &cancel;
  call.chat = &req;
  testing::RunAwaitable(io, provider.Chat(std::move(call), receiver));
  ASSERT_EQ(http.requests().size(), 1u);
  EXPECT_EQ(http.requests()[0].url, "http://up/v1/messages");
  EXPECT_EQ(provider.protocol(), WireProtocol::kAnthropic);
}

TEST(HttpProviderTranslate, OpenAiChatUsesBearerAndAsksForStreamUsage) {
  Harness h("openai");
  h.http.Push(FakeReply::Stream({"data: [DONE]\n\n"}));
  h.Chat(Hi(true), "gpt-up");
  ASSERT_EQ(h.http.requests().size(), 1u);
  const auto& sent = h.http.requests()[0];
  EXPECT_EQ(sent.url, "http://up/chat/completions");
  EXPECT_EQ(HeaderValues(sent, "Authorization"), Values{"Bearer sk-up-1"});
  EXPECT_EQ(HeaderValues(sent, "x-api-key"), Values{});
  EXPECT_EQ(HeaderValues(sent, "anthropic-version"), Values{});
  EXPECT_EQ(HeaderValues(sent, "Accept"), Values{"text/event-stream"});
  EXPECT_EQ(sent.body,
            R"({"model":"gpt-up","messages":[{"role":"user","content":"hi"}],"stream":true,)"
            R"("stream_options":{"include_usage":true},"max_tokens":100})");
}

TEST(HttpProviderTranslate, GeminiChatPutsTheModelInThePathAndUsesGoogleKey) {
  Harness h("gemini");
  h.http.Push(FakeReply::Json(200, R"({"candidates":[{"content":{"parts":[{"text":"ok"}],"role":"model"},"finishReason":"STOP"}]})"));
  h.Chat(Hi(false), "gemini-up");
  h.http.Push(FakeReply::Stream({}));
  h.Chat(Hi(true), "gemini-up");
  ASSERT_EQ(h.http.requests().size(), 2u);
  const auto& plain = h.http.requests()[0];
  EXPECT_EQ(plain.url, "http://up/v1beta/models/gemini-up:generateContent");
  EXPECT_EQ(HeaderValues(plain, "x-goog-api-key"), Values{"sk-up-1"});
  EXPECT_EQ(HeaderValues(plain, "Authorization"), Values{});
  EXPECT_EQ(HeaderValues(plain, "Accept"), Values{});
  EXPECT_EQ(plain.body.find("\"model\""), std::string::npos);  // the model is in the path only
  EXPECT_EQ(plain.body.rfind(R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}])", 0), 0u) << plain.body;
  const auto& streamed = h.http.requests()[1];
  EXPECT_EQ(streamed.url, "http://up/v1beta/models/gemini-up:streamGenerateContent?alt=sse");
  EXPECT_EQ(HeaderValues(streamed, "Accept"), Values{"text/event-stream"});
  ASSERT_EQ(h.receiver.responses.size(), 1u);
  ASSERT_EQ(h.receiver.responses[0].content.size(), 1u);
  EXPECT_EQ(h.receiver.responses[0].content[0].text, "ok");
}

TEST(HttpProviderTranslate, OllamaChatGoesToApiChatWithBearer) {
  Harness h("ollama");
  h.http.Push(FakeReply::Json(200, R"({"model":"llama-up","message":{"role":"assistant","content":"yo"},"done":true,"done_reason":"stop","prompt_eval_count":4,"eval_count":2})"));
  auto outcome = h.Chat(Hi(false), "llama-up");
  EXPECT_FALSE(outcome.error);
  ASSERT_EQ(h.http.requests().size(), 1u);
  const auto& sent = h.http.requests()[0];
  EXPECT_EQ(sent.url, "http://up/api/chat");
  EXPECT_EQ(HeaderValues(sent, "Authorization"), Values{"Bearer sk-up-1"});
  EXPECT_EQ(sent.body.rfind(R"({"model":"llama-up",)", 0), 0u) << sent.body;
  EXPECT_NE(sent.body.find(R"("stream":false)"), std::string::npos) << sent.body;
  ASSERT_EQ(h.receiver.responses.size(), 1u);
  const auto& r = h.receiver.responses[0];
  ASSERT_EQ(r.content.size(), 1u);
  EXPECT_EQ(r.content[0].text, "yo");
  ASSERT_TRUE(r.usage);
  EXPECT_EQ(r.usage->input_tokens, 4);
  EXPECT_EQ(r.usage->output_tokens, 2);
}

// ---------------------------------------------------------------- answers

TEST(HttpProviderTranslate, NonStreamAnswerIsDecodedIntoOneResponse) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Json(200, kAnthropicAnswer));
  auto outcome = h.Chat(Hi(false), "claude-up");
  EXPECT_FALSE(outcome.error);
  EXPECT_FALSE(outcome.client_gone);
  EXPECT_EQ(outcome.upstream_status, 200);
  EXPECT_TRUE(h.receiver.batches.empty());
  ASSERT_EQ(h.receiver.responses.size(), 1u);
  const chat::Response& r = h.receiver.responses[0];
  EXPECT_EQ(r.id, "msg_1");
  EXPECT_EQ(r.model, "claude-up");
  ASSERT_EQ(r.content.size(), 1u);
  EXPECT_EQ(r.content[0].kind, chat::PartKind::kText);
  EXPECT_EQ(r.content[0].text, "Hello!");
  EXPECT_EQ(r.finish, chat::FinishReason::kStop);
  ASSERT_TRUE(r.usage);
  EXPECT_EQ(r.usage->input_tokens, 15);  // 12 + 3 cached: the "total" convention
  EXPECT_EQ(r.usage->cached_input_tokens, 3);
  EXPECT_EQ(r.usage->output_tokens, 5);
  EXPECT_TRUE(h.provider.healthy());
}

TEST(HttpProviderTranslate, OpenAiNonStreamAnswerWithToolCallIsDecoded) {
  Harness h("openai");
  h.http.Push(FakeReply::Json(
      200,
      R"({"id":"chatcmpl-9","object":"chat.completion","model":"gpt-up","choices":[{"index":0,"message":{"role":"assistant","content":null,)"
      R"("tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},)"
      R"("finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":7,"total_tokens":27}})"));
  auto outcome = h.Chat(Hi(false), "gpt-up");
  EXPECT_FALSE(outcome.error);
  ASSERT_EQ(h.receiver.responses.size(), 1u);
  const chat::Response& r = h.receiver.responses[0];
  EXPECT_EQ(r.id, "chatcmpl-9");
  ASSERT_EQ(r.content.size(), 1u);
  EXPECT_EQ(r.content[0].kind, chat::PartKind::kToolCall);
  EXPECT_EQ(r.content[0].id, "call_1");
  EXPECT_EQ(r.content[0].name, "get_weather");
  EXPECT_EQ(r.content[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(r.finish, chat::FinishReason::kToolCalls);
  ASSERT_TRUE(r.usage);
  EXPECT_EQ(r.usage->input_tokens, 20);
  EXPECT_EQ(r.usage->output_tokens, 7);
}

TEST(HttpProviderTranslate, StreamPiecesArriveAsOrderedEventBatches) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Stream(
      {kMsgStart, kBlockStart + TextDelta("Hel"), TextDelta("lo") + kBlockStop, kMsgDelta + kMsgStop}));
  auto outcome = h.Chat(Hi(true), "claude-up");
  EXPECT_FALSE(outcome.error);
  EXPECT_FALSE(outcome.client_gone);
  EXPECT_TRUE(h.receiver.responses.empty());
  using K = chat::EventKind;
  // One Events() call per upstream piece, each handed on as it came.
  const std::vector<std::vector<K>> expected = {{K::kStart}, {K::kTextDelta}, {K::kTextDelta}, {K::kUsage, K::kFinish}};
  ASSERT_EQ(h.receiver.Kinds(), expected);
  const auto& b = h.receiver.batches;
  EXPECT_EQ(b[0][0].id, "msg_1");
  EXPECT_EQ(b[0][0].model, "claude-up");
  ASSERT_TRUE(b[0][0].usage);
  EXPECT_EQ(b[0][0].usage->input_tokens, 12);
  EXPECT_EQ(b[1][0].text, "Hel");
  EXPECT_EQ(b[2][0].text, "lo");
  ASSERT_TRUE(b[3][0].usage);
  EXPECT_EQ(b[3][0].usage->input_tokens, 12);
  EXPECT_EQ(b[3][0].usage->output_tokens, 5);
  EXPECT_EQ(b[3][1].finish, chat::FinishReason::kStop);
  EXPECT_EQ(h.http.abandoned(), 0);  // read to its end
  EXPECT_TRUE(h.provider.healthy());
}

TEST(HttpProviderTranslate, AnEventSplitAcrossPiecesIsHandedOnWhenComplete) {
  Harness h("anthropic");
  const std::string delta = TextDelta("abc");
  const std::string head = delta.substr(0, 30);
  const std::string rest = delta.substr(30);
  h.http.Push(FakeReply::Stream({kMsgStart + kBlockStart, head, rest, kMsgStop}));
  h.Chat(Hi(true), "claude-up");
  using K = chat::EventKind;
  // The piece holding half an event yields nothing, so no call for it.
  const std::vector<std::vector<K>> expected = {{K::kStart}, {K::kTextDelta}, {K::kUsage, K::kFinish}};
  ASSERT_EQ(h.receiver.Kinds(), expected);
  EXPECT_EQ(h.receiver.batches[1][0].text, "abc");
}

TEST(HttpProviderTranslate, OpenAiStreamIsDecodedToo) {
  Harness h("openai");
  h.http.Push(FakeReply::Stream({
      R"(data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-up","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]})"
      "\n\n",
      R"(data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-up","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
      "\n\n",
      R"(data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-up","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})"
      "\n\ndata: [DONE]\n\n",
  }));
  auto outcome = h.Chat(Hi(true), "gpt-up");
  EXPECT_FALSE(outcome.error);
  // Collapse the batches: the OpenAI decoder holds finish until [DONE].
  std::vector<chat::StreamEvent> all;
  for (const auto& b : h.receiver.batches) all.insert(all.end(), b.begin(), b.end());
  ASSERT_GE(all.size(), 4u);
  EXPECT_EQ(all.front().kind, chat::EventKind::kStart);
  EXPECT_EQ(all.front().id, "c1");
  EXPECT_EQ(all[1].kind, chat::EventKind::kTextDelta);
  EXPECT_EQ(all[1].text, "Hi");
  EXPECT_EQ(all.back().kind, chat::EventKind::kFinish);
  EXPECT_EQ(all.back().finish, chat::FinishReason::kStop);
  const chat::StreamEvent& usage = all[all.size() - 2];
  ASSERT_EQ(usage.kind, chat::EventKind::kUsage);
  ASSERT_TRUE(usage.usage);
  EXPECT_EQ(usage.usage->input_tokens, 3);
  EXPECT_EQ(usage.usage->output_tokens, 1);
}

TEST(HttpProviderTranslate, StreamThatEndsEarlyEndsWithAnErrorEvent) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Stream({kMsgStart, kBlockStart + TextDelta("partial")}));
  auto outcome = h.Chat(Hi(true), "claude-up");
  // The failure travels in the stream, to the receiver; the outcome is clean.
  EXPECT_FALSE(outcome.error);
  EXPECT_FALSE(outcome.client_gone);
  using K = chat::EventKind;
  const std::vector<std::vector<K>> expected = {{K::kStart}, {K::kTextDelta, K::kError}};
  ASSERT_EQ(h.receiver.Kinds(), expected);
  const auto& err = h.receiver.batches[1][1];
  ASSERT_TRUE(err.error);
  EXPECT_EQ(err.error->code, ErrorCode::kProviderError);
  EXPECT_EQ(err.error->message, "The upstream stream ended early (no message_stop).");
}

TEST(HttpProviderTranslate, UpstreamErrorEventBecomesATypedErrorEvent) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Stream(
      {"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"}));
  auto outcome = h.Chat(Hi(true), "claude-up");
  EXPECT_FALSE(outcome.error);
  ASSERT_EQ(h.receiver.batches.size(), 1u);
  ASSERT_EQ(h.receiver.batches[0].size(), 1u);
  const auto& ev = h.receiver.batches[0][0];
  EXPECT_EQ(ev.kind, chat::EventKind::kError);
  ASSERT_TRUE(ev.error);
  EXPECT_EQ(ev.error->code, ErrorCode::kNoProvider);
  EXPECT_EQ(ev.error->message, "Overloaded");
}

TEST(HttpProviderTranslate, TransportFailureMidStreamIsTheOutcomesError) {
  Harness h("anthropic");
  auto reply = FakeReply::Stream({kMsgStart});
  reply.body_error = {HttpErrorKind::kClosed, "connection reset by 10.0.0.7"};
  h.http.Push(reply);
  auto outcome = h.Chat(Hi(true), "claude-up");
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kProviderError);
  EXPECT_EQ(outcome.error->message, "Provider 'up' failed to answer.");
  EXPECT_EQ(h.receiver.batches.size(), 1u);  // the start was already handed on
}

TEST(HttpProviderTranslate, ReceiverGoneCancelsTheUpstream) {
  Harness h("anthropic");
  auto reply = FakeReply::Stream({kMsgStart, kBlockStart + TextDelta("a"), TextDelta("b")});
  reply.hang_after_pieces = true;
  h.http.Push(reply);
  h.receiver.alive_batches = 2;  // the client goes away on the second batch
  auto outcome = h.Chat(Hi(true), "claude-up");
  EXPECT_TRUE(outcome.client_gone);
  EXPECT_FALSE(outcome.error);
  EXPECT_TRUE(h.cancel.cancelled());
  EXPECT_EQ(h.receiver.batches.size(), 2u);  // nothing read after that
  EXPECT_EQ(h.http.abandoned(), 1);          // the upstream response was dropped unread
}

TEST(HttpProviderTranslate, Upstream400IsABadRequestWithTheUpstreamsMessage) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Json(
      400, R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}})"));
  auto outcome = h.Chat(Hi(false), "claude-up");
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kBadRequest);
  EXPECT_EQ(outcome.error->message, "Provider 'up' rejected the request: max_tokens: too large");
  EXPECT_EQ(outcome.upstream_status, 400);
  EXPECT_TRUE(h.receiver.responses.empty());
  EXPECT_TRUE(h.provider.healthy());
}

TEST(HttpProviderTranslate, Upstream404IsModelNotFound) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Json(404, R"({"type":"error","error":{"type":"not_found_error","message":"model: claude-nope"}})"));
  auto outcome = h.Chat(Hi(true), "claude-nope");
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kModelNotFound);
  EXPECT_EQ(outcome.error->message, "Provider 'up' rejected the request: model: claude-nope");
  EXPECT_TRUE(h.receiver.batches.empty());
}

TEST(HttpProviderTranslate, Upstream429IsRateLimitedWithRetryAfter) {
  Harness h("anthropic");
  auto reply = FakeReply::Json(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})");
  reply.headers.emplace_back("retry-after", "7");
  h.http.Push(reply);
  auto outcome = h.Chat(Hi(true), "claude-up");
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kRateLimited);
  EXPECT_EQ(outcome.error->retry_after, std::optional<std::string>("7"));
  EXPECT_EQ(outcome.error->message, "Provider 'up' is rate limiting requests: slow down");
  EXPECT_TRUE(h.receiver.batches.empty());
  EXPECT_TRUE(h.provider.healthy());
}

TEST(HttpProviderTranslate, Upstream500IsProviderErrorWithoutTheUpstreamsWords) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Json(500, R"({"type":"error","error":{"type":"api_error","message":"db at 10.9.9.9 down"}})"));
  auto outcome = h.Chat(Hi(false), "claude-up");
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kProviderError);
  EXPECT_EQ(outcome.error->message, "Provider 'up' returned HTTP 500.");
  EXPECT_EQ(outcome.error->message.find("10.9.9.9"), std::string::npos);
  EXPECT_NE(outcome.error->detail.find("db at 10.9.9.9 down"), std::string::npos);  // for the log
  EXPECT_TRUE(h.receiver.responses.empty());
}

TEST(HttpProviderTranslate, MalformedNonStreamBodyIsProviderError) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Json(200, R"({"id":"msg_1","content":[)"));
  auto outcome = h.Chat(Hi(false), "claude-up");
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kProviderError);
  EXPECT_EQ(outcome.error->message, "Provider 'up' sent a response the gateway could not read.");
  EXPECT_TRUE(h.receiver.responses.empty());
}

TEST(HttpProviderTranslate, ErrorObjectInA200BodyKeepsTheUpstreamsErrorCode) {
  // An upstream that reports its failure in a 2xx body: the codec reads the
  // error (overloaded_error → kNoProvider, 503), as the stream path does for
  // the same error as an SSE event.
  Harness h("anthropic");
  h.http.Push(FakeReply::Json(200, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
  auto outcome = h.Chat(Hi(false), "claude-up");
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kNoProvider);
  EXPECT_EQ(outcome.error->message, "Overloaded");
  EXPECT_TRUE(h.receiver.responses.empty());

  Harness o("openai");
  o.http.Push(FakeReply::Json(200, R"({"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}})"));
  outcome = o.Chat(Hi(false), "gpt-up");
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kRateLimited);
}

TEST(HttpProviderTranslate, UnsupportedParameterIs400BeforeAnythingGoesUpstream) {
  Harness h("openai");
  chat::Request req = Hi(false);
  req.top_k = 40;
  auto outcome = h.Chat(req, "gpt-up");
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kBadRequest);
  EXPECT_EQ(outcome.error->param, std::optional<std::string>("top_k"));
  EXPECT_EQ(outcome.error->message,
            "Parameter 'top_k' is not supported by providers of type 'openai'. Remove it, or set drop_params: true "
            "for this provider or model to drop it.");
  EXPECT_TRUE(h.http.requests().empty());
  EXPECT_EQ(outcome.upstream_status, 0);

  // drop_params: the parameter is left out and the call goes up.
  h.http.Push(FakeReply::Json(
      200, R"({"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]})"));
  outcome = h.Chat(req, "gpt-up", /*drop_params=*/true);
  EXPECT_FALSE(outcome.error);
  ASSERT_EQ(h.http.requests().size(), 1u);
  EXPECT_EQ(h.http.requests()[0].body.find("top_k"), std::string::npos);
  ASSERT_EQ(h.receiver.responses.size(), 1u);
}

TEST(HttpProviderTranslate, EmbedIsEncodedAndDecoded) {
  Harness h("openai");
  h.http.Push(FakeReply::Json(
      200,
      R"({"object":"list","data":[{"object":"embedding","index":1,"embedding":[0.5,-1]},)"
      R"({"object":"embedding","index":0,"embedding":[0.25,2]}],"model":"emb-up","usage":{"prompt_tokens":6,"total_tokens":6}})"));
  chat::EmbedRequest req;
  req.model = "alias";
  req.inputs = {"one", "two"};
  chat::EmbedResponse out;
  auto outcome = h.Embed(req, "emb-up", &out);
  EXPECT_FALSE(outcome.error);
  ASSERT_EQ(h.http.requests().size(), 1u);
  const auto& sent = h.http.requests()[0];
  EXPECT_EQ(sent.url, "http://up/embeddings");
  EXPECT_EQ(HeaderValues(sent, "Accept"), Values{});
  EXPECT_EQ(sent.body, R"({"model":"emb-up","input":["one","two"],"encoding_format":"float"})");
  const std::vector<std::vector<double>> expected = {{0.25, 2.0}, {0.5, -1.0}};  // in index order
  EXPECT_EQ(out.vectors, expected);
  ASSERT_TRUE(out.usage);
  EXPECT_EQ(out.usage->input_tokens, 6);
}

TEST(HttpProviderTranslate, EmbedOnAProtocolWithoutEmbeddingsIs400) {
  Harness h("anthropic");
  chat::EmbedRequest req;
  req.inputs = {"x"};
  chat::EmbedResponse out;
  auto outcome = h.Embed(req, "claude-up", &out);
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kBadRequest);
  EXPECT_TRUE(h.http.requests().empty());
}

TEST(HttpProviderTranslate, CountTokensWithoutAnEndpointSendsNothing) {
  Harness h("openai");
  std::optional<int64_t> count;
  auto outcome = h.Count(Hi(false), "gpt-up", &count);
  EXPECT_FALSE(outcome.error);
  EXPECT_FALSE(count.has_value());
  EXPECT_TRUE(h.http.requests().empty());
}

TEST(HttpProviderTranslate, CountTokensAsksAnthropicsEndpoint) {
  Harness h("anthropic");
  h.http.Push(FakeReply::Json(200, R"({"input_tokens":42})"));
  std::optional<int64_t> count;
  auto outcome = h.Count(Hi(false), "claude-up", &count);
  EXPECT_FALSE(outcome.error);
  EXPECT_EQ(count, std::optional<int64_t>(42));
  ASSERT_EQ(h.http.requests().size(), 1u);
  const auto& sent = h.http.requests()[0];
  EXPECT_EQ(sent.url, "http://up/v1/messages/count_tokens");
  EXPECT_EQ(HeaderValues(sent, "x-api-key"), Values{"sk-up-1"});
  EXPECT_EQ(HeaderValues(sent, "anthropic-version"), Values{"2023-06-01"});
  EXPECT_EQ(sent.body, R"({"model":"claude-up","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]})");

  // An answer without a count is the provider's fault.
  h.http.Push(FakeReply::Json(200, R"({"tokens":1})"));
  std::optional<int64_t> none;
  outcome = h.Count(Hi(false), "claude-up", &none);
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code, ErrorCode::kProviderError);
}

}  // namespace
}  // namespace sy
