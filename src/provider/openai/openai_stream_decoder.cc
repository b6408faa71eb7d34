// The OpenAI stream decoder: chat.completion.chunk SSE events into internal
// stream events (translation.md §1.1, §4, §10).
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "frontdoor/openai/openai_chat_wire.h"
#include "provider/openai/openai_codec.h"
#include "sse/sse_parser.h"

namespace sy::openai {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr size_t kMaxChunkDepth = 256;
// Raw bytes kept while no SSE event has arrived, to report a plain JSON error
// body that came instead of a stream.
constexpr size_t kMaxRawPrefix = 64 * 1024;

simdjson::dom::parser& ChunkParser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(64 * 1024, kMaxChunkDepth);  // on failure parse() allocates as needed
    (void)err;
    return p;
  }();
  return parser;
}

// One tool-call fragment of a delta.
struct Fragment {
  std::optional<int64_t> index;
  std::string_view id;
  std::string_view name;
  std::string arguments;
};

class OpenAiStreamDecoder final : public StreamDecoder {
 public:
  OpenAiStreamDecoder() : parser_([this](const sse::Event& e) { OnEvent(e); }) {}

  void Feed(std::string_view bytes, std::vector<chat::StreamEvent>* out) override {
    if (terminal_) return;
    out_ = out;
    if (parser_.events() == 0 && raw_prefix_.size() < kMaxRawPrefix) {
      raw_prefix_.append(bytes.substr(0, kMaxRawPrefix - raw_prefix_.size()));
    }
    parser_.Feed(bytes);
    out_ = nullptr;
  }

  void Finish(std::vector<chat::StreamEvent>* out) override {
    if (terminal_) return;
    out_ = out;
    if (parser_.partial()) parser_.Feed("\n\n");  // a last event without its blank line
    if (!terminal_) {
      if (finish_reason_) {
        Complete();  // a finish_reason came but [DONE] did not: accept
      } else if (parser_.events() == 0 && PlainError()) {
        // PlainError emitted the upstream's error.
      } else {
        Fail(MakeError(ErrorCode::kProviderError, "The upstream stream ended early.",
                       "OpenAI stream ended without [DONE] and without a finish_reason"));
      }
    }
    out_ = nullptr;
  }

 private:
  struct Call {
    std::string id;     // as the upstream sent it ("" until one comes)
    std::string name;
    std::string held;   // arguments received before the call could be announced
    int out_index = -1; // index in our events; -1 until announced
    bool has_arguments = false;
  };

  void Emit(chat::StreamEvent e) { out_->push_back(std::move(e)); }

  void Fail(GatewayError error) {
    chat::StreamEvent e;
    e.kind = chat::EventKind::kError;
    e.error = std::move(error);
    Emit(std::move(e));
    terminal_ = true;
  }

  void OnEvent(const sse::Event& event) {
    if (terminal_) return;
    std::string_view data = event.data;
    while (!data.empty() && (data.back() == ' ' || data.back() == '\r')) data.remove_suffix(1);
    if (data == "[DONE]") {
      Complete();
      return;
    }
    if (data.empty()) return;  // keep-alive
    element doc;
    object chunk;
    // Parsed from a buffer with simdjson's padding already in place: handing
    // simdjson the bare event text would make it copy it into a fresh
    // allocation on every chunk.
    padded_.reserve(data.size() + simdjson::SIMDJSON_PADDING);
    padded_.assign(data.data(), data.size());
    const bool parsed = !ChunkParser().parse(padded_.data(), padded_.size(), false).get(doc);
    if (event.event == "error") {  // a named error event: its data is the error
      element inner;
      if (parsed && !doc["error"].get(inner) && !inner.is_null()) {
        Fail(UpstreamError(inner));
      } else if (parsed) {
        Fail(UpstreamError(doc));
      } else {
        Fail(MakeError(ErrorCode::kProviderError, std::string(Utf8Prefix(data, 2000))));
      }
      return;
    }
    if (!parsed || doc.get_object().get(chunk)) {
      Fail(MakeError(ErrorCode::kProviderError, "The upstream sent a malformed stream chunk.",
                     "OpenAI stream chunk is not a JSON object"));
      return;
    }
    element error;
    if (!chunk["error"].get(error) && !error.is_null()) {
      Fail(UpstreamError(error));
      return;
    }
    Chunk(chunk);
  }

  void Chunk(object chunk) {
    std::string_view s;
    if (!started_) {
      started_ = true;
      chat::StreamEvent e;
      e.kind = chat::EventKind::kStart;
      if (!chunk["id"].get_string().get(s)) e.id.assign(s);
      if (e.id.empty()) e.id = chat::NewId("chatcmpl-");
      if (!chunk["model"].get_string().get(s)) e.model.assign(s);
      Emit(std::move(e));
    }
    object usage;
    if (!chunk["usage"].get_object().get(usage)) {
      usage_ = ReadUsage(usage);
    } else if (!chunk["x_groq"]["usage"].get_object().get(usage)) {
      usage_ = ReadUsage(usage);
    }
    array choices;
    if (chunk["choices"].get_array().get(choices)) return;
    for (element c : choices) {
      object choice;
      if (c.get_object().get(choice)) continue;
      element idx;
      if (!choice["index"].get(idx)) {
        int64_t i = 0;
        if (!idx.get_int64().get(i) && i != 0) continue;  // n > 1 is never requested
      }
      object delta;
      if (!choice["delta"].get_object().get(delta)) Delta(delta);
      if (!choice["finish_reason"].get_string().get(s) && !s.empty()) finish_reason_ = std::string(s);
    }
  }

  void Delta(object delta) {
    std::string_view reasoning;
    if (delta["reasoning_content"].get_string().get(reasoning) || reasoning.empty()) {
      reasoning = StringAt(delta["reasoning"]);
    }
    if (!reasoning.empty()) {
      chat::StreamEvent e;
      e.kind = chat::EventKind::kReasoningDelta;
      e.text.assign(reasoning);
      Emit(std::move(e));
    }
    std::string_view text;
    if (delta["content"].get_string().get(text) || text.empty()) text = StringAt(delta["refusal"]);
    if (!text.empty()) {
      chat::StreamEvent e;
      e.kind = chat::EventKind::kTextDelta;
      e.text.assign(text);
      Emit(std::move(e));
    }
    array calls;
    if (!delta["tool_calls"].get_array().get(calls)) {
      for (element c : calls) {
        object call;
        if (c.get_object().get(call)) continue;
        Fragment f;
        element idx;
        int64_t i = 0;
        if (!call["index"].get(idx) && !idx.get_int64().get(i)) f.index = i;
        f.id = StringAt(call["id"]);
        object fn;
        if (!call["function"].get_object().get(fn)) {
          f.name = StringAt(fn["name"]);
          element args;
          if (!fn["arguments"].get(args) && !args.is_null()) {
            std::string_view a;
            if (!args.get_string().get(a)) {
              f.arguments.assign(a);
            } else if (args.is_object() || args.is_array()) {
              f.arguments = simdjson::minify(args);  // some servers send the whole object
            }
          }
        }
        ToolFragment(f);
      }
    }
    object legacy;
    if (!delta["function_call"].get_object().get(legacy)) {
      Fragment f;
      f.index = 0;
      f.name = StringAt(legacy["name"]);
      std::string_view a;
      if (!legacy["arguments"].get_string().get(a)) f.arguments.assign(a);
      ToolFragment(f);
    }
  }

  // Whether fragment `f` starts a new call rather than continuing `c`.
  static bool StartsNewCall(const Call& c, const Fragment& f) {
    if (!f.id.empty() && !c.id.empty() && f.id != c.id) return true;
    if (!f.name.empty() && !c.name.empty() && f.name != c.name) return true;
    // A late id with a name, after arguments already came, is a new call too.
    return !f.id.empty() && c.id.empty() && !f.name.empty() && c.has_arguments;
  }

  size_t NewCall(const Fragment& f) {
    calls_.push_back(Call{});
    Call& c = calls_.back();
    c.id.assign(f.id);
    c.name.assign(f.name);
    return calls_.size() - 1;
  }

  void ToolFragment(const Fragment& f) {
    const bool header = !f.id.empty() || !f.name.empty();
    size_t target;
    auto at = f.index ? by_index_.find(*f.index) : by_index_.end();
    if (at != by_index_.end()) {
      target = StartsNewCall(calls_[at->second], f) ? NewCall(f) : at->second;
    } else if (header || calls_.empty()) {
      // A new index, or no index: a header starts a call; with no index and
      // the same id/name as the last call, it continues that one.
      if (!f.index && !calls_.empty() && !StartsNewCall(calls_.back(), f)) {
        target = calls_.size() - 1;
      } else {
        target = NewCall(f);
      }
    } else {
      target = calls_.size() - 1;  // an id-less orphan fragment joins the last call
    }
    if (f.index) by_index_[*f.index] = target;
    Call& c = calls_[target];
    if (c.id.empty() && !f.id.empty()) c.id.assign(f.id);
    if (c.name.empty() && !f.name.empty()) c.name.assign(f.name);
    if (!f.arguments.empty()) c.has_arguments = true;
    if (c.out_index < 0) {
      c.held += f.arguments;
      if (!c.name.empty()) Announce(&c);
      return;
    }
    if (!f.arguments.empty()) ArgumentsDelta(c, f.arguments);
  }

  void Announce(Call* c) {
    c->out_index = next_out_index_++;
    chat::StreamEvent e;
    e.kind = chat::EventKind::kToolCallStart;
    e.index = c->out_index;
    e.id = c->id.empty() ? chat::NewId("call_") : c->id;
    e.name = c->name;
    Emit(std::move(e));
    if (!c->held.empty()) {
      ArgumentsDelta(*c, c->held);
      c->held.clear();
    }
  }

  void ArgumentsDelta(const Call& c, std::string_view text) {
    chat::StreamEvent e;
    e.kind = chat::EventKind::kToolCallDelta;
    e.index = c.out_index;
    e.text.assign(text);
    Emit(std::move(e));
  }

  // The end of the stream: close the calls, final usage, finish.
  void Complete() {
    if (!started_) {
      started_ = true;
      chat::StreamEvent e;
      e.kind = chat::EventKind::kStart;
      e.id = chat::NewId("chatcmpl-");
      Emit(std::move(e));
    }
    for (auto& c : calls_) {
      if (c.out_index < 0) Announce(&c);  // a call whose name never came
    }
    // Close in announcement order.
    std::vector<int> order;
    for (const auto& c : calls_) order.push_back(c.out_index);
    std::sort(order.begin(), order.end());
    for (const auto& c : calls_) {
      if (!c.has_arguments) ArgumentsDelta(c, "{}");  // no arguments at all: an empty object
    }
    for (int index : order) {
      chat::StreamEvent e;
      e.kind = chat::EventKind::kToolCallEnd;
      e.index = index;
      Emit(std::move(e));
    }
    if (usage_) {
      chat::StreamEvent e;
      e.kind = chat::EventKind::kUsage;
      e.usage = usage_;
      Emit(std::move(e));
    }
    chat::StreamEvent e;
    e.kind = chat::EventKind::kFinish;
    e.finish = ParseFinishReason(finish_reason_.value_or(""), !calls_.empty());
    Emit(std::move(e));
    terminal_ = true;
  }

  // The body held no SSE event: a JSON error body sent with status 200.
  bool PlainError() {
    element doc;
    object root;
    element error;
    if (ChunkParser().parse(raw_prefix_.data(), raw_prefix_.size()).get(doc) || doc.get_object().get(root) ||
        root["error"].get(error) || error.is_null()) {
      return false;
    }
    Fail(UpstreamError(error));
    return true;
  }

  sse::Parser parser_;
  std::string padded_;  // the current event's JSON, with simdjson's padding reserved after it
  std::vector<chat::StreamEvent>* out_ = nullptr;
  bool started_ = false;
  bool terminal_ = false;
  std::string raw_prefix_;
  std::vector<Call> calls_;
  std::map<int64_t, size_t> by_index_;  // upstream index → the call it currently names
  int next_out_index_ = 0;
  std::optional<std::string> finish_reason_;
  std::optional<chat::Usage> usage_;
};

}  // namespace

std::unique_ptr<StreamDecoder> OpenAiCodec::NewStreamDecoder() const {
  return std::make_unique<OpenAiStreamDecoder>();
}

}  // namespace sy::openai
