// Tables and small helpers of the OpenAI Chat Completions wire format, shared
// by the OpenAI front door (openai_chat.h: clients speak OpenAI) and the
// OpenAI upstream codec (provider/openai/openai_codec.h: the upstream speaks
// OpenAI).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/json_writer.h"
#include "core/chat.h"
#include "core/errors.h"

namespace sy::openai {

// The string at `value`; "" when it is absent or not a string.
inline std::string_view StringAt(simdjson::simdjson_result<simdjson::dom::element> value) {
  std::string_view s;
  if (value.get_string().get(s)) return {};
  return s;
}

// The finish_reason for a finish reason (see openai_chat.h for the table).
// kStop and kNone become "tool_calls" when the turn holds tool calls.
std::string_view FinishReasonName(chat::FinishReason reason, bool has_tool_calls);

// The finish reason for an upstream finish_reason. Tool presence upgrades only
// "stop" (and an absent or unknown reason) to kToolCalls, never "length".
// Besides OpenAI's own values, accepts those OpenAI-compatible servers send
// ("eos", "end_turn", "stop_sequence", "max_tokens", "model_length", "error").
chat::FinishReason ParseFinishReason(std::string_view finish_reason, bool has_tool_calls);

// Writes the value of "usage" for chat: {"prompt_tokens", "completion_tokens",
// "total_tokens", "prompt_tokens_details":{"cached_tokens"},
// "completion_tokens_details":{"reasoning_tokens"}}; without the details when
// `details` is false (legacy completions).
void WriteUsage(json::Writer* w, const chat::Usage& usage, bool details);

// A non-negative token count from a JSON number (integer, or a double with an
// integral value, as some servers send); nullopt otherwise.
std::optional<int64_t> ReadCount(simdjson::dom::element value);

// The internal usage for an OpenAI usage object (prompt_tokens includes the
// cached tokens, completion_tokens the reasoning tokens). Also reads
// DeepSeek's prompt_cache_hit_tokens and prompt_tokens_details.cache_write_tokens
// (OpenRouter) when present.
chat::Usage ReadUsage(simdjson::dom::object usage);

// Tool-call arguments as JSON text: a string value as it is ("" → "{}"), an
// object or array minified. False for other types.
bool ReadArguments(simdjson::dom::element value, std::string* out);

// The gateway code for an upstream error's type/code: rate-limit types and
// codes → kRateLimited; everything else → kProviderError.
ErrorCode ErrorCodeForUpstream(std::string_view type, std::string_view code);

// The upstream error described by `error` (the value of an "error" member: an
// object with message/type/code, or a string).
GatewayError UpstreamError(simdjson::dom::element error);

// At most `max` bytes of `text`, cut back to a UTF-8 character boundary.
std::string_view Utf8Prefix(std::string_view text, size_t max);

}  // namespace sy::openai
