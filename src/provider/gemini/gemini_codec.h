// The Gemini upstream codec: the upstream speaks the Gemini API
// (generativelanguage v1beta); base_url is the server root, e.g.
// https://generativelanguage.googleapis.com.
//
// Encoding (shared/notes/translation.md §1.4, §2, §5, §6, §9):
//   - strict user/model alternation: adjacent same-role turns are merged; the
//     tool results answering one model turn become functionResponse parts of
//     ONE user content, one per functionCall of that turn (a call left
//     unanswered gets {"error":"No result was provided for this call."});
//   - functionResponse.name from the result, else from the call with the same
//     id in history, else from the call in the same position of the turn;
//     response is an object: an object text stays, any other JSON value or
//     plain text becomes {"result": value} ({"error": value} when is_error);
//   - thoughtSignature: only Part::signature of text and tool-call parts (the
//     Gemini convention) is sent back; in the current turn (after the last
//     user content with more than functionResponses) the first functionCall
//     of each model step without a signature gets kSkipSignature. Thinking
//     parts go back as thought parts without signature (their signature may
//     be another provider's);
//   - tools as functionDeclarations with parametersJsonSchema (as given).
// Decoding:
//   - functionCall parts arrive whole: kToolCallStart + one kToolCallDelta
//     (the args JSON) + kToolCallEnd; the id is kept, else a unique one is
//     made ("call_" + random hex; never the name);
//   - a part's thoughtSignature: in DecodeChat on the part (Part::signature);
//     in streams a kReasoningSignature right after that part's events;
//   - usageMetadata is cumulative: the last one wins, never summed;
//   - STOP with a functionCall anywhere in the answer → kToolCalls.
//
// Thread-safety: const methods are reentrant; decoders are per stream.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/codec.h"

namespace sy::gemini {

class GeminiCodec final : public UpstreamCodec {
 public:
  WireProtocol protocol() const override { return WireProtocol::kGemini; }

  // x-goog-api-key: KEY
  std::pair<std::string, std::string> AuthHeader(const std::string& key) const override;

  // "/v1beta/models/{m}:generateContent", ":streamGenerateContent?alt=sse" (or
  // without alt=sse for kShapeStreamJsonArray), ":countTokens",
  // ":embedContent" / ":batchEmbedContents" (kShapeBatchEmbed); the model is
  // percent-encoded as one path segment ("models/" prefix dropped).
  std::string PassthroughPath(const InternalRequest& request, const std::string& upstream_model) const override;

  // generateContent, or streamGenerateContent?alt=sse when request.stream.
  // n > 1 is a 400 (chat::Unsupported) unless options.drop_params.
  std::variant<UpstreamCall, GatewayError> EncodeChat(const chat::Request& request, const std::string& upstream_model,
                                                     const CodecOptions& options) const override;
  std::variant<chat::Response, GatewayError> DecodeChat(std::string_view body) const override;
  // Decodes the SSE stream (the codec always asks alt=sse).
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override;

  // batchEmbedContents {requests:[{model:"models/m", content, taskType?,
  // outputDimensionality?}]}.
  std::variant<UpstreamCall, GatewayError> EncodeEmbed(const chat::EmbedRequest& request,
                                                      const std::string& upstream_model) const override;
  // embeddings[].values (or embedding.values).
  std::variant<chat::EmbedResponse, GatewayError> DecodeEmbed(std::string_view body) const override;

  // countTokens {contents}, or {generateContentRequest:{model, contents,
  // systemInstruction, tools}} when the request has a system prompt or tools.
  std::optional<UpstreamCall> EncodeCountTokens(const chat::Request& request,
                                                const std::string& upstream_model) const override;
  // totalTokens (absent in a JSON object: 0, as proto3 JSON omits zeros).
  std::optional<int64_t> DecodeCountTokens(std::string_view body) const override;

  // error.message of {"error":{...}} (or of [{"error":{...}}]).
  std::string ErrorMessage(std::string_view body) const override;
};

}  // namespace sy::gemini
