// The Anthropic stream decoder, fed whole, in every split and a byte at a
// time; and the round trip Anthropic upstream → internal → Anthropic client.
#include <gtest/gtest.h>

#include "frontdoor/anthropic/anthropic_frontdoor.h"
#include "provider/anthropic/anthropic_codec.h"
#include "sse/sse_parser.h"
#include "translate/anthropic_test_util.h"

namespace sy::anthropic {
namespace {

using chat::EventKind;

std::string Sse(std::string_view name, std::string_view data) { return sse::FormatEvent(data, name); }

// A realistic stream: thinking with a signature, text, two tool calls (one
// with no input deltas), cache usage.
std::string RealisticStream() {
  std::string s;
  s += Sse("message_start", R"({"type":"message_start","message":{"id":"msg_01X","type":"message","role":"assistant","model":"claude-sonnet-4","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":10,"cache_read_input_tokens":2000,"output_tokens":1}}})");
  s += Sse("ping", R"({"type": "ping"})");
  s += Sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})");
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think"}})");
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" about it."}})");
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}})");
  s += Sse("content_block_stop", R"({"type":"content_block_stop","index":0})");
  s += Sse("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})");
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking \u00e9\n"}})");
  s += Sse("content_block_stop", R"({"type":"content_block_stop","index":1})");
  s += Sse("content_block_start", R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{}}})");
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}})");
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"Par"}})");
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"is\"}"}})");
  s += Sse("content_block_stop", R"({"type":"content_block_stop","index":2})");
  s += Sse("content_block_start", R"({"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_01B","name":"get_time","input":{}}})");
  s += Sse("content_block_stop", R"({"type":"content_block_stop","index":3})");
  s += Sse("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}})");
  s += Sse("message_stop", R"({"type":"message_stop"})");
  return s;
}

std::vector<chat::StreamEvent> DecodeSplit(std::string_view body, size_t piece) {
  auto dec = NewStreamDecoder();
  std::vector<chat::StreamEvent> out;
  for (size_t i = 0; i < body.size(); i += piece) dec->Feed(body.substr(i, piece), &out);
  dec->Finish(&out);
  return out;
}

std::vector<chat::StreamEvent> Decode(std::string_view body) { return DecodeSplit(body, body.size() + 1); }

std::string Describe(const std::vector<chat::StreamEvent>& events) {
  std::string s;
  for (const auto& e : events) {
    s += std::to_string(static_cast<int>(e.kind)) + "|" + e.text + "|" + std::to_string(e.index) + "|" + e.id + "|" +
         e.name + "|" + e.model + "|" + chat::FinishReasonName(e.finish) + "|" + e.stop_sequence + "|";
    if (e.usage) {
      s += std::to_string(e.usage->input_tokens) + "," + std::to_string(e.usage->cached_input_tokens) + "," +
           std::to_string(e.usage->cache_write_tokens) + "," + std::to_string(e.usage->output_tokens);
    }
    if (e.error) s += "E" + std::to_string(static_cast<int>(e.error->code)) + e.error->message;
    s += "\n";
  }
  return s;
}

TEST(AnthropicStreamDecoder, RealisticStream) {
  auto ev = Decode(RealisticStream());
  ASSERT_EQ(ev.size(), 14u) << Describe(ev);
  EXPECT_EQ(ev[0].kind, EventKind::kStart);
  EXPECT_EQ(ev[0].id, "msg_01X");
  EXPECT_EQ(ev[0].model, "claude-sonnet-4");
  ASSERT_TRUE(ev[0].usage.has_value());
  EXPECT_EQ(ev[0].usage->input_tokens, 2035);
  EXPECT_EQ(ev[0].usage->cached_input_tokens, 2000);
  EXPECT_EQ(ev[0].usage->cache_write_tokens, 10);
  EXPECT_EQ(ev[1].kind, EventKind::kReasoningDelta);
  EXPECT_EQ(ev[1].text, "Let me think");
  EXPECT_EQ(ev[3].kind, EventKind::kReasoningSignature);
  EXPECT_EQ(ev[3].text, "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds");
  EXPECT_EQ(ev[4].kind, EventKind::kTextDelta);
  EXPECT_EQ(ev[4].text, "Checking \xc3\xa9\n");
  EXPECT_EQ(ev[5].kind, EventKind::kToolCallStart);
  EXPECT_EQ(ev[5].index, 0);
  EXPECT_EQ(ev[5].id, "toolu_01A");
  EXPECT_EQ(ev[5].name, "get_weather");
  EXPECT_EQ(ev[6].kind, EventKind::kToolCallDelta);  // the "" first fragment is skipped
  EXPECT_EQ(ev[6].text, "{\"location\": \"Par");
  EXPECT_EQ(ev[7].text, "is\"}");
  EXPECT_EQ(ev[8].kind, EventKind::kToolCallEnd);
  EXPECT_EQ(ev[9].kind, EventKind::kToolCallStart);
  EXPECT_EQ(ev[9].index, 1);
  EXPECT_EQ(ev[10].kind, EventKind::kToolCallDelta);  // no input deltas: "{}"
  EXPECT_EQ(ev[10].text, "{}");
  EXPECT_EQ(ev[10].index, 1);
  EXPECT_EQ(ev[11].kind, EventKind::kToolCallEnd);
  EXPECT_EQ(ev[12].kind, EventKind::kUsage);
  EXPECT_EQ(ev[12].usage->input_tokens, 2035);  // merged with message_start
  EXPECT_EQ(ev[12].usage->output_tokens, 89);
  EXPECT_EQ(ev[13].kind, EventKind::kFinish);
  EXPECT_EQ(ev[13].finish, chat::FinishReason::kToolCalls);
}

TEST(AnthropicStreamDecoder, SameEventsWhateverTheSplit) {
  const std::string body = RealisticStream();
  const std::string whole = Describe(Decode(body));
  EXPECT_EQ(Describe(DecodeSplit(body, 1)), whole);  // a byte at a time
  for (size_t piece : {2u, 3u, 7u, 64u, 1000u}) EXPECT_EQ(Describe(DecodeSplit(body, piece)), whole) << piece;
  // CRLF line ends.
  std::string crlf;
  for (char c : body) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  EXPECT_EQ(Describe(DecodeSplit(crlf, 1)), whole);
}

TEST(AnthropicStreamDecoder, MidStreamOverloadedError) {
  std::string s = RealisticStream().substr(0, RealisticStream().find("event: content_block_start"));
  s += Sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})");
  s += Sse("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  s += Sse("message_stop", R"({"type":"message_stop"})");  // ignored after the error
  for (size_t piece : {1u, 4096u}) {
    auto ev = DecodeSplit(s, piece);
    ASSERT_EQ(ev.size(), 3u) << Describe(ev);
    EXPECT_EQ(ev[2].kind, EventKind::kError);
    EXPECT_EQ(ev[2].error->code, ErrorCode::kNoProvider);
    EXPECT_EQ(ev[2].error->message, "Overloaded");
  }
  auto rate = Decode(Sse("error", R"({"type":"error","error":{"type":"rate_limit_error","message":"r"}})"));
  ASSERT_EQ(rate.size(), 1u);
  EXPECT_EQ(rate[0].error->code, ErrorCode::kRateLimited);
  auto api = Decode(Sse("error", R"({"type":"error","error":{"type":"api_error","message":"boom"}})"));
  EXPECT_EQ(api[0].error->code, ErrorCode::kProviderError);
}

TEST(AnthropicStreamDecoder, EndedEarly) {
  std::string s = RealisticStream();
  s = s.substr(0, s.find("event: message_delta"));
  auto ev = Decode(s);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().kind, EventKind::kError);
  EXPECT_EQ(ev.back().error->code, ErrorCode::kProviderError);
  EXPECT_NE(ev.back().error->message.find("ended early"), std::string::npos);
  EXPECT_EQ(Decode("").back().kind, EventKind::kError);
}

TEST(AnthropicStreamDecoder, LastEventWithoutBlankLine) {
  std::string s = RealisticStream();
  s.pop_back();  // "...message_stop"}\n" with no blank line after it
  auto ev = Decode(s);
  EXPECT_EQ(ev.back().kind, EventKind::kFinish);
}

TEST(AnthropicStreamDecoder, MalformedData) {
  auto ev = Decode(Sse("message_start", "{not json"));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kError);
  EXPECT_EQ(ev[0].error->code, ErrorCode::kProviderError);
  auto no_index = Decode(Sse("content_block_delta", R"({"type":"content_block_delta","delta":{}})"));
  EXPECT_EQ(no_index.back().kind, EventKind::kError);
}

TEST(AnthropicStreamDecoder, UnknownEventsAndBlocksAreIgnored) {
  std::string s;
  s += Sse("message_start", R"({"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":3}}})");
  s += Sse("future_event", R"({"type":"future_event"})");
  s += Sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"s","name":"web_search","input":{}}})");
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"q\":1}"}})");
  s += Sse("content_block_stop", R"({"type":"content_block_stop","index":0})");
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":9,"delta":{"type":"text_delta","text":"orphan"}})");
  s += Sse("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"RED"}})");
  s += Sse("content_block_stop", R"({"type":"content_block_stop","index":1})");
  s += Sse("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":4}})");
  s += Sse("message_stop", R"({"type":"message_stop"})");
  auto ev = Decode(s);
  ASSERT_EQ(ev.size(), 4u) << Describe(ev);
  EXPECT_EQ(ev[1].kind, EventKind::kRedactedReasoning);
  EXPECT_EQ(ev[1].text, "RED");
  EXPECT_EQ(ev[2].usage->input_tokens, 3);
  EXPECT_EQ(ev[3].finish, chat::FinishReason::kStop);
}

TEST(AnthropicStreamDecoder, StopSequenceAndUnclosedCall) {
  std::string s;
  s += Sse("message_start", R"({"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":3,"output_tokens":1}}})");
  s += Sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"pre":"set"}}})");
  s += Sse("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"input_tokens":4,"output_tokens":7}})");
  s += Sse("message_stop", R"({"type":"message_stop"})");
  auto ev = Decode(s);
  ASSERT_EQ(ev.size(), 6u) << Describe(ev);
  EXPECT_EQ(ev[2].usage->input_tokens, 4);  // message_delta may restate input
  EXPECT_EQ(ev[3].kind, EventKind::kToolCallDelta);
  EXPECT_EQ(ev[3].text, R"({"pre":"set"})");  // input given whole in content_block_start
  EXPECT_EQ(ev[4].kind, EventKind::kToolCallEnd);
  EXPECT_EQ(ev[5].finish, chat::FinishReason::kLength);

  std::string seq;
  seq += Sse("message_start", R"({"type":"message_start","message":{"id":"m"}})");
  seq += Sse("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"###"}})");
  seq += Sse("message_stop", R"({"type":"message_stop"})");
  auto sev = Decode(seq);
  ASSERT_EQ(sev.size(), 3u) << Describe(sev);  // start, usage, finish
  EXPECT_EQ(sev[1].kind, EventKind::kUsage);
  EXPECT_EQ(sev[2].finish, chat::FinishReason::kStopSequence);
  EXPECT_EQ(sev[2].stop_sequence, "###");
}

TEST(AnthropicStreamDecoder, HugeArgumentsAcrossManyDeltas) {
  std::string s;
  s += Sse("message_start", R"({"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":1}}})");
  s += Sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"w","input":{}}})");
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    // On the wire the fragment is JSON-escaped; decoded it is the raw text.
    std::string wire = i == 0 ? R"({\"k\":\")" : std::string(200, static_cast<char>('a' + i % 26));
    s += Sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":")" + wire + R"("}})");
    expected += i == 0 ? "{\"k\":\"" : wire;
  }
  s += Sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"}"}})");
  expected += "\"}";
  s += Sse("content_block_stop", R"({"type":"content_block_stop","index":0})");
  s += Sse("message_stop", R"({"type":"message_stop"})");
  std::string got;
  for (const auto& e : DecodeSplit(s, 4093)) {
    if (e.kind == EventKind::kToolCallDelta) got += e.text;
  }
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(DecodeSplit(s, 4093).back().finish, chat::FinishReason::kToolCalls);  // no stop_reason, but a call
}

// Anthropic upstream → internal → Anthropic client: the client sees the same
// blocks, signatures byte-exact, and the real input count in message_start.
TEST(AnthropicRoundTrip, StreamThroughDecoderAndEncoder) {
  auto ev = DecodeSplit(RealisticStream(), 1);
  auto enc = NewStreamEncoder("alias", 1);
  std::string out;
  for (const auto& e : ev) enc->Encode(e, &out);
  testing::Replayed r = testing::Replay(out);
  EXPECT_EQ(r.id, "msg_01X");
  EXPECT_EQ(r.start_input_tokens, 25);
  ASSERT_EQ(r.blocks.size(), 4u);
  EXPECT_EQ(r.blocks[0].type, "thinking");
  EXPECT_EQ(r.blocks[0].text, "Let me think about it.");
  EXPECT_EQ(r.blocks[0].signature, "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds");
  EXPECT_EQ(r.blocks[1].text, "Checking \xc3\xa9\n");
  EXPECT_EQ(r.blocks[2].id, "toolu_01A");
  EXPECT_EQ(r.blocks[2].text, "{\"location\": \"Paris\"}");
  EXPECT_EQ(r.blocks[3].id, "toolu_01B");
  EXPECT_EQ(r.blocks[3].text, "{}");
  EXPECT_EQ(r.stop_reason, "tool_use");
  EXPECT_EQ(r.input_tokens, 25);
  EXPECT_EQ(r.cache_read, 2000);
  EXPECT_EQ(r.cache_creation, 10);
  EXPECT_EQ(r.output_tokens, 89);
}

// Client request → internal → upstream request keeps signature-only and
// redacted thinking byte-exact, and tool results before user text.
TEST(AnthropicRoundTrip, RequestThroughFrontDoorAndCodec) {
  const std::string body = R"({"model":"a","max_tokens":50,"system":[{"type":"text","text":"x-anthropic-billing-header: cch=1"},{"type":"text","text":"S"}],"messages":[
    {"role":"user","content":"q"},
    {"role":"assistant","content":[{"type":"thinking","thinking":"","signature":"SIG+/="},{"type":"redacted_thinking","data":"RD=="},
      {"type":"tool_use","id":"toolu_X","name":"f","input":{"k":"v"}}]},
    {"role":"user","content":[{"type":"text","text":"and?"},{"type":"tool_result","tool_use_id":"toolu_X","content":"ok"}]}]})";
  AnthropicFrontDoor door;
  FrontDoorInput in;
  in.body = body;
  auto peeked = door.Peek(in);
  ASSERT_TRUE(std::holds_alternative<InternalRequest>(peeked));
  chat::Request chat;
  ASSERT_FALSE(door.ParseChat(std::get<InternalRequest>(peeked), &chat).has_value());
  AnthropicCodec codec;
  auto call = codec.EncodeChat(chat, "claude-up", CodecOptions{});
  ASSERT_TRUE(std::holds_alternative<UpstreamCall>(call));
  EXPECT_EQ(std::get<UpstreamCall>(call).body,
            R"({"model":"claude-up","max_tokens":50,"system":"S","messages":[{"role":"user","content":[{"type":"text","text":"q"}]},)"
            R"({"role":"assistant","content":[{"type":"thinking","thinking":"","signature":"SIG+/="},{"type":"redacted_thinking","data":"RD=="},)"
            R"({"type":"tool_use","id":"toolu_X","name":"f","input":{"k":"v"}}]},)"
            R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_X","content":"ok"},{"type":"text","text":"and?"}]}]})");
}

}  // namespace
}  // namespace sy::anthropic
