// The Ollama upstream codec: the internal model to and from Ollama's native
// API (/api/chat, /api/embed). base_url is the server root
// (http://localhost:11434, or https://ollama.com for Ollama's cloud).
//
// Translated chat always goes to /api/chat (never /api/generate) with
// "stream" set explicitly (Ollama defaults it to true). What Ollama cannot
// do, a 400 naming the parameter unless drop_params: n > 1, a forced
// tool_choice (required or a named tool), an image given by URL (Ollama takes
// inline base64 only). tool_choice "none" sends no tools.
//
// Thread-safety: const and reentrant; stream decoders are per stream.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/codec.h"

namespace sy::ollama {

class OllamaCodec final : public UpstreamCodec {
 public:
  WireProtocol protocol() const override { return WireProtocol::kOllama; }

  // Authorization: Bearer KEY (Ollama's cloud; local servers ignore it).
  std::pair<std::string, std::string> AuthHeader(const std::string& key) const override;
  // By the client's shape: /api/chat, /api/generate, /api/embed, /api/embeddings.
  std::string PassthroughPath(const InternalRequest& request, const std::string& upstream_model) const override;

  std::variant<UpstreamCall, GatewayError> EncodeChat(const chat::Request& request, const std::string& upstream_model,
                                                      const CodecOptions& options) const override;
  // An /api/chat answer (stream false). {"error":...} → kProviderError.
  std::variant<chat::Response, GatewayError> DecodeChat(std::string_view body) const override;
  // /api/chat NDJSON. Each tool call arrives whole: kToolCallStart, one
  // kToolCallDelta with all its arguments, kToolCallEnd, numbered densely by
  // the decoder (Ollama may give parallel calls the same index). done:true →
  // kUsage (when counts came) then kFinish; an {"error"} line → kError; a
  // body that ends before done:true → kError "stream ended early".
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override;

  // /api/embed {model, input:[...], dimensions}.
  std::variant<UpstreamCall, GatewayError> EncodeEmbed(const chat::EmbedRequest& request,
                                                       const std::string& upstream_model) const override;
  std::variant<chat::EmbedResponse, GatewayError> DecodeEmbed(std::string_view body) const override;

  // Ollama has no token-counting endpoint.
  std::optional<UpstreamCall> EncodeCountTokens(const chat::Request& request,
                                                const std::string& upstream_model) const override;
  std::optional<int64_t> DecodeCountTokens(std::string_view body) const override;

  // The "error" string of {"error":"..."} (or {"error":{"message":...}});
  // else a short prefix of the body.
  std::string ErrorMessage(std::string_view body) const override;
};

}  // namespace sy::ollama
