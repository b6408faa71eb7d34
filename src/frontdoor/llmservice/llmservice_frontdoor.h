// The front door of the Rust LLM Inference Service's API
// (../shared/seeds/003_1f434176664ca0b5.txt), for local models:
//
//   POST /chat/completions  {"model-name", "prompt", "session-id", "max-token",
//                            "temperature", "top-p", "top-k", "repeat-penalty",
//                            "system-prompt", "stop", "device"}
//                           → SSE, one generated piece per "data:" line
//   POST /completions       {"model", "prompt", "max_tokens", "temperature",
//                            "top_p", "stop", "stream"} (without /v1, on a
//                           local model) → {"text", "model", "tokens"}, or SSE
//   WS   /chat/ws           the chat body per text message; pieces back as
//                           text frames, errors as "__ERROR__:<message>"
//
// /chat/completions shares its path with OpenAI's: a body with "model-name"
// is this protocol's. Errors are {"error":"message"}.
//
// Sessions: a chat with a "session-id" continues that session's history
// (SessionBook, kept in the store); one without gets a new id, sent back in
// the X-Session-Id header. The turn (user prompt and answer) is added to the
// session when the answer ends well. "system-prompt" becomes (or replaces)
// the session's system message; a new session without one starts with
// kDefaultSystemPrompt, as the seed's history example shows.
//
// Thread-safety: const and reentrant; the session book is thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/codec.h"

namespace sy::local {
class SessionBook;
}

namespace sy::llmservice {

// InternalRequest.shape values.
inline constexpr int kShapeChat = 0;        // POST /chat/completions (SSE)
inline constexpr int kShapeCompletion = 1;  // POST /completions
inline constexpr int kShapeSocket = 2;      // a /chat/ws message: pieces as netstrings (see EncodeSocketPiece)

inline constexpr std::string_view kDefaultSystemPrompt = "You are a helpful AI assistant.";
// Prefix of an error frame on /chat/ws.
inline constexpr std::string_view kSocketErrorPrefix = "__ERROR__:";

// True when a /chat/completions body is this protocol's (has "model-name").
bool IsLlmServiceChat(std::string_view body);

// Socket shape: each piece is "<length>:<bytes>" so that the WebSocket side
// sends one text frame per piece whatever the write boundaries.
void EncodeSocketPiece(std::string_view piece, std::string* out);
// Splits the pieces off the front of *buffer (leaving an unfinished one).
// False when the buffer is not netstrings.
bool TakeSocketPieces(std::string* buffer, std::vector<std::string>* pieces);

class LlmServiceFrontDoor final : public FrontDoor {
 public:
  WireProtocol protocol() const override { return WireProtocol::kLlmService; }

  // The book sessions are kept in (the gateway sets it; null: no sessions).
  static void SetSessions(local::SessionBook* book);
  static local::SessionBook* sessions();
  // 503 with Retry-After: the book is not Available() (its store not read).
  static GatewayError SessionsUnavailable();

  std::variant<InternalRequest, GatewayError> Peek(FrontDoorInput input) const override;
  std::optional<GatewayError> ParseChat(const InternalRequest& request, chat::Request* out) const override;
  std::optional<GatewayError> ParseEmbed(const InternalRequest& request, chat::EmbedRequest* out) const override;
  std::string EncodeResponse(const InternalRequest& request, const chat::Response& response) const override;
  std::unique_ptr<StreamEncoder> NewStreamEncoder(const InternalRequest& request,
                                                  const chat::Request& chat) const override;
  std::string StreamContentType(const InternalRequest& request) const override;
  HeaderList StreamHeaders(const InternalRequest& request, const chat::Request& chat) const override;
  std::string EncodeEmbed(const InternalRequest& request, const chat::EmbedResponse& response) const override;
  std::string EncodeCountTokens(const InternalRequest& request, int64_t input_tokens) const override;
  ErrorReply EncodeError(const GatewayError& error) const override;
  // {"models":["name", ...]}
  std::string ModelList(const std::vector<ModelEntry>& models, long long created) const override;
  // {"id", "name", "context_length", "quantization"}
  std::string ModelObject(const ModelEntry& model, long long created) const override;
};

}  // namespace sy::llmservice
