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
// Ollama's durations (ns), as the gateway saw them: total from the request
// to the end; prompt_eval up to the first generated piece and eval after it
// (a whole response has no first piece to see: eval is the total then).
// The gateway cannot tell a model's load apart: load is 0.
struct Durations {
  int64_t total = 0;
  int64_t prompt_eval = 0;
  int64_t eval = 0;
};
void WriteDoneMembers(json::Writer& w, chat::FinishReason finish, const chat::Usage& usage, const Durations& d);
int64_t Since(int64_t from, int64_t to);

}  // namespace sy::ollama::encode
