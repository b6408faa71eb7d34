#include "core/errors.h"

namespace sy {

GatewayError MakeError(ErrorCode code, std::string message, std::string detail) {
  return GatewayError{code, std::move(message), std::nullopt, std::nullopt, std::move(detail)};
}

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest: return 400;
    case ErrorCode::kUnauthorized: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kModelNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kRequestTimeout: return 408;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kHeadersTooLarge: return 431;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kInsufficientQuota: return 429;
    case ErrorCode::kInternal: return 500;
    case ErrorCode::kProviderError: return 502;
    case ErrorCode::kNoProvider: return 503;
    case ErrorCode::kUpstreamTimeout: return 504;
    case ErrorCode::kShuttingDown: return 503;
    case ErrorCode::kUnavailable: return 503;
  }
  return 500;
}

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest: return "invalid_request_error";
    case ErrorCode::kUnauthorized: return "invalid_api_key";
    case ErrorCode::kForbidden: return "permission_denied";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kModelNotFound: return "model_not_found";
    case ErrorCode::kMethodNotAllowed: return "method_not_allowed";
    case ErrorCode::kRequestTimeout: return "request_timeout";
    case ErrorCode::kPayloadTooLarge: return "request_too_large";
    case ErrorCode::kHeadersTooLarge: return "headers_too_large";
    case ErrorCode::kRateLimited: return "rate_limit_exceeded";
    case ErrorCode::kInsufficientQuota: return "insufficient_quota";
    case ErrorCode::kInternal: return "server_error";
    case ErrorCode::kProviderError: return "provider_error";
    case ErrorCode::kNoProvider: return "no_provider_available";
    case ErrorCode::kUpstreamTimeout: return "timeout_error";
    case ErrorCode::kShuttingDown: return "server_shutting_down";
    case ErrorCode::kUnavailable: return "service_unavailable";
  }
  return "server_error";
}

}  // namespace sy
