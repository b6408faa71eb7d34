#include "server/chunked_decoder.h"

#include <gtest/gtest.h>

namespace sy {
namespace {

using S = ChunkedDecoder::Status;

struct Result {
  S status;
  std::string body;
  size_t consumed = 0;
  std::string error;
};

Result Decode(std::string_view in, uint64_t max = 1 << 20) {
  ChunkedDecoder d(max);
  Result r;
  r.status = d.Feed(in, &r.consumed, &r.body);
  r.error = std::string(d.error());
  return r;
}

TEST(ChunkedDecoder, DecodesChunksAndStopsAfterTheTrailers) {
  auto r = Decode("5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1");
  EXPECT_EQ(r.status, S::kDone);
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.consumed, std::string_view("5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nX-T: 1\r\n\r\n").size());
}

TEST(ChunkedDecoder, SplitAnywhereGivesTheSameBody) {
  const std::string in = "a\r\n0123456789\r\n3\r\nabc\r\n0\r\n\r\n";
  for (size_t cut = 0; cut <= in.size(); ++cut) {
    ChunkedDecoder d(100);
    std::string body;
    size_t used = 0;
    auto first = d.Feed(std::string_view(in).substr(0, cut), &used, &body);
    EXPECT_EQ(used, cut);
    auto second = first == S::kDone ? first : d.Feed(std::string_view(in).substr(cut), &used, &body);
    EXPECT_EQ(second, S::kDone) << cut;
    EXPECT_EQ(body, "0123456789abc") << cut;
  }
}

TEST(ChunkedDecoder, LongChunkSizeLinesAreRefused) {
  // Regression: chunk-size lines and extensions were unbounded.
  EXPECT_EQ(Decode(std::string(8192, '0') + "5\r\nhello\r\n0\r\n\r\n").status, S::kBad);
  EXPECT_EQ(Decode("5;ext=" + std::string(2000, 'a') + "\r\nhello\r\n0\r\n\r\n").status, S::kBad);
  EXPECT_EQ(Decode("5;e=" + std::string(900, 'a') + "\r\nhello\r\n0\r\n\r\n").status, S::kDone);
  // Too long is known before the line ends.
  EXPECT_EQ(Decode(std::string(5000, '0')).status, S::kBad);
}

TEST(ChunkedDecoder, MalformedFramingIsRefused) {
  for (std::string bad : std::initializer_list<std::string>{"x\r\n", "\r\n", "5\nhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n", "5\r\nhello\n0\r\n\r\n",
                          "5 \r\nhello\r\n", "-5\r\n", "0\r\n\n", "0\r\nX: 1\n\r\n", "11111111111111111\r\n",
                          std::string("5;a\0b\r\n", 7)}) {
    EXPECT_EQ(Decode(bad).status, S::kBad) << bad;
  }
}

TEST(ChunkedDecoder, BodyLimitIsEnforcedFromTheChunkSize) {
  EXPECT_EQ(Decode("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 10).status, S::kTooLarge);
  EXPECT_EQ(Decode("ffffffffffffffff\r\n", 10).status, S::kTooLarge);
  EXPECT_EQ(Decode("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", 10).status, S::kDone);
}

TEST(ChunkedDecoder, LongTrailersAreRefused) {
  EXPECT_EQ(Decode("0\r\nX: " + std::string(5000, 'a') + "\r\n\r\n").status, S::kBad);
}

}  // namespace
}  // namespace sy
