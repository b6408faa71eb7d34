// Internal to sy_config: finding secrets in configuration text, shared by
// config_document.cc and config_masking.cc.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy::config::secret {

// Where a password sits in a URL.
struct UrlSpan {
  enum Kind { kUserinfo, kQuery };
  Kind kind;
  size_t ordinal;     // among spans of the same kind, in order (query may repeat)
  size_t begin, end;  // [begin, end) in the URL; may be empty
};

// The password spans of url: "scheme://user:PASSWORD@host..." (up to the last
// '@' in the text, so an unescaped '@', '/' or '?' in a password is still
// covered) and each "password=VALUE" query parameter after it (name matched
// case-insensitively). Text without "://" has none. Spans do not overlap and
// come in text order.
std::vector<UrlSpan> UrlPasswordSpans(std::string_view url);

// url with each span for which mask(span text) is true replaced by "****".
template <typename Pred>
std::string MaskSpans(const std::string& url, Pred mask) {
  std::string out = url;
  const std::vector<UrlSpan> spans = UrlPasswordSpans(url);
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {  // back to front: offsets stay valid
    const std::string_view text = std::string_view(url).substr(it->begin, it->end - it->begin);
    if (mask(text)) out.replace(it->begin, it->end - it->begin, "****");
  }
  return out;
}

// True when text is one or more ${NAME} references and nothing else.
bool IsOnlyReferences(std::string_view text);

// text with every "${" written "$${", so that ${VAR} expansion gives text back.
std::string EscapeReferences(std::string_view text);

// Loads text as exactly one YAML document (JSON included). False with *error
// set on a syntax error or more than one document. Does not throw.
bool LoadOneDocument(const std::string& text, YAML::Node* out, std::string* error);

// The value of the first entry of map whose key is the scalar `key`; nullopt
// when map is not a mapping or has no such entry. Never inserts (unlike
// operator[] on a non-const node).
std::optional<YAML::Node> Child(const YAML::Node& map, std::string_view key);

// The scalar text of map's `key`, or nullopt when absent or not a scalar.
std::optional<std::string> ChildScalar(const YAML::Node& map, std::string_view key);

// Walks every node reachable from root (shared nodes once per path) and
// sets maps and lists to block style (empty ones to flow: "[]", "{}"). False when there are more than
// max_nodes (aliases can make a small document huge).
bool SetBlockStyle(YAML::Node root, size_t max_nodes);

// Emits node as YAML text; false with *error set when the emitter fails or
// writes text that does not read back as one document.
bool Emit(const YAML::Node& node, std::string* out, std::string* error);

}  // namespace sy::config::secret
