// OpenAiCodec (provider/openai/openai_codec.h): requests encoded for an
// OpenAI-compatible upstream, non-stream answers, embeddings and error bodies
// decoded. The stream decoder is in openai_stream_decoder_test.cc.
#include "provider/openai/openai_codec.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "core/ids.h"

namespace sy::openai {
namespace {

using chat::FinishReason;
using chat::PartKind;

const OpenAiCodec codec;

chat::Part Text(std::string t) {
  chat::Part p;
  p.text = std::move(t);
  return p;
}

chat::Part Image(std::string media_type, std::string data) {
  chat::Part p;
  p.kind = PartKind::kImage;
  p.media_type = std::move(media_type);
  p.data = std::move(data);
  return p;
}

chat::Part Call(std::string id, std::string name, std::string args) {
  chat::Part p;
  p.kind = PartKind::kToolCall;
  p.id = std::move(id);
  p.name = std::move(name);
  p.arguments = std::move(args);
  return p;
}

chat::Part Result(std::string id, std::vector<chat::Part> content) {
  chat::Part p;
  p.kind = PartKind::kToolResult;
  p.id = std::move(id);
  p.content = std::move(content);
  return p;
}

chat::Message Msg(chat::Role role, std::vector<chat::Part> parts) {
  chat::Message m;
  m.role = role;
  m.parts = std::move(parts);
  return m;
}

UpstreamCall Encode(const chat::Request& r, CodecOptions options = {}) {
  auto out = codec.EncodeChat(r, "gpt-up", options);
  EXPECT_TRUE(std::holds_alternative<UpstreamCall>(out))
      << (std::holds_alternative<GatewayError>(out) ? std::get<GatewayError>(out).message : "");
  if (!std::holds_alternative<UpstreamCall>(out)) return {};
  // Always valid JSON.
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  EXPECT_EQ(p.parse(std::get<UpstreamCall>(out).body).get(doc), simdjson::SUCCESS) << std::get<UpstreamCall>(out).body;
  return std::get<UpstreamCall>(out);
}

chat::Response Decode(const std::string& body) {
  auto out = codec.DecodeChat(body);
  EXPECT_TRUE(std::holds_alternative<chat::Response>(out))
      << (std::holds_alternative<GatewayError>(out) ? std::get<GatewayError>(out).message : "");
  return std::holds_alternative<chat::Response>(out) ? std::get<chat::Response>(out) : chat::Response{};
}

// ------------------------------------------------------------------ basics

TEST(OpenAiCodec, AuthAndPaths) {
  EXPECT_EQ(codec.AuthHeader("sk-1"), (std::pair<std::string, std::string>{"Authorization", "Bearer sk-1"}));
  InternalRequest req;
  req.operation = Operation::kChatCompletions;
  EXPECT_EQ(codec.PassthroughPath(req, "m"), "/chat/completions");
  req.operation = Operation::kCompletions;
  EXPECT_EQ(codec.PassthroughPath(req, "m"), "/completions");
  req.operation = Operation::kEmbeddings;
  EXPECT_EQ(codec.PassthroughPath(req, "m"), "/embeddings");
  EXPECT_EQ(codec.protocol(), WireProtocol::kOpenAI);
  EXPECT_FALSE(codec.EncodeCountTokens(chat::Request{}, "m").has_value());
  EXPECT_FALSE(codec.DecodeCountTokens("{}").has_value());
}

// ------------------------------------------------------------------ EncodeChat

TEST(OpenAiCodecEncode, SimpleChatWithSystem) {
  chat::Request r;
  r.model = "alias";
  r.system = {Text("You are helpful."), Text("Be brief.")};
  r.messages = {Msg(chat::Role::kUser, {Text("Hi")})};
  r.max_tokens = 100;
  r.temperature = 0.5;
  r.top_p = 0.9;
  r.frequency_penalty = 0.1;
  r.presence_penalty = -0.1;
  r.seed = 42;
  r.stop = {"END"};
  r.user = "user-1";
  auto call = Encode(r);
  EXPECT_EQ(call.path, "/chat/completions");
  EXPECT_EQ(call.body,
            R"({"model":"gpt-up","messages":[{"role":"system","content":"You are helpful.\n\nBe brief."},)"
            R"({"role":"user","content":"Hi"}],"max_tokens":100,"temperature":0.5,"top_p":0.9,)"
            R"("frequency_penalty":0.1,"presence_penalty":-0.1,"seed":42,"stop":["END"],"user":"user-1"})");
}

TEST(OpenAiCodecEncode, StreamAlwaysAsksForUsage) {
  chat::Request r;
  r.stream = true;
  r.include_usage = false;  // the client did not ask; the gateway still wants usage
  r.messages = {Msg(chat::Role::kUser, {Text("Hi")})};
  EXPECT_NE(Encode(r).body.find(R"("stream":true,"stream_options":{"include_usage":true})"), std::string::npos);
}

TEST(OpenAiCodecEncode, ToolsToolChoiceAndHistory) {
  chat::Request r;
  chat::Tool t;
  t.name = "get_weather";
  t.description = "Weather";
  t.parameters = R"({"type":"object","properties":{"city":{"type":"string"}}})";
  t.strict = true;
  r.tools = {t};
  r.tool_choice.mode = chat::ToolChoiceMode::kNamed;
  r.tool_choice.name = "get_weather";
  r.parallel_tool_calls = false;
  chat::Part thinking;
  thinking.kind = PartKind::kThinking;
  thinking.text = "plan";
  thinking.signature = "sig";
  r.messages = {Msg(chat::Role::kUser, {Text("Weather?")}),
                Msg(chat::Role::kAssistant, {thinking, Text("Checking."), Call("call_1", "get_weather", R"({"city":"Oslo"})"),
                                             Call("call_2", "get_weather", "")}),
                Msg(chat::Role::kTool, {Result("call_1", {Text("sunny")})}),
                Msg(chat::Role::kTool, {Result("call_2", {})})};
  EXPECT_EQ(Encode(r).body,
            R"({"model":"gpt-up","messages":[{"role":"user","content":"Weather?"},)"
            R"({"role":"assistant","content":"Checking.","tool_calls":[)"
            R"({"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}},)"
            R"({"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},)"
            R"({"role":"tool","tool_call_id":"call_1","content":"sunny"},)"
            R"({"role":"tool","tool_call_id":"call_2","content":""}],)"
            R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Weather",)"
            R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}}],)"
            R"("tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false})");
}

TEST(OpenAiCodecEncode, ToolChoiceModesAndNoTools) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("x")})};
  r.tool_choice.mode = chat::ToolChoiceMode::kRequired;
  EXPECT_EQ(Encode(r).body.find("tool_choice"), std::string::npos);  // no tools: no tool_choice
  chat::Tool t;
  t.name = "f";
  r.tools = {t};
  EXPECT_NE(Encode(r).body.find(R"("tool_choice":"required")"), std::string::npos);
  EXPECT_NE(Encode(r).body.find(R"("parameters":{"type":"object","properties":{}})"), std::string::npos);
  r.tool_choice.mode = chat::ToolChoiceMode::kNone;
  EXPECT_NE(Encode(r).body.find(R"("tool_choice":"none")"), std::string::npos);
  r.tool_choice.mode = chat::ToolChoiceMode::kAuto;
  EXPECT_NE(Encode(r).body.find(R"("tool_choice":"auto")"), std::string::npos);
}

// An Anthropic-style user turn: tool results plus text. Tool messages come
// first (right after the assistant's calls), then the text as a user message.
TEST(OpenAiCodecEncode, AnthropicResultsPlusTextOrder) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kAssistant, {Call("toolu_A", "a", "{}"), Call("toolu_B", "b", "{}")}),
                Msg(chat::Role::kUser, {Text("Here you go"), Result("toolu_A", {Text("ra")}), Result("toolu_B", {Text("rb")})})};
  EXPECT_EQ(Encode(r).body,
            R"({"model":"gpt-up","messages":[{"role":"assistant","content":"","tool_calls":[)"
            R"({"id":"toolu_A","type":"function","function":{"name":"a","arguments":"{}"}},)"
            R"({"id":"toolu_B","type":"function","function":{"name":"b","arguments":"{}"}}]},)"
            R"({"role":"tool","tool_call_id":"toolu_A","content":"ra"},)"
            R"({"role":"tool","tool_call_id":"toolu_B","content":"rb"},)"
            R"({"role":"user","content":"Here you go"}]})");
}

// Images inside tool results move into a user message right after the tool
// messages.
TEST(OpenAiCodecEncode, ImageInToolResult) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kAssistant, {Call("c1", "screenshot", "{}")}),
                Msg(chat::Role::kUser, {Result("c1", {Text("taken"), Image("image/png", "AAAA")}), Text("What is it?")}),
                Msg(chat::Role::kAssistant, {Text("A cat.")})};
  EXPECT_EQ(Encode(r).body,
            R"({"model":"gpt-up","messages":[{"role":"assistant","content":"","tool_calls":[)"
            R"({"id":"c1","type":"function","function":{"name":"screenshot","arguments":"{}"}}]},)"
            R"({"role":"tool","tool_call_id":"c1","content":"taken"},)"
            R"({"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},)"
            R"({"type":"text","text":"What is it?"}]},)"
            R"({"role":"assistant","content":"A cat."}]})");

  // OpenAI-style: separate tool messages, image only in the first.
  chat::Request o;
  o.messages = {Msg(chat::Role::kAssistant, {Call("c1", "s", "{}"), Call("c2", "s", "{}")}),
                Msg(chat::Role::kTool, {Result("c1", {Image("image/jpeg", "BBBB")})}),
                Msg(chat::Role::kTool, {Result("c2", {Text("ok")})})};
  EXPECT_EQ(Encode(o).body,
            R"({"model":"gpt-up","messages":[{"role":"assistant","content":"","tool_calls":[)"
            R"({"id":"c1","type":"function","function":{"name":"s","arguments":"{}"}},)"
            R"({"id":"c2","type":"function","function":{"name":"s","arguments":"{}"}}]},)"
            R"({"role":"tool","tool_call_id":"c1","content":""},)"
            R"({"role":"tool","tool_call_id":"c2","content":"ok"},)"
            R"({"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,BBBB"}}]}]})");
}

// Foreign ids (Kimi "functions.Bash:0", 53-character Responses "fc_…") are
// mapped, the same way for the call and its result.
TEST(OpenAiCodecEncode, ForeignIdsMappedIdentically) {
  const std::string kimi = "functions.Bash:0";
  const std::string fc = "fc_" + std::string(50, 'a');
  chat::Request r;
  r.messages = {Msg(chat::Role::kAssistant, {Call(kimi, "Bash", "{}"), Call(fc, "Read", "{}")}),
                Msg(chat::Role::kTool, {Result(kimi, {Text("1")})}), Msg(chat::Role::kTool, {Result(fc, {Text("2")})})};
  const std::string body = Encode(r).body;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(body).get(doc), simdjson::SUCCESS);
  std::string_view call0, call1, res0, res1;
  ASSERT_FALSE(doc["messages"].at(0)["tool_calls"].at(0)["id"].get_string().get(call0));
  ASSERT_FALSE(doc["messages"].at(0)["tool_calls"].at(1)["id"].get_string().get(call1));
  ASSERT_FALSE(doc["messages"].at(1)["tool_call_id"].get_string().get(res0));
  ASSERT_FALSE(doc["messages"].at(2)["tool_call_id"].get_string().get(res1));
  EXPECT_EQ(call0, res0);
  EXPECT_EQ(call1, res1);
  EXPECT_NE(call0, kimi);
  EXPECT_EQ(call0, chat::SafeToolId(kimi, "call_"));
  EXPECT_LE(call1.size(), 40u);
  for (auto id : {call0, call1}) {
    for (char c : id) EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') << id;
  }
}

TEST(OpenAiCodecEncode, ImagesByUrlAndMultipartUser) {
  chat::Request r;
  chat::Part url;
  url.kind = PartKind::kImage;
  url.url = "https://x/y.png";
  r.messages = {Msg(chat::Role::kUser, {Text("a"), url, Text("b")}), Msg(chat::Role::kUser, {})};
  EXPECT_EQ(Encode(r).body,
            R"({"model":"gpt-up","messages":[{"role":"user","content":[{"type":"text","text":"a"},)"
            R"({"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"text","text":"b"}]},)"
            R"({"role":"user","content":""}]})");
}

TEST(OpenAiCodecEncode, ReasoningEffortAndMaxCompletionTokens) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("x")})};
  r.max_tokens = 500;
  r.reasoning.enabled = true;
  r.reasoning.effort = "low";
  EXPECT_NE(Encode(r).body.find(R"("max_completion_tokens":500,"reasoning_effort":"low")"), std::string::npos);
  r.reasoning.effort = "";
  r.reasoning.budget_tokens = 1024;
  EXPECT_EQ(ReasoningEffort(r.reasoning), "low");
  r.reasoning.budget_tokens = 1025;
  EXPECT_EQ(ReasoningEffort(r.reasoning), "medium");
  r.reasoning.budget_tokens = 8192;
  EXPECT_EQ(ReasoningEffort(r.reasoning), "medium");
  r.reasoning.budget_tokens = 8193;
  EXPECT_EQ(ReasoningEffort(r.reasoning), "high");
  EXPECT_NE(Encode(r).body.find(R"("max_completion_tokens":500,"reasoning_effort":"high")"), std::string::npos);
  r.reasoning.enabled = false;
  const std::string off = Encode(r).body;
  EXPECT_EQ(off.find("reasoning_effort"), std::string::npos);
  EXPECT_NE(off.find(R"("max_tokens":500)"), std::string::npos);
  r.reasoning = chat::Reasoning{};
  r.reasoning.enabled = true;  // on, but nothing said about how much
  EXPECT_EQ(Encode(r).body.find("reasoning_effort"), std::string::npos);
}

TEST(OpenAiCodecEncode, ResponseFormat) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("x")})};
  r.response_format.type = chat::ResponseFormat::Type::kJsonObject;
  EXPECT_NE(Encode(r).body.find(R"("response_format":{"type":"json_object"})"), std::string::npos);
  r.response_format.type = chat::ResponseFormat::Type::kJsonSchema;
  r.response_format.name = "person";
  r.response_format.schema = R"({"type":"object"})";
  r.response_format.strict = true;
  EXPECT_NE(Encode(r).body.find(
                R"("response_format":{"type":"json_schema","json_schema":{"name":"person","schema":{"type":"object"},"strict":true}})"),
            std::string::npos);
  r.response_format.name = "";
  EXPECT_NE(Encode(r).body.find(R"("name":"response")"), std::string::npos);
}

TEST(OpenAiCodecEncode, UnsupportedParamsUnlessDropped) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("x")})};
  r.top_k = 40;
  auto out = codec.EncodeChat(r, "m", {});
  ASSERT_TRUE(std::holds_alternative<GatewayError>(out));
  EXPECT_EQ(std::get<GatewayError>(out).param, "top_k");
  EXPECT_EQ(std::get<GatewayError>(out).code, ErrorCode::kBadRequest);
  EXPECT_EQ(Encode(r, CodecOptions{true}).body.find("top_k"), std::string::npos);
  r.top_k.reset();
  r.n = 2;
  out = codec.EncodeChat(r, "m", {});
  ASSERT_TRUE(std::holds_alternative<GatewayError>(out));
  EXPECT_EQ(std::get<GatewayError>(out).param, "n");
  EXPECT_EQ(Encode(r, CodecOptions{true}).body.find("\"n\""), std::string::npos);
  r.n = 1;
  Encode(r);
}

TEST(OpenAiCodecEncode, LongUserIsHashed) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("x")})};
  r.user = R"(user_abc_account__session_{"x":1})";
  const std::string body = Encode(r).body;
  const size_t at = body.find(R"("user":"user_)");
  ASSERT_NE(at, std::string::npos) << body;
  EXPECT_EQ(body.substr(at + 8, 21).size(), 21u);
  EXPECT_EQ(Encode(r).body, body);  // deterministic
}

TEST(OpenAiCodecEncode, DeveloperStyleSystemInMessagesAndEscaping) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("quote \" backslash \\ newline \n nul \x01")}),
                Msg(chat::Role::kSystem, {Text("late system")})};
  const std::string body = Encode(r).body;
  EXPECT_NE(body.find(R"({"role":"system","content":"late system"})"), std::string::npos);
}

TEST(OpenAiCodecEncode, HugeToolArgumentsSurvive) {
  std::string big = "{\"data\":\"" + std::string(1 << 20, 'x') + "\"}";
  chat::Request r;
  r.messages = {Msg(chat::Role::kAssistant, {Call("c", "f", big)}), Msg(chat::Role::kTool, {Result("c", {Text("ok")})})};
  const std::string body = Encode(r).body;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(body).get(doc), simdjson::SUCCESS);
  std::string_view args;
  ASSERT_FALSE(doc["messages"].at(0)["tool_calls"].at(0)["function"]["arguments"].get_string().get(args));
  EXPECT_EQ(args, big);
}

// ------------------------------------------------------------------ DecodeChat

TEST(OpenAiCodecDecode, TextAndUsage) {
  auto r = Decode(R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024",
      "choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,
               "prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}})");
  EXPECT_EQ(r.id, "chatcmpl-1");
  EXPECT_EQ(r.model, "gpt-4o-2024");
  ASSERT_EQ(r.content.size(), 1u);
  EXPECT_EQ(r.content[0].text, "Hello");
  EXPECT_EQ(r.finish, FinishReason::kStop);
  ASSERT_TRUE(r.usage.has_value());
  EXPECT_EQ(r.usage->input_tokens, 10);
  EXPECT_EQ(r.usage->cached_input_tokens, 4);
  EXPECT_EQ(r.usage->output_tokens, 5);
  EXPECT_EQ(r.usage->reasoning_tokens, 2);
}

TEST(OpenAiCodecDecode, ToolCallsReasoningAndFinishUpgrade) {
  auto r = Decode(R"({"id":"x","model":"m","choices":[{"message":{"role":"assistant","content":null,
      "reasoning_content":"think","tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"a","arguments":"{\"k\":1}"}},
        {"type":"function","function":{"name":"b","arguments":{"o":[1]}}},
        {"id":"call_3","type":"function","function":{"name":"c","arguments":""}}]},
      "finish_reason":"stop"}]})");
  ASSERT_EQ(r.content.size(), 4u);
  EXPECT_EQ(r.content[0].kind, PartKind::kThinking);
  EXPECT_EQ(r.content[0].text, "think");
  EXPECT_EQ(r.content[1].kind, PartKind::kToolCall);
  EXPECT_EQ(r.content[1].id, "call_1");
  EXPECT_EQ(r.content[1].arguments, "{\"k\":1}");
  EXPECT_EQ(r.content[2].name, "b");
  EXPECT_EQ(r.content[2].arguments, R"({"o":[1]})");
  EXPECT_EQ(r.content[2].id.rfind("call_", 0), 0u);  // generated
  EXPECT_EQ(r.content[3].arguments, "{}");
  EXPECT_EQ(r.finish, FinishReason::kToolCalls);  // OpenAI can end a tool turn with "stop"
  EXPECT_FALSE(r.usage.has_value());
}

TEST(OpenAiCodecDecode, LengthIsNeverUpgraded) {
  auto r = Decode(R"({"choices":[{"message":{"content":"","tool_calls":[
      {"id":"c","type":"function","function":{"name":"a","arguments":"{\"k\":"}}]},"finish_reason":"length"}]})");
  EXPECT_EQ(r.finish, FinishReason::kLength);
  ASSERT_EQ(r.content.size(), 1u);
  EXPECT_EQ(r.content[0].arguments, "{\"k\":");  // not repaired
  EXPECT_FALSE(r.id.empty());
}

TEST(OpenAiCodecDecode, ContentPartsReasoningFieldRefusalAndFinishes) {
  auto r = Decode(R"({"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],
      "reasoning":"r"},"finish_reason":"content_filter"}]})");
  ASSERT_EQ(r.content.size(), 2u);
  EXPECT_EQ(r.content[0].text, "r");
  EXPECT_EQ(r.content[1].text, "ab");
  EXPECT_EQ(r.finish, FinishReason::kContentFilter);
  r = Decode(R"({"choices":[{"message":{"content":null,"refusal":"I can't"},"finish_reason":"stop"}]})");
  ASSERT_EQ(r.content.size(), 1u);
  EXPECT_EQ(r.content[0].text, "I can't");
  r = Decode(R"({"choices":[{"message":{"content":"x"},"finish_reason":null}]})");
  EXPECT_EQ(r.finish, FinishReason::kStop);
  r = Decode(R"({"choices":[{"message":{"content":"x"},"finish_reason":"eos"}]})");
  EXPECT_EQ(r.finish, FinishReason::kStop);
  r = Decode(R"({"choices":[{"message":{"content":null,"function_call":{"name":"f","arguments":"{}"}},"finish_reason":"function_call"}]})");
  ASSERT_EQ(r.content.size(), 1u);
  EXPECT_EQ(r.content[0].kind, PartKind::kToolCall);
  EXPECT_EQ(r.finish, FinishReason::kToolCalls);
}

TEST(OpenAiCodecDecode, NotAChatCompletionIsProviderError) {
  for (std::string body : {"", "[]", "{}", "not json", R"({"choices":[]})", R"({"choices":[{"text":"legacy"}]})",
                           R"({"choices":"x"})", R"({"object":"list","data":[]})"}) {
    auto out = codec.DecodeChat(body);
    ASSERT_TRUE(std::holds_alternative<GatewayError>(out)) << body;
    EXPECT_EQ(std::get<GatewayError>(out).code, ErrorCode::kProviderError) << body;
  }
  auto out = codec.DecodeChat(R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})");
  ASSERT_TRUE(std::holds_alternative<GatewayError>(out));
  EXPECT_EQ(std::get<GatewayError>(out).code, ErrorCode::kRateLimited);
  EXPECT_EQ(std::get<GatewayError>(out).message, "Rate limit reached");
}

// ------------------------------------------------------------------ embeddings

TEST(OpenAiCodecEmbed, EncodeAndDecode) {
  chat::EmbedRequest e;
  e.inputs = {"a", "b"};
  e.dimensions = 3;
  auto out = codec.EncodeEmbed(e, "text-embedding-3-small");
  ASSERT_TRUE(std::holds_alternative<UpstreamCall>(out));
  EXPECT_EQ(std::get<UpstreamCall>(out).path, "/embeddings");
  EXPECT_EQ(std::get<UpstreamCall>(out).body,
            R"({"model":"text-embedding-3-small","input":["a","b"],"dimensions":3,"encoding_format":"float"})");

  auto dec = codec.DecodeEmbed(R"({"object":"list","model":"te3","data":[
      {"object":"embedding","index":1,"embedding":[3,4.5]},{"object":"embedding","index":0,"embedding":[1e-3,-2]}],
      "usage":{"prompt_tokens":7,"total_tokens":7}})");
  ASSERT_TRUE(std::holds_alternative<chat::EmbedResponse>(dec));
  const auto& r = std::get<chat::EmbedResponse>(dec);
  EXPECT_EQ(r.model, "te3");
  ASSERT_EQ(r.vectors.size(), 2u);
  EXPECT_EQ(r.vectors[0], (std::vector<double>{1e-3, -2}));  // sorted by index
  EXPECT_EQ(r.vectors[1], (std::vector<double>{3, 4.5}));
  ASSERT_TRUE(r.usage.has_value());
  EXPECT_EQ(r.usage->input_tokens, 7);

  for (std::string body : {"x", "{}", R"({"data":[{"embedding":"AAAA"}]})", R"({"data":[{"embedding":["x"]}]})",
                           R"({"error":{"message":"bad"}})"}) {
    auto bad = codec.DecodeEmbed(body);
    ASSERT_TRUE(std::holds_alternative<GatewayError>(bad)) << body;
    EXPECT_EQ(std::get<GatewayError>(bad).code, ErrorCode::kProviderError) << body;
  }
}

// ------------------------------------------------------------------ ErrorMessage

TEST(OpenAiCodecErrors, ErrorMessage) {
  EXPECT_EQ(codec.ErrorMessage(R"({"error":{"message":"Invalid key","type":"invalid_request_error"}})"), "Invalid key");
  EXPECT_EQ(codec.ErrorMessage(R"({"error":"model not loaded"})"), "model not loaded");
  EXPECT_EQ(codec.ErrorMessage(R"({"detail":"Not Found"})"), "Not Found");
  EXPECT_EQ(codec.ErrorMessage("<html>Bad Gateway</html>"), "<html>Bad Gateway</html>");
  const std::string long_body(500, 'z');
  EXPECT_EQ(codec.ErrorMessage(long_body), std::string(200, 'z'));
  // Cut at a character boundary: 199 ASCII bytes then a 2-byte character.
  std::string utf8 = std::string(199, 'a') + "\xc3\xa9" + "tail";
  EXPECT_EQ(codec.ErrorMessage(utf8), std::string(199, 'a'));
  EXPECT_EQ(codec.ErrorMessage(""), "");
}

}  // namespace
}  // namespace sy::openai
