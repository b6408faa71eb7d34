// Internal to the Ollama front door: pieces of response bodies shared by the
// whole-response encoder (ollama_response.cc) and the NDJSON stream encoder
// (ollama_stream_encoder.cc).
#pragma once

#include <string_view>

#include "common/json_writer.h"
#include "core/chat.h"

namespace sy::ollama::encode {

// "length" for kLength / kContextFull, "stop" for everything else (tool
// calls, stop sequences and content filters included: Ollama has no others).
std::string_view DoneReason(chat::FinishReason finish);

// One element of message.tool_calls:
// {"id":..., "function":{"index":N, "name":..., "arguments":{...}}}.
// Arguments that are not a JSON object (truncated by max_tokens...) become {}.
void WriteToolCall(json::Writer& w, int index, std::string_view id, std::string_view name, std::string_view arguments);

// The members after "done": done_reason and the metrics (durations are 0:
// the gateway does not measure the upstream's phases).
void WriteDoneMembers(json::Writer& w, chat::FinishReason finish, const chat::Usage& usage);

}  // namespace sy::ollama::encode
