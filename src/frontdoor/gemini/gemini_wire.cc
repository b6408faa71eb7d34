#include "frontdoor/gemini/gemini_wire.h"

#include <cmath>
#include <limits>

namespace sy::gemini {

std::string_view FinishReasonWire(chat::FinishReason reason) {
  switch (reason) {
    case chat::FinishReason::kNone:
    case chat::FinishReason::kStop:
    case chat::FinishReason::kStopSequence:
    case chat::FinishReason::kToolCalls: return "STOP";
    case chat::FinishReason::kLength:
    case chat::FinishReason::kContextFull: return "MAX_TOKENS";
    case chat::FinishReason::kContentFilter: return "SAFETY";
    case chat::FinishReason::kPause:
    case chat::FinishReason::kError: return "OTHER";
  }
  return "OTHER";
}

chat::FinishReason ParseFinishReason(std::string_view reason) {
  if (reason == "STOP") return chat::FinishReason::kStop;
  if (reason == "MAX_TOKENS") return chat::FinishReason::kLength;
  if (reason == "SAFETY" || reason == "RECITATION" || reason == "BLOCKLIST" || reason == "PROHIBITED_CONTENT" ||
      reason == "SPII" || reason == "IMAGE_SAFETY" || reason == "LANGUAGE" || reason.starts_with("IMAGE_") ||
      reason.find("SAFETY") != std::string_view::npos || reason.find("PROHIBITED") != std::string_view::npos) {
    return chat::FinishReason::kContentFilter;
  }
  // MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, OTHER,
  // FINISH_REASON_UNSPECIFIED and values newer than this table.
  return chat::FinishReason::kError;
}

std::string_view StatusName(int http_status) {
  switch (http_status) {
    case 400:
    case 413:
    case 431: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 408:
    case 504: return "DEADLINE_EXCEEDED";
    case 429: return "RESOURCE_EXHAUSTED";
    case 500: return "INTERNAL";
    case 502:
    case 503: return "UNAVAILABLE";
    default: return "FAILED_PRECONDITION";
  }
}

ErrorCode CodeForStatus(std::string_view status, int64_t http_code) {
  if (status == "RESOURCE_EXHAUSTED" || (status.empty() && http_code == 429)) return ErrorCode::kRateLimited;
  if (status == "UNAVAILABLE" || (status.empty() && http_code == 503)) return ErrorCode::kNoProvider;
  return ErrorCode::kProviderError;
}

std::string ErrorObject(const GatewayError& error) {
  const int status = HttpStatus(error.code);
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("error").BeginObject();
  w.Key("code").Int(status).Key("message").String(error.message).Key("status").String(StatusName(status));
  w.EndObject().EndObject();
  return out;
}

namespace {

// Seconds (rounded up) of a google.rpc.RetryInfo in error.details
// ({"retryDelay":"36s"}, "1.5s"...); nullopt when there is none.
std::optional<std::string> RetryDelay(simdjson::dom::element error) {
  simdjson::dom::array details;
  if (error["details"].get_array().get(details)) return std::nullopt;
  for (simdjson::dom::element d : details) {
    std::string_view delay;
    if (d["retryDelay"].get_string().get(delay) || delay.size() < 2 || delay.size() > 20 || delay.back() != 's') {
      continue;
    }
    delay.remove_suffix(1);
    int64_t seconds = 0;
    size_t i = 0;
    for (; i < delay.size() && delay[i] >= '0' && delay[i] <= '9' && seconds < 1000000; ++i) {
      seconds = seconds * 10 + (delay[i] - '0');
    }
    if (i == 0) continue;
    if (i < delay.size() && delay[i] == '.' && delay.find_first_not_of("0", i + 1) != std::string_view::npos) ++seconds;
    return std::to_string(seconds);
  }
  return std::nullopt;
}

}  // namespace

GatewayError ErrorFromWire(simdjson::dom::element error) {
  std::string_view message;
  std::string_view status;
  int64_t code = 0;
  simdjson::dom::object obj;
  if (!error.get_object().get(obj)) {
    if (obj["message"].get_string().get(message)) message = {};
    if (obj["status"].get_string().get(status)) status = {};
    simdjson::dom::element c;
    if (!obj["code"].get(c)) code = GetInt(c).value_or(0);
  } else if (!error.get_string().get(message)) {
    // {"error": "text"} from a relay.
  }
  std::string text = "Gemini upstream error";
  if (!message.empty()) text += ": " + std::string(message.substr(0, 2000));
  std::string detail = "gemini error status=" + std::string(status.substr(0, 64)) + " code=" + std::to_string(code);
  GatewayError e = MakeError(CodeForStatus(status, code), std::move(text), std::move(detail));
  if (e.code == ErrorCode::kRateLimited) e.retry_after = RetryDelay(error);
  return e;
}

void WriteUsageMetadata(json::Writer* w, const chat::Usage& usage) {
  const int64_t candidates = usage.output_tokens > usage.reasoning_tokens ? usage.output_tokens - usage.reasoning_tokens : 0;
  w->BeginObject();
  w->Key("promptTokenCount").Int(usage.input_tokens);
  w->Key("candidatesTokenCount").Int(candidates);
  w->Key("totalTokenCount").Int(usage.total());
  if (usage.cached_input_tokens > 0) w->Key("cachedContentTokenCount").Int(usage.cached_input_tokens);
  if (usage.reasoning_tokens > 0) w->Key("thoughtsTokenCount").Int(usage.reasoning_tokens);
  w->EndObject();
}

chat::Usage ReadUsageMetadata(simdjson::dom::element usage) {
  auto count = [&usage](std::string_view key) -> int64_t {
    simdjson::dom::element v;
    if (usage[key].get(v)) return 0;
    int64_t n = GetInt(v).value_or(0);
    // Bounded so that sums cannot overflow.
    return n < 0 ? 0 : (n > (int64_t{1} << 40) ? (int64_t{1} << 40) : n);
  };
  chat::Usage u;
  if (!usage.is_object()) return u;
  u.input_tokens = count("promptTokenCount") + count("toolUsePromptTokenCount");
  u.cached_input_tokens = count("cachedContentTokenCount");
  u.reasoning_tokens = count("thoughtsTokenCount");
  u.output_tokens = count("candidatesTokenCount") + u.reasoning_tokens;
  return u;
}

namespace {

simdjson::dom::parser MakeParser(size_t depth) {
  simdjson::dom::parser p;
  auto err = p.allocate(64 * 1024, depth);  // the depth bound holds for later capacity bumps
  (void)err;
  return p;
}

// "image/png" for "x.png"..., "" when the extension says nothing.
std::string_view MimeFromUrl(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  auto ends = [url](std::string_view ext) {
    if (url.size() < ext.size()) return false;
    for (size_t i = 0; i < ext.size(); ++i) {
      char c = url[url.size() - ext.size() + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != ext[i]) return false;
    }
    return true;
  };
  if (ends(".png")) return "image/png";
  if (ends(".jpg") || ends(".jpeg")) return "image/jpeg";
  if (ends(".webp")) return "image/webp";
  if (ends(".gif")) return "image/gif";
  if (ends(".heic")) return "image/heic";
  if (ends(".heif")) return "image/heif";
  return "";
}

void WriteImage(json::Writer* w, const chat::Part& part) {
  std::string_view url = part.url;
  if (part.data.empty() && url.starts_with("data:")) {
    // data:[<mime>][;base64],<data>
    size_t comma = url.find(',');
    if (comma != std::string_view::npos) {
      std::string_view meta = url.substr(5, comma - 5);
      std::string_view mime = meta.substr(0, meta.find(';'));
      if (mime.empty()) mime = part.media_type;
      if (mime.empty()) mime = "image/png";
      w->Key("inlineData").BeginObject();
      w->Key("mimeType").String(mime);
      w->Key("data").String(url.substr(comma + 1)).EndObject();
      return;
    }
  }
  if (!part.data.empty() || url.empty()) {
    w->Key("inlineData").BeginObject();
    w->Key("mimeType").String(part.media_type.empty() ? std::string_view("image/png") : std::string_view(part.media_type));
    w->Key("data").String(part.data).EndObject();
    return;
  }
  w->Key("fileData").BeginObject();
  std::string_view mime = part.media_type.empty() ? MimeFromUrl(url) : std::string_view(part.media_type);
  if (!mime.empty()) w->Key("mimeType").String(mime);
  w->Key("fileUri").String(url).EndObject();
}

}  // namespace

simdjson::dom::parser& ClientParser() {
  thread_local simdjson::dom::parser parser = MakeParser(kMaxJsonDepth);
  return parser;
}

simdjson::dom::parser& UpstreamParser() {
  thread_local simdjson::dom::parser parser = MakeParser(kMaxUpstreamDepth);
  return parser;
}

namespace {

std::optional<std::string> Minified(std::string_view json, bool object_only) {
  thread_local simdjson::dom::parser parser = MakeParser(kMaxUpstreamDepth);
  if (json.empty()) return std::nullopt;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) return std::nullopt;
  if (object_only && !doc.is_object()) return std::nullopt;
  return simdjson::minify(doc);
}

}  // namespace

std::optional<std::string> MinifiedObject(std::string_view json) { return Minified(json, true); }

std::optional<std::string> MinifiedValue(std::string_view json) { return Minified(json, false); }

std::string ArgsObject(std::string_view json) {
  auto obj = MinifiedObject(json);
  return obj ? std::move(*obj) : std::string("{}");
}

bool WritePart(json::Writer* w, const chat::Part& part, std::string_view signature) {
  switch (part.kind) {
    case chat::PartKind::kText:
      w->BeginObject().Key("text").String(part.text);
      break;
    case chat::PartKind::kThinking:
      w->BeginObject().Key("text").String(part.text).Key("thought").Bool(true);
      break;
    case chat::PartKind::kToolCall:
      w->BeginObject().Key("functionCall").BeginObject();
      if (!part.id.empty()) w->Key("id").String(part.id);
      w->Key("name").String(part.name).Key("args").Raw(ArgsObject(part.arguments));
      w->EndObject();
      break;
    case chat::PartKind::kImage:
      w->BeginObject();
      WriteImage(w, part);
      break;
    default: return false;
  }
  if (!signature.empty()) w->Key("thoughtSignature").String(signature);
  w->EndObject();
  return true;
}

std::optional<int64_t> GetInt(simdjson::dom::element value) {
  int64_t i = 0;
  if (!value.get_int64().get(i)) return i;
  double d = 0;
  if (!value.get_double().get(d) && std::isfinite(d) && d == std::floor(d) && d >= -9.0e18 && d <= 9.0e18) {
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

std::string PercentEncodeSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (char ch : segment) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string_view BareModel(std::string_view model) {
  if (model.starts_with("models/")) model.remove_prefix(7);
  return model;
}

}  // namespace sy::gemini
