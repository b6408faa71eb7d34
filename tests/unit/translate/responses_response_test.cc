// Responses front door: EncodeResponse, errors, model listing.
#include <gtest/gtest.h>

#include "core/ids.h"
#include "frontdoor/responses/responses_frontdoor.h"
#include "responses_test_util.h"

namespace sy::responses {
namespace {

using namespace testing;
using simdjson::dom::array;
using simdjson::dom::element;

chat::Part Text(std::string text) {
  chat::Part p;
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

chat::Part Thinking(std::string text, std::string signature) {
  chat::Part p;
  p.kind = chat::PartKind::kThinking;
  p.text = std::move(text);
  p.signature = std::move(signature);
  return p;
}

std::string Encode(const std::string& request_body, const chat::Response& response) {
  ResponsesFrontDoor door;
  return door.EncodeResponse(MustPeek(request_body), response);
}

std::string Str(element e) { return std::string(std::string_view(e.get_string().value())); }

// What the openai SDKs compute as response.output_text.
std::string OutputText(element response) {
  std::string text;
  array output = response["output"].get_array().value();
  for (element item : output) {
    if (Str(item["type"]) != "message") continue;
    array content = item["content"].get_array().value();
    for (element c : content) {
      if (Str(c["type"]) == "output_text") text += Str(c["text"]);
    }
  }
  return text;
}

const std::string kPlainRequest = R"({"model":"my-alias","input":"hi","temperature":0.2,"parallel_tool_calls":false})";

TEST(ResponsesEncode, PlainText) {
  chat::Response resp;
  resp.model = "upstream-model-name";
  resp.content = {Text("Hello, "), Text("world.")};
  resp.usage = chat::Usage{.input_tokens = 12, .cached_input_tokens = 4, .cache_write_tokens = 0,
                           .output_tokens = 7, .reasoning_tokens = 2};
  Json j(Encode(kPlainRequest, resp));
  element r = j.root;
  EXPECT_EQ(Str(r["id"]).rfind("resp_", 0), 0u);
  EXPECT_EQ(Str(r["object"]), "response");
  EXPECT_GT(r["created_at"].get_int64().value(), 1600000000);
  EXPECT_EQ(Str(r["status"]), "completed");
  EXPECT_TRUE(r["error"].is_null());
  EXPECT_TRUE(r["incomplete_details"].is_null());
  EXPECT_EQ(Str(r["model"]), "my-alias");  // the client's name, not the upstream's
  EXPECT_FALSE(r["parallel_tool_calls"].get_bool().value());
  EXPECT_EQ(r["temperature"].get_double().value(), 0.2);
  EXPECT_TRUE(r["top_p"].is_null());
  EXPECT_EQ(Str(r["tool_choice"]), "auto");
  EXPECT_EQ(r["tools"].get_array().value().size(), 0u);
  EXPECT_EQ(Str(r["text"]["format"]["type"]), "text");

  array output = r["output"].get_array().value();
  ASSERT_EQ(output.size(), 1u);
  element msg = output.at(0).value();
  EXPECT_EQ(Str(msg["type"]), "message");
  EXPECT_EQ(Str(msg["id"]).rfind("msg_", 0), 0u);
  EXPECT_EQ(Str(msg["role"]), "assistant");
  EXPECT_EQ(Str(msg["status"]), "completed");
  element part = msg["content"].at(0).value();
  EXPECT_EQ(Str(part["type"]), "output_text");
  EXPECT_EQ(part["annotations"].get_array().value().size(), 0u);
  EXPECT_TRUE(part["logprobs"].is_array());
  EXPECT_EQ(OutputText(r), "Hello, world.");

  element usage = r["usage"];
  EXPECT_EQ(usage["input_tokens"].get_int64().value(), 12);
  EXPECT_EQ(usage["input_tokens_details"]["cached_tokens"].get_int64().value(), 4);
  EXPECT_EQ(usage["output_tokens"].get_int64().value(), 7);
  EXPECT_EQ(usage["output_tokens_details"]["reasoning_tokens"].get_int64().value(), 2);
  EXPECT_EQ(usage["total_tokens"].get_int64().value(), 19);
}

TEST(ResponsesEncode, EmptyResponse) {
  chat::Response resp;
  Json j(Encode(kPlainRequest, resp));
  EXPECT_EQ(j.root["output"].get_array().value().size(), 0u);
  EXPECT_TRUE(j.root["usage"].is_null());
  EXPECT_EQ(OutputText(j.root), "");
}

TEST(ResponsesEncode, ToolCalls) {
  const std::string request = R"({"model":"m","input":"x","tool_choice":"required","tools":[
    {"type":"function","name":"shell"},
    {"type":"custom","name":"apply_patch"},
    {"type":"namespace","name":"agents","tools":[{"type":"function","name":"spawn_agent"}]}]})";
  chat::Response resp;
  resp.finish = chat::FinishReason::kToolCalls;
  resp.content = {Text("Running."), Call("call_abc", "shell", R"({"command":["ls"]})"),
                  Call("functions.Bash:0", "shell", ""), Call("toolu_01", "apply_patch", R"({"input":"*** Begin"})"),
                  Call("", "agents__spawn_agent", R"({"task":"t"})"), Call("x", "unknown_tool", "{}")};
  Json j(Encode(request, resp));
  EXPECT_EQ(Str(j.root["status"]), "completed");
  EXPECT_EQ(Str(j.root["tool_choice"]), "required");
  array out = j.root["output"].get_array().value();
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(Str(out.at(0).value()["type"]), "message");

  element fc = out.at(1).value();
  EXPECT_EQ(Str(fc["type"]), "function_call");
  EXPECT_EQ(Str(fc["id"]).rfind("fc_", 0), 0u);
  EXPECT_EQ(Str(fc["status"]), "completed");
  EXPECT_EQ(Str(fc["call_id"]), "call_abc");
  EXPECT_EQ(Str(fc["name"]), "shell");
  EXPECT_EQ(Str(fc["arguments"]), R"({"command":["ls"]})");

  element foreign = out.at(2).value();
  EXPECT_EQ(Str(foreign["call_id"]), chat::SafeToolId("functions.Bash:0", "call_"));
  EXPECT_EQ(Str(foreign["arguments"]), "{}");

  element custom = out.at(3).value();
  EXPECT_EQ(Str(custom["type"]), "custom_tool_call");
  EXPECT_EQ(Str(custom["id"]).rfind("ctc_", 0), 0u);
  EXPECT_EQ(Str(custom["call_id"]), "toolu_01");
  EXPECT_EQ(Str(custom["input"]), "*** Begin");
  EXPECT_FALSE(custom["arguments"].is_string());

  element ns = out.at(4).value();
  EXPECT_EQ(Str(ns["name"]), "spawn_agent");
  EXPECT_EQ(Str(ns["namespace"]), "agents");
  EXPECT_EQ(Str(ns["call_id"]).rfind("call_", 0), 0u);  // generated for an upstream without ids

  EXPECT_EQ(Str(out.at(5).value()["name"]), "unknown_tool");
  for (element item : out) EXPECT_NE(Str(item["id"]).rfind("call_", 0), 0u);  // never a call_ item id
}

TEST(ResponsesEncode, Reasoning) {
  chat::Response resp;
  chat::Part redacted;
  redacted.kind = chat::PartKind::kRedactedThinking;
  redacted.signature = "REDACTED";
  resp.content = {Thinking("Let me think.", "EqQBsig"), Thinking("", "sig2"), Thinking("", ""), redacted, Text("42")};
  Json j(Encode(kPlainRequest, resp));
  array out = j.root["output"].get_array().value();
  ASSERT_EQ(out.size(), 4u);  // the empty thinking part is left out
  element rs = out.at(0).value();
  EXPECT_EQ(Str(rs["type"]), "reasoning");
  EXPECT_EQ(Str(rs["id"]).rfind("rs_", 0), 0u);
  EXPECT_EQ(Str(rs["summary"].at(0).value()["type"]), "summary_text");
  EXPECT_EQ(Str(rs["summary"].at(0).value()["text"]), "Let me think.");
  EXPECT_EQ(Str(rs["encrypted_content"]), "EqQBsig");
  EXPECT_EQ(out.at(1).value()["summary"].get_array().value().size(), 0u);
  EXPECT_EQ(Str(out.at(2).value()["encrypted_content"]), "sy.redacted:REDACTED");
  EXPECT_EQ(OutputText(j.root), "42");
}

TEST(ResponsesEncode, FinishReasons) {
  struct Case {
    chat::FinishReason finish;
    std::string status;
    std::string reason;
  };
  for (const Case& c : {Case{chat::FinishReason::kStop, "completed", ""},
                        Case{chat::FinishReason::kStopSequence, "completed", ""},
                        Case{chat::FinishReason::kToolCalls, "completed", ""},
                        Case{chat::FinishReason::kLength, "incomplete", "max_output_tokens"},
                        Case{chat::FinishReason::kContextFull, "incomplete", "max_output_tokens"},
                        Case{chat::FinishReason::kContentFilter, "incomplete", "content_filter"},
                        Case{chat::FinishReason::kError, "failed", ""}}) {
    chat::Response resp;
    resp.finish = c.finish;
    resp.content = {Text("partial")};
    Json j(Encode(R"({"model":"m","input":"x","max_output_tokens":16})", resp));
    EXPECT_EQ(Str(j.root["status"]), c.status) << chat::FinishReasonName(c.finish);
    EXPECT_EQ(j.root["max_output_tokens"].get_int64().value(), 16);
    if (c.reason.empty()) {
      EXPECT_TRUE(j.root["incomplete_details"].is_null());
    } else {
      EXPECT_EQ(Str(j.root["incomplete_details"]["reason"]), c.reason);
    }
    EXPECT_EQ(j.root["error"].is_null(), c.status != "failed");
    EXPECT_EQ(OutputText(j.root), "partial");
  }
}

// Codex replays the output items it got (store:false) in the next request:
// what the front door produced must parse back into the same parts.
TEST(ResponsesEncode, OutputReplaysIntoTheSameParts) {
  const std::string tools = R"([{"type":"function","name":"shell"},{"type":"custom","name":"apply_patch"}])";
  chat::Response resp;
  chat::Part redacted;
  redacted.kind = chat::PartKind::kRedactedThinking;
  redacted.signature = "OPAQUE";
  resp.content = {Thinking("plan\n\nmore", "SIG=="), redacted, Text("ok"),
                  Call("toolu_1", "shell", R"({"command":["ls"]})"),
                  Call("toolu_2", "apply_patch", R"({"input":"line \"1\"\n"})")};
  Json j(Encode(R"({"model":"m","input":"x","tools":)" + tools + "}", resp));
  std::string output = simdjson::minify(j.root["output"].value());
  chat::Request again = MustParse(R"({"model":"m","tools":)" + tools + R"(,"input":)" + output + "}");
  ASSERT_EQ(again.messages.size(), 1u);
  const auto& parts = again.messages[0].parts;
  ASSERT_EQ(parts.size(), 5u);
  EXPECT_EQ(parts[0].kind, chat::PartKind::kThinking);
  EXPECT_EQ(parts[0].text, "plan\n\nmore");
  EXPECT_EQ(parts[0].signature, "SIG==");
  EXPECT_EQ(parts[1].kind, chat::PartKind::kRedactedThinking);
  EXPECT_EQ(parts[1].signature, "OPAQUE");
  EXPECT_EQ(parts[2].text, "ok");
  EXPECT_EQ(parts[3].id, "toolu_1");
  EXPECT_EQ(parts[3].arguments, R"({"command":["ls"]})");
  EXPECT_EQ(parts[4].id, "toolu_2");
  EXPECT_EQ(parts[4].name, "apply_patch");
  EXPECT_EQ(parts[4].arguments, R"({"input":"line \"1\"\n"})");
}

TEST(ResponsesEncode, CustomInputFallbacks) {
  const std::string request = R"({"model":"m","input":"x","tools":[{"type":"custom","name":"p"}]})";
  for (const auto& [args, input] : std::vector<std::pair<std::string, std::string>>{
           {R"({"patch":"renamed key"})", "renamed key"},
           {"{}", ""},
           {"", ""},
           {R"({"input":"a","extra":1})", "a"},
           {R"({"a":1,"b":2})", R"({"a":1,"b":2})"},
           {R"({"input":"trunc)", R"({"input":"trunc)"}}) {
    chat::Response resp;
    resp.content = {Call("c", "p", args)};
    Json j(Encode(request, resp));
    EXPECT_EQ(Str(j.root["output"].at(0).value()["input"]), input) << args;
  }
}

TEST(ResponsesErrors, OpenAiShape) {
  ResponsesFrontDoor door;
  GatewayError e = MakeError(ErrorCode::kBadRequest, "Bad \"thing\"");
  e.param = "input[0].role";
  ErrorReply reply = door.EncodeError(e);
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.content_type, "application/json");
  Json j(reply.body);
  EXPECT_EQ(Str(j.root["error"]["message"]), "Bad \"thing\"");
  EXPECT_EQ(Str(j.root["error"]["type"]), "invalid_request_error");
  EXPECT_EQ(Str(j.root["error"]["param"]), "input[0].role");
  EXPECT_EQ(Str(j.root["error"]["code"]), "invalid_request_error");

  GatewayError limited = MakeError(ErrorCode::kRateLimited, "slow down");
  limited.retry_after = "12";
  reply = door.EncodeError(limited);
  EXPECT_EQ(reply.status, 429);
  ASSERT_EQ(reply.headers.size(), 1u);
  EXPECT_EQ(reply.headers[0], (std::pair<std::string, std::string>{"Retry-After", "12"}));
  Json k(reply.body);
  EXPECT_TRUE(k.root["error"]["param"].is_null());
  EXPECT_EQ(Str(k.root["error"]["type"]), "rate_limit_error");

  reply = door.EncodeError(MakeError(ErrorCode::kUnauthorized, "no key"));
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.headers[0].first, "WWW-Authenticate");
}

TEST(ResponsesModels, OpenAiShapes) {
  ResponsesFrontDoor door;
  std::vector<ModelEntry> models = {{"gpt-5", "openai"}, {"claude \"x\"", "anthropic"}};
  Json list(door.ModelList(models, 1700000000));
  EXPECT_EQ(Str(list.root["object"]), "list");
  array data = list.root["data"].get_array().value();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(Str(data.at(1).value()["id"]), "claude \"x\"");
  EXPECT_EQ(Str(data.at(1).value()["object"]), "model");
  EXPECT_EQ(data.at(1).value()["created"].get_int64().value(), 1700000000);
  EXPECT_EQ(Str(data.at(1).value()["owned_by"]), "anthropic");
  Json one(door.ModelObject(models[0], 5));
  EXPECT_EQ(Str(one.root["id"]), "gpt-5");
  EXPECT_EQ(door.ModelList({}, 0), R"({"object":"list","data":[]})");
  EXPECT_EQ(door.EncodeEmbed(MustPeek(kPlainRequest), chat::EmbedResponse{}), "");
  EXPECT_EQ(door.EncodeCountTokens(MustPeek(kPlainRequest), 5), "");
}

}  // namespace
}  // namespace sy::responses
