// The Anthropic stream decoder: an Anthropic Messages SSE body into internal
// stream events.
//
// message_start → kStart (id, model, input usage); content blocks are keyed
// by their wire index; tool_use blocks get dense call indices in the order
// they start; message_delta → kUsage (cumulative, merged with message_start);
// message_stop → kFinish; `error` → kError. A tool with no input deltas gets
// "{}" as its arguments.
#include <simdjson.h>

#include <map>

#include "frontdoor/anthropic/anthropic_wire.h"
#include "provider/anthropic/anthropic_codec.h"
#include "provider/event_json.h"
#include "sse/sse_parser.h"

namespace sy::anthropic {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

std::string_view Str(object obj, std::string_view key) {
  std::string_view s;
  if (obj[key].get_string().get(s)) return {};
  return s;
}

class Decoder final : public StreamDecoder {
 public:
  Decoder() : sse_([this](const sse::Event& e) { Handle(e); }) {}

  void Feed(std::string_view bytes, std::vector<chat::StreamEvent>* out) override {
    if (done_) return;
    out_ = out;
    sse_.Feed(bytes);
    out_ = nullptr;
  }

  void Finish(std::vector<chat::StreamEvent>* out) override {
    if (done_) return;
    out_ = out;
    // A last event without its blank line still counts.
    if (sse_.partial()) sse_.Feed("\n\n");
    if (!done_) Fail("The upstream stream ended early (no message_stop).");
    out_ = nullptr;
  }

 private:
  enum class BlockKind { kText, kThinking, kTool, kOther };
  struct Block {
    BlockKind kind = BlockKind::kOther;
    int call = -1;              // kTool: dense call index
    bool got_arguments = false; // kTool: a non-empty input_json_delta came
    std::string initial_input;  // kTool: a non-empty input of content_block_start
    bool stopped = false;
  };

  void Emit(chat::StreamEvent e) { out_->push_back(std::move(e)); }

  void Fail(std::string message) {
    chat::StreamEvent e;
    e.kind = chat::EventKind::kError;
    e.error = MakeError(ErrorCode::kProviderError, std::move(message));
    Emit(std::move(e));
    done_ = true;
  }

  void EmitText(chat::EventKind kind, std::string_view text) {
    if (text.empty()) return;
    chat::StreamEvent e;
    e.kind = kind;
    e.text = std::string(text);
    Emit(std::move(e));
  }

  void EnsureStarted() {
    if (started_) return;
    started_ = true;
    chat::StreamEvent e;
    e.kind = chat::EventKind::kStart;
    Emit(std::move(e));
  }

  // Reads the counts present in `usage` over the ones known so far.
  void MergeUsage(object usage) {
    int64_t v = 0;
    if (!usage["input_tokens"].get_int64().get(v)) input_ = v;
    if (!usage["cache_read_input_tokens"].get_int64().get(v)) cache_read_ = v;
    if (!usage["cache_creation_input_tokens"].get_int64().get(v)) cache_creation_ = v;
    if (!usage["output_tokens"].get_int64().get(v)) output_ = v;
  }
  chat::Usage CurrentUsage() const { return UsageFromWire(input_, cache_read_, cache_creation_, output_); }

  void Handle(const sse::Event& event) {
    if (done_) return;
    thread_local simdjson::dom::parser parser;
    object obj;
    if (ParseEventJson(parser, event).get_object().get(obj)) {  // in place: the SSE parser left the padding
      Fail("The upstream sent a malformed stream event.");
      return;
    }
    std::string_view type = Str(obj, "type");
    if (type.empty()) type = event.event;
    if (type == "ping") return;
    if (type == "error") return OnError(obj);
    if (type == "message_start") return OnMessageStart(obj);
    if (type == "content_block_start") return OnBlockStart(obj);
    if (type == "content_block_delta") return OnBlockDelta(obj);
    if (type == "content_block_stop") return OnBlockStop(obj);
    if (type == "message_delta") return OnMessageDelta(obj);
    if (type == "message_stop") return OnMessageStop();
    // Unknown events are newer API additions: ignored.
  }

  void OnError(object obj) {
    object error;
    std::string_view type;
    std::string message = "The upstream reported an error.";
    if (!obj["error"].get_object().get(error)) {
      type = Str(error, "type");
      if (std::string_view m = Str(error, "message"); !m.empty()) message = std::string(m);
    }
    chat::StreamEvent e;
    e.kind = chat::EventKind::kError;
    e.error = MakeError(ErrorCodeForType(type), std::move(message));
    Emit(std::move(e));
    done_ = true;
  }

  void OnMessageStart(object obj) {
    if (started_) return;  // a duplicate message_start adds nothing
    started_ = true;
    object message;
    chat::StreamEvent e;
    e.kind = chat::EventKind::kStart;
    if (!obj["message"].get_object().get(message)) {
      e.id = std::string(Str(message, "id"));
      e.model = std::string(Str(message, "model"));
      object usage;
      if (!message["usage"].get_object().get(usage)) {
        MergeUsage(usage);
        e.usage = CurrentUsage();
      }
    }
    Emit(std::move(e));
  }

  void OnBlockStart(object obj) {
    EnsureStarted();
    int64_t index = 0;
    object cb;
    if (obj["index"].get_int64().get(index) || obj["content_block"].get_object().get(cb)) {
      Fail("The upstream sent a malformed content_block_start.");
      return;
    }
    if (blocks_.count(index)) return;  // a second start for the same block
    Block& b = blocks_[index];
    std::string_view type = Str(cb, "type");
    if (type == "text") {
      b.kind = BlockKind::kText;
      EmitText(chat::EventKind::kTextDelta, Str(cb, "text"));
    } else if (type == "thinking") {
      b.kind = BlockKind::kThinking;
      EmitText(chat::EventKind::kReasoningDelta, Str(cb, "thinking"));
      EmitText(chat::EventKind::kReasoningSignature, Str(cb, "signature"));
    } else if (type == "redacted_thinking") {
      EmitText(chat::EventKind::kRedactedReasoning, Str(cb, "data"));
    } else if (type == "tool_use") {
      b.kind = BlockKind::kTool;
      b.call = next_call_++;
      object input;
      if (!cb["input"].get_object().get(input) && input.size() > 0) b.initial_input = simdjson::minify(input);
      chat::StreamEvent e;
      e.kind = chat::EventKind::kToolCallStart;
      e.index = b.call;
      e.id = std::string(Str(cb, "id"));
      e.name = std::string(Str(cb, "name"));
      Emit(std::move(e));
      open_calls_[b.call] = index;
    }
  }

  void OnBlockDelta(object obj) {
    EnsureStarted();
    int64_t index = 0;
    object delta;
    if (obj["index"].get_int64().get(index) || obj["delta"].get_object().get(delta)) {
      Fail("The upstream sent a malformed content_block_delta.");
      return;
    }
    auto it = blocks_.find(index);
    if (it == blocks_.end() || it->second.stopped) return;  // nothing to attach it to
    Block& b = it->second;
    std::string_view type = Str(delta, "type");
    if (type == "text_delta") {
      EmitText(chat::EventKind::kTextDelta, Str(delta, "text"));
    } else if (type == "thinking_delta") {
      EmitText(chat::EventKind::kReasoningDelta, Str(delta, "thinking"));
    } else if (type == "signature_delta") {
      EmitText(chat::EventKind::kReasoningSignature, Str(delta, "signature"));
    } else if (type == "input_json_delta" && b.kind == BlockKind::kTool) {
      std::string_view json = Str(delta, "partial_json");
      if (json.empty()) return;  // the first fragment is often ""
      b.got_arguments = true;
      chat::StreamEvent e;
      e.kind = chat::EventKind::kToolCallDelta;
      e.index = b.call;
      e.text = std::string(json);
      Emit(std::move(e));
    }
  }

  void EndCall(Block& b) {
    if (b.kind != BlockKind::kTool || b.stopped) return;
    if (!b.got_arguments) {
      // No input deltas: the input of content_block_start, or no arguments.
      chat::StreamEvent d;
      d.kind = chat::EventKind::kToolCallDelta;
      d.index = b.call;
      d.text = b.initial_input.empty() ? "{}" : b.initial_input;
      Emit(std::move(d));
    }
    chat::StreamEvent e;
    e.kind = chat::EventKind::kToolCallEnd;
    e.index = b.call;
    Emit(std::move(e));
    open_calls_.erase(b.call);
  }

  void OnBlockStop(object obj) {
    int64_t index = 0;
    if (obj["index"].get_int64().get(index)) {
      Fail("The upstream sent a malformed content_block_stop.");
      return;
    }
    auto it = blocks_.find(index);
    if (it == blocks_.end()) return;
    EndCall(it->second);
    it->second.stopped = true;
  }

  void OnMessageDelta(object obj) {
    EnsureStarted();
    object delta;
    if (!obj["delta"].get_object().get(delta)) {
      if (std::string_view s = Str(delta, "stop_reason"); !s.empty()) stop_reason_ = std::string(s);
      if (std::string_view s = Str(delta, "stop_sequence"); !s.empty()) stop_sequence_ = std::string(s);
    }
    object usage;
    if (!obj["usage"].get_object().get(usage)) {
      MergeUsage(usage);
      chat::StreamEvent e;
      e.kind = chat::EventKind::kUsage;
      e.usage = CurrentUsage();
      Emit(std::move(e));
      sent_usage_ = true;
    }
  }

  void OnMessageStop() {
    EnsureStarted();
    // Calls left open are closed in call order.
    while (!open_calls_.empty()) {
      Block& b = blocks_[open_calls_.begin()->second];
      EndCall(b);
      b.stopped = true;
    }
    if (!sent_usage_) {
      chat::StreamEvent u;
      u.kind = chat::EventKind::kUsage;
      u.usage = CurrentUsage();
      Emit(std::move(u));
    }
    chat::StreamEvent e;
    e.kind = chat::EventKind::kFinish;
    e.finish = ParseStopReason(stop_reason_, next_call_ > 0);
    e.stop_sequence = stop_sequence_;
    Emit(std::move(e));
    done_ = true;
  }

  sse::Parser sse_;
  std::vector<chat::StreamEvent>* out_ = nullptr;
  bool started_ = false;
  bool done_ = false;
  std::map<int64_t, Block> blocks_;  // by wire index
  std::map<int, int64_t> open_calls_;  // call index → wire index, calls not yet ended
  int next_call_ = 0;
  int64_t input_ = 0, cache_read_ = 0, cache_creation_ = 0, output_ = 0;
  bool sent_usage_ = false;
  std::string stop_reason_;
  std::string stop_sequence_;
};

}  // namespace

std::unique_ptr<StreamDecoder> NewStreamDecoder() { return std::make_unique<Decoder>(); }

}  // namespace sy::anthropic
