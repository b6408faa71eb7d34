// Tables and small helpers of the Gemini API wire format (generativelanguage
// v1beta), shared by the Gemini front door (clients speak Gemini) and the
// Gemini upstream codec (the upstream speaks Gemini).
//
// Thread-safety: every function is reentrant; the JSON helpers use their own
// thread-local simdjson parser, so a caller may hold a DOM of another parser.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/json_writer.h"
#include "core/chat.h"
#include "core/errors.h"

namespace sy::gemini {

// Nesting bound for client bodies (as the OpenAI front door).
inline constexpr size_t kMaxJsonDepth = 64;
// Nesting bound for upstream bodies (tool arguments may be deep).
inline constexpr size_t kMaxUpstreamDepth = 256;

// The documented thoughtSignature that tells Gemini 3 not to validate a
// function call whose real signature is unknown (foreign or lost history).
inline constexpr std::string_view kSkipSignature = "skip_thought_signature_validator";

// The finishReason for a finish reason: kStop, kStopSequence, kToolCalls and
// kNone → STOP; kLength, kContextFull → MAX_TOKENS; kContentFilter → SAFETY;
// kError, kPause → OTHER.
std::string_view FinishReasonWire(chat::FinishReason reason);

// The finish reason for a finishReason: STOP → kStop; MAX_TOKENS → kLength;
// SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY,
// LANGUAGE (and any IMAGE_*/…_SAFETY/…PROHIBITED… value) → kContentFilter;
// MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, OTHER and
// anything unknown → kError (never silently "stop").
chat::FinishReason ParseFinishReason(std::string_view reason);

// error.status for an HTTP status: 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED,
// 403 PERMISSION_DENIED, 404 NOT_FOUND, 408/504 DEADLINE_EXCEEDED, 413/431
// INVALID_ARGUMENT, 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 502/503 UNAVAILABLE,
// anything else FAILED_PRECONDITION.
std::string_view StatusName(int http_status);

// The gateway code for an upstream error: RESOURCE_EXHAUSTED (or HTTP 429) →
// kRateLimited, UNAVAILABLE (or 503) → kNoProvider, else kProviderError.
ErrorCode CodeForStatus(std::string_view status, int64_t http_code);

// {"error":{"code":N,"message":...,"status":...}} for a gateway error.
std::string ErrorObject(const GatewayError& error);

// The GatewayError for an upstream {"error":{code,message,status}} object
// (the value of "error"). The message is "Gemini upstream error: <message>";
// a rate limit takes retry_after from a RetryInfo in error.details.
GatewayError ErrorFromWire(simdjson::dom::element error);

// usageMetadata for `usage`: promptTokenCount = input (cached included),
// candidatesTokenCount = output − reasoning, totalTokenCount = input + output,
// cachedContentTokenCount and thoughtsTokenCount when non-zero.
void WriteUsageMetadata(json::Writer* w, const chat::Usage& usage);

// The internal usage for a usageMetadata object: input = promptTokenCount +
// toolUsePromptTokenCount, cached = cachedContentTokenCount, output =
// candidatesTokenCount + thoughtsTokenCount, reasoning = thoughtsTokenCount.
// Absent or mistyped fields count 0 (proto3 JSON omits zeros).
chat::Usage ReadUsageMetadata(simdjson::dom::element usage);

// Thread-local parsers for whole bodies: client requests (at most
// kMaxJsonDepth deep) and upstream responses (kMaxUpstreamDepth). A DOM from
// one lives until the next parse with it on this thread; the helpers in this
// header never use them.
simdjson::dom::parser& ClientParser();
simdjson::dom::parser& UpstreamParser();

// Minified text of `json` when it is a JSON object; nullopt when empty,
// invalid or not an object.
std::optional<std::string> MinifiedObject(std::string_view json);

// Minified text of `json` when it is any valid JSON value; nullopt otherwise.
std::optional<std::string> MinifiedValue(std::string_view json);

// MinifiedObject, or "{}" (functionCall.args must be an object).
std::string ArgsObject(std::string_view json);

// A part as Gemini writes it, for kText ({text}), kThinking ({text,
// thought:true}), kToolCall ({functionCall:{id?,name,args}}) and kImage
// ({inlineData:{mimeType,data}}, or {fileData:{mimeType?,fileUri}} for a URL;
// a data: URL is inlined), each with thoughtSignature = `signature` when
// non-empty. Other kinds write nothing and return false.
bool WritePart(json::Writer* w, const chat::Part& part, std::string_view signature);

// An integer read from a JSON number (an integral double is accepted).
std::optional<int64_t> GetInt(simdjson::dom::element value);

// `segment` percent-encoded for a URL path segment (everything but
// A-Z a-z 0-9 - . _ ~ is escaped, '/' included).
std::string PercentEncodeSegment(std::string_view segment);

// "gemini-x" for "gemini-x" or "models/gemini-x".
std::string_view BareModel(std::string_view model);

}  // namespace sy::gemini
