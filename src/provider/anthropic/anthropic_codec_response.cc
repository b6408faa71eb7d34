// AnthropicCodec: answers of an Anthropic Messages upstream (JSON bodies).
#include <simdjson.h>

#include "frontdoor/anthropic/anthropic_wire.h"
#include "provider/anthropic/anthropic_codec.h"

namespace sy::anthropic {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

GatewayError Malformed(std::string what) {
  return MakeError(ErrorCode::kProviderError, "The upstream returned a malformed Anthropic response.", std::move(what));
}

std::string_view Str(object obj, std::string_view key) {
  std::string_view s;
  if (obj[key].get_string().get(s)) return {};
  return s;
}

int64_t Int(object obj, std::string_view key) {
  int64_t v = 0;
  if (obj[key].get_int64().get(v)) return 0;
  return v;
}

}  // namespace

std::variant<chat::Response, GatewayError> AnthropicCodec::DecodeChat(std::string_view body) const {
  object obj;
  if (Parser().parse(body.data(), body.size()).get_object().get(obj)) return Malformed("body is not a JSON object");
  if (Str(obj, "type") == "error") {
    object error;
    if (obj["error"].get_object().get(error)) return Malformed("error without an error object");
    return MakeError(ErrorCodeForType(Str(error, "type")), std::string(Str(error, "message")));
  }
  chat::Response r;
  r.id = std::string(Str(obj, "id"));
  r.model = std::string(Str(obj, "model"));
  simdjson::dom::array content;
  if (!obj["content"].get_array().get(content)) {
    for (element el : content) {
      object block;
      if (el.get_object().get(block)) return Malformed("content block is not an object");
      std::string_view type = Str(block, "type");
      chat::Part p;
      if (type == "text") {
        p.text = std::string(Str(block, "text"));
        if (p.text.empty()) continue;
      } else if (type == "thinking") {
        p.kind = chat::PartKind::kThinking;
        p.text = std::string(Str(block, "thinking"));
        p.signature = std::string(Str(block, "signature"));
      } else if (type == "redacted_thinking") {
        p.kind = chat::PartKind::kRedactedThinking;
        p.signature = std::string(Str(block, "data"));
      } else if (type == "tool_use") {
        p.kind = chat::PartKind::kToolCall;
        p.id = std::string(Str(block, "id"));
        p.name = std::string(Str(block, "name"));
        object input;
        p.arguments = block["input"].get_object().get(input) ? "{}" : simdjson::minify(input);
      } else {
        continue;  // server tool blocks and newer types have no internal form
      }
      r.content.push_back(std::move(p));
    }
  }
  bool has_tool_calls = false;
  for (const auto& p : r.content) has_tool_calls = has_tool_calls || p.kind == chat::PartKind::kToolCall;
  r.finish = ParseStopReason(Str(obj, "stop_reason"), has_tool_calls);
  r.stop_sequence = std::string(Str(obj, "stop_sequence"));
  object usage;
  if (!obj["usage"].get_object().get(usage)) {
    r.usage = UsageFromWire(Int(usage, "input_tokens"), Int(usage, "cache_read_input_tokens"),
                            Int(usage, "cache_creation_input_tokens"), Int(usage, "output_tokens"));
  }
  return r;
}

std::variant<chat::EmbedResponse, GatewayError> AnthropicCodec::DecodeEmbed(std::string_view body) const {
  return MakeError(ErrorCode::kProviderError, "providers of type anthropic have no embeddings endpoint");
}

std::optional<int64_t> AnthropicCodec::DecodeCountTokens(std::string_view body) const {
  object obj;
  int64_t n = 0;
  if (Parser().parse(body.data(), body.size()).get_object().get(obj) || obj["input_tokens"].get_int64().get(n) || n < 0) {
    return std::nullopt;
  }
  return n;
}

std::string AnthropicCodec::ErrorMessage(std::string_view body) const {
  object obj;
  if (!Parser().parse(body.data(), body.size()).get_object().get(obj)) {
    object error;
    std::string_view message;
    if (!obj["error"].get_object().get(error) && !error["message"].get_string().get(message)) {
      return std::string(message);
    }
    if (!obj["message"].get_string().get(message)) return std::string(message);
  }
  constexpr size_t kMaxPrefix = 200;
  if (body.size() <= kMaxPrefix) return std::string(body);
  size_t cut = kMaxPrefix;
  while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
  return std::string(body.substr(0, cut));
}

}  // namespace sy::anthropic
