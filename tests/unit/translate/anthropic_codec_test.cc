// The Anthropic upstream codec: EncodeChat, DecodeChat, count_tokens, errors.
#include "provider/anthropic/anthropic_codec.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/ids.h"

namespace sy::anthropic {
namespace {

const AnthropicCodec kCodec;

chat::Part TextPart(std::string t) {
  chat::Part p;
  p.text = std::move(t);
  return p;
}
chat::Part CallPart(std::string id, std::string name, std::string args) {
  chat::Part p;
  p.kind = chat::PartKind::kToolCall;
  p.id = std::move(id);
  p.name = std::move(name);
  p.arguments = std::move(args);
  return p;
}
chat::Part ResultPart(std::string id, std::string text, bool is_error = false) {
  chat::Part p;
  p.kind = chat::PartKind::kToolResult;
  p.id = std::move(id);
  if (!text.empty()) p.content.push_back(TextPart(std::move(text)));
  p.is_error = is_error;
  return p;
}
chat::Message Msg(chat::Role role, std::vector<chat::Part> parts) { return chat::Message{role, std::move(parts)}; }

std::string EncodeOk(const chat::Request& r, CodecOptions options = {}) {
  auto out = kCodec.EncodeChat(r, "claude-up", options);
  if (auto* e = std::get_if<GatewayError>(&out)) {
    ADD_FAILURE() << e->message;
    return "";
  }
  const auto& call = std::get<UpstreamCall>(out);
  EXPECT_EQ(call.path, "/v1/messages");
  EXPECT_EQ(call.headers, (HeaderList{{"anthropic-version", "2023-06-01"}}));
  simdjson::dom::parser p;
  EXPECT_FALSE(p.parse(call.body).error()) << call.body;
  return call.body;
}

chat::Request Basic() {
  chat::Request r;
  r.model = "alias";
  r.messages.push_back(Msg(chat::Role::kUser, {TextPart("hi")}));
  return r;
}

TEST(AnthropicCodec, AuthAndPaths) {
  EXPECT_EQ(kCodec.AuthHeader("sk-1"), (std::pair<std::string, std::string>{"x-api-key", "sk-1"}));
  InternalRequest req;
  EXPECT_EQ(kCodec.PassthroughPath(req, "m"), "/v1/messages");
  req.operation = Operation::kCountTokens;
  EXPECT_EQ(kCodec.PassthroughPath(req, "m"), "/v1/messages/count_tokens");
  EXPECT_EQ(kCodec.protocol(), WireProtocol::kAnthropic);
}

TEST(AnthropicCodec, MinimalRequestDefaultsMaxTokens) {
  EXPECT_EQ(EncodeOk(Basic()),
            R"({"model":"claude-up","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]})");
}

TEST(AnthropicCodec, SystemSamplingStopUserStream) {
  chat::Request r = Basic();
  r.system = {TextPart("one"), TextPart(""), TextPart("two")};
  r.max_tokens = 100;
  r.temperature = 1.6;  // OpenAI range: clamped
  r.top_p = 0.5;        // dropped: temperature wins
  r.top_k = 5;
  r.stop = {"END"};
  r.user = "user-42";
  r.stream = true;
  EXPECT_EQ(EncodeOk(r),
            R"({"model":"claude-up","max_tokens":100,"system":[{"type":"text","text":"one"},{"type":"text","text":"two"}],)"
            R"("messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"temperature":1,"top_k":5,)"
            R"("stop_sequences":["END"],"metadata":{"user_id":"user-42"},"stream":true})");
  r.system = {TextPart("solo")};
  r.temperature.reset();
  r.user = R"({"device_id":"x","session":"y"})";
  std::string body = EncodeOk(r);
  EXPECT_NE(body.find(R"("system":"solo")"), std::string::npos);
  EXPECT_NE(body.find(R"("top_p":0.5)"), std::string::npos);
  EXPECT_NE(body.find(R"("metadata":{"user_id":"user_)"), std::string::npos) << body;  // hashed
  EXPECT_EQ(body.find("device_id"), std::string::npos);
  r.temperature = -1;
  EXPECT_NE(EncodeOk(r).find(R"("temperature":0)"), std::string::npos);
}

TEST(AnthropicCodec, ConversationAlternatesAndToolResultsLead) {
  chat::Request r;
  r.messages = {
      Msg(chat::Role::kUser, {TextPart("a")}),
      Msg(chat::Role::kUser, {TextPart("b")}),  // merged with the previous user turn
      Msg(chat::Role::kAssistant, {TextPart(""), CallPart("functions.Bash:0", "Bash", "{\"cmd\":\"ls\"}"),
                                   CallPart("call_2", "Read", "")}),
      Msg(chat::Role::kTool, {ResultPart("functions.Bash:0", "file.txt")}),
      Msg(chat::Role::kTool, {ResultPart("call_2", "denied", true)}),
      Msg(chat::Role::kUser, {TextPart("now what?")}),
  };
  const std::string bash = chat::SafeToolId("functions.Bash:0", "toolu_");
  EXPECT_EQ(EncodeOk(r),
            R"({"model":"claude-up","max_tokens":4096,"messages":[)"
            R"({"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},)"
            R"({"role":"assistant","content":[{"type":"tool_use","id":")" + bash + R"(","name":"Bash","input":{"cmd":"ls"}},)"
            R"({"type":"tool_use","id":"call_2","name":"Read","input":{}}]},)"
            R"({"role":"user","content":[{"type":"tool_result","tool_use_id":")" + bash + R"(","content":"file.txt"},)"
            R"({"type":"tool_result","tool_use_id":"call_2","content":"denied","is_error":true},)"
            R"({"type":"text","text":"now what?"}]}]})");
}

TEST(AnthropicCodec, ResultsGoFirstEvenAfterUserText) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kAssistant, {CallPart("c", "f", "{}")}), Msg(chat::Role::kUser, {TextPart("hm")}),
                Msg(chat::Role::kTool, {ResultPart("c", "")})};
  std::string body = EncodeOk(r);
  EXPECT_NE(body.find(R"([{"type":"tool_result","tool_use_id":"c"},{"type":"text","text":"hm"}])"), std::string::npos)
      << body;
}

TEST(AnthropicCodec, ThinkingReplayOnlyWithSignature) {
  chat::Part signed_thinking;
  signed_thinking.kind = chat::PartKind::kThinking;
  signed_thinking.signature = "sig-only";  // empty text: still replayed
  chat::Part foreign;
  foreign.kind = chat::PartKind::kThinking;
  foreign.text = "from another model";
  chat::Part redacted;
  redacted.kind = chat::PartKind::kRedactedThinking;
  redacted.signature = "blob";
  chat::Request r = Basic();
  r.messages.push_back(Msg(chat::Role::kAssistant, {signed_thinking, foreign, redacted, CallPart("c", "f", "{}")}));
  r.messages.push_back(Msg(chat::Role::kAssistant, {foreign}));  // nothing left: no turn
  std::string body = EncodeOk(r);
  EXPECT_NE(body.find(R"({"role":"assistant","content":[{"type":"thinking","thinking":"","signature":"sig-only"},)"
                      R"({"type":"redacted_thinking","data":"blob"},{"type":"tool_use","id":"c","name":"f","input":{}}]})"),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("another model"), std::string::npos);
}

TEST(AnthropicCodec, Images) {
  chat::Part inline_img;
  inline_img.kind = chat::PartKind::kImage;
  inline_img.media_type = "image/png";
  inline_img.data = "iVBOR";
  chat::Part url_img;
  url_img.kind = chat::PartKind::kImage;
  url_img.url = "https://x/y.jpg";
  chat::Part data_url;
  data_url.kind = chat::PartKind::kImage;
  data_url.url = "data:image/webp;base64,UklGRabc";
  chat::Part result = ResultPart("c", "see");
  result.content.push_back(inline_img);
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {inline_img, url_img, data_url}),
                Msg(chat::Role::kAssistant, {CallPart("c", "shot", "{}")}), Msg(chat::Role::kTool, {result})};
  std::string body = EncodeOk(r);
  EXPECT_NE(body.find(R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}})"),
            std::string::npos);
  EXPECT_NE(body.find(R"({"type":"image","source":{"type":"url","url":"https://x/y.jpg"}})"), std::string::npos);
  EXPECT_NE(body.find(R"({"type":"image","source":{"type":"base64","media_type":"image/webp","data":"UklGRabc"}})"),
            std::string::npos);
  EXPECT_NE(body.find(R"("content":[{"type":"text","text":"see"},{"type":"image")"), std::string::npos) << body;
}

TEST(AnthropicCodec, ToolsAndToolChoice) {
  chat::Request r = Basic();
  chat::Tool t;
  t.name = "get";
  t.description = "Get it";
  t.parameters = R"({"type":"object","properties":{"a":{"type":"string"}}})";
  chat::Tool bare;
  bare.name = "bare";
  bare.parameters = "not json";
  r.tools = {t, bare};
  std::string body = EncodeOk(r);
  EXPECT_NE(body.find(R"("tools":[{"name":"get","description":"Get it","input_schema":{"type":"object","properties":{"a":{"type":"string"}}}},)"
                      R"({"name":"bare","input_schema":{"type":"object","properties":{}}}])"),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("tool_choice"), std::string::npos);

  auto choice = [&](chat::ToolChoiceMode mode, std::optional<bool> parallel) {
    chat::Request c = r;
    c.tool_choice.mode = mode;
    c.tool_choice.name = "get";
    c.parallel_tool_calls = parallel;
    std::string b = EncodeOk(c);
    size_t at = b.find("\"tool_choice\":");
    if (at == std::string::npos) return std::string();
    return b.substr(at + 14, b.find('}', at) - at - 13);
  };
  EXPECT_EQ(choice(chat::ToolChoiceMode::kUnset, false), R"({"type":"auto","disable_parallel_tool_use":true})");
  EXPECT_EQ(choice(chat::ToolChoiceMode::kUnset, true), "");
  EXPECT_EQ(choice(chat::ToolChoiceMode::kAuto, std::nullopt), R"({"type":"auto"})");
  EXPECT_EQ(choice(chat::ToolChoiceMode::kRequired, false), R"({"type":"any","disable_parallel_tool_use":true})");
  EXPECT_EQ(choice(chat::ToolChoiceMode::kNamed, std::nullopt), R"({"type":"tool","name":"get"})");
  EXPECT_EQ(choice(chat::ToolChoiceMode::kNone, false), R"({"type":"none"})");
}

TEST(AnthropicCodec, Reasoning) {
  auto thinking = [](chat::Reasoning reasoning, std::optional<int64_t> max_tokens) {
    chat::Request r = Basic();
    r.reasoning = reasoning;
    r.max_tokens = max_tokens;
    return EncodeOk(r);
  };
  chat::Reasoning effort;
  effort.effort = "high";
  std::string b = thinking(effort, std::nullopt);
  EXPECT_NE(b.find(R"("max_tokens":25600)"), std::string::npos) << b;
  EXPECT_NE(b.find(R"("thinking":{"type":"enabled","budget_tokens":24576})"), std::string::npos) << b;
  effort.effort = "low";
  b = thinking(effort, 8000);
  EXPECT_NE(b.find(R"("max_tokens":8000)"), std::string::npos) << b;
  EXPECT_NE(b.find(R"("budget_tokens":1024)"), std::string::npos) << b;
  chat::Reasoning budget;
  budget.budget_tokens = 100;  // below the minimum
  b = thinking(budget, 500);
  EXPECT_NE(b.find(R"("max_tokens":2048)"), std::string::npos) << b;
  EXPECT_NE(b.find(R"("budget_tokens":1024)"), std::string::npos) << b;
  chat::Reasoning medium;
  medium.enabled = true;
  EXPECT_NE(thinking(medium, std::nullopt).find(R"("budget_tokens":8192)"), std::string::npos);
  chat::Reasoning off;
  off.enabled = false;
  off.effort = "high";
  EXPECT_EQ(thinking(off, std::nullopt).find("thinking"), std::string::npos);
  chat::Reasoning zero;
  zero.budget_tokens = 0;
  EXPECT_EQ(thinking(zero, std::nullopt).find("thinking"), std::string::npos);
  EXPECT_EQ(thinking(chat::Reasoning{}, std::nullopt).find("thinking"), std::string::npos);
}

TEST(AnthropicCodec, UnsupportedParameters) {
  auto param = [](auto set) {
    chat::Request r = Basic();
    set(r);
    auto out = kCodec.EncodeChat(r, "m", CodecOptions{});
    EXPECT_TRUE(std::holds_alternative<GatewayError>(out));
    auto dropped = kCodec.EncodeChat(r, "m", CodecOptions{true});
    EXPECT_TRUE(std::holds_alternative<UpstreamCall>(dropped));
    return std::holds_alternative<GatewayError>(out) ? std::get<GatewayError>(out).param.value_or("") : "";
  };
  EXPECT_EQ(param([](chat::Request& r) { r.frequency_penalty = 0.1; }), "frequency_penalty");
  EXPECT_EQ(param([](chat::Request& r) { r.presence_penalty = 0.1; }), "presence_penalty");
  EXPECT_EQ(param([](chat::Request& r) { r.seed = 1; }), "seed");
  EXPECT_EQ(param([](chat::Request& r) { r.n = 2; }), "n");
  EXPECT_EQ(param([](chat::Request& r) { r.response_format.type = chat::ResponseFormat::Type::kJsonObject; }),
            "response_format");
  chat::Request one = Basic();
  one.n = 1;
  EXPECT_TRUE(std::holds_alternative<UpstreamCall>(kCodec.EncodeChat(one, "m", CodecOptions{})));
}

TEST(AnthropicCodec, CountTokens) {
  chat::Request r = Basic();
  r.system = {TextPart("sys")};
  r.max_tokens = 5;
  r.stream = true;
  r.temperature = 0.3;
  chat::Tool t;
  t.name = "f";
  r.tools = {t};
  auto call = kCodec.EncodeCountTokens(r, "claude-up");
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->path, "/v1/messages/count_tokens");
  EXPECT_EQ(call->body,
            R"({"model":"claude-up","system":"sys","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],)"
            R"("tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}]})");
  EXPECT_EQ(kCodec.DecodeCountTokens(R"({"input_tokens":1234})"), 1234);
  EXPECT_FALSE(kCodec.DecodeCountTokens(R"({"tokens":1})").has_value());
  EXPECT_FALSE(kCodec.DecodeCountTokens("garbage").has_value());
}

TEST(AnthropicCodec, Embeddings) {
  auto e = kCodec.EncodeEmbed(chat::EmbedRequest{}, "m");
  ASSERT_TRUE(std::holds_alternative<GatewayError>(e));
  EXPECT_EQ(std::get<GatewayError>(e).code, ErrorCode::kBadRequest);
  EXPECT_EQ(std::get<GatewayError>(e).message, "providers of type anthropic have no embeddings endpoint");
  EXPECT_TRUE(std::holds_alternative<GatewayError>(kCodec.DecodeEmbed("{}")));
}

// ------------------------------------------------------------------ DecodeChat

chat::Response DecodeOk(std::string_view body) {
  auto r = kCodec.DecodeChat(body);
  if (auto* e = std::get_if<GatewayError>(&r)) ADD_FAILURE() << e->message << " " << e->detail;
  return std::holds_alternative<chat::Response>(r) ? std::get<chat::Response>(r) : chat::Response{};
}

TEST(AnthropicCodecDecode, FullResponse) {
  chat::Response r = DecodeOk(R"({"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet",
    "content":[{"type":"thinking","thinking":"hmm","signature":"S1"},{"type":"redacted_thinking","data":"R1"},
      {"type":"text","text":"Sure."},{"type":"text","text":""},
      {"type":"server_tool_use","id":"srv","name":"web_search","input":{}},
      {"type":"tool_use","id":"toolu_1","name":"get","input":{"a": [1, {"b": null}]}},
      {"type":"tool_use","id":"toolu_2","name":"none","input":{}}],
    "stop_reason":"tool_use","stop_sequence":null,
    "usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":42}})");
  EXPECT_EQ(r.id, "msg_01");
  EXPECT_EQ(r.model, "claude-sonnet");
  ASSERT_EQ(r.content.size(), 5u);
  EXPECT_EQ(r.content[0].kind, chat::PartKind::kThinking);
  EXPECT_EQ(r.content[0].signature, "S1");
  EXPECT_EQ(r.content[1].kind, chat::PartKind::kRedactedThinking);
  EXPECT_EQ(r.content[1].signature, "R1");
  EXPECT_EQ(r.content[2].text, "Sure.");
  EXPECT_EQ(r.content[3].arguments, R"({"a":[1,{"b":null}]})");
  EXPECT_EQ(r.content[4].arguments, "{}");
  EXPECT_EQ(r.finish, chat::FinishReason::kToolCalls);
  ASSERT_TRUE(r.usage.has_value());
  EXPECT_EQ(r.usage->input_tokens, 115);
  EXPECT_EQ(r.usage->cached_input_tokens, 100);
  EXPECT_EQ(r.usage->cache_write_tokens, 5);
  EXPECT_EQ(r.usage->output_tokens, 42);
}

TEST(AnthropicCodecDecode, StopReasons) {
  auto finish = [](std::string_view reason, bool tool = false) {
    std::string body = R"({"content":[)" + std::string(tool ? R"({"type":"tool_use","id":"t","name":"f","input":{}})" : "") +
                       R"(],"stop_reason":)" + std::string(reason) + R"(,"stop_sequence":"ZZ"})";
    return DecodeOk(body).finish;
  };
  EXPECT_EQ(finish("\"end_turn\""), chat::FinishReason::kStop);
  EXPECT_EQ(finish("\"end_turn\"", true), chat::FinishReason::kToolCalls);
  EXPECT_EQ(finish("\"max_tokens\"", true), chat::FinishReason::kLength);
  EXPECT_EQ(finish("\"stop_sequence\""), chat::FinishReason::kStopSequence);
  EXPECT_EQ(finish("\"tool_use\""), chat::FinishReason::kToolCalls);
  EXPECT_EQ(finish("\"pause_turn\""), chat::FinishReason::kPause);
  EXPECT_EQ(finish("\"refusal\""), chat::FinishReason::kContentFilter);
  EXPECT_EQ(finish("\"model_context_window_exceeded\""), chat::FinishReason::kContextFull);
  EXPECT_EQ(finish("\"brand_new_reason\""), chat::FinishReason::kStop);
  EXPECT_EQ(finish("\"brand_new_reason\"", true), chat::FinishReason::kToolCalls);
  EXPECT_EQ(finish("null"), chat::FinishReason::kStop);
  EXPECT_EQ(DecodeOk(R"({"content":[],"stop_reason":"stop_sequence","stop_sequence":"ZZ"})").stop_sequence, "ZZ");
}

TEST(AnthropicCodecDecode, ErrorsAndGarbage) {
  auto code = [](std::string_view body) {
    auto r = kCodec.DecodeChat(body);
    EXPECT_TRUE(std::holds_alternative<GatewayError>(r)) << body;
    return std::holds_alternative<GatewayError>(r) ? std::get<GatewayError>(r).code : ErrorCode::kInternal;
  };
  EXPECT_EQ(code(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"), ErrorCode::kNoProvider);
  EXPECT_EQ(code(R"({"type":"error","error":{"type":"rate_limit_error","message":"x"}})"), ErrorCode::kRateLimited);
  EXPECT_EQ(code(R"({"type":"error","error":{"type":"api_error","message":"x"}})"), ErrorCode::kProviderError);
  EXPECT_EQ(code("<html>"), ErrorCode::kProviderError);
  EXPECT_EQ(code("[]"), ErrorCode::kProviderError);
  EXPECT_EQ(code(R"({"content":[1]})"), ErrorCode::kProviderError);
  EXPECT_TRUE(DecodeOk("{}").content.empty());
}

TEST(AnthropicCodecDecode, ErrorMessage) {
  EXPECT_EQ(kCodec.ErrorMessage(R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too big"}})"),
            "max_tokens: too big");
  EXPECT_EQ(kCodec.ErrorMessage("Bad Gateway"), "Bad Gateway");
  std::string long_body = std::string(199, 'a') + "\xc3\xa9" + std::string(100, 'b');
  EXPECT_EQ(kCodec.ErrorMessage(long_body), std::string(199, 'a'));  // never half a character
}

}  // namespace
}  // namespace sy::anthropic
