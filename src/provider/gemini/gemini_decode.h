// Internal to the Gemini codec: one GenerateContentResponse (a whole answer
// or one stream chunk) read into owned values, shared by DecodeChat and the
// stream decoder.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.h"
#include "core/errors.h"

namespace sy::gemini {

struct DecodedChunk {
  std::optional<GatewayError> error;  // the chunk is {"error":{...}}
  std::string id;                     // responseId
  std::string model;                  // modelVersion
  // The first candidate's parts: kText / kThinking (signature kept, text may
  // be empty for a signature-only part), kToolCall (id kept, else a new
  // unique one; arguments a JSON object text), kImage.
  std::vector<chat::Part> parts;
  std::string finish_reason;  // the raw finishReason, "" when absent
  bool blocked = false;       // promptFeedback.blockReason with no candidates
  std::optional<chat::Usage> usage;
};

// Reads one response object. kProviderError when `json` is not a JSON object.
std::optional<GatewayError> DecodeChunk(std::string_view json, DecodedChunk* out);
// The same for an element of a parsed document.
std::optional<GatewayError> DecodeChunk(simdjson::dom::element chunk, DecodedChunk* out);

}  // namespace sy::gemini
