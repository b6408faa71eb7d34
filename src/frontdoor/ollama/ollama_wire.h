// Pieces of the Ollama wire format shared by the front door
// (frontdoor/ollama) and the upstream codec (provider/ollama).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sy::ollama::wire {

// RFC 3339 UTC with nanoseconds, as Ollama stamps created_at:
// "2024-05-01T12:00:00.123456789Z".
std::string FormatTimeNs(int64_t unix_ns);
// RFC 3339 UTC to the second: "2024-05-01T12:00:00Z".
std::string FormatTimeSeconds(long long unix_s);

// When `text` is a JSON object, sets *minified to it without insignificant
// whitespace and returns true; otherwise false (*minified untouched).
bool MinifyObject(std::string_view text, std::string* minified);
// Tool-call arguments as the JSON object Ollama wants: `text` minified when
// it is a JSON object, "{}" otherwise (empty, truncated or not an object).
std::string ArgumentsObject(std::string_view text);

// The image media type from the first bytes of its base64 data: "image/png",
// "image/jpeg", "image/gif", "image/webp"; "" when unknown.
std::string_view SniffImageType(std::string_view base64);

// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

}  // namespace sy::ollama::wire
