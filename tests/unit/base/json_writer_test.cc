#include "common/json_writer.h"
#include "core/errors.h"

#include <gtest/gtest.h>

#include <limits>

namespace sy {
namespace {

TEST(JsonWriter, EscapesSpecialCharacters) {
  EXPECT_EQ(json::Quote("plain"), "\"plain\"");
  EXPECT_EQ(json::Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json::Quote("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
  EXPECT_EQ(json::Quote(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
}

TEST(JsonWriter, KeepsUtf8AsIs) { EXPECT_EQ(json::Quote("héllo ✓"), "\"héllo ✓\""); }

TEST(JsonWriter, WritesNestedDocumentsWithCommas) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("a").Int(-3).Key("b").BeginArray().Double(0.5).String("x\"").Null().Bool(true).EndArray();
  w.Key("c").Raw("{\"k\":1}").Key("d").Raw("").Key("e").BeginObject().EndObject().EndObject();
  EXPECT_EQ(out, R"({"a":-3,"b":[0.5,"x\"",null,true],"c":{"k":1},"d":null,"e":{}})");
}

TEST(JsonWriter, DoublesReadBackExactlyAndStayParseable) {
  std::string out;
  json::Writer w(&out);
  w.BeginArray().Double(0.1).Double(740894.2).Double(1e300).Double(-7.777777777777777e19).Double(123456789012345680.0);
  w.Double(std::numeric_limits<double>::quiet_NaN()).Double(std::numeric_limits<double>::infinity()).EndArray();
  // Found by gemini_stream_fuzz: the shortest form of -7.777777777777777e19
  // is 20 digits with no point, an integer most parsers refuse.
  EXPECT_EQ(out, "[0.1,740894.2,1e+300,-7.777777777777777e+19,123456789012345680,null,null]");
}

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
