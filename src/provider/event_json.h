// Parsing the JSON of a stream event where it lies, without copying it.
#pragma once

#include <simdjson.h>

#include <string_view>

#include "sse/sse_parser.h"

namespace sy {

static_assert(sse::kDataPadding >= simdjson::SIMDJSON_PADDING, "sse::Parser must leave simdjson's padding");

// Parses `text`, which is event.data or a part of it. sse::Parser leaves
// simdjson's padding after every event's data, so the text is parsed in
// place; an event built elsewhere, without that spare capacity, is copied by
// simdjson into its own padded buffer first.
inline simdjson::simdjson_result<simdjson::dom::element> ParseEventJson(simdjson::dom::parser& parser,
                                                                        const sse::Event& event,
                                                                        std::string_view text) {
  const char* const begin = event.data.data();
  const char* const allocated_end = begin + event.data.capacity();  // std::string owns capacity() + 1 bytes
  const bool padded = text.data() >= begin && text.data() + text.size() <= begin + event.data.size() &&
                      allocated_end - (text.data() + text.size()) >= static_cast<std::ptrdiff_t>(simdjson::SIMDJSON_PADDING);
  return parser.parse(text.data(), text.size(), /*realloc_if_needed=*/!padded);
}

inline simdjson::simdjson_result<simdjson::dom::element> ParseEventJson(simdjson::dom::parser& parser,
                                                                        const sse::Event& event) {
  return ParseEventJson(parser, event, event.data);
}

}  // namespace sy
