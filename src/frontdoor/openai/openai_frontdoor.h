// The OpenAI front door: parses OpenAI request bodies into the internal model
// and writes OpenAI-shaped errors and model objects.
//
// Thread-safety: functions are reentrant; ParseRequest uses a thread-local
// simdjson parser.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/codec.h"
#include "core/errors.h"
#include "core/request.h"

namespace sy::openai {

// Validates `body` as JSON and as a request for `op`, and fills an
// InternalRequest that takes ownership of the body. Checks: the body is a JSON
// object; "model" is a non-empty string; "stream", when present, is a boolean;
// chat needs a "messages" array, completions a "prompt", embeddings an "input";
// "model" and "stream" appear at most once at the top level; nesting is at
// most kMaxJsonDepth levels deep.
inline constexpr size_t kMaxJsonDepth = 64;
std::variant<InternalRequest, GatewayError> ParseRequest(Operation op, std::string body);

// {"error":{"message":...,"type":...,"param":...,"code":...}}
std::string ErrorBody(const GatewayError& error);

// The error as one SSE event ("data: {...}\n\n"), for failures after a stream began.
std::string ErrorEvent(const GatewayError& error);

// One entry of GET /v1/models (core/codec.h).
using ModelEntry = sy::ModelEntry;

// {"id":...,"object":"model","created":...,"owned_by":...}
std::string ModelObject(const ModelEntry& model, long long created);
// {"object":"list","data":[...]}
std::string ModelList(const std::vector<ModelEntry>& models, long long created);

}  // namespace sy::openai
