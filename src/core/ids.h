// Identifiers a translated response needs: response ids and tool-call ids.
#pragma once

#include <string>
#include <string_view>

namespace sy::chat {

// prefix + `hex` random hex digits ("chatcmpl-3f9a..."), from a per-thread
// generator seeded from the OS. Not a secret; unique enough to join on.
std::string NewId(std::string_view prefix, size_t hex = 24);

// A tool-call id every protocol accepts (^[a-zA-Z0-9_-]{1,40}$): `original`
// unchanged when it already is one; otherwise the allowed characters of it,
// cut to fit, plus '_' and 8 hex digits of a hash of the whole original, so
// that distinct originals stay distinct and a call and its result, mapped
// separately, still match. "" → a new id with `prefix` ("call_", "toolu_").
std::string SafeToolId(std::string_view original, std::string_view prefix);

}  // namespace sy::chat
