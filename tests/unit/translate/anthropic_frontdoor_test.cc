// The Anthropic front door: Peek, ParseChat, EncodeResponse, errors, models.
#include "frontdoor/anthropic/anthropic_frontdoor.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/ids.h"
#include "frontdoor/anthropic/anthropic_wire.h"

namespace sy::anthropic {
namespace {

const AnthropicFrontDoor kDoor;

std::variant<InternalRequest, GatewayError> Peek(std::string body, Operation op = Operation::kChatCompletions) {
  FrontDoorInput in;
  in.operation = op;
  in.body = std::move(body);
  return kDoor.Peek(std::move(in));
}

GatewayError PeekError(std::string body, Operation op = Operation::kChatCompletions) {
  auto r = Peek(std::move(body), op);
  EXPECT_TRUE(std::holds_alternative<GatewayError>(r));
  return std::holds_alternative<GatewayError>(r) ? std::get<GatewayError>(r) : GatewayError{};
}

InternalRequest PeekOk(std::string body, Operation op = Operation::kChatCompletions) {
  auto r = Peek(std::move(body), op);
  if (auto* e = std::get_if<GatewayError>(&r)) ADD_FAILURE() << e->message;
  return std::holds_alternative<InternalRequest>(r) ? std::get<InternalRequest>(r) : InternalRequest{};
}

chat::Request Parse(const std::string& body, Operation op = Operation::kChatCompletions) {
  InternalRequest req = PeekOk(body, op);
  chat::Request out;
  auto err = kDoor.ParseChat(req, &out);
  EXPECT_FALSE(err.has_value()) << err->message;
  return out;
}

GatewayError ParseError(const std::string& body) {
  InternalRequest req = PeekOk(body);
  chat::Request out;
  auto err = kDoor.ParseChat(req, &out);
  EXPECT_TRUE(err.has_value());
  return err.value_or(GatewayError{});
}

std::string Body(const std::string& rest) {
  return R"({"model":"claude-x","max_tokens":100,)" + rest + "}";
}

// ------------------------------------------------------------------ Peek

TEST(AnthropicPeek, AcceptsMessagesRequest) {
  std::string body = R"({"model":"claude-sonnet","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"hi"}]})";
  InternalRequest req = PeekOk(body);
  EXPECT_EQ(req.operation, Operation::kChatCompletions);
  EXPECT_EQ(req.wire, WireProtocol::kAnthropic);
  EXPECT_EQ(req.model, "claude-sonnet");
  EXPECT_TRUE(req.stream);
  EXPECT_EQ(req.raw_body, body);
  EXPECT_EQ(body.substr(req.model_span.begin, req.model_span.end - req.model_span.begin), "\"claude-sonnet\"");
}

TEST(AnthropicPeek, EscapedModelKey) {
  std::string body = R"({"max_tokens":1,"mod\u0065l":"m\"x","messages":[{"role":"user","content":"x"}]})";
  InternalRequest req = PeekOk(body);
  EXPECT_EQ(req.model, "m\"x");
  EXPECT_EQ(body.substr(req.model_span.begin, req.model_span.end - req.model_span.begin), R"("m\"x")");
}

TEST(AnthropicPeek, StreamDefaultsToFalse) {
  EXPECT_FALSE(PeekOk(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}]})").stream);
  EXPECT_FALSE(PeekOk(R"({"model":"m","max_tokens":1,"stream":null,"messages":[{"role":"user","content":"x"}]})").stream);
}

TEST(AnthropicPeek, Rejections) {
  const std::string msgs = R"("messages":[{"role":"user","content":"x"}])";
  EXPECT_EQ(PeekError("").code, ErrorCode::kBadRequest);
  EXPECT_EQ(PeekError("[1]").message, "Request body must be a JSON object.");
  EXPECT_EQ(PeekError("{").code, ErrorCode::kBadRequest);
  EXPECT_EQ(PeekError(R"({"max_tokens":1,)" + msgs + "}").param, "model");
  EXPECT_EQ(PeekError(R"({"model":"","max_tokens":1,)" + msgs + "}").param, "model");
  EXPECT_EQ(PeekError(R"({"model":7,"max_tokens":1,)" + msgs + "}").param, "model");
  EXPECT_EQ(PeekError(R"({"model":"a","model":"b","max_tokens":1,)" + msgs + "}").param, "model");
  EXPECT_EQ(PeekError(R"({"model":"a","stream":false,"stream":true,"max_tokens":1,)" + msgs + "}").param, "stream");
  EXPECT_EQ(PeekError(R"({"model":"a","stream":"yes","max_tokens":1,)" + msgs + "}").param, "stream");
  EXPECT_EQ(PeekError(R"({"model":"a","max_tokens":1})").param, "messages");
  EXPECT_EQ(PeekError(R"({"model":"a","max_tokens":1,"messages":[]})").param, "messages");
  EXPECT_EQ(PeekError(R"({"model":"a","max_tokens":1,"messages":{}})").param, "messages");
  EXPECT_EQ(PeekError(R"({"model":"a",)" + msgs + "}").param, "max_tokens");
  EXPECT_EQ(PeekError(R"({"model":"a","max_tokens":0,)" + msgs + "}").param, "max_tokens");
  EXPECT_EQ(PeekError(R"({"model":"a","max_tokens":1.5,)" + msgs + "}").param, "max_tokens");
  EXPECT_EQ(PeekError(R"({"model":"a","max_tokens":"9",)" + msgs + "}").param, "max_tokens");
  EXPECT_EQ(PeekError(R"({"model":"a","max_tokens":1,)" + msgs + "}", Operation::kEmbeddings).code,
            ErrorCode::kNotFound);
}

TEST(AnthropicPeek, DepthLimit) {
  std::string deep(70, '[');
  deep += std::string(70, ']');
  auto e = PeekError(R"({"model":"a","max_tokens":1,"messages":[{"role":"user","content":"x"}],"x":)" + deep + "}");
  EXPECT_NE(e.message.find("nested deeper"), std::string::npos) << e.message;
}

TEST(AnthropicPeek, CountTokensNeedsNoMaxTokensAndNeverStreams) {
  InternalRequest req = PeekOk(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})",
                               Operation::kCountTokens);
  EXPECT_EQ(req.operation, Operation::kCountTokens);
  EXPECT_FALSE(req.stream);
  EXPECT_EQ(PeekError(R"({"model":"m","messages":[]})", Operation::kCountTokens).param, "messages");
}

// ------------------------------------------------------------------ ParseChat

TEST(AnthropicParse, SystemStringAndSampling) {
  chat::Request r = Parse(Body(
      R"("system":"be brief","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"top_p":0.9,"top_k":40,)"
      R"("stop_sequences":["END","##"],"metadata":{"user_id":"u-1"},"stream":true)"));
  EXPECT_EQ(r.model, "claude-x");
  EXPECT_TRUE(r.stream);
  ASSERT_EQ(r.system.size(), 1u);
  EXPECT_EQ(r.system[0].text, "be brief");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, chat::Role::kUser);
  ASSERT_EQ(r.messages[0].parts.size(), 1u);
  EXPECT_EQ(r.messages[0].parts[0].text, "hi");
  EXPECT_EQ(r.max_tokens, 100);
  EXPECT_EQ(r.temperature, 0.5);
  EXPECT_EQ(r.top_p, 0.9);
  EXPECT_EQ(r.top_k, 40);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"END", "##"}));
  EXPECT_EQ(r.user, "u-1");
}

TEST(AnthropicParse, SystemBlocksDropBillingHeaderAndCacheControl) {
  chat::Request r = Parse(Body(
      R"("system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=1; cch=abc;"},)"
      R"({"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}},{"type":"text","text":""}],)"
      R"("messages":[{"role":"user","content":"hi"}])"));
  ASSERT_EQ(r.system.size(), 1u);
  EXPECT_EQ(r.system[0].text, "You are Claude Code.");
}

TEST(AnthropicParse, BillingTextNotFirstIsKept) {
  chat::Request r = Parse(Body(
      R"("system":[{"type":"text","text":"a"},{"type":"text","text":"x-anthropic-billing-header: z"}],)"
      R"("messages":[{"role":"user","content":"hi"}])"));
  ASSERT_EQ(r.system.size(), 2u);
}

TEST(AnthropicParse, ContentBlocksOfEveryKind) {
  chat::Request r = Parse(Body(R"("messages":[
    {"role":"user","content":[{"type":"text","text":"look"},
      {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0"}},
      {"type":"image","source":{"type":"url","url":"https://x/y.png"}}]},
    {"role":"assistant","content":[
      {"type":"thinking","thinking":"hmm","signature":"sig=="},
      {"type":"redacted_thinking","data":"opaque"},
      {"type":"text","text":"calling"},
      {"type":"tool_use","id":"toolu_1","name":"get","input":{"q": [1, 2], "s":"\u00e9"}},
      {"type":"tool_use","id":"toolu_2","name":"noargs","input":{}}]}])"));
  ASSERT_EQ(r.messages.size(), 2u);
  const auto& u = r.messages[0].parts;
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[1].kind, chat::PartKind::kImage);
  EXPECT_EQ(u[1].media_type, "image/png");
  EXPECT_EQ(u[1].data, "iVBORw0");
  EXPECT_EQ(u[2].url, "https://x/y.png");
  const auto& a = r.messages[1].parts;
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0].kind, chat::PartKind::kThinking);
  EXPECT_EQ(a[0].text, "hmm");
  EXPECT_EQ(a[0].signature, "sig==");
  EXPECT_EQ(a[1].kind, chat::PartKind::kRedactedThinking);
  EXPECT_EQ(a[1].signature, "opaque");
  EXPECT_EQ(a[3].kind, chat::PartKind::kToolCall);
  EXPECT_EQ(a[3].id, "toolu_1");
  EXPECT_EQ(a[3].name, "get");
  EXPECT_EQ(a[3].arguments, "{\"q\":[1,2],\"s\":\"\xc3\xa9\"}");
  EXPECT_EQ(a[4].arguments, "{}");
}

TEST(AnthropicParse, SignatureOnlyThinkingIsKept) {
  chat::Request r = Parse(Body(
      R"("messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"thinking","thinking":"","signature":"EqQBCgIYAhIM"}]}])"));
  ASSERT_EQ(r.messages.size(), 2u);
  ASSERT_EQ(r.messages[1].parts.size(), 1u);
  EXPECT_EQ(r.messages[1].parts[0].kind, chat::PartKind::kThinking);
  EXPECT_EQ(r.messages[1].parts[0].signature, "EqQBCgIYAhIM");
}

TEST(AnthropicParse, ToolResultsAndTextSplitResultsFirst) {
  // Text before the results on the wire: the results still come first.
  chat::Request r = Parse(Body(R"("messages":[
    {"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{}},{"type":"tool_use","id":"b","name":"g","input":{}}]},
    {"role":"user","content":[{"type":"text","text":"thanks"},
      {"type":"tool_result","tool_use_id":"a","content":"1"},
      {"type":"tool_result","tool_use_id":"b","is_error":true,"content":[{"type":"text","text":"boom"},
        {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}}]}]}])"));
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[1].role, chat::Role::kTool);
  ASSERT_EQ(r.messages[1].parts.size(), 2u);
  EXPECT_EQ(r.messages[1].parts[0].kind, chat::PartKind::kToolResult);
  EXPECT_EQ(r.messages[1].parts[0].id, "a");
  ASSERT_EQ(r.messages[1].parts[0].content.size(), 1u);
  EXPECT_EQ(r.messages[1].parts[0].content[0].text, "1");
  EXPECT_FALSE(r.messages[1].parts[0].is_error);
  EXPECT_TRUE(r.messages[1].parts[1].is_error);
  ASSERT_EQ(r.messages[1].parts[1].content.size(), 2u);
  EXPECT_EQ(r.messages[1].parts[1].content[1].kind, chat::PartKind::kImage);
  EXPECT_EQ(r.messages[2].role, chat::Role::kUser);
  ASSERT_EQ(r.messages[2].parts.size(), 1u);
  EXPECT_EQ(r.messages[2].parts[0].text, "thanks");
}

TEST(AnthropicParse, EmptyToolResultAndEmptyTextBlocks) {
  chat::Request r = Parse(Body(R"("messages":[
    {"role":"user","content":[{"type":"tool_result","tool_use_id":"a"},{"type":"text","text":""}]},
    {"role":"assistant","content":""}])"));
  ASSERT_EQ(r.messages.size(), 1u);  // the empty assistant turn carries nothing
  EXPECT_EQ(r.messages[0].role, chat::Role::kTool);
  EXPECT_TRUE(r.messages[0].parts[0].content.empty());
}

TEST(AnthropicParse, ToolsChoiceThinkingEffort) {
  chat::Request r = Parse(Body(R"("messages":[{"role":"user","content":"x"}],
    "tools":[{"name":"get_weather","description":"d","input_schema":{"type":"object","properties":{"c":{"type":"string"}}},"cache_control":{"type":"ephemeral"}},
             {"type":"custom","name":"b","input_schema":{"type":"object"}}],
    "tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true},
    "thinking":{"type":"enabled","budget_tokens":2048},"output_config":{"effort":"max"})"));
  ASSERT_EQ(r.tools.size(), 2u);
  EXPECT_EQ(r.tools[0].name, "get_weather");
  EXPECT_EQ(r.tools[0].description, "d");
  EXPECT_EQ(r.tools[0].parameters, R"({"type":"object","properties":{"c":{"type":"string"}}})");
  EXPECT_EQ(r.tool_choice.mode, chat::ToolChoiceMode::kNamed);
  EXPECT_EQ(r.tool_choice.name, "get_weather");
  EXPECT_EQ(r.parallel_tool_calls, false);
  EXPECT_EQ(r.reasoning.enabled, true);
  EXPECT_EQ(r.reasoning.budget_tokens, 2048);
  EXPECT_EQ(r.reasoning.effort, "high");

  EXPECT_EQ(Parse(Body(R"("messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"any"})")).tool_choice.mode,
            chat::ToolChoiceMode::kRequired);
  EXPECT_EQ(Parse(Body(R"("messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"none"})")).tool_choice.mode,
            chat::ToolChoiceMode::kNone);
  chat::Request a = Parse(Body(R"("messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"auto"},"thinking":{"type":"disabled"})"));
  EXPECT_EQ(a.tool_choice.mode, chat::ToolChoiceMode::kAuto);
  EXPECT_FALSE(a.parallel_tool_calls.has_value());
  EXPECT_EQ(a.reasoning.enabled, false);
  chat::Request ad = Parse(Body(R"("messages":[{"role":"user","content":"x"}],"thinking":{"type":"adaptive"},"output_config":{"effort":"low"})"));
  EXPECT_EQ(ad.reasoning.enabled, true);
  EXPECT_FALSE(ad.reasoning.budget_tokens.has_value());
  EXPECT_EQ(ad.reasoning.effort, "low");
  chat::Request none = Parse(Body(R"("messages":[{"role":"user","content":"x"}])"));
  EXPECT_FALSE(none.reasoning.enabled.has_value());
}

TEST(AnthropicParse, Rejections) {
  const std::string m = R"("messages":[{"role":"user","content":"x"}])";
  EXPECT_EQ(ParseError(Body(R"("messages":[{"role":"system","content":"x"}])")).param, "messages[0].role");
  EXPECT_EQ(ParseError(Body(R"("messages":[{"role":"user"}])")).param, "messages[0].content");
  EXPECT_EQ(ParseError(Body(R"("messages":[{"role":"user","content":7}])")).param, "messages[0].content");
  EXPECT_EQ(ParseError(Body(R"("messages":["x"])")).param, "messages[0]");
  auto doc = ParseError(Body(R"("messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"document","source":{}}]}])"));
  EXPECT_EQ(doc.param, "messages[0].content[1].type");
  EXPECT_NE(doc.message.find("'document'"), std::string::npos) << doc.message;
  EXPECT_NE(ParseError(Body(R"("messages":[{"role":"user","content":[{"type":"search_result"}]}])")).message.find("search_result"),
            std::string::npos);
  EXPECT_EQ(ParseError(Body(R"("messages":[{"role":"user","content":[{"text":"no type"}]}])")).param,
            "messages[0].content[0].type");
  EXPECT_EQ(ParseError(Body(R"("messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":[1]}]}])")).param,
            "messages[0].content[0].input");
  EXPECT_EQ(ParseError(Body(R"("messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]}])")).param,
            "messages[0].content[0].type");
  EXPECT_EQ(ParseError(Body(R"("messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"a"}]}])")).param,
            "messages[0].content[0].type");
  EXPECT_EQ(ParseError(Body(R"("messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}])")).param,
            "messages[0].content[0].source.type");
  EXPECT_EQ(ParseError(Body(R"("messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"document"}]}]}])")).param,
            "messages[0].content[0].content[0].type");
  auto server = ParseError(Body(m + R"(,"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":5}])"));
  EXPECT_EQ(server.param, "tools[0].type");
  EXPECT_NE(server.message.find("web_search_20250305"), std::string::npos);
  EXPECT_EQ(ParseError(Body(m + R"(,"tools":[{"type":"bash_20250124","name":"bash"}])")).param, "tools[0].type");
  EXPECT_EQ(ParseError(Body(m + R"(,"tools":[{"name":"f"}])")).param, "tools[0].input_schema");
  EXPECT_EQ(ParseError(Body(m + R"(,"tool_choice":{"type":"sometimes"})")).param, "tool_choice.type");
  EXPECT_EQ(ParseError(Body(m + R"(,"tool_choice":{"type":"tool"})")).param, "tool_choice.name");
  EXPECT_EQ(ParseError(Body(m + R"(,"thinking":{"type":"enabled"})")).param, "thinking.budget_tokens");
  EXPECT_EQ(ParseError(Body(m + R"(,"thinking":{"type":"on"})")).param, "thinking.type");
  EXPECT_EQ(ParseError(Body(m + R"(,"temperature":"hot")")).param, "temperature");
  EXPECT_EQ(ParseError(Body(m + R"(,"stop_sequences":[1])")).param, "stop_sequences[0]");
  EXPECT_EQ(ParseError(Body(m + R"(,"output_config":{"effort":"extreme"})")).param, "output_config.effort");
  EXPECT_EQ(ParseError(Body(m + R"(,"system":[{"type":"image"}])")).param, "system[0].type");
}

TEST(AnthropicParse, CountTokensBody) {
  chat::Request r = Parse(R"({"model":"m","system":"s","tools":[{"name":"t","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"x"}]})",
                          Operation::kCountTokens);
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_EQ(r.tools.size(), 1u);
  EXPECT_GT(chat::EstimateTokens(r), 0);
  EXPECT_EQ(kDoor.EncodeCountTokens(InternalRequest{}, 42), R"({"input_tokens":42})");
}

TEST(AnthropicParse, EmbeddingsAreRejected) {
  chat::EmbedRequest e;
  auto err = kDoor.ParseEmbed(InternalRequest{}, &e);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, ErrorCode::kBadRequest);
  EXPECT_EQ(kDoor.EncodeEmbed(InternalRequest{}, chat::EmbedResponse{}), "");
}

// ------------------------------------------------------------------ EncodeResponse

simdjson::dom::element ParseJson(simdjson::dom::parser& p, const std::string& s) {
  simdjson::dom::element e;
  EXPECT_FALSE(p.parse(s).get(e)) << s;
  return e;
}

TEST(AnthropicResponse, EncodesAllParts) {
  InternalRequest req;
  req.model = "my-alias";
  chat::Response resp;
  resp.id = "chatcmpl-1";
  resp.model = "gpt-x";
  chat::Part th;
  th.kind = chat::PartKind::kThinking;
  th.text = "t";
  th.signature = "s";
  chat::Part red;
  red.kind = chat::PartKind::kRedactedThinking;
  red.signature = "d";
  chat::Part empty;  // an empty text part is never written
  chat::Part text;
  text.text = "hello";
  chat::Part call;
  call.kind = chat::PartKind::kToolCall;
  call.id = "functions.Bash:0";
  call.name = "Bash";
  call.arguments = "{ \"cmd\" : \"ls\" }";
  chat::Part bad;
  bad.kind = chat::PartKind::kToolCall;
  bad.id = "call_2";
  bad.name = "f";
  bad.arguments = "{\"trunc";
  resp.content = {th, red, empty, text, call, bad};
  resp.finish = chat::FinishReason::kStop;  // tool calls present: tool_use
  resp.usage = chat::Usage{100, 30, 20, 7, 0};
  std::string out = kDoor.EncodeResponse(req, resp);
  simdjson::dom::parser p;
  auto doc = ParseJson(p, out);
  EXPECT_EQ(std::string_view(doc["id"].get_string().value_unsafe()), "msg_chatcmpl-1");
  EXPECT_EQ(std::string_view(doc["model"].get_string().value_unsafe()), "my-alias");
  EXPECT_EQ(std::string_view(doc["type"].get_string().value_unsafe()), "message");
  EXPECT_EQ(std::string_view(doc["stop_reason"].get_string().value_unsafe()), "tool_use");
  EXPECT_TRUE(doc["stop_sequence"].is_null());
  simdjson::dom::array content = doc["content"].get_array().value_unsafe();
  ASSERT_EQ(content.size(), 5u);
  EXPECT_EQ(std::string_view(content.at(0)["signature"].get_string().value_unsafe()), "s");
  EXPECT_EQ(std::string_view(content.at(1)["data"].get_string().value_unsafe()), "d");
  EXPECT_EQ(std::string_view(content.at(2)["text"].get_string().value_unsafe()), "hello");
  std::string_view id = content.at(3)["id"].get_string().value_unsafe();
  EXPECT_EQ(id, chat::SafeToolId("functions.Bash:0", "toolu_"));
  EXPECT_EQ(simdjson::minify(content.at(3)["input"].value_unsafe()), R"({"cmd":"ls"})");
  EXPECT_EQ(simdjson::minify(content.at(4)["input"].value_unsafe()), "{}");
  auto usage = doc["usage"];
  EXPECT_EQ(usage["input_tokens"].get_int64().value_unsafe(), 50);
  EXPECT_EQ(usage["cache_read_input_tokens"].get_int64().value_unsafe(), 30);
  EXPECT_EQ(usage["cache_creation_input_tokens"].get_int64().value_unsafe(), 20);
  EXPECT_EQ(usage["output_tokens"].get_int64().value_unsafe(), 7);
}

TEST(AnthropicResponse, StopReasons) {
  InternalRequest req;
  req.model = "m";
  simdjson::dom::parser p;
  auto stop = [&](chat::FinishReason f, std::string seq = {}) {
    chat::Response r;
    r.finish = f;
    r.stop_sequence = std::move(seq);
    chat::Part t;
    t.text = "x";
    r.content = {t};
    auto doc = ParseJson(p, kDoor.EncodeResponse(req, r));
    std::string s(doc["stop_reason"].get_string().value_unsafe());
    if (f == chat::FinishReason::kStopSequence) {
      EXPECT_EQ(std::string_view(doc["stop_sequence"].get_string().value_unsafe()), "END");
    }
    return s;
  };
  EXPECT_EQ(stop(chat::FinishReason::kStop), "end_turn");
  EXPECT_EQ(stop(chat::FinishReason::kNone), "end_turn");
  EXPECT_EQ(stop(chat::FinishReason::kStopSequence, "END"), "stop_sequence");
  EXPECT_EQ(stop(chat::FinishReason::kLength), "max_tokens");
  EXPECT_EQ(stop(chat::FinishReason::kContextFull), "model_context_window_exceeded");
  EXPECT_EQ(stop(chat::FinishReason::kToolCalls), "tool_use");
  EXPECT_EQ(stop(chat::FinishReason::kContentFilter), "refusal");
  EXPECT_EQ(stop(chat::FinishReason::kPause), "pause_turn");
  // A tool call cut by max_tokens stays max_tokens.
  EXPECT_EQ(StopReasonName(chat::FinishReason::kLength, true), "max_tokens");
  EXPECT_EQ(StopReasonName(chat::FinishReason::kNone, true), "tool_use");
}

TEST(AnthropicResponse, NoUsageAndEmptyId) {
  InternalRequest req;
  req.model = "m";
  chat::Response r;
  std::string out = kDoor.EncodeResponse(req, r);
  simdjson::dom::parser p;
  auto doc = ParseJson(p, out);
  EXPECT_EQ(std::string_view(doc["id"].get_string().value_unsafe()).substr(0, 4), "msg_");
  EXPECT_EQ(doc["content"].get_array().value_unsafe().size(), 0u);
  EXPECT_EQ(doc["usage"]["input_tokens"].get_int64().value_unsafe(), 0);
}

// ------------------------------------------------------------------ errors and models

TEST(AnthropicErrors, Shapes) {
  simdjson::dom::parser p;
  struct Case {
    ErrorCode code;
    int status;
    const char* type;
  } cases[] = {
      {ErrorCode::kBadRequest, 400, "invalid_request_error"},
      {ErrorCode::kUnauthorized, 401, "authentication_error"},
      {ErrorCode::kNotFound, 404, "not_found_error"},
      {ErrorCode::kModelNotFound, 404, "not_found_error"},
      {ErrorCode::kMethodNotAllowed, 405, "invalid_request_error"},
      {ErrorCode::kPayloadTooLarge, 413, "request_too_large"},
      {ErrorCode::kHeadersTooLarge, 431, "invalid_request_error"},
      {ErrorCode::kRateLimited, 429, "rate_limit_error"},
      {ErrorCode::kInternal, 500, "api_error"},
      {ErrorCode::kProviderError, 502, "api_error"},
      {ErrorCode::kNoProvider, 503, "overloaded_error"},
      {ErrorCode::kUpstreamTimeout, 504, "timeout_error"},
      {ErrorCode::kShuttingDown, 503, "overloaded_error"},
  };
  for (const auto& c : cases) {
    ErrorReply reply = kDoor.EncodeError(MakeError(c.code, "msg \"q\""));
    EXPECT_EQ(reply.status, c.status);
    EXPECT_EQ(reply.content_type, "application/json");
    auto doc = ParseJson(p, reply.body);
    EXPECT_EQ(std::string_view(doc["type"].get_string().value_unsafe()), "error");
    EXPECT_EQ(std::string_view(doc["error"]["type"].get_string().value_unsafe()), c.type);
    EXPECT_EQ(std::string_view(doc["error"]["message"].get_string().value_unsafe()), "msg \"q\"");
    EXPECT_TRUE(reply.headers.empty());
  }
  GatewayError limited = MakeError(ErrorCode::kRateLimited, "slow down");
  limited.retry_after = "12";
  ErrorReply reply = kDoor.EncodeError(limited);
  ASSERT_EQ(reply.headers.size(), 1u);
  EXPECT_EQ(reply.headers[0], (std::pair<std::string, std::string>{"Retry-After", "12"}));
}

TEST(AnthropicModels, ListAndObject) {
  std::vector<ModelEntry> models = {{"claude-a", "p1"}, {"gpt/b", "p2"}};
  EXPECT_EQ(kDoor.ModelList(models, 1700000000),
            R"({"data":[{"type":"model","id":"claude-a","display_name":"claude-a","created_at":"2023-11-14T22:13:20Z"},)"
            R"({"type":"model","id":"gpt/b","display_name":"gpt/b","created_at":"2023-11-14T22:13:20Z"}],)"
            R"("has_more":false,"first_id":"claude-a","last_id":"gpt/b"})");
  EXPECT_EQ(kDoor.ModelList({}, 0), R"({"data":[],"has_more":false,"first_id":null,"last_id":null})");
  EXPECT_EQ(kDoor.ModelObject(models[0], 0),
            R"({"type":"model","id":"claude-a","display_name":"claude-a","created_at":"1970-01-01T00:00:00Z"})");
  EXPECT_EQ(kDoor.StreamContentType(InternalRequest{}), "text/event-stream");
}

}  // namespace
}  // namespace sy::anthropic
