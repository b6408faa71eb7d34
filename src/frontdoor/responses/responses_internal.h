// Pieces shared by the Responses front door's files (request parsing,
// response encoding, stream encoding). Not for use outside
// src/frontdoor/responses/.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/json_writer.h"
#include "core/chat.h"
#include "core/codec.h"
#include "core/errors.h"

namespace sy::responses::internal {

// encrypted_content of a reasoning item that stands for a redacted thinking
// block: this prefix + the block's opaque data. OpenAI's own blobs never
// contain ':'.
inline constexpr std::string_view kRedactedPrefix = "sy.redacted:";
// Internal name of a namespaced tool: NAMESPACE + this + NAME.
inline constexpr std::string_view kNamespaceSeparator = "__";

GatewayError BadRequest(std::string message, std::string param);

// A tool the client declared, by its internal (flattened) name.
struct DeclaredTool {
  bool custom = false;  // a freeform "custom" tool: calls go back as custom_tool_call
  std::string ns;       // namespace ("" when none)
  std::string name;     // the name inside the namespace
};
using ToolTable = std::unordered_map<std::string, DeclaredTool>;

// Appends the translatable tools of `tools` (a Responses tools array, at
// `param` for error messages) to out->tools (skipping names already there)
// and records them in *table. Hosted tool types are dropped.
std::optional<GatewayError> ParseTools(simdjson::dom::array tools, const std::string& param, chat::Request* out,
                                       ToolTable* table);

// What the Response object echoes of the request, read from its body. Best
// effort: a body the front door accepted always yields one.
struct ResponseMeta {
  std::string id;          // "resp_..."
  long long created_at = 0;
  std::string model;       // as the client named it
  ToolTable tools;
  bool parallel_tool_calls = true;
  std::string tool_choice = "\"auto\"";  // JSON text
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> max_output_tokens;
  std::string reasoning_effort;   // "" → null
  std::string reasoning_summary;  // "" → null
  std::string text = "{\"format\":{\"type\":\"text\"}}";  // JSON text
  std::string user;  // "" → null
};
ResponseMeta ReadMeta(const InternalRequest& request);

// The call_id for an internal tool-call id: kept when it starts with "call_",
// else chat::SafeToolId (a new one when empty).
std::string CallId(std::string_view id);
// The freeform input of a custom tool call from its internal arguments
// ({"input": "..."}); the arguments text itself when they are not that shape.
std::string CustomInput(std::string_view arguments);
// Arguments text as items carry it: "{}" when empty.
inline std::string_view ArgumentsText(std::string_view arguments) {
  return arguments.empty() ? std::string_view("{}") : arguments;
}

// Output items, as JSON text.
std::string MessageItem(std::string_view id, std::string_view status, std::string_view text);
std::string ReasoningItem(std::string_view id, std::string_view status, std::string_view text,
                          std::string_view encrypted_content);
// function_call (or custom_tool_call when `tool` says custom). `name` is the
// internal name; `payload` the arguments (function) or input (custom).
std::string ToolCallItem(std::string_view id, std::string_view status, const DeclaredTool* tool,
                         std::string_view call_id, std::string_view name, std::string_view payload);
// The declared tool named `name`, or nullptr.
const DeclaredTool* FindTool(const ResponseMeta& meta, std::string_view name);

// How a response ends, from its finish reason.
struct Outcome {
  std::string_view status = "completed";       // completed | incomplete | failed
  std::string_view incomplete_reason;          // "" → incomplete_details: null
};
Outcome OutcomeOf(chat::FinishReason finish);

// A whole Response object. `error` (code, message) only for status "failed".
struct ResponseError {
  std::string code;
  std::string message;
};
void WriteResponse(json::Writer& w, const ResponseMeta& meta, std::string_view status,
                   std::string_view incomplete_reason, const ResponseError* error,
                   const std::vector<std::string>& items, const std::optional<chat::Usage>& usage);

std::unique_ptr<StreamEncoder> NewEncoder(ResponseMeta meta);

}  // namespace sy::responses::internal
