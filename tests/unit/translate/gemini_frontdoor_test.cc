// The Gemini front door: Peek, ParseChat, ParseEmbed and the response,
// error, embedding and model bodies (the stream encoder has its own file).
#include "frontdoor/gemini/gemini_frontdoor.h"

#include <gtest/gtest.h>

#include "translate/gemini_test_util.h"

namespace sy::gemini {
namespace {

using testing::At;

FrontDoorInput Input(std::string body, Operation op = Operation::kChatCompletions, bool stream = false,
                     int shape = kShapeDefault) {
  FrontDoorInput in;
  in.operation = op;
  in.shape = shape;
  in.path_model = "gemini-2.5-flash";
  in.path_stream = stream;
  in.body = std::move(body);
  return in;
}

InternalRequest MustPeek(FrontDoorInput in) {
  GeminiFrontDoor fd;
  auto r = fd.Peek(std::move(in));
  EXPECT_TRUE(std::holds_alternative<InternalRequest>(r)) << std::get<GatewayError>(r).message;
  return std::holds_alternative<InternalRequest>(r) ? std::get<InternalRequest>(r) : InternalRequest{};
}

GatewayError PeekError(FrontDoorInput in) {
  GeminiFrontDoor fd;
  auto r = fd.Peek(std::move(in));
  EXPECT_TRUE(std::holds_alternative<GatewayError>(r));
  return std::holds_alternative<GatewayError>(r) ? std::get<GatewayError>(r) : GatewayError{};
}

chat::Request MustParse(const std::string& body, Operation op = Operation::kChatCompletions) {
  GeminiFrontDoor fd;
  InternalRequest req = MustPeek(Input(body, op));
  chat::Request out;
  auto err = fd.ParseChat(req, &out);
  EXPECT_FALSE(err) << err->message;
  return out;
}

GatewayError ParseError(const std::string& body) {
  GeminiFrontDoor fd;
  InternalRequest req = MustPeek(Input(body));
  chat::Request out;
  auto err = fd.ParseChat(req, &out);
  EXPECT_TRUE(err);
  return err ? *err : GatewayError{};
}

// ------------------------------------------------------------------ Peek

TEST(GeminiFrontDoorPeek, ModelFromPathAndNoSpan) {
  auto req = MustPeek(Input(R"({"contents":[{"parts":[{"text":"hi"}]}]})", Operation::kChatCompletions, true,
                            kShapeStreamJsonArray));
  EXPECT_EQ(req.model, "gemini-2.5-flash");
  EXPECT_EQ(req.wire, WireProtocol::kGemini);
  EXPECT_TRUE(req.stream);
  EXPECT_TRUE(req.model_span.empty());
  EXPECT_EQ(req.shape, kShapeStreamJsonArray);
  EXPECT_EQ(req.raw_body, R"({"contents":[{"parts":[{"text":"hi"}]}]})");
}

TEST(GeminiFrontDoorPeek, ModelsPrefixIsDropped) {
  auto in = Input(R"({"contents":[{"parts":[{"text":"hi"}]}]})");
  in.path_model = "models/gemini-pro";
  EXPECT_EQ(MustPeek(in).model, "gemini-pro");
}

TEST(GeminiFrontDoorPeek, StreamOnlyForGenerate) {
  auto req = MustPeek(Input(R"({"contents":[]})", Operation::kCountTokens, true));
  EXPECT_FALSE(req.stream);
}

TEST(GeminiFrontDoorPeek, Rejections) {
  EXPECT_EQ(PeekError(Input("")).code, ErrorCode::kBadRequest);
  EXPECT_EQ(PeekError(Input("[]")).code, ErrorCode::kBadRequest);
  EXPECT_EQ(PeekError(Input("{")).code, ErrorCode::kBadRequest);
  EXPECT_EQ(PeekError(Input("{}")).param, "contents");
  EXPECT_EQ(PeekError(Input(R"({"contents":{}})")).param, "contents");
  EXPECT_EQ(PeekError(Input(R"({"contents":[]})")).param, "contents");
  auto no_model = Input(R"({"contents":[{"parts":[{"text":"hi"}]}]})");
  no_model.path_model = "";
  EXPECT_EQ(PeekError(no_model).param, "model");
  std::string deep(100, '[');
  deep = R"({"contents":)" + deep + std::string(100, ']') + "}";
  EXPECT_NE(PeekError(Input(deep)).message.find("nested deeper"), std::string::npos);
  EXPECT_EQ(PeekError(Input("{}", Operation::kCompletions)).code, ErrorCode::kNotFound);
}

TEST(GeminiFrontDoorPeek, CountTokensShapes) {
  MustPeek(Input(R"({"contents":[]})", Operation::kCountTokens));
  MustPeek(Input(R"({"generateContentRequest":{"model":"models/x","contents":[{"parts":[{"text":"a"}]}]}})",
                 Operation::kCountTokens));
  EXPECT_EQ(PeekError(Input(R"({"generateContentRequest":[]})", Operation::kCountTokens)).param,
            "generateContentRequest");
  EXPECT_EQ(PeekError(Input(R"({"generateContentRequest":{}})", Operation::kCountTokens)).param,
            "generateContentRequest.contents");
  EXPECT_EQ(PeekError(Input("{}", Operation::kCountTokens)).param, "contents");
}

TEST(GeminiFrontDoorPeek, EmbedShapes) {
  MustPeek(Input(R"({"content":{"parts":[{"text":"a"}]}})", Operation::kEmbeddings));
  MustPeek(Input(R"({"requests":[{"content":{"parts":[{"text":"a"}]}}]})", Operation::kEmbeddings, false,
                 kShapeBatchEmbed));
  EXPECT_EQ(PeekError(Input(R"({"requests":[]})", Operation::kEmbeddings, false, kShapeBatchEmbed)).param, "requests");
  EXPECT_EQ(PeekError(Input(R"({"content":"x"})", Operation::kEmbeddings)).param, "content");
}

// ------------------------------------------------------------------ ParseChat

TEST(GeminiFrontDoorParse, TextTurnsAndSystem) {
  auto r = MustParse(R"({
    "systemInstruction": {"parts": [{"text": "Be brief."}, {"text": "Be kind."}]},
    "contents": [
      {"role": "user", "parts": [{"text": "Hello"}]},
      {"role": "model", "parts": [{"text": "Hi"}]},
      {"parts": [{"text": "Again"}]}
    ]})");
  EXPECT_EQ(r.model, "gemini-2.5-flash");
  ASSERT_EQ(r.system.size(), 2u);
  EXPECT_EQ(r.system[1].text, "Be kind.");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, chat::Role::kUser);
  EXPECT_EQ(r.messages[1].role, chat::Role::kAssistant);
  EXPECT_EQ(r.messages[1].parts[0].text, "Hi");
  EXPECT_EQ(r.messages[2].role, chat::Role::kUser);  // role defaults to user
  EXPECT_FALSE(r.reasoning.include_thoughts);         // Gemini returns no thoughts unless asked
}

TEST(GeminiFrontDoorParse, SystemAsString) {
  auto r = MustParse(R"({"systemInstruction":"sys","contents":[{"parts":[{"text":"x"}]}]})");
  ASSERT_EQ(r.system.size(), 1u);
  EXPECT_EQ(r.system[0].text, "sys");
}

TEST(GeminiFrontDoorParse, UnknownRoleIs400) {
  auto e = ParseError(R"({"contents":[{"role":"assistant","parts":[{"text":"x"}]}]})");
  EXPECT_EQ(e.param, "contents[0].role");
}

TEST(GeminiFrontDoorParse, EmptyPartsAndEmptyTextAreSkipped) {
  auto r = MustParse(R"({"contents":[{"role":"user","parts":[]},{"role":"user"},{"parts":[{"text":""},{}]},
                                     {"parts":[{"text":"x"}]}]})");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].parts[0].text, "x");
}

TEST(GeminiFrontDoorParse, ThoughtsAndSignatures) {
  auto r = MustParse(R"({"contents":[{"parts":[{"text":"q"}]},{"role":"model","parts":[
      {"text":"thinking...","thought":true,"thoughtSignature":"sigA"},
      {"text":"answer","thoughtSignature":"sigB"},
      {"thoughtSignature":"sigC"}]}]})");
  const auto& parts = r.messages[1].parts;
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].kind, chat::PartKind::kThinking);
  EXPECT_EQ(parts[0].text, "thinking...");
  EXPECT_EQ(parts[0].signature, "sigA");
  EXPECT_EQ(parts[1].kind, chat::PartKind::kText);
  EXPECT_EQ(parts[1].signature, "sigB");
  EXPECT_EQ(parts[2].kind, chat::PartKind::kText);  // signature-only part kept
  EXPECT_EQ(parts[2].text, "");
  EXPECT_EQ(parts[2].signature, "sigC");
}

TEST(GeminiFrontDoorParse, ThoughtInUserContentIsDropped) {
  auto r = MustParse(R"({"contents":[{"parts":[{"text":"t","thought":true},{"text":"x"}]}]})");
  ASSERT_EQ(r.messages[0].parts.size(), 1u);
  EXPECT_EQ(r.messages[0].parts[0].text, "x");
}

TEST(GeminiFrontDoorParse, Images) {
  auto r = MustParse(R"({"contents":[{"parts":[
      {"inlineData":{"mimeType":"image/png","data":"iVBORw0K"}},
      {"fileData":{"mimeType":"image/jpeg","fileUri":"https://x/y.jpg"}},
      {"text":"what is this"}]}]})");
  const auto& parts = r.messages[0].parts;
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].kind, chat::PartKind::kImage);
  EXPECT_EQ(parts[0].media_type, "image/png");
  EXPECT_EQ(parts[0].data, "iVBORw0K");
  EXPECT_EQ(parts[1].url, "https://x/y.jpg");
  EXPECT_EQ(parts[1].media_type, "image/jpeg");
}

TEST(GeminiFrontDoorParse, NonImageMediaIs400) {
  auto e = ParseError(R"({"contents":[{"parts":[{"inlineData":{"mimeType":"application/pdf","data":"JVBE"}}]}]})");
  EXPECT_EQ(e.param, "contents[0].parts[0].inlineData.mimeType");
  e = ParseError(R"({"contents":[{"parts":[{"fileData":{"mimeType":"video/mp4","fileUri":"gs://v"}}]}]})");
  EXPECT_EQ(e.param, "contents[0].parts[0].fileData.mimeType");
  e = ParseError(R"j({"contents":[{"parts":[{"executableCode":{"code":"print(1)"}}]}]})j");
  EXPECT_EQ(e.param, "contents[0].parts[0].executableCode");
}

TEST(GeminiFrontDoorParse, FunctionCallsWithoutIdsGetStableIdsMatchedByNameInOrder) {
  const std::string body = R"({"contents":[
      {"parts":[{"text":"weather in two cities"}]},
      {"role":"model","parts":[
        {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"S1"},
        {"functionCall":{"name":"get_weather","args":{"city":"Rome"}}},
        {"functionCall":{"name":"get_time"}}]},
      {"role":"user","parts":[
        {"functionResponse":{"name":"get_time","response":{"t":"noon"}}},
        {"functionResponse":{"name":"get_weather","response":{"temp":20}}},
        {"functionResponse":{"name":"get_weather","response":{"temp":25}}}]}]})";
  auto r = MustParse(body);
  ASSERT_EQ(r.messages.size(), 3u);
  const auto& calls = r.messages[1].parts;
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].kind, chat::PartKind::kToolCall);
  EXPECT_EQ(calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(calls[0].signature, "S1");
  EXPECT_EQ(calls[2].arguments, "{}");
  EXPECT_NE(calls[0].id, calls[1].id);  // same-name parallel calls stay distinct
  EXPECT_NE(calls[0].id, calls[0].name);
  const auto& tool = r.messages[2];
  EXPECT_EQ(tool.role, chat::Role::kTool);
  ASSERT_EQ(tool.parts.size(), 3u);
  EXPECT_EQ(tool.parts[0].id, calls[2].id);
  EXPECT_EQ(tool.parts[1].id, calls[0].id);
  EXPECT_EQ(tool.parts[2].id, calls[1].id);
  EXPECT_EQ(tool.parts[1].name, "get_weather");
  ASSERT_EQ(tool.parts[1].content.size(), 1u);
  EXPECT_EQ(tool.parts[1].content[0].text, R"({"temp":20})");
  // Stable: the same history gives the same ids on the next turn.
  auto again = MustParse(body);
  EXPECT_EQ(again.messages[1].parts[1].id, calls[1].id);
}

TEST(GeminiFrontDoorParse, FunctionIdsAreKept) {
  auto r = MustParse(R"({"contents":[{"parts":[{"text":"x"}]},
      {"role":"model","parts":[{"functionCall":{"id":"abc-1","name":"f","args":{}}}]},
      {"role":"user","parts":[{"functionResponse":{"id":"abc-1","name":"f","response":{"error":"boom"}}},
                              {"text":"and now?"}]}]})");
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[1].parts[0].id, "abc-1");
  EXPECT_EQ(r.messages[2].role, chat::Role::kTool);  // results before the user's text
  EXPECT_EQ(r.messages[2].parts[0].id, "abc-1");
  EXPECT_TRUE(r.messages[2].parts[0].is_error);
  EXPECT_EQ(r.messages[3].role, chat::Role::kUser);
  EXPECT_EQ(r.messages[3].parts[0].text, "and now?");
}

TEST(GeminiFrontDoorParse, ResponseByIdClosesTheCallWhateverItsName) {
  auto r = MustParse(R"({"contents":[{"parts":[{"text":"x"}]},
      {"role":"model","parts":[{"functionCall":{"id":"k1","name":"f"}},{"functionCall":{"name":"f"}}]},
      {"role":"user","parts":[{"functionResponse":{"id":"k1","response":{}}},
                              {"functionResponse":{"name":"f","response":{}}}]}]})");
  const auto& calls = r.messages[1].parts;
  const auto& results = r.messages[2].parts;
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].id, "k1");
  EXPECT_EQ(results[1].id, calls[1].id);  // not k1 a second time
}

TEST(GeminiFrontDoorParse, EmptyThoughtWithoutSignatureIsDropped) {
  auto r = MustParse(R"({"contents":[{"parts":[{"text":"x"}]},{"role":"model","parts":[{"thought":true},{"text":"a"}]}]})");
  ASSERT_EQ(r.messages[1].parts.size(), 1u);
  EXPECT_EQ(r.messages[1].parts[0].text, "a");
}

TEST(GeminiFrontDoorParse, LegacyFunctionRoleAndResponseWithoutCall) {
  auto r = MustParse(R"({"contents":[{"role":"function","parts":[{"functionResponse":{"name":"f","response":{}}}]}]})");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, chat::Role::kTool);
  EXPECT_FALSE(r.messages[0].parts[0].id.empty());
}

TEST(GeminiFrontDoorParse, FunctionPartsInTheWrongRole) {
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":[{"functionCall":{"name":"f"}}]}]})").param,
            "contents[0].parts[0].functionCall");
  EXPECT_EQ(ParseError(R"({"contents":[{"role":"model","parts":[{"functionResponse":{"name":"f"}}]}]})").param,
            "contents[0].parts[0].functionResponse");
  EXPECT_EQ(ParseError(R"({"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":[1]}}]}]})").param,
            "contents[0].parts[0].functionCall.args");
  EXPECT_EQ(ParseError(R"({"contents":[{"role":"model","parts":[{"functionCall":{"args":{}}}]}]})").param,
            "contents[0].parts[0].functionCall.name");
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":[{"functionResponse":{"name":"f","response":"x"}}]}]})").param,
            "contents[0].parts[0].functionResponse.response");
}

TEST(GeminiFrontDoorParse, HugeToolArguments) {
  std::string big(200000, 'a');
  auto r = MustParse(R"({"contents":[{"parts":[{"text":"x"}]},{"role":"model","parts":[{"functionCall":{"name":"w","args":{"s":")" +
                     big + R"("}}}]}]})");
  EXPECT_EQ(r.messages[1].parts[0].arguments.size(), big.size() + 8);
}

TEST(GeminiFrontDoorParse, ToolsWithOpenApiAndJsonSchema) {
  auto r = MustParse(R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[
      {"name":"a","description":"A","parameters":{"type":"OBJECT","propertyOrdering":["x"],
        "properties":{"x":{"type":"STRING","nullable":true,"format":"enum","enum":["p","q"]},
                      "l":{"type":"ARRAY","items":{"type":"INTEGER"},"minItems":"1"}},"required":["x"]}},
      {"name":"b","parametersJsonSchema":{"type":"object","properties":{"y":{"type":"string"}},"additionalProperties":false}},
      {"name":"c"}]}]})");
  ASSERT_EQ(r.tools.size(), 3u);
  EXPECT_EQ(r.tools[0].description, "A");
  EXPECT_EQ(r.tools[0].parameters,
            R"({"type":"object","properties":{"x":{"type":["string","null"],"enum":["p","q"]},)"
            R"("l":{"type":"array","items":{"type":"integer"},"minItems":1}},"required":["x"]})");
  EXPECT_EQ(r.tools[1].parameters, R"({"type":"object","properties":{"y":{"type":"string"}},"additionalProperties":false})");
  EXPECT_EQ(r.tools[2].parameters, chat::Tool{}.parameters);
}

TEST(GeminiFrontDoorParse, OtherToolKindsAre400) {
  auto e = ParseError(R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"googleSearch":{}}]})");
  EXPECT_EQ(e.param, "tools[0].googleSearch");
  EXPECT_NE(e.message.find("googleSearch"), std::string::npos);
  e = ParseError(R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[],"codeExecution":{}}]})");
  EXPECT_EQ(e.param, "tools[0].codeExecution");
}

TEST(GeminiFrontDoorParse, ToolConfig) {
  auto mode = [](const std::string& fcc) {
    return MustParse(R"({"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":)" + fcc + "}}")
        .tool_choice;
  };
  EXPECT_EQ(mode(R"({"mode":"AUTO"})").mode, chat::ToolChoiceMode::kAuto);
  EXPECT_EQ(mode(R"({"mode":"VALIDATED"})").mode, chat::ToolChoiceMode::kAuto);
  EXPECT_EQ(mode(R"({"mode":"NONE"})").mode, chat::ToolChoiceMode::kNone);
  EXPECT_EQ(mode(R"({"mode":"ANY"})").mode, chat::ToolChoiceMode::kRequired);
  EXPECT_EQ(mode(R"({"mode":"ANY","allowedFunctionNames":["a","b"]})").mode, chat::ToolChoiceMode::kRequired);
  auto named = mode(R"({"mode":"ANY","allowedFunctionNames":["a"]})");
  EXPECT_EQ(named.mode, chat::ToolChoiceMode::kNamed);
  EXPECT_EQ(named.name, "a");
  EXPECT_EQ(mode(R"({})").mode, chat::ToolChoiceMode::kUnset);
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"SOME"}}})")
                .param,
            "toolConfig.functionCallingConfig.mode");
}

TEST(GeminiFrontDoorParse, GenerationConfig) {
  auto r = MustParse(R"({"contents":[{"parts":[{"text":"x"}]}],"safetySettings":[{"category":"X","threshold":"Y"}],
      "generationConfig":{"temperature":0.5,"topP":0.9,"topK":40,"maxOutputTokens":1024,"stopSequences":["END"],
        "candidateCount":1,"presencePenalty":0.1,"frequencyPenalty":0.2,"seed":7,
        "responseMimeType":"application/json","responseSchema":{"type":"OBJECT","properties":{"a":{"type":"NUMBER"}}}}})");
  EXPECT_EQ(r.temperature, 0.5);
  EXPECT_EQ(r.top_p, 0.9);
  EXPECT_EQ(r.top_k, 40);
  EXPECT_EQ(r.max_tokens, 1024);
  ASSERT_EQ(r.stop.size(), 1u);
  EXPECT_EQ(r.stop[0], "END");
  EXPECT_EQ(r.n, 1);
  EXPECT_EQ(r.presence_penalty, 0.1);
  EXPECT_EQ(r.frequency_penalty, 0.2);
  EXPECT_EQ(r.seed, 7);
  EXPECT_EQ(r.response_format.type, chat::ResponseFormat::Type::kJsonSchema);
  EXPECT_EQ(r.response_format.schema, R"({"type":"object","properties":{"a":{"type":"number"}}})");
  EXPECT_FALSE(r.response_format.name.empty());

  auto j = MustParse(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json",
      "responseJsonSchema":{"type":"object","$defs":{}}}})");
  EXPECT_EQ(j.response_format.schema, R"({"type":"object","$defs":{}})");
  auto o = MustParse(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json"}})");
  EXPECT_EQ(o.response_format.type, chat::ResponseFormat::Type::kJsonObject);
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":"hot"}})").param,
            "generationConfig.temperature");
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":1.5}})").param,
            "generationConfig.maxOutputTokens");
}

TEST(GeminiFrontDoorParse, ThinkingConfig) {
  auto thinking = [](const std::string& tc) {
    return MustParse(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":)" + tc + "}}")
        .reasoning;
  };
  auto off = thinking(R"({"thinkingBudget":0})");
  EXPECT_EQ(off.enabled, false);
  auto dynamic = thinking(R"({"thinkingBudget":-1,"includeThoughts":true})");
  EXPECT_EQ(dynamic.enabled, true);
  EXPECT_FALSE(dynamic.budget_tokens);
  EXPECT_TRUE(dynamic.include_thoughts);
  auto budget = thinking(R"({"thinkingBudget":2048})");
  EXPECT_EQ(budget.budget_tokens, 2048);
  EXPECT_FALSE(budget.include_thoughts);
  auto level = thinking(R"({"thinkingLevel":"HIGH"})");
  EXPECT_EQ(level.effort, "high");
  EXPECT_EQ(level.enabled, true);
  EXPECT_EQ(thinking(R"({"thinkingLevel":"low"})").effort, "low");
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingLevel":"max"}}})")
                .param,
            "generationConfig.thinkingConfig.thinkingLevel");
  EXPECT_FALSE(thinking("{}").enabled.has_value());
}

TEST(GeminiFrontDoorParse, CachedContentIs400) {
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":[{"text":"x"}]}],"cachedContent":"cachedContents/abc"})").param,
            "cachedContent");
}

TEST(GeminiFrontDoorParse, CountTokensWithGenerateContentRequest) {
  auto r = MustParse(R"({"generateContentRequest":{"model":"models/x","contents":[{"parts":[{"text":"hello"}]}],
      "systemInstruction":{"parts":[{"text":"sys"}]},"tools":[{"functionDeclarations":[{"name":"f"}]}]}})",
                     Operation::kCountTokens);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.system.size(), 1u);
  EXPECT_EQ(r.tools.size(), 1u);
  auto plain = MustParse(R"({"contents":[{"parts":[{"text":"hello"}]}]})", Operation::kCountTokens);
  EXPECT_EQ(plain.messages.size(), 1u);
}

TEST(GeminiFrontDoorParse, WrongTypesNameTheField) {
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":[{"text":5}]}]})").param, "contents[0].parts[0].text");
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":"x"}]})").param, "contents[0].parts");
  EXPECT_EQ(ParseError(R"({"contents":[5]})").param, "contents[0]");
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":[{"text":"x"}]}],"tools":{}})").param, "tools");
  EXPECT_EQ(ParseError(R"({"contents":[{"parts":[{"text":"x","thought":"yes"}]}]})").param,
            "contents[0].parts[0].thought");
}

// ------------------------------------------------------------------ ParseEmbed

TEST(GeminiFrontDoorEmbed, Single) {
  GeminiFrontDoor fd;
  auto req = MustPeek(Input(R"({"model":"models/e","content":{"parts":[{"text":"a"},{"text":"b"}]},
      "taskType":"RETRIEVAL_QUERY","outputDimensionality":256})",
                            Operation::kEmbeddings));
  chat::EmbedRequest out;
  ASSERT_FALSE(fd.ParseEmbed(req, &out));
  ASSERT_EQ(out.inputs.size(), 1u);
  EXPECT_EQ(out.inputs[0], "a\nb");
  EXPECT_EQ(out.task_type, "RETRIEVAL_QUERY");
  EXPECT_EQ(out.dimensions, 256);
  EXPECT_EQ(out.model, "gemini-2.5-flash");
}

TEST(GeminiFrontDoorEmbed, Batch) {
  GeminiFrontDoor fd;
  auto req = MustPeek(Input(R"({"requests":[{"model":"models/e","content":{"parts":[{"text":"a"}]},"taskType":"CLUSTERING"},
                                           {"model":"models/e","content":{"parts":[{"text":"b"}]}}]})",
                            Operation::kEmbeddings, false, kShapeBatchEmbed));
  chat::EmbedRequest out;
  ASSERT_FALSE(fd.ParseEmbed(req, &out));
  ASSERT_EQ(out.inputs.size(), 2u);
  EXPECT_EQ(out.inputs[1], "b");
  EXPECT_EQ(out.task_type, "CLUSTERING");
}

TEST(GeminiFrontDoorEmbed, Rejections) {
  GeminiFrontDoor fd;
  chat::EmbedRequest out;
  auto req = MustPeek(Input(R"({"content":{"parts":[{"inlineData":{}}]}})", Operation::kEmbeddings));
  auto e = fd.ParseEmbed(req, &out);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "content.parts[0]");
  req = MustPeek(Input(R"({"content":{}})", Operation::kEmbeddings));
  e = fd.ParseEmbed(req, &out);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "content.parts");
}

// ------------------------------------------------------------------ responses

TEST(GeminiFrontDoorResponse, PartsFinishAndUsage) {
  GeminiFrontDoor fd;
  InternalRequest req;
  req.model = "my-alias";
  chat::Response r;
  r.id = "resp-1";
  r.model = "upstream-model";
  chat::Part think;
  think.kind = chat::PartKind::kThinking;
  think.text = "hmm";
  think.signature = "sig";
  chat::Part text;
  text.text = "Hello";
  chat::Part call;
  call.kind = chat::PartKind::kToolCall;
  call.id = "call_1";
  call.name = "f";
  call.arguments = R"({"a": 1})";
  r.content = {think, text, call};
  r.finish = chat::FinishReason::kToolCalls;
  chat::Usage u;
  u.input_tokens = 100;
  u.cached_input_tokens = 40;
  u.output_tokens = 30;
  u.reasoning_tokens = 10;
  r.usage = u;
  const std::string body = fd.EncodeResponse(req, r);
  EXPECT_EQ(At(body, "/candidates/0/content/role"), R"("model")");
  EXPECT_EQ(At(body, "/candidates/0/content/parts/0"), R"({"text":"hmm","thought":true,"thoughtSignature":"sig"})");
  EXPECT_EQ(At(body, "/candidates/0/content/parts/1"), R"({"text":"Hello"})");
  EXPECT_EQ(At(body, "/candidates/0/content/parts/2"), R"({"functionCall":{"id":"call_1","name":"f","args":{"a":1}}})");
  EXPECT_EQ(At(body, "/candidates/0/finishReason"), R"("STOP")");
  EXPECT_EQ(At(body, "/candidates/0/index"), "0");
  EXPECT_EQ(At(body, "/usageMetadata"),
            R"({"promptTokenCount":100,"candidatesTokenCount":20,"totalTokenCount":130,"cachedContentTokenCount":40,"thoughtsTokenCount":10})");
  EXPECT_EQ(At(body, "/modelVersion"), R"("my-alias")");
  EXPECT_EQ(At(body, "/responseId"), R"("resp-1")");
}

TEST(GeminiFrontDoorResponse, FinishReasonMap) {
  GeminiFrontDoor fd;
  InternalRequest req;
  auto finish = [&](chat::FinishReason f) {
    chat::Response r;
    r.finish = f;
    return At(fd.EncodeResponse(req, r), "/candidates/0/finishReason");
  };
  EXPECT_EQ(finish(chat::FinishReason::kStop), R"("STOP")");
  EXPECT_EQ(finish(chat::FinishReason::kStopSequence), R"("STOP")");
  EXPECT_EQ(finish(chat::FinishReason::kLength), R"("MAX_TOKENS")");
  EXPECT_EQ(finish(chat::FinishReason::kContextFull), R"("MAX_TOKENS")");
  EXPECT_EQ(finish(chat::FinishReason::kContentFilter), R"("SAFETY")");
  EXPECT_EQ(finish(chat::FinishReason::kError), R"("OTHER")");
  chat::Response empty;
  empty.finish = chat::FinishReason::kContentFilter;
  EXPECT_EQ(At(fd.EncodeResponse(req, empty), "/candidates/0/content"), "<missing>");
}

TEST(GeminiFrontDoorResponse, InvalidToolArgumentsBecomeEmptyObject) {
  GeminiFrontDoor fd;
  chat::Response r;
  chat::Part call;
  call.kind = chat::PartKind::kToolCall;
  call.name = "f";
  call.arguments = R"({"a": tru)";
  r.content = {call};
  const std::string body = fd.EncodeResponse(InternalRequest{}, r);
  EXPECT_EQ(At(body, "/candidates/0/content/parts/0/functionCall/args"), "{}");
}

TEST(GeminiFrontDoorErrors, StatusNames) {
  GeminiFrontDoor fd;
  auto reply = fd.EncodeError(MakeError(ErrorCode::kBadRequest, "bad \"x\""));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(reply.body, R"({"error":{"code":400,"message":"bad \"x\"","status":"INVALID_ARGUMENT"}})");
  auto status = [&](ErrorCode c) { return At(fd.EncodeError(MakeError(c, "m")).body, "/error/status"); };
  EXPECT_EQ(status(ErrorCode::kUnauthorized), R"("UNAUTHENTICATED")");
  EXPECT_EQ(status(ErrorCode::kModelNotFound), R"("NOT_FOUND")");
  EXPECT_EQ(status(ErrorCode::kRateLimited), R"("RESOURCE_EXHAUSTED")");
  EXPECT_EQ(status(ErrorCode::kInternal), R"("INTERNAL")");
  EXPECT_EQ(status(ErrorCode::kProviderError), R"("UNAVAILABLE")");
  EXPECT_EQ(status(ErrorCode::kNoProvider), R"("UNAVAILABLE")");
  EXPECT_EQ(status(ErrorCode::kUpstreamTimeout), R"("DEADLINE_EXCEEDED")");
  EXPECT_EQ(status(ErrorCode::kMethodNotAllowed), R"("FAILED_PRECONDITION")");
  GatewayError limited = MakeError(ErrorCode::kRateLimited, "slow down");
  limited.retry_after = "7";
  auto r = fd.EncodeError(limited);
  EXPECT_EQ(r.status, 429);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(r.headers[0].second, "7");
}

TEST(GeminiFrontDoorModels, ListAndObject) {
  GeminiFrontDoor fd;
  const std::string list = fd.ModelList({{"fast", "p1"}, {"smart", "p2"}}, 0);
  EXPECT_EQ(At(list, "/models/0/name"), R"("models/fast")");
  EXPECT_EQ(At(list, "/models/1/displayName"), R"("smart")");
  EXPECT_EQ(At(list, "/models/0/version"), R"("001")");
  EXPECT_EQ(At(list, "/models/0/supportedGenerationMethods/1"), R"("streamGenerateContent")");
  EXPECT_NE(At(list, "/models/0/inputTokenLimit"), "<missing>");
  const std::string one = fd.ModelObject({"fast", "p1"}, 0);
  EXPECT_EQ(At(one, "/name"), R"("models/fast")");
  EXPECT_EQ(fd.ModelList({}, 0), R"({"models":[]})");
}

TEST(GeminiFrontDoorEmbedResponse, Shapes) {
  GeminiFrontDoor fd;
  chat::EmbedResponse r;
  r.vectors = {{0.5, -1}, {2}};
  InternalRequest single;
  EXPECT_EQ(fd.EncodeEmbed(single, r), R"({"embedding":{"values":[0.5,-1]}})");
  InternalRequest batch;
  batch.shape = kShapeBatchEmbed;
  EXPECT_EQ(fd.EncodeEmbed(batch, r), R"({"embeddings":[{"values":[0.5,-1]},{"values":[2]}]})");
  EXPECT_EQ(fd.EncodeCountTokens(single, 42), R"({"totalTokens":42})");
}

}  // namespace
}  // namespace sy::gemini
