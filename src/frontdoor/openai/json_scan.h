// Locates a top-level member's value inside a JSON object without building a
// DOM, so a passthrough body can be rewritten in place.
//
// REQUIRES: `json` is valid JSON (the caller validated it first); on invalid
// input the result is unspecified but memory-safe.
#pragma once

#include <optional>
#include <string_view>

#include "core/request.h"

namespace sy::json {

// Span of the value token (for strings: quotes included) of the first
// top-level member whose decoded key equals `key`; nullopt when absent or when
// the document is not an object.
std::optional<Span> FindTopLevelValue(std::string_view json, std::string_view key);

}  // namespace sy::json
