// The two translation seams: a front door (what clients speak) and an
// upstream codec (what a provider's upstream speaks). Both convert between a
// wire protocol and the typed internal model in core/chat.h. They are pure:
// no I/O, no clock, no shared mutable state, so they are unit-tested and
// fuzzed on their own and shared by every worker thread.
//
// Implementations, one per protocol:
//   front doors:   frontdoor/openai (Chat Completions), frontdoor/responses
//                  (OpenAI Responses), frontdoor/anthropic, frontdoor/gemini,
//                  frontdoor/ollama
//   upstream codecs: provider/openai, provider/anthropic, provider/gemini,
//                  provider/ollama
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/chat.h"
#include "core/errors.h"
#include "core/request.h"

namespace sy {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------- streams

// Turns internal stream events into a client protocol's stream bytes. One per
// streamed response. Encoders keep what their protocol needs across events
// (open content blocks, tool-call buffers, sequence numbers).
class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  // Appends the bytes for `event` to *out (possibly none). After kFinish or
  // kError the stream is complete: those events write the protocol's end
  // (OpenAI's [DONE], Anthropic's message_stop, an in-band error...).
  virtual void Encode(const chat::StreamEvent& event, std::string* out) = 0;
};

// Turns an upstream's stream body (SSE, NDJSON or a JSON array, in pieces
// split anywhere) into internal stream events, in the order core/chat.h
// describes. Malformed input never throws: it yields one kError event
// (ErrorCode::kProviderError) and everything after it is ignored.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Feeds the next piece of the upstream body; appends decoded events.
  virtual void Feed(std::string_view bytes, std::vector<chat::StreamEvent>* out) = 0;
  // The upstream body ended. Appends what closes the stream: kToolCallEnd for
  // calls still open, the final kUsage, then kFinish; or kError when the
  // stream was cut short (no end marker of its protocol) or malformed.
  // Nothing is appended when a terminal event was already emitted.
  virtual void Finish(std::vector<chat::StreamEvent>* out) = 0;
};

// ---------------------------------------------------------------- front door

// What the gateway hands a front door: the operation the route named, the
// path parameter (Gemini's model), the shape, and the body.
struct FrontDoorInput {
  Operation operation = Operation::kChatCompletions;
  int shape = 0;               // front-door specific (see each front door's header)
  std::string path_model;      // Gemini: the {model} of the path, decoded; else ""
  bool path_stream = false;    // Gemini: :streamGenerateContent
  std::string body;
};

// A complete error response in the front door's protocol.
struct ErrorReply {
  int status = 500;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;  // Retry-After, WWW-Authenticate...
};

// One model as every front door lists it.
struct ModelEntry {
  ModelEntry() = default;
  ModelEntry(std::string id_, std::string owned_by_) : id(std::move(id_)), owned_by(std::move(owned_by_)) {}
  std::string id;        // the name clients use
  std::string owned_by;  // the provider id
  // GhostLLM's extra fields, shown by the OpenAI front door when `detailed`.
  bool detailed = false;
  int64_t context_length = 0;  // 0 = unknown (null)
  double input_per_1k = -1;    // dollars; < 0 = unknown (no pricing object)
  double output_per_1k = -1;
  bool vision = false, functions = false, streaming = true;
  // A local model: the facts of its GGUF file (format "gguf"); empty for
  // remote ones.
  std::string format;           // "gguf" for a local model
  std::string family;           // general.architecture
  std::string quantization;     // F16, Q4_K_M...
  int64_t parameter_count = 0;
  uint64_t size = 0;            // bytes of the file
  int64_t modified_at = 0;      // unix seconds; 0 = the gateway's start
  std::string chat_template;
  bool embedding = false;       // an embedding model
  std::vector<std::pair<std::string, std::string>> metadata;  // GGUF key → value text
  // /api/ps: a model in memory.
  int64_t expires_in_ms = -1;   // -1 = not set to expire
  std::string state;            // loading | ready | stopping ("" for a listing)
  double load_progress = 0;     // loading: 0..1
};

class FrontDoor {
 public:
  virtual ~FrontDoor() = default;
  virtual WireProtocol protocol() const = 0;

  // Cheap, on every request: validates the body as JSON and fills what
  // routing and passthrough need (operation, model, stream, raw_body,
  // model_span, shape). Takes the body.
  virtual std::variant<InternalRequest, GatewayError> Peek(FrontDoorInput input) const = 0;

  // Only when the request is translated: the typed request.
  virtual std::optional<GatewayError> ParseChat(const InternalRequest& request, chat::Request* out) const = 0;
  // kBadRequest when the protocol has no embeddings.
  virtual std::optional<GatewayError> ParseEmbed(const InternalRequest& request, chat::EmbedRequest* out) const = 0;

  // Response bodies in the front door's protocol. The model is echoed as the
  // client named it (request.model).
  virtual std::string EncodeResponse(const InternalRequest& request, const chat::Response& response) const = 0;
  virtual std::unique_ptr<StreamEncoder> NewStreamEncoder(const InternalRequest& request,
                                                          const chat::Request& chat) const = 0;
  virtual std::string StreamContentType(const InternalRequest& request) const = 0;
  // Extra headers of a streamed answer (the LLM service's X-Session-Id).
  virtual HeaderList StreamHeaders(const InternalRequest& request, const chat::Request& chat) const { return {}; }
  virtual std::string EncodeEmbed(const InternalRequest& request, const chat::EmbedResponse& response) const = 0;
  // count_tokens answers ("" when the protocol has none).
  virtual std::string EncodeCountTokens(const InternalRequest& request, int64_t input_tokens) const = 0;

  virtual ErrorReply EncodeError(const GatewayError& error) const = 0;

  // Model listing in the protocol's own shape.
  virtual std::string ModelList(const std::vector<ModelEntry>& models, long long created) const = 0;
  virtual std::string ModelObject(const ModelEntry& model, long long created) const = 0;
};

// ---------------------------------------------------------------- upstream

// An upstream request a codec builds; the provider adds base_url, auth and
// the configured headers.
struct UpstreamCall {
  std::string path;    // appended to the provider's base_url, query included
  std::string body;
  HeaderList headers;  // protocol headers (anthropic-version, Accept...), never auth
};

struct CodecOptions {
  // A parameter the upstream cannot honour: false → 400 naming it;
  // true → left out silently (drop_params in the config).
  bool drop_params = false;
};

class UpstreamCodec {
 public:
  virtual ~UpstreamCodec() = default;
  virtual WireProtocol protocol() const = 0;

  // The auth header for one provider key, the protocol's native way.
  virtual std::pair<std::string, std::string> AuthHeader(const std::string& key) const = 0;

  // Same-protocol passthrough: the path for a request whose body goes up as
  // it came (model rewritten), e.g. "/v1/messages".
  virtual std::string PassthroughPath(const InternalRequest& request, const std::string& upstream_model) const = 0;

  virtual std::variant<UpstreamCall, GatewayError> EncodeChat(const chat::Request& request,
                                                             const std::string& upstream_model,
                                                             const CodecOptions& options) const = 0;
  virtual std::variant<chat::Response, GatewayError> DecodeChat(std::string_view body) const = 0;
  virtual std::unique_ptr<StreamDecoder> NewStreamDecoder() const = 0;

  // kBadRequest when the protocol has no embeddings.
  virtual std::variant<UpstreamCall, GatewayError> EncodeEmbed(const chat::EmbedRequest& request,
                                                              const std::string& upstream_model) const = 0;
  virtual std::variant<chat::EmbedResponse, GatewayError> DecodeEmbed(std::string_view body) const = 0;

  // nullopt when the upstream has no token-counting endpoint (the gateway
  // then estimates, and says so in its docs).
  virtual std::optional<UpstreamCall> EncodeCountTokens(const chat::Request& request,
                                                        const std::string& upstream_model) const = 0;
  virtual std::optional<int64_t> DecodeCountTokens(std::string_view body) const = 0;

  // The human-readable message inside an upstream error body; a short prefix
  // of the body when it has no recognisable shape.
  virtual std::string ErrorMessage(std::string_view body) const = 0;
};

}  // namespace sy
