#include "frontdoor/anthropic/anthropic_wire.h"

#include <charconv>

#include <simdjson.h>

#include <algorithm>
#include <cstdint>

#include "common/json_writer.h"
#include "core/ids.h"

namespace sy::anthropic {

std::string_view StopReasonName(chat::FinishReason reason, bool has_tool_calls) {
  using chat::FinishReason;
  switch (reason) {
    case FinishReason::kNone:
    case FinishReason::kStop: return has_tool_calls ? "tool_use" : "end_turn";
    case FinishReason::kStopSequence: return "stop_sequence";
    case FinishReason::kLength: return "max_tokens";
    case FinishReason::kContextFull: return "model_context_window_exceeded";
    case FinishReason::kToolCalls: return "tool_use";
    case FinishReason::kContentFilter: return "refusal";
    case FinishReason::kPause: return "pause_turn";
    case FinishReason::kError: return "end_turn";
  }
  return "end_turn";
}

chat::FinishReason ParseStopReason(std::string_view stop_reason, bool has_tool_calls) {
  using chat::FinishReason;
  if (stop_reason == "end_turn") return has_tool_calls ? FinishReason::kToolCalls : FinishReason::kStop;
  if (stop_reason == "stop_sequence") return FinishReason::kStopSequence;
  if (stop_reason == "max_tokens") return FinishReason::kLength;
  if (stop_reason == "model_context_window_exceeded") return FinishReason::kContextFull;
  if (stop_reason == "tool_use") return FinishReason::kToolCalls;
  if (stop_reason == "refusal") return FinishReason::kContentFilter;
  if (stop_reason == "pause_turn") return FinishReason::kPause;
  // Unknown (a newer API) or absent: a clean end, unless calls wait for results.
  return has_tool_calls ? FinishReason::kToolCalls : FinishReason::kStop;
}

std::string_view ErrorTypeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthorized: return "authentication_error";
    case ErrorCode::kNotFound:
    case ErrorCode::kModelNotFound: return "not_found_error";
    case ErrorCode::kPayloadTooLarge: return "request_too_large";
    case ErrorCode::kRateLimited: return "rate_limit_error";
    case ErrorCode::kForbidden: return "permission_error";
    case ErrorCode::kInsufficientQuota: return "billing_error";
    case ErrorCode::kInternal:
    case ErrorCode::kProviderError: return "api_error";
    case ErrorCode::kUpstreamTimeout: return "timeout_error";
    case ErrorCode::kNoProvider:
    case ErrorCode::kShuttingDown: return "overloaded_error";
    case ErrorCode::kUnavailable: return "api_error";
    case ErrorCode::kBadRequest:
    case ErrorCode::kMethodNotAllowed:
    case ErrorCode::kRequestTimeout:
    case ErrorCode::kHeadersTooLarge: return "invalid_request_error";
  }
  return "api_error";
}

ErrorCode ErrorCodeForType(std::string_view type) {
  if (type == "overloaded_error") return ErrorCode::kNoProvider;
  if (type == "rate_limit_error") return ErrorCode::kRateLimited;
  return ErrorCode::kProviderError;
}

std::string MessageId(std::string_view id) {
  if (id.empty()) return chat::NewId("msg_");
  if (id.substr(0, 4) == "msg_") return std::string(id);
  return "msg_" + std::string(id);
}

std::string ToolInputObject(std::string_view json) {
  // Its own parser: callers may hold a document of another parser.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (json.empty() || parser.parse(json.data(), json.size()).get_object().get(obj)) return "{}";
  return simdjson::minify(obj);
}

bool IsValidUserId(std::string_view user) {
  if (user.empty() || user.size() > 256) return false;
  return std::all_of(user.begin(), user.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

namespace {

// Counts come from upstream JSON: never let a hostile value overflow.
int64_t NonNegative(int64_t v) { return v < 0 ? 0 : v; }
int64_t SatAdd(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

}  // namespace

void AppendUsageObject(std::string* out, const chat::Usage& usage) {
  const int64_t cached = NonNegative(usage.cached_input_tokens);
  const int64_t written = NonNegative(usage.cache_write_tokens);
  const int64_t uncached = NonNegative(usage.input_tokens) - std::min(NonNegative(usage.input_tokens), SatAdd(cached, written));
  char digits[24];
  auto number = [&](int64_t v) { out->append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr); };
  out->append("{\"input_tokens\":");
  number(uncached);
  out->append(",\"cache_creation_input_tokens\":");
  number(written);
  out->append(",\"cache_read_input_tokens\":");
  number(cached);
  out->append(",\"output_tokens\":");
  number(NonNegative(usage.output_tokens));
  out->push_back('}');
}

std::string UsageObject(const chat::Usage& usage) {
  std::string out;
  AppendUsageObject(&out, usage);
  return out;
}

chat::Usage UsageFromWire(int64_t input_tokens, int64_t cache_read, int64_t cache_creation, int64_t output_tokens) {
  chat::Usage u;
  u.cached_input_tokens = NonNegative(cache_read);
  u.cache_write_tokens = NonNegative(cache_creation);
  u.input_tokens = SatAdd(SatAdd(NonNegative(input_tokens), u.cached_input_tokens), u.cache_write_tokens);
  u.output_tokens = NonNegative(output_tokens);
  return u;
}

}  // namespace sy::anthropic
