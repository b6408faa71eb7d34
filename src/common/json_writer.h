// Small helpers for writing JSON text by hand on the hot path, where building
// a DOM would cost more than the response itself.
#pragma once

#include <string>
#include <string_view>

namespace sy::json {

// Appends `value` as a JSON string literal (quotes included) to *out.
void AppendString(std::string* out, std::string_view value);

// Returns `value` as a JSON string literal.
std::string Quote(std::string_view value);

}  // namespace sy::json
