// The Gemini codec's stream decoder (streamGenerateContent?alt=sse).
#include <gtest/gtest.h>

#include <cstring>

#include "provider/gemini/gemini_codec.h"

namespace sy::gemini {
namespace {

std::string Sse(const std::vector<std::string>& chunks) {
  std::string out;
  for (const auto& c : chunks) out += "data: " + c + "\r\n\r\n";
  return out;
}

std::vector<chat::StreamEvent> Decode(const std::string& body, size_t piece = 0) {
  GeminiCodec codec;
  auto dec = codec.NewStreamDecoder();
  std::vector<chat::StreamEvent> out;
  if (piece == 0) {
    dec->Feed(body, &out);
  } else {
    for (size_t i = 0; i < body.size(); i += piece) dec->Feed(std::string_view(body).substr(i, piece), &out);
  }
  dec->Finish(&out);
  dec->Finish(&out);  // a second Finish appends nothing
  return out;
}

std::vector<chat::EventKind> Kinds(const std::vector<chat::StreamEvent>& events) {
  std::vector<chat::EventKind> k;
  for (const auto& e : events) k.push_back(e.kind);
  return k;
}

// Events compared field by field (ids synthesized for id-less calls aside).
void ExpectSameEvents(const std::vector<chat::StreamEvent>& a, const std::vector<chat::StreamEvent>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].kind, b[i].kind) << i;
    EXPECT_EQ(a[i].text, b[i].text) << i;
    EXPECT_EQ(a[i].index, b[i].index) << i;
    EXPECT_EQ(a[i].name, b[i].name) << i;
    EXPECT_EQ(a[i].finish, b[i].finish) << i;
    EXPECT_EQ(a[i].usage.has_value(), b[i].usage.has_value()) << i;
    if (a[i].usage && b[i].usage) {
      EXPECT_EQ(a[i].usage->output_tokens, b[i].usage->output_tokens) << i;
    }
  }
}

using K = chat::EventKind;

const std::string kTextStream = Sse({
    R"({"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":1,"totalTokenCount":10},"modelVersion":"gemini-2.5-flash","responseId":"rid"})",
    R"({"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":2,"totalTokenCount":11}})",
    R"({"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":3,"totalTokenCount":12}})",
});

TEST(GeminiStreamDecoder, TextStream) {
  auto ev = Decode(kTextStream);
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kTextDelta, K::kTextDelta, K::kUsage, K::kFinish}));
  EXPECT_EQ(ev[0].id, "rid");
  EXPECT_EQ(ev[0].model, "gemini-2.5-flash");
  ASSERT_TRUE(ev[0].usage);
  EXPECT_EQ(ev[0].usage->input_tokens, 9);  // the prompt size up front
  EXPECT_EQ(ev[1].text, "Hel");
  EXPECT_EQ(ev[2].text, "lo");
  EXPECT_EQ(ev[4].finish, chat::FinishReason::kStop);
}

TEST(GeminiStreamDecoder, CumulativeUsageTakesTheLastNeverTheSum) {
  auto ev = Decode(kTextStream);
  ASSERT_EQ(ev[3].kind, K::kUsage);
  EXPECT_EQ(ev[3].usage->input_tokens, 9);
  EXPECT_EQ(ev[3].usage->output_tokens, 3);
}

TEST(GeminiStreamDecoder, ByteAtATimeGivesTheSameEvents) {
  auto whole = Decode(kTextStream);
  for (size_t piece : {1u, 2u, 7u, 64u}) ExpectSameEvents(whole, Decode(kTextStream, piece));
}

TEST(GeminiStreamDecoder, FunctionCallChunkThenEmptyStopChunkIsToolCalls) {
  const std::string body = Sse({
      R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"SIG"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"thoughtsTokenCount":30}})",
      R"({"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"thoughtsTokenCount":30}})",
  });
  auto ev = Decode(body);
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kToolCallStart, K::kToolCallDelta, K::kToolCallEnd,
                                       K::kReasoningSignature, K::kUsage, K::kFinish}));
  EXPECT_EQ(ev[1].name, "get_weather");
  EXPECT_FALSE(ev[1].id.empty());
  EXPECT_NE(ev[1].id, "get_weather");
  EXPECT_EQ(ev[2].text, R"({"city":"Paris"})");
  EXPECT_EQ(ev[4].text, "SIG");
  EXPECT_EQ(ev[5].usage->output_tokens, 35);
  EXPECT_EQ(ev[5].usage->reasoning_tokens, 30);
  EXPECT_EQ(ev[6].finish, chat::FinishReason::kToolCalls);
}

TEST(GeminiStreamDecoder, ParallelSameNameCallsWithoutIdsGetDistinctIdsAndIndexes) {
  const std::string body = Sse({
      R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"n":1}}},{"functionCall":{"name":"f","args":{"n":2}}}]}}]})",
      R"({"candidates":[{"content":{"parts":[{"functionCall":{"id":"given","name":"g","args":{}}}]},"finishReason":"STOP"}]})",
  });
  auto ev = Decode(body);
  std::vector<const chat::StreamEvent*> starts;
  for (const auto& e : ev) {
    if (e.kind == K::kToolCallStart) starts.push_back(&e);
  }
  ASSERT_EQ(starts.size(), 3u);
  EXPECT_NE(starts[0]->id, starts[1]->id);
  EXPECT_EQ(starts[2]->id, "given");
  EXPECT_EQ(starts[0]->index, 0);
  EXPECT_EQ(starts[1]->index, 1);
  EXPECT_EQ(starts[2]->index, 2);
  EXPECT_EQ(ev.back().finish, chat::FinishReason::kToolCalls);
}

TEST(GeminiStreamDecoder, ThoughtsAndSignatureOnlyParts) {
  const std::string body = Sse({
      R"({"candidates":[{"content":{"parts":[{"text":"hmm","thought":true}]}}]})",
      R"({"candidates":[{"content":{"parts":[{"text":"Answer"}]}}]})",
      R"({"candidates":[{"content":{"parts":[{"text":"","thoughtSignature":"TS"}]},"finishReason":"STOP"}]})",
  });
  auto ev = Decode(body);
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kReasoningDelta, K::kTextDelta, K::kReasoningSignature, K::kFinish}));
  EXPECT_EQ(ev[1].text, "hmm");
  EXPECT_EQ(ev[3].text, "TS");
  EXPECT_EQ(ev[4].finish, chat::FinishReason::kStop);
}

TEST(GeminiStreamDecoder, FinishReasonThenUsageOnlyChunk) {
  const std::string body = Sse({
      R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"MAX_TOKENS"}]})",
      R"({"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":8}})",
  });
  auto ev = Decode(body);
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kTextDelta, K::kUsage, K::kFinish}));
  EXPECT_EQ(ev[2].usage->output_tokens, 8);
  EXPECT_EQ(ev[3].finish, chat::FinishReason::kLength);
}

TEST(GeminiStreamDecoder, SafetyWithNoContentAndBlockedPrompt) {
  auto ev = Decode(Sse({R"({"candidates":[{"finishReason":"SAFETY","index":0}]})"}));
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kFinish}));
  EXPECT_EQ(ev[1].finish, chat::FinishReason::kContentFilter);
  ev = Decode(Sse({R"({"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":3}})"}));
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kUsage, K::kFinish}));
  EXPECT_EQ(ev[2].finish, chat::FinishReason::kContentFilter);
}

TEST(GeminiStreamDecoder, ErrorFinishReasons) {
  auto ev = Decode(Sse({R"({"candidates":[{"finishReason":"MALFORMED_FUNCTION_CALL"}]})"}));
  EXPECT_EQ(ev.back().kind, K::kFinish);
  EXPECT_EQ(ev.back().finish, chat::FinishReason::kError);
}

TEST(GeminiStreamDecoder, ErrorChunk) {
  auto ev = Decode(Sse({R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}]})",
                        R"({"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}})",
                        R"({"candidates":[{"content":{"parts":[{"text":"ignored"}]},"finishReason":"STOP"}]})"}));
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kTextDelta, K::kError}));
  EXPECT_EQ(ev[2].error->code, ErrorCode::kRateLimited);
  ev = Decode(Sse({R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})"}));
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kError}));
  EXPECT_EQ(ev[0].error->code, ErrorCode::kNoProvider);
  ev = Decode(Sse({R"({"error":{"code":500,"message":"x","status":"INTERNAL"}})"}));
  EXPECT_EQ(ev[0].error->code, ErrorCode::kProviderError);
}

TEST(GeminiStreamDecoder, MalformedChunkIsOneProviderError) {
  auto ev = Decode(Sse({R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}]})", R"({"candidates":[)",
                        R"({"candidates":[{"finishReason":"STOP"}]})"}));
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kTextDelta, K::kError}));
  EXPECT_EQ(ev[2].error->code, ErrorCode::kProviderError);
  ev = Decode("data: [1,2]\n\n");
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kError}));
}

TEST(GeminiStreamDecoder, EndedEarly) {
  auto ev = Decode(Sse({R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}]})"}));
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kTextDelta, K::kError}));
  EXPECT_EQ(ev[2].error->code, ErrorCode::kProviderError);
  ev = Decode("");
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kError}));
  // A JSON-array body (alt=sse ignored) has no SSE events: ended early too.
  ev = Decode(R"([{"candidates":[{"finishReason":"STOP"}]}])");
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kError}));
}

TEST(GeminiStreamDecoder, LastEventWithoutBlankLineStillCounts) {
  for (const char* tail : {"", "\r", "\n", "\r\n"}) {
    auto ev = Decode(std::string(R"(data: {"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"STOP"}]})") + tail);
    EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kTextDelta, K::kFinish})) << "tail size " << strlen(tail);
  }
}

TEST(GeminiStreamDecoder, IgnoresCommentsDoneAndBlankData) {
  auto ev = Decode(": keepalive\n\ndata: [DONE]\n\ndata:\n\n" + kTextStream);
  EXPECT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kTextDelta, K::kTextDelta, K::kUsage, K::kFinish}));
}

TEST(GeminiStreamDecoder, HugeArgumentsAcrossManyPieces) {
  std::string big(100000, 'z');
  const std::string body = Sse({R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"w","args":{"s":")" + big +
                                R"("}}}]},"finishReason":"STOP"}]})"});
  auto ev = Decode(body, 333);
  ASSERT_EQ(Kinds(ev), (std::vector<K>{K::kStart, K::kToolCallStart, K::kToolCallDelta, K::kToolCallEnd, K::kFinish}));
  EXPECT_EQ(ev[2].text.size(), big.size() + 8);
}

}  // namespace
}  // namespace sy::gemini
