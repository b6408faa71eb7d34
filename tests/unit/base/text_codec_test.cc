#include "common/text_codec.h"

#include <gtest/gtest.h>

namespace sy::text {
namespace {

TEST(TextCodec, HexDigits) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
}

TEST(TextCodec, PercentDecode) {
  std::string out;
  EXPECT_TRUE(PercentDecode("openai%2Fgpt-4o%20x", &out));
  EXPECT_EQ(out, "openai/gpt-4o x");
  EXPECT_FALSE(PercentDecode("a%2Fb%zz", &out));
  EXPECT_EQ(out, "a/b%zz");  // malformed escape kept as it is
  EXPECT_FALSE(PercentDecode("tail%2", &out));
  EXPECT_EQ(out, "tail%2");
}

}  // namespace
}  // namespace sy::text
