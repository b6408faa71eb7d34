// The OpenAI stream decoder (OpenAiCodec::NewStreamDecoder): translation.md
// §1.1 (tool-call fragments), §4 (usage), §10 (in-stream errors), and bytes
// split at any boundary.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "provider/openai/openai_codec.h"

namespace sy::openai {
namespace {

using chat::EventKind;
using chat::FinishReason;
using chat::StreamEvent;

std::string Data(const std::string& json) { return "data: " + json + "\n\n"; }

// Checks the event order core/chat.h promises.
void CheckContract(const std::vector<StreamEvent>& events) {
  ASSERT_FALSE(events.empty());
  size_t terminals = 0;
  std::set<int> started, ended;
  int next_index = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (e.kind == EventKind::kStart) {
      EXPECT_EQ(i, 0u) << "kStart must come first";
    }
    if (i == 0 && e.kind != EventKind::kError) {
      EXPECT_EQ(e.kind, EventKind::kStart) << "only an error may come without kStart";
    }
    if (e.kind == EventKind::kFinish || e.kind == EventKind::kError) {
      ++terminals;
      EXPECT_EQ(i, events.size() - 1) << "terminal event must be last";
    }
    if (e.kind == EventKind::kToolCallStart) {
      EXPECT_EQ(e.index, next_index++) << "tool indices are dense, in start order";
      EXPECT_FALSE(e.id.empty());
      started.insert(e.index);
    }
    if (e.kind == EventKind::kToolCallDelta) {
      EXPECT_TRUE(started.count(e.index)) << "delta before start";
      EXPECT_FALSE(ended.count(e.index)) << "delta after end";
    }
    if (e.kind == EventKind::kToolCallEnd) {
      EXPECT_TRUE(started.count(e.index));
      ended.insert(e.index);
    }
    if (e.kind == EventKind::kFinish) {
      EXPECT_EQ(started, ended) << "every started call ends before kFinish";
    }
    if (e.kind == EventKind::kError) {
      EXPECT_TRUE(e.error.has_value());
    }
  }
  EXPECT_EQ(terminals, 1u);
}

std::vector<StreamEvent> DecodeWhole(const std::string& stream, bool finish = true) {
  auto d = OpenAiCodec().NewStreamDecoder();
  std::vector<StreamEvent> out;
  d->Feed(stream, &out);
  if (finish) d->Finish(&out);
  return out;
}

std::vector<StreamEvent> DecodeBytewise(const std::string& stream) {
  auto d = OpenAiCodec().NewStreamDecoder();
  std::vector<StreamEvent> out;
  for (char c : stream) d->Feed(std::string_view(&c, 1), &out);
  d->Finish(&out);
  return out;
}

// Per call (by our index): id, name and the concatenated arguments.
struct CallSummary {
  std::string id, name, args;
};
std::map<int, CallSummary> Calls(const std::vector<StreamEvent>& events) {
  std::map<int, CallSummary> calls;
  for (const auto& e : events) {
    if (e.kind == EventKind::kToolCallStart) calls[e.index] = {e.id, e.name, ""};
    if (e.kind == EventKind::kToolCallDelta) calls[e.index].args += e.text;
  }
  return calls;
}

std::string Text(const std::vector<StreamEvent>& events, EventKind kind = EventKind::kTextDelta) {
  std::string t;
  for (const auto& e : events) {
    if (e.kind == kind) t += e.text;
  }
  return t;
}

// Decodes whole and byte by byte; the two must agree; returns the whole one.
std::vector<StreamEvent> Decode(const std::string& stream) {
  auto whole = DecodeWhole(stream);
  auto bytes = DecodeBytewise(stream);
  CheckContract(whole);
  EXPECT_EQ(whole.size(), bytes.size());
  for (size_t i = 0; i < std::min(whole.size(), bytes.size()); ++i) {
    EXPECT_EQ(whole[i].kind, bytes[i].kind) << i;
    EXPECT_EQ(whole[i].text, bytes[i].text) << i;
    EXPECT_EQ(whole[i].index, bytes[i].index) << i;
    EXPECT_EQ(whole[i].name, bytes[i].name) << i;
    EXPECT_EQ(whole[i].finish, bytes[i].finish) << i;
  }
  return whole;
}

std::string Chunk(const std::string& delta, const std::string& finish = "null") {
  return Data(R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":)" +
              delta + R"(,"finish_reason":)" + finish + "}]}");
}

TEST(OpenAiStreamDecoder, PlainTextWithUsageChunk) {
  std::string s = Chunk(R"({"role":"assistant","content":""})") + Chunk(R"({"content":"Hel"})") +
                  Chunk(R"({"content":"lo"})") + Chunk("{}", "\"stop\"") +
                  Data(R"({"id":"chatcmpl-9","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,)"
                       R"("prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":0}}})") +
                  "data: [DONE]\n\n";
  auto ev = Decode(s);
  ASSERT_GE(ev.size(), 5u);
  EXPECT_EQ(ev[0].kind, EventKind::kStart);
  EXPECT_EQ(ev[0].id, "chatcmpl-9");
  EXPECT_EQ(ev[0].model, "gpt-4o");
  EXPECT_EQ(Text(ev), "Hello");
  ASSERT_EQ(ev[ev.size() - 2].kind, EventKind::kUsage);
  EXPECT_EQ(ev[ev.size() - 2].usage->input_tokens, 9);
  EXPECT_EQ(ev[ev.size() - 2].usage->cached_input_tokens, 3);
  EXPECT_EQ(ev[ev.size() - 2].usage->output_tokens, 2);
  EXPECT_EQ(ev.back().kind, EventKind::kFinish);
  EXPECT_EQ(ev.back().finish, FinishReason::kStop);
}

TEST(OpenAiStreamDecoder, InterleavedParallelCallsByIndex) {
  std::string s =
      Chunk(R"({"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"read","arguments":""}}]})") +
      Chunk(R"({"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"write","arguments":""}}]})") +
      Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]})") +
      Chunk(R"({"tool_calls":[{"index":1,"function":{"arguments":"{\"text\":\"hi\"}"}}]})") +
      Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"a.txt\"}"}}]})") + Chunk("{}", "\"tool_calls\"") +
      "data: [DONE]\n\n";
  auto ev = Decode(s);
  auto calls = Calls(ev);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].id, "call_A");
  EXPECT_EQ(calls[0].name, "read");
  EXPECT_EQ(calls[0].args, "{\"path\":\"a.txt\"}");
  EXPECT_EQ(calls[1].id, "call_B");
  EXPECT_EQ(calls[1].name, "write");
  EXPECT_EQ(calls[1].args, "{\"text\":\"hi\"}");
  EXPECT_EQ(ev.back().finish, FinishReason::kToolCalls);
}

// Ollama-via-LiteLLM, vLLM/dynamo: every call at index 0, told apart by id.
TEST(OpenAiStreamDecoder, AllCallsAtIndexZeroWithDifferentIds) {
  std::string s =
      Chunk(R"({"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]})") +
      Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]})") +
      Chunk(R"({"tool_calls":[{"index":0,"id":"call_2","type":"function","function":{"name":"f","arguments":"{\"a\":2}"}}]})") +
      Chunk(R"({"tool_calls":[{"index":0,"id":"call_3","type":"function","function":{"name":"g","arguments":"{}"}}]})") +
      Chunk("{}", "\"stop\"") + "data: [DONE]\n\n";
  auto ev = Decode(s);
  auto calls = Calls(ev);
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].id, "call_1");
  EXPECT_EQ(calls[0].args, "{\"a\":1}");
  EXPECT_EQ(calls[1].id, "call_2");
  EXPECT_EQ(calls[1].args, "{\"a\":2}");
  EXPECT_EQ(calls[2].name, "g");
  EXPECT_EQ(calls[2].args, "{}");
  EXPECT_EQ(ev.back().finish, FinishReason::kToolCalls);  // "stop" with calls is upgraded
}

// A new name at a used index without ids is a new call too.
TEST(OpenAiStreamDecoder, NewNameAtUsedIndexIsNewCall) {
  std::string s = Chunk(R"({"tool_calls":[{"index":0,"function":{"name":"a","arguments":"{}"}}]})") +
                  Chunk(R"({"tool_calls":[{"index":0,"function":{"name":"b","arguments":"{}"}}]})") +
                  Chunk("{}", "\"tool_calls\"") + "data: [DONE]\n\n";
  auto calls = Calls(Decode(s));
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].name, "a");
  EXPECT_EQ(calls[1].name, "b");
  EXPECT_EQ(calls[0].id.rfind("call_", 0), 0u);  // generated
  EXPECT_NE(calls[0].id, calls[1].id);
}

// Nebius/Cerebras: later fragments with a different index and no id join the
// last open call.
TEST(OpenAiStreamDecoder, OrphanFragmentsJoinLastCall) {
  std::string s =
      Chunk(R"({"tool_calls":[{"index":0,"id":"call_x","type":"function","function":{"name":"f","arguments":"{\"q\""}}]})") +
      Chunk(R"({"tool_calls":[{"index":1,"function":{"arguments":":\"v\""}}]})") +
      Chunk(R"({"tool_calls":[{"function":{"arguments":"}"}}]})") + Chunk("{}", "\"tool_calls\"") + "data: [DONE]\n\n";
  auto calls = Calls(Decode(s));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].args, "{\"q\":\"v\"}");
}

// Servers that repeat id and name on every fragment: still one call.
TEST(OpenAiStreamDecoder, RepeatedIdAndNameIsSameCall) {
  std::string s =
      Chunk(R"({"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\""}}]})") +
      Chunk(R"({"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":":1}"}}]})") +
      Chunk("{}", "\"tool_calls\"") + "data: [DONE]\n\n";
  auto calls = Calls(Decode(s));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].args, "{\"a\":1}");
}

TEST(OpenAiStreamDecoder, NameAfterIdDefersStart) {
  std::string s = Chunk(R"({"tool_calls":[{"index":0,"id":"c1","function":{"arguments":""}}]})") +
                  Chunk(R"({"tool_calls":[{"index":0,"function":{"name":"late","arguments":"{\"x\":"}}]})") +
                  Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]})") + Chunk("{}", "\"tool_calls\"") +
                  "data: [DONE]\n\n";
  auto calls = Calls(Decode(s));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].id, "c1");
  EXPECT_EQ(calls[0].name, "late");
  EXPECT_EQ(calls[0].args, "{\"x\":1}");
}

TEST(OpenAiStreamDecoder, EmptyToolCallsArrayIsNotACall) {
  std::string s = Chunk(R"({"content":"hi","tool_calls":[]})") + Chunk(R"({"tool_calls":null})") +
                  Chunk("{}", "\"stop\"") + "data: [DONE]\n\n";
  auto ev = Decode(s);
  EXPECT_TRUE(Calls(ev).empty());
  EXPECT_EQ(ev.back().finish, FinishReason::kStop);
}

TEST(OpenAiStreamDecoder, EmptyArgumentToolGetsEmptyObject) {
  std::string s = Chunk(R"({"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"now","arguments":""}}]})") +
                  Chunk("{}", "\"tool_calls\"") + "data: [DONE]\n\n";
  auto calls = Calls(Decode(s));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].args, "{}");
}

// GLM and some relays: finish_reason, then usage, in separate later chunks.
TEST(OpenAiStreamDecoder, FinishAndUsageInSeparateChunks) {
  std::string s = Chunk(R"({"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]})") +
                  Chunk("{}", "\"tool_calls\"") + Chunk(R"({"content":""})") +
                  Data(R"({"id":"chatcmpl-9","choices":[{"index":0,"delta":{},"finish_reason":null}],"usage":{"prompt_tokens":5,"completion_tokens":1}})") +
                  "data: [DONE]\n\n";
  auto ev = Decode(s);
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(ev.back().kind, EventKind::kFinish);
  EXPECT_EQ(ev.back().finish, FinishReason::kToolCalls);  // an earlier finish_reason is kept
  EXPECT_EQ(ev[ev.size() - 2].kind, EventKind::kUsage);
  EXPECT_EQ(ev[ev.size() - 2].usage->input_tokens, 5);
  EXPECT_EQ(ev[ev.size() - 3].kind, EventKind::kToolCallEnd);
}

TEST(OpenAiStreamDecoder, UsageInFinishChunkAndGroq) {
  std::string s = Data(R"({"id":"a","model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}})") +
                  "data: [DONE]\n\n";
  auto ev = Decode(s);
  EXPECT_EQ(ev[ev.size() - 2].usage->input_tokens, 1);
  s = Data(R"({"id":"a","model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],"x_groq":{"usage":{"prompt_tokens":4,"completion_tokens":2}}})") +
      "data: [DONE]\n\n";
  ev = Decode(s);
  EXPECT_EQ(ev[ev.size() - 2].usage->input_tokens, 4);
}

TEST(OpenAiStreamDecoder, TruncatedArgumentsKeepLength) {
  std::string s = Chunk(R"({"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"write","arguments":"{\"text\":\"abc"}}]})") +
                  Chunk("{}", "\"length\"") + "data: [DONE]\n\n";
  auto ev = Decode(s);
  EXPECT_EQ(Calls(ev)[0].args, "{\"text\":\"abc");  // not repaired
  EXPECT_EQ(ev.back().finish, FinishReason::kLength);
}

TEST(OpenAiStreamDecoder, ReasoningDeltas) {
  std::string s = Chunk(R"({"reasoning_content":"a"})") + Chunk(R"({"reasoning":"b"})") +
                  Chunk(R"({"reasoning_content":"c","reasoning":"c"})") + Chunk(R"({"content":"done"})") +
                  Chunk("{}", "\"stop\"") + "data: [DONE]\n\n";
  auto ev = Decode(s);
  EXPECT_EQ(Text(ev, EventKind::kReasoningDelta), "abc");  // a duplicate "reasoning" is not doubled
  EXPECT_EQ(Text(ev), "done");
}

TEST(OpenAiStreamDecoder, InStreamErrorObject) {
  std::string s = Chunk(R"({"content":"par"})") +
                  Data(R"({"error":{"message":"Overloaded","type":"server_error","code":null}})") + Chunk(R"({"content":"late"})");
  auto ev = Decode(s);
  EXPECT_EQ(ev.back().kind, EventKind::kError);
  EXPECT_EQ(ev.back().error->code, ErrorCode::kProviderError);
  EXPECT_EQ(ev.back().error->message, "Overloaded");
  EXPECT_EQ(Text(ev), "par");

  ev = Decode(Data(R"({"error":{"message":"Too many","type":"rate_limit_error"}})"));
  ASSERT_EQ(ev.size(), 1u);  // nothing was sent: the gateway can still answer with a status
  EXPECT_EQ(ev[0].error->code, ErrorCode::kRateLimited);
  ev = Decode("event: error\ndata: {\"message\":\"boom\",\"code\":429}\n\n");
  EXPECT_EQ(ev.back().error->code, ErrorCode::kRateLimited);
  EXPECT_EQ(ev.back().error->message, "boom");
}

TEST(OpenAiStreamDecoder, EndWithoutDone) {
  // No finish_reason, no [DONE]: cut short.
  auto ev = Decode(Chunk(R"({"content":"par"})"));
  EXPECT_EQ(ev.back().kind, EventKind::kError);
  EXPECT_EQ(ev.back().error->code, ErrorCode::kProviderError);
  EXPECT_NE(ev.back().error->message.find("ended early"), std::string::npos);
  // A finish_reason but no [DONE]: accepted.
  ev = Decode(Chunk(R"({"content":"x"})") + Chunk("{}", "\"stop\""));
  EXPECT_EQ(ev.back().kind, EventKind::kFinish);
  EXPECT_EQ(ev.back().finish, FinishReason::kStop);
  // Nothing at all.
  ev = Decode("");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kError);
}

TEST(OpenAiStreamDecoder, LastEventWithoutBlankLine) {
  auto ev = Decode(Chunk(R"({"content":"x"})") + "data: [DONE]");
  EXPECT_EQ(ev.back().kind, EventKind::kFinish);
}

TEST(OpenAiStreamDecoder, PlainJsonErrorInsteadOfStream) {
  auto ev = Decode(R"({"error":{"message":"model not found","type":"invalid_request_error"}})");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kError);
  EXPECT_EQ(ev[0].error->message, "model not found");
}

TEST(OpenAiStreamDecoder, MalformedChunkStopsTheStream) {
  auto ev = Decode(Chunk(R"({"content":"x"})") + "data: {not json\n\n" + Chunk(R"({"content":"y"})") + "data: [DONE]\n\n");
  EXPECT_EQ(ev.back().kind, EventKind::kError);
  EXPECT_EQ(ev.back().error->code, ErrorCode::kProviderError);
  EXPECT_EQ(Text(ev), "x");
  ev = Decode("data: [1,2]\n\n");
  EXPECT_EQ(ev.back().kind, EventKind::kError);
}

TEST(OpenAiStreamDecoder, CrlfCommentsAndKeepAlives) {
  std::string s = ": keep-alive\r\n\r\ndata: {\"id\":\"i\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\r\n\r\n"
                  "data: \r\n\r\n"
                  "data: {\"id\":\"i\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\r\n\r\n"
                  "data: [DONE]\r\n\r\n";
  auto ev = Decode(s);
  EXPECT_EQ(Text(ev), "a");
  EXPECT_EQ(ev.back().finish, FinishReason::kStop);
}

TEST(OpenAiStreamDecoder, OtherChoicesAreIgnored) {
  std::string s = Data(R"({"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"}}]})") +
                  Chunk("{}", "\"stop\"") + "data: [DONE]\n\n";
  EXPECT_EQ(Text(Decode(s)), "mine");
}

TEST(OpenAiStreamDecoder, HugeArgumentsAcrossManyFrames) {
  std::string s = Chunk(R"({"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{\"d\":\""}}]})");
  std::string want = "{\"d\":\"";
  for (int i = 0; i < 400; ++i) {
    std::string frag(37, static_cast<char>('a' + i % 26));
    s += Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":")" + frag + R"("}}]})");
    want += frag;
  }
  s += Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"}"}}]})") + Chunk("{}", "\"tool_calls\"") + "data: [DONE]\n\n";
  want += "\"}";
  EXPECT_EQ(Calls(Decode(s))[0].args, want);
}

TEST(OpenAiStreamDecoder, NothingAfterTerminal) {
  auto d = OpenAiCodec().NewStreamDecoder();
  std::vector<StreamEvent> out;
  d->Feed(Chunk(R"({"content":"x"})") + "data: [DONE]\n\n", &out);
  const size_t n = out.size();
  d->Feed(Chunk(R"({"content":"y"})"), &out);
  d->Finish(&out);
  d->Finish(&out);
  EXPECT_EQ(out.size(), n);
}

TEST(OpenAiStreamDecoder, MissingIdsAreGenerated) {
  auto ev = Decode(Data(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]})") +
                   "data: [DONE]\n\n");
  EXPECT_EQ(ev[0].id.rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(Calls(ev)[0].id.rfind("call_", 0), 0u);
}

TEST(OpenAiStreamDecoder, ArgumentsAsObject) {
  auto ev = Decode(Chunk(R"({"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":{"a":[1,{"b":null}]}}}]})") +
                   Chunk("{}", "\"tool_calls\"") + "data: [DONE]\n\n");
  EXPECT_EQ(Calls(ev)[0].args, R"({"a":[1,{"b":null}]})");
}

}  // namespace
}  // namespace sy::openai
