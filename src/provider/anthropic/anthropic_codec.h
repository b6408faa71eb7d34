// The Anthropic upstream codec: builds Anthropic Messages requests from the
// internal model and decodes Anthropic answers (JSON and SSE) back into it.
// base_url is the server root (https://api.anthropic.com); paths carry /v1.
//
// Thread-safety: const methods are reentrant (thread-local simdjson parsers);
// a stream decoder belongs to one response.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/codec.h"

namespace sy::anthropic {

inline constexpr std::string_view kAnthropicVersion = "2023-06-01";
inline constexpr int64_t kDefaultMaxTokens = 4096;  // Anthropic requires max_tokens
inline constexpr int64_t kMinThinkingBudget = 1024;

class AnthropicCodec final : public UpstreamCodec {
 public:
  WireProtocol protocol() const override { return WireProtocol::kAnthropic; }

  // x-api-key: KEY
  std::pair<std::string, std::string> AuthHeader(const std::string& key) const override;
  // /v1/messages, or /v1/messages/count_tokens for kCountTokens.
  std::string PassthroughPath(const InternalRequest& request, const std::string& upstream_model) const override;

  // POST /v1/messages. Turns alternate strictly (adjacent same-role turns are
  // merged); tool results go first in the next user turn; tool ids are made
  // safe the same way for a call and its result; thinking is replayed only
  // with its signature; no empty text block is sent. max_tokens defaults to
  // kDefaultMaxTokens; temperature is clamped to [0, 1] and wins over top_p.
  // frequency_penalty, presence_penalty, seed, n > 1 and response_format →
  // chat::Unsupported unless options.drop_params.
  std::variant<UpstreamCall, GatewayError> EncodeChat(const chat::Request& request, const std::string& upstream_model,
                                                     const CodecOptions& options) const override;
  std::variant<chat::Response, GatewayError> DecodeChat(std::string_view body) const override;
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override;

  // Anthropic has no embeddings: kBadRequest / kProviderError.
  std::variant<UpstreamCall, GatewayError> EncodeEmbed(const chat::EmbedRequest& request,
                                                      const std::string& upstream_model) const override;
  std::variant<chat::EmbedResponse, GatewayError> DecodeEmbed(std::string_view body) const override;

  // POST /v1/messages/count_tokens {model, system, messages, tools}.
  std::optional<UpstreamCall> EncodeCountTokens(const chat::Request& request,
                                                const std::string& upstream_model) const override;
  std::optional<int64_t> DecodeCountTokens(std::string_view body) const override;

  // error.message of {"type":"error","error":{...}}; else a prefix of the body.
  std::string ErrorMessage(std::string_view body) const override;
};

// The stream decoder NewStreamDecoder returns.
std::unique_ptr<StreamDecoder> NewStreamDecoder();

}  // namespace sy::anthropic
