// The gateway's side of engine/PROTOCOL.md: requests written from the
// internal chat model, answers parsed into WorkerEvent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.h"
#include "core/errors.h"

namespace sy::local {

// Sampling a local model uses when the client does not say (llama.cpp
// server's defaults; docs/api.md, "Local models").
struct SamplingDefaults {
  double temperature = 0.8;
  double top_p = 0.95;
  int64_t top_k = 40;
  double min_p = 0.05;
  double repeat_penalty = 1.0;
};

struct ToolCallOut {
  std::string name;
  std::string arguments;  // JSON object text
};

// One answer of the engine to a request.
struct WorkerEvent {
  enum class Kind { kText, kDone, kEmbedding, kCount, kError, kGone };
  Kind kind = Kind::kText;
  int64_t id = 0;
  std::string text;       // kText: the text (all pieces); kDone: the whole answer
  std::vector<std::string> pieces;  // kText: the pieces when several were sent together
  int64_t tokens = 0;     // kText: tokens in this piece; kCount: the count
  std::string finish;     // kDone: stop | stop_sequence | length | tool_calls | abort
  std::string stop_sequence;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t completion_tokens = 0;
  std::vector<ToolCallOut> tool_calls;
  std::vector<std::vector<double>> vectors;  // kEmbedding
  std::string code;       // kError: context_length_exceeded | invalid_request | internal
  std::string message;    // kError / kGone
};

// Parses one answer line. False when it is not a well-formed answer.
bool ParseWorkerEvent(std::string_view line, WorkerEvent* out);

// Encodes a chat request as a `chat` line. Returns an error for what a local
// model cannot take (images, ...). `session` may be empty.
std::optional<GatewayError> EncodeChat(const chat::Request& request, int64_t id, int64_t seed,
                                       const std::string& session, bool count_only, std::string* line);

// A `complete` line for raw text completion (/v1/completions, the Rust seed's
// /completions): the text of the request's messages as the prompt, as it is
// (no chat template), with the request's sampling.
std::string EncodeComplete(const chat::Request& request, int64_t id, int64_t seed);

std::string EncodeEmbed(const std::vector<std::string>& inputs, int64_t id);
std::string EncodeAbort(int64_t id);

// chat::FinishReason of a `done` event's finish.
chat::FinishReason FinishOf(std::string_view finish);

// The GatewayError of an `error` event.
GatewayError ErrorOf(const WorkerEvent& event);

}  // namespace sy::local
