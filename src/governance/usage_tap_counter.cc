#include "governance/usage_tap_counter.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace sy::gov::tap {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// Larger counts are not real; the cap keeps sums and price products far from
// overflow.
constexpr int64_t kMaxCount = int64_t{1} << 40;

// Field slots per protocol (UsageCounter::fields_).
enum : int { kIn = 0, kOut = 1, kCached = 2, kWrite = 3, kHit = 4, kReasoning = 5 };
// Gemini keeps toolUsePromptTokenCount in the kWrite slot (it has no cache
// writes); Anthropic keeps cache_creation_input_tokens there.
constexpr int kToolPrompt = kWrite;

simdjson::dom::parser& Parser() {
  // One per thread: a tap is driven by one thread at a time, and a DOM never
  // outlives the call that parsed it.
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Horspool search for one of the three markers, with its skip table made
// once: glibc's memmem builds a table on every call, which for a stream
// event of a few hundred bytes costs more than the search.
class MarkerSearch {
 public:
  explicit MarkerSearch(std::string_view marker) : marker_(marker) {
    for (auto& s : skip_) s = static_cast<uint8_t>(marker.size());
    for (size_t i = 0; i + 1 < marker.size(); ++i) {
      skip_[static_cast<unsigned char>(marker[i])] = static_cast<uint8_t>(marker.size() - 1 - i);
    }
  }
  size_t Find(std::string_view s, size_t from) const {
    const size_t m = marker_.size();
    if (from >= s.size() || m > s.size() - from) return kNpos;
    const char last = marker_[m - 1];
    for (size_t i = from; i + m <= s.size();) {
      const char c = s[i + m - 1];
      if (c == last && std::memcmp(s.data() + i, marker_.data(), m - 1) == 0) return i;
      i += skip_[static_cast<unsigned char>(c)];
    }
    return kNpos;
  }

 private:
  std::string_view marker_;
  uint8_t skip_[256];
};

// The next usage marker of `protocol` (UsageCounter::marker_) in s, from `from`.
size_t FindMarker(WireProtocol protocol, std::string_view s, size_t from) {
  static const MarkerSearch kUsage("\"usage\""), kGemini("\"usageMetadata\""), kOllama("eval_count\"");
  switch (protocol) {
    case WireProtocol::kGemini: return kGemini.Find(s, from);
    case WireProtocol::kOllama: return kOllama.Find(s, from);
    default: return kUsage.Find(s, from);
  }
}

int64_t Sum(int64_t a, int64_t b) { return a + b; }  // both <= kMaxCount: cannot overflow

}  // namespace

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && IsJsonSpace(s[i])) ++i;
  return i;
}

size_t StringEnd(std::string_view s, size_t i) {
  // A plain loop: the strings of a stream chunk are short, and a library
  // search per quote costs more in calls than it saves.
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;  // the escaped byte
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return kNpos;
}

size_t ValueEnd(std::string_view s, size_t i) {
  if (i >= s.size()) return kNpos;
  const char c = s[i];
  if (c == '"') return StringEnd(s, i);
  if (c == '{' || c == '[') {
    // One table lookup per byte: most bytes are none of the five that matter.
    static constexpr auto kKind = [] {
      std::array<uint8_t, 256> k{};
      k['"'] = 1;
      k['{'] = k['['] = 2;
      k['}'] = k[']'] = 3;
      return k;
    }();
    const char* const p = s.data();
    const size_t n = s.size();
    size_t depth = 0;
    while (i < n) {
      const uint8_t kind = kKind[static_cast<unsigned char>(p[i])];
      if (kind == 0) {
        ++i;
      } else if (kind == 1) {
        i = StringEnd(s, i);
        if (i == kNpos) return kNpos;
      } else if (kind == 2) {
        ++depth;
        ++i;
      } else {
        if (--depth == 0) return i + 1;
        ++i;
      }
    }
    return kNpos;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !IsJsonSpace(s[i])) ++i;
  return i;
}

UsageCounter::UsageCounter(WireProtocol protocol) : protocol_(protocol) {
  switch (protocol) {
    case WireProtocol::kGemini: marker_ = "\"usageMetadata\""; break;
    case WireProtocol::kOllama: marker_ = "eval_count\""; break;  // prompt_eval_count and eval_count
    default: marker_ = "\"usage\""; break;
  }
  marker_key_ = protocol == WireProtocol::kOllama ? "eval_count" : marker_.substr(1, marker_.size() - 2);
}

UsageCounter::Member UsageCounter::Classify(std::string_view key) const {
  if (key == marker_key_ || (protocol_ == WireProtocol::kOllama && key == "prompt_eval_count")) return Member::kUsage;
  switch (protocol_) {
    case WireProtocol::kLlmService:  // never passed through; as OpenAI
    case WireProtocol::kOpenAI:
      if (key == "content" || key == "reasoning_content" || key == "reasoning" || key == "arguments" ||
          key == "text" || key == "refusal") {
        return Member::kText;
      }
      return Member::kNone;
    case WireProtocol::kOpenAIResponses:
      return key == "delta" || key == "text" || key == "arguments" ? Member::kText : Member::kNone;
    case WireProtocol::kAnthropic:
      if (key == "text" || key == "thinking" || key == "partial_json") return Member::kText;
      return key == "input" ? Member::kObject : Member::kNone;
    case WireProtocol::kGemini:
      if (key == "text") return Member::kText;
      return key == "args" ? Member::kObject : Member::kNone;
    case WireProtocol::kOllama:
      if (key == "content" || key == "thinking" || key == "response") return Member::kText;
      return key == "arguments" ? Member::kObject : Member::kNone;
  }
  return Member::kNone;
}

void UsageCounter::CountText(std::string_view s) { Scan(s); }

bool UsageCounter::Scan(std::string_view s) const {
  // Walks the strings of `s` from quote to quote; a string followed by ':' is
  // a key. One pass over the bytes, no parse: every event of a stream goes
  // through here, and only those where a usage member shows are parsed.
  const char* const p = s.data();
  const size_t n = s.size();
  bool usage = false;
  size_t i = 0;
  for (;;) {
    while (i < n && p[i] != '"') ++i;
    if (i >= n) break;
    const size_t open = i;
    const size_t close = StringEnd(s, open);
    if (close == kNpos) break;
    size_t j = SkipSpace(s, close);
    if (j >= n || p[j] != ':') {
      i = close;
      continue;
    }
    j = SkipSpace(s, j + 1);
    if (j >= n) break;
    const Member member = Classify(s.substr(open + 1, close - open - 2));
    if (member == Member::kUsage) {
      // "usage": an object (not null); Ollama's counts: a number.
      if (protocol_ == WireProtocol::kOllama ? (p[j] >= '0' && p[j] <= '9') || p[j] == '-' : p[j] == '{') usage = true;
      i = j;
    } else if (member != Member::kNone && p[j] == '"') {
      const size_t end = StringEnd(s, j);
      // A value cut off at the end of `s` (a stream that stopped) counts as far as it goes.
      text_bytes_ += static_cast<int64_t>((end == kNpos ? n : end - 1) - (j + 1));
      if (end == kNpos) break;
      i = end;
    } else if (member == Member::kObject && (p[j] == '{' || p[j] == '[')) {
      const size_t end = ValueEnd(s, j);
      text_bytes_ += static_cast<int64_t>((end == kNpos ? n : end) - j);
      if (end == kNpos) break;
      i = end;
    } else {
      i = j;
    }
  }
  return usage;
}

bool UsageCounter::MayCarryUsage(std::string_view s) const {
  for (size_t m = FindMarker(protocol_, s, 0); m != kNpos; m = FindMarker(protocol_, s, m + 1)) {
    size_t j = SkipSpace(s, m + marker_.size());
    if (j >= s.size() || s[j] != ':') continue;
    j = SkipSpace(s, j + 1);
    if (j >= s.size()) return false;
    const char c = s[j];
    if (protocol_ == WireProtocol::kOllama ? (c >= '0' && c <= '9') || c == '-' : c == '{') return true;
  }
  return false;
}

void UsageCounter::Defer(std::string_view text) {
  if (text.empty()) return;
  if (text.size() > kMaxDeferred) {
    Scan(text);
    return;
  }
  if (deferred_.size() + text.size() > kMaxDeferred) CountDeferred();
  deferred_.append(text);
  deferred_sizes_.push_back(static_cast<uint32_t>(text.size()));
}

void UsageCounter::CountDeferred() const {
  size_t at = 0;
  for (const uint32_t n : deferred_sizes_) {
    Scan(std::string_view(deferred_).substr(at, n));
    at += n;
  }
  deferred_.clear();
  deferred_sizes_.clear();
}

bool UsageCounter::Unit(std::string_view text, bool padded) {
  // Most units carry text only: one search for the marker, and their text
  // is counted only if the estimate is ever needed.
  if (!MayCarryUsage(text)) {
    Defer(text);
    return false;
  }
  if (!Scan(text)) return false;
  return ParseUnit(text, padded);
}

bool UsageCounter::ParseUnit(std::string_view text, bool padded) {
  object unit;
  if (Parser().parse(text.data(), text.size(), /*realloc_if_needed=*/!padded).get_object().get(unit)) return false;
  ReadUnit(unit);
  if (protocol_ != WireProtocol::kOpenAI) return false;
  // A usage-only chunk: the one include_usage adds before [DONE].
  object usage;
  if (unit["usage"].get_object().get(usage)) return false;
  element error;
  if (!unit["error"].get(error) && !error.is_null()) return false;
  element choices;
  if (unit["choices"].get(choices) || choices.is_null()) return true;
  simdjson::dom::array list;
  return !choices.get_array().get(list) && list.size() == 0;
}

void UsageCounter::ReadUnit(object unit) {
  object usage, outer;
  switch (protocol_) {
    case WireProtocol::kLlmService:  // never passed through; as OpenAI
    case WireProtocol::kOpenAI:
      if (!unit["usage"].get_object().get(usage)) {
        MergeUsage(usage);
        final_ = true;  // OpenAI sends usage once, in the last chunk
      } else if (!unit["x_groq"].get_object().get(outer) && !outer["usage"].get_object().get(usage)) {
        MergeUsage(usage);  // Groq: usage in x_groq on the last chunk
        final_ = true;
      }
      return;
    case WireProtocol::kOpenAIResponses:
      if (!unit["usage"].get_object().get(usage)) MergeUsage(usage);
      if (!unit["response"].get_object().get(outer) && !outer["usage"].get_object().get(usage)) {
        MergeUsage(usage);
        final_ = true;  // response.completed (or .incomplete / .failed): the last event
      }
      return;
    case WireProtocol::kAnthropic:
      if (!unit["message"].get_object().get(outer) && !outer["usage"].get_object().get(usage)) {
        MergeUsage(usage);  // message_start
      }
      if (!unit["usage"].get_object().get(usage)) {
        MergeUsage(usage);  // message_delta, or a whole message
        final_ = true;
      }
      return;
    case WireProtocol::kGemini:
      if (!unit["usageMetadata"].get_object().get(usage)) MergeUsage(usage);
      return;
    case WireProtocol::kOllama:
      MergeUsage(unit);  // the counts are members of the final line itself
      return;
  }
}

void UsageCounter::MergeUsage(object usage) {
  auto take = [this](object obj, std::string_view key, int field) {
    element v;
    if (!obj[key].get(v)) Set(field, v);
  };
  object details;
  switch (protocol_) {
    case WireProtocol::kLlmService:  // never passed through; as OpenAI
    case WireProtocol::kOpenAI:
      take(usage, "prompt_tokens", kIn);
      take(usage, "completion_tokens", kOut);
      take(usage, "prompt_cache_hit_tokens", kHit);  // DeepSeek
      if (!usage["prompt_tokens_details"].get_object().get(details)) {
        take(details, "cached_tokens", kCached);
        take(details, "cache_write_tokens", kWrite);  // OpenRouter
      }
      if (!usage["completion_tokens_details"].get_object().get(details)) take(details, "reasoning_tokens", kReasoning);
      return;
    case WireProtocol::kOpenAIResponses:
      take(usage, "input_tokens", kIn);
      take(usage, "output_tokens", kOut);
      if (!usage["input_tokens_details"].get_object().get(details)) take(details, "cached_tokens", kCached);
      if (!usage["output_tokens_details"].get_object().get(details)) take(details, "reasoning_tokens", kReasoning);
      return;
    case WireProtocol::kAnthropic:
      take(usage, "input_tokens", kIn);
      take(usage, "output_tokens", kOut);
      take(usage, "cache_read_input_tokens", kCached);
      take(usage, "cache_creation_input_tokens", kWrite);
      return;
    case WireProtocol::kGemini:
      take(usage, "promptTokenCount", kIn);
      take(usage, "candidatesTokenCount", kOut);
      take(usage, "cachedContentTokenCount", kCached);
      take(usage, "toolUsePromptTokenCount", kToolPrompt);
      take(usage, "thoughtsTokenCount", kReasoning);
      return;
    case WireProtocol::kOllama:
      take(usage, "prompt_eval_count", kIn);
      take(usage, "eval_count", kOut);
      return;
  }
}

void UsageCounter::Set(int field, element value) {
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  if (!value.get_int64().get(i)) {
    Set(field, i);
  } else if (!value.get_uint64().get(u)) {
    Set(field, kMaxCount);
  } else if (!value.get_double().get(d) && std::isfinite(d) && std::floor(d) == d) {
    Set(field, d >= static_cast<double>(kMaxCount) ? kMaxCount : d <= 0 ? 0 : static_cast<int64_t>(d));
  }
  // Anything else (null, a string...) is not a count: the field keeps its value.
}

void UsageCounter::Set(int field, int64_t value) {
  fields_[field] = value < 0 ? 0 : (value > kMaxCount ? kMaxCount : value);
  seen_ |= 1u << field;
}

namespace {

// Calls fn(key, value) for each member of the object that `s` holds (its
// first byte not a space is '{'), values as their bytes. False on anything
// that is not a plain object (then the caller parses it properly instead),
// including a key with an escape in it.
template <class Fn>
bool ForEachMember(std::string_view s, Fn&& fn) {
  size_t i = SkipSpace(s, 0);
  if (i >= s.size() || s[i] != '{') return false;
  i = SkipSpace(s, i + 1);
  if (i < s.size() && s[i] == '}') return true;
  while (i < s.size() && s[i] == '"') {
    const size_t close = StringEnd(s, i);
    if (close == kNpos) return false;
    const std::string_view key = s.substr(i + 1, close - i - 2);
    if (key.find('\\') != std::string_view::npos) return false;
    size_t j = SkipSpace(s, close);
    if (j >= s.size() || s[j] != ':') return false;
    j = SkipSpace(s, j + 1);
    const size_t end = ValueEnd(s, j);
    if (end == kNpos || end == j) return false;
    if (!fn(key, s.substr(j, end - j))) return false;
    i = SkipSpace(s, end);
    if (i >= s.size()) return false;
    if (s[i] == '}') return true;
    if (s[i] != ',') return false;
    i = SkipSpace(s, i + 1);
  }
  return false;
}

enum class Count { kSet, kNotACount, kMalformed };

// A member's value as a count, read as UsageCounter::Set reads a parsed
// one: an integer (past int64: the cap, or 0 when negative), an integral
// double; null, strings and the rest are not counts.
Count ReadCount(std::string_view v, int64_t* out) {
  const char c = v[0];
  if (c != '-' && (c < '0' || c > '9')) {
    return c == 'n' || c == 't' || c == 'f' || c == '"' || c == '{' || c == '[' ? Count::kNotACount
                                                                                : Count::kMalformed;
  }
  const char* const first = v.data();
  const char* const last = v.data() + v.size();
  int64_t i = 0;
  const auto [p, ec] = std::from_chars(first, last, i);
  if (ec == std::errc() && p == last) {
    *out = i;
    return Count::kSet;
  }
  if (ec == std::errc::result_out_of_range && p == last) {
    *out = c == '-' ? 0 : kMaxCount;
    return Count::kSet;
  }
  double d = 0;
  const auto [q, ec2] = std::from_chars(first, last, d);
  if (ec2 != std::errc() || q != last) return Count::kMalformed;
  if (!std::isfinite(d) || std::floor(d) != d) return Count::kNotACount;
  *out = d >= static_cast<double>(kMaxCount) ? kMaxCount : d <= 0 ? 0 : static_cast<int64_t>(d);
  return Count::kSet;
}

}  // namespace

bool UsageCounter::MergeUsageText(std::string_view usage) {
  // The counts are gathered first and kept only when the whole object reads
  // well; the first of a repeated member counts, as in a parsed object.
  struct Found {
    int64_t value[kFields] = {};
    unsigned set = 0;   // bit per field
    unsigned seen = 0;  // bit per member looked up (first one wins)
  } found;
  auto take = [&](std::string_view key, std::string_view value, std::string_view want, int field, int slot) {
    if (key != want || (found.seen & (1u << slot))) return Count::kNotACount;
    found.seen |= 1u << slot;
    int64_t n = 0;
    const Count c = ReadCount(value, &n);
    if (c == Count::kSet) {
      found.value[field] = n;
      found.set |= 1u << field;
    }
    return c;
  };
  // Member name → field, and for OpenAI's and the Responses API's details objects, their members.
  struct Map {
    std::string_view key;
    int field;
  };
  static constexpr Map kOpenAi[] = {{"prompt_tokens", kIn}, {"completion_tokens", kOut}, {"prompt_cache_hit_tokens", kHit}};
  static constexpr Map kOpenAiIn[] = {{"cached_tokens", kCached}, {"cache_write_tokens", kWrite}};
  static constexpr Map kOpenAiOut[] = {{"reasoning_tokens", kReasoning}};
  static constexpr Map kResponses[] = {{"input_tokens", kIn}, {"output_tokens", kOut}};
  static constexpr Map kResponsesIn[] = {{"cached_tokens", kCached}};
  static constexpr Map kResponsesOut[] = {{"reasoning_tokens", kReasoning}};
  static constexpr Map kAnthropic[] = {{"input_tokens", kIn},
                                       {"output_tokens", kOut},
                                       {"cache_read_input_tokens", kCached},
                                       {"cache_creation_input_tokens", kWrite}};
  static constexpr Map kGemini[] = {{"promptTokenCount", kIn},
                                    {"candidatesTokenCount", kOut},
                                    {"cachedContentTokenCount", kCached},
                                    {"toolUsePromptTokenCount", kToolPrompt},
                                    {"thoughtsTokenCount", kReasoning}};
  std::span<const Map> top, in, out;
  std::string_view in_key, out_key;
  switch (protocol_) {
    case WireProtocol::kLlmService:  // never passed through; as OpenAI
    case WireProtocol::kOpenAI:
      top = kOpenAi, in = kOpenAiIn, out = kOpenAiOut;
      in_key = "prompt_tokens_details", out_key = "completion_tokens_details";
      break;
    case WireProtocol::kOpenAIResponses:
      top = kResponses, in = kResponsesIn, out = kResponsesOut;
      in_key = "input_tokens_details", out_key = "output_tokens_details";
      break;
    case WireProtocol::kAnthropic: top = kAnthropic; break;
    case WireProtocol::kGemini: top = kGemini; break;
    case WireProtocol::kOllama: return false;
  }
  // Slots for "first one wins": top members 0..7, details objects 8 and 9, their members 10..15.
  auto members = [&](std::string_view obj, std::span<const Map> map, int first_slot) {
    return ForEachMember(obj, [&](std::string_view key, std::string_view value) {
      for (size_t k = 0; k < map.size(); ++k) {
        if (take(key, value, map[k].key, map[k].field, first_slot + static_cast<int>(k)) == Count::kMalformed) {
          return false;
        }
      }
      return true;
    });
  };
  const bool ok = ForEachMember(usage, [&](std::string_view key, std::string_view value) {
    for (size_t k = 0; k < top.size(); ++k) {
      if (take(key, value, top[k].key, top[k].field, static_cast<int>(k)) == Count::kMalformed) return false;
    }
    for (int d = 0; d < 2; ++d) {
      const std::string_view want = d == 0 ? in_key : out_key;
      if (want.empty() || key != want || (found.seen & (1u << (8 + d)))) continue;
      found.seen |= 1u << (8 + d);
      if (value[0] == '{' && !members(value, d == 0 ? in : out, d == 0 ? 10 : 13)) return false;
    }
    return true;
  });
  if (!ok) return false;
  for (int f = 0; f < kFields; ++f) {
    if (found.set & (1u << f)) Set(f, found.value[f]);
  }
  return true;
}

bool UsageCounter::TopLevelUsage(std::string_view s) {
  // Walks the members of the outer object without parsing their values,
  // then reads the usage member's counts where they lie.
  // (Ollama's counts are members of the body itself: not for this walk.)
  if (protocol_ == WireProtocol::kOllama) return false;
  std::string_view usage;
  const bool walked = ForEachMember(s, [&](std::string_view key, std::string_view value) {
    if (usage.empty() && key == marker_key_ && value[0] == '{') usage = value;
    return true;
  });
  if (!walked || usage.empty()) return false;
  if (MergeUsageText(usage)) return true;
  object parsed;  // not plain enough for the reader: parsed properly
  if (Parser().parse(usage.data(), usage.size()).get_object().get(parsed)) return false;
  MergeUsage(parsed);
  return true;
}

void UsageCounter::Body(std::string_view text) {
  // The usual body: one object with its usage at the top (OpenAI, the
  // Responses API, Anthropic, Gemini); its text need not be counted.
  if (TopLevelUsage(text)) return;
  CountText(text);
  element root;
  if (!Parser().parse(text.data(), text.size()).get(root)) {
    object obj;
    simdjson::dom::array list;
    if (!root.get_object().get(obj)) {
      ReadUnit(obj);
    } else if (!root.get_array().get(list)) {  // Gemini: a stream read as one JSON array
      for (element item : list) {
        if (!item.get_object().get(obj)) ReadUnit(obj);
      }
    }
    return;
  }
  // Not one JSON document (NDJSON, SSE, or cut short): the usage objects
  // found by their markers, in order.
  Tail(text);
}

void UsageCounter::Tail(std::string_view s) {
  for (size_t m = FindMarker(protocol_, s, 0); m != kNpos; m = FindMarker(protocol_, s, m + 1)) {
    size_t j = SkipSpace(s, m + marker_.size());
    if (j >= s.size() || s[j] != ':') continue;
    j = SkipSpace(s, j + 1);
    if (j >= s.size()) break;
    if (protocol_ == WireProtocol::kOllama) {
      int field = -1;
      if (m >= 8 && s.substr(m - 8, 8) == "\"prompt_") {
        field = kIn;
      } else if (m >= 1 && s[m - 1] == '"') {
        field = kOut;
      }
      int64_t n = 0;
      const auto [end, ec] = std::from_chars(s.data() + j, s.data() + s.size(), n);
      if (field >= 0 && ec == std::errc() && end != s.data() + j) Set(field, n);
      continue;
    }
    if (s[j] != '{' || (m > 0 && s[m - 1] == '\\')) continue;
    const size_t end = ValueEnd(s, j);
    if (end == kNpos) break;
    object usage;
    if (!Parser().parse(s.data() + j, end - j).get_object().get(usage)) MergeUsage(usage);
  }
}

std::optional<chat::Usage> UsageCounter::usage() const {
  if (seen_ == 0) return std::nullopt;
  chat::Usage u;
  switch (protocol_) {
    case WireProtocol::kLlmService:  // never passed through; as OpenAI
    case WireProtocol::kOpenAI:
      u.input_tokens = Get(kIn);
      u.output_tokens = Get(kOut);
      u.cached_input_tokens = Get(kCached) != 0 ? Get(kCached) : Get(kHit);
      u.cache_write_tokens = Get(kWrite);
      u.reasoning_tokens = Get(kReasoning);
      break;
    case WireProtocol::kOpenAIResponses:
      u.input_tokens = Get(kIn);
      u.output_tokens = Get(kOut);
      u.cached_input_tokens = Get(kCached);
      u.reasoning_tokens = Get(kReasoning);
      break;
    case WireProtocol::kAnthropic:
      // input_tokens excludes the cache reads and writes; the internal total includes them.
      u.cached_input_tokens = Get(kCached);
      u.cache_write_tokens = Get(kWrite);
      u.input_tokens = Sum(Sum(Get(kIn), Get(kCached)), Get(kWrite));
      u.output_tokens = Get(kOut);
      break;
    case WireProtocol::kGemini:
      // candidatesTokenCount excludes the thoughts; the internal output includes them.
      u.input_tokens = Sum(Get(kIn), Get(kToolPrompt));
      u.cached_input_tokens = Get(kCached);
      u.reasoning_tokens = Get(kReasoning);
      u.output_tokens = Sum(Get(kOut), Get(kReasoning));
      break;
    case WireProtocol::kOllama:
      u.input_tokens = Get(kIn);
      u.output_tokens = Get(kOut);
      break;
  }
  return u;
}

int64_t UsageCounter::EstimatedOutputTokens() const {
  CountDeferred();
  return (text_bytes_ + 3) / 4;
}

}  // namespace sy::gov::tap
