// The Anthropic stream encoder: internal stream events into named SSE events.
//
// Anthropic content blocks are strictly sequential (start, deltas, stop, then
// the next block), while internal events may interleave parallel tool calls
// and switch between reasoning, text and calls at any point. The encoder
// keeps a queue of pending blocks in arrival order; only the head block is
// open on the wire, everything for a later block is buffered until the head
// closes. The head closes when it is complete: a tool call at its
// kToolCallEnd, a redacted block at once, a text or thinking block when a
// later block is waiting. kFinish writes out whatever is still queued.
#include <charconv>
#include <deque>
#include <map>

#include "common/json_writer.h"
#include "core/ids.h"
#include "frontdoor/anthropic/anthropic_frontdoor.h"
#include "frontdoor/anthropic/anthropic_wire.h"
#include "sse/sse_parser.h"

namespace sy::anthropic {
namespace {

enum class BlockType { kText, kThinking, kRedacted, kTool };

struct Block {
  BlockType type = BlockType::kText;
  std::string text;       // kText/kThinking: buffered text; kRedacted: the data
  std::string signature;  // kThinking: buffered signature
  bool sealed = false;    // kThinking: its signature came; more thinking is a new block
  int call = -1;          // kTool: the call's internal index
};

struct Call {
  std::string id;
  std::string name;
  std::string arguments;  // buffered until the call's block opens
  bool ended = false;     // kToolCallEnd came
  bool open = false;      // its block is the open head
  bool closed = false;    // its block was stopped: nothing more may be written for it
};

class Encoder final : public StreamEncoder {
 public:
  Encoder(std::string model, int64_t estimated_input) : model_(std::move(model)), estimated_input_(estimated_input) {}

  void Encode(const chat::StreamEvent& event, std::string* out) override {
    if (done_) return;
    if (event.kind == chat::EventKind::kError) {
      GatewayError error = event.error.value_or(MakeError(ErrorCode::kProviderError, "The upstream failed."));
      *out += ErrorEvent(error);
      done_ = true;
      return;
    }
    if (!started_) Start(event, out);
    switch (event.kind) {
      case chat::EventKind::kStart: break;
      case chat::EventKind::kTextDelta: AddText(BlockType::kText, event.text, out); break;
      case chat::EventKind::kReasoningDelta: AddText(BlockType::kThinking, event.text, out); break;
      case chat::EventKind::kReasoningSignature: AddSignature(event.text, out); break;
      case chat::EventKind::kRedactedReasoning:
        if (!event.text.empty()) Push(Block{BlockType::kRedacted, event.text, {}, false, -1}, out);
        break;
      case chat::EventKind::kToolCallStart: StartCall(event, out); break;
      case chat::EventKind::kToolCallDelta: CallDelta(event, out); break;
      case chat::EventKind::kToolCallEnd: EndCall(event.index, out); break;
      case chat::EventKind::kUsage:
        if (event.usage) usage_ = *event.usage;
        break;
      case chat::EventKind::kFinish: Finish(event, out); break;
      case chat::EventKind::kError: break;  // handled above
    }
  }

 private:
  void Start(const chat::StreamEvent& event, std::string* out) {
    started_ = true;
    chat::Usage usage;
    if (event.kind == chat::EventKind::kStart && event.usage && event.usage->input_tokens > 0) {
      usage = *event.usage;
    } else {
      usage.input_tokens = estimated_input_;
    }
    usage.output_tokens = 0;
    start_usage_ = usage;
    // Written by hand, like every event of the stream: a json::Writer per
    // event costs more than the event (the JSON has no line break, so each
    // is one data line).
    out->append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":");
    json::AppendString(out, MessageId(event.kind == chat::EventKind::kStart ? event.id : std::string()));
    out->append(",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    json::AppendString(out, model_);
    out->append(",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
    AppendUsageObject(out, usage);
    out->append("}}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n");
  }

  // ---- blocks on the wire

  // The hot path (one call per streamed piece): the event is appended
  // straight to the output, its constant head (event name, type, index,
  // delta type) kept from the previous delta of the same block. The JSON is
  // one line (AppendString escapes line breaks); the type and field names
  // are constants that need no escaping.
  void WriteDelta(std::string_view delta_type, std::string_view field, std::string_view value, std::string* out) {
    if (prefix_index_ != head_index_ || prefix_type_ != delta_type) {
      delta_prefix_.assign("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":");
      AppendInt(&delta_prefix_, head_index_);
      delta_prefix_.append(",\"delta\":{\"type\":\"");
      delta_prefix_.append(delta_type);
      delta_prefix_.append("\",\"");
      delta_prefix_.append(field);
      delta_prefix_.append("\":");
      prefix_index_ = head_index_;
      prefix_type_ = delta_type;
    }
    out->reserve(out->size() + delta_prefix_.size() + value.size() + 8);
    out->append(delta_prefix_);
    json::AppendString(out, value);
    out->append("}}\n\n");
  }

  static void AppendInt(std::string* out, int64_t value) {
    char digits[24];
    out->append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
  }

  void WriteText(BlockType type, std::string_view text, std::string* out) {
    if (text.empty()) return;
    if (type == BlockType::kText) {
      WriteDelta("text_delta", "text", text, out);
    } else {
      WriteDelta("thinking_delta", "thinking", text, out);
    }
  }

  void OpenHead(std::string* out) {
    Block& b = queue_.front();
    head_index_ = next_index_++;
    head_open_ = true;
    out->append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":");
    AppendInt(out, head_index_);
    out->append(",\"content_block\":");
    switch (b.type) {
      case BlockType::kText: out->append(R"({"type":"text","text":""})"); break;
      case BlockType::kThinking: out->append(R"({"type":"thinking","thinking":"","signature":""})"); break;
      case BlockType::kRedacted:
        out->append(R"({"type":"redacted_thinking","data":)");
        json::AppendString(out, b.text);
        out->push_back('}');
        break;
      case BlockType::kTool: {
        const Call& c = calls_[b.call];
        out->append(R"({"type":"tool_use","id":)");
        json::AppendString(out, c.id);
        out->append(R"(,"name":)");
        json::AppendString(out, c.name);
        out->append(R"(,"input":{}})");
        break;
      }
    }
    out->append("}\n\n");
    // The event that made the block is re-emitted as its first delta.
    switch (b.type) {
      case BlockType::kText:
      case BlockType::kThinking:
        WriteText(b.type, b.text, out);
        b.text.clear();
        if (!b.signature.empty()) WriteDelta("signature_delta", "signature", b.signature, out);
        b.signature.clear();
        break;
      case BlockType::kRedacted: break;
      case BlockType::kTool: {
        Call& c = calls_[b.call];
        c.open = true;
        if (!c.arguments.empty()) WriteDelta("input_json_delta", "partial_json", c.arguments, out);
        c.arguments.clear();
        break;
      }
    }
  }

  void CloseHead(std::string* out) {
    Block& b = queue_.front();
    if (b.type == BlockType::kTool) {
      Call& c = calls_[b.call];
      c.open = false;
      c.closed = true;
    }
    out->append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":");
    AppendInt(out, head_index_);
    out->append("}\n\n");
    queue_.pop_front();
    head_open_ = false;
  }

  bool HeadComplete() {
    const Block& b = queue_.front();
    switch (b.type) {
      case BlockType::kRedacted: return true;
      case BlockType::kTool: return calls_[b.call].ended;
      case BlockType::kText:
      case BlockType::kThinking: return queue_.size() > 1;
    }
    return true;
  }

  // Closes complete head blocks and opens the next ones.
  void Advance(std::string* out) {
    while (!queue_.empty()) {
      if (!head_open_) OpenHead(out);
      if (!HeadComplete()) return;
      CloseHead(out);
    }
  }

  void Push(Block block, std::string* out) {
    queue_.push_back(std::move(block));
    Advance(out);
  }

  // True when the last queued block is the open head (it streams live).
  bool BackIsOpenHead() const { return head_open_ && queue_.size() == 1; }

  // ---- events

  void AddText(BlockType type, const std::string& text, std::string* out) {
    if (text.empty()) return;
    if (!queue_.empty() && queue_.back().type == type && !queue_.back().sealed) {
      if (BackIsOpenHead()) {
        WriteText(type, text, out);
      } else {
        queue_.back().text += text;
      }
      return;
    }
    Push(Block{type, text, {}, false, -1}, out);
  }

  void AddSignature(const std::string& signature, std::string* out) {
    if (signature.empty()) return;
    if (!queue_.empty() && queue_.back().type == BlockType::kThinking && !queue_.back().sealed) {
      queue_.back().sealed = true;
      if (BackIsOpenHead()) {
        WriteDelta("signature_delta", "signature", signature, out);
      } else {
        queue_.back().signature = signature;
      }
      return;
    }
    // A signature with no thinking text before it: a signature-only block.
    Push(Block{BlockType::kThinking, {}, signature, true, -1}, out);
  }

  void StartCall(const chat::StreamEvent& event, std::string* out) {
    if (calls_.count(event.index)) return;  // a second start for the same call
    Call& c = calls_[event.index];
    c.id = chat::SafeToolId(event.id, "toolu_");
    c.name = event.name;
    any_tool_ = true;
    Push(Block{BlockType::kTool, {}, {}, false, event.index}, out);
  }

  void CallDelta(const chat::StreamEvent& event, std::string* out) {
    auto it = calls_.find(event.index);
    if (it == calls_.end() || it->second.closed || it->second.ended || event.text.empty()) return;
    Call& c = it->second;
    if (c.open) {
      WriteDelta("input_json_delta", "partial_json", event.text, out);
    } else {
      c.arguments += event.text;
    }
  }

  void EndCall(int index, std::string* out) {
    auto it = calls_.find(index);
    if (it == calls_.end() || it->second.ended) return;
    it->second.ended = true;
    Advance(out);
  }

  void Finish(const chat::StreamEvent& event, std::string* out) {
    while (!queue_.empty()) {
      if (!head_open_) OpenHead(out);
      CloseHead(out);
    }
    chat::Usage usage = usage_.value_or(start_usage_);
    if (usage.input_tokens == 0) {
      usage.input_tokens = start_usage_.input_tokens;
      usage.cached_input_tokens = start_usage_.cached_input_tokens;
      usage.cache_write_tokens = start_usage_.cache_write_tokens;
    }
    out->append("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":");
    json::AppendString(out, StopReasonName(event.finish, any_tool_));
    out->append(",\"stop_sequence\":");
    if (event.finish == chat::FinishReason::kStopSequence && !event.stop_sequence.empty()) {
      json::AppendString(out, event.stop_sequence);
    } else {
      out->append("null");
    }
    out->append("},\"usage\":");
    AppendUsageObject(out, usage);
    out->append("}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    done_ = true;
  }

  const std::string model_;
  const int64_t estimated_input_;
  bool started_ = false;
  bool done_ = false;
  std::deque<Block> queue_;  // front: the head block; open on the wire when head_open_
  bool head_open_ = false;
  int head_index_ = 0;       // wire index of the open head
  int next_index_ = 0;       // wire index of the next block to open
  std::map<int, Call> calls_;
  bool any_tool_ = false;
  chat::Usage start_usage_;  // what message_start reported
  std::optional<chat::Usage> usage_;  // the last kUsage
  std::string delta_prefix_;          // WriteDelta's event head for (prefix_index_, prefix_type_)
  int prefix_index_ = -1;
  std::string_view prefix_type_;      // a constant delta type name
};

}  // namespace

std::unique_ptr<StreamEncoder> NewStreamEncoder(std::string model, int64_t estimated_input_tokens) {
  return std::make_unique<Encoder>(std::move(model), estimated_input_tokens);
}

}  // namespace sy::anthropic
