#include "server/auth.h"

#include <gtest/gtest.h>

namespace sy {
namespace {

TEST(PresentedKey, BearerInAnyCaseWithSpacesTrimmed) {
  EXPECT_EQ(PresentedKey("Bearer sk-dev-123", ""), "sk-dev-123");
  EXPECT_EQ(PresentedKey("bearer sk-ci-456", ""), "sk-ci-456");
  EXPECT_EQ(PresentedKey("BEARER  abc ", ""), "abc");
}

TEST(PresentedKey, AuthorizationWinsOverXApiKey) {
  EXPECT_EQ(PresentedKey("Bearer  abc ", "xyz"), "abc");
  EXPECT_EQ(PresentedKey("", "xyz"), "xyz");
}

TEST(PresentedKey, OtherSchemesAndEmptyBearerAreNoKey) {
  EXPECT_EQ(PresentedKey("Basic c2stZGV2LTEyMw==", ""), "");
  EXPECT_EQ(PresentedKey("sk-dev-123", ""), "");  // no scheme
  EXPECT_EQ(PresentedKey("Bearer ", ""), "");
  EXPECT_EQ(PresentedKey("Bearer    ", "x"), "x");
  EXPECT_EQ(PresentedKey("", ""), "");
}

}  // namespace
}  // namespace sy
