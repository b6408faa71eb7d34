// The Gemini upstream codec: paths, request bodies, whole responses,
// embeddings, token counts and error bodies (streams: gemini_stream_decoder_test).
#include "provider/gemini/gemini_codec.h"

#include <gtest/gtest.h>

#include "frontdoor/gemini/gemini_frontdoor.h"
#include "translate/gemini_test_util.h"

namespace sy::gemini {
namespace {

using testing::At;

chat::Part Text(std::string text) {
  chat::Part p;
  p.text = std::move(text);
  return p;
}

chat::Part Call(std::string id, std::string name, std::string args = "{}", std::string signature = {}) {
  chat::Part p;
  p.kind = chat::PartKind::kToolCall;
  p.id = std::move(id);
  p.name = std::move(name);
  p.arguments = std::move(args);
  p.signature = std::move(signature);
  return p;
}

chat::Part Result(std::string id, std::string name, std::string content, bool is_error = false) {
  chat::Part p;
  p.kind = chat::PartKind::kToolResult;
  p.id = std::move(id);
  p.name = std::move(name);
  p.content.push_back(Text(std::move(content)));
  p.is_error = is_error;
  return p;
}

chat::Message Msg(chat::Role role, std::vector<chat::Part> parts) {
  chat::Message m;
  m.role = role;
  m.parts = std::move(parts);
  return m;
}

UpstreamCall MustEncode(const chat::Request& r, const std::string& model = "gemini-2.5-flash",
                        CodecOptions options = {}) {
  GeminiCodec codec;
  auto out = codec.EncodeChat(r, model, options);
  EXPECT_TRUE(std::holds_alternative<UpstreamCall>(out)) << std::get<GatewayError>(out).message;
  return std::holds_alternative<UpstreamCall>(out) ? std::get<UpstreamCall>(out) : UpstreamCall{};
}

chat::Response MustDecode(const std::string& body) {
  GeminiCodec codec;
  auto out = codec.DecodeChat(body);
  EXPECT_TRUE(std::holds_alternative<chat::Response>(out)) << std::get<GatewayError>(out).message;
  return std::holds_alternative<chat::Response>(out) ? std::get<chat::Response>(out) : chat::Response{};
}

// ------------------------------------------------------------------ paths

TEST(GeminiCodec, AuthAndPassthroughPaths) {
  GeminiCodec codec;
  EXPECT_EQ(codec.AuthHeader("k1"), std::make_pair(std::string("x-goog-api-key"), std::string("k1")));
  InternalRequest req;
  EXPECT_EQ(codec.PassthroughPath(req, "gemini-2.5-pro"), "/v1beta/models/gemini-2.5-pro:generateContent");
  req.stream = true;
  EXPECT_EQ(codec.PassthroughPath(req, "models/gemini-2.5-pro"),
            "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
  req.shape = kShapeStreamJsonArray;
  EXPECT_EQ(codec.PassthroughPath(req, "m"), "/v1beta/models/m:streamGenerateContent");
  req = InternalRequest{};
  req.operation = Operation::kCountTokens;
  EXPECT_EQ(codec.PassthroughPath(req, "m"), "/v1beta/models/m:countTokens");
  req.operation = Operation::kEmbeddings;
  EXPECT_EQ(codec.PassthroughPath(req, "m"), "/v1beta/models/m:embedContent");
  req.shape = kShapeBatchEmbed;
  EXPECT_EQ(codec.PassthroughPath(req, "m"), "/v1beta/models/m:batchEmbedContents");
  req = InternalRequest{};
  EXPECT_EQ(codec.PassthroughPath(req, "a/b c?d"), "/v1beta/models/a%2Fb%20c%3Fd:generateContent");
}

// ------------------------------------------------------------------ EncodeChat

TEST(GeminiCodecEncode, PathsAndSimpleBody) {
  chat::Request r;
  r.system = {Text("sys"), Text("")};
  r.messages = {Msg(chat::Role::kUser, {Text("hi")})};
  auto call = MustEncode(r);
  EXPECT_EQ(call.path, "/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(call.body, R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}],"systemInstruction":{"parts":[{"text":"sys"}]}})");
  r.stream = true;
  EXPECT_EQ(MustEncode(r).path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
}

TEST(GeminiCodecEncode, AlternationMergesAdjacentTurns) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("a")}), Msg(chat::Role::kUser, {Text("b")}),
                Msg(chat::Role::kAssistant, {Text("c")}), Msg(chat::Role::kAssistant, {Text("d")}),
                Msg(chat::Role::kUser, {Text("")})};
  auto body = MustEncode(r).body;
  EXPECT_EQ(At(body, "/contents"),
            R"([{"role":"user","parts":[{"text":"a"},{"text":"b"}]},{"role":"model","parts":[{"text":"c"},{"text":"d"}]}])");
}

TEST(GeminiCodecEncode, ToolResultsInOneUserContentWithNamesAndWrapping) {
  chat::Request r;
  r.messages = {
      Msg(chat::Role::kUser, {Text("go")}),
      Msg(chat::Role::kAssistant, {Text("calling"), Call("c1", "get", R"({"k":1})"), Call("c2", "put")}),
      Msg(chat::Role::kTool, {Result("c1", "", R"({"ok":true})")}),   // name from history by id
      Msg(chat::Role::kTool, {Result("c2", "put", "plain text")}),      // wrapped as {"result": text}
      Msg(chat::Role::kUser, {Text("thanks")}),
  };
  auto body = MustEncode(r).body;
  EXPECT_EQ(At(body, "/contents/2/role"), R"("user")");
  EXPECT_EQ(At(body, "/contents/2/parts/0"), R"({"functionResponse":{"id":"c1","name":"get","response":{"ok":true}}})");
  EXPECT_EQ(At(body, "/contents/2/parts/1"),
            R"({"functionResponse":{"id":"c2","name":"put","response":{"result":"plain text"}}})");
  EXPECT_EQ(At(body, "/contents/2/parts/2"), R"({"text":"thanks"})");
  EXPECT_EQ(At(body, "/contents/3"), "<missing>");
  EXPECT_EQ(At(body, "/contents/1/parts/1/functionCall"), R"({"id":"c1","name":"get","args":{"k":1}})");
}

TEST(GeminiCodecEncode, ResponseWrapping) {
  auto wrapped = [](const std::string& text, bool is_error) {
    chat::Request r;
    r.messages = {Msg(chat::Role::kUser, {Text("q")}), Msg(chat::Role::kAssistant, {Call("c", "f")}),
                  Msg(chat::Role::kTool, {Result("c", "f", text, is_error)})};
    return At(MustEncode(r).body, "/contents/2/parts/0/functionResponse/response");
  };
  EXPECT_EQ(wrapped(R"( {"a": [1, 2]} )", false), R"({"a":[1,2]})");
  EXPECT_EQ(wrapped("[1,2]", false), R"({"result":[1,2]})");
  EXPECT_EQ(wrapped("42", false), R"({"result":42})");
  EXPECT_EQ(wrapped(R"("quoted")", false), R"({"result":"quoted"})");
  EXPECT_EQ(wrapped("not json {", false), R"({"result":"not json {"})");
  EXPECT_EQ(wrapped("", false), R"({"result":""})");
  EXPECT_EQ(wrapped("it failed", true), R"({"error":"it failed"})");
}

TEST(GeminiCodecEncode, EveryCallIsAnsweredAndNamesNeverEmpty) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("q")}),
                Msg(chat::Role::kAssistant, {Call("", "same"), Call("", "same"), Call("x9", "other")}),
                Msg(chat::Role::kTool, {Result("", "", "r1")})};
  auto body = MustEncode(r).body;
  // One result given (its name taken from the call in the same position), two made up.
  EXPECT_EQ(At(body, "/contents/2/parts/0/functionResponse/name"), R"("same")");
  EXPECT_EQ(At(body, "/contents/2/parts/1/functionResponse/name"), R"("same")");
  EXPECT_EQ(At(body, "/contents/2/parts/2/functionResponse"),
            R"({"id":"x9","name":"other","response":{"error":"No result was provided for this call."}})");
  EXPECT_EQ(At(body, "/contents/2/parts/3"), "<missing>");

  chat::Request orphan;
  orphan.messages = {Msg(chat::Role::kTool, {Result("zz", "", "r")})};
  EXPECT_EQ(At(MustEncode(orphan).body, "/contents/0/parts/0/functionResponse/name"), R"("unknown_function")");
}

TEST(GeminiCodecEncode, SignaturesAndSentinel) {
  chat::Request r;
  chat::Part thinking;
  thinking.kind = chat::PartKind::kThinking;
  thinking.text = "let me think";
  thinking.signature = "anthropic-sig";
  chat::Part redacted;
  redacted.kind = chat::PartKind::kRedactedThinking;
  redacted.signature = "data";
  chat::Part signed_text = Text("old answer");
  signed_text.signature = "gem-text-sig";
  r.messages = {
      Msg(chat::Role::kUser, {Text("first")}),
      Msg(chat::Role::kAssistant, {Call("o1", "f")}),  // an older turn: no sentinel
      Msg(chat::Role::kTool, {Result("o1", "f", "{}")}),
      Msg(chat::Role::kAssistant, {signed_text}),
      Msg(chat::Role::kUser, {Text("second")}),  // the current turn starts here
      Msg(chat::Role::kAssistant, {thinking, redacted, Call("a1", "f"), Call("a2", "f")}),
      Msg(chat::Role::kTool, {Result("a1", "f", "{}"), Result("a2", "f", "{}")}),
      Msg(chat::Role::kAssistant, {Call("b1", "g", "{}", "real-sig"), Call("b2", "g")}),
      Msg(chat::Role::kTool, {Result("b1", "g", "{}"), Result("b2", "g", "{}")}),
  };
  auto body = MustEncode(r).body;
  EXPECT_EQ(At(body, "/contents/1/parts/0/thoughtSignature"), "<missing>");
  EXPECT_EQ(At(body, "/contents/3/parts/0"), R"({"text":"old answer","thoughtSignature":"gem-text-sig"})");
  // Thinking goes back as a thought part without its (maybe foreign) signature; redacted is dropped.
  EXPECT_EQ(At(body, "/contents/5/parts/0"), R"({"text":"let me think","thought":true})");
  EXPECT_EQ(At(body, "/contents/5/parts/1/thoughtSignature"), R"("skip_thought_signature_validator")");
  EXPECT_EQ(At(body, "/contents/5/parts/2/thoughtSignature"), "<missing>");
  EXPECT_EQ(At(body, "/contents/7/parts/0/thoughtSignature"), R"("real-sig")");
  EXPECT_EQ(At(body, "/contents/7/parts/1/thoughtSignature"), "<missing>");
}

TEST(GeminiCodecEncode, ResultImagesFollowTheResponses) {
  chat::Request r;
  chat::Part result = Result("c", "shot", "done");
  chat::Part image;
  image.kind = chat::PartKind::kImage;
  image.media_type = "image/png";
  image.data = "AAAA";
  result.content.push_back(image);
  r.messages = {Msg(chat::Role::kUser, {Text("q")}), Msg(chat::Role::kAssistant, {Call("c", "shot")}),
                Msg(chat::Role::kTool, {result}), Msg(chat::Role::kAssistant, {Call("d", "shot")}),
                Msg(chat::Role::kTool, {Result("d", "shot", "ok")})};
  auto body = MustEncode(r).body;
  EXPECT_EQ(At(body, "/contents/2/parts/0/functionResponse/response"), R"({"result":"done"})");
  EXPECT_EQ(At(body, "/contents/2/parts/1"), R"({"inlineData":{"mimeType":"image/png","data":"AAAA"}})");
  // The result image does not start a new turn: the next step is still signed.
  EXPECT_EQ(At(body, "/contents/3/parts/0/thoughtSignature"), R"("skip_thought_signature_validator")");
}

TEST(GeminiCodecEncode, Images) {
  chat::Request r;
  chat::Part inline_image;
  inline_image.kind = chat::PartKind::kImage;
  inline_image.media_type = "image/jpeg";
  inline_image.data = "/9j/";
  chat::Part url_image;
  url_image.kind = chat::PartKind::kImage;
  url_image.url = "https://example.com/cat.PNG?x=1";
  chat::Part data_url;
  data_url.kind = chat::PartKind::kImage;
  data_url.url = "data:image/webp;base64,UklG";
  r.messages = {Msg(chat::Role::kUser, {inline_image, url_image, data_url, Text("what?")})};
  auto body = MustEncode(r).body;
  EXPECT_EQ(At(body, "/contents/0/parts/0"), R"({"inlineData":{"mimeType":"image/jpeg","data":"/9j/"}})");
  EXPECT_EQ(At(body, "/contents/0/parts/1"),
            R"({"fileData":{"mimeType":"image/png","fileUri":"https://example.com/cat.PNG?x=1"}})");
  EXPECT_EQ(At(body, "/contents/0/parts/2"), R"({"inlineData":{"mimeType":"image/webp","data":"UklG"}})");
}

TEST(GeminiCodecEncode, ToolsChoiceAndGenerationConfig) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("q")})};
  chat::Tool t;
  t.name = "lookup";
  t.description = "Look up";
  t.parameters = R"({"type":"object","properties":{"q":{"type":"string"}},"$schema":"x"})";
  r.tools = {t};
  r.tool_choice.mode = chat::ToolChoiceMode::kNamed;
  r.tool_choice.name = "lookup";
  r.temperature = 0.25;
  r.top_p = 0.5;
  r.top_k = 3;
  r.max_tokens = 99;
  r.stop = {"X", "Y"};
  r.presence_penalty = 0.5;
  r.frequency_penalty = -0.5;
  r.seed = 11;
  r.n = 1;
  r.parallel_tool_calls = false;  // ignored
  r.response_format.type = chat::ResponseFormat::Type::kJsonSchema;
  r.response_format.schema = R"({"type":"object"})";
  r.reasoning.effort = "medium";
  r.reasoning.include_thoughts = true;
  auto body = MustEncode(r).body;
  EXPECT_EQ(At(body, "/tools"),
            R"([{"functionDeclarations":[{"name":"lookup","description":"Look up","parametersJsonSchema":)"
            R"({"type":"object","properties":{"q":{"type":"string"}},"$schema":"x"}}]}])");
  EXPECT_EQ(At(body, "/toolConfig"), R"({"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["lookup"]}})");
  EXPECT_EQ(At(body, "/generationConfig"),
            R"({"temperature":0.25,"topP":0.5,"topK":3,"maxOutputTokens":99,"stopSequences":["X","Y"],)"
            R"("presencePenalty":0.5,"frequencyPenalty":-0.5,"seed":11,"candidateCount":1,)"
            R"("responseMimeType":"application/json","responseJsonSchema":{"type":"object"},)"
            R"("thinkingConfig":{"thinkingBudget":8192,"includeThoughts":true}})");
}

TEST(GeminiCodecEncode, ToolChoiceModes) {
  auto mode = [](chat::ToolChoiceMode m) {
    chat::Request r;
    r.messages = {Msg(chat::Role::kUser, {Text("q")})};
    r.tool_choice.mode = m;
    return At(MustEncode(r).body, "/toolConfig/functionCallingConfig/mode");
  };
  EXPECT_EQ(mode(chat::ToolChoiceMode::kAuto), R"("AUTO")");
  EXPECT_EQ(mode(chat::ToolChoiceMode::kNone), R"("NONE")");
  EXPECT_EQ(mode(chat::ToolChoiceMode::kRequired), R"("ANY")");
  EXPECT_EQ(mode(chat::ToolChoiceMode::kUnset), "<missing>");
}

TEST(GeminiCodecEncode, Reasoning) {
  auto thinking = [](chat::Reasoning reasoning) {
    chat::Request r;
    r.messages = {Msg(chat::Role::kUser, {Text("q")})};
    r.reasoning = reasoning;
    return At(MustEncode(r).body, "/generationConfig/thinkingConfig");
  };
  chat::Reasoning none;
  EXPECT_EQ(thinking(none), "<missing>");  // not said: no thinkingConfig (older models reject it)
  chat::Reasoning off;
  off.enabled = false;
  EXPECT_EQ(thinking(off), R"({"thinkingBudget":0})");
  chat::Reasoning budget;
  budget.enabled = true;
  budget.budget_tokens = 3000;
  budget.include_thoughts = false;
  EXPECT_EQ(thinking(budget), R"({"thinkingBudget":3000,"includeThoughts":false})");
  chat::Reasoning low;
  low.effort = "low";
  EXPECT_EQ(thinking(low), R"({"thinkingBudget":1024,"includeThoughts":true})");
  chat::Reasoning high;
  high.effort = "high";
  EXPECT_EQ(thinking(high), R"({"thinkingBudget":24576,"includeThoughts":true})");
  chat::Reasoning on;
  on.enabled = true;
  EXPECT_EQ(thinking(on), R"({"includeThoughts":true})");
}

TEST(GeminiCodecEncode, MoreThanOneChoiceIsUnsupportedUnlessDropped) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("q")})};
  r.n = 2;
  GeminiCodec codec;
  auto out = codec.EncodeChat(r, "m", CodecOptions{});
  ASSERT_TRUE(std::holds_alternative<GatewayError>(out));
  EXPECT_EQ(std::get<GatewayError>(out).param, "n");
  auto dropped = MustEncode(r, "m", CodecOptions{true});
  EXPECT_EQ(At(dropped.body, "/generationConfig"), "<missing>");
}

TEST(GeminiCodecEncode, InvalidArgumentsAndSchemasStayValidJson) {
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("q")}), Msg(chat::Role::kAssistant, {Call("c", "f", R"({"a":)")}),
                Msg(chat::Role::kTool, {Result("c", "f", "x")})};
  chat::Tool t;
  t.name = "f";
  t.parameters = "not json";
  r.tools = {t};
  auto body = MustEncode(r).body;
  ASSERT_TRUE(testing::ValidJson(body)) << body;
  EXPECT_EQ(At(body, "/contents/1/parts/0/functionCall/args"), "{}");
  EXPECT_EQ(At(body, "/tools/0/functionDeclarations/0/parametersJsonSchema"), R"({"type":"object","properties":{}})");
}

// ------------------------------------------------------------------ DecodeChat

TEST(GeminiCodecDecode, TextThoughtsAndUsage) {
  auto r = MustDecode(R"({"candidates":[{"content":{"role":"model","parts":[
      {"text":"pondering","thought":true},{"text":"Hello","thoughtSignature":"S"}]},"finishReason":"STOP","index":0}],
      "usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":20,"thoughtsTokenCount":7,
                       "cachedContentTokenCount":60,"toolUsePromptTokenCount":5,"totalTokenCount":132},
      "modelVersion":"gemini-2.5-pro","responseId":"abc"})");
  EXPECT_EQ(r.id, "abc");
  EXPECT_EQ(r.model, "gemini-2.5-pro");
  ASSERT_EQ(r.content.size(), 2u);
  EXPECT_EQ(r.content[0].kind, chat::PartKind::kThinking);
  EXPECT_EQ(r.content[0].text, "pondering");
  EXPECT_EQ(r.content[1].kind, chat::PartKind::kText);
  EXPECT_EQ(r.content[1].signature, "S");
  EXPECT_EQ(r.finish, chat::FinishReason::kStop);
  ASSERT_TRUE(r.usage);
  EXPECT_EQ(r.usage->input_tokens, 105);
  EXPECT_EQ(r.usage->cached_input_tokens, 60);
  EXPECT_EQ(r.usage->output_tokens, 27);
  EXPECT_EQ(r.usage->reasoning_tokens, 7);
}

TEST(GeminiCodecDecode, FunctionCallsWithoutIdsGetUniqueIds) {
  auto r = MustDecode(R"({"candidates":[{"content":{"parts":[
      {"functionCall":{"name":"get","args":{"city":"A"}},"thoughtSignature":"SIG"},
      {"functionCall":{"name":"get","args":{"city":"B"}}},
      {"functionCall":{"id":"kept","name":"other"}}]},"finishReason":"STOP"}]})");
  ASSERT_EQ(r.content.size(), 3u);
  EXPECT_EQ(r.content[0].kind, chat::PartKind::kToolCall);
  EXPECT_EQ(r.content[0].arguments, R"({"city":"A"})");
  EXPECT_EQ(r.content[0].signature, "SIG");
  EXPECT_FALSE(r.content[0].id.empty());
  EXPECT_NE(r.content[0].id, r.content[1].id);
  EXPECT_NE(r.content[0].id, "get");
  EXPECT_EQ(r.content[2].id, "kept");
  EXPECT_EQ(r.content[2].arguments, "{}");
  EXPECT_EQ(r.finish, chat::FinishReason::kToolCalls);  // STOP + calls
  EXPECT_FALSE(r.usage);
}

TEST(GeminiCodecDecode, LengthStaysLengthWithCalls) {
  auto r = MustDecode(R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]},"finishReason":"MAX_TOKENS"}]})");
  EXPECT_EQ(r.finish, chat::FinishReason::kLength);
}

TEST(GeminiCodecDecode, FinishReasons) {
  auto finish = [](const std::string& reason) {
    return MustDecode(R"({"candidates":[{"finishReason":")" + reason + R"("}]})").finish;
  };
  for (const char* f : {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE"}) {
    EXPECT_EQ(finish(f), chat::FinishReason::kContentFilter) << f;
  }
  for (const char* f : {"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "OTHER", "NEW_THING"}) {
    EXPECT_EQ(finish(f), chat::FinishReason::kError) << f;
  }
  EXPECT_EQ(finish("MAX_TOKENS"), chat::FinishReason::kLength);
}

TEST(GeminiCodecDecode, SafetyWithNoContentIsAValidResponse) {
  auto r = MustDecode(R"({"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[]}],
                          "usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}})");
  EXPECT_TRUE(r.content.empty());
  EXPECT_EQ(r.finish, chat::FinishReason::kContentFilter);
  EXPECT_EQ(r.usage->input_tokens, 8);
  auto blocked = MustDecode(R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":8}})");
  EXPECT_TRUE(blocked.content.empty());
  EXPECT_EQ(blocked.finish, chat::FinishReason::kContentFilter);
}

TEST(GeminiCodecDecode, ErrorsAndMalformed) {
  GeminiCodec codec;
  auto code = [&](const std::string& body) {
    auto out = codec.DecodeChat(body);
    EXPECT_TRUE(std::holds_alternative<GatewayError>(out)) << body;
    return std::holds_alternative<GatewayError>(out) ? std::get<GatewayError>(out).code : ErrorCode::kInternal;
  };
  EXPECT_EQ(code(R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})"), ErrorCode::kRateLimited);
  EXPECT_EQ(code(R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})"), ErrorCode::kNoProvider);
  EXPECT_EQ(code(R"({"error":{"code":500,"message":"x","status":"INTERNAL"}})"), ErrorCode::kProviderError);
  EXPECT_EQ(code("not json"), ErrorCode::kProviderError);
  EXPECT_EQ(code(""), ErrorCode::kProviderError);
  EXPECT_EQ(code("{}"), ErrorCode::kProviderError);  // no candidates at all
  EXPECT_EQ(code("[1]"), ErrorCode::kProviderError);
  auto e = std::get<GatewayError>(codec.DecodeChat(R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})"));
  EXPECT_NE(e.message.find("quota"), std::string::npos);
  EXPECT_FALSE(e.retry_after);
  e = std::get<GatewayError>(codec.DecodeChat(R"({"error":{"code":429,"message":"q","status":"RESOURCE_EXHAUSTED","details":[
      {"@type":"type.googleapis.com/google.rpc.QuotaFailure"},
      {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"36.2s"}]}})"));
  EXPECT_EQ(e.retry_after, "37");
  e = std::get<GatewayError>(codec.DecodeChat(R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"retryDelay":"5s"}]}})"));
  EXPECT_EQ(e.retry_after, "5");
}

TEST(GeminiCodecDecode, JsonArrayBodyIsReadAsChunks) {
  auto r = MustDecode(R"([{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1},"responseId":"id1"},
                         {"candidates":[{"content":{"parts":[{"text":"b"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2}}])");
  ASSERT_EQ(r.content.size(), 2u);
  EXPECT_EQ(r.content[1].text, "b");
  EXPECT_EQ(r.id, "id1");
  EXPECT_EQ(r.usage->output_tokens, 2);  // cumulative: the last one, not 3
}

// ------------------------------------------------------------------ embeddings, counts, errors

TEST(GeminiCodecEmbed, EncodeAndDecode) {
  GeminiCodec codec;
  chat::EmbedRequest req;
  req.inputs = {"a", "b"};
  req.task_type = "RETRIEVAL_DOCUMENT";
  req.dimensions = 64;
  auto call = std::get<UpstreamCall>(codec.EncodeEmbed(req, "text-embedding-004"));
  EXPECT_EQ(call.path, "/v1beta/models/text-embedding-004:batchEmbedContents");
  EXPECT_EQ(call.body,
            R"({"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]},"taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":64},)"
            R"({"model":"models/text-embedding-004","content":{"parts":[{"text":"b"}]},"taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":64}]})");
  auto batch = std::get<chat::EmbedResponse>(codec.DecodeEmbed(R"({"embeddings":[{"values":[0.1,2]},{"values":[-3]}]})"));
  ASSERT_EQ(batch.vectors.size(), 2u);
  EXPECT_EQ(batch.vectors[0][1], 2.0);
  auto single = std::get<chat::EmbedResponse>(codec.DecodeEmbed(R"({"embedding":{"values":[1,2,3]}})"));
  ASSERT_EQ(single.vectors.size(), 1u);
  EXPECT_EQ(single.vectors[0].size(), 3u);
  EXPECT_TRUE(std::holds_alternative<GatewayError>(codec.DecodeEmbed(R"({"embeddings":[{"values":["x"]}]})")));
  EXPECT_TRUE(std::holds_alternative<GatewayError>(codec.DecodeEmbed("{}")));
  EXPECT_EQ(std::get<GatewayError>(codec.DecodeEmbed(R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}})")).code,
            ErrorCode::kRateLimited);
}

TEST(GeminiCodecCount, EncodeWithAndWithoutSystemAndTools) {
  GeminiCodec codec;
  chat::Request r;
  r.messages = {Msg(chat::Role::kUser, {Text("hello")})};
  auto plain = codec.EncodeCountTokens(r, "gemini-2.5-flash");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->path, "/v1beta/models/gemini-2.5-flash:countTokens");
  EXPECT_EQ(plain->body, R"({"contents":[{"role":"user","parts":[{"text":"hello"}]}]})");
  r.system = {Text("sys")};
  chat::Tool t;
  t.name = "f";
  r.tools = {t};
  auto full = codec.EncodeCountTokens(r, "gemini-2.5-flash");
  EXPECT_EQ(At(full->body, "/generateContentRequest/model"), R"("models/gemini-2.5-flash")");
  EXPECT_EQ(At(full->body, "/generateContentRequest/contents/0/parts/0/text"), R"("hello")");
  EXPECT_EQ(At(full->body, "/generateContentRequest/systemInstruction/parts/0/text"), R"("sys")");
  EXPECT_EQ(At(full->body, "/generateContentRequest/tools/0/functionDeclarations/0/name"), R"("f")");
  EXPECT_EQ(At(full->body, "/contents"), "<missing>");
}

TEST(GeminiCodecCount, Decode) {
  GeminiCodec codec;
  EXPECT_EQ(codec.DecodeCountTokens(R"({"totalTokens":31,"promptTokensDetails":[]})"), 31);
  EXPECT_EQ(codec.DecodeCountTokens("{}"), 0);
  EXPECT_EQ(codec.DecodeCountTokens("nope"), std::nullopt);
  EXPECT_EQ(codec.DecodeCountTokens(R"({"error":{"message":"x"}})"), std::nullopt);
  EXPECT_EQ(codec.DecodeCountTokens(R"({"totalTokens":"x"})"), std::nullopt);
}

TEST(GeminiCodec, ErrorMessage) {
  GeminiCodec codec;
  EXPECT_EQ(codec.ErrorMessage(R"({"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}})"),
            "API key not valid.");
  EXPECT_EQ(codec.ErrorMessage(R"([{"error":{"code":400,"message":"in an array"}}])"), "in an array");
  EXPECT_EQ(codec.ErrorMessage("<html>bad gateway</html>"), "<html>bad gateway</html>");
  EXPECT_EQ(codec.ErrorMessage(std::string(500, 'x')).size(), 200u);
}

}  // namespace
}  // namespace sy::gemini
