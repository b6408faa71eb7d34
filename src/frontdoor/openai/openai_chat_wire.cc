#include "frontdoor/openai/openai_chat_wire.h"

#include <cmath>

namespace sy::openai {

std::string_view FinishReasonName(chat::FinishReason reason, bool has_tool_calls) {
  using chat::FinishReason;
  switch (reason) {
    case FinishReason::kNone:
    case FinishReason::kStop:
    case FinishReason::kError:
      if (has_tool_calls && reason != FinishReason::kError) return "tool_calls";
      return "stop";
    case FinishReason::kStopSequence: return "stop";
    case FinishReason::kLength:
    case FinishReason::kContextFull:
    case FinishReason::kPause: return "length";
    case FinishReason::kToolCalls: return "tool_calls";
    case FinishReason::kContentFilter: return "content_filter";
  }
  return "stop";
}

chat::FinishReason ParseFinishReason(std::string_view finish_reason, bool has_tool_calls) {
  using chat::FinishReason;
  if (finish_reason == "length" || finish_reason == "max_tokens" || finish_reason == "model_length") {
    return FinishReason::kLength;
  }
  if (finish_reason == "tool_calls" || finish_reason == "function_call" || finish_reason == "tool_use") {
    return FinishReason::kToolCalls;
  }
  if (finish_reason == "content_filter" || finish_reason == "refusal") return FinishReason::kContentFilter;
  if (finish_reason == "error") return FinishReason::kError;
  // "stop", "eos", "end_turn", "stop_sequence", absent and unknown values.
  return has_tool_calls ? FinishReason::kToolCalls : FinishReason::kStop;
}

void WriteUsage(json::Writer* w, const chat::Usage& usage, bool details) {
  w->BeginObject();
  w->Key("prompt_tokens").Int(usage.input_tokens);
  w->Key("completion_tokens").Int(usage.output_tokens);
  w->Key("total_tokens").Int(usage.total());
  if (details) {
    w->Key("prompt_tokens_details").BeginObject().Key("cached_tokens").Int(usage.cached_input_tokens).EndObject();
    w->Key("completion_tokens_details")
        .BeginObject()
        .Key("reasoning_tokens")
        .Int(usage.reasoning_tokens)
        .EndObject();
  }
  w->EndObject();
}

std::optional<int64_t> ReadCount(simdjson::dom::element value) {
  int64_t i = 0;
  if (!value.get_int64().get(i)) return i >= 0 ? std::optional<int64_t>(i) : std::nullopt;
  double d = 0;
  if (!value.get_double().get(d) && std::isfinite(d) && d >= 0 && d < 9.0e18 && std::floor(d) == d) {
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

namespace {

int64_t CountAt(simdjson::dom::object obj, std::string_view key) {
  simdjson::dom::element v;
  if (obj[key].get(v)) return 0;
  return ReadCount(v).value_or(0);
}

}  // namespace

chat::Usage ReadUsage(simdjson::dom::object usage) {
  chat::Usage u;
  u.input_tokens = CountAt(usage, "prompt_tokens");
  u.output_tokens = CountAt(usage, "completion_tokens");
  simdjson::dom::object details;
  if (!usage["prompt_tokens_details"].get_object().get(details)) {
    u.cached_input_tokens = CountAt(details, "cached_tokens");
    u.cache_write_tokens = CountAt(details, "cache_write_tokens");
  }
  if (u.cached_input_tokens == 0) u.cached_input_tokens = CountAt(usage, "prompt_cache_hit_tokens");
  if (!usage["completion_tokens_details"].get_object().get(details)) {
    u.reasoning_tokens = CountAt(details, "reasoning_tokens");
  }
  return u;
}

bool ReadArguments(simdjson::dom::element value, std::string* out) {
  std::string_view s;
  if (!value.get_string().get(s)) {
    if (s.empty()) {
      *out = "{}";
    } else {
      out->assign(s);
    }
    return true;
  }
  if (value.is_object() || value.is_array()) {
    *out = simdjson::minify(value);
    return true;
  }
  return false;
}

ErrorCode ErrorCodeForUpstream(std::string_view type, std::string_view code) {
  auto has = [](std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; };
  if (has(type, "rate_limit") || has(code, "rate_limit") || code == "429") return ErrorCode::kRateLimited;
  return ErrorCode::kProviderError;
}

GatewayError UpstreamError(simdjson::dom::element error) {
  std::string_view message;
  std::string_view type;
  std::string code;
  simdjson::dom::object obj;
  if (!error.get_object().get(obj)) {
    message = StringAt(obj["message"]);
    type = StringAt(obj["type"]);
    simdjson::dom::element c;
    if (!obj["code"].get(c)) {
      std::string_view cs;
      int64_t ci = 0;
      if (!c.get_string().get(cs)) {
        code.assign(cs);
      } else if (!c.get_int64().get(ci)) {
        code = std::to_string(ci);
      }
    }
  } else {
    message = StringAt(simdjson::dom::element(error));
  }
  std::string text = message.empty() ? std::string("The upstream reported an error.")
                                     : std::string(Utf8Prefix(message, 2000));
  return MakeError(ErrorCodeForUpstream(type, code), std::move(text),
                   "upstream error type='" + std::string(Utf8Prefix(type, 100)) + "' code='" +
                       std::string(Utf8Prefix(code, 100)) + "'");
}

std::string_view Utf8Prefix(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t n = max;
  // Back off over continuation bytes (10xxxxxx) to the start of a character.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

}  // namespace sy::openai
