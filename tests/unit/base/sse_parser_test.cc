#include "sse/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sy::sse {
namespace {

std::vector<Event> ParseAll(const std::vector<std::string>& pieces) {
  std::vector<Event> out;
  Parser p([&](const Event& e) { out.push_back(e); });
  for (const auto& piece : pieces) p.Feed(piece);
  return out;
}

TEST(SseParser, SingleEvent) {
  auto events = ParseAll({"data: {\"a\":1}\n\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "{\"a\":1}");
  EXPECT_EQ(events[0].event, "");
}

TEST(SseParser, EventSplitAcrossPiecesAtEveryByte) {
  std::string stream = "event: delta\ndata: hello\n\ndata: [DONE]\n\n";
  std::vector<std::string> pieces;
  for (char c : stream) pieces.emplace_back(1, c);
  auto events = ParseAll(pieces);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "delta");
  EXPECT_EQ(events[0].data, "hello");
  EXPECT_EQ(events[1].data, "[DONE]");
  EXPECT_EQ(events[1].event, "");
}

TEST(SseParser, CrLfAndCrLineEnds) {
  auto events = ParseAll({"data: a\r\n\r", "\ndata: b\r\rdata: c\n\n"});
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[1].data, "b");
  EXPECT_EQ(events[2].data, "c");
}

TEST(SseParser, MultiLineDataIsJoinedWithNewline) {
  auto events = ParseAll({"data: one\ndata:two\ndata:  three\n\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "one\ntwo\n three");
}

TEST(SseParser, CommentsAndEmptyEventsAreSkipped) {
  Parser p([](const Event&) {});
  p.Feed(": keep-alive\n\nevent: ping\n\n");
  EXPECT_EQ(p.events(), 0u);  // no data line, nothing dispatched
  p.Feed("data: x\n");
  EXPECT_TRUE(p.partial());
  p.Feed("\n");
  EXPECT_EQ(p.events(), 1u);
  EXPECT_FALSE(p.partial());
}

TEST(SseParser, UnterminatedEventIsNotDispatched) {
  auto events = ParseAll({"data: half"});
  EXPECT_TRUE(events.empty());
}

// Decoders parse event data in place with simdjson, which reads up to 64
// bytes past the end: every dispatched event must leave that much capacity.
TEST(SseParser, EventDataKeepsPaddingAfterIt) {
  std::vector<size_t> spare;
  Parser parser([&](const Event& e) { spare.push_back(e.data.capacity() - e.data.size()); });
  parser.Feed("data: a\n\ndata: " + std::string(300, 'b') + "\ndata: c\n\n");
  parser.Feed("data: {\"x\":");  // split across pieces
  parser.Feed("1}\n\n");
  ASSERT_EQ(spare.size(), 3u);
  for (size_t s : spare) EXPECT_GE(s, kDataPadding);
}

TEST(SseFormat, RoundTripsThroughParser) {
  std::string text = FormatEvent("line1\nline2", "message_start");
  EXPECT_EQ(text, "event: message_start\ndata: line1\ndata: line2\n\n");
  auto events = ParseAll({text});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "message_start");
  EXPECT_EQ(events[0].data, "line1\nline2");
}

TEST(SseFormat, PlainData) { EXPECT_EQ(FormatEvent("[DONE]"), "data: [DONE]\n\n"); }

}  // namespace
}  // namespace sy::sse
