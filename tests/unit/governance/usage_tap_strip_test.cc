// The usage tap's strip mode (OpenAI streams whose client did not ask for
// usage): the client gets the stream byte for byte minus the usage-only
// chunk, whatever the split of the bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "governance/usage_tap.h"

namespace sy::gov {
namespace {

struct Stripped {
  std::string out;
  std::optional<chat::Usage> usage;
  size_t max_held = 0;  // the most bytes received but not yet sent, after any Feed
};

Stripped Strip(const std::vector<std::string_view>& pieces) {
  auto tap = NewUsageTap(WireProtocol::kOpenAI, /*stream=*/true, /*strip_usage_chunk=*/true);
  Stripped s;
  size_t in = 0;
  for (std::string_view p : pieces) {
    in += p.size();
    s.out.append(tap->Feed(p));
    if (in > s.out.size()) s.max_held = std::max(s.max_held, in - s.out.size());
  }
  s.out.append(tap->Finish());
  s.usage = tap->usage();
  return s;
}

Stripped StripWhole(std::string_view stream) { return Strip({stream}); }

// Every split in two, every split in three around each event boundary, and
// one byte at a time: all give `expected`.
void ExpectStrippedEverySplit(std::string_view stream, std::string_view expected) {
  EXPECT_EQ(StripWhole(stream).out, expected);
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < stream.size(); ++i) bytes.push_back(stream.substr(i, 1));
  EXPECT_EQ(Strip(bytes).out, expected) << "one byte at a time";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    EXPECT_EQ(Strip({stream.substr(0, cut), stream.substr(cut)}).out, expected) << "cut at " << cut;
    for (size_t cut2 = cut; cut2 <= std::min(stream.size(), cut + 3); ++cut2) {
      EXPECT_EQ(Strip({stream.substr(0, cut), stream.substr(cut, cut2 - cut), stream.substr(cut2)}).out, expected)
          << "cuts at " << cut << ", " << cut2;
    }
    if (::testing::Test::HasFailure()) return;
  }
}

const std::string kChunk =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null})";
const std::string kFinal =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null})";
const std::string kUsage =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":2,"total_tokens":52,"prompt_tokens_details":{"cached_tokens":32}}})";

std::string Event(std::string_view data, std::string_view eol = "\n") {
  return "data: " + std::string(data) + std::string(eol) + std::string(eol);
}

TEST(UsageTapStrip, RemovesOnlyTheUsageChunk) {
  const std::string before = Event(kChunk) + Event(kFinal);
  const std::string stream = before + Event(kUsage) + Event("[DONE]");
  const Stripped s = StripWhole(stream);
  EXPECT_EQ(s.out, before + Event("[DONE]"));
  ASSERT_TRUE(s.usage.has_value());
  EXPECT_EQ(s.usage->input_tokens, 50);
  EXPECT_EQ(s.usage->cached_input_tokens, 32);
  EXPECT_EQ(s.usage->output_tokens, 2);
  ExpectStrippedEverySplit(stream, before + Event("[DONE]"));
}

TEST(UsageTapStrip, CrLfAndCrLineEnds) {
  for (std::string_view eol : {"\r\n", "\r"}) {
    const std::string stream = Event(kChunk, eol) + Event(kUsage, eol) + Event("[DONE]", eol);
    ExpectStrippedEverySplit(stream, Event(kChunk, eol) + Event("[DONE]", eol));
    EXPECT_TRUE(StripWhole(stream).usage.has_value());
  }
  // Mixed: an event ending "\r\n\r" followed by one starting with "\n" is
  // read as sse::Parser reads it.
  const std::string mixed = "data: " + kChunk + "\r\n\r" + "data: " + kUsage + "\n\r\n" + "data: [DONE]\n\n";
  ExpectStrippedEverySplit(mixed, "data: " + kChunk + "\r\n\r" + "data: [DONE]\n\n");
}

// Found by fuzz/usage_tap_fuzz.cc: the last event ends on the CR of a blank
// line, so Finish() completes it with no bytes of a piece at hand (an empty
// view with a null data() once reached sse::Parser::Feed: UB in memchr).
TEST(UsageTapStrip, StreamEndingOnTheCrOfABlankLine) {
  const std::string stream = "data: " + kChunk + "\r\r" + "data: " + kUsage + "\r\rdata: [DONE]\r\r";
  const std::string expected = "data: " + kChunk + "\r\rdata: [DONE]\r\r";
  ExpectStrippedEverySplit(stream, expected);
  auto tap = NewUsageTap(WireProtocol::kOpenAI, true, true);
  std::string out(tap->Feed(stream));
  out.append(tap->Feed(std::string_view()));
  out.append(tap->Finish());
  EXPECT_EQ(out, expected);
  ASSERT_TRUE(tap->usage().has_value());
  EXPECT_EQ(tap->usage()->input_tokens, 50);
}

TEST(UsageTapStrip, CommentsNamedEventsAndMultiLineDataPass) {
  const std::string stream = ": keep-alive\n\n" + Event(kChunk) + "event: message\nid: 7\ndata: {\"choices\":\ndata: []}\n\n" +
                             ": another\n" + Event(kUsage) + Event("[DONE]");
  // The multi-line event has no usage; the comment line before the usage
  // chunk belongs to its event and goes with it.
  const std::string expected =
      ": keep-alive\n\n" + Event(kChunk) + "event: message\nid: 7\ndata: {\"choices\":\ndata: []}\n\n" + Event("[DONE]");
  ExpectStrippedEverySplit(stream, expected);
}

TEST(UsageTapStrip, UsageChunkWithoutItsBlankLineAtTheEnd) {
  const std::string stream = Event(kChunk) + "data: " + kUsage;
  ExpectStrippedEverySplit(stream, Event(kChunk));
  EXPECT_TRUE(StripWhole(stream).usage.has_value());
  const std::string with_lf = Event(kChunk) + "data: " + kUsage + "\n";
  ExpectStrippedEverySplit(with_lf, Event(kChunk));
}

TEST(UsageTapStrip, UsageWithChoicesIsKept) {
  const std::string both =
      R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})";
  const std::string stream = Event(kChunk) + Event(both) + Event("[DONE]");
  ExpectStrippedEverySplit(stream, stream);
  ASSERT_TRUE(StripWhole(stream).usage.has_value());
  EXPECT_EQ(StripWhole(stream).usage->input_tokens, 3);
}

TEST(UsageTapStrip, UsageChunkWithoutChoicesMemberIsRemoved) {
  const std::string bare = R"({"id":"c","usage":{"prompt_tokens":3,"completion_tokens":1}})";
  ExpectStrippedEverySplit(Event(kChunk) + Event(bare) + Event("[DONE]"), Event(kChunk) + Event("[DONE]"));
}

TEST(UsageTapStrip, ErrorEventWithUsageIsKept) {
  const std::string error = R"({"error":{"message":"overloaded"},"usage":{"prompt_tokens":3}})";
  const std::string stream = Event(kChunk) + Event(error);
  EXPECT_EQ(StripWhole(stream).out, stream);
}

TEST(UsageTapStrip, HoldsBackOnlyTheIncompleteEvent) {
  const std::string first = Event(kChunk);
  const std::string second = Event(kFinal);
  auto tap = NewUsageTap(WireProtocol::kOpenAI, true, true);
  // A whole event and half of the next: the whole one goes out at once, as a
  // view of the input (no copy).
  const std::string piece = first + second.substr(0, 10);
  std::string_view out = tap->Feed(piece);
  EXPECT_EQ(out, first);
  EXPECT_EQ(out.data(), piece.data());
  EXPECT_EQ(tap->Feed(second.substr(10)), second);
  EXPECT_EQ(tap->Feed(""), "");
  EXPECT_EQ(tap->Finish(), "");
}

TEST(UsageTapStrip, LongEventsPassAsTheyArrive) {
  // A content chunk far larger than any usage chunk is not held whole.
  const std::string big =
      R"({"id":"c","choices":[{"index":0,"delta":{"content":")" + std::string(200 * 1024, 'a') + R"("}}]})";
  const std::string stream = Event(big) + Event(kUsage) + Event("[DONE]");
  std::vector<std::string_view> pieces;
  for (size_t at = 0; at < stream.size(); at += 4096) pieces.push_back(std::string_view(stream).substr(at, 4096));
  const Stripped s = Strip(pieces);
  EXPECT_EQ(s.out, Event(big) + Event("[DONE]"));
  EXPECT_LE(s.max_held, size_t{64 * 1024 + 4096});
  EXPECT_EQ(s.usage->input_tokens, 50);
  EXPECT_GT(StripWhole(stream).usage->input_tokens, 0);
  EXPECT_EQ(StripWhole(stream).out, s.out);
}

TEST(UsageTapStrip, AnOversizedUsageChunkIsNeverRemoved) {
  // Padded beyond what a usage chunk can be: the same verdict (kept) whether
  // it arrives whole or in pieces.
  const std::string padded = R"({"choices":[],"usage":{"prompt_tokens":1})" + std::string(70 * 1024, ' ') + "}";
  const std::string stream = Event(kChunk) + Event(padded) + Event("[DONE]");
  EXPECT_EQ(StripWhole(stream).out, stream);
  std::vector<std::string_view> pieces;
  for (size_t at = 0; at < stream.size(); at += 1000) pieces.push_back(std::string_view(stream).substr(at, 1000));
  EXPECT_EQ(Strip(pieces).out, stream);
}

TEST(UsageTapStrip, StreamWithoutUsageIsUnchanged) {
  const std::string stream = Event(kChunk) + Event(kFinal) + Event("[DONE]");
  ExpectStrippedEverySplit(stream, stream);
  EXPECT_FALSE(StripWhole(stream).usage.has_value());
}

}  // namespace
}  // namespace sy::gov
