// The Gemini front door's stream encoder: SSE and JSON-array shapes.
#include <gtest/gtest.h>

#include "frontdoor/gemini/gemini_frontdoor.h"
#include "sse/sse_parser.h"
#include "translate/gemini_test_util.h"

namespace sy::gemini {
namespace {

using testing::At;
using testing::ValidJson;

chat::StreamEvent Ev(chat::EventKind kind, std::string text = {}, int index = 0) {
  chat::StreamEvent e;
  e.kind = kind;
  e.text = std::move(text);
  e.index = index;
  return e;
}

chat::StreamEvent Start(std::string id = "r1") {
  chat::StreamEvent e = Ev(chat::EventKind::kStart);
  e.id = std::move(id);
  e.model = "upstream";
  return e;
}

chat::StreamEvent CallStart(int index, std::string id, std::string name) {
  chat::StreamEvent e = Ev(chat::EventKind::kToolCallStart, {}, index);
  e.id = std::move(id);
  e.name = std::move(name);
  return e;
}

chat::StreamEvent Finish(chat::FinishReason f) {
  chat::StreamEvent e = Ev(chat::EventKind::kFinish);
  e.finish = f;
  return e;
}

chat::StreamEvent UsageEv(int64_t in, int64_t out, int64_t reasoning = 0) {
  chat::StreamEvent e = Ev(chat::EventKind::kUsage);
  chat::Usage u;
  u.input_tokens = in;
  u.output_tokens = out;
  u.reasoning_tokens = reasoning;
  e.usage = u;
  return e;
}

std::string Encode(int shape, const std::vector<chat::StreamEvent>& events) {
  GeminiFrontDoor fd;
  InternalRequest req;
  req.model = "client-model";
  req.stream = true;
  req.shape = shape;
  auto enc = fd.NewStreamEncoder(req, chat::Request{});
  std::string out;
  for (const auto& e : events) enc->Encode(e, &out);
  return out;
}

// The data of every SSE event.
std::vector<std::string> SseChunks(const std::string& body) {
  std::vector<std::string> chunks;
  sse::Parser p([&chunks](const sse::Event& e) { chunks.push_back(e.data); });
  p.Feed(body);
  EXPECT_FALSE(p.partial());
  return chunks;
}

TEST(GeminiStreamEncoder, ContentTypes) {
  GeminiFrontDoor fd;
  InternalRequest req;
  EXPECT_EQ(fd.StreamContentType(req), "text/event-stream");
  req.shape = kShapeStreamJsonArray;
  EXPECT_EQ(fd.StreamContentType(req), "application/json");
}

TEST(GeminiStreamEncoder, SseTextStream) {
  const std::string body = Encode(kShapeStreamSse, {Start(), Ev(chat::EventKind::kReasoningDelta, "think"),
                                                    Ev(chat::EventKind::kTextDelta, "Hel"),
                                                    Ev(chat::EventKind::kTextDelta, "lo"), UsageEv(10, 5, 2),
                                                    Finish(chat::FinishReason::kStop)});
  EXPECT_EQ(body.find("[DONE]"), std::string::npos);
  EXPECT_NE(body.find("\r\n\r\n"), std::string::npos);
  EXPECT_EQ(body.substr(0, 6), "data: ");
  auto chunks = SseChunks(body);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(At(chunks[0], "/candidates/0/content/parts/0"), R"({"text":"think","thought":true})");
  EXPECT_EQ(At(chunks[0], "/candidates/0/finishReason"), "<missing>");
  EXPECT_EQ(At(chunks[0], "/modelVersion"), R"("client-model")");
  EXPECT_EQ(At(chunks[0], "/responseId"), R"("r1")");
  EXPECT_EQ(At(chunks[1], "/candidates/0/content/parts/0/text"), R"("Hel")");
  // The last chunk carries the last part, finishReason and usage together.
  EXPECT_EQ(At(chunks[2], "/candidates/0/content/parts/0/text"), R"("lo")");
  EXPECT_EQ(At(chunks[2], "/candidates/0/finishReason"), R"("STOP")");
  EXPECT_EQ(At(chunks[2], "/usageMetadata"),
            R"({"promptTokenCount":10,"candidatesTokenCount":3,"totalTokenCount":15,"thoughtsTokenCount":2})");
}

TEST(GeminiStreamEncoder, ToolCallsAreBufferedUntilEnd) {
  const std::string body =
      Encode(kShapeStreamSse,
             {Start(), CallStart(0, "c0", "a"), CallStart(1, "c1", "b"), Ev(chat::EventKind::kToolCallDelta, "{\"x\":", 0),
              Ev(chat::EventKind::kToolCallDelta, "{\"y\":2}", 1), Ev(chat::EventKind::kToolCallDelta, "1}", 0),
              Ev(chat::EventKind::kToolCallEnd, {}, 1), Ev(chat::EventKind::kToolCallEnd, {}, 0),
              Finish(chat::FinishReason::kToolCalls)});
  auto chunks = SseChunks(body);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(At(chunks[0], "/candidates/0/content/parts/0/functionCall"), R"({"id":"c1","name":"b","args":{"y":2}})");
  EXPECT_EQ(At(chunks[1], "/candidates/0/content/parts/0/functionCall"), R"({"id":"c0","name":"a","args":{"x":1}})");
  EXPECT_EQ(At(chunks[1], "/candidates/0/finishReason"), R"("STOP")");
}

TEST(GeminiStreamEncoder, InvalidArgumentsBecomeEmptyObjectAndStreamGoesOn) {
  auto chunks = SseChunks(Encode(kShapeStreamSse, {Start(), CallStart(0, "c0", "a"),
                                                   Ev(chat::EventKind::kToolCallDelta, "{\"x\":", 0),
                                                   Ev(chat::EventKind::kToolCallEnd, {}, 0),
                                                   Ev(chat::EventKind::kTextDelta, "after"),
                                                   Finish(chat::FinishReason::kLength)}));
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(At(chunks[0], "/candidates/0/content/parts/0/functionCall/args"), "{}");
  EXPECT_EQ(At(chunks[1], "/candidates/0/content/parts/0/text"), R"("after")");
  EXPECT_EQ(At(chunks[1], "/candidates/0/finishReason"), R"("MAX_TOKENS")");
}

TEST(GeminiStreamEncoder, CallsNeverEndedAreWrittenAtFinish) {
  auto chunks = SseChunks(Encode(kShapeStreamSse, {Start(), CallStart(0, "", "a"), Finish(chat::FinishReason::kStop)}));
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(At(chunks[0], "/candidates/0/content/parts/0/functionCall/name"), R"("a")");
  EXPECT_NE(At(chunks[0], "/candidates/0/content/parts/0/functionCall/id"), R"("")");
}

TEST(GeminiStreamEncoder, SignatureLandsOnThePartBeforeIt) {
  auto chunks = SseChunks(Encode(kShapeStreamSse, {Start(), CallStart(0, "c0", "a"),
                                                   Ev(chat::EventKind::kToolCallDelta, "{}", 0),
                                                   Ev(chat::EventKind::kToolCallEnd, {}, 0),
                                                   Ev(chat::EventKind::kReasoningSignature, "SIG"),
                                                   Ev(chat::EventKind::kReasoningDelta, "more"),
                                                   Ev(chat::EventKind::kReasoningSignature, "SIG2"),
                                                   Ev(chat::EventKind::kReasoningSignature, "SIG3"),
                                                   Finish(chat::FinishReason::kToolCalls)}));
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(At(chunks[0], "/candidates/0/content/parts/0/thoughtSignature"), R"("SIG")");
  EXPECT_EQ(At(chunks[0], "/candidates/0/content/parts/0/functionCall/name"), R"("a")");
  EXPECT_EQ(At(chunks[1], "/candidates/0/content/parts/0"), R"({"text":"more","thought":true,"thoughtSignature":"SIG2"})");
  // A second signature with no part of its own: a signature-only thought part.
  EXPECT_EQ(At(chunks[2], "/candidates/0/content/parts/0"), R"({"text":"","thought":true,"thoughtSignature":"SIG3"})");
}

TEST(GeminiStreamEncoder, FinishWithNoContent) {
  auto chunks = SseChunks(Encode(kShapeStreamSse, {Start(), Finish(chat::FinishReason::kContentFilter)}));
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(At(chunks[0], "/candidates/0/content"), "<missing>");
  EXPECT_EQ(At(chunks[0], "/candidates/0/finishReason"), R"("SAFETY")");
}

TEST(GeminiStreamEncoder, UsageFromStartWhenNoLaterUsage) {
  chat::StreamEvent s = Start();
  chat::Usage u;
  u.input_tokens = 12;
  s.usage = u;
  auto chunks = SseChunks(Encode(kShapeStreamSse, {s, Finish(chat::FinishReason::kStop)}));
  EXPECT_EQ(At(chunks[0], "/usageMetadata/promptTokenCount"), "12");
}

TEST(GeminiStreamEncoder, SseErrorChunk) {
  chat::StreamEvent err = Ev(chat::EventKind::kError);
  err.error = MakeError(ErrorCode::kRateLimited, "slow");
  const std::string body =
      Encode(kShapeStreamSse, {Start(), Ev(chat::EventKind::kTextDelta, "partial"), err, Ev(chat::EventKind::kTextDelta, "x")});
  auto chunks = SseChunks(body);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(At(chunks[0], "/candidates/0/content/parts/0/text"), R"("partial")");
  EXPECT_EQ(chunks[1], R"({"error":{"code":429,"message":"slow","status":"RESOURCE_EXHAUSTED"}})");
}

TEST(GeminiStreamEncoder, JsonArrayShape) {
  GeminiFrontDoor fd;
  InternalRequest req;
  req.model = "m";
  req.shape = kShapeStreamJsonArray;
  auto enc = fd.NewStreamEncoder(req, chat::Request{});
  std::string out;
  enc->Encode(Start(), &out);
  EXPECT_EQ(out, "");
  enc->Encode(Ev(chat::EventKind::kTextDelta, "a"), &out);
  EXPECT_EQ(out, "");  // held back one event
  enc->Encode(Ev(chat::EventKind::kTextDelta, "b"), &out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front(), '[');
  enc->Encode(Finish(chat::FinishReason::kStop), &out);
  EXPECT_EQ(out.back(), ']');
  EXPECT_NE(out.find("},\r\n{"), std::string::npos);
  ASSERT_TRUE(ValidJson(out)) << out;
  EXPECT_EQ(At(out, "/0/candidates/0/content/parts/0/text"), R"("a")");
  EXPECT_EQ(At(out, "/1/candidates/0/content/parts/0/text"), R"("b")");
  EXPECT_EQ(At(out, "/1/candidates/0/finishReason"), R"("STOP")");
  std::string after;
  enc->Encode(Ev(chat::EventKind::kTextDelta, "late"), &after);
  EXPECT_EQ(after, "");
}

TEST(GeminiStreamEncoder, JsonArrayErrorFirstAndAfterContent) {
  chat::StreamEvent err = Ev(chat::EventKind::kError);
  err.error = MakeError(ErrorCode::kProviderError, "upstream broke");
  const std::string only = Encode(kShapeStreamJsonArray, {err});
  ASSERT_TRUE(ValidJson(only)) << only;
  EXPECT_EQ(At(only, "/0/error/code"), "502");
  const std::string mixed = Encode(kShapeStreamJsonArray, {Start(), Ev(chat::EventKind::kTextDelta, "x"), err});
  ASSERT_TRUE(ValidJson(mixed)) << mixed;
  EXPECT_EQ(At(mixed, "/1/error/status"), R"("UNAVAILABLE")");
  const std::string empty = Encode(kShapeStreamJsonArray, {Start(), Finish(chat::FinishReason::kStop)});
  ASSERT_TRUE(ValidJson(empty)) << empty;
  EXPECT_EQ(At(empty, "/0/candidates/0/finishReason"), R"("STOP")");
}

TEST(GeminiStreamEncoder, RedactedReasoningAndEmptyDeltasWriteNothing) {
  auto chunks = SseChunks(Encode(kShapeStreamSse, {Start(), Ev(chat::EventKind::kRedactedReasoning, "opaque"),
                                                   Ev(chat::EventKind::kTextDelta, ""),
                                                   Ev(chat::EventKind::kToolCallDelta, "{}", 5),
                                                   Ev(chat::EventKind::kToolCallEnd, {}, 5),
                                                   Finish(chat::FinishReason::kStop)}));
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(At(chunks[0], "/candidates/0/content"), "<missing>");
}

}  // namespace
}  // namespace sy::gemini
