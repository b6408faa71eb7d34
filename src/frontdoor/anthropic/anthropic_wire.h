// Tables and small helpers of the Anthropic Messages wire format, shared by
// the Anthropic front door (clients speak Anthropic) and the Anthropic
// upstream codec (the upstream speaks Anthropic).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/chat.h"
#include "core/errors.h"

namespace sy::anthropic {

// The stop_reason for a finish reason. kNone and kStop become "tool_use" when
// the turn holds tool calls (`has_tool_calls`), "end_turn" otherwise; kError
// becomes "end_turn" (the error itself travels as an error event).
std::string_view StopReasonName(chat::FinishReason reason, bool has_tool_calls);

// The finish reason for a stop_reason; an unknown or absent one is kStop, or
// kToolCalls when the turn holds tool calls. Never kNone.
chat::FinishReason ParseStopReason(std::string_view stop_reason, bool has_tool_calls);

// error.type for a gateway error code (invalid_request_error, ...).
std::string_view ErrorTypeName(ErrorCode code);

// The gateway code for an upstream error.type: overloaded_error → kNoProvider,
// rate_limit_error → kRateLimited, anything else → kProviderError.
ErrorCode ErrorCodeForType(std::string_view type);

// The message id to show a client: `id` when it already starts with "msg_",
// "msg_" + id otherwise, a new "msg_…" id when empty.
std::string MessageId(std::string_view id);

// Minified text of `json` when it is a JSON object; "{}" when it is empty,
// invalid or not an object (tool_use.input must be an object).
std::string ToolInputObject(std::string_view json);

// ^[a-zA-Z0-9_-]+$ and at most 256 bytes: a metadata.user_id the API accepts.
bool IsValidUserId(std::string_view user);

// The Anthropic usage object for `usage`: {"input_tokens": input − cached −
// cache_write (never negative), "cache_creation_input_tokens",
// "cache_read_input_tokens", "output_tokens"}.
std::string UsageObject(const chat::Usage& usage);
// The same, appended to *out.
void AppendUsageObject(std::string* out, const chat::Usage& usage);

// The inverse: the internal usage for Anthropic's counts (input = uncached +
// cache read + cache creation).
chat::Usage UsageFromWire(int64_t input_tokens, int64_t cache_read, int64_t cache_creation, int64_t output_tokens);

}  // namespace sy::anthropic
