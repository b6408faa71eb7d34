// The Gemini front door: clients that speak the Gemini API (generativelanguage
// v1beta: the @google/genai SDK, Gemini CLI). Endpoints the router maps here:
//
//   POST /v1beta/models/{model}:generateContent         kChatCompletions
//   POST /v1beta/models/{model}:streamGenerateContent   kChatCompletions, stream
//        ?alt=sse → SSE; without it → one JSON array written incrementally
//   POST /v1beta/models/{model}:countTokens             kCountTokens
//   POST /v1beta/models/{model}:embedContent            kEmbeddings
//   POST /v1beta/models/{model}:batchEmbedContents      kEmbeddings
//   GET  /v1beta/models, /v1beta/models/{model}         ModelList / ModelObject
//
// The model is in the path (FrontDoorInput.path_model, without "models/"), so
// InternalRequest.model_span stays empty: a passthrough body needs no model
// rewrite. Translation notes (shared/notes/translation.md §1.4, §2, §4, §6):
//   - functionCall parts without an id get a stable one ("call_gemini_<n>", in
//     order of the conversation) and the matching functionResponse (same name,
//     in order) gets the same id;
//   - thoughtSignature is kept in chat::Part::signature (on thought, text and
//     functionCall parts) and written back on the same kind of part;
//   - `parameters` / `responseSchema` (Gemini's OpenAPI subset: upper-case
//     types, nullable, propertyOrdering) are converted to JSON Schema;
//     `parametersJsonSchema` / `responseJsonSchema` are taken as given.
//   - streams: text and thought deltas become one chunk each; a tool call is
//     one chunk with the whole functionCall. The last part is held back one
//     event so that a following kReasoningSignature lands on it and the final
//     chunk carries content together with finishReason and usageMetadata
//     (Gemini CLI checks the last chunk). No [DONE], ever.
//
// Thread-safety: const methods are reentrant (thread-local simdjson parser).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/codec.h"

namespace sy::gemini {

// FrontDoorInput.shape / InternalRequest.shape values. The router sets them:
//   generateContent, countTokens, embedContent and
//   streamGenerateContent?alt=sse                → kShapeDefault
//   streamGenerateContent without alt=sse        → kShapeStreamJsonArray
//   batchEmbedContents                           → kShapeBatchEmbed
inline constexpr int kShapeDefault = 0;
inline constexpr int kShapeStreamSse = kShapeDefault;     // "data: {chunk}\r\n\r\n" per chunk
inline constexpr int kShapeStreamJsonArray = 1;           // "[" chunk ",\r\n" chunk ... "]"
inline constexpr int kShapeEmbedContent = kShapeDefault;  // {content} → {embedding:{values}}
inline constexpr int kShapeBatchEmbed = 2;                // {requests:[...]} → {embeddings:[...]}

class GeminiFrontDoor final : public FrontDoor {
 public:
  WireProtocol protocol() const override { return WireProtocol::kGemini; }

  // model = path_model (required); stream = path_stream for kChatCompletions.
  // The body must be a JSON object, at most kMaxJsonDepth deep, with
  // "contents" (an array; non-empty for generateContent) — countTokens may
  // carry "generateContentRequest" {contents,...} instead; embedContent needs
  // "content", batchEmbedContents (kShapeBatchEmbed) a non-empty "requests".
  std::variant<InternalRequest, GatewayError> Peek(FrontDoorInput input) const override;

  std::optional<GatewayError> ParseChat(const InternalRequest& request, chat::Request* out) const override;
  std::optional<GatewayError> ParseEmbed(const InternalRequest& request, chat::EmbedRequest* out) const override;

  std::string EncodeResponse(const InternalRequest& request, const chat::Response& response) const override;
  std::unique_ptr<StreamEncoder> NewStreamEncoder(const InternalRequest& request,
                                                  const chat::Request& chat) const override;
  // "application/json" for kShapeStreamJsonArray, "text/event-stream" otherwise.
  std::string StreamContentType(const InternalRequest& request) const override;
  // {embedding:{values}} or, for kShapeBatchEmbed, {embeddings:[{values}...]}.
  std::string EncodeEmbed(const InternalRequest& request, const chat::EmbedResponse& response) const override;
  // {"totalTokens": N}
  std::string EncodeCountTokens(const InternalRequest& request, int64_t input_tokens) const override;

  // {"error":{"code":HTTP status,"message","status":"INVALID_ARGUMENT"...}},
  // with Retry-After when the error has one.
  ErrorReply EncodeError(const GatewayError& error) const override;

  // {models:[{name:"models/ID", version, displayName, description,
  // inputTokenLimit, outputTokenLimit, supportedGenerationMethods}]}. The
  // token limits are nominal (the gateway does not know the upstream's).
  std::string ModelList(const std::vector<ModelEntry>& models, long long created) const override;
  std::string ModelObject(const ModelEntry& model, long long created) const override;
};

}  // namespace sy::gemini
