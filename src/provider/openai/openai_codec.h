// The OpenAI upstream codec (core/codec.h): the upstream speaks OpenAI Chat
// Completions / Embeddings (OpenAI, Azure-style compatibles, vLLM, llama.cpp
// server, OpenRouter, DeepSeek, Groq...). The provider's base_url includes
// the version ("https://api.openai.com/v1"); paths here are relative to it.
//
// Encoding (translation.md §2, §5, §6):
// - the system parts become one leading system message (texts joined with a
//   blank line); thinking and redacted-thinking parts are dropped (their
//   signatures are bound to the model that made them);
// - tool results become role "tool" messages placed right after the assistant
//   turn that made the calls: for a user turn of results plus text the tool
//   messages come first, then the text as a user message; images inside tool
//   results move into a user message right after the tool messages;
// - tool-call ids and result ids both go through chat::SafeToolId(id, "call_"),
//   so foreign ids ("functions.Bash:0", 53-character "fc_…") stay matched;
// - reasoning → reasoning_effort (effort as given; a budget maps ≤1024 → low,
//   ≤8192 → medium, else high; disabled → omitted), and max_tokens is then
//   sent as max_completion_tokens;
// - streams always ask for usage (stream_options.include_usage);
// - top_k and n > 1 → chat::Unsupported unless CodecOptions::drop_params.
// - a `user` longer than 64 bytes or with characters outside [A-Za-z0-9_.@-]
//   (Claude Code's metadata.user_id) is sent hashed ("user_" + 16 hex digits).
//
// Decoding: choices[0] only. Reasoning text (reasoning_content or reasoning)
// becomes a kThinking part before the text. Tool presence upgrades only a
// "stop" finish to kToolCalls, never "length". Streams follow §1.1: fragments
// accumulate per index; a new id or name at a used index is a new call;
// id-less orphan fragments join the last call; finish_reason and usage may
// come in later chunks, so kUsage and kFinish are emitted at [DONE] (or at
// Finish() when a finish_reason came but [DONE] did not).
//
// Thread-safety: the codec is stateless and shared; each stream decoder
// belongs to one response.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/chat.h"
#include "core/codec.h"
#include "core/request.h"

namespace sy::openai {

class OpenAiCodec final : public UpstreamCodec {
 public:
  WireProtocol protocol() const override { return WireProtocol::kOpenAI; }

  // Authorization: Bearer KEY.
  std::pair<std::string, std::string> AuthHeader(const std::string& key) const override;

  // "/chat/completions", "/completions" or "/embeddings" by operation.
  std::string PassthroughPath(const InternalRequest& request, const std::string& upstream_model) const override;

  // POST /chat/completions.
  std::variant<UpstreamCall, GatewayError> EncodeChat(const chat::Request& request, const std::string& upstream_model,
                                                     const CodecOptions& options) const override;
  std::variant<chat::Response, GatewayError> DecodeChat(std::string_view body) const override;
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override;

  // POST /embeddings, floats.
  std::variant<UpstreamCall, GatewayError> EncodeEmbed(const chat::EmbedRequest& request,
                                                      const std::string& upstream_model) const override;
  std::variant<chat::EmbedResponse, GatewayError> DecodeEmbed(std::string_view body) const override;

  // OpenAI has no token-counting endpoint.
  std::optional<UpstreamCall> EncodeCountTokens(const chat::Request& request,
                                                const std::string& upstream_model) const override {
    return std::nullopt;
  }
  std::optional<int64_t> DecodeCountTokens(std::string_view body) const override { return std::nullopt; }

  // error.message, or error when it is a string, or a top-level message;
  // otherwise the first 200 bytes of the body.
  std::string ErrorMessage(std::string_view body) const override;
};

// The stream decoder OpenAiCodec::NewStreamDecoder returns, with its text
// fast path (provider/text_shape.h) on or off: the fuzz target checks that
// both decode every input the same way.
std::unique_ptr<StreamDecoder> NewStreamDecoder(bool text_fast_path);

// The reasoning_effort for a request's reasoning settings; "" when none is to
// be sent. Exposed for tests.
std::string ReasoningEffort(const chat::Reasoning& reasoning);

}  // namespace sy::openai
