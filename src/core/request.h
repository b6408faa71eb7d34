// The one internal request model.
//
// Every front door parses its wire format into an InternalRequest as early as
// possible; every provider builds its upstream call from one. When the front
// door and the provider speak the same wire protocol, the provider forwards
// `raw_body` with only the model value replaced (see model_span), so nothing is
// re-serialised that need not be.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sy {

// What the client asked for, independent of wire protocol.
enum class Operation { kChatCompletions, kCompletions, kEmbeddings, kCountTokens };

// The wire protocol a body is written in: one per front door, and one per
// upstream protocol (OpenAI Responses and the Rust LLM Inference Service's
// API, kLlmService, are front doors only).
enum class WireProtocol { kOpenAI, kAnthropic, kGemini, kOllama, kOpenAIResponses, kLlmService };

std::string_view WireProtocolName(WireProtocol wire);

// "chat.completions", "completions", "embeddings": for logs and metrics.
inline std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kChatCompletions: return "chat.completions";
    case Operation::kCompletions: return "completions";
    case Operation::kEmbeddings: return "embeddings";
    case Operation::kCountTokens: return "count_tokens";
  }
  return "unknown";
}

// Byte range [begin, end) inside raw_body.
struct Span {
  size_t begin = 0;
  size_t end = 0;
  bool empty() const { return begin == end; }
};

struct InternalRequest {
  Operation operation = Operation::kChatCompletions;
  WireProtocol wire = WireProtocol::kOpenAI;
  std::string model;     // as the client named it (alias, provider/model or provider://model)
  bool stream = false;   // the client wants incremental delivery
  std::string raw_body;  // the client's body, as received
  Span model_span;       // the "model" value's JSON string token (quotes included) in raw_body;
                         // empty when the model is not in the body (Gemini: it is in the path)
  // Which of its endpoints' shapes the front door answers in, as the front
  // door numbers them (Ollama: /api/chat or /api/generate; Gemini: SSE or
  // JSON array...). Opaque to everyone else.
  int shape = 0;
  // False when the body names the model somewhere besides model_span (Gemini
  // batchEmbedContents repeats it per request): such a request is translated
  // even to a provider of its own protocol.
  bool passthrough_ok = true;
  // When the front door read the request, on its clock (ns since the epoch),
  // for protocols that report durations (Ollama); 0 when not taken.
  int64_t received_ns = 0;
};

}  // namespace sy
