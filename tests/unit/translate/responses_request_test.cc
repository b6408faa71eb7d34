// Responses front door: Peek and ParseChat.
#include <gtest/gtest.h>

#include "frontdoor/responses/responses_frontdoor.h"
#include "responses_test_util.h"

namespace sy::responses {
namespace {

using namespace testing;
using chat::PartKind;
using chat::Role;

TEST(ResponsesPeek, FillsRoutingFields) {
  const std::string body = R"({"model":"gpt-5-codex","input":"hi","stream":true})";
  InternalRequest req = MustPeek(body);
  EXPECT_EQ(req.model, "gpt-5-codex");
  EXPECT_TRUE(req.stream);
  EXPECT_EQ(req.operation, Operation::kChatCompletions);
  EXPECT_EQ(req.wire, WireProtocol::kOpenAIResponses);
  EXPECT_EQ(req.raw_body, body);
  EXPECT_EQ(body.substr(req.model_span.begin, req.model_span.end - req.model_span.begin), "\"gpt-5-codex\"");
  EXPECT_FALSE(MustPeek(R"({"model":"m","input":[]})").stream);
  EXPECT_FALSE(MustPeek(R"({"model":"m","input":[],"stream":null})").stream);
  ResponsesFrontDoor door;
  EXPECT_EQ(door.protocol(), WireProtocol::kOpenAIResponses);
  EXPECT_EQ(door.StreamContentType(req), "text/event-stream");
}

TEST(ResponsesPeek, RefusesMalformedBodies) {
  struct Case {
    std::string body;
    std::string param;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"not json", ""},
      {"[1,2]", ""},
      {R"({"input":"x"})", "model"},
      {R"({"model":"","input":"x"})", "model"},
      {R"({"model":7,"input":"x"})", "model"},
      {R"({"model":"a","model":"b","input":"x"})", "model"},
      {R"({"model":"a","stream":true,"stream":false,"input":"x"})", "stream"},
      {R"({"model":"a","stream":"yes","input":"x"})", "stream"},
      {R"({"model":"a"})", "input"},
      {R"({"model":"a","input":null})", "input"},
      {R"({"model":"a","input":42})", "input"},
      {R"({"model":"a","input":{"role":"user"}})", "input"},
  };
  for (const auto& c : cases) {
    GatewayError e = MustRefuse(c.body);
    EXPECT_EQ(e.code, ErrorCode::kBadRequest) << c.body;
    EXPECT_FALSE(e.message.empty());
    EXPECT_EQ(e.param.value_or(""), c.param) << c.body;
  }
}

TEST(ResponsesPeek, RefusesStatefulParameters) {
  for (std::string key : {"previous_response_id", "conversation", "prompt"}) {
    GatewayError e = MustRefuse(R"({"model":"m","input":"x",")" + key + R"(":"resp_123"})");
    EXPECT_EQ(e.param.value_or(""), key);
    EXPECT_NE(e.message.find("stateless"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("full conversation history"), std::string::npos) << e.message;
  }
  EXPECT_EQ(MustRefuse(R"({"model":"m","input":"x","background":true})").param.value_or(""), "background");
  // null / false mean "not used".
  MustPeek(R"({"model":"m","input":"x","previous_response_id":null,"background":false,"conversation":null})");
}

TEST(ResponsesPeek, BoundsNesting) {
  std::string deep = R"({"model":"m","input":"x","metadata":)";
  std::string ok = deep;
  for (int i = 0; i < 62; ++i) ok += "[";
  for (int i = 0; i < 62; ++i) ok += "]";
  MustPeek(ok + "}");
  for (int i = 0; i < 64; ++i) deep += "[";
  for (int i = 0; i < 64; ++i) deep += "]";
  GatewayError e = MustRefuse(deep + "}");
  EXPECT_NE(e.message.find("nested deeper"), std::string::npos) << e.message;
}

TEST(ResponsesParse, StringInputAndInstructions) {
  chat::Request r = MustParse(
      R"({"model":"m","instructions":"Be brief.","input":"Hello","max_output_tokens":100,"temperature":0.5,)"
      R"("top_p":0.9,"user":"u-1","metadata":{"a":"b"},"store":true})");
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.system.size(), 1u);
  EXPECT_EQ(r.system[0].text, "Be brief.");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, Role::kUser);
  EXPECT_EQ(r.messages[0].parts[0].text, "Hello");
  EXPECT_EQ(r.max_tokens, 100);
  EXPECT_EQ(r.temperature, 0.5);
  EXPECT_EQ(r.top_p, 0.9);
  EXPECT_EQ(r.user, "u-1");
  EXPECT_TRUE(r.tools.empty());
  EXPECT_EQ(r.tool_choice.mode, chat::ToolChoiceMode::kUnset);
}

// What Codex CLI sends on a follow-up turn with store:false: the whole
// history, reasoning items with encrypted_content, a freeform apply_patch tool.
TEST(ResponsesParse, CodexTurn) {
  const std::string body = R"({
    "model":"gpt-5-codex","instructions":"You are Codex.","stream":true,"store":false,
    "include":["reasoning.encrypted_content"],"prompt_cache_key":"abc","parallel_tool_calls":false,
    "tool_choice":"auto","reasoning":{"effort":"high","summary":"auto"},"text":{"verbosity":"low"},
    "tools":[
      {"type":"function","name":"shell","description":"Runs a command","strict":false,
       "parameters":{"type":"object","properties":{"command":{"type":"array","items":{"type":"string"}}},"required":["command"]}},
      {"type":"custom","name":"apply_patch","description":"Edit files",
       "format":{"type":"grammar","syntax":"lark","definition":"start: patch"}},
      {"type":"web_search"},
      {"type":"local_shell"}
    ],
    "input":[
      {"type":"message","role":"developer","content":[{"type":"input_text","text":"<permissions>"}]},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"<env>"}]},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"fix the bug"}]},
      {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"**Plan**"},{"type":"summary_text","text":"look"}],
       "content":null,"encrypted_content":"gAAAAsig=="},
      {"type":"function_call","id":"fc_1","name":"shell","arguments":"{\"command\":[\"ls\"]}","call_id":"call_A"},
      {"type":"function_call_output","call_id":"call_A","output":"a.c\nb.c"},
      {"type":"custom_tool_call","id":"ctc_1","status":"completed","call_id":"call_B","name":"apply_patch",
       "input":"*** Begin Patch\n\"x\"\n*** End Patch"},
      {"type":"custom_tool_call_output","call_id":"call_B","output":"Done"},
      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Fixed."}]},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"thanks"}]}
    ]})";
  chat::Request r = MustParse(body);
  EXPECT_TRUE(r.stream);
  ASSERT_EQ(r.system.size(), 2u);
  EXPECT_EQ(r.system[0].text, "You are Codex.");
  EXPECT_EQ(r.system[1].text, "<permissions>");

  ASSERT_EQ(r.tools.size(), 2u);  // web_search and local_shell dropped
  EXPECT_EQ(r.tools[0].name, "shell");
  EXPECT_EQ(r.tools[0].description, "Runs a command");
  EXPECT_NE(r.tools[0].parameters.find("\"required\":[\"command\"]"), std::string::npos);
  EXPECT_EQ(r.tools[1].name, "apply_patch");
  EXPECT_EQ(r.tools[1].parameters,
            R"({"type":"object","properties":{"input":{"type":"string"}},"required":["input"]})");
  EXPECT_NE(r.tools[1].description.find("Edit files"), std::string::npos);
  EXPECT_NE(r.tools[1].description.find("lark grammar:\nstart: patch"), std::string::npos);
  EXPECT_EQ(r.tool_choice.mode, chat::ToolChoiceMode::kAuto);
  EXPECT_EQ(r.parallel_tool_calls, false);
  EXPECT_EQ(r.reasoning.enabled, true);
  EXPECT_EQ(r.reasoning.effort, "high");
  EXPECT_TRUE(r.reasoning.include_thoughts);
  EXPECT_EQ(r.response_format.type, chat::ResponseFormat::Type::kText);

  // user, user, assistant[thinking, call A], tool A, assistant[call B], tool B, assistant text, user
  ASSERT_EQ(r.messages.size(), 8u);
  EXPECT_EQ(r.messages[0].role, Role::kUser);
  EXPECT_EQ(r.messages[1].parts[0].text, "fix the bug");
  const auto& a1 = r.messages[2];
  EXPECT_EQ(a1.role, Role::kAssistant);
  ASSERT_EQ(a1.parts.size(), 2u);
  EXPECT_EQ(a1.parts[0].kind, PartKind::kThinking);
  EXPECT_EQ(a1.parts[0].text, "**Plan**\n\nlook");
  EXPECT_EQ(a1.parts[0].signature, "gAAAAsig==");
  EXPECT_EQ(a1.parts[1].kind, PartKind::kToolCall);
  EXPECT_EQ(a1.parts[1].id, "call_A");
  EXPECT_EQ(a1.parts[1].name, "shell");
  EXPECT_EQ(a1.parts[1].arguments, R"({"command":["ls"]})");
  const auto& t1 = r.messages[3];
  EXPECT_EQ(t1.role, Role::kTool);
  ASSERT_EQ(t1.parts.size(), 1u);
  EXPECT_EQ(t1.parts[0].kind, PartKind::kToolResult);
  EXPECT_EQ(t1.parts[0].id, "call_A");
  EXPECT_EQ(t1.parts[0].name, "shell");  // filled from the call
  ASSERT_EQ(t1.parts[0].content.size(), 1u);
  EXPECT_EQ(t1.parts[0].content[0].text, "a.c\nb.c");
  const auto& a2 = r.messages[4];
  ASSERT_EQ(a2.parts.size(), 1u);
  EXPECT_EQ(a2.parts[0].name, "apply_patch");
  EXPECT_EQ(a2.parts[0].id, "call_B");
  EXPECT_EQ(a2.parts[0].arguments, R"({"input":"*** Begin Patch\n\"x\"\n*** End Patch"})");
  EXPECT_EQ(r.messages[5].parts[0].id, "call_B");
  EXPECT_EQ(r.messages[5].parts[0].content[0].text, "Done");
  EXPECT_EQ(r.messages[6].role, Role::kAssistant);
  EXPECT_EQ(r.messages[6].parts[0].text, "Fixed.");
  EXPECT_EQ(r.messages[7].parts[0].text, "thanks");
}

TEST(ResponsesParse, MergesAssistantTextAndParallelCalls) {
  chat::Request r = MustParse(R"({"model":"m","input":[
    {"role":"user","content":"weather in Paris and Rome?"},
    {"type":"message","role":"assistant","content":"Checking."},
    {"type":"function_call","call_id":"c1","name":"weather","arguments":"{\"city\":\"Paris\"}"},
    {"type":"function_call","call_id":"c2","name":"weather","arguments":""},
    {"type":"function_call_output","call_id":"c1","output":"sunny"},
    {"type":"function_call_output","call_id":"c2","output":[{"type":"input_text","text":"rain"}]}
  ]})");
  ASSERT_EQ(r.messages.size(), 4u);
  const auto& a = r.messages[1];
  ASSERT_EQ(a.parts.size(), 3u);
  EXPECT_EQ(a.parts[0].text, "Checking.");
  EXPECT_EQ(a.parts[1].id, "c1");
  EXPECT_EQ(a.parts[2].id, "c2");
  EXPECT_EQ(a.parts[2].arguments, "{}");  // empty arguments are "{}"
  EXPECT_EQ(r.messages[2].parts[0].content[0].text, "sunny");
  EXPECT_EQ(r.messages[3].parts[0].content[0].text, "rain");
  EXPECT_EQ(r.messages[3].parts[0].name, "weather");
}

// OAI-R may replay an assistant message between a call and its output: the
// call, the text and the output stay adjacent.
TEST(ResponsesParse, TextBetweenCallAndOutputStaysAdjacent) {
  chat::Request r = MustParse(R"({"model":"m","input":[
    {"role":"user","content":"go"},
    {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
    {"type":"message","role":"assistant","content":[{"type":"output_text","text":"working"}]},
    {"type":"function_call_output","call_id":"c1","output":"ok"}
  ]})");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[1].parts.size(), 2u);
  EXPECT_EQ(r.messages[2].role, Role::kTool);
}

TEST(ResponsesParse, Images) {
  chat::Request r = MustParse(R"({"model":"m","input":[{"role":"user","content":[
    {"type":"input_text","text":"what is this"},
    {"type":"input_image","image_url":"data:image/jpeg;base64,/9j/4AAQ","detail":"high"},
    {"type":"input_image","image_url":"https://example.com/cat.png"}]}]})");
  const auto& parts = r.messages[0].parts;
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1].kind, PartKind::kImage);
  EXPECT_EQ(parts[1].media_type, "image/jpeg");
  EXPECT_EQ(parts[1].data, "/9j/4AAQ");
  EXPECT_TRUE(parts[1].url.empty());
  EXPECT_EQ(parts[2].url, "https://example.com/cat.png");

  chat::Request tool = MustParse(R"({"model":"m","input":[
    {"type":"function_call","call_id":"c","name":"shot","arguments":"{}"},
    {"type":"function_call_output","call_id":"c","output":[{"type":"input_image","image_url":"data:image/png;base64,iVBO"}]}]})");
  ASSERT_EQ(tool.messages[1].parts[0].content.size(), 1u);
  EXPECT_EQ(tool.messages[1].parts[0].content[0].media_type, "image/png");

  EXPECT_EQ(MustFailParse(R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}]})")
                .param.value_or(""),
            "input[0].content[0].file_id");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png,abc"}]}]})")
                .param.value_or(""),
            "input[0].content[0].image_url");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"ftp://x"}]}]})")
                .code,
            ErrorCode::kBadRequest);
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":[{"role":"system","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]})")
                .code,
            ErrorCode::kBadRequest);
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_data":"x"}]}]})")
                .param.value_or(""),
            "input[0].content[0].type");
}

TEST(ResponsesParse, RefusesBadItems) {
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":[{"role":"tool","content":"x"}]})").param.value_or(""),
            "input[0].role");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":[{"type":"message","content":"x"}]})").param.value_or(""),
            "input[0].role");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":["hi"]})").param.value_or(""), "input[0]");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]})")
                .param.value_or(""),
            "input[0].call_id");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":5}]})")
                .param.value_or(""),
            "input[0].arguments");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":[{"type":"function_call_output","output":"x"}]})").param.value_or(""),
            "input[0].call_id");
  GatewayError ref = MustFailParse(R"({"model":"m","input":[{"type":"item_reference","id":"msg_1"}]})");
  EXPECT_NE(ref.message.find("stateless"), std::string::npos);
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","instructions":5})").param.value_or(""), "instructions");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","max_output_tokens":"9"})").param.value_or(""),
            "max_output_tokens");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","max_output_tokens":0})").param.value_or(""),
            "max_output_tokens");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","temperature":"hot"})").param.value_or(""), "temperature");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","parallel_tool_calls":1})").param.value_or(""),
            "parallel_tool_calls");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","tools":{}})").param.value_or(""), "tools");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","tools":[{"type":"function"}]})").param.value_or(""),
            "tools[0].name");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","tools":[{"name":"f"}]})").param.value_or(""), "tools[0].type");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","tools":[{"type":"function","name":"f","parameters":"x"}]})")
                .param.value_or(""),
            "tools[0].parameters");
}

TEST(ResponsesParse, DropsHostedItemsAndTheirOutputs) {
  chat::Request r = MustParse(R"({"model":"m","input":[
    {"role":"user","content":"search and run"},
    {"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"x"}},
    {"type":"local_shell_call","id":"lsh_1","call_id":"call_L","status":"completed","action":{"type":"exec","command":["ls"]}},
    {"type":"function_call_output","call_id":"call_L","output":"a.c"},
    {"type":"some_future_item","payload":1},
    {"role":"user","content":"next"}
  ]})");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].parts[0].text, "next");
}

TEST(ResponsesParse, ReasoningItems) {
  chat::Request r = MustParse(R"({"model":"m","input":[
    {"role":"user","content":"q"},
    {"type":"reasoning","summary":[],"encrypted_content":"sig-only"},
    {"type":"reasoning","summary":[],"encrypted_content":"sy.redacted:opaque=="},
    {"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"raw thought"}]},
    {"type":"reasoning","summary":[]},
    {"type":"message","role":"assistant","content":"a"}
  ]})");
  ASSERT_EQ(r.messages.size(), 2u);
  const auto& parts = r.messages[1].parts;
  ASSERT_EQ(parts.size(), 4u);  // the empty reasoning item carries nothing
  EXPECT_EQ(parts[0].kind, PartKind::kThinking);
  EXPECT_EQ(parts[0].text, "");
  EXPECT_EQ(parts[0].signature, "sig-only");
  EXPECT_EQ(parts[1].kind, PartKind::kRedactedThinking);
  EXPECT_EQ(parts[1].signature, "opaque==");
  EXPECT_EQ(parts[2].text, "raw thought");
  EXPECT_EQ(parts[3].text, "a");
}

TEST(ResponsesParse, NamespacesAndAdditionalTools) {
  chat::Request r = MustParse(R"({"model":"m","tools":[],"input":[
    {"type":"additional_tools","tools":[
      {"type":"function","name":"exec","parameters":{"type":"object","properties":{}}},
      {"type":"namespace","name":"agents","description":"Sub-agents","tools":[
        {"type":"function","name":"spawn_agent","description":"Spawn","parameters":{"type":"object","properties":{"task":{"type":"string"}}}}]},
      {"type":"image_generation"}]},
    {"role":"user","content":"go"},
    {"type":"function_call","call_id":"c1","name":"spawn_agent","namespace":"agents","arguments":"{\"task\":\"t\"}"},
    {"type":"additional_tools","tools":[{"type":"function","name":"exec"}]}
  ],"tool_choice":{"type":"function","name":"spawn_agent","namespace":"agents"}})");
  ASSERT_EQ(r.tools.size(), 2u);  // the repeated "exec" is kept once
  EXPECT_EQ(r.tools[0].name, "exec");
  EXPECT_EQ(r.tools[1].name, "agents__spawn_agent");
  EXPECT_EQ(r.tools[1].description, "Spawn");
  EXPECT_EQ(r.messages[1].parts[0].name, "agents__spawn_agent");
  EXPECT_EQ(r.tool_choice.mode, chat::ToolChoiceMode::kNamed);
  EXPECT_EQ(r.tool_choice.name, "agents__spawn_agent");
}

TEST(ResponsesParse, ToolChoiceAndFormats) {
  const std::string tools = R"("tools":[{"type":"function","name":"f"}])";
  EXPECT_EQ(MustParse(R"({"model":"m","input":"x",)" + tools + R"(,"tool_choice":"required"})").tool_choice.mode,
            chat::ToolChoiceMode::kRequired);
  EXPECT_EQ(MustParse(R"({"model":"m","input":"x",)" + tools + R"(,"tool_choice":"none"})").tool_choice.mode,
            chat::ToolChoiceMode::kNone);
  chat::Request named = MustParse(R"({"model":"m","input":"x",)" + tools + R"(,"tool_choice":{"type":"function","name":"f"}})");
  EXPECT_EQ(named.tool_choice.mode, chat::ToolChoiceMode::kNamed);
  EXPECT_EQ(named.tool_choice.name, "f");
  EXPECT_EQ(named.tools[0].parameters, R"({"type":"object","properties":{}})");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x",)" + tools + R"(,"tool_choice":"sometimes"})").param.value_or(""),
            "tool_choice");
  // Only hosted tools: no tool survives, so no tool_choice either.
  EXPECT_EQ(MustParse(R"({"model":"m","input":"x","tools":[{"type":"web_search"}],"tool_choice":"required"})")
                .tool_choice.mode,
            chat::ToolChoiceMode::kUnset);

  chat::Request schema = MustParse(R"({"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"out",)"
                                   R"("schema":{"type":"object","properties":{"a":{"type":"string"}}},"strict":true}}})");
  EXPECT_EQ(schema.response_format.type, chat::ResponseFormat::Type::kJsonSchema);
  EXPECT_EQ(schema.response_format.name, "out");
  EXPECT_EQ(schema.response_format.schema, R"({"type":"object","properties":{"a":{"type":"string"}}})");
  EXPECT_TRUE(schema.response_format.strict);
  EXPECT_EQ(MustParse(R"({"model":"m","input":"x","text":{"format":{"type":"json_object"}}})").response_format.type,
            chat::ResponseFormat::Type::kJsonObject);
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"o"}}})")
                .param.value_or(""),
            "text.format.schema");
  EXPECT_EQ(MustFailParse(R"({"model":"m","input":"x","text":{"format":{"type":"yaml"}}})").param.value_or(""),
            "text.format.type");

  chat::Request off = MustParse(R"({"model":"m","input":"x","reasoning":{"effort":"none"}})");
  EXPECT_EQ(off.reasoning.enabled, false);
  EXPECT_FALSE(off.reasoning.include_thoughts);
  chat::Request unsaid = MustParse(R"({"model":"m","input":"x"})");
  EXPECT_FALSE(unsaid.reasoning.enabled.has_value());
}

TEST(ResponsesParse, UnusualInputs) {
  // Empty contents leave no empty parts behind (Anthropic rejects empty text).
  chat::Request r = MustParse(R"({"model":"m","input":[
    {"role":"developer"},
    {"role":"user","content":""},
    {"role":"user","content":[]},
    {"role":"assistant","content":[{"type":"output_text","text":""},{"type":"refusal","refusal":"no"}]},
    {"type":"function_call_output","call_id":"x","output":""}
  ]})");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].parts[0].text, "no");
  EXPECT_TRUE(r.messages[1].parts[0].content.empty());
  EXPECT_TRUE(r.system.empty());
  EXPECT_TRUE(MustParse(R"({"model":"m","input":[]})").messages.empty());
  EXPECT_TRUE(MustParse(R"({"model":"m","input":""})").messages.empty());

  // Huge arguments pass through untouched.
  std::string big(1 << 20, 'a');
  chat::Request huge = MustParse(R"({"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{\"s\":\")" +
                                 big + R"(\"}"}]})");
  EXPECT_EQ(huge.messages[0].parts[0].arguments.size(), big.size() + 8);

  // Foreign ids are kept as sent (upstream codecs map them).
  chat::Request foreign = MustParse(R"({"model":"m","input":[
    {"type":"function_call","call_id":"functions.Bash:0","name":"Bash","arguments":"{}"},
    {"type":"function_call_output","call_id":"functions.Bash:0","output":"ok"}]})");
  EXPECT_EQ(foreign.messages[0].parts[0].id, "functions.Bash:0");
  EXPECT_EQ(foreign.messages[1].parts[0].id, "functions.Bash:0");
}

TEST(ResponsesParse, EmbedIsRefused) {
  ResponsesFrontDoor door;
  chat::EmbedRequest e;
  auto err = door.ParseEmbed(MustPeek(R"({"model":"m","input":"x"})"), &e);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace sy::responses
