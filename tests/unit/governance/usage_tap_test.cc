// The usage tap (src/governance/usage_tap.h): usage read from passed-through
// answers of every protocol, stream and non-stream, whatever the split of
// the bytes; the estimate when no usage came; malformed input.
#include "governance/usage_tap.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace sy::gov {
namespace {

struct Outcome {
  std::string out;  // what the client got: every Feed's answer, then Finish's
  std::optional<chat::Usage> usage;
  int64_t estimate = 0;
};

// Feeds `body` in pieces of `piece` bytes (0: all at once).
Outcome RunTap(WireProtocol protocol, bool stream, bool strip, std::string_view body, size_t piece = 0) {
  auto tap = NewUsageTap(protocol, stream, strip);
  Outcome o;
  if (piece == 0) piece = body.size() + 1;
  for (size_t at = 0; at < body.size(); at += piece) {
    const std::string_view part = body.substr(at, piece);
    const std::string_view sent = tap->Feed(part);
    if (!strip) {
      EXPECT_EQ(sent.data(), part.data()) << "a tap that does not strip returns its input itself";
      EXPECT_EQ(sent.size(), part.size());
    }
    o.out.append(sent);
  }
  o.out.append(tap->Finish());
  o.usage = tap->usage();
  o.estimate = tap->EstimatedOutputTokens();
  return o;
}

// Feeds `body` split in two at every point, and one byte at a time: each
// outcome must equal the one of feeding it whole.
void ExpectSplitInvariant(WireProtocol protocol, bool stream, bool strip, std::string_view body) {
  const Outcome whole = RunTap(protocol, stream, strip, body);
  auto same = [&](const Outcome& o, const std::string& how) {
    EXPECT_EQ(o.out, whole.out) << how;
    ASSERT_EQ(o.usage.has_value(), whole.usage.has_value()) << how;
    if (o.usage) {
      EXPECT_EQ(o.usage->input_tokens, whole.usage->input_tokens) << how;
      EXPECT_EQ(o.usage->cached_input_tokens, whole.usage->cached_input_tokens) << how;
      EXPECT_EQ(o.usage->cache_write_tokens, whole.usage->cache_write_tokens) << how;
      EXPECT_EQ(o.usage->output_tokens, whole.usage->output_tokens) << how;
      EXPECT_EQ(o.usage->reasoning_tokens, whole.usage->reasoning_tokens) << how;
    }
    EXPECT_EQ(o.estimate, whole.estimate) << how;
  };
  same(RunTap(protocol, stream, strip, body, 1), "one byte at a time");
  for (size_t cut = 1; cut < body.size(); ++cut) {
    auto tap = NewUsageTap(protocol, stream, strip);
    Outcome o;
    o.out.append(tap->Feed(body.substr(0, cut)));
    o.out.append(tap->Feed(body.substr(cut)));
    o.out.append(tap->Finish());
    o.usage = tap->usage();
    o.estimate = tap->EstimatedOutputTokens();
    same(o, "cut at " + std::to_string(cut));
    if (::testing::Test::HasFailure()) return;
  }
}

void ExpectUsage(const std::optional<chat::Usage>& u, int64_t input, int64_t cached, int64_t write, int64_t output,
                 int64_t reasoning) {
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->input_tokens, input);
  EXPECT_EQ(u->cached_input_tokens, cached);
  EXPECT_EQ(u->cache_write_tokens, write);
  EXPECT_EQ(u->output_tokens, output);
  EXPECT_EQ(u->reasoning_tokens, reasoning);
}

// `body` with its top-level "usage" member renamed, so that no usage is found.
std::string WithoutUsage(std::string body) {
  const size_t at = body.rfind("\"usage\"");
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) body.replace(at, 7, "\"usagx\"");
  return body;
}

std::string Sse(const std::vector<std::string>& datas, std::string_view eol = "\n") {
  std::string s;
  for (const auto& d : datas) {
    s += "data: " + d;
    s += eol;
    s += eol;
  }
  return s;
}

const std::string kOpenAiChunk1 =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null})";
const std::string kOpenAiChunk2 =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello there, \"friend\""},"logprobs":null,"finish_reason":null}],"usage":null})";
const std::string kOpenAiChunk3 =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null})";
const std::string kOpenAiUsageChunk =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":1200,"completion_tokens":40,"total_tokens":1240,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":10,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}})";

std::string OpenAiStream(std::string_view eol = "\n") {
  return Sse({kOpenAiChunk1, kOpenAiChunk2, kOpenAiChunk3, kOpenAiUsageChunk, "[DONE]"}, eol);
}

// ---- OpenAI ----

TEST(UsageTap, OpenAiStreamUsageChunk) {
  const Outcome o = RunTap(WireProtocol::kOpenAI, true, false, OpenAiStream());
  ExpectUsage(o.usage, 1200, 1024, 0, 40, 10);
  EXPECT_EQ(o.out, OpenAiStream());
  ExpectSplitInvariant(WireProtocol::kOpenAI, true, false, OpenAiStream());
}

TEST(UsageTap, OpenAiUsageInsideAChunkWithChoices) {
  // Some servers put the usage on the last chunk that has choices.
  const std::string last =
      R"({"id":"c","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})";
  const std::string stream = Sse({kOpenAiChunk2, last, "[DONE]"});
  ExpectUsage(RunTap(WireProtocol::kOpenAI, true, false, stream).usage, 9, 0, 0, 3, 0);
  const Outcome stripped = RunTap(WireProtocol::kOpenAI, true, true, stream);
  EXPECT_EQ(stripped.out, stream) << "a chunk with choices is never removed";
  ExpectUsage(stripped.usage, 9, 0, 0, 3, 0);
}

TEST(UsageTap, OpenAiGroqUsageInXGroq) {
  const std::string last =
      R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":20,"completion_tokens":7,"total_tokens":27}}})";
  ExpectUsage(RunTap(WireProtocol::kOpenAI, true, false, Sse({kOpenAiChunk2, last, "[DONE]"})).usage, 20, 0, 0, 7, 0);
}

TEST(UsageTap, OpenAiDeepSeekCacheHitTokens) {
  const std::string body =
      R"({"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}})";
  ExpectUsage(RunTap(WireProtocol::kOpenAI, false, false, body).usage, 100, 64, 0, 5, 0);
}

TEST(UsageTap, OpenAiNonStreamChat) {
  const std::string body = R"({
  "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "gpt-4.1-2025-04-14",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Hello! How can I assist you today?",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 2006,
    "completion_tokens": 300,
    "total_tokens": 2306,
    "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 256, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default"
})";
  const Outcome o = RunTap(WireProtocol::kOpenAI, false, false, body);
  ExpectUsage(o.usage, 2006, 1920, 0, 300, 256);
  EXPECT_EQ(o.estimate, 0) << "a body with its usage at the top: its text is not counted";
  // The same answer without usage: the content string's bytes / 4.
  const Outcome bare = RunTap(WireProtocol::kOpenAI, false, false, WithoutUsage(body));
  EXPECT_FALSE(bare.usage.has_value());
  EXPECT_EQ(bare.estimate, (34 + 3) / 4);
  ExpectSplitInvariant(WireProtocol::kOpenAI, false, false, body);
}

TEST(UsageTap, BodyUsageReadWithoutAParseMatchesTheParse) {
  // A non-stream body's usage is read where it lies; the same object in a
  // stream event is parsed. Both must give the same counts.
  const std::vector<std::pair<WireProtocol, std::string>> cases = {
      {WireProtocol::kOpenAI, R"({"prompt_tokens":12,"completion_tokens":3,"total_tokens":15})"},
      {WireProtocol::kOpenAI,
       R"({ "prompt_tokens" : 2006 , "completion_tokens":300,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":256}})"},
      {WireProtocol::kOpenAI, R"({"prompt_tokens":1.0,"completion_tokens":2e1,"prompt_cache_hit_tokens":7})"},
      {WireProtocol::kOpenAI, R"({"prompt_tokens":1.5,"completion_tokens":null,"prompt_tokens_details":null})"},
      {WireProtocol::kOpenAI, R"({"prompt_tokens":-4,"completion_tokens":18446744073709551615})"},
      {WireProtocol::kOpenAI, R"({"prompt_tokens":5,"prompt_tokens":9,"completion_tokens":"7"})"},
      {WireProtocol::kOpenAI, R"({"prompt\u005ftokens":5,"completion_tokens":1})"},
      {WireProtocol::kOpenAI, R"({"prompt_tokens_details":{"cached_tokens":3,"cache_write_tokens":2},"prompt_tokens":10})"},
      {WireProtocol::kOpenAIResponses,
       R"({"input_tokens":36,"input_tokens_details":{"cached_tokens":4},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":50},"total_tokens":123})"},
      {WireProtocol::kAnthropic,
       R"({"input_tokens":2095,"cache_creation_input_tokens":0,"cache_read_input_tokens":1800,"output_tokens":503,"server_tool_use":{"web_search_requests":1}})"},
      {WireProtocol::kGemini,
       R"({"promptTokenCount":8,"candidatesTokenCount":20,"thoughtsTokenCount":5,"cachedContentTokenCount":2,"toolUsePromptTokenCount":1,"promptTokensDetails":[{"modality":"TEXT","tokenCount":8}]})"},
  };
  for (const auto& [protocol, usage] : cases) {
    const std::string key = protocol == WireProtocol::kGemini ? "usageMetadata" : "usage";
    const std::string body = "{\"id\":\"x\",\"" + key + "\":" + usage + ",\"model\":\"m\"}";
    const Outcome read = RunTap(protocol, false, false, body);
    const Outcome parsed = RunTap(protocol, true, false, "data: " + body + "\n\n");
    ASSERT_EQ(read.usage.has_value(), parsed.usage.has_value()) << usage;
    if (!parsed.usage) continue;  // a usage object with no count in it
    EXPECT_EQ(read.usage->input_tokens, parsed.usage->input_tokens) << usage;
    EXPECT_EQ(read.usage->output_tokens, parsed.usage->output_tokens) << usage;
    EXPECT_EQ(read.usage->cached_input_tokens, parsed.usage->cached_input_tokens) << usage;
    EXPECT_EQ(read.usage->cache_write_tokens, parsed.usage->cache_write_tokens) << usage;
    EXPECT_EQ(read.usage->reasoning_tokens, parsed.usage->reasoning_tokens) << usage;
  }
  // Spot checks of the rules themselves.
  EXPECT_FALSE(RunTap(WireProtocol::kOpenAI, false, false, R"({"usage":{"prompt_tokens":1.5,"completion_tokens":null}})")
                   .usage.has_value());
  ExpectUsage(RunTap(WireProtocol::kOpenAI, false, false, R"({"usage":{"prompt_tokens":-4,"completion_tokens":18446744073709551615}})").usage,
              0, 0, 0, int64_t{1} << 40, 0);
  ExpectUsage(RunTap(WireProtocol::kOpenAI, false, false, R"({"usage":{"prompt_tokens":5,"prompt_tokens":9}})").usage,
              5, 0, 0, 0, 0);
}

TEST(UsageTap, OpenAiEmbeddingsBody) {
  const std::string body =
      R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023,-0.0093,0.0158]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}})";
  const Outcome o = RunTap(WireProtocol::kOpenAI, false, false, body);
  ExpectUsage(o.usage, 8, 0, 0, 0, 0);
  EXPECT_EQ(o.estimate, 0);
}

TEST(UsageTap, OpenAiBodyLargerThanTheBufferKeepsTheTailUsage) {
  std::string body = R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[)";
  while (body.size() < (5u << 20)) body += "0.0123456789,";
  body += R"(0.5]}],"model":"text-embedding-3-large","usage":{"prompt_tokens":4096,"total_tokens":4096}})";
  const Outcome o = RunTap(WireProtocol::kOpenAI, false, false, body, 64 * 1024);
  ExpectUsage(o.usage, 4096, 0, 0, 0, 0);
  EXPECT_EQ(o.estimate, 0);
}

TEST(UsageTap, OpenAiCompletionsStream) {
  const std::string stream = Sse({
      R"({"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":"Once upon","index":0,"logprobs":null,"finish_reason":null}],"model":"gpt-3.5-turbo-instruct","usage":null})",
      R"({"id":"cmpl-1","object":"text_completion","created":1,"choices":[],"model":"gpt-3.5-turbo-instruct","usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})",
      "[DONE]",
  });
  ExpectUsage(RunTap(WireProtocol::kOpenAI, true, false, stream).usage, 5, 0, 0, 2, 0);
}

TEST(UsageTap, StreamWithoutUsageIsEstimated) {
  const std::string stream = Sse({kOpenAiChunk1, kOpenAiChunk2, kOpenAiChunk3, "[DONE]"});
  const Outcome o = RunTap(WireProtocol::kOpenAI, true, false, stream);
  EXPECT_FALSE(o.usage.has_value());
  // Hello there, \"friend\" is 23 bytes as sent: 6 tokens.
  EXPECT_EQ(o.estimate, 6);
  ExpectSplitInvariant(WireProtocol::kOpenAI, true, false, stream);
}

TEST(UsageTap, EstimateCountsToolArgumentsAndReasoning) {
  const std::string stream = Sse({
      R"({"id":"c","choices":[{"index":0,"delta":{"reasoning_content":"Let me think"}}]})",
      R"({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}}]})",
      R"({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]})",
  });
  // "Let me think" 12 + {\"city\": 10 + \"Paris\"} 10 = 32 bytes.
  EXPECT_EQ(RunTap(WireProtocol::kOpenAI, true, false, stream).estimate, 8);
}

TEST(UsageTap, UsageNullAndUsageInTextAreNotUsage) {
  const std::string stream = Sse({
      R"({"id":"c","choices":[{"index":0,"delta":{"content":"the \"usage\": {\"prompt_tokens\": 5} field"}}],"usage":null})",
  });
  EXPECT_FALSE(RunTap(WireProtocol::kOpenAI, true, false, stream).usage.has_value());
}

// ---- Anthropic ----

const std::string kAnthropicStream =
    "event: message_start\n"
    R"(data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-20250514","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":1}}})"
    "\n\n"
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
    "\n\n"
    "event: ping\n"
    R"(data: {"type": "ping"})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world!!"}})"
    "\n\n"
    "event: content_block_stop\n"
    R"(data: {"type":"content_block_stop","index":0})"
    "\n\n"
    "event: message_delta\n"
    R"(data: {"type":"message_delta","delta":{"stop_reason":null,"stop_sequence":null},"usage":{"output_tokens":15}})"
    "\n\n"
    "event: message_delta\n"
    R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":42}})"
    "\n\n"
    "event: message_stop\n"
    R"(data: {"type":"message_stop"})"
    "\n\n";

TEST(UsageTap, AnthropicStreamCumulativeUsage) {
  const Outcome o = RunTap(WireProtocol::kAnthropic, true, false, kAnthropicStream);
  // input = input_tokens + cache reads + cache writes; the two message_delta
  // counts are cumulative: the last one, never their sum.
  ExpectUsage(o.usage, 2125, 2000, 100, 42, 0);
  EXPECT_EQ(o.estimate, 4);  // "Hello" + " world!!" = 13 bytes
  ExpectSplitInvariant(WireProtocol::kAnthropic, true, false, kAnthropicStream);
}

TEST(UsageTap, AnthropicCumulativeInputInMessageDelta) {
  // Newer API versions repeat the input counts in message_delta.
  const std::string stream =
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":10,"output_tokens":1}}})"
      "\n\n"
      "event: message_delta\n"
      R"(data: {"type":"message_delta","delta":{},"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":7}})"
      "\n\n";
  ExpectUsage(RunTap(WireProtocol::kAnthropic, true, false, stream).usage, 15, 5, 0, 7, 0);
}

TEST(UsageTap, AnthropicStreamCutAfterMessageStart) {
  const std::string cut = kAnthropicStream.substr(0, kAnthropicStream.find("event: message_delta"));
  const Outcome o = RunTap(WireProtocol::kAnthropic, true, false, cut);
  ExpectUsage(o.usage, 2125, 2000, 100, 1, 0);
  EXPECT_EQ(o.estimate, 4);
}

TEST(UsageTap, AnthropicNonStream) {
  const std::string body = R"({
  "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
  "type": "message",
  "role": "assistant",
  "model": "claude-3-7-sonnet-20250219",
  "content": [
    {"type": "thinking", "thinking": "Hmm", "signature": "EqQBCgIYAhIM"},
    {"type": "text", "text": "Hi! My name is Claude."},
    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location": "SF"}}
  ],
  "stop_reason": "tool_use",
  "stop_sequence": null,
  "usage": {"input_tokens": 2095, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1800, "output_tokens": 503}
})";
  const Outcome o = RunTap(WireProtocol::kAnthropic, false, false, body);
  ExpectUsage(o.usage, 3895, 1800, 0, 503, 0);
  EXPECT_EQ(o.estimate, 0);
  // Without its usage: "Hmm" 3 + "Hi! My name is Claude." 22 + {"location": "SF"} 18 = 43 bytes.
  const Outcome bare = RunTap(WireProtocol::kAnthropic, false, false, WithoutUsage(body));
  EXPECT_FALSE(bare.usage.has_value());
  EXPECT_EQ(bare.estimate, 11);
}

// ---- Gemini ----

const std::vector<std::string> kGeminiChunks = {
    R"({"candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 100,"totalTokenCount": 100,"cachedContentTokenCount": 60},"modelVersion": "gemini-2.5-flash","responseId": "r1"})",
    R"({"candidates": [{"content": {"parts": [{"text": " world"}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-flash","responseId": "r1"})",
    R"({"candidates": [{"content": {"parts": [{"text": "!"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 100,"candidatesTokenCount": 8,"totalTokenCount": 128,"cachedContentTokenCount": 60,"thoughtsTokenCount": 20,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 100}]},"modelVersion": "gemini-2.5-flash","responseId": "r1"})",
};

TEST(UsageTap, GeminiSseStream) {
  const std::string stream = Sse(kGeminiChunks, "\r\n");
  const Outcome o = RunTap(WireProtocol::kGemini, true, false, stream);
  // Cumulative on every chunk: the last, never the sum; a chunk without
  // usageMetadata changes nothing. Output includes the thoughts.
  ExpectUsage(o.usage, 100, 60, 0, 28, 20);
  EXPECT_EQ(o.estimate, 3);  // "Hello" " world" "!" = 12 bytes
  ExpectSplitInvariant(WireProtocol::kGemini, true, false, stream);
}

TEST(UsageTap, GeminiSeveralUsageChunksAreNotSummed) {
  std::vector<std::string> chunks;
  for (int i = 1; i <= 5; ++i) {
    chunks.push_back(R"({"candidates":[{"content":{"parts":[{"text":"x"}]}}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":)" +
                     std::to_string(i * 10) + "}}");
  }
  ExpectUsage(RunTap(WireProtocol::kGemini, true, false, Sse(chunks)).usage, 50, 0, 0, 50, 0);
}

TEST(UsageTap, GeminiJsonArrayStream) {
  // Without alt=sse: one JSON array, written as it is generated.
  std::string stream = "[" + kGeminiChunks[0];
  for (size_t i = 1; i < kGeminiChunks.size(); ++i) stream += ",\r\n" + kGeminiChunks[i];
  stream += "]";
  const Outcome o = RunTap(WireProtocol::kGemini, true, false, stream);
  ExpectUsage(o.usage, 100, 60, 0, 28, 20);
  EXPECT_EQ(o.estimate, 3);
  ExpectSplitInvariant(WireProtocol::kGemini, true, false, stream);
}

TEST(UsageTap, GeminiPrettyPrintedArrayStream) {
  const std::string stream =
      "\n[{\n  \"candidates\": [\n    {\n      \"content\": {\n        \"parts\": [\n          {\n            \"text\": "
      "\"Hi \\\"]}\"\n          }\n        ],\n        \"role\": \"model\"\n      }\n    }\n  ],\n  \"usageMetadata\": "
      "{\n    \"promptTokenCount\": 7,\n    \"candidatesTokenCount\": 2,\n    \"totalTokenCount\": 9\n  }\n}\n,\r\n{\n  "
      "\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"f\", \"args\": {\"a\": 1}}}]},"
      "\"finishReason\": \"STOP\"}],\n  \"usageMetadata\": {\"promptTokenCount\": 7, \"candidatesTokenCount\": 5, "
      "\"toolUsePromptTokenCount\": 3}\n}\n]";
  const Outcome o = RunTap(WireProtocol::kGemini, true, false, stream);
  ExpectUsage(o.usage, 10, 0, 0, 5, 0);
  // Hi \"]} = 7 bytes, args {"a": 1} = 8 bytes.
  EXPECT_EQ(o.estimate, 4);
  ExpectSplitInvariant(WireProtocol::kGemini, true, false, stream);
}

TEST(UsageTap, GeminiNonStream) {
  const std::string body = R"({
  "candidates": [{"content": {"parts": [{"text": "Paris is the capital.", "thought": false}], "role": "model"}, "finishReason": "STOP"}],
  "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 6, "totalTokenCount": 40, "thoughtsTokenCount": 22, "cachedContentTokenCount": 4},
  "modelVersion": "gemini-2.5-pro"
})";
  ExpectUsage(RunTap(WireProtocol::kGemini, false, false, body).usage, 12, 4, 0, 28, 22);
}

TEST(UsageTap, GeminiEmbeddingsHaveNoUsageAndNoOutput) {
  const Outcome o = RunTap(WireProtocol::kGemini, false, false, R"({"embedding":{"values":[0.1,0.2,0.3]}})");
  EXPECT_FALSE(o.usage.has_value());
  EXPECT_EQ(o.estimate, 0);
}

// ---- Ollama ----

const std::string kOllamaStream =
    R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The"},"done":false})"
    "\n"
    R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" sky is"},"done":false})"
    "\n"
    R"({"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000})"
    "\n";

TEST(UsageTap, OllamaStream) {
  const Outcome o = RunTap(WireProtocol::kOllama, true, false, kOllamaStream);
  ExpectUsage(o.usage, 26, 0, 0, 282, 0);
  EXPECT_EQ(o.estimate, 3);  // "The" " sky is" = 10 bytes
  ExpectSplitInvariant(WireProtocol::kOllama, true, false, kOllamaStream);
}

TEST(UsageTap, OllamaStreamLastLineWithoutNewline) {
  std::string stream = kOllamaStream;
  stream.pop_back();
  ExpectUsage(RunTap(WireProtocol::kOllama, true, false, stream).usage, 26, 0, 0, 282, 0);
  ExpectUsage(RunTap(WireProtocol::kOllama, true, false, stream, 7).usage, 26, 0, 0, 282, 0);
}

TEST(UsageTap, OllamaNonStream) {
  const std::string body =
      R"({"model":"llama3.2","created_at":"2023-12-12T14:13:43.416799Z","message":{"role":"assistant","content":"Hello! How are you today?"},"done":true,"total_duration":5191566416,"load_duration":2154458,"prompt_eval_count":26,"prompt_eval_duration":383809000,"eval_count":298,"eval_duration":4799921000})";
  const Outcome o = RunTap(WireProtocol::kOllama, false, false, body);
  ExpectUsage(o.usage, 26, 0, 0, 298, 0);
  EXPECT_EQ(o.estimate, 7);  // 25 bytes
}

TEST(UsageTap, OllamaNdjsonBodyReadAsNonStream) {
  // A client that left "stream" out gets a stream: the counts are still found.
  ExpectUsage(RunTap(WireProtocol::kOllama, false, false, kOllamaStream).usage, 26, 0, 0, 282, 0);
}

// ---- OpenAI Responses (not a passthrough protocol today; read all the same) ----

TEST(UsageTap, ResponsesStream) {
  const std::string stream =
      "event: response.output_text.delta\n"
      R"(data: {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi there"})"
      "\n\n"
      "event: response.completed\n"
      R"(data: {"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":12},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":64},"total_tokens":123}}})"
      "\n\n";
  const Outcome o = RunTap(WireProtocol::kOpenAIResponses, true, false, stream);
  ExpectUsage(o.usage, 36, 12, 0, 87, 64);
  EXPECT_EQ(o.estimate, 2);
}

// ---- Robustness ----

TEST(UsageTap, MalformedInputNeverBreaksAnything) {
  const std::vector<std::string> bodies = {
      "",
      "\n\n\n",
      "data: {\"usage\":{",
      "data: {\"usage\":{\"prompt_tokens\":\"x\",\"completion_tokens\":-5}}\n\n",
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1e400}}\n\n",
      "data: {\"usage\":{\"prompt_tokens\":99999999999999999999999}}\n\n",
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
      std::string(10000, '[') + std::string(10000, ']'),
      std::string(10000, '{'),
      "\"\\\\\\\"usage\\\":{",
      "{\"usageMetadata\":{\"promptTokenCount\":",
      "]]]]}}}}\"\"\"",
      std::string("data: {\"usage\":{\"prompt_tokens\":5}}\r\r\0\xff\xfe", 40),
      "{\"eval_count\":\n",
      "{\"eval_count\": 12, \"prompt_eval_count\": -3, \"done\": true}",
      "\r\n\r\n\r\r\n\n\r",
  };
  const WireProtocol protocols[] = {WireProtocol::kOpenAI, WireProtocol::kAnthropic, WireProtocol::kGemini,
                                    WireProtocol::kOllama, WireProtocol::kOpenAIResponses};
  for (const auto& body : bodies) {
    for (WireProtocol p : protocols) {
      for (bool stream : {false, true}) {
        for (size_t piece : {size_t{0}, size_t{1}, size_t{3}}) {
          Outcome o = RunTap(p, stream, false, body, piece);
          EXPECT_EQ(o.out, body);
          EXPECT_GE(o.estimate, 0);
          if (o.usage) {
            EXPECT_GE(o.usage->input_tokens, 0);
            EXPECT_GE(o.usage->output_tokens, 0);
            EXPECT_LE(o.usage->input_tokens, int64_t{3} << 40);
          }
        }
      }
    }
    const Outcome whole = RunTap(WireProtocol::kOpenAI, true, true, body);
    EXPECT_EQ(RunTap(WireProtocol::kOpenAI, true, true, body, 1).out, whole.out);
  }
  // Counts are clamped: never negative, never absurd.
  auto u = RunTap(WireProtocol::kOllama, false, false, "{\"eval_count\": 12, \"prompt_eval_count\": -3}").usage;
  ExpectUsage(u, 0, 0, 0, 12, 0);
  u = RunTap(WireProtocol::kOpenAI, true, false,
             "data: {\"usage\":{\"prompt_tokens\":18446744073709551615,\"completion_tokens\":1e20}}\n\n")
          .usage;
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->input_tokens, int64_t{1} << 40);
  EXPECT_EQ(u->output_tokens, int64_t{1} << 40);
  // An integer too large for simdjson makes the event unreadable: no usage, no crash.
  EXPECT_FALSE(RunTap(WireProtocol::kOpenAI, true, false, "data: {\"usage\":{\"prompt_tokens\":99999999999999999999999}}\n\n")
                   .usage.has_value());
}

TEST(UsageTap, FeedAfterFinishPassesThrough) {
  auto tap = NewUsageTap(WireProtocol::kOpenAI, true, true);
  tap->Feed("data: {\"a\":");
  EXPECT_EQ(tap->Finish(), "data: {\"a\":");
  EXPECT_EQ(tap->Feed("more"), "more");
  EXPECT_EQ(tap->Finish(), "");
}

TEST(UsageTap, EstimateInputTokens) {
  EXPECT_EQ(EstimateInputTokens(""), 1);
  EXPECT_EQ(EstimateInputTokens("abc"), 1);
  EXPECT_EQ(EstimateInputTokens(std::string(400, 'x')), 100);
  EXPECT_EQ(EstimateInputTokens(std::string(403, 'x')), 100);
}

}  // namespace
}  // namespace sy::gov
