// The Anthropic stream encoder: internal events into a stream a strict
// client (Claude Code) accepts. Every output goes through Replay, which
// fails on any block-protocol violation.
#include <gtest/gtest.h>

#include "core/ids.h"
#include "translate/anthropic_test_util.h"
#include "frontdoor/anthropic/anthropic_frontdoor.h"

namespace sy::anthropic {
namespace {

using testing::Replay;
using testing::Replayed;

chat::StreamEvent Ev(chat::EventKind kind, std::string text = {}, int index = 0) {
  chat::StreamEvent e;
  e.kind = kind;
  e.text = std::move(text);
  e.index = index;
  return e;
}
chat::StreamEvent Start(std::optional<chat::Usage> usage = std::nullopt) {
  chat::StreamEvent e = Ev(chat::EventKind::kStart);
  e.id = "chatcmpl-9";
  e.model = "upstream-model";
  e.usage = usage;
  return e;
}
chat::StreamEvent Text(std::string t) { return Ev(chat::EventKind::kTextDelta, std::move(t)); }
chat::StreamEvent Reason(std::string t) { return Ev(chat::EventKind::kReasoningDelta, std::move(t)); }
chat::StreamEvent Sig(std::string t) { return Ev(chat::EventKind::kReasoningSignature, std::move(t)); }
chat::StreamEvent Redacted(std::string t) { return Ev(chat::EventKind::kRedactedReasoning, std::move(t)); }
chat::StreamEvent CallStart(int i, std::string id, std::string name) {
  chat::StreamEvent e = Ev(chat::EventKind::kToolCallStart, {}, i);
  e.id = std::move(id);
  e.name = std::move(name);
  return e;
}
chat::StreamEvent CallDelta(int i, std::string t) { return Ev(chat::EventKind::kToolCallDelta, std::move(t), i); }
chat::StreamEvent CallEnd(int i) { return Ev(chat::EventKind::kToolCallEnd, {}, i); }
chat::StreamEvent UsageEv(chat::Usage u) {
  chat::StreamEvent e = Ev(chat::EventKind::kUsage);
  e.usage = u;
  return e;
}
chat::StreamEvent Finish(chat::FinishReason f = chat::FinishReason::kStop, std::string seq = {}) {
  chat::StreamEvent e = Ev(chat::EventKind::kFinish);
  e.finish = f;
  e.stop_sequence = std::move(seq);
  return e;
}
chat::StreamEvent Error(ErrorCode code, std::string message) {
  chat::StreamEvent e = Ev(chat::EventKind::kError);
  e.error = MakeError(code, std::move(message));
  return e;
}

std::string Encode(const std::vector<chat::StreamEvent>& events, int64_t estimate = 11) {
  auto enc = NewStreamEncoder("client-model", estimate);
  std::string out;
  for (const auto& e : events) enc->Encode(e, &out);
  return out;
}

TEST(AnthropicStreamEncoder, PlainText) {
  std::string sse = Encode({Start(), Text("Hel"), Text(""), Text("lo"), UsageEv({12, 0, 0, 3, 0}), Finish()});
  Replayed r = Replay(sse);
  EXPECT_EQ(r.names, (std::vector<std::string>{"message_start", "ping", "content_block_start", "content_block_delta",
                                               "content_block_delta", "content_block_stop", "message_delta",
                                               "message_stop"}));
  EXPECT_EQ(r.id, "msg_chatcmpl-9");
  EXPECT_EQ(r.model, "client-model");
  EXPECT_EQ(r.start_input_tokens, 11);  // the estimate: no input count up front
  ASSERT_EQ(r.blocks.size(), 1u);
  EXPECT_EQ(r.blocks[0].type, "text");
  EXPECT_EQ(r.blocks[0].text, "Hello");
  EXPECT_EQ(r.stop_reason, "end_turn");
  EXPECT_EQ(r.input_tokens, 12);
  EXPECT_EQ(r.output_tokens, 3);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(sse.substr(0, 21), "event: message_start\n");
}

TEST(AnthropicStreamEncoder, NonZeroInputTokensInMessageStart) {
  // Upstreams that report input up front (Anthropic, some OpenAI servers).
  Replayed r = Replay(Encode({Start(chat::Usage{500, 100, 50, 0, 0}), Text("x"), Finish()}));
  EXPECT_EQ(r.start_input_tokens, 350);
  // No kUsage: message_delta repeats what message_start said.
  EXPECT_EQ(r.input_tokens, 350);
  EXPECT_EQ(r.cache_read, 100);
  EXPECT_EQ(r.cache_creation, 50);
  EXPECT_EQ(r.output_tokens, 0);
}

TEST(AnthropicStreamEncoder, UsageWithoutInputKeepsStartInput) {
  Replayed r = Replay(Encode({Start(), Text("x"), UsageEv({0, 0, 0, 9, 0}), Finish()}, 77));
  EXPECT_EQ(r.start_input_tokens, 77);
  EXPECT_EQ(r.input_tokens, 77);
  EXPECT_EQ(r.output_tokens, 9);
}

TEST(AnthropicStreamEncoder, InterleavedParallelToolCalls) {
  std::string sse = Encode({Start(), Text("Let me check."), CallStart(0, "call_a", "get_weather"),
                            CallStart(1, "call_b", "get_time"), CallDelta(0, "{\"city\":"), CallDelta(1, "{\"tz\":"),
                            CallDelta(0, "\"Paris\"}"), CallDelta(1, "\"CET\"}"), CallEnd(0), CallEnd(1),
                            UsageEv({20, 0, 0, 15, 0}), Finish(chat::FinishReason::kToolCalls)});
  Replayed r = Replay(sse);
  ASSERT_EQ(r.blocks.size(), 3u);
  EXPECT_EQ(r.blocks[0].text, "Let me check.");
  EXPECT_EQ(r.blocks[1].type, "tool_use");
  EXPECT_EQ(r.blocks[1].id, "call_a");
  EXPECT_EQ(r.blocks[1].name, "get_weather");
  EXPECT_EQ(r.blocks[1].text, "{\"city\":\"Paris\"}");
  EXPECT_EQ(r.blocks[2].id, "call_b");
  EXPECT_EQ(r.blocks[2].text, "{\"tz\":\"CET\"}");
  EXPECT_EQ(r.stop_reason, "tool_use");
}

TEST(AnthropicStreamEncoder, SecondCallEndsFirstIsWrittenWhole) {
  Replayed r = Replay(Encode({Start(), CallStart(0, "a", "f"), CallStart(1, "b", "g"), CallDelta(1, "{\"y\":2}"),
                              CallEnd(1), CallDelta(0, "{\"x\":"), CallDelta(0, "1}"), CallEnd(0), Finish()}));
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[0].id, "a");
  EXPECT_EQ(r.blocks[0].text, "{\"x\":1}");
  EXPECT_EQ(r.blocks[1].id, "b");
  EXPECT_EQ(r.blocks[1].text, "{\"y\":2}");
  EXPECT_EQ(r.stop_reason, "tool_use");  // kStop with calls
}

TEST(AnthropicStreamEncoder, ReasoningFirstThenToolCall) {
  Replayed r = Replay(Encode({Start(), Reason("I should "), Reason("call it."), Sig("c2ln"),
                              CallStart(0, "functions.Bash:0", "Bash"), CallDelta(0, "{\"cmd\":\"ls\"}"), CallEnd(0),
                              Finish(chat::FinishReason::kToolCalls)}));
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[0].type, "thinking");
  EXPECT_EQ(r.blocks[0].text, "I should call it.");
  EXPECT_EQ(r.blocks[0].signature, "c2ln");
  EXPECT_EQ(r.blocks[1].type, "tool_use");
  EXPECT_EQ(r.blocks[1].id, chat::SafeToolId("functions.Bash:0", "toolu_"));  // a foreign id made valid
  EXPECT_EQ(r.blocks[1].text, "{\"cmd\":\"ls\"}");
}

TEST(AnthropicStreamEncoder, ReasoningAndTextInTurnsKeepFirstDeltas) {
  Replayed r = Replay(Encode({Start(), Reason("a"), Text("b"), Text("c"), Reason("d"), Text("e"), Finish()}));
  ASSERT_EQ(r.blocks.size(), 4u);
  EXPECT_EQ(r.blocks[0].type, "thinking");
  EXPECT_EQ(r.blocks[0].text, "a");
  EXPECT_EQ(r.blocks[1].type, "text");
  EXPECT_EQ(r.blocks[1].text, "bc");
  EXPECT_EQ(r.blocks[2].text, "d");
  EXPECT_EQ(r.blocks[3].text, "e");
}

TEST(AnthropicStreamEncoder, SignatureOnlyAndRedactedThinking) {
  Replayed r = Replay(Encode({Start(), Sig("only-sig"), Redacted("opaque=="), Text("answer"), Finish()}));
  ASSERT_EQ(r.blocks.size(), 3u);
  EXPECT_EQ(r.blocks[0].type, "thinking");
  EXPECT_EQ(r.blocks[0].text, "");
  EXPECT_EQ(r.blocks[0].signature, "only-sig");
  EXPECT_EQ(r.blocks[1].type, "redacted_thinking");
  EXPECT_EQ(r.blocks[1].data, "opaque==");
  EXPECT_EQ(r.blocks[2].text, "answer");
}

TEST(AnthropicStreamEncoder, ThinkingAfterSignatureIsANewBlock) {
  Replayed r = Replay(Encode({Start(), Reason("one"), Sig("s1"), Reason("two"), Sig("s2"), Finish()}));
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[0].signature, "s1");
  EXPECT_EQ(r.blocks[1].text, "two");
  EXPECT_EQ(r.blocks[1].signature, "s2");
}

TEST(AnthropicStreamEncoder, TextWhileACallIsOpenWaitsForIt) {
  Replayed r = Replay(Encode({Start(), CallStart(0, "a", "f"), Text("meanwhile"), CallDelta(0, "{}"), CallEnd(0),
                              Text(" more"), Finish()}));
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[0].type, "tool_use");
  EXPECT_EQ(r.blocks[0].text, "{}");
  EXPECT_EQ(r.blocks[1].text, "meanwhile more");
}

TEST(AnthropicStreamEncoder, FinishFlushesUnendedCalls) {
  Replayed r = Replay(Encode({Start(), CallStart(0, "a", "f"), CallStart(1, "b", "g"), CallDelta(1, "{\"q\":1}"),
                              CallDelta(0, "{\"p\":"), Finish(chat::FinishReason::kLength)}));
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[0].text, "{\"p\":");  // truncated arguments are not repaired
  EXPECT_EQ(r.blocks[1].text, "{\"q\":1}");
  EXPECT_EQ(r.stop_reason, "max_tokens");  // a truncated call stays max_tokens
}

TEST(AnthropicStreamEncoder, EmptyArgumentToolAndUnknownIndices) {
  Replayed r = Replay(Encode({Start(), CallDelta(5, "{\"orphan\":1}"), CallEnd(5), CallStart(0, "", "noargs"),
                              CallEnd(0), CallDelta(0, "late"), CallStart(0, "dup", "dup"), Finish()}));
  ASSERT_EQ(r.blocks.size(), 1u);
  EXPECT_EQ(r.blocks[0].name, "noargs");
  EXPECT_EQ(r.blocks[0].text, "");  // input stays {}
  EXPECT_EQ(r.blocks[0].id.substr(0, 6), "toolu_");
}

TEST(AnthropicStreamEncoder, StopSequenceAndOtherReasons) {
  Replayed r = Replay(Encode({Start(), Text("x"), Finish(chat::FinishReason::kStopSequence, "END")}));
  EXPECT_EQ(r.stop_reason, "stop_sequence");
  EXPECT_EQ(r.stop_sequence, "END");
  EXPECT_EQ(Replay(Encode({Start(), Finish(chat::FinishReason::kPause)})).stop_reason, "pause_turn");
  EXPECT_EQ(Replay(Encode({Start(), Finish(chat::FinishReason::kContentFilter)})).stop_reason, "refusal");
  EXPECT_EQ(Replay(Encode({Start(), Finish(chat::FinishReason::kContextFull)})).stop_reason,
            "model_context_window_exceeded");
  EXPECT_EQ(Replay(Encode({Start(), Finish(chat::FinishReason::kNone)})).stop_reason, "end_turn");
}

TEST(AnthropicStreamEncoder, MidStreamErrorEndsTheStream) {
  std::string sse = Encode({Start(), Text("partial"), CallStart(0, "a", "f"),
                            Error(ErrorCode::kNoProvider, "Overloaded"), Text("ignored"), Finish()});
  Replayed r = Replay(sse);
  EXPECT_EQ(r.names.back(), "error");
  EXPECT_EQ(r.error_type, "overloaded_error");
  EXPECT_EQ(r.error_message, "Overloaded");
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(sse.find("ignored"), std::string::npos);
}

TEST(AnthropicStreamEncoder, ErrorBeforeAnything) {
  Replayed r = Replay(Encode({Error(ErrorCode::kRateLimited, "slow")}));
  EXPECT_EQ(r.names, (std::vector<std::string>{"error"}));
  EXPECT_EQ(r.error_type, "rate_limit_error");
}

TEST(AnthropicStreamEncoder, MissingStartIsSynthesized) {
  Replayed r = Replay(Encode({Text("hi"), Finish()}));
  EXPECT_EQ(r.names.front(), "message_start");
  EXPECT_EQ(r.id.substr(0, 4), "msg_");
  EXPECT_EQ(r.blocks.size(), 1u);
}

TEST(AnthropicStreamEncoder, HugeArgumentsAndEscapes) {
  std::string big = "{\"data\":\"" + std::string(1 << 20, 'x') + "\\n\\\"q\\\"\"}";
  Replayed r = Replay(Encode({Start(), CallStart(0, "a", "f"), CallStart(1, "b", "g"), CallDelta(1, big),
                              CallDelta(0, "{}"), CallEnd(0), CallEnd(1), Finish()}));
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[1].text, big);
}

TEST(AnthropicStreamEncoder, TextWithNewlinesSurvivesSse) {
  Replayed r = Replay(Encode({Start(), Text("line1\nline2\r\n\n"), Finish()}));
  ASSERT_EQ(r.blocks.size(), 1u);
  EXPECT_EQ(r.blocks[0].text, "line1\nline2\r\n\n");
}

TEST(AnthropicStreamEncoder, FrontDoorEncoderUsesEstimate) {
  AnthropicFrontDoor door;
  InternalRequest req;
  req.model = "alias";
  chat::Request chat;
  chat::Message m;
  chat::Part p;
  p.text = std::string(400, 'a');
  m.parts.push_back(p);
  chat.messages.push_back(m);
  auto enc = door.NewStreamEncoder(req, chat);
  std::string out;
  enc->Encode(Start(), &out);
  enc->Encode(Finish(), &out);
  Replayed r = Replay(out);
  EXPECT_EQ(r.start_input_tokens, chat::EstimateTokens(chat));
  EXPECT_GT(r.start_input_tokens, 0);
  EXPECT_EQ(r.model, "alias");
}

}  // namespace
}  // namespace sy::anthropic
