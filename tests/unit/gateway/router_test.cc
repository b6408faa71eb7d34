#include "server/router.h"

#include <gtest/gtest.h>

namespace sy {
namespace {

TEST(Router, MatchesApiEndpointsWithAndWithoutV1) {
  EXPECT_EQ(MatchRoute("POST", "/v1/chat/completions").endpoint, Endpoint::kChatCompletions);
  EXPECT_EQ(MatchRoute("POST", "/chat/completions").endpoint, Endpoint::kChatCompletions);
  EXPECT_EQ(MatchRoute("POST", "/v1/completions").endpoint, Endpoint::kCompletions);
  EXPECT_EQ(MatchRoute("POST", "/v1/embeddings").endpoint, Endpoint::kEmbeddings);
  EXPECT_EQ(MatchRoute("GET", "/v1/models").endpoint, Endpoint::kListModels);
  EXPECT_EQ(MatchRoute("GET", "/").endpoint, Endpoint::kRoot);
  EXPECT_EQ(MatchRoute("GET", "/health").endpoint, Endpoint::kHealth);
  EXPECT_EQ(MatchRoute("GET", "/readiness").endpoint, Endpoint::kReadiness);
}

TEST(Router, IgnoresQueryString) {
  EXPECT_EQ(MatchRoute("POST", "/v1/chat/completions?x=1").endpoint, Endpoint::kChatCompletions);
  EXPECT_EQ(MatchRoute("GET", "/health?verbose").endpoint, Endpoint::kHealth);
}

TEST(Router, ModelIdKeepsSlashes) {
  auto m = MatchRoute("GET", "/v1/models/openai/gpt-4o");
  EXPECT_EQ(m.endpoint, Endpoint::kGetModel);
  EXPECT_EQ(m.param, "openai/gpt-4o");
}

TEST(Router, WrongMethodAndUnknownPath) {
  EXPECT_EQ(MatchRoute("GET", "/v1/chat/completions").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(MatchRoute("POST", "/v1/models").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(MatchRoute("GET", "/v2/chat").endpoint, Endpoint::kNotFound);
  EXPECT_EQ(MatchRoute("GET", "/v1/models/").endpoint, Endpoint::kNotFound);
}

TEST(Router, AuthIsRequiredOnlyForTheApi) {
  EXPECT_TRUE(RequiresAuth(Endpoint::kChatCompletions));
  EXPECT_TRUE(RequiresAuth(Endpoint::kListModels));
  EXPECT_TRUE(RequiresAuth(Endpoint::kGetModel));
  EXPECT_FALSE(RequiresAuth(Endpoint::kHealth));
  EXPECT_FALSE(RequiresAuth(Endpoint::kReadiness));
  EXPECT_FALSE(RequiresAuth(Endpoint::kRoot));
}

TEST(Router, EveryFrontDoorHasItsRoutes) {
  EXPECT_EQ(MatchRoute("POST", "/v1/responses").protocol, WireProtocol::kOpenAIResponses);
  EXPECT_EQ(MatchRoute("POST", "/v1/messages").endpoint, Endpoint::kMessages);
  EXPECT_EQ(MatchRoute("POST", "/v1/messages?beta=true").protocol, WireProtocol::kAnthropic);
  EXPECT_EQ(MatchRoute("POST", "/v1/messages/count_tokens").endpoint, Endpoint::kMessagesCountTokens);
  EXPECT_EQ(MatchRoute("POST", "/api/chat").endpoint, Endpoint::kOllamaChat);
  EXPECT_EQ(MatchRoute("POST", "/api/generate").endpoint, Endpoint::kOllamaGenerate);
  EXPECT_EQ(MatchRoute("GET", "/api/tags").endpoint, Endpoint::kOllamaTags);
  EXPECT_EQ(MatchRoute("GET", "/api/version").endpoint, Endpoint::kOllamaVersion);
  EXPECT_EQ(MatchRoute("GET", "/api/chat").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(MatchRoute("GET", "/api/chat").protocol, WireProtocol::kOllama);
  EXPECT_EQ(MatchRoute("GET", "/api/nope").protocol, WireProtocol::kOllama);
}

TEST(Router, GeminiPathsCarryTheModel) {
  auto m = MatchRoute("POST", "/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(m.endpoint, Endpoint::kGeminiGenerate);
  EXPECT_EQ(m.param, "gemini-2.5-flash");
  m = MatchRoute("POST", "/v1beta/models/p-openai/gpt-4o:streamGenerateContent?alt=sse");
  EXPECT_EQ(m.endpoint, Endpoint::kGeminiStream);
  EXPECT_EQ(m.param, "p-openai/gpt-4o");
  EXPECT_EQ(MatchRoute("POST", "/v1/models/g:countTokens").endpoint, Endpoint::kGeminiCountTokens);
  EXPECT_EQ(MatchRoute("POST", "/v1beta/models/g:embedContent").endpoint, Endpoint::kGeminiEmbed);
  EXPECT_EQ(MatchRoute("POST", "/v1beta/models/g:batchEmbedContents").endpoint, Endpoint::kGeminiBatchEmbed);
  EXPECT_EQ(MatchRoute("GET", "/v1beta/models").endpoint, Endpoint::kGeminiListModels);
  m = MatchRoute("GET", "/v1beta/models/gemini-pro");
  EXPECT_EQ(m.endpoint, Endpoint::kGeminiGetModel);
  EXPECT_EQ(m.param, "gemini-pro");
  EXPECT_EQ(MatchRoute("GET", "/v1beta/models/g:generateContent").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(MatchRoute("POST", "/v1beta/models/g:unknownMethod").endpoint, Endpoint::kNotFound);
  EXPECT_EQ(MatchRoute("POST", "/v1beta/models/g:unknownMethod").protocol, WireProtocol::kGemini);
  // An OpenAI model id with a colon stays an OpenAI model.
  EXPECT_EQ(MatchRoute("GET", "/v1/models/ft:gpt-4o:org").endpoint, Endpoint::kGetModel);
}

TEST(Router, QueryParam) {
  EXPECT_EQ(QueryParam("/x?alt=sse&key=abc", "key"), "abc");
  EXPECT_EQ(QueryParam("/x?alt=sse&key=abc", "alt"), "sse");
  EXPECT_EQ(QueryParam("/x?alt=sse", "key"), "");
  EXPECT_EQ(QueryParam("/x", "key"), "");
  EXPECT_EQ(QueryParam("/x?keyx=1&key", "key"), "");
}

}  // namespace
}  // namespace sy
