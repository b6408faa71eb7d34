#include "common/json_writer.h"
#include "core/errors.h"

#include <gtest/gtest.h>

namespace sy {
namespace {

TEST(JsonWriter, EscapesSpecialCharacters) {
  EXPECT_EQ(json::Quote("plain"), "\"plain\"");
  EXPECT_EQ(json::Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json::Quote("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
  EXPECT_EQ(json::Quote(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
}

TEST(JsonWriter, KeepsUtf8AsIs) { EXPECT_EQ(json::Quote("héllo ✓"), "\"héllo ✓\""); }

TEST(Errors, StatusCodesMatchTheSpec) {
  EXPECT_EQ(HttpStatus(ErrorCode::kBadRequest), 400);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnauthorized), 401);
  EXPECT_EQ(HttpStatus(ErrorCode::kModelNotFound), 404);
  EXPECT_EQ(HttpStatus(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatus(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(HttpStatus(ErrorCode::kProviderError), 502);
  EXPECT_EQ(HttpStatus(ErrorCode::kNoProvider), 503);
  EXPECT_EQ(HttpStatus(ErrorCode::kUpstreamTimeout), 504);
  EXPECT_EQ(ErrorCodeName(ErrorCode::kModelNotFound), "model_not_found");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kUnauthorized), "invalid_api_key");
}

}  // namespace
}  // namespace sy
