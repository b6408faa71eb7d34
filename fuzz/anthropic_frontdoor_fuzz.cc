// Fuzzes the Anthropic front door (Peek + ParseChat) on request bodies, and
// the Anthropic codec's EncodeChat/EncodeCountTokens on what ParseChat
// accepts.
//
// For kChatCompletions and kCountTokens: when Peek accepts the body,
//   - raw_body is the body and model_span is the JSON string token whose
//     value is request.model;
//   - count_tokens never streams;
// when ParseChat accepts it too, the codec's request bodies are valid JSON
// objects, and the estimate is not negative. Every rejection carries a
// message. Checked with the real simdjson.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "frontdoor/anthropic/anthropic_frontdoor.h"
#include "provider/anthropic/anthropic_codec.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckObject(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::object obj;
  Check(parser.parse(json).get_object().get(obj) == simdjson::SUCCESS);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  static const sy::anthropic::AnthropicFrontDoor door;
  static const sy::anthropic::AnthropicCodec codec;
  static simdjson::dom::parser checker;
  for (auto op : {sy::Operation::kChatCompletions, sy::Operation::kCountTokens}) {
    sy::FrontDoorInput input;
    input.operation = op;
    input.body = body;
    auto peeked = door.Peek(std::move(input));
    if (auto* error = std::get_if<sy::GatewayError>(&peeked)) {
      Check(!error->message.empty());
      continue;
    }
    const auto& req = std::get<sy::InternalRequest>(peeked);
    Check(req.operation == op && req.raw_body == body && !req.model.empty());
    Check(op == sy::Operation::kChatCompletions || !req.stream);
    Check(req.model_span.begin < req.model_span.end && req.model_span.end <= body.size());
    const std::string token = body.substr(req.model_span.begin, req.model_span.end - req.model_span.begin);
    std::string_view decoded;
    Check(checker.parse(token).get_string().get(decoded) == simdjson::SUCCESS);
    Check(decoded == req.model);

    sy::chat::Request chat;
    if (auto error = door.ParseChat(req, &chat)) {
      Check(!error->message.empty() && error->code == sy::ErrorCode::kBadRequest);
      continue;
    }
    Check(chat.model == req.model && sy::chat::EstimateTokens(chat) >= 0);
    for (bool drop : {false, true}) {
      auto call = codec.EncodeChat(chat, "up\"model", sy::CodecOptions{drop});
      if (auto* c = std::get_if<sy::UpstreamCall>(&call)) {
        CheckObject(checker, c->body);
      } else {
        Check(!drop);
      }
    }
    auto count = codec.EncodeCountTokens(chat, "m");
    Check(count.has_value());
    CheckObject(checker, count->body);
  }
  return 0;
}
