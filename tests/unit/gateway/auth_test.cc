#include "server/auth.h"

#include <gtest/gtest.h>

namespace sy {
namespace {

Authenticator Keys() {
  return Authenticator(config::AuthMode::kKeys, {{"dev", "sk-dev-123"}, {"ci", "sk-ci-456"}});
}

TEST(Auth, BearerTokenIsAccepted) {
  auto a = Keys();
  auto name = a.Check("Bearer sk-dev-123", "");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(*name, "dev");
  EXPECT_EQ(*a.Check("bearer sk-ci-456", ""), "ci");
}

TEST(Auth, XApiKeyIsAccepted) { EXPECT_EQ(*Keys().Check("", "sk-ci-456"), "ci"); }

TEST(Auth, WrongOrMissingKeyIsRefused) {
  auto a = Keys();
  EXPECT_FALSE(a.Check("Bearer sk-dev-124", "").has_value());
  EXPECT_FALSE(a.Check("", "").has_value());
  EXPECT_FALSE(a.Check("Bearer ", "").has_value());
  EXPECT_FALSE(a.Check("Basic c2stZGV2LTEyMw==", "").has_value());
  EXPECT_FALSE(a.Check("sk-dev-123", "").has_value());  // no scheme
}

TEST(Auth, NoneModeAcceptsEverything) {
  Authenticator a(config::AuthMode::kNone, {});
  EXPECT_TRUE(a.Check("", "").has_value());
}

bool FailingHasher(std::string_view, std::string*) { return false; }
bool ConstantHasher(std::string_view, std::string* out) {
  *out = std::string(32, 'x');  // "works", but every key would match every other
  return true;
}

TEST(Auth, FailsClosedWhenKeysCannotBeHashed) {
  // Regression: every digest became "" and any non-empty key matched.
  for (auto hasher : {&FailingHasher, &ConstantHasher}) {
    Authenticator a(config::AuthMode::kKeys, {{"dev", "sk-dev-123"}}, hasher);
    EXPECT_FALSE(a.ready());
    EXPECT_FALSE(a.Check("Bearer sk-dev-123", "").has_value());
    EXPECT_FALSE(a.Check("Bearer anything", "").has_value());
  }
  EXPECT_TRUE(Keys().ready());
}

TEST(Auth, PresentedKeyPrefersAuthorization) {
  EXPECT_EQ(Authenticator::PresentedKey("Bearer  abc ", "xyz"), "abc");
  EXPECT_EQ(Authenticator::PresentedKey("", "xyz"), "xyz");
}

}  // namespace
}  // namespace sy
