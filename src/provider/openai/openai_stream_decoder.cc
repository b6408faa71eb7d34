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
#include "provider/event_json.h"
#include "provider/openai/openai_codec.h"
#include "provider/text_shape.h"
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
constexpr int kMaxShapeLearns = 4;

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
  explicit OpenAiStreamDecoder(bool text_fast_path)
      : parser_([this](const sse::Event& e) { OnEvent(e); }), shape_learns_(text_fast_path ? 0 : kMaxShapeLearns) {}

  void Feed(std::string_view bytes, std::vector<chat::StreamEvent>* out) override {
    if (terminal_) return;
    out_ = out;
    parser_.Feed(bytes);
    // Kept only while no event came (a body that is not a stream at all);
    // once one did, the raw bytes are never needed.
    if (parser_.events() == 0 && raw_prefix_.size() < kMaxRawPrefix) {
      raw_prefix_.append(bytes.substr(0, kMaxRawPrefix - raw_prefix_.size()));
    }
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
  // An event built in place at the end of the output (the hot path: one per chunk).
  chat::StreamEvent& Emit(chat::EventKind kind) {
    chat::StreamEvent& e = out_->emplace_back();
    e.kind = kind;
    return e;
  }

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
    if (auto text = shape_.Match(event.event, data); text && started_) {
      Emit(chat::EventKind::kTextDelta).text.assign(*text);
      return;
    }
    element doc;
    object chunk;
    // In place: the SSE parser left simdjson's padding after the data.
    const bool parsed = !ParseEventJson(ChunkParser(), event, data).get(doc);
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
    // A plain text chunk the fast path missed: learn its bytes (a few times
    // at most, for a server whose chunks all differ).
    const size_t before = out_->size();
    const bool simple = Chunk(chunk);
    // Learned only from a chunk that made exactly its one text event.
    if (simple && event.event.empty() && shape_learns_ < kMaxShapeLearns && out_->size() == before + 1 &&
        out_->back().kind == chat::EventKind::kTextDelta) {
      ++shape_learns_;
      shape_.Learn(event.event, data, "\"content\"", out_->back().text);
    }
  }

  // The members of a chunk that matter, found in one pass over its keys (the
  // first of a repeated key wins, as with a lookup).
  struct ChunkFields {
    std::optional<element> id, model, error, usage, x_groq, choices;
  };
  static void Take(std::optional<element>* slot, element value) {
    if (!*slot) *slot = value;
  }
  // The string a member holds; "" when absent or not a string.
  static std::string_view StringOf(const std::optional<element>& value) {
    std::string_view s;
    if (!value || value->get_string().get(s)) return {};
    return s;
  }

  // Decodes a chunk; returns true when it was "one text delta from
  // delta.content and nothing else" after the stream began (TextShape may
  // learn its bytes).
  bool Chunk(object chunk) {
    const bool was_started = started_;
    ChunkFields f;
    for (auto [key, value] : chunk) {
      if (key == "choices") Take(&f.choices, value);
      else if (key == "id") Take(&f.id, value);
      else if (key == "model") Take(&f.model, value);
      else if (key == "usage") Take(&f.usage, value);
      else if (key == "error") Take(&f.error, value);
      else if (key == "x_groq") Take(&f.x_groq, value);
    }
    if (f.error && !f.error->is_null()) {
      Fail(UpstreamError(*f.error));
      return false;
    }
    std::string_view s;
    if (!started_) {
      started_ = true;
      chat::StreamEvent& e = Emit(chat::EventKind::kStart);
      if (f.id && !f.id->get_string().get(s)) e.id.assign(s);
      if (e.id.empty()) e.id = chat::NewId("chatcmpl-");
      if (f.model && !f.model->get_string().get(s)) e.model.assign(s);
    }
    object usage;
    if (f.usage && !f.usage->get_object().get(usage)) {
      usage_ = ReadUsage(usage);
    } else if (f.x_groq && !(*f.x_groq)["usage"].get_object().get(usage)) {
      usage_ = ReadUsage(usage);
    }
    array choices;
    if (!f.choices || f.choices->get_array().get(choices)) return false;
    bool simple = was_started && !f.error && (!f.usage || f.usage->is_null()) && !f.x_groq && choices.size() == 1;
    for (element c : choices) {
      object choice;
      if (c.get_object().get(choice)) continue;
      std::optional<element> index, delta, finish;
      for (auto [key, value] : choice) {
        if (key == "delta") Take(&delta, value);
        else if (key == "index") Take(&index, value);
        else if (key == "finish_reason") Take(&finish, value);
      }
      int64_t i = 0;
      if (index) {
        if (!index->get_int64().get(i) && i != 0) {  // n > 1 is never requested
          simple = false;  // nothing came of this chunk: not a shape to learn
          continue;
        }
      }
      object d;
      const bool only_text = delta && !delta->get_object().get(d) && Delta(d);
      if (finish && !finish->get_string().get(s) && !s.empty()) finish_reason_ = std::string(s);
      simple = simple && only_text && (!index || i == 0) && (!finish || finish->is_null());
    }
    return simple;
  }

  // Returns true when the delta held a non-empty content string and none of
  // the other members read here.
  bool Delta(object delta) {
    std::optional<element> content, refusal, reasoning_content, reasoning, tool_calls, function_call;
    for (auto [key, value] : delta) {
      if (key == "content") Take(&content, value);
      else if (key == "tool_calls") Take(&tool_calls, value);
      else if (key == "reasoning_content") Take(&reasoning_content, value);
      else if (key == "reasoning") Take(&reasoning, value);
      else if (key == "refusal") Take(&refusal, value);
      else if (key == "function_call") Take(&function_call, value);
    }
    std::string_view reasoning_text;
    if (!reasoning_content || reasoning_content->get_string().get(reasoning_text) || reasoning_text.empty()) {
      reasoning_text = StringOf(reasoning);
    }
    if (!reasoning_text.empty()) Emit(chat::EventKind::kReasoningDelta).text.assign(reasoning_text);
    std::string_view text;
    if (!content || content->get_string().get(text) || text.empty()) {
      text = StringOf(refusal);
    }
    if (!text.empty()) Emit(chat::EventKind::kTextDelta).text.assign(text);
    const bool only_content = content && !text.empty() && !refusal && !reasoning_content && !reasoning &&
                              !tool_calls && !function_call;
    array calls;
    if (tool_calls && !tool_calls->get_array().get(calls)) {
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
    if (function_call && !function_call->get_object().get(legacy)) {
      Fragment f;
      f.index = 0;
      f.name = StringAt(legacy["name"]);
      std::string_view a;
      if (!legacy["arguments"].get_string().get(a)) f.arguments.assign(a);
      ToolFragment(f);
    }
    return only_content;
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
  TextShape shape_;  // the bytes of this stream's plain text chunks, once seen
  int shape_learns_;  // learnings so far; starts at the limit when the fast path is off
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

std::unique_ptr<StreamDecoder> NewStreamDecoder(bool text_fast_path) {
  return std::make_unique<OpenAiStreamDecoder>(text_fast_path);
}

std::unique_ptr<StreamDecoder> OpenAiCodec::NewStreamDecoder() const { return openai::NewStreamDecoder(true); }

}  // namespace sy::openai
