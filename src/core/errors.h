// Protocol-neutral errors on the request path.
//
// Every failure a request can meet is a GatewayError value: a code from the
// closed set below plus a message meant for the client. Front doors map the
// code to their own wire shape (see frontdoor/openai/openai_errors.h); nothing
// on the request path throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sy {

enum class ErrorCode {
  kBadRequest,          // 400: malformed JSON, missing or wrong-typed field
  kUnauthorized,        // 401: missing, unknown, revoked or expired client key
  kForbidden,           // 403: the key may not use this endpoint or model
  kNotFound,            // 404: no such endpoint
  kModelNotFound,       // 404: model is neither an alias nor provider/model
  kMethodNotAllowed,    // 405
  kRequestTimeout,      // 408: the request body did not arrive within server.body_timeout_s
  kPayloadTooLarge,     // 413: body over server.max_body_bytes
  kHeadersTooLarge,     // 431: header block over server.max_header_bytes
  kRateLimited,         // 429: a rate limit (the gateway's, or passed on from upstream; with Retry-After)
  kInsufficientQuota,   // 429: the key's or user's budget is spent
  kInternal,            // 500
  kProviderError,       // 502: upstream answered with an error or garbage
  kNoProvider,          // 503: no provider could be reached
  kUpstreamTimeout,     // 504: upstream did not answer within its timeout
  kShuttingDown,        // 503: server is draining
  kUnavailable,         // 503: a part the endpoint needs is not ready (chat sessions: the store not read yet)
};

// Two texts: `message` goes to the client and never holds internal
// addresses, paths or secrets; `detail` (may be empty) is only logged, with
// the request id, and says what really happened (upstream host, OS error...).
struct GatewayError {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;               // safe to show to the client
  std::optional<std::string> param;  // offending field, when there is one
  std::optional<std::string> retry_after;  // Retry-After to send (429/503)
  std::string detail;                // for the log only; never sent
};

// An error with no param or Retry-After: the usual case.
GatewayError MakeError(ErrorCode code, std::string message, std::string detail = {});

// HTTP status for a code.
int HttpStatus(ErrorCode code);

// Stable snake_case name ("model_not_found", "provider_error", ...), used as the
// machine-readable error code on the wire and in logs and metrics.
std::string_view ErrorCodeName(ErrorCode code);

}  // namespace sy
