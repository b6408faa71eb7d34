// Helpers for the Gemini translation tests: JSON pointer look-ups on bodies.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

namespace sy::gemini::testing {

// The minified value at `pointer` ("/a/0/b") in `json`; "<missing>" when
// absent, "<invalid>" when `json` is not JSON.
inline std::string At(std::string_view json, std::string_view pointer) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) return "<invalid>";
  simdjson::dom::element value;
  if (doc.at_pointer(pointer).get(value)) return "<missing>";
  return simdjson::minify(value);
}

// True when `json` parses as JSON.
inline bool ValidJson(std::string_view json) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return !parser.parse(json.data(), json.size()).get(doc);
}

}  // namespace sy::gemini::testing
