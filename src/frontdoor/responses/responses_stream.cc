// The Responses stream encoder: internal stream events → named SSE events.
//
// Lifecycle written (sequence_number counts every event from 0):
//   response.created, response.in_progress (status in_progress, output [])
//   per message:   output_item.added, content_part.added, output_text.delta*,
//                  output_text.done, content_part.done, output_item.done
//   per reasoning: output_item.added, [reasoning_summary_part.added,
//                  reasoning_summary_text.delta*, reasoning_summary_text.done,
//                  reasoning_summary_part.done], output_item.done
//   per call:      output_item.added (arguments ""), function_call_arguments.delta*,
//                  function_call_arguments.done, output_item.done
//                  (custom tools: custom_tool_call_input.delta once at the end,
//                  custom_tool_call_input.done, output_item.done)
//   then response.completed | response.incomplete | response.failed, carrying
//   the whole response (every finished item, usage).
// output_index numbers items densely in the order they start; calls keep
// their own index and buffer, so their deltas may interleave with each other
// and with a message that starts meanwhile.
#include <algorithm>
#include <map>

#include "core/ids.h"
#include "frontdoor/responses/responses_internal.h"
#include "sse/sse_parser.h"

namespace sy::responses::internal {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

class Encoder final : public StreamEncoder {
 public:
  explicit Encoder(ResponseMeta meta) : meta_(std::move(meta)) {}

  void Encode(const chat::StreamEvent& e, std::string* out) override {
    if (finished_) return;
    Begin(out);
    switch (e.kind) {
      case chat::EventKind::kStart:
        if (e.usage) usage_ = e.usage;
        break;
      case chat::EventKind::kTextDelta:
        if (e.text.empty()) break;
        CloseReasoning("", out);
        if (!text_.open) OpenText(out);
        text_.text += e.text;
        Emit("response.output_text.delta", out, [&](json::Writer& w) {
          w.Key("item_id").String(text_.id).Key("output_index").Int(text_.index).Key("content_index").Int(0);
          w.Key("delta").String(e.text).Key("logprobs").BeginArray().EndArray();
        });
        break;
      case chat::EventKind::kReasoningDelta:
        if (e.text.empty()) break;
        CloseText(out);
        if (!reasoning_.open) OpenReasoning(out);
        ReasoningText(e.text, out);
        break;
      case chat::EventKind::kReasoningSignature:
        CloseText(out);
        if (!reasoning_.open) OpenReasoning(out);
        CloseReasoning(e.text, out);  // the signature ends its block
        break;
      case chat::EventKind::kRedactedReasoning:
        CloseText(out);
        CloseReasoning("", out);
        OpenReasoning(out);
        CloseReasoning(std::string(kRedactedPrefix) + e.text, out);
        break;
      case chat::EventKind::kToolCallStart: StartCall(e, out); break;
      case chat::EventKind::kToolCallDelta: CallDelta(e, out); break;
      case chat::EventKind::kToolCallEnd: {
        auto it = calls_.find(e.index);
        if (it != calls_.end()) EndCall(it->second, out);
        break;
      }
      case chat::EventKind::kUsage:
        if (e.usage) usage_ = e.usage;
        break;
      case chat::EventKind::kFinish: Finish(e.finish, out); break;
      case chat::EventKind::kError: Fail(e.error, out); break;
    }
  }

 private:
  struct Item {
    bool open = false;
    int index = 0;
    std::string id;
    std::string text;
    bool part_open = false;  // reasoning: a summary part was added
  };
  struct Call {
    int index = 0;
    std::string id;
    std::string call_id;
    std::string name;
    const DeclaredTool* tool = nullptr;
    std::string args;
    bool done = false;
  };

  template <typename F>
  void Emit(std::string_view type, std::string* out, F&& fields) {
    std::string data;
    json::Writer w(&data);
    w.BeginObject().Key("type").String(type);
    fields(w);
    w.Key("sequence_number").Int(seq_++);
    w.EndObject();
    sse::AppendEvent(out, data, type);
  }

  void EmitResponse(std::string_view type, std::string_view status, std::string_view incomplete_reason,
                    const ResponseError* error, std::string* out) {
    std::vector<std::string> items;
    for (const auto& item : done_) {
      if (!item.empty()) items.push_back(item);
    }
    Emit(type, out, [&](json::Writer& w) {
      w.Key("response");
      WriteResponse(w, meta_, status, incomplete_reason, error, items, status == "in_progress" ? std::nullopt : usage_);
    });
  }

  void Begin(std::string* out) {
    if (started_) return;
    started_ = true;
    EmitResponse("response.created", "in_progress", "", nullptr, out);
    EmitResponse("response.in_progress", "in_progress", "", nullptr, out);
  }

  int AddItem(const std::string& item, std::string* out) {
    const int index = static_cast<int>(done_.size());
    done_.emplace_back();
    Emit("response.output_item.added", out,
         [&](json::Writer& w) { w.Key("output_index").Int(index).Key("item").Raw(item); });
    return index;
  }

  void DoneItem(int index, std::string item, std::string* out) {
    Emit("response.output_item.done", out,
         [&](json::Writer& w) { w.Key("output_index").Int(index).Key("item").Raw(item); });
    done_[static_cast<size_t>(index)] = std::move(item);
  }

  static void TextPart(json::Writer& w, std::string_view text) {
    w.Key("part").BeginObject().Key("type").String("output_text").Key("annotations").BeginArray().EndArray();
    w.Key("logprobs").BeginArray().EndArray().Key("text").String(text).EndObject();
  }

  void OpenText(std::string* out) {
    text_ = Item{.open = true, .index = 0, .id = chat::NewId("msg_", 32), .text = {}, .part_open = true};
    std::string added;
    json::Writer w(&added);
    w.BeginObject().Key("id").String(text_.id).Key("type").String("message").Key("status").String("in_progress");
    w.Key("role").String("assistant").Key("content").BeginArray().EndArray().EndObject();
    text_.index = AddItem(added, out);
    Emit("response.content_part.added", out, [&](json::Writer& w) {
      w.Key("item_id").String(text_.id).Key("output_index").Int(text_.index).Key("content_index").Int(0);
      TextPart(w, "");
    });
  }

  void CloseText(std::string* out) {
    if (!text_.open) return;
    text_.open = false;
    auto common = [&](json::Writer& w) {
      w.Key("item_id").String(text_.id).Key("output_index").Int(text_.index).Key("content_index").Int(0);
    };
    Emit("response.output_text.done", out, [&](json::Writer& w) {
      common(w);
      w.Key("text").String(text_.text).Key("logprobs").BeginArray().EndArray();
    });
    Emit("response.content_part.done", out, [&](json::Writer& w) {
      common(w);
      TextPart(w, text_.text);
    });
    DoneItem(text_.index, MessageItem(text_.id, "completed", text_.text), out);
  }

  void OpenReasoning(std::string* out) {
    reasoning_ = Item{.open = true, .index = 0, .id = chat::NewId("rs_", 32), .text = {}, .part_open = false};
    std::string added;
    json::Writer w(&added);
    w.BeginObject().Key("id").String(reasoning_.id).Key("type").String("reasoning");
    w.Key("status").String("in_progress").Key("summary").BeginArray().EndArray().EndObject();
    reasoning_.index = AddItem(added, out);
  }

  template <typename F>
  void EmitSummary(std::string_view type, std::string* out, F&& fields) {
    Emit(type, out, [&](json::Writer& w) {
      w.Key("item_id").String(reasoning_.id).Key("output_index").Int(reasoning_.index).Key("summary_index").Int(0);
      fields(w);
    });
  }

  static void SummaryPart(json::Writer& w, std::string_view text) {
    w.Key("part").BeginObject().Key("type").String("summary_text").Key("text").String(text).EndObject();
  }

  void ReasoningText(const std::string& delta, std::string* out) {
    if (!reasoning_.part_open) {
      reasoning_.part_open = true;
      EmitSummary("response.reasoning_summary_part.added", out, [&](json::Writer& w) { SummaryPart(w, ""); });
    }
    reasoning_.text += delta;
    EmitSummary("response.reasoning_summary_text.delta", out,
                [&](json::Writer& w) { w.Key("delta").String(delta); });
  }

  void CloseReasoning(const std::string& encrypted_content, std::string* out) {
    if (!reasoning_.open) return;
    reasoning_.open = false;
    if (reasoning_.part_open) {
      EmitSummary("response.reasoning_summary_text.done", out,
                  [&](json::Writer& w) { w.Key("text").String(reasoning_.text); });
      EmitSummary("response.reasoning_summary_part.done", out,
                  [&](json::Writer& w) { SummaryPart(w, reasoning_.text); });
    }
    DoneItem(reasoning_.index, ReasoningItem(reasoning_.id, "completed", reasoning_.text, encrypted_content), out);
  }

  void StartCall(const chat::StreamEvent& e, std::string* out) {
    if (calls_.count(e.index)) return;  // a second start for one call: keep the first
    CloseText(out);
    CloseReasoning("", out);
    Call call;
    call.tool = FindTool(meta_, e.name);
    const bool custom = call.tool && call.tool->custom;
    call.id = chat::NewId(custom ? "ctc_" : "fc_", 32);
    call.call_id = CallId(e.id);
    call.name = e.name;
    call.index = AddItem(ToolCallItem(call.id, "in_progress", call.tool, call.call_id, call.name, ""), out);
    calls_.emplace(e.index, std::move(call));
  }

  void CallDelta(const chat::StreamEvent& e, std::string* out) {
    auto it = calls_.find(e.index);
    if (it == calls_.end() || it->second.done || e.text.empty()) return;  // never a delta for an unstarted call
    Call& call = it->second;
    call.args += e.text;
    if (call.tool && call.tool->custom) return;  // the input is sent whole at the end
    Emit("response.function_call_arguments.delta", out, [&](json::Writer& w) {
      w.Key("item_id").String(call.id).Key("output_index").Int(call.index).Key("delta").String(e.text);
    });
  }

  void EndCall(Call& call, std::string* out) {
    if (call.done) return;
    call.done = true;
    auto common = [&](json::Writer& w) { w.Key("item_id").String(call.id).Key("output_index").Int(call.index); };
    std::string payload;
    if (call.tool && call.tool->custom) {
      payload = CustomInput(call.args);
      if (!payload.empty()) {
        Emit("response.custom_tool_call_input.delta", out, [&](json::Writer& w) {
          common(w);
          w.Key("delta").String(payload);
        });
      }
      Emit("response.custom_tool_call_input.done", out, [&](json::Writer& w) {
        common(w);
        w.Key("input").String(payload);
      });
    } else {
      payload = std::string(ArgumentsText(call.args));
      Emit("response.function_call_arguments.done", out, [&](json::Writer& w) {
        common(w);
        w.Key("name").String(call.tool ? std::string_view(call.tool->name) : std::string_view(call.name));
        w.Key("arguments").String(payload);
      });
    }
    DoneItem(call.index, ToolCallItem(call.id, "completed", call.tool, call.call_id, call.name, payload), out);
  }

  void Finish(chat::FinishReason finish, std::string* out) {
    CloseText(out);
    CloseReasoning("", out);
    for (auto& [index, call] : calls_) EndCall(call, out);
    finished_ = true;
    const Outcome outcome = OutcomeOf(finish);
    if (outcome.status == "failed") {
      const ResponseError error{"server_error", "The upstream model failed to complete the response."};
      EmitResponse("response.failed", "failed", "", &error, out);
    } else if (outcome.status == "incomplete") {
      EmitResponse("response.incomplete", "incomplete", outcome.incomplete_reason, nullptr, out);
    } else {
      EmitResponse("response.completed", "completed", "", nullptr, out);
    }
  }

  void Fail(const std::optional<GatewayError>& gateway_error, std::string* out) {
    finished_ = true;
    ResponseError error{"server_error", "The upstream failed while streaming the response."};
    if (gateway_error) {
      if (!gateway_error->message.empty()) error.message = gateway_error->message;
      if (gateway_error->code == ErrorCode::kRateLimited) {
        error.code = "rate_limit_exceeded";
        // Codex reads the retry delay from "try again in Ns" in the message.
        const auto& after = gateway_error->retry_after;
        if (after && AllDigits(*after) && error.message.find("try again in") == std::string::npos) {
          error.message += " Please try again in " + *after + "s.";
        }
      }
    }
    EmitResponse("response.failed", "failed", "", &error, out);
  }

  ResponseMeta meta_;
  int64_t seq_ = 0;
  bool started_ = false;
  bool finished_ = false;
  std::vector<std::string> done_;  // by output_index: the finished item, "" while open
  Item text_;
  Item reasoning_;
  std::map<int, Call> calls_;  // by the internal call index
  std::optional<chat::Usage> usage_;
};

}  // namespace

std::unique_ptr<StreamEncoder> NewEncoder(ResponseMeta meta) { return std::make_unique<Encoder>(std::move(meta)); }

}  // namespace sy::responses::internal
