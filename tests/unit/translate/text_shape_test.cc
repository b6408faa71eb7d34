// TextShape (provider/text_shape.h) and the OpenAI stream decoder's text fast
// path built on it: the fast path must decode every stream exactly as the
// full parse does.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "provider/openai/openai_codec.h"
#include "provider/text_shape.h"

namespace sy {
namespace {

constexpr std::string_view kPrefix = R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":")";
constexpr std::string_view kSuffix = R"("},"logprobs":null,"finish_reason":null}]})";

std::string Chunk(std::string_view text) { return std::string(kPrefix) + std::string(text) + std::string(kSuffix); }

TEST(TextShape, MatchesTheSameBytesAroundANewText) {
  TextShape shape;
  shape.Learn("", Chunk("tok0"), "\"content\"", "tok0");
  ASSERT_TRUE(shape.learned());
  EXPECT_EQ(shape.Match("", Chunk("tok1")), "tok1");
  EXPECT_EQ(shape.Match("", Chunk("a longer piece, with 'quotes' and UTF-8: caf\xc3\xa9")),
            "a longer piece, with 'quotes' and UTF-8: caf\xc3\xa9");
}

TEST(TextShape, LeavesAnythingUnsureToTheFullParse) {
  TextShape shape;
  shape.Learn("", Chunk("tok0"), "\"content\"", "tok0");
  ASSERT_TRUE(shape.learned());
  EXPECT_FALSE(shape.Match("", Chunk("")));                 // empty: the decoder looks at refusal then
  EXPECT_FALSE(shape.Match("", Chunk(R"(a\"b)")));          // an escape
  EXPECT_FALSE(shape.Match("", Chunk(R"(a\nb)")));
  EXPECT_FALSE(shape.Match("", Chunk("a\"b")));             // a quote: not one string any more
  EXPECT_FALSE(shape.Match("", Chunk("a\nb")));             // a raw control character
  EXPECT_FALSE(shape.Match("", Chunk("bad \xc3(")));        // invalid UTF-8
  EXPECT_FALSE(shape.Match("error", Chunk("tok1")));        // another event name
  std::string other = Chunk("tok1");
  other[8] = '2';                                            // another id
  EXPECT_FALSE(shape.Match("", other));
  EXPECT_FALSE(shape.Match("", Chunk("tok1") + " "));       // a byte more after it
}

TEST(TextShape, LearnsOnlyUnambiguousEvents) {
  TextShape shape;
  shape.Learn("", Chunk(R"(to\u006b)"), "\"content\"", "tok");  // a backslash anywhere
  EXPECT_FALSE(shape.learned());
  // The key twice (another object holds it too).
  shape.Learn("", R"({"x":{"content":"a"},"choices":[{"delta":{"content":"a"}}]})", "\"content\"", "a");
  EXPECT_FALSE(shape.learned());
  // Spacing after the key: the text token does not follow it directly.
  shape.Learn("", R"({"choices":[{"delta":{"content" : "a"}}]})", "\"content\"", "a");
  EXPECT_FALSE(shape.learned());
  // The decoded text is not what follows the key.
  shape.Learn("", R"({"choices":[{"delta":{"content":"a"}}]})", "\"content\"", "b");
  EXPECT_FALSE(shape.learned());
  shape.Learn("", R"({"choices":[{"delta":{"content":"a"}}]})", "\"content\"", "a");
  EXPECT_TRUE(shape.learned());
}

std::vector<chat::StreamEvent> Decode(const std::string& body, bool fast_path) {
  auto decoder = openai::NewStreamDecoder(fast_path);
  std::vector<chat::StreamEvent> events;
  decoder->Feed(body, &events);
  decoder->Finish(&events);
  return events;
}

void ExpectSameEvents(const std::string& body) {
  const auto fast = Decode(body, true);
  const auto full = Decode(body, false);
  ASSERT_EQ(fast.size(), full.size()) << body;
  for (size_t i = 0; i < fast.size(); ++i) {
    EXPECT_EQ(fast[i].kind, full[i].kind) << i;
    EXPECT_EQ(fast[i].text, full[i].text) << i;
    EXPECT_EQ(fast[i].index, full[i].index) << i;
    EXPECT_EQ(fast[i].finish, full[i].finish) << i;
    EXPECT_EQ(fast[i].usage.has_value(), full[i].usage.has_value()) << i;
  }
}

std::string Sse(std::string_view json) { return "data: " + std::string(json) + "\n\n"; }

TEST(OpenAiTextFastPath, DecodesEveryStreamAsTheFullParse) {
  const std::string role = Sse(R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})");
  const std::string finish = Sse(R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]})");
  const std::string done = "data: [DONE]\n\n";
  // Plain text chunks, then ones the fast path must refuse among them.
  std::string body = role;
  for (std::string_view t : {"tok0", "tok1", R"(esc\"aped)", "tok2", "", "caf\xc3\xa9", R"(\u00e9)", "tok3"}) {
    body += Sse(Chunk(t));
  }
  // Same bytes around the text, but in a chunk that also finishes: the
  // suffix differs, so it is parsed.
  body += Sse(std::string(kPrefix) + "last" + R"("},"logprobs":null,"finish_reason":"length"}]})");
  body += finish + done;
  ExpectSameEvents(body);
  const auto events = Decode(body, true);
  std::string text;
  for (const auto& e : events) {
    if (e.kind == chat::EventKind::kTextDelta) text += e.text;
  }
  EXPECT_EQ(text, "tok0tok1esc\"apedtok2caf\xc3\xa9\xc3\xa9tok3last");
  EXPECT_EQ(events.back().finish, chat::FinishReason::kStop);  // the last finish_reason sent
}

TEST(OpenAiTextFastPath, ChunksThatLookAlikeButCarryMore) {
  const std::string role = Sse(R"({"id":"c1","choices":[{"index":0,"delta":{"role":"assistant"}}]})");
  std::string body = role;
  body += Sse(R"({"id":"c1","choices":[{"index":0,"delta":{"content":"a"}}]})");
  body += Sse(R"({"id":"c1","choices":[{"index":0,"delta":{"content":"b"}}]})");
  // A refusal, reasoning and a tool call in chunks of another shape.
  body += Sse(R"({"id":"c1","choices":[{"index":0,"delta":{"content":"c","reasoning_content":"r"}}]})");
  body += Sse(R"({"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":"{}"}}]}}]})");
  body += Sse(R"({"id":"c1","choices":[{"index":0,"delta":{"content":"d"}}]})");
  body += Sse(R"({"id":"c1","choices":[{"index":1,"delta":{"content":"e"}}]})");  // n > 1: ignored
  body += Sse(R"({"id":"c1","choices":[{"index":0,"delta":{"content":"f"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}})");
  body += Sse(R"({"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})");
  body += "data: [DONE]\n\n";
  ExpectSameEvents(body);
}

// Found by openai_stream_fuzz (fuzz/regressions/openai_stream_fuzz/
// text_shape_learned_from_ignored_choice): a chunk for choice 1, which the
// decoder ignores, was taken for a plain text chunk and its bytes learned, so
// later chunks for choice 1 came out as text.
TEST(OpenAiTextFastPath, NeverLearnsFromAChunkThatMadeNoText) {
  std::string body = Sse(R"({"id":"r","choices":[{"index":0,"delta":{"role":"assistant"}}]})");
  body += Sse(R"({"id":"r","choices":[{"index":0,"delta":{"content":"ok"}}]})");
  for (int i = 0; i < 3; ++i) body += Sse(R"({"id":"r","choices":[{"index":1,"delta":{"content":"ok"}}]})");
  body += Sse(R"({"id":"r","choices":["not an object"]})");
  body += Sse(R"({"id":"r","choices":[{"index":0,"delta":{"content":"end"}}]})");
  body += Sse(R"({"id":"r","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})") + "data: [DONE]\n\n";
  ExpectSameEvents(body);
  std::string text;
  for (const auto& e : Decode(body, true)) {
    if (e.kind == chat::EventKind::kTextDelta) text += e.text;
  }
  EXPECT_EQ(text, "okend");
}

}  // namespace
}  // namespace sy
