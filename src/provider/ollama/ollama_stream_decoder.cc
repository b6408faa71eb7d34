// Ollama upstream codec, streams: /api/chat NDJSON → internal events.
//
// Lines may be split anywhere across Feed calls; a last line without "\n" is
// still parsed by Finish. Per line: kStart before the first event (id made
// here: Ollama sends none); message.thinking → kReasoningDelta;
// message.content → kTextDelta; each tool call (they arrive whole) →
// kToolCallStart + one kToolCallDelta + kToolCallEnd, numbered densely here
// (Ollama may give parallel calls all index 0); done:true → kUsage when it
// carries counts, then kFinish; {"error":...} → kError.
#include <simdjson.h>

#include <string>

#include "core/ids.h"
#include "provider/ollama/ollama_codec.h"
#include "provider/ollama/ollama_decode.h"

namespace sy::ollama {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// A line longer than this is not an Ollama chunk (tool arguments included).
constexpr size_t kMaxLine = 64 * 1024 * 1024;

class NdjsonDecoder final : public StreamDecoder {
 public:
  void Feed(std::string_view bytes, std::vector<chat::StreamEvent>* out) override {
    while (!terminal_ && !bytes.empty()) {
      size_t nl = bytes.find('\n');
      if (nl == std::string_view::npos) {
        buffer_.append(bytes);
        if (buffer_.size() > kMaxLine) Fail("Ollama sent a stream line longer than the gateway accepts.", out);
        return;
      }
      if (buffer_.empty()) {
        Line(bytes.substr(0, nl), out);
      } else {
        buffer_.append(bytes.substr(0, nl));
        Line(buffer_, out);
        buffer_.clear();
      }
      bytes.remove_prefix(nl + 1);
    }
  }

  void Finish(std::vector<chat::StreamEvent>* out) override {
    if (terminal_) return;
    if (!buffer_.empty()) {
      std::string last;
      last.swap(buffer_);
      Line(last, out);
    }
    if (!terminal_) Fail("Ollama's stream ended early (no done:true line).", out);
  }

 private:
  void Fail(std::string message, std::vector<chat::StreamEvent>* out) {
    chat::StreamEvent e;
    e.kind = chat::EventKind::kError;
    e.error = MakeError(ErrorCode::kProviderError, std::move(message));
    out->push_back(std::move(e));
    terminal_ = true;
  }

  void Emit(chat::EventKind kind, std::vector<chat::StreamEvent>* out, std::string text = {}, int index = 0) {
    chat::StreamEvent e;
    e.kind = kind;
    e.text = std::move(text);
    e.index = index;
    out->push_back(std::move(e));
  }

  void Line(std::string_view line, std::vector<chat::StreamEvent>* out) {
    size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string_view::npos) return;  // blank line
    thread_local simdjson::dom::parser parser;
    object obj;
    if (parser.parse(line.data(), line.size()).get_object().get(obj)) {
      return Fail("Ollama sent a stream line that is not a JSON object.", out);
    }
    std::string message;
    if (decode::ErrorText(obj, &message)) return Fail(std::move(message), out);

    std::string_view s;
    if (!started_) {
      started_ = true;
      chat::StreamEvent start;
      start.kind = chat::EventKind::kStart;
      start.id = chat::NewId("chatcmpl-");
      if (!obj["model"].get_string().get(s)) start.model = std::string(s);
      out->push_back(std::move(start));
    }

    std::vector<chat::Part> calls;
    object msg;
    if (!obj["message"].get_object().get(msg)) {
      if (!msg["thinking"].get_string().get(s) && !s.empty()) {
        Emit(chat::EventKind::kReasoningDelta, out, std::string(s));
      }
      if (!msg["content"].get_string().get(s) && !s.empty()) Emit(chat::EventKind::kTextDelta, out, std::string(s));
      element list;
      if (!msg["tool_calls"].get(list) && !decode::ToolCalls(list, &calls)) {
        return Fail("Ollama sent a malformed tool call.", out);
      }
    } else {  // /api/generate lines, should an upstream answer in that shape
      if (!obj["thinking"].get_string().get(s) && !s.empty()) {
        Emit(chat::EventKind::kReasoningDelta, out, std::string(s));
      }
      if (!obj["response"].get_string().get(s) && !s.empty()) Emit(chat::EventKind::kTextDelta, out, std::string(s));
    }
    for (auto& call : calls) {
      const int index = next_index_++;
      chat::StreamEvent start;
      start.kind = chat::EventKind::kToolCallStart;
      start.index = index;
      start.id = std::move(call.id);
      start.name = std::move(call.name);
      out->push_back(std::move(start));
      Emit(chat::EventKind::kToolCallDelta, out, std::move(call.arguments), index);
      Emit(chat::EventKind::kToolCallEnd, out, {}, index);
    }

    bool done = false;
    if (obj["done"].get_bool().get(done) || !done) return;
    if (auto usage = decode::Usage(obj)) {
      chat::StreamEvent u;
      u.kind = chat::EventKind::kUsage;
      u.usage = *usage;
      out->push_back(std::move(u));
    }
    chat::StreamEvent finish;
    finish.kind = chat::EventKind::kFinish;
    finish.finish = chat::FinishReason::kStop;
    if (!obj["done_reason"].get_string().get(s)) finish.finish = decode::DoneReason(s);
    if (finish.finish == chat::FinishReason::kStop && next_index_ > 0) finish.finish = chat::FinishReason::kToolCalls;
    out->push_back(std::move(finish));
    terminal_ = true;
  }

  std::string buffer_;  // an unfinished line
  bool started_ = false;
  bool terminal_ = false;
  int next_index_ = 0;  // tool calls seen so far
};

}  // namespace

std::unique_ptr<StreamDecoder> OllamaCodec::NewStreamDecoder() const { return std::make_unique<NdjsonDecoder>(); }

}  // namespace sy::ollama
