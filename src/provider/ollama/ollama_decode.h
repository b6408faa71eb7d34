// Internal to the Ollama codec: pieces of /api/chat answers shared by the
// whole-body decoder (ollama_codec.cc) and the NDJSON stream decoder
// (ollama_stream_decoder.cc).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.h"

namespace sy::ollama::decode {

// Appends message.tool_calls as kToolCall parts: arguments as JSON text (an
// object minified; a string kept as sent, "" → "{}"), the id as sent or a
// new "call_…" one. False when an entry is not {function:{name:"..."}}.
bool ToolCalls(simdjson::dom::element calls, std::vector<chat::Part>* out);

// done_reason: "length" → kLength; "stop", "load", "unload", anything else
// → kStop (the caller upgrades kStop to kToolCalls when calls were seen).
chat::FinishReason DoneReason(std::string_view reason);

// The message of an {"error": ...} object (a string, or an object with a
// "message"); false when `obj` has no "error".
bool ErrorText(simdjson::dom::object obj, std::string* message);

// prompt_eval_count → input_tokens, eval_count → output_tokens; nullopt when
// neither is present.
std::optional<chat::Usage> Usage(simdjson::dom::object obj);

}  // namespace sy::ollama::decode
