#include "frontdoor/openai/json_scan.h"

#include <string>

#include "common/text_codec.h"

namespace sy::json {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

// i points at the opening quote; returns the index just past the closing quote.
size_t SkipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return s.size();
}

// Decodes the string token s[begin, end) (quotes included). Only used for keys
// that contain escapes, which real clients almost never send.
std::string DecodeString(std::string_view token) {
  std::string out;
  for (size_t i = 1; i + 1 < token.size(); ++i) {
    char c = token[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    char e = token[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        unsigned cp = 0;
        for (int k = 0; k < 4 && i + 1 < token.size(); ++k) {
          int h = text::HexDigitValue(token[++i]);
          cp = cp * 16 + static_cast<unsigned>(h < 0 ? 0 : h);
        }
        // Keys we look for are ASCII; anything else simply will not match.
        out.push_back(cp < 0x80 ? static_cast<char>(cp) : '\x01');
        break;
      }
      default: out.push_back(e);
    }
  }
  return out;
}

// i points at the first byte of a value; returns the index just past it.
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return i;
  char c = s[i];
  if (c == '"') return SkipString(s, i);
  if (c == '{' || c == '[') {
    int depth = 0;
    while (i < s.size()) {
      char d = s[i];
      if (d == '"') {
        i = SkipString(s, i);
        continue;
      }
      if (d == '{' || d == '[') ++depth;
      if (d == '}' || d == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return i;
  }
  // number, true, false, null
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !IsSpace(s[i])) ++i;
  return i;
}

}  // namespace

std::optional<Span> FindTopLevelValue(std::string_view s, std::string_view key) {
  size_t i = SkipSpace(s, 0);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  i = SkipSpace(s, i + 1);
  while (i < s.size() && s[i] == '"') {
    size_t key_end = SkipString(s, i);
    std::string_view token = s.substr(i, key_end - i);
    bool match;
    if (token.find('\\') == std::string_view::npos) {
      match = token.size() >= 2 && token.substr(1, token.size() - 2) == key;
    } else {
      match = DecodeString(token) == key;
    }
    i = SkipSpace(s, key_end);
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    i = SkipSpace(s, i + 1);
    size_t value_end = SkipValue(s, i);
    if (match) return Span{i, value_end};
    i = SkipSpace(s, value_end);
    if (i < s.size() && s[i] == ',') i = SkipSpace(s, i + 1);
  }
  return std::nullopt;
}

}  // namespace sy::json
