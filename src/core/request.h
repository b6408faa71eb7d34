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
enum class Operation { kChatCompletions, kCompletions, kEmbeddings };

// The wire protocol a body is written in.
enum class WireProtocol { kOpenAI };

// "chat.completions", "completions", "embeddings": for logs and metrics.
inline std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kChatCompletions: return "chat.completions";
    case Operation::kCompletions: return "completions";
    case Operation::kEmbeddings: return "embeddings";
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
  Span model_span;       // the "model" value's JSON string token (quotes included) in raw_body
};

}  // namespace sy
