// The Ollama front door: Peek, ParseChat (chat and generate), ParseEmbed,
// LoadReply.
#include "frontdoor/ollama/ollama_frontdoor.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace sy::ollama {
namespace {

constexpr int64_t kNow = 1714564800123456789;  // 2024-05-01T12:00:00.123456789Z

OllamaFrontDoor Door() {
  return OllamaFrontDoor([] { return kNow; });
}

std::variant<InternalRequest, GatewayError> Peek(int shape, std::string body) {
  FrontDoorInput in;
  in.operation = shape >= kShapeEmbed ? Operation::kEmbeddings : Operation::kChatCompletions;
  in.shape = shape;
  in.body = std::move(body);
  return Door().Peek(std::move(in));
}

InternalRequest PeekOk(int shape, const std::string& body) {
  auto r = Peek(shape, body);
  if (auto* e = std::get_if<GatewayError>(&r)) ADD_FAILURE() << "Peek failed: " << e->message << "\n" << body;
  return std::holds_alternative<InternalRequest>(r) ? std::get<InternalRequest>(r) : InternalRequest{};
}

GatewayError PeekError(int shape, const std::string& body) {
  auto r = Peek(shape, body);
  EXPECT_TRUE(std::holds_alternative<GatewayError>(r)) << body;
  return std::holds_alternative<GatewayError>(r) ? std::get<GatewayError>(r) : GatewayError{};
}

chat::Request ParseOk(const std::string& body, int shape = kShapeChat) {
  InternalRequest req = PeekOk(shape, body);
  chat::Request out;
  auto err = Door().ParseChat(req, &out);
  EXPECT_FALSE(err) << (err ? err->message : "") << "\n" << body;
  return out;
}

GatewayError ParseError(const std::string& body, int shape = kShapeChat) {
  InternalRequest req = PeekOk(shape, body);
  chat::Request out;
  auto err = Door().ParseChat(req, &out);
  EXPECT_TRUE(err.has_value()) << body;
  return err.value_or(GatewayError{});
}

constexpr char kPng[] =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

// ---------------------------------------------------------------- Peek

TEST(OllamaPeekTest, StreamDefaultsToTrue) {
  auto req = PeekOk(kShapeChat, R"({"model":"llama3","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(req.stream);
  EXPECT_EQ(req.model, "llama3");
  EXPECT_EQ(req.operation, Operation::kChatCompletions);
  EXPECT_EQ(req.wire, WireProtocol::kOllama);
  EXPECT_EQ(req.shape, kShapeChat);
  EXPECT_TRUE(PeekOk(kShapeGenerate, R"({"model":"m","prompt":"x"})").stream);
  EXPECT_TRUE(PeekOk(kShapeChat, R"({"model":"m","messages":[],"stream":null})").stream);
  EXPECT_FALSE(PeekOk(kShapeChat, R"({"model":"m","messages":[],"stream":false})").stream);
  EXPECT_FALSE(PeekOk(kShapeGenerate, R"({"model":"m","prompt":"","stream":false})").stream);
}

TEST(OllamaPeekTest, EmbeddingsNeverStream) {
  auto req = PeekOk(kShapeEmbed, R"({"model":"e","input":"x","stream":true})");
  EXPECT_FALSE(req.stream);
  EXPECT_EQ(req.operation, Operation::kEmbeddings);
  EXPECT_FALSE(PeekOk(kShapeEmbeddings, R"({"model":"e","prompt":"x"})").stream);
  EXPECT_FALSE(PeekOk(kShapeEmbed, R"({"model":"e","input":["a","b"]})").stream);
}

TEST(OllamaPeekTest, ModelSpanCoversTheModelToken) {
  const std::string body = R"({ "messages":[], "model" : "qwen3:8b" })";
  auto req = PeekOk(kShapeChat, body);
  EXPECT_EQ(body.substr(req.model_span.begin, req.model_span.end - req.model_span.begin), "\"qwen3:8b\"");
  EXPECT_EQ(req.raw_body, body);
}

TEST(OllamaPeekTest, RejectsBadBodies) {
  EXPECT_EQ(PeekError(kShapeChat, "").code, ErrorCode::kBadRequest);
  EXPECT_NE(PeekError(kShapeChat, "{").message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(PeekError(kShapeChat, "[1]").message.find("JSON object"), std::string::npos);
  EXPECT_EQ(PeekError(kShapeChat, R"({"messages":[]})").param, "model");
  EXPECT_EQ(PeekError(kShapeChat, R"({"model":"","messages":[]})").param, "model");
  EXPECT_EQ(PeekError(kShapeChat, R"({"model":3,"messages":[]})").param, "model");
  EXPECT_EQ(PeekError(kShapeChat, R"({"model":"a","model":"b","messages":[]})").param, "model");
  EXPECT_EQ(PeekError(kShapeChat, R"({"model":"a","messages":[],"stream":true,"stream":false})").param, "stream");
  EXPECT_EQ(PeekError(kShapeChat, R"({"model":"a","messages":[],"stream":"yes"})").param, "stream");
  EXPECT_EQ(PeekError(kShapeChat, R"({"model":"a"})").param, "messages");
  EXPECT_EQ(PeekError(kShapeChat, R"({"model":"a","messages":{}})").param, "messages");
  EXPECT_EQ(PeekError(kShapeGenerate, R"({"model":"a"})").param, "prompt");
  EXPECT_EQ(PeekError(kShapeGenerate, R"({"model":"a","prompt":1})").param, "prompt");
  EXPECT_EQ(PeekError(kShapeEmbed, R"({"model":"a"})").param, "input");
  EXPECT_EQ(PeekError(kShapeEmbed, R"({"model":"a","input":5})").param, "input");
  EXPECT_EQ(PeekError(kShapeEmbeddings, R"({"model":"a","input":"x"})").param, "prompt");
}

TEST(OllamaPeekTest, DepthIsBounded) {
  std::string deep = R"({"model":"m","messages":[],"x":)";
  for (int i = 0; i < 70; ++i) deep += "[";
  for (int i = 0; i < 70; ++i) deep += "]";
  deep += "}";
  EXPECT_NE(PeekError(kShapeChat, deep).message.find("nested deeper"), std::string::npos);
}

TEST(OllamaPeekTest, UnknownShapeIsInternal) { EXPECT_EQ(PeekError(7, R"({"model":"m"})").code, ErrorCode::kInternal); }

// ---------------------------------------------------------------- ParseChat

TEST(OllamaParseChatTest, MessagesSystemHoistedAndRoles) {
  auto r = ParseOk(R"({"model":"m","messages":[
    {"role":"system","content":"be brief"},
    {"role":"User","content":"hi"},
    {"role":"assistant","content":"hello"},
    {"role":"system","content":"also polite"},
    {"role":"user","content":"bye"}],"keep_alive":"5m"})");
  EXPECT_EQ(r.model, "m");
  EXPECT_TRUE(r.stream);
  ASSERT_EQ(r.system.size(), 2u);
  EXPECT_EQ(r.system[0].text, "be brief");
  EXPECT_EQ(r.system[1].text, "also polite");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, chat::Role::kUser);
  EXPECT_EQ(r.messages[0].parts[0].text, "hi");
  EXPECT_EQ(r.messages[1].role, chat::Role::kAssistant);
  EXPECT_EQ(r.messages[2].parts[0].text, "bye");
}

TEST(OllamaParseChatTest, UnknownRoleAndBadContent) {
  auto e = ParseError(R"({"model":"m","messages":[{"role":"developer","content":"x"}]})");
  EXPECT_EQ(e.param, "messages[0].role");
  EXPECT_NE(e.message.find("developer"), std::string::npos);
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]})").param,
            "messages[0].content");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":["hi"]})").param, "messages[0]");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"content":"x"}]})").param, "messages[0].role");
}

TEST(OllamaParseChatTest, EmptyMessagesIsALoadRequest) {
  auto e = ParseError(R"({"model":"m","messages":[]})");
  EXPECT_EQ(e.param, "messages");
  auto req = PeekOk(kShapeChat, R"({"model":"m","messages":[]})");
  auto reply = Door().LoadReply(req);
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply,
            R"({"model":"m","created_at":"2024-05-01T12:00:00.123456789Z","message":{"role":"assistant","content":""},)"
            R"("done":true,"done_reason":"load"})");
  EXPECT_FALSE(Door().LoadReply(PeekOk(kShapeChat, R"({"model":"m","messages":[{"role":"user","content":"x"}]})")));
  auto gen = Door().LoadReply(PeekOk(kShapeGenerate, R"({"model":"m","prompt":""})"));
  ASSERT_TRUE(gen);
  EXPECT_NE(gen->find(R"("response":"","done":true,"done_reason":"load")"), std::string::npos);
  EXPECT_FALSE(Door().LoadReply(PeekOk(kShapeGenerate, R"({"model":"m","prompt":"x"})")));
  EXPECT_FALSE(Door().LoadReply(PeekOk(kShapeEmbed, R"({"model":"m","input":""})")));
}

TEST(OllamaParseChatTest, KeepAliveZeroUnloads) {
  auto reply = Door().LoadReply(PeekOk(kShapeChat, R"({"model":"m","messages":[],"keep_alive":0})"));
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->find(R"("done_reason":"unload")"), std::string::npos);
  reply = Door().LoadReply(PeekOk(kShapeGenerate, R"({"model":"m","prompt":"","keep_alive":"0s"})"));
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->find(R"("done_reason":"unload")"), std::string::npos);
  reply = Door().LoadReply(PeekOk(kShapeGenerate, R"({"model":"m","prompt":"","keep_alive":"5m"})"));
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->find(R"("done_reason":"load")"), std::string::npos);
}

// Found by ollama_frontdoor_fuzz (an invariant of the fuzzer, not a crash):
// a chat of system messages only is accepted, as Ollama accepts it.
TEST(OllamaParseChatTest, SystemOnlyChat) {
  auto r = ParseOk(R"({"model":"m","messages":[{"role":"system","content":"You are terse."}]})");
  EXPECT_TRUE(r.messages.empty());
  ASSERT_EQ(r.system.size(), 1u);
}

TEST(OllamaParseChatTest, EmptyUserContentKeepsTheTurn) {
  auto r = ParseOk(R"({"model":"m","messages":[{"role":"user","content":""},{"role":"user"}]})");
  ASSERT_EQ(r.messages.size(), 2u);
  ASSERT_EQ(r.messages[0].parts.size(), 1u);
  EXPECT_EQ(r.messages[0].parts[0].kind, chat::PartKind::kText);
  EXPECT_EQ(r.messages[0].parts[0].text, "");
}

TEST(OllamaParseChatTest, ImagesAreSniffed) {
  const std::string body = std::string(R"({"model":"m","messages":[{"role":"user","content":"what?","images":[")") +
                           kPng + R"(","/9j/4AAQ","R0lGODlh","UklGRiQA","data:image/png;base64,iVBORw0"]}]})";
  auto r = ParseOk(body);
  ASSERT_EQ(r.messages[0].parts.size(), 6u);
  EXPECT_EQ(r.messages[0].parts[0].text, "what?");
  EXPECT_EQ(r.messages[0].parts[1].kind, chat::PartKind::kImage);
  EXPECT_EQ(r.messages[0].parts[1].media_type, "image/png");
  EXPECT_EQ(r.messages[0].parts[1].data, kPng);
  EXPECT_EQ(r.messages[0].parts[2].media_type, "image/jpeg");
  EXPECT_EQ(r.messages[0].parts[3].media_type, "image/gif");
  EXPECT_EQ(r.messages[0].parts[4].media_type, "image/webp");
  EXPECT_EQ(r.messages[0].parts[5].media_type, "image/png");
  EXPECT_EQ(r.messages[0].parts[5].data, "iVBORw0");
}

TEST(OllamaParseChatTest, ImageOnlyUserMessageHasNoEmptyText) {
  auto r =
      ParseOk(std::string(R"({"model":"m","messages":[{"role":"user","content":"","images":[")") + kPng + R"("]}]})");
  ASSERT_EQ(r.messages[0].parts.size(), 1u);
  EXPECT_EQ(r.messages[0].parts[0].kind, chat::PartKind::kImage);
}

TEST(OllamaParseChatTest, BadImages) {
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"user","content":"x","images":["Qk0eAAAA"]}]})").param,
            "messages[0].images[0]");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"user","content":"x","images":[1]}]})").param,
            "messages[0].images[0]");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"user","content":"x","images":"abc"}]})").param,
            "messages[0].images");
  EXPECT_EQ(ParseError(std::string(R"({"model":"m","messages":[{"role":"system","content":"x","images":[")") + kPng +
                       R"("]}]})")
                .param,
            "messages[0].images");
}

TEST(OllamaParseChatTest, AssistantThinkingAndToolCallsWithObjectArguments) {
  auto r = ParseOk(R"({"model":"m","messages":[
    {"role":"user","content":"weather?"},
    {"role":"assistant","content":"","thinking":"need tool","tool_calls":[
      {"id":"call_1","function":{"index":0,"name":"get_weather","arguments":{ "city" : "Paris", "n": [1, 2] }}},
      {"function":{"name":"get_time","arguments":"{\"tz\": \"CET\"}"}},
      {"function":{"name":"noargs"}}]}]})");
  ASSERT_EQ(r.messages.size(), 2u);
  const auto& parts = r.messages[1].parts;
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0].kind, chat::PartKind::kThinking);
  EXPECT_EQ(parts[0].text, "need tool");
  EXPECT_EQ(parts[1].kind, chat::PartKind::kToolCall);
  EXPECT_EQ(parts[1].id, "call_1");
  EXPECT_EQ(parts[1].name, "get_weather");
  EXPECT_EQ(parts[1].arguments, R"({"city":"Paris","n":[1,2]})");
  EXPECT_EQ(parts[2].name, "get_time");
  EXPECT_EQ(parts[2].arguments, R"({"tz":"CET"})");
  EXPECT_TRUE(parts[2].id.starts_with("call_"));
  EXPECT_NE(parts[2].id, parts[3].id);
  EXPECT_EQ(parts[3].arguments, "{}");
}

TEST(OllamaParseChatTest, BadToolCalls) {
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f",
            "arguments":"not json"}}]}]})")
                .param,
            "messages[0].tool_calls[0].function.arguments");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f",
            "arguments":[1]}}]}]})")
                .param,
            "messages[0].tool_calls[0].function.arguments");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{}}]}]})").param,
            "messages[0].tool_calls[0].function.name");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{}]}]})").param,
            "messages[0].tool_calls[0].function");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"assistant","tool_calls":{}}]})").param,
            "messages[0].tool_calls");
}

TEST(OllamaParseChatTest, ToolResultsByIdAndByName) {
  auto r = ParseOk(R"({"model":"m","messages":[
    {"role":"user","content":"weather in Paris and London, and the time?"},
    {"role":"assistant","content":"","tool_calls":[
      {"id":"a","function":{"name":"get_weather","arguments":{"city":"Paris"}}},
      {"id":"b","function":{"name":"get_weather","arguments":{"city":"London"}}},
      {"id":"c","function":{"name":"get_time","arguments":{}}}]},
    {"role":"tool","tool_name":"get_time","content":"12:00"},
    {"role":"tool","tool_name":"get_weather","content":"sunny"},
    {"role":"tool","tool_name":"get_weather","content":"rain"}]})");
  ASSERT_EQ(r.messages.size(), 5u);
  auto result = [&](size_t i) { return r.messages[i].parts.at(0); };
  EXPECT_EQ(r.messages[2].role, chat::Role::kTool);
  EXPECT_EQ(result(2).kind, chat::PartKind::kToolResult);
  EXPECT_EQ(result(2).id, "c");
  EXPECT_EQ(result(2).name, "get_time");
  EXPECT_EQ(result(2).content.at(0).text, "12:00");
  EXPECT_EQ(result(3).id, "a");  // same-name parallel results answer the calls in order
  EXPECT_EQ(result(4).id, "b");
  EXPECT_EQ(result(4).name, "get_weather");

  auto by_id = ParseOk(R"({"model":"m","messages":[
    {"role":"assistant","tool_calls":[{"id":"x1","function":{"name":"f","arguments":{}}}]},
    {"role":"tool","tool_call_id":"x1","content":"ok"}]})");
  EXPECT_EQ(by_id.messages[1].parts[0].id, "x1");
  EXPECT_EQ(by_id.messages[1].parts[0].name, "f");
}

TEST(OllamaParseChatTest, ToolResultWithoutNameOrIdAnswersTheNextCall) {
  auto r = ParseOk(R"({"model":"m","messages":[
    {"role":"assistant","tool_calls":[{"id":"old","function":{"name":"f","arguments":{}}}]},
    {"role":"tool","content":"1"},
    {"role":"assistant","tool_calls":[{"id":"p","function":{"name":"g","arguments":{}}},
                                      {"id":"q","function":{"name":"h","arguments":{}}}]},
    {"role":"tool","content":"2"},
    {"role":"tool","content":"3"},
    {"role":"tool","tool_name":"nope","content":"4"}]})");
  EXPECT_EQ(r.messages[1].parts[0].id, "old");
  EXPECT_EQ(r.messages[3].parts[0].id, "p");
  EXPECT_EQ(r.messages[3].parts[0].name, "g");
  EXPECT_EQ(r.messages[4].parts[0].id, "q");
  EXPECT_EQ(r.messages[5].parts[0].id, "q");  // nothing left: the last call
  EXPECT_EQ(r.messages[5].parts[0].name, "nope");
}

TEST(OllamaParseChatTest, ToolResultWithoutAnyCallIsRejected) {
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"tool","tool_name":"f","content":"x"}]})").param,
            "messages[0]");
}

TEST(OllamaParseChatTest, ToolResultImages) {
  auto r = ParseOk(std::string(R"({"model":"m","messages":[
    {"role":"assistant","tool_calls":[{"id":"s","function":{"name":"shot","arguments":{}}}]},
    {"role":"tool","tool_call_id":"s","content":"here","images":[")") +
                   kPng + R"("]}]})");
  const auto& res = r.messages[1].parts[0];
  ASSERT_EQ(res.content.size(), 2u);
  EXPECT_EQ(res.content[1].kind, chat::PartKind::kImage);
}

TEST(OllamaParseChatTest, Tools) {
  auto r = ParseOk(R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[
    {"type":"function","function":{"name":"get_weather","description":"Weather","parameters":
      {"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
    {"function":{"name":"bare"}}]})");
  ASSERT_EQ(r.tools.size(), 2u);
  EXPECT_EQ(r.tools[0].name, "get_weather");
  EXPECT_EQ(r.tools[0].description, "Weather");
  EXPECT_EQ(r.tools[0].parameters, R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})");
  EXPECT_EQ(r.tools[1].parameters, chat::Tool{}.parameters);
  EXPECT_EQ(
      ParseError(R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search"}]})").param,
      "tools[0].type");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"function":{}}]})").param,
            "tools[0].function.name");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":{}})").param, "tools");
}

TEST(OllamaParseChatTest, Format) {
  const std::string msgs = R"("messages":[{"role":"user","content":"x"}])";
  EXPECT_EQ(ParseOk(R"({"model":"m",)" + msgs + R"(,"format":"json"})").response_format.type,
            chat::ResponseFormat::Type::kJsonObject);
  auto schema = ParseOk(R"({"model":"m",)" + msgs + R"(,"format":{"type":"object", "properties":{}}})");
  EXPECT_EQ(schema.response_format.type, chat::ResponseFormat::Type::kJsonSchema);
  EXPECT_EQ(schema.response_format.schema, R"({"type":"object","properties":{}})");
  EXPECT_FALSE(schema.response_format.name.empty());
  EXPECT_EQ(ParseOk(R"({"model":"m",)" + msgs + R"(,"format":""})").response_format.type,
            chat::ResponseFormat::Type::kText);
  EXPECT_EQ(ParseError(R"({"model":"m",)" + msgs + R"(,"format":"yaml"})").param, "format");
  EXPECT_EQ(ParseError(R"({"model":"m",)" + msgs + R"(,"format":[1]})").param, "format");
}

TEST(OllamaParseChatTest, Options) {
  auto r = ParseOk(R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{
    "temperature":0.2,"top_p":1,"top_k":40.0,"num_predict":128,"seed":7,"stop":["\n\n","END"],
    "frequency_penalty":0.5,"presence_penalty":-0.5,"num_ctx":8192,"mirostat":1}})");
  EXPECT_EQ(r.temperature, 0.2);
  EXPECT_EQ(r.top_p, 1.0);
  EXPECT_EQ(r.top_k, 40);
  EXPECT_EQ(r.max_tokens, 128);
  EXPECT_EQ(r.seed, 7);
  EXPECT_EQ(r.frequency_penalty, 0.5);
  EXPECT_EQ(r.presence_penalty, -0.5);
  ASSERT_EQ(r.stop.size(), 2u);
  EXPECT_EQ(r.stop[0], "\n\n");
  for (const char* n : {"-1", "-2", "0"}) {
    EXPECT_FALSE(
        ParseOk(std::string(R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"num_predict":)") +
                n + "}}")
            .max_tokens);
  }
  auto one_stop = ParseOk(R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"stop":"###"}})");
  ASSERT_EQ(one_stop.stop.size(), 1u);
  EXPECT_EQ(one_stop.stop[0], "###");
  EXPECT_EQ(
      ParseError(R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"temperature":"hot"}})").param,
      "options.temperature");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"stop":[1]}})").param,
            "options.stop");
  EXPECT_EQ(ParseError(R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":[]})").param, "options");
}

TEST(OllamaParseChatTest, Think) {
  const std::string head = R"({"model":"m","messages":[{"role":"user","content":"x"}],"think":)";
  EXPECT_EQ(ParseOk(head + "true}").reasoning.enabled, true);
  EXPECT_EQ(ParseOk(head + "false}").reasoning.enabled, false);
  auto high = ParseOk(head + "\"high\"}");
  EXPECT_EQ(high.reasoning.enabled, true);
  EXPECT_EQ(high.reasoning.effort, "high");
  EXPECT_EQ(ParseOk(head + "\"low\"}").reasoning.effort, "low");
  EXPECT_EQ(ParseOk(head + "\"max\"}").reasoning.effort, "high");
  EXPECT_FALSE(ParseOk(head + "null}").reasoning.enabled.has_value());
  EXPECT_EQ(ParseError(head + "\"extreme\"}").param, "think");
  EXPECT_EQ(ParseError(head + "1}").param, "think");
}

TEST(OllamaParseChatTest, Generate) {
  auto r = ParseOk(std::string(R"({"model":"m","prompt":"Why is the sky blue?","system":"be short","suffix":"",
    "template":"","raw":false,"context":[],"stream":false,"format":"json","think":true,"options":{"temperature":0},
    "images":[")") + kPng +
                       R"("]})",
                   kShapeGenerate);
  EXPECT_FALSE(r.stream);
  ASSERT_EQ(r.system.size(), 1u);
  EXPECT_EQ(r.system[0].text, "be short");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, chat::Role::kUser);
  ASSERT_EQ(r.messages[0].parts.size(), 2u);
  EXPECT_EQ(r.messages[0].parts[0].text, "Why is the sky blue?");
  EXPECT_EQ(r.messages[0].parts[1].media_type, "image/png");
  EXPECT_EQ(r.response_format.type, chat::ResponseFormat::Type::kJsonObject);
  EXPECT_EQ(r.reasoning.enabled, true);
  EXPECT_EQ(r.temperature, 0.0);
}

TEST(OllamaParseChatTest, GenerateFieldsWithoutTranslation) {
  EXPECT_EQ(ParseError(R"({"model":"m","prompt":"def f(","suffix":"return x"})", kShapeGenerate).param, "suffix");
  EXPECT_EQ(ParseError(R"({"model":"m","prompt":"x","raw":true})", kShapeGenerate).param, "raw");
  EXPECT_EQ(ParseError(R"({"model":"m","prompt":"x","context":[1,2,3]})", kShapeGenerate).param, "context");
  EXPECT_EQ(ParseError(R"({"model":"m","prompt":"x","template":"{{ .Prompt }}"})", kShapeGenerate).param, "template");
  EXPECT_EQ(ParseError(R"({"model":"m","prompt":""})", kShapeGenerate).param, "prompt");
}

TEST(OllamaParseChatTest, WrongShape) {
  InternalRequest req = PeekOk(kShapeEmbed, R"({"model":"m","input":"x"})");
  chat::Request out;
  EXPECT_TRUE(Door().ParseChat(req, &out));
}

// ---------------------------------------------------------------- ParseEmbed

chat::EmbedRequest EmbedOk(int shape, const std::string& body) {
  chat::EmbedRequest out;
  auto err = Door().ParseEmbed(PeekOk(shape, body), &out);
  EXPECT_FALSE(err) << (err ? err->message : "");
  return out;
}

GatewayError EmbedError(int shape, const std::string& body) {
  chat::EmbedRequest out;
  auto err = Door().ParseEmbed(PeekOk(shape, body), &out);
  EXPECT_TRUE(err);
  return err.value_or(GatewayError{});
}

TEST(OllamaParseEmbedTest, InputShapes) {
  auto one = EmbedOk(kShapeEmbed, R"({"model":"e","input":"hello","truncate":true,"keep_alive":0})");
  EXPECT_EQ(one.model, "e");
  ASSERT_EQ(one.inputs.size(), 1u);
  EXPECT_EQ(one.inputs[0], "hello");
  EXPECT_FALSE(one.dimensions);
  auto many = EmbedOk(kShapeEmbed, R"({"model":"e","input":["a","b"],"dimensions":256})");
  ASSERT_EQ(many.inputs.size(), 2u);
  EXPECT_EQ(many.inputs[1], "b");
  EXPECT_EQ(many.dimensions, 256);
  auto legacy = EmbedOk(kShapeEmbeddings, R"({"model":"e","prompt":"old api"})");
  ASSERT_EQ(legacy.inputs.size(), 1u);
  EXPECT_EQ(legacy.inputs[0], "old api");
}

TEST(OllamaParseEmbedTest, Rejections) {
  EXPECT_EQ(EmbedError(kShapeEmbed, R"({"model":"e","input":""})").param, "input");
  EXPECT_EQ(EmbedError(kShapeEmbed, R"({"model":"e","input":[]})").param, "input");
  EXPECT_EQ(EmbedError(kShapeEmbed, R"({"model":"e","input":["a",1]})").param, "input[1]");
  EXPECT_EQ(EmbedError(kShapeEmbed, R"({"model":"e","input":"a","dimensions":0})").param, "dimensions");
  EXPECT_EQ(EmbedError(kShapeEmbed, R"({"model":"e","input":"a","dimensions":"x"})").param, "dimensions");
  EXPECT_EQ(EmbedError(kShapeEmbeddings, R"({"model":"e","prompt":""})").param, "prompt");
  chat::EmbedRequest out;
  EXPECT_TRUE(Door().ParseEmbed(PeekOk(kShapeChat, R"({"model":"m","messages":[]})"), &out));
}

}  // namespace
}  // namespace sy::ollama
