// Internal to the usage tap (usage_tap*.cc): what every tap shares.
//
// UsageCounter reads usage out of complete JSON units of one protocol (a
// stream event's data, an NDJSON line, an element of a JSON-array stream, or
// a whole body) and counts the generated text they carry, for the estimate.
// A unit is parsed only when its bytes show a usage member ("usage":{ /
// "usageMetadata":{ / "eval_count": followed by a number; found with one
// memmem per marker). The text of the other units is counted only if the
// estimate is ever needed: they are kept (up to kMaxDeferred bytes, then
// counted and dropped) and counted when EstimatedOutputTokens is asked while
// no usage has been seen. A whole body is read by walking its top-level
// members to the usage one, parsing only that; its text is counted only when
// it has no usage there. So an answer that carries its usage (nearly all)
// costs a search per unit and one small parse, not a parse of every byte.
//
// The wire-to-internal mapping of each protocol is the one its stream
// decoder uses (src/provider/*/..._stream_decoder.cc):
//   OpenAI:    prompt_tokens → input; completion_tokens → output;
//              prompt_tokens_details.cached_tokens (else DeepSeek's
//              prompt_cache_hit_tokens) → cached; prompt_tokens_details.
//              cache_write_tokens → cache_write; completion_tokens_details.
//              reasoning_tokens → reasoning. "usage", else x_groq.usage.
//   Anthropic: input = input_tokens + cache_read_input_tokens +
//              cache_creation_input_tokens; cached = cache_read; cache_write =
//              cache_creation; output = output_tokens. message_start's
//              message.usage and message_delta's usage.
//   Gemini:    input = promptTokenCount + toolUsePromptTokenCount; cached =
//              cachedContentTokenCount; reasoning = thoughtsTokenCount;
//              output = candidatesTokenCount + thoughtsTokenCount.
//   Ollama:    prompt_eval_count → input; eval_count → output.
// Usage is cumulative on every protocol: each wire field keeps the last value
// seen (a unit without a field leaves it as it was); nothing is summed.
// Counts are read as non-negative integers (an integral double is accepted)
// and capped at 2^40, so that no sum or price product can overflow.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.h"
#include "core/request.h"

namespace sy::gov::tap {

inline constexpr size_t kNpos = std::string_view::npos;

bool IsJsonSpace(char c);
// Index of the first byte at or after `i` that is not JSON whitespace.
size_t SkipSpace(std::string_view s, size_t i);
// `i` is at an opening quote: the index just past the closing quote, or kNpos
// when the string does not end inside `s`.
size_t StringEnd(std::string_view s, size_t i);
// `i` is at the first byte of a value: the index just past it, or kNpos when
// it does not end inside `s` (objects and arrays: nesting counted without
// recursion, any depth).
size_t ValueEnd(std::string_view s, size_t i);

class UsageCounter {
 public:
  explicit UsageCounter(WireProtocol protocol);

  // One complete unit of a stream. `padded`: at least
  // simdjson::SIMDJSON_PADDING readable bytes follow `text` (parsed in place;
  // otherwise simdjson copies it when it must be parsed). Returns true when
  // the unit is an OpenAI usage-only chunk: a "usage" object with "choices"
  // absent or empty.
  bool Unit(std::string_view text, bool padded);
  // A whole non-stream body (an object; a Gemini body may be an array of
  // them; an Ollama body may be NDJSON lines).
  void Body(std::string_view text);
  // The last bytes of a body too large to keep: usage objects found by
  // their markers are parsed on their own, in order.
  void Tail(std::string_view tail);
  // Counts the generated text in `text` (string values of the protocol's
  // text members; tool arguments that are objects by their JSON length).
  void CountText(std::string_view text);

  std::optional<chat::Usage> usage() const;
  // The answer's last usage has been read (OpenAI's usage chunk, Anthropic's
  // message_delta, the Responses API's closing event); Gemini and Ollama
  // repeat or end theirs without a mark: false for them.
  bool final() const { return final_; }
  // ceil(text bytes / 4): about four bytes per token. The text of a whole
  // body whose usage was found at its top is not counted (0): the estimate
  // is for answers that end without usage. Counts the deferred units: ask
  // only when it is needed.
  int64_t EstimatedOutputTokens() const;

  // Text of units held for a later count, at most this many bytes.
  static constexpr size_t kMaxDeferred = 64 * 1024;

 private:
  enum class Member { kNone, kText, kObject, kUsage };
  Member Classify(std::string_view key) const;
  // Counts the text of `text`; true when a usage member shows in it.
  bool Scan(std::string_view text) const;
  // Whether a usage member may be in `text` (its marker, then ':' and an
  // object, or for Ollama a number): false means certainly not.
  bool MayCarryUsage(std::string_view text) const;
  // A unit without usage: kept for the estimate, counted later if ever.
  void Defer(std::string_view text);
  void CountDeferred() const;
  // A whole object's top-level usage member, parsed alone. False when the
  // body is not one object or has no such member (then nothing was merged).
  bool TopLevelUsage(std::string_view body);
  // MergeUsage on a usage object's bytes, without a parse: false (nothing
  // merged) when they are not a plain object of the protocol's shape.
  bool MergeUsageText(std::string_view usage);
  bool ParseUnit(std::string_view text, bool padded);  // true: usage-only chunk
  void ReadUnit(simdjson::dom::object unit);
  void MergeUsage(simdjson::dom::object usage);
  void Set(int field, simdjson::dom::element value);
  void Set(int field, int64_t value);
  int64_t Get(int field) const { return fields_[field]; }

  static constexpr int kFields = 6;
  WireProtocol protocol_;
  std::string_view marker_;      // for Tail(): "\"usage\"", "\"usageMetadata\"" or "eval_count\""
  std::string_view marker_key_;  // for Scan(): "usage", "usageMetadata" or "eval_count"
  int64_t fields_[kFields] = {};
  unsigned seen_ = 0;  // bit per field
  mutable int64_t text_bytes_ = 0;
  bool final_ = false;
  // Units not yet counted (Defer): their bytes, back to back, and lengths.
  mutable std::string deferred_;
  mutable std::vector<uint32_t> deferred_sizes_;
};

}  // namespace sy::gov::tap
