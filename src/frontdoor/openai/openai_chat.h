// The OpenAI front door as a translation seam (core/codec.h): clients speak
// OpenAI Chat Completions (/v1/chat/completions), legacy Completions
// (/v1/completions) or Embeddings (/v1/embeddings).
//
// Peek wraps openai::ParseRequest (openai_frontdoor.h). ParseChat/ParseEmbed
// run only when the request is translated for a non-OpenAI upstream; they
// reject, naming the parameter, what cannot be translated (legacy completions
// `suffix`, `echo`, `best_of` > 1, `logprobs`; chat `logprobs: true`; token
// array inputs; base64 embeddings; non-function tools).
//
// Finish reasons (translation.md §3): stop and stop-sequence → "stop"; length
// and context-full → "length"; tool calls → "tool_calls"; filtered →
// "content_filter". kPause (Anthropic pause_turn: the turn is not finished,
// send it back to continue) → "length", the OpenAI reason that tells a client
// the output is incomplete. kError and kNone → "stop" (OpenAI has no error
// finish reason; an error the upstream reported in a stream travels as an
// in-band error event instead). kStop/kNone with tool calls → "tool_calls".
// A finish reason is always sent.
//
// Thread-safety: const methods are reentrant (thread-local simdjson parser).
// Stream encoders are per response and not shared.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/chat.h"
#include "core/codec.h"
#include "core/errors.h"
#include "core/request.h"

namespace sy::openai {

// Response shapes (InternalRequest::shape). Peek sets the shape from the
// operation, so a router may ignore them; they are listed so that every front
// door documents its shapes the same way.
inline constexpr int kShapeChat = 0;         // chat.completion / chat.completion.chunk
inline constexpr int kShapeCompletions = 1;  // text_completion (legacy /v1/completions)
inline constexpr int kShapeEmbeddings = 2;   // {"object":"list","data":[{"object":"embedding",...}]}

class OpenAiFrontDoor final : public FrontDoor {
 public:
  // `now` gives the Unix time for the "created" field; the system clock when
  // empty. Tests pass a fixed clock.
  explicit OpenAiFrontDoor(std::function<int64_t()> now = {});

  WireProtocol protocol() const override { return WireProtocol::kOpenAI; }

  std::variant<InternalRequest, GatewayError> Peek(FrontDoorInput input) const override;
  std::optional<GatewayError> ParseChat(const InternalRequest& request, chat::Request* out) const override;
  std::optional<GatewayError> ParseEmbed(const InternalRequest& request, chat::EmbedRequest* out) const override;

  std::string EncodeResponse(const InternalRequest& request, const chat::Response& response) const override;
  std::unique_ptr<StreamEncoder> NewStreamEncoder(const InternalRequest& request,
                                                  const chat::Request& chat) const override;
  std::string StreamContentType(const InternalRequest& request) const override { return "text/event-stream"; }
  std::string EncodeEmbed(const InternalRequest& request, const chat::EmbedResponse& response) const override;
  // OpenAI has no count_tokens endpoint: always "".
  std::string EncodeCountTokens(const InternalRequest& request, int64_t input_tokens) const override { return ""; }

  // OpenAI error body; Retry-After when the error has one; WWW-Authenticate:
  // Bearer on 401.
  ErrorReply EncodeError(const GatewayError& error) const override;

  std::string ModelList(const std::vector<sy::ModelEntry>& models, long long created) const override;
  std::string ModelObject(const sy::ModelEntry& model, long long created) const override;

 private:
  int64_t Now() const;
  std::function<int64_t()> now_;
};

}  // namespace sy::openai
