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

TEST(OpenAiFrontDoor, ErrorBodyShape) {
  GatewayError e{ErrorCode::kModelNotFound, "no \"such\" model", std::string("model"), std::nullopt};
  EXPECT_EQ(openai::ErrorBody(e),
            R"({"error":{"message":"no \"such\" model","type":"invalid_request_error","param":"model","code":"model_not_found"}})");
  GatewayError p{ErrorCode::kProviderError, "boom", std::nullopt, std::nullopt};
  EXPECT_EQ(openai::ErrorBody(p), R"({"error":{"message":"boom","type":"api_error","param":null,"code":"provider_error"}})");
  EXPECT_EQ(openai::ErrorEvent(p), "data: " + openai::ErrorBody(p) + "\n\n");
}

TEST(OpenAiFrontDoor, ModelList) {
  EXPECT_EQ(openai::ModelList({{"gpt-4", "openai"}}, 7),
            R"({"object":"list","data":[{"id":"gpt-4","object":"model","created":7,"owned_by":"openai"}]})");
}

}  // namespace
}  // namespace sy
