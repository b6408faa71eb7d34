// The Ollama front door's outputs: whole responses, embeddings, errors, the
// discovery endpoints, and the wire helpers.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "frontdoor/ollama/ollama_frontdoor.h"
#include "frontdoor/ollama/ollama_wire.h"

namespace sy::ollama {
namespace {

constexpr int64_t kNow = 1714564800123456789;

OllamaFrontDoor Door() {
  return OllamaFrontDoor([] { return kNow; });
}

InternalRequest Req(int shape, std::string model = "llama3") {
  InternalRequest r;
  r.wire = WireProtocol::kOllama;
  r.shape = shape;
  r.model = std::move(model);
  return r;
}

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

chat::Usage Usage(int64_t in, int64_t out) {
  chat::Usage u;
  u.input_tokens = in;
  u.output_tokens = out;
  return u;
}

// Every body the front door writes is valid JSON.
void ExpectJson(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
}

TEST(OllamaResponseTest, AWholeResponseReportsItsTotalAsEvalDuration) {
  OllamaFrontDoor door([] { return kNow; });
  InternalRequest req = Req(kShapeChat);
  req.received_ns = kNow - 250000000;  // read 250 ms before the answer is written
  chat::Response r;
  r.content.push_back(Text("Hi"));
  r.usage = chat::Usage{};
  r.usage->input_tokens = 7;
  r.usage->output_tokens = 2;
  const std::string body = door.EncodeResponse(req, r);
  EXPECT_NE(body.find(R"("total_duration":250000000,"load_duration":0,"prompt_eval_count":7,)"
                      R"("prompt_eval_duration":0,"eval_count":2,"eval_duration":250000000})"),
            std::string::npos)
      << body;
}

TEST(OllamaEncodeResponseTest, ChatShape) {
  chat::Response r;
  r.model = "upstream-model";
  r.content = {Text("hmm", chat::PartKind::kThinking), Text("Hello"), Text(" world")};
  r.finish = chat::FinishReason::kStop;
  r.usage = Usage(12, 3);
  const std::string body = Door().EncodeResponse(Req(kShapeChat, "my-alias"), r);
  ExpectJson(body);
  EXPECT_EQ(body,
            R"({"model":"my-alias","created_at":"2024-05-01T12:00:00.123456789Z","message":{"role":"assistant",)"
            R"("content":"Hello world","thinking":"hmm"},"done":true,"done_reason":"stop","total_duration":0,)"
            R"("load_duration":0,"prompt_eval_count":12,"prompt_eval_duration":0,"eval_count":3,"eval_duration":0})");
}

TEST(OllamaEncodeResponseTest, ToolCallsAsObjects) {
  chat::Response r;
  r.content = {Call("call_a", "get_weather", R"({"city":"Paris"})"), Call("call_b", "broken", R"({"city":"Lon)")};
  r.finish = chat::FinishReason::kToolCalls;
  const std::string body = Door().EncodeResponse(Req(kShapeChat), r);
  ExpectJson(body);
  EXPECT_NE(body.find(R"("content":"","tool_calls":[{"id":"call_a","function":{"index":0,"name":"get_weather",)"
                      R"("arguments":{"city":"Paris"}}},{"id":"call_b","function":{"index":1,"name":"broken",)"
                      R"("arguments":{}}}])"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("done_reason":"stop")"), std::string::npos);   // tool calls stay "stop"
  EXPECT_NE(body.find(R"("prompt_eval_count":0)"), std::string::npos);  // no usage: zeros
}

TEST(OllamaEncodeResponseTest, DoneReasons) {
  chat::Response r;
  r.content = {Text("x")};
  for (auto [finish, want] :
       {std::pair{chat::FinishReason::kLength, "length"}, std::pair{chat::FinishReason::kContextFull, "length"},
        std::pair{chat::FinishReason::kContentFilter, "stop"}, std::pair{chat::FinishReason::kStopSequence, "stop"}}) {
    r.finish = finish;
    EXPECT_NE(Door().EncodeResponse(Req(kShapeChat), r).find(std::string("\"done_reason\":\"") + want + "\""),
              std::string::npos);
  }
}

TEST(OllamaEncodeResponseTest, GenerateShape) {
  chat::Response r;
  r.content = {Text("think", chat::PartKind::kThinking), Text("Blue."), Call("c", "f", "{}")};
  r.finish = chat::FinishReason::kLength;
  r.usage = Usage(5, 2);
  const std::string body = Door().EncodeResponse(Req(kShapeGenerate), r);
  ExpectJson(body);
  EXPECT_EQ(body,
            R"({"model":"llama3","created_at":"2024-05-01T12:00:00.123456789Z","response":"Blue.","thinking":"think",)"
            R"("done":true,"done_reason":"length","total_duration":0,"load_duration":0,"prompt_eval_count":5,)"
            R"("prompt_eval_duration":0,"eval_count":2,"eval_duration":0})");
}

TEST(OllamaEncodeEmbedTest, BothShapes) {
  chat::EmbedResponse r;
  r.vectors = {{0.5, -1.0}, {0.25, 2.0}};
  r.usage = Usage(4, 0);
  EXPECT_EQ(Door().EncodeEmbed(Req(kShapeEmbed, "emb"), r),
            R"({"model":"emb","embeddings":[[0.5,-1],[0.25,2]],"total_duration":0,"load_duration":0,)"
            R"("prompt_eval_count":4})");
  EXPECT_EQ(Door().EncodeEmbed(Req(kShapeEmbeddings, "emb"), r), R"({"embedding":[0.5,-1]})");
  EXPECT_EQ(Door().EncodeEmbed(Req(kShapeEmbeddings, "emb"), chat::EmbedResponse{}), R"({"embedding":[]})");
}

TEST(OllamaEncodeErrorTest, ErrorShape) {
  GatewayError e = MakeError(ErrorCode::kModelNotFound, "model 'x' not found");
  auto reply = Door().EncodeError(e);
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(reply.body, R"({"error":"model 'x' not found"})");
  EXPECT_TRUE(reply.headers.empty());
  GatewayError limited = MakeError(ErrorCode::kRateLimited, "slow \"down\"");
  limited.retry_after = "7";
  reply = Door().EncodeError(limited);
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(reply.body, R"({"error":"slow \"down\""})");
  ASSERT_EQ(reply.headers.size(), 1u);
  EXPECT_EQ(reply.headers[0].first, "Retry-After");
  EXPECT_EQ(reply.headers[0].second, "7");
}

TEST(OllamaFrontDoorTest, MiscellaneousAnswers) {
  EXPECT_EQ(Door().StreamContentType(Req(kShapeChat)), "application/x-ndjson");
  EXPECT_EQ(Door().EncodeCountTokens(Req(kShapeChat), 10), "");
  EXPECT_EQ(Door().protocol(), WireProtocol::kOllama);
  EXPECT_EQ(kRootText, "Ollama is running");
}

// ---------------------------------------------------------------- discovery

TEST(OllamaInfoTest, Tags) {
  std::vector<ModelEntry> models = {{"llama3", "local"}, {"openai/gpt-4o", "openai"}};
  const std::string body = Door().Tags(models, 1714564800);
  ExpectJson(body);
  EXPECT_TRUE(
      body.starts_with(R"({"models":[{"name":"llama3","model":"llama3","modified_at":"2024-05-01T12:00:00Z","size":0,)"
                       R"("digest":"4fb53885862e0f)"))
      << body;
  EXPECT_NE(body.find(R"("details":{"parent_model":"","format":"remote","family":"","families":null,)"
                      R"("parameter_size":"","quantization_level":""}})"),
            std::string::npos);
  EXPECT_NE(body.find(R"("name":"openai/gpt-4o")"), std::string::npos);
  EXPECT_EQ(Door().ModelList(models, 1714564800), body);
  EXPECT_EQ(Door().Tags({}, 0), R"({"models":[]})");
  const std::string one = Door().ModelObject(models[0], 1714564800);
  ExpectJson(one);
  EXPECT_TRUE(one.starts_with(R"({"name":"llama3")"));
}

TEST(OllamaInfoTest, Show) {
  const std::string body = Door().Show({"qwen3", "prov"}, 1714564800);
  ExpectJson(body);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(body).value();
  EXPECT_EQ(std::string_view(doc["model_info"]["general.architecture"].get_string().value()), "remote");
  EXPECT_EQ(int64_t(doc["model_info"]["remote.context_length"].get_int64().value()), kDefaultContextLength);
  EXPECT_EQ(std::string_view(doc["capabilities"].at(0).get_string().value()), "completion");
  EXPECT_EQ(std::string_view(doc["capabilities"].at(1).get_string().value()), "tools");
  EXPECT_EQ(std::string_view(doc["details"]["format"].get_string().value()), "remote");
  EXPECT_EQ(std::string_view(doc["modified_at"].get_string().value()), "2024-05-01T12:00:00Z");
  EXPECT_NE(std::string_view(doc["modelfile"].get_string().value()).find("FROM qwen3"), std::string_view::npos);
  EXPECT_TRUE(doc["parameters"].is_string());
  EXPECT_TRUE(doc["template"].is_string());
  EXPECT_NE(Door().Show({"m", "p"}, 0, 8192).find(R"("remote.context_length":8192)"), std::string::npos);
}

TEST(OllamaInfoTest, ShowRequestModel) {
  auto model = [](std::string_view body) { return Door().ShowRequestModel(body); };
  EXPECT_EQ(std::get<std::string>(model(R"({"model":"llama3:latest"})")), "llama3:latest");
  EXPECT_EQ(std::get<std::string>(model(R"({"name":"old-client"})")), "old-client");
  EXPECT_EQ(std::get<std::string>(model(R"({"model":"","name":"fallback"})")), "fallback");
  EXPECT_EQ(std::get<GatewayError>(model(R"({})")).code, ErrorCode::kBadRequest);
  EXPECT_EQ(std::get<GatewayError>(model(R"({"model":1})")).param, "model");
  EXPECT_EQ(std::get<GatewayError>(model("")).code, ErrorCode::kBadRequest);
  EXPECT_EQ(std::get<GatewayError>(model("[")).code, ErrorCode::kBadRequest);
}

TEST(OllamaInfoTest, VersionPsAndLatest) {
  EXPECT_EQ(Door().Version("0.9.0"), R"({"version":"0.9.0"})");
  const std::string ps = Door().Ps({{"m", "p"}});
  ExpectJson(ps);
  EXPECT_NE(ps.find(R"({"models":[{"name":"m","model":"m","size":0,"digest":")"), std::string::npos);
  EXPECT_NE(ps.find(R"("expires_at":"0001-01-01T00:00:00Z","size_vram":0})"), std::string::npos);
  EXPECT_EQ(OllamaFrontDoor::StripLatest("llama3:latest"), "llama3");
  EXPECT_EQ(OllamaFrontDoor::StripLatest("llama3:8b"), "llama3:8b");
  EXPECT_EQ(OllamaFrontDoor::StripLatest("llama3"), "llama3");
  EXPECT_EQ(OllamaFrontDoor::StripLatest(":latest"), ":latest");
}

// ---------------------------------------------------------------- wire helpers

TEST(OllamaWireTest, Sha256) {
  EXPECT_EQ(wire::Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(wire::Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(wire::Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(wire::Sha256Hex(std::string(1000, 'a')),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST(OllamaWireTest, Times) {
  EXPECT_EQ(wire::FormatTimeNs(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(wire::FormatTimeNs(kNow), "2024-05-01T12:00:00.123456789Z");
  EXPECT_EQ(wire::FormatTimeNs(-5), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(wire::FormatTimeSeconds(1714564800), "2024-05-01T12:00:00Z");
}

TEST(OllamaWireTest, ArgumentsAndImages) {
  EXPECT_EQ(wire::ArgumentsObject(R"( { "a" : 1 } )"), R"({"a":1})");
  EXPECT_EQ(wire::ArgumentsObject(""), "{}");
  EXPECT_EQ(wire::ArgumentsObject("[1]"), "{}");
  EXPECT_EQ(wire::ArgumentsObject(R"({"a":)"), "{}");
  EXPECT_EQ(wire::SniffImageType("iVBORw0KGgo"), "image/png");
  EXPECT_EQ(wire::SniffImageType("/9j/4AAQ"), "image/jpeg");
  EXPECT_EQ(wire::SniffImageType("R0lGODdh"), "image/gif");
  EXPECT_EQ(wire::SniffImageType("UklGRg"), "image/webp");
  EXPECT_EQ(wire::SniffImageType("Qk0"), "");
  EXPECT_EQ(wire::SniffImageType(""), "");
}

}  // namespace
}  // namespace sy::ollama
