// The Ollama front door: the native Ollama API (/api/chat, /api/generate,
// /api/embed, /api/embeddings) as the `ollama` npm SDK, Open WebUI and the
// Ollama CLI speak it, plus the discovery endpoints those clients probe
// (GET /, /api/version, /api/tags, /api/ps, POST /api/show).
//
// Wire facts this front door keeps (docs/translation.md §0, §1.5, §11):
// - "stream" defaults to TRUE when absent (chat and generate); responses
//   stream as NDJSON ("application/x-ndjson"), one JSON object per line; a
//   failure after the 200 is a final {"error":"..."} line.
// - tool_calls[].function.arguments is a JSON object, both directions.
// - Tool results are role "tool" messages naming the function (tool_name)
//   and, from newer clients, the call (tool_call_id).
// - Errors are {"error":"message"}.
//
// Thread-safety: every method is const and reentrant (thread-local simdjson
// parsers); one instance serves all worker threads. The only outside input is
// the clock (created_at stamps), injected so tests are deterministic.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/codec.h"

namespace sy::ollama {

// FrontDoorInput.shape / InternalRequest.shape values, one per endpoint.
inline constexpr int kShapeChat = 0;        // POST /api/chat       (Operation::kChatCompletions)
inline constexpr int kShapeGenerate = 1;    // POST /api/generate   (Operation::kChatCompletions)
inline constexpr int kShapeEmbed = 2;       // POST /api/embed      (Operation::kEmbeddings)
inline constexpr int kShapeEmbeddings = 3;  // POST /api/embeddings (Operation::kEmbeddings, legacy
                                            //   {model, prompt} → {"embedding":[...]})

inline constexpr size_t kMaxJsonDepth = 64;

// What GET / answers (text/plain), like Ollama itself.
inline constexpr std::string_view kRootText = "Ollama is running";

// Context length /api/show reports when the gateway does not know the
// model's (a remote model has no GGUF metadata to read it from).
inline constexpr int64_t kDefaultContextLength = 131072;

class OllamaFrontDoor final : public FrontDoor {
 public:
  // Nanoseconds since the Unix epoch, for created_at.
  using Clock = std::function<int64_t()>;
  OllamaFrontDoor();  // system clock
  explicit OllamaFrontDoor(Clock now_ns);

  WireProtocol protocol() const override { return WireProtocol::kOllama; }

  // Checks per shape (input.shape; the operation follows from it):
  //   all: a JSON object at most kMaxJsonDepth deep; "model" a non-empty
  //        string; "model" and "stream" at most once at the top level;
  //   chat: "messages" an array (empty is allowed: Ollama loads the model,
  //        see LoadReply); "stream" a boolean or null, TRUE when absent;
  //   generate: "prompt" a string ("" allowed: a load request); "stream"
  //        as for chat;
  //   embed: "input" a string or an array; never streams;
  //   embeddings (legacy): "prompt" a string; never streams.
  std::variant<InternalRequest, GatewayError> Peek(FrontDoorInput input) const override;

  // Chat and generate bodies. 400 (naming the field) for: an unknown role;
  // wrong-typed fields; an image that is not PNG/JPEG/GIF/WebP base64; a tool
  // message with no earlier tool call to answer; empty messages or an empty
  // generate prompt (a load request: answer it with LoadReply instead);
  // generate's suffix / raw / context / template (no upstream protocol has
  // them). Ignored: keep_alive, logprobs, options other than those mapped.
  std::optional<GatewayError> ParseChat(const InternalRequest& request, chat::Request* out) const override;
  // /api/embed {model, input, dimensions, truncate (ignored)} and legacy
  // /api/embeddings {model, prompt}. 400 when there is nothing to embed.
  std::optional<GatewayError> ParseEmbed(const InternalRequest& request, chat::EmbedRequest* out) const override;

  std::string EncodeResponse(const InternalRequest& request, const chat::Response& response) const override;
  std::unique_ptr<StreamEncoder> NewStreamEncoder(const InternalRequest& request,
                                                  const chat::Request& chat) const override;
  std::string StreamContentType(const InternalRequest& request) const override;
  std::string EncodeEmbed(const InternalRequest& request, const chat::EmbedResponse& response) const override;
  std::string EncodeCountTokens(const InternalRequest& request, int64_t input_tokens) const override;  // ""
  // {"error":"message"} with the code's HTTP status (and Retry-After).
  ErrorReply EncodeError(const GatewayError& error) const override;

  // GET /api/tags (the same as Tags).
  std::string ModelList(const std::vector<ModelEntry>& models, long long created) const override;
  // One entry of /api/tags.
  std::string ModelObject(const ModelEntry& model, long long created) const override;

  // ------------------------------------------------ discovery endpoints

  // GET /api/tags: {models:[{name, model, modified_at, size:0, digest,
  // details}]}. `created` (Unix seconds) is every model's modified_at; the
  // digest is the SHA-256 hex of the model name (a stable stand-in: remote
  // models have no blob).
  std::string Tags(const std::vector<ModelEntry>& models, long long created) const;
  // The model named by a POST /api/show body: "model", or the legacy "name".
  std::variant<std::string, GatewayError> ShowRequestModel(std::string_view body) const;
  // POST /api/show for one model: modelfile, parameters, template, details,
  // model_info {"general.architecture":"remote", "remote.context_length":N},
  // capabilities ["completion","tools"], modified_at.
  std::string Show(const ModelEntry& model, long long created, int64_t context_length = kDefaultContextLength) const;
  // GET /api/version: {"version":...}.
  std::string Version(std::string_view version) const;
  // GET /api/ps: every model as "loaded" with size 0 and size_vram 0.
  std::string Ps(const std::vector<ModelEntry>& models) const;
  // "x:latest" → "x"; anything else unchanged. Ollama treats the two as one
  // model; the gateway resolves names with the tag stripped.
  static std::string_view StripLatest(std::string_view model);

  // A chat with no messages, or a generate with an empty prompt and no
  // images, only loads the model on Ollama and answers
  // {..., "done":true, "done_reason":"load"} (one JSON object, even when
  // streaming was asked; "unload" when keep_alive is 0). For a translated request the gateway answers with
  // this body (200, application/json) instead of calling ParseChat.
  // nullopt for any other request.
  std::optional<std::string> LoadReply(const InternalRequest& request) const;

 private:
  Clock now_ns_;
};

}  // namespace sy::ollama
