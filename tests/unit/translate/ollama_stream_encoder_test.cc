// The Ollama front door's NDJSON stream encoder.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "frontdoor/ollama/ollama_frontdoor.h"

namespace sy::ollama {
namespace {

constexpr char kStamp[] = "2024-05-01T12:00:00.123456789Z";

InternalRequest Req(int shape) {
  InternalRequest r;
  r.wire = WireProtocol::kOllama;
  r.shape = shape;
  r.model = "llama3";
  r.stream = true;
  return r;
}

chat::StreamEvent Ev(chat::EventKind kind, std::string text = {}, int index = 0) {
  chat::StreamEvent e;
  e.kind = kind;
  e.text = std::move(text);
  e.index = index;
  return e;
}

chat::StreamEvent Start(int index, std::string id, std::string name) {
  chat::StreamEvent e = Ev(chat::EventKind::kToolCallStart, {}, index);
  e.id = std::move(id);
  e.name = std::move(name);
  return e;
}

chat::StreamEvent Finish(chat::FinishReason reason) {
  chat::StreamEvent e = Ev(chat::EventKind::kFinish);
  e.finish = reason;
  return e;
}

chat::StreamEvent UsageEv(int64_t in, int64_t out) {
  chat::StreamEvent e = Ev(chat::EventKind::kUsage);
  chat::Usage u;
  u.input_tokens = in;
  u.output_tokens = out;
  e.usage = u;
  return e;
}

// Encodes `events` and splits the output into lines, checking that each is
// one JSON object terminated by "\n".
std::vector<std::string> Encode(int shape, const std::vector<chat::StreamEvent>& events) {
  OllamaFrontDoor door([] { return int64_t{1714564800123456789}; });
  auto enc = door.NewStreamEncoder(Req(shape), chat::Request{});
  std::string out;
  for (const auto& e : events) enc->Encode(e, &out);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    EXPECT_NE(nl, std::string::npos) << "unterminated line: " << out.substr(start);
    if (nl == std::string::npos) break;
    lines.push_back(out.substr(start, nl - start));
    start = nl + 1;
  }
  simdjson::dom::parser parser;
  for (const auto& l : lines) {
    simdjson::dom::object obj;
    EXPECT_EQ(parser.parse(l).get_object().get(obj), simdjson::SUCCESS) << l;
  }
  return lines;
}

TEST(OllamaStreamEncoderTest, TextReasoningAndFinalLine) {
  auto lines = Encode(kShapeChat, {Ev(chat::EventKind::kStart), Ev(chat::EventKind::kReasoningDelta, "hmm"),
                                   Ev(chat::EventKind::kTextDelta, "Hel"), Ev(chat::EventKind::kTextDelta, ""),
                                   Ev(chat::EventKind::kTextDelta, "lo \"x\"\n"), UsageEv(1, 1), UsageEv(10, 4),
                                   Finish(chat::FinishReason::kStop)});
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], std::string(R"({"model":"llama3","created_at":")") + kStamp +
                          R"(","message":{"role":"assistant","content":"","thinking":"hmm"},"done":false})");
  EXPECT_EQ(lines[1], std::string(R"({"model":"llama3","created_at":")") + kStamp +
                          R"(","message":{"role":"assistant","content":"Hel"},"done":false})");
  EXPECT_NE(lines[2].find(R"("content":"lo \"x\"\n")"), std::string::npos);
  EXPECT_EQ(lines[3], std::string(R"({"model":"llama3","created_at":")") + kStamp +
                          R"(","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop",)"
                          R"("total_duration":0,"load_duration":0,"prompt_eval_count":10,"prompt_eval_duration":0,)"
                          R"("eval_count":4,"eval_duration":0})");
}

TEST(OllamaStreamEncoderTest, DurationsAreWhatTheGatewaySaw) {
  // Each reading of the clock is 1 ms after the one before: the request is
  // read at 1 ms, the first piece seen at 2 ms, the last line written at 4 ms
  // (and its created_at is that reading; the text line's read it at 3 ms).
  int64_t now = 0;
  OllamaFrontDoor door([&now] { return now += 1000000; });
  InternalRequest req = Req(kShapeChat);
  req.received_ns = now += 1000000;
  auto enc = door.NewStreamEncoder(req, chat::Request{});
  std::string out;
  enc->Encode(Ev(chat::EventKind::kStart), &out);
  enc->Encode(Ev(chat::EventKind::kTextDelta, "Hi"), &out);  // first piece at 2 ms, its line at 3 ms
  enc->Encode(UsageEv(3, 1), &out);
  enc->Encode(Finish(chat::FinishReason::kStop), &out);  // end at 4 ms
  EXPECT_NE(out.find(R"("total_duration":3000000,"load_duration":0,"prompt_eval_count":3,)"
                     R"("prompt_eval_duration":1000000,"eval_count":1,"eval_duration":2000000})"),
            std::string::npos)
      << out;
}

TEST(OllamaStreamEncoderTest, ToolCallsBufferedUntilEnd) {
  auto lines = Encode(
      kShapeChat, {Ev(chat::EventKind::kStart), Start(0, "call_a", "get_weather"), Start(1, "call_b", "get_time"),
                   Ev(chat::EventKind::kToolCallDelta, "{\"ci", 0), Ev(chat::EventKind::kToolCallDelta, "{\"tz\":", 1),
                   Ev(chat::EventKind::kToolCallDelta, "ty\": \"Paris\"}", 0), Ev(chat::EventKind::kToolCallEnd, {}, 0),
                   Ev(chat::EventKind::kToolCallDelta, "\"CET\"}", 1), Ev(chat::EventKind::kToolCallEnd, {}, 1),
                   Finish(chat::FinishReason::kToolCalls)});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find(R"("message":{"role":"assistant","content":"","tool_calls":[{"id":"call_a","function":)"
                          R"({"index":0,"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":false})"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(R"("tool_calls":[{"id":"call_b","function":{"index":1,"name":"get_time",)"
                          R"("arguments":{"tz":"CET"}}}])"),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find(R"("done":true,"done_reason":"stop")"), std::string::npos);
  EXPECT_NE(lines[2].find(R"("prompt_eval_count":0)"), std::string::npos);  // no kUsage came
}

TEST(OllamaStreamEncoderTest, EmptyAndTruncatedArgumentsBecomeObjects) {
  auto lines = Encode(kShapeChat, {Start(0, "c1", "noargs"), Ev(chat::EventKind::kToolCallEnd, {}, 0),
                                   Start(1, "c2", "cut"), Ev(chat::EventKind::kToolCallDelta, "{\"a\":\"unfini", 1),
                                   Ev(chat::EventKind::kToolCallEnd, {}, 1), Finish(chat::FinishReason::kLength)});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find(R"("arguments":{})"), std::string::npos);
  EXPECT_NE(lines[1].find(R"("arguments":{})"), std::string::npos);
  EXPECT_NE(lines[2].find(R"("done_reason":"length")"), std::string::npos);
}

TEST(OllamaStreamEncoderTest, FinishFlushesCallsNeverEnded) {
  auto lines = Encode(kShapeChat, {Start(0, "c1", "f"), Ev(chat::EventKind::kToolCallDelta, "{}", 0),
                                   Start(1, "c2", "g"), Finish(chat::FinishReason::kToolCalls)});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(R"("tool_calls":[{"id":"c1")"), std::string::npos);
  EXPECT_NE(lines[0].find(R"({"id":"c2")"), std::string::npos);
  EXPECT_NE(lines[1].find(R"("done":true)"), std::string::npos);
}

TEST(OllamaStreamEncoderTest, ErrorEndsTheStream) {
  chat::StreamEvent err = Ev(chat::EventKind::kError);
  err.error = MakeError(ErrorCode::kProviderError, "upstream \"overloaded\"");
  auto lines = Encode(kShapeChat, {Ev(chat::EventKind::kTextDelta, "partial"), err,
                                   Ev(chat::EventKind::kTextDelta, "x"), Finish(chat::FinishReason::kStop)});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], R"({"error":"upstream \"overloaded\""})");
}

TEST(OllamaStreamEncoderTest, NothingAfterFinish) {
  auto lines = Encode(kShapeChat, {Finish(chat::FinishReason::kStop), Ev(chat::EventKind::kTextDelta, "late"),
                                   Finish(chat::FinishReason::kStop)});
  ASSERT_EQ(lines.size(), 1u);
}

TEST(OllamaStreamEncoderTest, GenerateShape) {
  auto lines =
      Encode(kShapeGenerate,
             {Ev(chat::EventKind::kReasoningDelta, "t"), Ev(chat::EventKind::kTextDelta, "Blue"), Start(0, "c", "f"),
              Ev(chat::EventKind::kToolCallEnd, {}, 0), UsageEv(3, 1), Finish(chat::FinishReason::kLength)});
  ASSERT_EQ(lines.size(), 3u);  // generate has no tools: the call is dropped
  EXPECT_EQ(lines[0], std::string(R"({"model":"llama3","created_at":")") + kStamp +
                          R"(","response":"","thinking":"t","done":false})");
  EXPECT_EQ(lines[1],
            std::string(R"({"model":"llama3","created_at":")") + kStamp + R"(","response":"Blue","done":false})");
  EXPECT_EQ(lines[2], std::string(R"({"model":"llama3","created_at":")") + kStamp +
                          R"(","response":"","done":true,"done_reason":"length","total_duration":0,)"
                          R"("load_duration":0,"prompt_eval_count":3,"prompt_eval_duration":0,"eval_count":1,)"
                          R"("eval_duration":0})");
}

TEST(OllamaStreamEncoderTest, IgnoresSignaturesAndRedactedReasoning) {
  auto lines =
      Encode(kShapeChat, {Ev(chat::EventKind::kReasoningSignature, "sig"),
                          Ev(chat::EventKind::kRedactedReasoning, "opaque"), Finish(chat::FinishReason::kStop)});
  ASSERT_EQ(lines.size(), 1u);
}

}  // namespace
}  // namespace sy::ollama
