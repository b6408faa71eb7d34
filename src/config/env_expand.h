// ${VAR} expansion for configuration values.
//
// Rules, applied left to right in one pass:
//   - "${NAME}" is replaced by the value of NAME from the EnvLookup. NAME is
//     [A-Za-z_][A-Za-z0-9_]*. A variable set to "" expands to "".
//   - "$${" is an escape: it becomes a literal "${" and nothing is looked up.
//   - Every other "$" is copied unchanged: a lone "$", "$$" not followed by
//     "{", a trailing "$". So "pa$$word" and "cost: $5" stay as written.
//   - An unset NAME, an invalid NAME ("${1X}", "${}") and a "${" with no
//     closing "}" are errors.
//   - Text taken from the environment is never expanded again.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace sy::config {

// Expands every reference in text into *out. Returns true when there were no
// problems; otherwise appends one message per problem to *errors (each unset
// variable named once per reference) and *out holds a best-effort expansion.
// Messages never contain variable values.
// REQUIRES: out and errors are non-null.
bool ExpandEnv(std::string_view text, const EnvLookup& env, std::string* out,
               std::vector<std::string>* errors);

// True when name is a valid variable name: [A-Za-z_][A-Za-z0-9_]*.
bool IsValidEnvName(std::string_view name);

}  // namespace sy::config
