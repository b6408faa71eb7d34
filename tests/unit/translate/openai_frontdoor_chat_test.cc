// OpenAiFrontDoor (frontdoor/openai/openai_chat.h): typed parse of OpenAI
// requests, and responses / stream chunks / embeddings / errors in OpenAI's
// shapes.
#include "frontdoor/openai/openai_chat.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

namespace sy::openai {
namespace {

using chat::EventKind;
using chat::FinishReason;
using chat::PartKind;

const OpenAiFrontDoor& Door() {
  static const OpenAiFrontDoor door([] { return int64_t{1700000000}; });
  return door;
}

InternalRequest PeekOk(std::string body, Operation op = Operation::kChatCompletions) {
  FrontDoorInput in;
  in.operation = op;
  in.body = std::move(body);
  auto r = Door().Peek(std::move(in));
  EXPECT_TRUE(std::holds_alternative<InternalRequest>(r))
      << (std::holds_alternative<GatewayError>(r) ? std::get<GatewayError>(r).message : "");
  return std::holds_alternative<InternalRequest>(r) ? std::get<InternalRequest>(r) : InternalRequest{};
}

chat::Request Parse(const std::string& body, Operation op = Operation::kChatCompletions) {
  chat::Request out;
  auto err = Door().ParseChat(PeekOk(body, op), &out);
  EXPECT_FALSE(err.has_value()) << (err ? err->message : "");
  return out;
}

GatewayError ParseFails(const std::string& body, Operation op = Operation::kChatCompletions) {
  chat::Request out;
  auto err = Door().ParseChat(PeekOk(body, op), &out);
  EXPECT_TRUE(err.has_value()) << body;
  if (!err) return GatewayError{};
  EXPECT_EQ(err->code, ErrorCode::kBadRequest);
  return *err;
}

std::string Chat(const std::string& messages, const std::string& extra = "") {
  return R"({"model":"m","messages":)" + messages + extra + "}";
}

// The data payloads of an SSE stream.
std::vector<std::string> DataLines(const std::string& sse) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    size_t end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event in: " << sse;
    if (end == std::string::npos) break;
    std::string event = sse.substr(pos, end - pos);
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
    out.push_back(event.substr(6));
    pos = end + 2;
  }
  return out;
}

// ------------------------------------------------------------------ Peek

TEST(OpenAiChatPeek, SetsShapeByOperation) {
  EXPECT_EQ(PeekOk(Chat(R"([{"role":"user","content":"hi"}])")).shape, kShapeChat);
  EXPECT_EQ(PeekOk(R"({"model":"m","prompt":"x"})", Operation::kCompletions).shape, kShapeCompletions);
  EXPECT_EQ(PeekOk(R"({"model":"m","input":"x"})", Operation::kEmbeddings).shape, kShapeEmbeddings);
  auto req = PeekOk(Chat(R"([{"role":"user","content":"hi"}])", R"(,"stream":true)"));
  EXPECT_TRUE(req.stream);
  EXPECT_EQ(req.model, "m");
  EXPECT_EQ(req.wire, WireProtocol::kOpenAI);
}

TEST(OpenAiChatPeek, RejectsCountTokensAndBadBodies) {
  FrontDoorInput in;
  in.operation = Operation::kCountTokens;
  in.body = R"({"model":"m","messages":[]})";
  auto r = Door().Peek(in);
  ASSERT_TRUE(std::holds_alternative<GatewayError>(r));
  EXPECT_EQ(HttpStatus(std::get<GatewayError>(r).code), 400);

  in.operation = Operation::kChatCompletions;
  in.body = "{not json";
  EXPECT_TRUE(std::holds_alternative<GatewayError>(Door().Peek(in)));
  in.body = R"({"messages":[{"role":"user","content":"x"}]})";
  r = Door().Peek(in);
  ASSERT_TRUE(std::holds_alternative<GatewayError>(r));
  EXPECT_EQ(std::get<GatewayError>(r).param, "model");
}

// ------------------------------------------------------------------ ParseChat

TEST(OpenAiChatParse, HoistsSystemAndDeveloperInOrder) {
  auto r = Parse(Chat(R"([{"role":"system","content":"one"},{"role":"user","content":"hi"},
      {"role":"developer","content":[{"type":"text","text":"two"},{"type":"text","text":"three"}]},
      {"role":"system","content":""}])"));
  ASSERT_EQ(r.system.size(), 3u);
  EXPECT_EQ(r.system[0].text, "one");
  EXPECT_EQ(r.system[1].text, "two");
  EXPECT_EQ(r.system[2].text, "three");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, chat::Role::kUser);
  EXPECT_EQ(r.model, "m");
}

TEST(OpenAiChatParse, UserContentStringAndParts) {
  auto r = Parse(Chat(R"([{"role":"user","content":[
      {"type":"text","text":"look"},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
      {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]},
      {"role":"user","content":""}])"));
  ASSERT_EQ(r.messages.size(), 2u);
  const auto& parts = r.messages[0].parts;
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].kind, PartKind::kText);
  EXPECT_EQ(parts[0].text, "look");
  EXPECT_EQ(parts[1].kind, PartKind::kImage);
  EXPECT_EQ(parts[1].media_type, "image/png");
  EXPECT_EQ(parts[1].data, "iVBORw0KGgo=");
  EXPECT_TRUE(parts[1].url.empty());
  EXPECT_EQ(parts[2].kind, PartKind::kImage);
  EXPECT_EQ(parts[2].url, "https://example.com/cat.jpg");
  ASSERT_EQ(r.messages[1].parts.size(), 1u);
  EXPECT_EQ(r.messages[1].parts[0].text, "");
}

TEST(OpenAiChatParse, RejectsBadImages) {
  auto e = ParseFails(Chat(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}])"));
  EXPECT_EQ(e.param, "messages[0].content[0].image_url.url");
  e = ParseFails(Chat(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:;base64,AA"}}]}])"));
  EXPECT_EQ(e.param, "messages[0].content[0].image_url.url");
  e = ParseFails(Chat(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,AA"}}]}])"));
  EXPECT_EQ(e.param, "messages[0].content[0].image_url.url");
  e = ParseFails(Chat(R"([{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}])"));
  EXPECT_EQ(e.param, "messages[0].content[0].type");
  e = ParseFails(Chat(R"([{"role":"user","content":[{"text":"no type"}]}])"));
  EXPECT_EQ(e.param, "messages[0].content[0].type");
  e = ParseFails(Chat(R"([{"role":"user","content":[{"type":"text","text":5}]}])"));
  EXPECT_EQ(e.param, "messages[0].content[0].text");
  e = ParseFails(Chat(R"([{"role":"user","content":7}])"));
  EXPECT_EQ(e.param, "messages[0].content");
  e = ParseFails(Chat(R"([{"role":"user"}])"));
  EXPECT_EQ(e.param, "messages[0].content");
}

TEST(OpenAiChatParse, AssistantToolCallsAndReasoning) {
  auto r = Parse(Chat(R"([{"role":"user","content":"q"},
      {"role":"assistant","content":"Let me check.","reasoning_content":"thinking...",
       "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get","arguments":"{\"a\":1}"}},
                     {"id":"call_2","type":"function","function":{"name":"noargs","arguments":""}}]},
      {"role":"tool","tool_call_id":"call_1","content":"42"},
      {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"ok"}]}])"));
  ASSERT_EQ(r.messages.size(), 4u);
  const auto& a = r.messages[1];
  EXPECT_EQ(a.role, chat::Role::kAssistant);
  ASSERT_EQ(a.parts.size(), 4u);
  EXPECT_EQ(a.parts[0].kind, PartKind::kThinking);
  EXPECT_EQ(a.parts[0].text, "thinking...");
  EXPECT_EQ(a.parts[1].kind, PartKind::kText);
  EXPECT_EQ(a.parts[1].text, "Let me check.");
  EXPECT_EQ(a.parts[2].kind, PartKind::kToolCall);
  EXPECT_EQ(a.parts[2].id, "call_1");
  EXPECT_EQ(a.parts[2].name, "get");
  EXPECT_EQ(a.parts[2].arguments, "{\"a\":1}");
  EXPECT_EQ(a.parts[3].arguments, "{}");
  const auto& t1 = r.messages[2];
  EXPECT_EQ(t1.role, chat::Role::kTool);
  ASSERT_EQ(t1.parts.size(), 1u);
  EXPECT_EQ(t1.parts[0].kind, PartKind::kToolResult);
  EXPECT_EQ(t1.parts[0].id, "call_1");
  EXPECT_EQ(t1.parts[0].name, "get");  // filled from the call
  ASSERT_EQ(t1.parts[0].content.size(), 1u);
  EXPECT_EQ(t1.parts[0].content[0].text, "42");
  EXPECT_EQ(r.messages[3].parts[0].name, "noargs");
  EXPECT_EQ(r.messages[3].parts[0].content[0].text, "ok");
}

TEST(OpenAiChatParse, AssistantNullOrEmptyContentMakesNoTextPart) {
  auto r = Parse(Chat(R"([{"role":"assistant","content":null,"reasoning":"hmm",
      "tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{"x":[1,2]}}}]},
      {"role":"assistant","content":""}])"));
  ASSERT_EQ(r.messages.size(), 2u);
  ASSERT_EQ(r.messages[0].parts.size(), 2u);
  EXPECT_EQ(r.messages[0].parts[0].kind, PartKind::kThinking);
  EXPECT_EQ(r.messages[0].parts[0].text, "hmm");
  EXPECT_EQ(r.messages[0].parts[1].arguments, R"({"x":[1,2]})");  // an object is minified
  EXPECT_TRUE(r.messages[1].parts.empty());
}

TEST(OpenAiChatParse, AssistantContentPartsAndRefusal) {
  auto r = Parse(Chat(R"([{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"refusal","refusal":"no"}]}])"));
  ASSERT_EQ(r.messages[0].parts.size(), 2u);
  EXPECT_EQ(r.messages[0].parts[1].text, "no");
}

TEST(OpenAiChatParse, ToolResultWithImage) {
  auto r = Parse(Chat(R"([{"role":"tool","tool_call_id":"x","content":[{"type":"text","text":"shot"},
      {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/"}}]}])"));
  const auto& res = r.messages[0].parts[0];
  ASSERT_EQ(res.content.size(), 2u);
  EXPECT_EQ(res.content[1].kind, PartKind::kImage);
  EXPECT_EQ(res.content[1].media_type, "image/jpeg");
}

TEST(OpenAiChatParse, LegacyFunctionRoleAnswersLegacyCall) {
  auto r = Parse(Chat(R"([{"role":"user","content":"q"},
      {"role":"assistant","content":null,"function_call":{"name":"lookup","arguments":"{\"k\":1}"}},
      {"role":"function","name":"lookup","content":"found"}])",
                      R"(,"functions":[{"name":"lookup","parameters":{"type":"object"}}],"function_call":"auto")"));
  ASSERT_EQ(r.messages.size(), 3u);
  const auto& call = r.messages[1].parts[0];
  EXPECT_EQ(call.kind, PartKind::kToolCall);
  EXPECT_EQ(call.name, "lookup");
  const auto& result = r.messages[2].parts[0];
  EXPECT_EQ(result.kind, PartKind::kToolResult);
  EXPECT_EQ(result.id, call.id);
  EXPECT_EQ(result.name, "lookup");
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].parameters, R"({"type":"object"})");
  EXPECT_EQ(r.tool_choice.mode, chat::ToolChoiceMode::kAuto);
}

TEST(OpenAiChatParse, UnknownRoleNamesTheField) {
  auto e = ParseFails(Chat(R"([{"role":"user","content":"a"},{"role":"wizard","content":"b"}])"));
  EXPECT_EQ(e.param, "messages[1].role");
  EXPECT_NE(e.message.find("wizard"), std::string::npos);
  e = ParseFails(Chat(R"([{"content":"b"}])"));
  EXPECT_EQ(e.param, "messages[0].role");
  e = ParseFails(Chat(R"([{"role":5,"content":"b"}])"));
  EXPECT_EQ(e.param, "messages[0].role");
  e = ParseFails(Chat(R"([{"role":"tool","content":"b"}])"));
  EXPECT_EQ(e.param, "messages[0].tool_call_id");
  e = ParseFails(Chat(R"(["hi"])"));
  EXPECT_EQ(e.param, "messages[0]");
}

TEST(OpenAiChatParse, ToolsAndToolChoice) {
  auto r = Parse(Chat(R"([{"role":"user","content":"q"}])",
                      R"(,"tools":[{"type":"function","function":{"name":"a","description":"d",
                          "parameters":{"type":"object","properties":{"x":{"type":"string"}}},"strict":true}},
                          {"type":"function","function":{"name":"b"}}],
                         "tool_choice":{"type":"function","function":{"name":"b"}},"parallel_tool_calls":false)"));
  ASSERT_EQ(r.tools.size(), 2u);
  EXPECT_EQ(r.tools[0].name, "a");
  EXPECT_EQ(r.tools[0].description, "d");
  EXPECT_EQ(r.tools[0].parameters, R"({"type":"object","properties":{"x":{"type":"string"}}})");
  EXPECT_TRUE(r.tools[0].strict);
  EXPECT_EQ(r.tools[1].parameters, chat::Tool{}.parameters);  // default empty object schema
  EXPECT_FALSE(r.tools[1].strict);
  EXPECT_EQ(r.tool_choice.mode, chat::ToolChoiceMode::kNamed);
  EXPECT_EQ(r.tool_choice.name, "b");
  EXPECT_EQ(r.parallel_tool_calls, false);

  for (auto [choice, mode] : std::vector<std::pair<std::string, chat::ToolChoiceMode>>{
           {"\"auto\"", chat::ToolChoiceMode::kAuto},
           {"\"none\"", chat::ToolChoiceMode::kNone},
           {"\"required\"", chat::ToolChoiceMode::kRequired},
           {"null", chat::ToolChoiceMode::kUnset}}) {
    EXPECT_EQ(Parse(Chat(R"([{"role":"user","content":"q"}])", ",\"tool_choice\":" + choice)).tool_choice.mode, mode);
  }
}

TEST(OpenAiChatParse, RejectsUntranslatableTools) {
  auto e = ParseFails(Chat(R"([{"role":"user","content":"q"}])", R"(,"tools":[{"type":"custom","custom":{"name":"x"}}])"));
  EXPECT_EQ(e.param, "tools[0].type");
  e = ParseFails(Chat(R"([{"role":"user","content":"q"}])", R"(,"tools":[{"type":"function","function":{"description":"x"}}])"));
  EXPECT_EQ(e.param, "tools[0].function.name");
  e = ParseFails(Chat(R"([{"role":"user","content":"q"}])",
                      R"(,"tools":[{"type":"function","function":{"name":"x","parameters":"str"}}])"));
  EXPECT_EQ(e.param, "tools[0].function.parameters");
  e = ParseFails(Chat(R"([{"role":"user","content":"q"}])", R"(,"tool_choice":"sometimes")"));
  EXPECT_EQ(e.param, "tool_choice");
  e = ParseFails(Chat(R"([{"role":"user","content":"q"}])", R"(,"tool_choice":{"type":"function","function":{}})"));
  EXPECT_EQ(e.param, "tool_choice.function.name");
  e = ParseFails(Chat(R"([{"role":"user","content":"q"}])", R"(,"tools":{})"));
  EXPECT_EQ(e.param, "tools");
  e = ParseFails(Chat(R"([{"role":"assistant","tool_calls":[{"id":"x","type":"custom","custom":{}}]}])"));
  EXPECT_EQ(e.param, "messages[0].tool_calls[0].type");
  e = ParseFails(Chat(R"([{"role":"assistant","tool_calls":[{"id":"x","type":"function","function":{"name":"f","arguments":5}}]}])"));
  EXPECT_EQ(e.param, "messages[0].tool_calls[0].function.arguments");
}

TEST(OpenAiChatParse, SamplingParameters) {
  auto r = Parse(Chat(R"([{"role":"user","content":"q"}])",
                      R"(,"max_tokens":100,"max_completion_tokens":200,"temperature":0.5,"top_p":1,"top_k":40,
                         "frequency_penalty":-0.5,"presence_penalty":0.25,"seed":7,"n":1,"stop":["a","b"],
                         "response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"},"strict":true}},
                         "reasoning_effort":"high","user":"u1","stream":true,"stream_options":{"include_usage":true},
                         "logprobs":false,"metadata":{"x":"y"})"));
  EXPECT_EQ(r.max_tokens, 200);  // max_completion_tokens wins
  EXPECT_EQ(r.temperature, 0.5);
  EXPECT_EQ(r.top_p, 1.0);
  EXPECT_EQ(r.top_k, 40);
  EXPECT_EQ(r.frequency_penalty, -0.5);
  EXPECT_EQ(r.presence_penalty, 0.25);
  EXPECT_EQ(r.seed, 7);
  EXPECT_EQ(r.n, 1);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.response_format.type, chat::ResponseFormat::Type::kJsonSchema);
  EXPECT_EQ(r.response_format.name, "s");
  EXPECT_EQ(r.response_format.schema, R"({"type":"object"})");
  EXPECT_TRUE(r.response_format.strict);
  EXPECT_EQ(r.reasoning.effort, "high");
  EXPECT_EQ(r.reasoning.enabled, true);
  EXPECT_EQ(r.user, "u1");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);

  r = Parse(Chat(R"([{"role":"user","content":"q"}])", R"(,"stop":"END","max_tokens":50.0,"reasoning_effort":"none",
                    "response_format":{"type":"json_object"},"temperature":null)"));
  EXPECT_EQ(r.stop, (std::vector<std::string>{"END"}));
  EXPECT_EQ(r.max_tokens, 50);
  EXPECT_EQ(r.reasoning.enabled, false);
  EXPECT_EQ(r.response_format.type, chat::ResponseFormat::Type::kJsonObject);
  EXPECT_FALSE(r.temperature.has_value());
  EXPECT_FALSE(r.include_usage);
}

TEST(OpenAiChatParse, WrongTypesNameTheParameter) {
  const std::string msgs = R"([{"role":"user","content":"q"}])";
  for (auto [extra, param] : std::vector<std::pair<std::string, std::string>>{
           {R"(,"temperature":"hot")", "temperature"},
           {R"(,"max_tokens":1.5)", "max_tokens"},
           {R"(,"max_tokens":0)", "max_tokens"},
           {R"(,"top_k":"x")", "top_k"},
           {R"(,"seed":true)", "seed"},
           {R"(,"n":0)", "n"},
           {R"(,"stop":5)", "stop"},
           {R"(,"stop":["a",1])", "stop"},
           {R"(,"user":1)", "user"},
           {R"(,"parallel_tool_calls":"yes")", "parallel_tool_calls"},
           {R"(,"stream_options":{"include_usage":1})", "stream_options.include_usage"},
           {R"(,"stream_options":true)", "stream_options"},
           {R"(,"response_format":{"type":"yaml"})", "response_format.type"},
           {R"(,"response_format":{"type":"json_schema"})", "response_format.json_schema"},
           {R"(,"reasoning_effort":"extreme")", "reasoning_effort"},
           {R"(,"reasoning_effort":3)", "reasoning_effort"},
           {R"(,"logprobs":true)", "logprobs"},
           {R"(,"logprobs":"x")", "logprobs"},
       }) {
    EXPECT_EQ(ParseFails(Chat(msgs, extra)).param, param) << extra;
  }
}

TEST(OpenAiChatParse, LegacyCompletions) {
  auto r = Parse(R"({"model":"m","prompt":"Once upon","max_tokens":16,"stop":"\n","stream":true})",
                 Operation::kCompletions);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, chat::Role::kUser);
  EXPECT_EQ(r.messages[0].parts[0].text, "Once upon");
  EXPECT_EQ(r.max_tokens, 16);
  EXPECT_TRUE(r.stream);
  r = Parse(R"({"model":"m","prompt":["only one"],"best_of":1,"echo":false,"suffix":""})", Operation::kCompletions);
  EXPECT_EQ(r.messages[0].parts[0].text, "only one");

  for (auto [body, param] : std::vector<std::pair<std::string, std::string>>{
           {R"({"model":"m","prompt":["a","b"]})", "prompt"},
           {R"({"model":"m","prompt":[1,2,3]})", "prompt"},
           {R"({"model":"m","prompt":"x","suffix":"end"})", "suffix"},
           {R"({"model":"m","prompt":"x","echo":true})", "echo"},
           {R"({"model":"m","prompt":"x","best_of":3})", "best_of"},
           {R"({"model":"m","prompt":"x","logprobs":2})", "logprobs"},
       }) {
    EXPECT_EQ(ParseFails(body, Operation::kCompletions).param, param) << body;
  }
}

// ------------------------------------------------------------------ ParseEmbed

TEST(OpenAiChatEmbed, ParsesInputs) {
  chat::EmbedRequest e;
  ASSERT_FALSE(Door().ParseEmbed(PeekOk(R"({"model":"m","input":"hello","dimensions":256,"encoding_format":"float"})",
                                        Operation::kEmbeddings),
                                 &e));
  EXPECT_EQ(e.inputs, (std::vector<std::string>{"hello"}));
  EXPECT_EQ(e.dimensions, 256);
  EXPECT_EQ(e.model, "m");
  chat::EmbedRequest e2;
  ASSERT_FALSE(Door().ParseEmbed(PeekOk(R"({"model":"m","input":["a","b"]})", Operation::kEmbeddings), &e2));
  EXPECT_EQ(e2.inputs.size(), 2u);

  for (auto [body, param] : std::vector<std::pair<std::string, std::string>>{
           {R"({"model":"m","input":[1,2]})", "input"},
           {R"({"model":"m","input":[[1,2]]})", "input"},
           {R"({"model":"m","input":[]})", "input"},
           {R"({"model":"m","input":5})", "input"},
           {R"({"model":"m","input":"x","encoding_format":"hex"})", "encoding_format"},
           {R"({"model":"m","input":"x","dimensions":"big"})", "dimensions"},
       }) {
    chat::EmbedRequest out;
    auto err = Door().ParseEmbed(PeekOk(body, Operation::kEmbeddings), &out);
    ASSERT_TRUE(err.has_value()) << body;
    EXPECT_EQ(err->param, param) << body;
  }
}

// The openai SDK asks for base64 by default: little-endian float32, base64.
TEST(OpenAiChatEmbed, EncodesBase64WhenAsked) {
  auto req = PeekOk(R"({"model":"alias","input":"a","encoding_format":"base64"})", Operation::kEmbeddings);
  chat::EmbedRequest parsed;
  ASSERT_FALSE(Door().ParseEmbed(req, &parsed));
  chat::EmbedResponse resp;
  resp.vectors = {{1.0, -2.0, 0.5}};
  const std::string body = Door().EncodeEmbed(req, resp);
  // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0, 0.5f = 00 00 00 3f.
  EXPECT_NE(body.find(R"("embedding":"AACAPwAAAMAAAAA/")"), std::string::npos) << body;
}

TEST(OpenAiChatEmbed, EncodesResponse) {
  auto req = PeekOk(R"({"model":"alias","input":["a","b"]})", Operation::kEmbeddings);
  chat::EmbedResponse resp;
  resp.model = "upstream";
  resp.vectors = {{0.5, -1}, {0.25}};
  resp.usage = chat::Usage{};
  resp.usage->input_tokens = 4;
  EXPECT_EQ(Door().EncodeEmbed(req, resp),
            R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1]},)"
            R"({"object":"embedding","index":1,"embedding":[0.25]}],"model":"alias",)"
            R"("usage":{"prompt_tokens":4,"total_tokens":4}})");
}

// ------------------------------------------------------------------ responses

chat::Part Text(std::string t) {
  chat::Part p;
  p.text = std::move(t);
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

TEST(OpenAiChatEncode, ChatCompletion) {
  auto req = PeekOk(Chat(R"([{"role":"user","content":"q"}])"));
  chat::Response resp;
  resp.id = "msg_1";
  resp.model = "claude-x";
  chat::Part thinking;
  thinking.kind = PartKind::kThinking;
  thinking.text = "hmm";
  thinking.signature = "sig";
  resp.content = {thinking, Text("Hello"), Text(" world"), Call("toolu_1", "f", R"({"a":1})")};
  resp.finish = FinishReason::kToolCalls;
  resp.usage = chat::Usage{100, 30, 0, 20, 5};
  EXPECT_EQ(Door().EncodeResponse(req, resp),
            R"({"id":"msg_1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,)"
            R"("message":{"role":"assistant","content":"Hello world","reasoning_content":"hmm","tool_calls":[)"
            R"({"id":"toolu_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}],"refusal":null},)"
            R"("logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":100,"completion_tokens":20,)"
            R"("total_tokens":120,"prompt_tokens_details":{"cached_tokens":30},)"
            R"("completion_tokens_details":{"reasoning_tokens":5}}})");
}

TEST(OpenAiChatEncode, NullContentGeneratedIdAndUpgradedFinish) {
  auto req = PeekOk(Chat(R"([{"role":"user","content":"q"}])"));
  chat::Response resp;
  resp.content = {Call("c1", "f", "")};
  resp.finish = FinishReason::kStop;  // tool presence upgrades stop
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  const std::string body = Door().EncodeResponse(req, resp);
  ASSERT_EQ(p.parse(body).get(doc), simdjson::SUCCESS);
  std::string_view id;
  ASSERT_EQ(doc["id"].get_string().get(id), simdjson::SUCCESS);
  EXPECT_EQ(id.rfind("chatcmpl-", 0), 0u);
  EXPECT_TRUE(doc["choices"].at(0)["message"]["content"].is_null());
  std::string_view s;
  ASSERT_EQ(doc["choices"].at(0)["finish_reason"].get_string().get(s), simdjson::SUCCESS);
  EXPECT_EQ(s, "tool_calls");
  ASSERT_EQ(doc["choices"].at(0)["message"]["tool_calls"].at(0)["function"]["arguments"].get_string().get(s),
            simdjson::SUCCESS);
  EXPECT_EQ(s, "{}");
  int64_t n = -1;
  ASSERT_EQ(doc["usage"]["total_tokens"].get_int64().get(n), simdjson::SUCCESS);  // always present
  EXPECT_EQ(n, 0);
}

TEST(OpenAiChatEncode, FinishReasonTable) {
  auto req = PeekOk(Chat(R"([{"role":"user","content":"q"}])"));
  for (auto [finish, name] : std::vector<std::pair<FinishReason, std::string>>{
           {FinishReason::kStop, "stop"},
           {FinishReason::kStopSequence, "stop"},
           {FinishReason::kLength, "length"},
           {FinishReason::kContextFull, "length"},
           {FinishReason::kToolCalls, "tool_calls"},
           {FinishReason::kContentFilter, "content_filter"},
           {FinishReason::kPause, "length"},
           {FinishReason::kError, "stop"},
           {FinishReason::kNone, "stop"},
       }) {
    chat::Response resp;
    resp.content = {Text("x")};
    resp.finish = finish;
    EXPECT_NE(Door().EncodeResponse(req, resp).find("\"finish_reason\":\"" + name + "\""), std::string::npos) << name;
  }
  // A truncated tool call keeps "length".
  chat::Response resp;
  resp.content = {Call("c", "f", "{\"a\":")};
  resp.finish = FinishReason::kLength;
  EXPECT_NE(Door().EncodeResponse(req, resp).find("\"finish_reason\":\"length\""), std::string::npos);
}

TEST(OpenAiChatEncode, TextCompletion) {
  auto req = PeekOk(R"({"model":"m","prompt":"x"})", Operation::kCompletions);
  chat::Response resp;
  resp.id = "r";
  resp.content = {Text("abc")};
  resp.finish = FinishReason::kLength;
  resp.usage = chat::Usage{3, 0, 0, 2, 0};
  EXPECT_EQ(Door().EncodeResponse(req, resp),
            R"({"id":"r","object":"text_completion","created":1700000000,"model":"m","choices":[{"text":"abc",)"
            R"("index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":2,)"
            R"("total_tokens":5}})");
}

// ------------------------------------------------------------------ streams

chat::StreamEvent Ev(EventKind kind, std::string text = "", int index = 0) {
  chat::StreamEvent e;
  e.kind = kind;
  e.text = std::move(text);
  e.index = index;
  return e;
}

std::string EncodeAll(const InternalRequest& req, const chat::Request& c, const std::vector<chat::StreamEvent>& events) {
  auto enc = Door().NewStreamEncoder(req, c);
  std::string out;
  for (const auto& e : events) enc->Encode(e, &out);
  return out;
}

TEST(OpenAiChatStream, TextReasoningToolsUsage) {
  auto req = PeekOk(Chat(R"([{"role":"user","content":"q"}])", R"(,"stream":true,"stream_options":{"include_usage":true})"));
  chat::Request c = Parse(req.raw_body);
  chat::StreamEvent start = Ev(EventKind::kStart);
  start.id = "up-1";
  start.model = "upstream-model";
  chat::StreamEvent call0 = Ev(EventKind::kToolCallStart, "", 0);
  call0.id = "call_a";
  call0.name = "f";
  chat::StreamEvent call1 = Ev(EventKind::kToolCallStart, "", 1);
  call1.id = "call_b";
  call1.name = "g";
  chat::StreamEvent usage = Ev(EventKind::kUsage);
  usage.usage = chat::Usage{10, 2, 0, 7, 3};
  chat::StreamEvent finish = Ev(EventKind::kFinish);
  finish.finish = FinishReason::kToolCalls;
  std::string out = EncodeAll(req, c,
                              {start, Ev(EventKind::kReasoningDelta, "think"), Ev(EventKind::kReasoningSignature, "sig"),
                               Ev(EventKind::kTextDelta, "Hi"), Ev(EventKind::kTextDelta, ""), call0, call1,
                               Ev(EventKind::kToolCallDelta, "{\"a\"", 0), Ev(EventKind::kToolCallDelta, "{}", 1),
                               Ev(EventKind::kToolCallDelta, ":1}", 0), Ev(EventKind::kToolCallEnd, "", 0),
                               Ev(EventKind::kToolCallEnd, "", 1), usage, finish});
  auto lines = DataLines(out);
  const std::string head = R"({"id":"up-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,)";
  const std::string tail = R"(,"logprobs":null,"finish_reason":null}],"usage":null})";
  std::vector<std::string> want = {
      head + R"("delta":{"role":"assistant","content":""})" + tail,
      head + R"("delta":{"reasoning_content":"think"})" + tail,
      head + R"("delta":{"content":"Hi"})" + tail,
      head + R"("delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]})" + tail,
      head + R"("delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"g","arguments":""}}]})" + tail,
      head + R"("delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]})" + tail,
      head + R"("delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]})" + tail,
      head + R"("delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]})" + tail,
      head + R"("delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null})",
      R"({"id":"up-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[],)"
      R"("usage":{"prompt_tokens":10,"completion_tokens":7,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":2},)"
      R"("completion_tokens_details":{"reasoning_tokens":3}}})",
      "[DONE]",
  };
  ASSERT_EQ(lines.size(), want.size()) << out;
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(lines[i], want[i]) << i;
}

TEST(OpenAiChatStream, NoUsageChunkUnlessAsked) {
  auto req = PeekOk(Chat(R"([{"role":"user","content":"q"}])", R"(,"stream":true)"));
  chat::Request c = Parse(req.raw_body);
  chat::StreamEvent usage = Ev(EventKind::kUsage);
  usage.usage = chat::Usage{1, 0, 0, 1, 0};
  chat::StreamEvent finish = Ev(EventKind::kFinish);
  finish.finish = FinishReason::kStop;
  std::string out = EncodeAll(req, c, {Ev(EventKind::kStart), Ev(EventKind::kTextDelta, "x"), usage, finish});
  auto lines = DataLines(out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(out.find("usage"), std::string::npos);
  EXPECT_NE(lines[2].find("\"finish_reason\":\"stop\""), std::string::npos);
  EXPECT_EQ(lines[3], "[DONE]");
  // Same id on every chunk, generated when the start had none.
  simdjson::dom::parser p;
  std::string first_id;
  for (size_t i = 0; i < 3; ++i) {
    simdjson::dom::element doc;
    ASSERT_EQ(p.parse(lines[i]).get(doc), simdjson::SUCCESS);
    std::string_view id;
    ASSERT_EQ(doc["id"].get_string().get(id), simdjson::SUCCESS);
    if (i == 0) first_id = std::string(id);
    EXPECT_EQ(id, first_id);
    EXPECT_EQ(first_id.rfind("chatcmpl-", 0), 0u);
  }
}

TEST(OpenAiChatStream, FinishUpgradedWhenToolCallsWereSent) {
  auto req = PeekOk(Chat(R"([{"role":"user","content":"q"}])", R"(,"stream":true)"));
  chat::StreamEvent call = Ev(EventKind::kToolCallStart, "", 0);
  call.id = "c";
  call.name = "f";
  chat::StreamEvent finish = Ev(EventKind::kFinish);
  finish.finish = FinishReason::kNone;
  std::string out = EncodeAll(req, chat::Request{}, {Ev(EventKind::kStart), call, Ev(EventKind::kToolCallEnd), finish});
  EXPECT_NE(out.find("\"finish_reason\":\"tool_calls\""), std::string::npos);
}

TEST(OpenAiChatStream, ErrorEndsWithoutDone) {
  auto req = PeekOk(Chat(R"([{"role":"user","content":"q"}])", R"(,"stream":true)"));
  chat::StreamEvent err = Ev(EventKind::kError);
  err.error = MakeError(ErrorCode::kNoProvider, "Overloaded");
  auto enc = Door().NewStreamEncoder(req, chat::Request{});
  std::string out;
  enc->Encode(Ev(EventKind::kStart), &out);
  enc->Encode(Ev(EventKind::kTextDelta, "par"), &out);
  enc->Encode(err, &out);
  enc->Encode(Ev(EventKind::kTextDelta, "late"), &out);  // ignored after the end
  auto lines = DataLines(out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], R"({"error":{"message":"Overloaded","type":"api_error","param":null,"code":"no_provider_available"}})");
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);
  EXPECT_EQ(out.find("late"), std::string::npos);
}

TEST(OpenAiChatStream, TextCompletionChunks) {
  auto req = PeekOk(R"({"model":"m","prompt":"x","stream":true,"stream_options":{"include_usage":true}})",
                    Operation::kCompletions);
  chat::Request c = Parse(req.raw_body, Operation::kCompletions);
  chat::StreamEvent start = Ev(EventKind::kStart);
  start.id = "cmpl-1";
  chat::StreamEvent finish = Ev(EventKind::kFinish);
  finish.finish = FinishReason::kLength;
  auto lines = DataLines(EncodeAll(req, c, {start, Ev(EventKind::kReasoningDelta, "r"), Ev(EventKind::kTextDelta, "ab"), finish}));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], R"({"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"m","choices":[{"text":"ab",)"
                      R"("index":0,"logprobs":null,"finish_reason":null}],"usage":null})");
  EXPECT_EQ(lines[1], R"({"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"m","choices":[{"text":"",)"
                      R"("index":0,"logprobs":null,"finish_reason":"length"}],"usage":null})");
  EXPECT_EQ(lines[2], R"({"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"m","choices":[],)"
                      R"("usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}})");
  EXPECT_EQ(lines[3], "[DONE]");
  EXPECT_EQ(Door().StreamContentType(req), "text/event-stream");
}

// ------------------------------------------------------------------ errors, models

TEST(OpenAiChatErrors, EncodeErrorHeaders) {
  GatewayError e = MakeError(ErrorCode::kRateLimited, "slow down");
  e.retry_after = "7";
  auto reply = Door().EncodeError(e);
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(reply.body,
            R"({"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}})");
  ASSERT_EQ(reply.headers.size(), 1u);
  EXPECT_EQ(reply.headers[0], (std::pair<std::string, std::string>{"Retry-After", "7"}));

  reply = Door().EncodeError(MakeError(ErrorCode::kUnauthorized, "no key"));
  EXPECT_EQ(reply.status, 401);
  ASSERT_EQ(reply.headers.size(), 1u);
  EXPECT_EQ(reply.headers[0], (std::pair<std::string, std::string>{"WWW-Authenticate", "Bearer"}));

  GatewayError bad = MakeError(ErrorCode::kBadRequest, "bad");
  bad.param = "messages[0].role";
  reply = Door().EncodeError(bad);
  EXPECT_EQ(reply.status, 400);
  EXPECT_TRUE(reply.headers.empty());
  EXPECT_NE(reply.body.find(R"("param":"messages[0].role")"), std::string::npos);
}

TEST(OpenAiChatModels, ListAndObject) {
  std::vector<sy::ModelEntry> models = {{"gpt-x", "openai"}, {"claude", "anthropic"}};
  EXPECT_EQ(Door().ModelList(models, 5),
            R"({"object":"list","data":[{"id":"gpt-x","object":"model","created":5,"owned_by":"openai"},)"
            R"({"id":"claude","object":"model","created":5,"owned_by":"anthropic"}]})");
  EXPECT_EQ(Door().ModelObject(models[1], 9), R"({"id":"claude","object":"model","created":9,"owned_by":"anthropic"})");
  EXPECT_EQ(Door().EncodeCountTokens(InternalRequest{}, 5), "");
  EXPECT_EQ(Door().protocol(), WireProtocol::kOpenAI);
}

}  // namespace
}  // namespace sy::openai
