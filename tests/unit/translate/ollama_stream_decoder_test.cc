// The Ollama upstream codec's NDJSON stream decoder.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "provider/ollama/ollama_codec.h"

namespace sy::ollama {
namespace {

using chat::EventKind;

std::vector<chat::StreamEvent> Decode(const std::vector<std::string_view>& pieces, bool finish = true) {
  OllamaCodec codec;
  auto dec = codec.NewStreamDecoder();
  std::vector<chat::StreamEvent> out;
  for (auto p : pieces) dec->Feed(p, &out);
  if (finish) dec->Finish(&out);
  return out;
}

std::vector<chat::StreamEvent> DecodeBytewise(std::string_view body) {
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < body.size(); ++i) pieces.push_back(body.substr(i, 1));
  return Decode(pieces);
}

// A comparable rendering of events; generated ids (the stream's, and tool
// calls without one upstream) are left out.
std::string Render(const std::vector<chat::StreamEvent>& events, bool with_call_ids = true) {
  std::string s;
  for (const auto& e : events) {
    switch (e.kind) {
      case EventKind::kStart:
        s += "start(" + e.model + ")";
        break;
      case EventKind::kTextDelta:
        s += "text(" + e.text + ")";
        break;
      case EventKind::kReasoningDelta:
        s += "reason(" + e.text + ")";
        break;
      case EventKind::kToolCallStart:
        s += "call" + std::to_string(e.index) + "(" + (with_call_ids ? e.id + "," : "") + e.name + ")";
        break;
      case EventKind::kToolCallDelta:
        s += "args" + std::to_string(e.index) + "(" + e.text + ")";
        break;
      case EventKind::kToolCallEnd:
        s += "end" + std::to_string(e.index);
        break;
      case EventKind::kUsage:
        s += "usage(" + std::to_string(e.usage->input_tokens) + "," + std::to_string(e.usage->output_tokens) + ")";
        break;
      case EventKind::kFinish:
        s += std::string("finish(") + chat::FinishReasonName(e.finish) + ")";
        break;
      case EventKind::kError:
        s += "error(" + (e.error ? e.error->message : "") + ")";
        break;
      default:
        s += "other";
    }
    s += " ";
  }
  return s;
}

constexpr std::string_view kChat =
    R"({"model":"llama3","created_at":"2024-05-01T12:00:00.1Z","message":{"role":"assistant","content":"","thinking":"Let me"},"done":false})"
    "\n"
    R"({"model":"llama3","created_at":"2024-05-01T12:00:00.2Z","message":{"role":"assistant","content":"Hel"},"done":false})"
    "\n"
    R"({"model":"llama3","created_at":"2024-05-01T12:00:00.3Z","message":{"role":"assistant","content":"lo é\n"},"done":false})"
    "\n"
    R"({"model":"llama3","created_at":"2024-05-01T12:00:00.4Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":1,"prompt_eval_count":26,"prompt_eval_duration":1,"eval_count":290,"eval_duration":1})"
    "\n";

constexpr char kChatEvents[] = "start(llama3) reason(Let me) text(Hel) text(lo é\n) usage(26,290) finish(stop) ";

TEST(OllamaStreamDecoderTest, TextReasoningUsageFinish) {
  auto events = Decode({kChat});
  EXPECT_EQ(Render(events), kChatEvents);
  ASSERT_FALSE(events.empty());
  EXPECT_FALSE(events[0].id.empty());
}

TEST(OllamaStreamDecoderTest, SplitAtEveryByte) {
  EXPECT_EQ(Render(DecodeBytewise(kChat)), kChatEvents);
  for (size_t cut = 0; cut <= kChat.size(); ++cut) {
    EXPECT_EQ(Render(Decode({kChat.substr(0, cut), kChat.substr(cut)})), kChatEvents) << "cut at " << cut;
  }
}

TEST(OllamaStreamDecoderTest, ParallelCallsAtIndexZeroGetDenseIndices) {
  constexpr std::string_view body =
      R"({"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_a","function":{"index":0,"name":"get_weather","arguments":{"city":"Paris"}}},{"id":"call_b","function":{"index":0,"name":"get_weather","arguments":{"city":"London"}}}]},"done":false})"
      "\n"
      R"({"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"index":0,"name":"get_time","arguments":{}}}]},"done":false})"
      "\n"
      R"({"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":5,"eval_count":9})"
      "\n";
  constexpr char kWant[] =
      "start(m) call0(get_weather) args0({\"city\":\"Paris\"}) end0 call1(get_weather) args1({\"city\":\"London\"}) "
      "end1 call2(get_time) args2({}) end2 usage(5,9) finish(tool_calls) ";
  auto events = Decode({body});
  EXPECT_EQ(Render(events, false), kWant);
  EXPECT_EQ(events[1].id, "call_a");
  EXPECT_EQ(events[4].id, "call_b");
  EXPECT_TRUE(events[7].id.starts_with("call_"));  // generated for the id-less call
  EXPECT_EQ(Render(DecodeBytewise(body), false), kWant);
}

TEST(OllamaStreamDecoderTest, ToolCallsTruncatedByLengthStayLength) {
  auto events = Decode(
      {R"({"model":"m","message":{"content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"done":false})"
       "\n"
       R"({"model":"m","message":{"content":""},"done":true,"done_reason":"length"})"});
  EXPECT_EQ(Render(events, false), "start(m) call0(f) args0({\"a\":1}) end0 finish(length) ");
}

TEST(OllamaStreamDecoderTest, DoneWithoutCountsHasNoUsage) {
  EXPECT_EQ(Render(Decode({"{\"model\":\"m\",\"message\":{\"content\":\"x\"},\"done\":true}\n"})),
            "start(m) text(x) finish(stop) ");
  EXPECT_EQ(
      Render(Decode({"{\"model\":\"m\",\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"load\"}\n"})),
      "start(m) finish(stop) ");
}

TEST(OllamaStreamDecoderTest, ErrorLineMidStream) {
  OllamaCodec codec;
  auto dec = codec.NewStreamDecoder();
  std::vector<chat::StreamEvent> out;
  dec->Feed(
      "{\"model\":\"m\",\"message\":{\"content\":\"par\"},\"done\":false}\n{\"error\":\"an error was encountered "
      "while running the model: CUDA out of memory\"}\n{\"model\":\"m\",\"message\":{\"content\":\"late\"}}\n",
      &out);
  dec->Feed("{\"model\":\"m\",\"done\":true}\n", &out);
  dec->Finish(&out);
  EXPECT_EQ(Render(out),
            "start(m) text(par) error(an error was encountered while running the model: CUDA out of memory) ");
  ASSERT_TRUE(out.back().error);
  EXPECT_EQ(out.back().error->code, ErrorCode::kProviderError);
}

TEST(OllamaStreamDecoderTest, ErrorBeforeAnythingElse) {
  EXPECT_EQ(Render(Decode({"{\"error\":\"model 'x' not found\"}\n"})), "error(model 'x' not found) ");
}

TEST(OllamaStreamDecoderTest, EndedEarly) {
  auto events = Decode({"{\"model\":\"m\",\"message\":{\"content\":\"par\"},\"done\":false}\n"});
  EXPECT_EQ(Render(events), "start(m) text(par) error(Ollama's stream ended early (no done:true line).) ");
  EXPECT_EQ(Render(Decode({""})), "error(Ollama's stream ended early (no done:true line).) ");
}

TEST(OllamaStreamDecoderTest, LastLineWithoutNewlineAndCrLf) {
  EXPECT_EQ(Render(Decode({"{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false}\r\n\r\n\n",
                           "{\"model\":\"m\",\"message\":{\"content\":\"b\"},\"done\":true,\"eval_count\":2}"})),
            "start(m) text(a) text(b) usage(0,2) finish(stop) ");
  // Without Finish the unterminated line waits.
  EXPECT_EQ(Render(Decode({"{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":true}"}, false)), "");
}

TEST(OllamaStreamDecoderTest, MalformedLines) {
  EXPECT_EQ(Render(Decode({"data: {}\n"})), "error(Ollama sent a stream line that is not a JSON object.) ");
  EXPECT_EQ(Render(Decode({"[1]\n"})), "error(Ollama sent a stream line that is not a JSON object.) ");
  EXPECT_EQ(Render(Decode({"{\"model\":\"m\",\"message\":{\"tool_calls\":[{\"function\":{}}]}}\n"})),
            "start(m) error(Ollama sent a malformed tool call.) ");
  EXPECT_EQ(Render(Decode({"{\"model\":\"m\",\"message\":{\"tool_calls\":{}}}\n"})),
            "start(m) error(Ollama sent a malformed tool call.) ");
}

TEST(OllamaStreamDecoderTest, NothingAfterTheEnd) {
  OllamaCodec codec;
  auto dec = codec.NewStreamDecoder();
  std::vector<chat::StreamEvent> out;
  dec->Feed("{\"model\":\"m\",\"message\":{\"content\":\"\"},\"done\":true}\n{\"message\":{\"content\":\"x\"}}\n",
            &out);
  dec->Finish(&out);
  dec->Feed("garbage\n", &out);
  dec->Finish(&out);
  EXPECT_EQ(Render(out), "start(m) finish(stop) ");
}

TEST(OllamaStreamDecoderTest, HugeArgumentsSplitAcrossPieces) {
  std::string big(200000, 'x');
  std::string line =
      "{\"model\":\"m\",\"message\":{\"tool_calls\":[{\"function\":{\"name\":\"w\",\"arguments\":{\"text\":\"" + big +
      "\"}}}]},\"done\":true}\n";
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < line.size(); i += 4096) pieces.push_back(std::string_view(line).substr(i, 4096));
  auto events = Decode(pieces);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[2].kind, EventKind::kToolCallDelta);
  EXPECT_EQ(events[2].text, "{\"text\":\"" + big + "\"}");
  EXPECT_EQ(events[4].finish, chat::FinishReason::kToolCalls);
}

TEST(OllamaStreamDecoderTest, GenerateShapedLines) {
  EXPECT_EQ(Render(Decode({"{\"model\":\"m\",\"response\":\"Hi\",\"thinking\":\"t\",\"done\":false}\n"
                           "{\"model\":\"m\",\"response\":\"\",\"done\":true}\n"})),
            "start(m) reason(t) text(Hi) finish(stop) ");
}

}  // namespace
}  // namespace sy::ollama
