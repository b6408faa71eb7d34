// EncodeResponse and the Response / output-item JSON shared with the stream
// encoder.
#include "core/ids.h"
#include "frontdoor/responses/responses_frontdoor.h"
#include "frontdoor/responses/responses_internal.h"

namespace sy::responses {
namespace internal {
namespace {

void OptionalDouble(json::Writer& w, std::string_view key, const std::optional<double>& v) {
  w.Key(key);
  if (v) {
    w.Double(*v);
  } else {
    w.Null();
  }
}

void OptionalString(json::Writer& w, std::string_view key, std::string_view v) {
  w.Key(key);
  if (v.empty()) {
    w.Null();
  } else {
    w.String(v);
  }
}

}  // namespace

std::string MessageItem(std::string_view id, std::string_view status, std::string_view text) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("id").String(id).Key("type").String("message").Key("status").String(status);
  w.Key("role").String("assistant").Key("content").BeginArray();
  w.BeginObject().Key("type").String("output_text").Key("annotations").BeginArray().EndArray();
  w.Key("logprobs").BeginArray().EndArray().Key("text").String(text).EndObject();
  w.EndArray().EndObject();
  return out;
}

std::string ReasoningItem(std::string_view id, std::string_view status, std::string_view text,
                          std::string_view encrypted_content) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("id").String(id).Key("type").String("reasoning").Key("status").String(status);
  w.Key("summary").BeginArray();
  if (!text.empty()) w.BeginObject().Key("type").String("summary_text").Key("text").String(text).EndObject();
  w.EndArray();
  if (!encrypted_content.empty()) w.Key("encrypted_content").String(encrypted_content);
  w.EndObject();
  return out;
}

std::string ToolCallItem(std::string_view id, std::string_view status, const DeclaredTool* tool,
                         std::string_view call_id, std::string_view name, std::string_view payload) {
  const bool custom = tool && tool->custom;
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("id").String(id).Key("type").String(custom ? "custom_tool_call" : "function_call");
  w.Key("status").String(status).Key("call_id").String(call_id);
  w.Key("name").String(tool ? std::string_view(tool->name) : name);
  if (tool && !tool->ns.empty()) w.Key("namespace").String(tool->ns);
  w.Key(custom ? "input" : "arguments").String(payload);
  w.EndObject();
  return out;
}

Outcome OutcomeOf(chat::FinishReason finish) {
  switch (finish) {
    case chat::FinishReason::kLength:
    case chat::FinishReason::kContextFull: return {"incomplete", "max_output_tokens"};
    case chat::FinishReason::kContentFilter: return {"incomplete", "content_filter"};
    case chat::FinishReason::kError: return {"failed", ""};
    default: return {"completed", ""};
  }
}

void WriteResponse(json::Writer& w, const ResponseMeta& meta, std::string_view status,
                   std::string_view incomplete_reason, const ResponseError* error,
                   const std::vector<std::string>& items, const std::optional<chat::Usage>& usage) {
  w.BeginObject().Key("id").String(meta.id).Key("object").String("response");
  w.Key("created_at").Int(meta.created_at).Key("status").String(status);
  w.Key("background").Bool(false);
  w.Key("error");
  if (error) {
    w.BeginObject().Key("code").String(error->code).Key("message").String(error->message).EndObject();
  } else {
    w.Null();
  }
  w.Key("incomplete_details");
  if (incomplete_reason.empty()) {
    w.Null();
  } else {
    w.BeginObject().Key("reason").String(incomplete_reason).EndObject();
  }
  w.Key("instructions").Null();
  w.Key("max_output_tokens");
  if (meta.max_output_tokens) {
    w.Int(*meta.max_output_tokens);
  } else {
    w.Null();
  }
  w.Key("model").String(meta.model);
  w.Key("output").BeginArray();
  for (const auto& item : items) w.Raw(item);
  w.EndArray();
  w.Key("parallel_tool_calls").Bool(meta.parallel_tool_calls);
  w.Key("previous_response_id").Null();
  w.Key("reasoning").BeginObject();
  OptionalString(w, "effort", meta.reasoning_effort);
  OptionalString(w, "summary", meta.reasoning_summary);
  w.EndObject();
  w.Key("store").Bool(false);
  OptionalDouble(w, "temperature", meta.temperature);
  w.Key("text").Raw(meta.text);
  w.Key("tool_choice").Raw(meta.tool_choice);
  w.Key("tools").BeginArray().EndArray();
  OptionalDouble(w, "top_p", meta.top_p);
  w.Key("truncation").String("disabled");
  w.Key("usage");
  if (usage) {
    w.BeginObject().Key("input_tokens").Int(usage->input_tokens);
    w.Key("input_tokens_details").BeginObject().Key("cached_tokens").Int(usage->cached_input_tokens).EndObject();
    w.Key("output_tokens").Int(usage->output_tokens);
    w.Key("output_tokens_details").BeginObject().Key("reasoning_tokens").Int(usage->reasoning_tokens).EndObject();
    w.Key("total_tokens").Int(usage->total()).EndObject();
  } else {
    w.Null();
  }
  OptionalString(w, "user", meta.user);
  w.Key("metadata").BeginObject().EndObject();
  w.EndObject();
}

}  // namespace internal

std::string ResponsesFrontDoor::EncodeResponse(const InternalRequest& request, const chat::Response& response) const {
  using namespace internal;
  const ResponseMeta meta = ReadMeta(request);
  std::vector<std::string> items;
  std::string text;  // consecutive text parts make one message item
  auto flush_text = [&] {
    if (text.empty()) return;
    items.push_back(MessageItem(chat::NewId("msg_", 32), "completed", text));
    text.clear();
  };
  for (const auto& part : response.content) {
    switch (part.kind) {
      case chat::PartKind::kText: text += part.text; break;
      case chat::PartKind::kThinking:
        flush_text();
        if (!part.text.empty() || !part.signature.empty()) {
          items.push_back(ReasoningItem(chat::NewId("rs_", 32), "completed", part.text, part.signature));
        }
        break;
      case chat::PartKind::kRedactedThinking:
        flush_text();
        items.push_back(ReasoningItem(chat::NewId("rs_", 32), "completed", "",
                                      std::string(kRedactedPrefix) + part.signature));
        break;
      case chat::PartKind::kToolCall: {
        flush_text();
        const DeclaredTool* tool = FindTool(meta, part.name);
        const bool custom = tool && tool->custom;
        items.push_back(ToolCallItem(chat::NewId(custom ? "ctc_" : "fc_", 32), "completed", tool, CallId(part.id),
                                     part.name, custom ? CustomInput(part.arguments)
                                                       : std::string(ArgumentsText(part.arguments))));
        break;
      }
      default: break;  // images and tool results have no place in a model's output
    }
  }
  flush_text();

  const Outcome outcome = OutcomeOf(response.finish);
  ResponseError error{"server_error", "The upstream model failed to complete the response."};
  std::string out;
  json::Writer w(&out);
  WriteResponse(w, meta, outcome.status, outcome.incomplete_reason, outcome.status == "failed" ? &error : nullptr,
                items, response.usage);
  return out;
}

}  // namespace sy::responses
