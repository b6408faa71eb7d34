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

}  // namespace
}  // namespace sy
