// The usage tap reads each protocol's usage exactly as the translating path
// does: for the same upstream answer, the tap's usage equals the one the
// provider codec decodes (stream decoder and DecodeChat).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "governance/usage_tap.h"
#include "provider/anthropic/anthropic_codec.h"
#include "provider/gemini/gemini_codec.h"
#include "provider/ollama/ollama_codec.h"
#include "provider/openai/openai_codec.h"

namespace sy::gov {
namespace {

std::optional<chat::Usage> TapUsage(WireProtocol protocol, bool stream, std::string_view body) {
  auto tap = NewUsageTap(protocol, stream, false);
  for (size_t at = 0; at < body.size(); at += 7) tap->Feed(body.substr(at, 7));
  tap->Finish();
  return tap->usage();
}

// The last usage the decoder reported (kUsage, else kStart's).
std::optional<chat::Usage> DecoderUsage(const UpstreamCodec& codec, std::string_view body) {
  auto decoder = codec.NewStreamDecoder();
  std::vector<chat::StreamEvent> events;
  decoder->Feed(body, &events);
  decoder->Finish(&events);
  std::optional<chat::Usage> usage;
  for (const auto& e : events) {
    if ((e.kind == chat::EventKind::kUsage || e.kind == chat::EventKind::kStart) && e.usage) usage = e.usage;
  }
  return usage;
}

std::optional<chat::Usage> DecodedChatUsage(const UpstreamCodec& codec, std::string_view body) {
  auto r = codec.DecodeChat(body);
  if (!std::holds_alternative<chat::Response>(r)) return std::nullopt;
  return std::get<chat::Response>(r).usage;
}

void ExpectSameUsage(const std::optional<chat::Usage>& tap, const std::optional<chat::Usage>& codec) {
  ASSERT_TRUE(tap.has_value());
  ASSERT_TRUE(codec.has_value());
  EXPECT_EQ(tap->input_tokens, codec->input_tokens);
  EXPECT_EQ(tap->cached_input_tokens, codec->cached_input_tokens);
  EXPECT_EQ(tap->cache_write_tokens, codec->cache_write_tokens);
  EXPECT_EQ(tap->output_tokens, codec->output_tokens);
  EXPECT_EQ(tap->reasoning_tokens, codec->reasoning_tokens);
}

std::string Sse(const std::vector<std::string>& datas) {
  std::string s;
  for (const auto& d : datas) s += "data: " + d + "\n\n";
  return s;
}

TEST(UsageTapMatchesDecoders, OpenAi) {
  const std::string usage =
      R"("usage":{"prompt_tokens":1200,"completion_tokens":40,"total_tokens":1240,"prompt_tokens_details":{"cached_tokens":1024,"cache_write_tokens":64},"completion_tokens_details":{"reasoning_tokens":10}})";
  const std::string stream = Sse({
      R"({"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}],"usage":null})",
      R"({"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null})",
      R"({"id":"c","object":"chat.completion.chunk","model":"m","choices":[],)" + usage + "}",
      "[DONE]",
  });
  openai::OpenAiCodec codec;
  ExpectSameUsage(TapUsage(WireProtocol::kOpenAI, true, stream), DecoderUsage(codec, stream));
  const std::string body =
      R"({"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],)" +
      usage + "}";
  ExpectSameUsage(TapUsage(WireProtocol::kOpenAI, false, body), DecodedChatUsage(codec, body));
  const std::string deepseek =
      R"({"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_cache_hit_tokens":64}})";
  ExpectSameUsage(TapUsage(WireProtocol::kOpenAI, false, deepseek), DecodedChatUsage(codec, deepseek));
  const std::string groq = Sse({
      R"({"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}],"x_groq":{"id":"r","usage":{"prompt_tokens":20,"completion_tokens":7}}})",
      "[DONE]",
  });
  ExpectSameUsage(TapUsage(WireProtocol::kOpenAI, true, groq), DecoderUsage(codec, groq));
}

TEST(UsageTapMatchesDecoders, Anthropic) {
  const std::string stream =
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-20250514","usage":{"input_tokens":25,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":1}}})"
      "\n\n"
      "event: content_block_start\n"
      R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
      "\n\n"
      "event: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})"
      "\n\n"
      "event: content_block_stop\n"
      R"(data: {"type":"content_block_stop","index":0})"
      "\n\n"
      "event: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":15}})"
      "\n\n"
      "event: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}})"
      "\n\n"
      "event: message_stop\n"
      R"(data: {"type":"message_stop"})"
      "\n\n";
  anthropic::AnthropicCodec codec;
  ExpectSameUsage(TapUsage(WireProtocol::kAnthropic, true, stream), DecoderUsage(codec, stream));
  const std::string body =
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-3-7-sonnet-20250219","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","usage":{"input_tokens":2095,"cache_creation_input_tokens":7,"cache_read_input_tokens":1800,"output_tokens":503}})";
  ExpectSameUsage(TapUsage(WireProtocol::kAnthropic, false, body), DecodedChatUsage(codec, body));
}

TEST(UsageTapMatchesDecoders, Gemini) {
  const std::string stream = Sse({
      R"({"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":100,"totalTokenCount":100,"cachedContentTokenCount":60},"modelVersion":"gemini-2.5-flash"})",
      R"({"candidates":[{"content":{"parts":[{"text":"!"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":8,"totalTokenCount":128,"cachedContentTokenCount":60,"thoughtsTokenCount":20,"toolUsePromptTokenCount":4},"modelVersion":"gemini-2.5-flash"})",
  });
  gemini::GeminiCodec codec;
  ExpectSameUsage(TapUsage(WireProtocol::kGemini, true, stream), DecoderUsage(codec, stream));
  const std::string body =
      R"({"candidates":[{"content":{"parts":[{"text":"Paris"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":6,"thoughtsTokenCount":22,"cachedContentTokenCount":4}})";
  ExpectSameUsage(TapUsage(WireProtocol::kGemini, false, body), DecodedChatUsage(codec, body));
}

TEST(UsageTapMatchesDecoders, Ollama) {
  const std::string stream =
      R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19Z","message":{"role":"assistant","content":"The"},"done":false})"
      "\n"
      R"({"model":"llama3.2","created_at":"2023-08-04T19:22:45Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":282})"
      "\n";
  ollama::OllamaCodec codec;
  ExpectSameUsage(TapUsage(WireProtocol::kOllama, true, stream), DecoderUsage(codec, stream));
  const std::string body =
      R"({"model":"llama3.2","created_at":"2023-12-12T14:13:43Z","message":{"role":"assistant","content":"Hello!"},"done":true,"prompt_eval_count":26,"eval_count":298})";
  ExpectSameUsage(TapUsage(WireProtocol::kOllama, false, body), DecodedChatUsage(codec, body));
}

}  // namespace
}  // namespace sy::gov
