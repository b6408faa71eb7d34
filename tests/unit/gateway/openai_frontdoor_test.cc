#include "frontdoor/openai/openai_frontdoor.h"
#include "frontdoor/openai/json_scan.h"

#include <gtest/gtest.h>

namespace sy {
namespace {

GatewayError ParseError(Operation op, std::string body) {
  auto r = openai::ParseRequest(op, std::move(body));
  EXPECT_TRUE(std::holds_alternative<GatewayError>(r));
  return std::holds_alternative<GatewayError>(r) ? std::get<GatewayError>(r) : GatewayError{};
}

TEST(JsonScan, FindsTopLevelMemberOnly) {
  std::string body = R"({"messages":[{"model":"inner"}],"x":{"model":"nested"}, "model" : "gpt-4" ,"n":1})";
  auto span = json::FindTopLevelValue(body, "model");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(body.substr(span->begin, span->end - span->begin), "\"gpt-4\"");
}

TEST(JsonScan, HandlesEscapesInStringsAndKeys) {
  std::string body = R"({"a":"he said \"model\": \\","mod\u0065l":"m\"x"})";
  auto span = json::FindTopLevelValue(body, "model");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(body.substr(span->begin, span->end - span->begin), R"("m\"x")");
}

TEST(JsonScan, AbsentOrNotAnObject) {
  EXPECT_FALSE(json::FindTopLevelValue(R"({"a":1})", "model").has_value());
  EXPECT_FALSE(json::FindTopLevelValue(R"(["model"])", "model").has_value());
}

TEST(OpenAiFrontDoor, ParsesChatRequest) {
  std::string body = R"({"model":"gpt-4","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  auto r = openai::ParseRequest(Operation::kChatCompletions, body);
  ASSERT_TRUE(std::holds_alternative<InternalRequest>(r));
  auto& req = std::get<InternalRequest>(r);
  EXPECT_EQ(req.model, "gpt-4");
  EXPECT_TRUE(req.stream);
  EXPECT_EQ(req.raw_body, body);
  EXPECT_EQ(req.raw_body.substr(req.model_span.begin, req.model_span.end - req.model_span.begin), "\"gpt-4\"");
}

TEST(OpenAiFrontDoor, MalformedJsonSaysSo) {
  auto e = ParseError(Operation::kChatCompletions, R"({"model":"gpt-4",)");
  EXPECT_EQ(e.code, ErrorCode::kBadRequest);
  EXPECT_NE(e.message.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(ParseError(Operation::kChatCompletions, "").code, ErrorCode::kBadRequest);
  EXPECT_NE(ParseError(Operation::kChatCompletions, "[1]").message.find("JSON object"), std::string::npos);
}

TEST(OpenAiFrontDoor, FieldChecksNameTheParam) {
  auto e = ParseError(Operation::kChatCompletions, R"({"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(e.param, "model");
  e = ParseError(Operation::kChatCompletions, R"({"model":5,"messages":[]})");
  EXPECT_EQ(e.param, "model");
  e = ParseError(Operation::kChatCompletions, R"({"model":"m"})");
  EXPECT_EQ(e.param, "messages");
  e = ParseError(Operation::kChatCompletions, R"({"model":"m","messages":[]})");
  EXPECT_EQ(e.param, "messages");
  e = ParseError(Operation::kChatCompletions, R"({"model":"m","messages":[{}],"stream":"yes"})");
  EXPECT_EQ(e.param, "stream");
  e = ParseError(Operation::kCompletions, R"({"model":"m"})");
  EXPECT_EQ(e.param, "prompt");
  e = ParseError(Operation::kEmbeddings, R"({"model":"m"})");
  EXPECT_EQ(e.param, "input");
}

GatewayError Parse(std::string body) { return ParseError(Operation::kChatCompletions, std::move(body)); }

TEST(OpenAiFrontDoor, DuplicateModelOrStreamKeyIs400) {
  // Regression: the gateway routed on the first "model", an upstream that
  // keeps the last would have served the second.
  auto dup_model = Parse(R"({"model":"cheap","messages":[{"role":"user","content":"hi"}],"model":"expensive"})");
  EXPECT_EQ(dup_model.code, ErrorCode::kBadRequest);
  EXPECT_EQ(dup_model.param, std::optional<std::string>("model"));
  auto escaped = Parse(R"({"model":"cheap","messages":[{"role":"user","content":"hi"}],"mod\u0065l":"x"})");
  EXPECT_EQ(escaped.code, ErrorCode::kBadRequest);
  auto dup_stream = Parse(R"({"model":"m","stream":false,"messages":[{"role":"user","content":"hi"}],"stream":true})");
  EXPECT_EQ(dup_stream.param, std::optional<std::string>("stream"));
  // Nested duplicates are not the gateway's business.
  auto nested = openai::ParseRequest(
      Operation::kChatCompletions, R"({"model":"m","messages":[{"role":"user","content":"hi","model":"a","model":"b"}]})");
  EXPECT_TRUE(std::holds_alternative<InternalRequest>(nested));
}

TEST(OpenAiFrontDoor, NestingDeeperThanTheBoundIs400) {
  std::string deep = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"x":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}";
  auto e = Parse(deep);
  EXPECT_EQ(e.code, ErrorCode::kBadRequest);
  EXPECT_NE(e.message.find("nested deeper"), std::string::npos) << e.message;
  std::string ok = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"x":)";
  for (int i = 0; i < 30; ++i) ok += "[";
  for (int i = 0; i < 30; ++i) ok += "]";
  ok += "}";
  EXPECT_TRUE(std::holds_alternative<InternalRequest>(openai::ParseRequest(Operation::kChatCompletions, ok)));
}

TEST(OpenAiFrontDoor, ErrorBodyShape) {
  GatewayError e{ErrorCode::kModelNotFound, "no \"such\" model", std::string("model"), std::nullopt, {}};
  EXPECT_EQ(openai::ErrorBody(e),
            R"({"error":{"message":"no \"such\" model","type":"invalid_request_error","param":"model","code":"model_not_found"}})");
  GatewayError p{ErrorCode::kProviderError, "boom", std::nullopt, std::nullopt, {}};
  EXPECT_EQ(openai::ErrorBody(p), R"({"error":{"message":"boom","type":"api_error","param":null,"code":"provider_error"}})");
  EXPECT_EQ(openai::ErrorEvent(p), "data: " + openai::ErrorBody(p) + "\n\n");
}

TEST(OpenAiFrontDoor, ModelList) {
  EXPECT_EQ(openai::ModelList({{"gpt-4", "openai"}}, 7),
            R"({"object":"list","data":[{"id":"gpt-4","object":"model","created":7,"owned_by":"openai"}]})");
}

}  // namespace
}  // namespace sy
