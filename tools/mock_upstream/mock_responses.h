// What mock_upstream answers: the behaviour picked from the request body's
// "model" value, and builders for OpenAI-shaped bodies and SSE frames.
//
// The body is never parsed as a whole: a few keys are found by a plain scan,
// which is all a mock needs and keeps it far cheaper than any gateway.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "mock_http.h"

namespace mock {

// ---------------------------------------------------------------- body scan

inline size_t SkipWs(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// Position just after `"key"` and its colon (and following whitespace) for the
// first occurrence of the key; npos when absent.
inline size_t FindValue(std::string_view body, std::string_view quoted_key) {
  size_t from = 0;
  while (true) {
    size_t at = body.find(quoted_key, from);
    if (at == std::string_view::npos) return at;
    size_t i = SkipWs(body, at + quoted_key.size());
    if (i < body.size() && body[i] == ':') return SkipWs(body, i + 1);
    from = at + 1;
  }
}

// The raw (still JSON-escaped) text of the string value of `quoted_key`; empty if none.
inline std::string_view ScanString(std::string_view body, std::string_view quoted_key) {
  size_t i = FindValue(body, quoted_key);
  if (i == std::string_view::npos || i >= body.size() || body[i] != '"') return {};
  size_t start = ++i;
  while (i < body.size() && body[i] != '"') i += body[i] == '\\' ? 2 : 1;
  if (i > body.size()) return {};
  return body.substr(start, i - start);
}

inline std::string_view ScanModel(std::string_view body) { return ScanString(body, "\"model\""); }

inline bool ScanTrue(std::string_view body, std::string_view quoted_key) {
  size_t i = FindValue(body, quoted_key);
  return i != std::string_view::npos && body.substr(i, 4) == "true";
}

// Number of embedding inputs: a string is one, an array is its length.
inline int ScanInputCount(std::string_view body) {
  size_t i = FindValue(body, "\"input\"");
  if (i == std::string_view::npos || i >= body.size() || body[i] != '[') return 1;
  i = SkipWs(body, i + 1);
  if (i >= body.size() || body[i] == ']') return 0;
  int depth = 1, count = 1;
  bool in_string = false;
  for (; i < body.size() && depth > 0; ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 1) {
      ++count;
    }
  }
  return count;
}

// ---------------------------------------------------------------- behaviour

struct Behaviour {
  enum Kind {
    kNormal, kChunks, kSlow, kDrip, kStatus, kEcho, kGarbage, kClose,
    // Faults (see the list in mock_upstream.cc's header comment):
    kResetHeaders, kResetBody, kResetStream, kEndlessHeaders, kEndlessChunked, kEndlessClose,
    kBadChunkFirst, kBadChunkMid, kSlowBody, kShortStream, kBigStream, kBigBody,
  } kind = kNormal;
  // chunks: N; slow/drip/slow-body: milliseconds; status: code; big-stream: MiB;
  // big-body: bytes
  int a = 0;
  int b = 0;  // drip: chunk count
  bool fault() const { return kind >= kResetHeaders; }
};

inline bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && *out >= 0;
}

inline Behaviour PickBehaviour(std::string_view model) {
  Behaviour b;
  auto prefixed = [&](std::string_view prefix, std::string_view* rest) {
    if (model.substr(0, prefix.size()) != prefix) return false;
    *rest = model.substr(prefix.size());
    return true;
  };
  std::string_view rest;
  static constexpr std::pair<std::string_view, Behaviour::Kind> kFaults[] = {
      {"reset-headers", Behaviour::kResetHeaders},
      {"reset-body", Behaviour::kResetBody},
      {"reset-stream", Behaviour::kResetStream},
      {"endless-headers", Behaviour::kEndlessHeaders},
      {"endless-body-chunked", Behaviour::kEndlessChunked},
      {"endless-body-close", Behaviour::kEndlessClose},
      {"badchunk-first", Behaviour::kBadChunkFirst},
      {"badchunk-mid", Behaviour::kBadChunkMid},
      {"short-stream", Behaviour::kShortStream},
  };
  if (model == "echo") {
    b.kind = Behaviour::kEcho;
    return b;
  }
  for (const auto& [name, kind] : kFaults) {
    if (model == name) {
      b.kind = kind;
      return b;
    }
  }
  if (prefixed("slow-body-", &rest) && ParseInt(rest, &b.a)) {
    b.kind = Behaviour::kSlowBody;
  } else if (prefixed("big-stream-", &rest) && ParseInt(rest, &b.a) && b.a <= 4096) {
    b.kind = Behaviour::kBigStream;
  } else if (prefixed("big-body-", &rest) && ParseInt(rest, &b.a) && b.a <= (1 << 30)) {
    b.kind = Behaviour::kBigBody;
  } else if (model == "garbage") {
    b.kind = Behaviour::kGarbage;
  } else if (model == "close") {
    b.kind = Behaviour::kClose;
  } else if (prefixed("chunks-", &rest) && ParseInt(rest, &b.a)) {
    b.kind = Behaviour::kChunks;
  } else if (prefixed("slow-", &rest) && ParseInt(rest, &b.a)) {
    b.kind = Behaviour::kSlow;
  } else if (prefixed("status-", &rest) && ParseInt(rest, &b.a) && b.a >= 100 && b.a <= 599) {
    b.kind = Behaviour::kStatus;
  } else if (prefixed("drip-", &rest)) {
    // drip-MS (1000 chunks) or drip-MS-COUNT.
    size_t dash = rest.find('-');
    b.b = 1000;
    if (ParseInt(rest.substr(0, dash), &b.a) &&
        (dash == std::string_view::npos || ParseInt(rest.substr(dash + 1), &b.b))) {
      b.kind = Behaviour::kDrip;
    }
  }
  return b;
}

// ---------------------------------------------------------------- JSON text

inline void AppendEscaped(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          *out += kHex[c >> 4];
          *out += kHex[c & 15];
        } else {
          *out += ch;
        }
    }
  }
}

inline std::string Quoted(std::string_view s) {
  std::string out = "\"";
  AppendEscaped(&out, s);
  out += '"';
  return out;
}

// `model` is raw JSON string text as found in the request, so it is emitted as is.
inline std::string ChatBody(std::string_view model, std::string_view content_json) {
  std::string s;
  s.reserve(320 + content_json.size());
  s += R"({"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":")";
  s += model;
  s += R"(","choices":[{"index":0,"message":{"role":"assistant","content":)";
  s += content_json;
  s += R"(},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}})";
  return s;
}

inline std::string CompletionBody(std::string_view model, std::string_view text_json) {
  std::string s;
  s += R"({"id":"cmpl-mock","object":"text_completion","created":1700000000,"model":")";
  s += model;
  s += R"(","choices":[{"text":)";
  s += text_json;
  s += R"(,"index":0,"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}})";
  return s;
}

// Embeddings are 8 fixed floats; with encoding_format "base64" (the openai SDK's
// default) they are sent as base64 of little-endian float32s, as OpenAI does.
inline std::string EmbeddingsBody(std::string_view model, int n, bool base64) {
  std::string s = R"({"object":"list","data":[)";
  for (int i = 0; i < n; ++i) {
    if (i) s += ',';
    s += R"({"object":"embedding","index":)";
    s += std::to_string(i);
    s += base64 ? R"(,"embedding":"AAAAPgAAgL4AAMA+AAAAvwAAID8AAEC/AABgPwAAgL8="})"
                : R"(,"embedding":[0.125,-0.25,0.375,-0.5,0.625,-0.75,0.875,-1.0]})";
  }
  s += R"(],"model":")";
  s += model;
  s += R"(","usage":{"prompt_tokens":)";
  s += std::to_string(n);
  s += R"(,"total_tokens":)";
  s += std::to_string(n);
  s += "}}";
  return s;
}

inline const char* kModelIds[] = {"gpt-4o", "gpt-4o-mini", "text-embedding-3-small", "echo"};

inline std::string ModelObject(std::string_view id) {
  std::string s = R"({"id":")";
  s += id;
  s += R"(","object":"model","created":1700000000,"owned_by":"mock"})";
  return s;
}

inline std::string ModelsBody() {
  std::string s = R"({"object":"list","data":[)";
  bool first = true;
  for (const char* id : kModelIds) {
    if (!first) s += ',';
    first = false;
    s += ModelObject(id);
  }
  s += "]}";
  return s;
}

inline std::string ErrorBody(int code, std::string_view message, std::string_view type) {
  std::string s = R"({"error":{"message":)";
  s += Quoted(message);
  s += R"(,"type":")";
  s += type;
  s += R"(","code":"mock_)";
  s += std::to_string(code);
  s += R"("}})";
  return s;
}

// ---------------------------------------------------------------- SSE frames
// Each SSE event is sent as one HTTP chunk: "<hex size>\r\ndata: {...}\n\n\r\n".

inline void AppendHttpChunk(std::string* out, std::string_view data) {
  char hex[16];
  auto [p, ec] = std::to_chars(hex, hex + sizeof hex, data.size(), 16);
  out->append(hex, p);
  *out += "\r\n";
  *out += data;
  *out += "\r\n";
}

inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Appends one SSE event ("data: " + json + "\n\n") framed as an HTTP chunk.
inline void AppendEvent(std::string* out, std::string_view json) {
  std::string ev;
  ev.reserve(json.size() + 8);
  ev += "data: ";
  ev += json;
  ev += "\n\n";
  AppendHttpChunk(out, ev);
}

inline void AppendDone(std::string* out) { AppendHttpChunk(out, "data: [DONE]\n\n"); }

// Which OpenAI stream a frame belongs to.
enum class StreamKind { kChat, kCompletion };

inline std::string ChunkPrefix(StreamKind kind, std::string_view model) {
  std::string s = kind == StreamKind::kChat
                      ? R"({"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":")"
                      : R"({"id":"cmpl-mock","object":"text_completion","created":1700000000,"model":")";
  s += model;
  s += R"(","choices":[)";
  return s;
}

// The first chat frame: the assistant role with empty content.
inline std::string RoleFrameJson(std::string_view model) {
  std::string j = ChunkPrefix(StreamKind::kChat, model);
  j += R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})";
  return j;
}

inline void AppendRoleFrame(std::string* out, std::string_view model) { AppendEvent(out, RoleFrameJson(model)); }

// One content frame; `text_json` is a JSON string literal including its quotes.
inline std::string ContentFrameJson(StreamKind kind, std::string_view model, std::string_view text_json) {
  std::string j = ChunkPrefix(kind, model);
  if (kind == StreamKind::kChat) {
    j += R"({"index":0,"delta":{"content":)";
    j += text_json;
    j += R"(},"logprobs":null,"finish_reason":null}]})";
  } else {
    j += R"({"text":)";
    j += text_json;
    j += R"(,"index":0,"logprobs":null,"finish_reason":null}]})";
  }
  return j;
}

inline void AppendContentFrame(std::string* out, StreamKind kind, std::string_view model,
                               std::string_view text_json) {
  AppendEvent(out, ContentFrameJson(kind, model, text_json));
}

// One SSE event without HTTP chunk framing (for a body framed by Content-Length).
inline void AppendSseEvent(std::string* out, std::string_view json) {
  *out += "data: ";
  *out += json;
  *out += "\n\n";
}

// The closing frames: finish_reason "stop", the usage frame when asked for, [DONE].
inline void AppendFinish(std::string* out, StreamKind kind, std::string_view model,
                         bool include_usage, int completion_tokens) {
  std::string j = ChunkPrefix(kind, model);
  j += kind == StreamKind::kChat
           ? R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]})"
           : R"({"text":"","index":0,"logprobs":null,"finish_reason":"stop"}]})";
  AppendEvent(out, j);
  if (include_usage) {
    std::string u = ChunkPrefix(kind, model);
    u += R"(],"usage":{"prompt_tokens":5,"completion_tokens":)";
    u += std::to_string(completion_tokens);
    u += R"(,"total_tokens":)";
    u += std::to_string(5 + completion_tokens);
    u += "}}";
    AppendEvent(out, u);
  }
  AppendDone(out);
}

// The five content pieces of an ordinary stream; joined: "Hello from mock stream."
inline constexpr std::string_view kStreamPieces[] = {"\"Hello\"", "\" from\"", "\" mock\"",
                                                     "\" stream\"", "\".\""};

inline std::string TokenJson(int i) { return "\"tok" + std::to_string(i) + "\""; }

inline constexpr std::string_view kStreamHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    "Transfer-Encoding: chunked\r\n";

// A complete non-streamed response with its head.
inline std::string FullResponse(int status, std::string_view reason, std::string_view body,
                                bool keep_alive, std::string_view extra_headers = {}) {
  std::string s;
  s.reserve(body.size() + 160);
  s += "HTTP/1.1 ";
  s += std::to_string(status);
  s += ' ';
  s += reason;
  s += "\r\nContent-Type: application/json\r\nContent-Length: ";
  s += std::to_string(body.size());
  s += "\r\n";
  s += extra_headers;
  if (!keep_alive) s += "Connection: close\r\n";
  s += "\r\n";
  s += body;
  return s;
}

inline std::string_view Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

}  // namespace mock
