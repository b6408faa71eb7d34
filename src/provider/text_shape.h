// A fast path for the events that make up nearly all of a streamed answer:
// a text delta whose bytes, apart from the text itself, repeat those of an
// earlier text delta exactly (same id, model, created, index, key order and
// spacing: what every server sends for each token).
//
// After a full parse has decoded an event to "one text delta and nothing
// else", Learn() keeps the bytes before and after its text. Match() then
// recognises an event made of those same bytes around a new text and returns
// that text without parsing: the event decodes exactly as the learned one did
// with the text replaced. Anything Match() is not sure of (an escape, a
// quote, a control character, invalid UTF-8, an empty text, any other byte
// different) is left to the full parse.
//
// Why the text is found reliably: Learn() accepts an event only when it has
// no backslash at all (so every string token's raw bytes are its value) and
// the key (e.g. "content") occurs exactly once, directly followed by
// :"<the decoded text>". In such JSON the key's one occurrence is the one the
// decoder read, and the text token is the bytes between the quotes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sy {

class TextShape {
 public:
  // `key` is the member's key token with its quotes ("\"content\"");
  // `text` is what the full parse decoded from it.
  void Learn(std::string_view event_name, std::string_view json, std::string_view key, std::string_view text);
  // The text of `json` when it has the learned shape, else nullopt.
  std::optional<std::string_view> Match(std::string_view event_name, std::string_view json) const;
  bool learned() const { return learned_; }

 private:
  bool learned_ = false;
  std::string event_name_;
  std::string prefix_;  // up to and including the text's opening quote
  std::string suffix_;  // from the text's closing quote
};

}  // namespace sy
