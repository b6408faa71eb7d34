// The Ollama upstream codec: requests, whole responses, embeddings, errors.
#include "provider/ollama/ollama_codec.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <variant>

#include "frontdoor/ollama/ollama_frontdoor.h"

namespace sy::ollama {
namespace {

chat::Part Text(std::string text, chat::PartKind kind = chat::PartKind::kText) {
  chat::Part p;
  p.kind = kind;
  p.text = std::move(text);
  return p;
}

chat::Part Call(std::string id, std::string name, std::string args) {
  chat::Part p;
  p.kind = chat::PartKind::kToolCall;
  p.id = std::move(id);
  p.name = std::move(name);
  p.arguments = std::move(args);
  return p;
}

chat::Part Result(std::string id, std::string name, std::string text) {
  chat::Part p;
  p.kind = chat::PartKind::kToolResult;
  p.id = std::move(id);
  p.name = std::move(name);
  p.content.push_back(Text(std::move(text)));
  return p;
}

chat::Part Image(std::string data, std::string url = {}) {
  chat::Part p;
  p.kind = chat::PartKind::kImage;
  p.media_type = "image/png";
  p.data = std::move(data);
  p.url = std::move(url);
  return p;
}

chat::Message Msg(chat::Role role, std::vector<chat::Part> parts) {
  chat::Message m;
  m.role = role;
  m.parts = std::move(parts);
  return m;
}

chat::Request Basic() {
  chat::Request r;
  r.model = "alias";
  r.messages.push_back(Msg(chat::Role::kUser, {Text("hi")}));
  return r;
}

std::string EncodeOk(const chat::Request& r, bool drop = false) {
  OllamaCodec codec;
  CodecOptions options;
  options.drop_params = drop;
  auto out = codec.EncodeChat(r, "llama3:8b", options);
  if (auto* e = std::get_if<GatewayError>(&out)) {
    ADD_FAILURE() << e->message;
    return "";
  }
  const auto& call = std::get<UpstreamCall>(out);
  EXPECT_EQ(call.path, "/api/chat");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(call.body).get(doc), simdjson::SUCCESS) << call.body;
  return call.body;
}

GatewayError EncodeError(const chat::Request& r) {
  OllamaCodec codec;
  auto out = codec.EncodeChat(r, "m", CodecOptions{});
  EXPECT_TRUE(std::holds_alternative<GatewayError>(out));
  return std::holds_alternative<GatewayError>(out) ? std::get<GatewayError>(out) : GatewayError{};
}

TEST(OllamaCodecTest, AuthAndPaths) {
  OllamaCodec codec;
  EXPECT_EQ(codec.protocol(), WireProtocol::kOllama);
  auto auth = codec.AuthHeader("k1");
  EXPECT_EQ(auth.first, "Authorization");
  EXPECT_EQ(auth.second, "Bearer k1");
  InternalRequest req;
  for (auto [shape, path] : {std::pair{kShapeChat, "/api/chat"}, std::pair{kShapeGenerate, "/api/generate"},
                             std::pair{kShapeEmbed, "/api/embed"}, std::pair{kShapeEmbeddings, "/api/embeddings"}}) {
    req.shape = shape;
    EXPECT_EQ(codec.PassthroughPath(req, "m"), path);
  }
  EXPECT_FALSE(codec.EncodeCountTokens(Basic(), "m"));
  EXPECT_FALSE(codec.DecodeCountTokens("{}"));
}

TEST(OllamaCodecTest, StreamIsAlwaysExplicit) {
  chat::Request r = Basic();
  EXPECT_EQ(EncodeOk(r), R"({"model":"llama3:8b","messages":[{"role":"user","content":"hi"}],"stream":false})");
  r.stream = true;
  EXPECT_NE(EncodeOk(r).find(R"("stream":true)"), std::string::npos);
}

TEST(OllamaCodecTest, SystemImagesToolCallsAndResults) {
  chat::Request r;
  r.system = {Text("be brief"), Text("be kind")};
  r.messages.push_back(
      Msg(chat::Role::kUser, {Text("look"), Image("iVBORw0KGgo"), Image("", "data:image/png;base64,AAAA")}));
  chat::Part thinking = Text("let me see", chat::PartKind::kThinking);
  thinking.signature = "sig-must-not-leak";
  r.messages.push_back(
      Msg(chat::Role::kAssistant, {thinking, Text("Checking."), Call("call_1", "get_weather", R"({"city":"Paris"})"),
                                   Call("call_2", "get_time", R"({"tz":)")}));
  chat::Part unnamed = Result("call_2", "", "12:00");
  r.messages.push_back(Msg(chat::Role::kTool, {Result("call_1", "get_weather", "sunny")}));
  r.messages.push_back(Msg(chat::Role::kTool, {unnamed}));
  const std::string body = EncodeOk(r);
  EXPECT_EQ(body,
            R"({"model":"llama3:8b","messages":[{"role":"system","content":"be brief\n\nbe kind"},)"
            R"({"role":"user","content":"look","images":["iVBORw0KGgo","AAAA"]},)"
            R"({"role":"assistant","content":"Checking.","thinking":"let me see","tool_calls":[)"
            R"({"id":"call_1","function":{"index":0,"name":"get_weather","arguments":{"city":"Paris"}}},)"
            R"({"id":"call_2","function":{"index":1,"name":"get_time","arguments":{}}}]},)"
            R"({"role":"tool","content":"sunny","tool_name":"get_weather","tool_call_id":"call_1"},)"
            R"({"role":"tool","content":"12:00","tool_name":"get_time","tool_call_id":"call_2"}],"stream":false})");
  EXPECT_EQ(body.find("sig-must-not-leak"), std::string::npos);
}

TEST(OllamaCodecTest, ToolResultsInAUserMessageComeFirst) {
  chat::Request r;
  r.messages.push_back(Msg(chat::Role::kAssistant, {Call("t1", "f", "{}")}));
  r.messages.push_back(Msg(chat::Role::kUser, {Text("and also"), Result("t1", "", "done")}));
  EXPECT_NE(EncodeOk(r).find(R"({"role":"tool","content":"done","tool_name":"f","tool_call_id":"t1"},)"
                             R"({"role":"user","content":"and also"})"),
            std::string::npos);
}

TEST(OllamaCodecTest, UrlImagesNeedDropParams) {
  chat::Request r = Basic();
  r.messages[0].parts.push_back(Image("", "https://example.com/cat.png"));
  auto e = EncodeError(r);
  EXPECT_EQ(e.code, ErrorCode::kBadRequest);
  EXPECT_NE(e.message.find("Ollama needs inline base64 images"), std::string::npos);
  EXPECT_EQ(EncodeOk(r, /*drop=*/true),
            R"({"model":"llama3:8b","messages":[{"role":"user","content":"hi"}],"stream":false})");
}

TEST(OllamaCodecTest, ToolsAndToolChoice) {
  chat::Request r = Basic();
  chat::Tool t;
  t.name = "get_weather";
  t.description = "Weather";
  t.parameters = R"({"type":"object","properties":{"city":{"type":"string"}}})";
  r.tools.push_back(t);
  EXPECT_NE(EncodeOk(r).find(R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Weather",)"
                             R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])"),
            std::string::npos);
  r.tool_choice.mode = chat::ToolChoiceMode::kNone;
  EXPECT_EQ(EncodeOk(r).find("\"tools\""), std::string::npos);
  r.tool_choice.mode = chat::ToolChoiceMode::kRequired;
  EXPECT_EQ(EncodeError(r).param, "tool_choice");
  r.tool_choice.mode = chat::ToolChoiceMode::kNamed;
  r.tool_choice.name = "get_weather";
  EXPECT_EQ(EncodeError(r).param, "tool_choice");
  EXPECT_NE(EncodeOk(r, /*drop=*/true).find("\"tools\""), std::string::npos);
  r.tool_choice.mode = chat::ToolChoiceMode::kAuto;
  r.n = 2;
  EXPECT_EQ(EncodeError(r).param, "n");
  r.n = 1;
  EncodeOk(r);
}

TEST(OllamaCodecTest, FormatOptionsAndThink) {
  chat::Request r = Basic();
  r.response_format.type = chat::ResponseFormat::Type::kJsonObject;
  r.temperature = 0.5;
  r.top_p = 0.9;
  r.top_k = 40;
  r.max_tokens = 100;
  r.seed = 3;
  r.frequency_penalty = 0.1;
  r.presence_penalty = 0.2;
  r.stop = {"END"};
  r.reasoning.enabled = true;
  EXPECT_EQ(EncodeOk(r), R"({"model":"llama3:8b","messages":[{"role":"user","content":"hi"}],"stream":false,)"
                         R"("format":"json","options":{"temperature":0.5,"top_p":0.9,"top_k":40,"num_predict":100,)"
                         R"("seed":3,"frequency_penalty":0.1,"presence_penalty":0.2,"stop":["END"]},"think":true})");
  r = Basic();
  r.response_format.type = chat::ResponseFormat::Type::kJsonSchema;
  r.response_format.schema = R"({"type":"object"})";
  EXPECT_NE(EncodeOk(r).find(R"("format":{"type":"object"})"), std::string::npos);
  auto think = [](std::optional<bool> enabled, std::string effort) {
    chat::Request q = Basic();
    q.reasoning.enabled = enabled;
    q.reasoning.effort = std::move(effort);
    std::string body = EncodeOk(q);
    size_t at = body.find("\"think\":");
    return at == std::string::npos ? std::string("absent") : body.substr(at + 8, body.size() - at - 9);
  };
  EXPECT_EQ(think(std::nullopt, ""), "absent");
  EXPECT_EQ(think(false, ""), "false");
  EXPECT_EQ(think(true, ""), "true");
  EXPECT_EQ(think(true, "high"), "\"high\"");
  EXPECT_EQ(think(std::nullopt, "medium"), "\"medium\"");
  EXPECT_EQ(think(true, "minimal"), "\"low\"");
}

// ---------------------------------------------------------------- DecodeChat

chat::Response DecodeOk(std::string_view body) {
  OllamaCodec codec;
  auto r = codec.DecodeChat(body);
  if (auto* e = std::get_if<GatewayError>(&r)) ADD_FAILURE() << e->message;
  return std::holds_alternative<chat::Response>(r) ? std::get<chat::Response>(r) : chat::Response{};
}

TEST(OllamaDecodeChatTest, TextThinkingAndUsage) {
  auto r = DecodeOk(R"({"model":"llama3:8b","created_at":"2024-05-01T12:00:00Z","message":{"role":"assistant",
    "content":"Hello","thinking":"greet"},"done":true,"done_reason":"stop","total_duration":5,
    "prompt_eval_count":26,"eval_count":3})");
  EXPECT_EQ(r.model, "llama3:8b");
  EXPECT_FALSE(r.id.empty());
  ASSERT_EQ(r.content.size(), 2u);
  EXPECT_EQ(r.content[0].kind, chat::PartKind::kThinking);
  EXPECT_EQ(r.content[0].text, "greet");
  EXPECT_EQ(r.content[1].text, "Hello");
  EXPECT_EQ(r.finish, chat::FinishReason::kStop);
  ASSERT_TRUE(r.usage);
  EXPECT_EQ(r.usage->input_tokens, 26);
  EXPECT_EQ(r.usage->output_tokens, 3);
}

TEST(OllamaDecodeChatTest, ToolCallsObjectsToTextAndIds) {
  auto r = DecodeOk(R"({"model":"m","message":{"role":"assistant","content":"","tool_calls":[
    {"function":{"index":0,"name":"get_weather","arguments":{ "city": "Paris" }}},
    {"id":"call_x","function":{"index":0,"name":"get_time","arguments":{}}}]},"done":true,"done_reason":"stop"})");
  ASSERT_EQ(r.content.size(), 2u);
  EXPECT_EQ(r.content[0].kind, chat::PartKind::kToolCall);
  EXPECT_EQ(r.content[0].name, "get_weather");
  EXPECT_EQ(r.content[0].arguments, R"({"city":"Paris"})");
  EXPECT_TRUE(r.content[0].id.starts_with("call_"));
  EXPECT_EQ(r.content[1].id, "call_x");
  EXPECT_EQ(r.content[1].arguments, "{}");
  EXPECT_EQ(r.finish, chat::FinishReason::kToolCalls);
  EXPECT_FALSE(r.usage);  // no counts: unknown, not zero
}

TEST(OllamaDecodeChatTest, LengthStaysLengthWithToolCalls) {
  auto r = DecodeOk(R"({"message":{"content":"x","tool_calls":[{"function":{"name":"f","arguments":"{\"a\":1}"}}]},
    "done":true,"done_reason":"length"})");
  EXPECT_EQ(r.finish, chat::FinishReason::kLength);
  EXPECT_EQ(r.content[1].arguments, R"({"a":1})");
  EXPECT_EQ(DecodeOk(R"({"message":{"content":""},"done":true,"done_reason":"load"})").finish,
            chat::FinishReason::kStop);
}

TEST(OllamaDecodeChatTest, ErrorsAndGarbage) {
  OllamaCodec codec;
  auto e = std::get<GatewayError>(codec.DecodeChat(R"({"error":"model 'x' not found"})"));
  EXPECT_EQ(e.code, ErrorCode::kProviderError);
  EXPECT_EQ(e.message, "model 'x' not found");
  EXPECT_EQ(std::get<GatewayError>(codec.DecodeChat("not json")).code, ErrorCode::kProviderError);
  EXPECT_EQ(std::get<GatewayError>(codec.DecodeChat("[]")).code, ErrorCode::kProviderError);
  EXPECT_EQ(std::get<GatewayError>(codec.DecodeChat(R"({"done":true})")).code, ErrorCode::kProviderError);
  EXPECT_EQ(std::get<GatewayError>(codec.DecodeChat(R"({"message":{"tool_calls":[{"function":{}}]}})")).code,
            ErrorCode::kProviderError);
  EXPECT_EQ(DecodeOk(R"({"response":"gen","done":true})").content.at(0).text, "gen");
}

// ---------------------------------------------------------------- embeddings and errors

TEST(OllamaCodecEmbedTest, EncodeAndDecode) {
  OllamaCodec codec;
  chat::EmbedRequest req;
  req.inputs = {"a", "b\"c"};
  req.dimensions = 64;
  auto call = std::get<UpstreamCall>(codec.EncodeEmbed(req, "nomic-embed-text"));
  EXPECT_EQ(call.path, "/api/embed");
  EXPECT_EQ(call.body, R"({"model":"nomic-embed-text","input":["a","b\"c"],"dimensions":64})");
  auto r = std::get<chat::EmbedResponse>(
      codec.DecodeEmbed(R"({"model":"nomic-embed-text","embeddings":[[0.1,-2],[3,4e-2]],"prompt_eval_count":8})"));
  ASSERT_EQ(r.vectors.size(), 2u);
  EXPECT_EQ(r.vectors[0][1], -2.0);
  EXPECT_EQ(r.vectors[1][1], 0.04);
  ASSERT_TRUE(r.usage);
  EXPECT_EQ(r.usage->input_tokens, 8);
  EXPECT_EQ(std::get<GatewayError>(codec.DecodeEmbed(R"({"error":"boom"})")).message, "boom");
  EXPECT_EQ(std::get<GatewayError>(codec.DecodeEmbed(R"({"embeddings":[["x"]]})")).code, ErrorCode::kProviderError);
  EXPECT_EQ(std::get<GatewayError>(codec.DecodeEmbed(R"({})")).code, ErrorCode::kProviderError);
}

TEST(OllamaCodecTest, ErrorMessage) {
  OllamaCodec codec;
  EXPECT_EQ(codec.ErrorMessage(R"({"error":"model \"x\" not found, try pulling it first"})"),
            "model \"x\" not found, try pulling it first");
  EXPECT_EQ(codec.ErrorMessage(R"({"error":{"message":"proxy said no"}})"), "proxy said no");
  EXPECT_EQ(codec.ErrorMessage("Bad Gateway"), "Bad Gateway");
  EXPECT_EQ(codec.ErrorMessage(std::string(500, 'x')).size(), 200u);
  EXPECT_EQ(codec.ErrorMessage(std::string(199, 'x') + "\xc3\xa9").size(), 199u);  // no cut UTF-8
}

}  // namespace
}  // namespace sy::ollama

namespace sy::ollama {
namespace {

// Ollama client → gateway → Ollama upstream, translated (not passed through):
// tool-call arguments stay objects, tool results keep tool_name and gain the
// call's id, images stay base64, options and think survive.
TEST(OllamaRoundTripTest, FrontDoorToCodec) {
  OllamaFrontDoor door([] { return int64_t{0}; });
  FrontDoorInput in;
  in.shape = kShapeChat;
  in.body = R"({"model":"alias","think":"low","options":{"temperature":0.1,"num_predict":64},"messages":[
    {"role":"system","content":"sys"},
    {"role":"user","content":"look","images":["iVBORw0KGgo"]},
    {"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":[1,{"b":null}]}}}]},
    {"role":"tool","tool_name":"f","content":"ok"}]})";
  auto peeked = door.Peek(std::move(in));
  ASSERT_TRUE(std::holds_alternative<InternalRequest>(peeked));
  chat::Request req;
  ASSERT_FALSE(door.ParseChat(std::get<InternalRequest>(peeked), &req));
  const std::string body = EncodeOk(req);
  const std::string id = req.messages[1].parts[0].id;
  ASSERT_TRUE(id.starts_with("call_"));
  EXPECT_EQ(body, R"({"model":"llama3:8b","messages":[{"role":"system","content":"sys"},)"
                  R"({"role":"user","content":"look","images":["iVBORw0KGgo"]},)"
                  R"({"role":"assistant","content":"","tool_calls":[{"id":")" +
                      id + R"(","function":{"index":0,"name":"f","arguments":{"a":[1,{"b":null}]}}}]},)"
                           R"({"role":"tool","content":"ok","tool_name":"f","tool_call_id":")" +
                      id + R"("}],"stream":true,"options":{"temperature":0.1,"num_predict":64},"think":"low"})");
}

}  // namespace
}  // namespace sy::ollama
