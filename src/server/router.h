// Maps an HTTP method and target to an endpoint of one of the front doors.
// Pure function, no state.
#pragma once

#include <string_view>

#include "core/request.h"

namespace sy {

enum class Endpoint {
  kRoot,       // GET /
  kHealth,     // GET /health
  kReadiness,  // GET /readiness
  // OpenAI (the /v1 prefix is optional)
  kListModels,       // GET /v1/models (Anthropic's shape when anthropic-version is sent)
  kGetModel,         // GET /v1/models/{id}
  kChatCompletions,  // POST /v1/chat/completions
  kCompletions,      // POST /v1/completions
  kEmbeddings,       // POST /v1/embeddings
  kResponses,        // POST /v1/responses
  // Anthropic
  kMessages,             // POST /v1/messages
  kMessagesCountTokens,  // POST /v1/messages/count_tokens
  // Gemini (/v1beta, or /v1 when the path ends in a Gemini method)
  kGeminiListModels,    // GET /v1beta/models
  kGeminiGetModel,      // GET /v1beta/models/{model}
  kGeminiGenerate,      // POST /v1beta/models/{model}:generateContent
  kGeminiStream,        // POST /v1beta/models/{model}:streamGenerateContent[?alt=sse]
  kGeminiCountTokens,   // POST /v1beta/models/{model}:countTokens
  kGeminiEmbed,         // POST /v1beta/models/{model}:embedContent
  kGeminiBatchEmbed,    // POST /v1beta/models/{model}:batchEmbedContents
  // Ollama
  kOllamaChat,        // POST /api/chat
  kOllamaGenerate,    // POST /api/generate
  kOllamaEmbed,       // POST /api/embed
  kOllamaEmbeddings,  // POST /api/embeddings (legacy)
  kOllamaTags,        // GET /api/tags
  kOllamaShow,        // POST /api/show
  kOllamaVersion,     // GET /api/version
  kOllamaPs,          // GET /api/ps
  // The Rust LLM Inference Service's API (local models; kLlmService). Its
  // POST /chat/completions and POST /completions share OpenAI's paths: the
  // gateway tells them apart by the body ("model-name") and by the path
  // having no /v1 on a local model (RouteMatch::v1).
  kSessions,           // GET /sessions
  kChatHistory,        // GET /chat/history/{id}
  kChatHistoryDelete,  // DELETE /chat/history/{id}
  kChatRollback,       // POST /chat/history/{id}/rollback
  kChatSocket,         // GET /chat/ws (WebSocket)
  // Administration (admin keys only): GET /status, /admin/..., /admin/v1/...
  // (TruckLLM), /v0/management/... (llm-mux, X-Management-Key). The admin
  // API answers unknown paths and methods under these prefixes itself.
  kAdmin,
  kNotFound,
  kMethodNotAllowed,
};

struct RouteMatch {
  Endpoint endpoint = Endpoint::kNotFound;
  // Whose protocol answers (errors included). For kNotFound and
  // kMethodNotAllowed: guessed from the path prefix.
  WireProtocol protocol = WireProtocol::kOpenAI;
  std::string_view param;  // {id} of /v1/models/{id}, {model} of Gemini paths, a session id; still percent-encoded
  bool v1 = false;         // the path had the /v1 prefix
};

// The query string is ignored except by the caller (Gemini's alt=sse, key=).
RouteMatch MatchRoute(std::string_view method, std::string_view target);

// Whether the endpoint needs a client key (when server.auth is "keys").
bool RequiresAuth(Endpoint endpoint);

// The value of query parameter `name` in `target` (still percent-encoded), or "".
std::string_view QueryParam(std::string_view target, std::string_view name);

}  // namespace sy
