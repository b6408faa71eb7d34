#include "provider/text_shape.h"

#include <simdjson.h>

#include <cstring>

namespace sy {
namespace {

// True when `text` can stand between two quotes as a JSON string whose value
// is exactly these bytes: no quote, backslash or control character, valid UTF-8.
bool PlainStringBytes(std::string_view text) {
  unsigned char high = 0;  // any byte >= 0x80: then UTF-8 must be checked
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || c == '"' || c == '\\') return false;
    high |= u;
  }
  return high < 0x80 || simdjson::validate_utf8(text.data(), text.size());
}

}  // namespace

void TextShape::Learn(std::string_view event_name, std::string_view json, std::string_view key,
                      std::string_view text) {
  if (text.empty() || key.empty() || json.find('\\') != std::string_view::npos) return;
  const size_t at = json.find(key);
  if (at == std::string_view::npos || json.find(key, at + 1) != std::string_view::npos) return;
  const size_t open = at + key.size() + 1;  // the text's opening quote
  if (json.substr(at + key.size(), 2) != ":\"" || json.substr(open + 1, text.size()) != text) return;
  const size_t close = open + 1 + text.size();
  if (close >= json.size() || json[close] != '"') return;
  event_name_.assign(event_name);
  prefix_.assign(json.substr(0, open + 1));
  suffix_.assign(json.substr(close));
  learned_ = true;
}

std::optional<std::string_view> TextShape::Match(std::string_view event_name, std::string_view json) const {
  if (!learned_ || json.size() <= prefix_.size() + suffix_.size() || event_name != event_name_) return std::nullopt;
  if (std::memcmp(json.data(), prefix_.data(), prefix_.size()) != 0 ||
      std::memcmp(json.data() + json.size() - suffix_.size(), suffix_.data(), suffix_.size()) != 0) {
    return std::nullopt;
  }
  const std::string_view text = json.substr(prefix_.size(), json.size() - prefix_.size() - suffix_.size());
  if (!PlainStringBytes(text)) return std::nullopt;
  return text;
}

}  // namespace sy
