// The Anthropic Messages front door: what @anthropic-ai/sdk and Claude Code
// speak. POST /v1/messages (Operation::kChatCompletions) and
// POST /v1/messages/count_tokens (Operation::kCountTokens); one shape each,
// so FrontDoorInput.shape is not read.
//
// Thread-safety: const methods are reentrant (thread-local simdjson parsers);
// a stream encoder belongs to one response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/codec.h"

namespace sy::anthropic {

inline constexpr size_t kMaxJsonDepth = 64;

// The first text block Claude Code puts in `system`: a billing line whose
// nonce changes every request. Dropped when translating (it defeats prefix
// caching elsewhere); passthrough to Anthropic keeps it.
inline constexpr std::string_view kBillingHeaderPrefix = "x-anthropic-billing-header:";

class AnthropicFrontDoor final : public FrontDoor {
 public:
  WireProtocol protocol() const override { return WireProtocol::kAnthropic; }

  // Checks: a JSON object at most kMaxJsonDepth deep; "model" a non-empty
  // string and "stream" a boolean, each at most once at the top level;
  // "messages" a non-empty array; for messages, "max_tokens" an integer >= 1.
  // count_tokens never streams. Other operations → 404.
  std::variant<InternalRequest, GatewayError> Peek(FrontDoorInput input) const override;

  // system, messages (text, image, tool_use, tool_result, thinking,
  // redacted_thinking), tools, tool_choice, sampling, stop_sequences,
  // metadata.user_id, thinking, output_config. Server tools and content
  // blocks no other protocol has (document, search_result...) → 400 naming
  // them. A user message holding tool_results becomes a kTool message with
  // the results, then a user message with the rest.
  std::optional<GatewayError> ParseChat(const InternalRequest& request, chat::Request* out) const override;
  // Anthropic has no embeddings: always 400.
  std::optional<GatewayError> ParseEmbed(const InternalRequest& request, chat::EmbedRequest* out) const override;

  std::string EncodeResponse(const InternalRequest& request, const chat::Response& response) const override;
  // Named SSE events (message_start, ping, content_block_*, message_delta,
  // message_stop, error). Blocks never interleave: parallel tool calls are
  // buffered and written one block after another.
  std::unique_ptr<StreamEncoder> NewStreamEncoder(const InternalRequest& request,
                                                  const chat::Request& chat) const override;
  std::string StreamContentType(const InternalRequest& request) const override { return "text/event-stream"; }
  std::string EncodeEmbed(const InternalRequest& request, const chat::EmbedResponse& response) const override {
    return "";
  }
  // {"input_tokens":N}
  std::string EncodeCountTokens(const InternalRequest& request, int64_t input_tokens) const override;

  // {"type":"error","error":{"type":...,"message":...}} with the code's HTTP
  // status and Retry-After when set.
  ErrorReply EncodeError(const GatewayError& error) const override;

  // {"data":[{"type":"model","id","display_name","created_at"}...],
  //  "has_more":false,"first_id","last_id"}; `created` is Unix seconds.
  std::string ModelList(const std::vector<ModelEntry>& models, long long created) const override;
  std::string ModelObject(const ModelEntry& model, long long created) const override;
};

// The stream encoder NewStreamEncoder returns, for a client that named
// `model`. `estimated_input_tokens` goes in message_start when the kStart
// event carries no input count (the real count follows in message_delta).
std::unique_ptr<StreamEncoder> NewStreamEncoder(std::string model, int64_t estimated_input_tokens);

// The error as an SSE `error` event, for failures after a stream began.
std::string ErrorEvent(const GatewayError& error);

}  // namespace sy::anthropic
