// The OpenAI Responses front door: POST /v1/responses, what the openai SDKs'
// client.responses.create / .stream and Codex CLI send. Requests are
// translated into the internal model (core/chat.h) and answered in the
// Responses shapes: a Response object, or named SSE events with a
// sequence_number ending in response.completed / response.incomplete /
// response.failed (no [DONE]).
//
// What translates (request):
//   instructions, system/developer items        → chat system (hoisted, in order)
//   message items (input_text, output_text,
//     refusal, input_image as data: or http URL) → user / assistant messages
//   function_call / custom_tool_call            → assistant kToolCall (id = call_id;
//                                                  custom input as {"input": "..."})
//   function_call_output / custom_tool_call_output → kTool message, one per output
//   reasoning {summary, encrypted_content}      → kThinking (text = summaries joined
//                                                  with "\n\n", signature = encrypted_content)
//   tools: function, custom (→ function taking {"input": string}; a grammar format
//     is appended to the description), namespace (flattened: NS + "__" + NAME),
//     and the tools of `additional_tools` input items (Codex) likewise;
//   tool_choice, parallel_tool_calls, max_output_tokens, temperature, top_p,
//   reasoning {effort, summary}, text.format, user.
// Dropped silently: hosted tool types (web_search*, file_search, computer_use*,
//   code_interpreter, image_generation, mcp, local_shell, tool_search, ...), the
//   input items they produce (web_search_call, local_shell_call, ...) and any
//   output answering such an item's call_id; store, include, metadata,
//   prompt_cache_key, service_tier, truncation, text.verbosity.
// Rejected (400): previous_response_id, conversation, background:true, prompt
//   and item_reference items (the gateway is stateless and stores nothing: send
//   the full history); image file_id, input_file, input_audio.
//
// Responses: reasoning items carry the internal signature in encrypted_content
// (a redacted thinking block as "sy.redacted:" + its data), so Codex's
// store:false replay gives the upstream back what it produced. A call to a tool
// the request declared as custom comes back as a custom_tool_call item; a call
// to a namespaced tool as function_call with `namespace`. call_id keeps
// upstream ids that start with "call_" and maps others with chat::SafeToolId;
// item ids are always fresh (msg_, fc_, ctc_, rs_).
//
// Thread-safety: the front door is stateless and shared; parsing uses
// thread-local simdjson parsers. A stream encoder belongs to one response.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/codec.h"

namespace sy::responses {

// Deepest JSON nesting accepted in a request body.
inline constexpr size_t kMaxJsonDepth = 64;

// One endpoint shape only (FrontDoorInput.shape is ignored).
class ResponsesFrontDoor final : public FrontDoor {
 public:
  WireProtocol protocol() const override { return WireProtocol::kOpenAIResponses; }

  // Checks: a JSON object at most kMaxJsonDepth deep; "model" a non-empty
  // string, "model" and "stream" each at most once at the top level; "stream"
  // a boolean (default false); "input" a string or an array; no stateful
  // parameter (see above). operation = kChatCompletions.
  std::variant<InternalRequest, GatewayError> Peek(FrontDoorInput input) const override;

  std::optional<GatewayError> ParseChat(const InternalRequest& request, chat::Request* out) const override;
  // Always kBadRequest: this endpoint has no embeddings.
  std::optional<GatewayError> ParseEmbed(const InternalRequest& request, chat::EmbedRequest* out) const override;

  std::string EncodeResponse(const InternalRequest& request, const chat::Response& response) const override;
  std::unique_ptr<StreamEncoder> NewStreamEncoder(const InternalRequest& request,
                                                  const chat::Request& chat) const override;
  std::string StreamContentType(const InternalRequest& request) const override { return "text/event-stream"; }
  std::string EncodeEmbed(const InternalRequest& request, const chat::EmbedResponse& response) const override {
    return "";
  }
  std::string EncodeCountTokens(const InternalRequest& request, int64_t input_tokens) const override { return ""; }

  // {"error":{"message","type","param","code"}}, as OpenAI answers.
  ErrorReply EncodeError(const GatewayError& error) const override;

  // OpenAI shapes: {"object":"list","data":[{"id","object":"model","created","owned_by"}]}.
  std::string ModelList(const std::vector<ModelEntry>& models, long long created) const override;
  std::string ModelObject(const ModelEntry& model, long long created) const override;
};

// The OpenAI error body for `error` (same shape as the Chat Completions door).
std::string ErrorBody(const GatewayError& error);

}  // namespace sy::responses
