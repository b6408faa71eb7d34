// Fuzzes the Gemini front door (Peek, ParseChat, ParseEmbed) on request
// bodies, and the Gemini codec's request encoders on what ParseChat accepts.
//
// For each operation and shape:
//   - a rejection carries a message, and a 400's param (when set) is not empty;
//   - an accepted Peek keeps the body as it is, takes the model from the path,
//     leaves model_span empty and streams only generateContent;
//   - a request ParseChat accepts has only the roles and parts the internal
//     model allows (tool results in kTool messages, calls in assistant ones,
//     tool-call arguments an object text), and EncodeChat / EncodeCountTokens
//     of the Gemini codec turn it into valid JSON with no empty
//     functionResponse name;
//   - ParseEmbed yields at least one input.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

#include "frontdoor/gemini/gemini_frontdoor.h"
#include "provider/gemini/gemini_codec.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckError(const sy::GatewayError& e) {
  Check(!e.message.empty());
  if (e.param) Check(!e.param->empty());
}

bool IsObjectText(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element doc;
  return parser.parse(text).get(doc) == simdjson::SUCCESS && doc.is_object();
}

void CheckChat(const sy::chat::Request& r) {
  static simdjson::dom::parser parser;
  for (const auto& m : r.messages) {
    Check(!m.parts.empty());
    Check(m.role != sy::chat::Role::kSystem);
    for (const auto& p : m.parts) {
      if (p.kind == sy::chat::PartKind::kToolResult) Check(m.role == sy::chat::Role::kTool && !p.id.empty());
      if (m.role == sy::chat::Role::kTool) Check(p.kind == sy::chat::PartKind::kToolResult);
      if (p.kind == sy::chat::PartKind::kToolCall) {
        Check(m.role == sy::chat::Role::kAssistant && !p.id.empty() && !p.name.empty());
        Check(IsObjectText(parser, p.arguments));
      }
    }
  }
  for (const auto& t : r.tools) Check(!t.name.empty() && IsObjectText(parser, t.parameters));
}

size_t Count(simdjson::dom::array parts, std::string_view key) {
  size_t n = 0;
  for (auto part : parts) {
    simdjson::dom::element v;
    if (part[key].get(v) == simdjson::SUCCESS) ++n;
  }
  return n;
}

// Valid JSON; for a contents array: roles alternate, every functionResponse
// has a name, and each model turn's calls are answered in the next content.
void CheckEncoded(const std::string& body) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  Check(parser.parse(body).get(doc) == simdjson::SUCCESS);
  simdjson::dom::array contents;
  if (doc["contents"].get_array().get(contents) != simdjson::SUCCESS &&
      doc["generateContentRequest"]["contents"].get_array().get(contents) != simdjson::SUCCESS) {
    return;
  }
  std::string_view previous_role;
  size_t open_calls = 0;
  for (auto content : contents) {
    std::string_view role;
    Check(content["role"].get_string().get(role) == simdjson::SUCCESS);
    Check(role != previous_role);
    previous_role = role;
    simdjson::dom::array parts;
    Check(content["parts"].get_array().get(parts) == simdjson::SUCCESS && parts.size() > 0);
    for (auto part : parts) {
      simdjson::dom::element fr;
      if (part["functionResponse"].get(fr) != simdjson::SUCCESS) continue;
      std::string_view name;
      Check(fr["name"].get_string().get(name) == simdjson::SUCCESS && !name.empty());
      simdjson::dom::object response;
      Check(fr["response"].get_object().get(response) == simdjson::SUCCESS);
    }
    if (role == "user") Check(Count(parts, "functionResponse") >= open_calls);
    open_calls = role == "model" ? Count(parts, "functionCall") : 0;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  sy::gemini::GeminiFrontDoor fd;
  sy::gemini::GeminiCodec codec;
  struct Case {
    sy::Operation op;
    int shape;
    bool stream;
  };
  const Case cases[] = {
      {sy::Operation::kChatCompletions, sy::gemini::kShapeDefault, false},
      {sy::Operation::kChatCompletions, sy::gemini::kShapeStreamJsonArray, true},
      {sy::Operation::kCountTokens, sy::gemini::kShapeDefault, false},
      {sy::Operation::kEmbeddings, sy::gemini::kShapeEmbedContent, false},
      {sy::Operation::kEmbeddings, sy::gemini::kShapeBatchEmbed, false},
  };
  for (const Case& c : cases) {
    sy::FrontDoorInput in;
    in.operation = c.op;
    in.shape = c.shape;
    in.path_model = "gemini-2.5-flash";
    in.path_stream = c.stream;
    in.body = body;
    auto peeked = fd.Peek(std::move(in));
    if (auto* e = std::get_if<sy::GatewayError>(&peeked)) {
      CheckError(*e);
      continue;
    }
    const auto& req = std::get<sy::InternalRequest>(peeked);
    Check(req.raw_body == body && req.model == "gemini-2.5-flash" && req.model_span.empty());
    Check(req.stream == (c.op == sy::Operation::kChatCompletions && c.stream));
    Check(req.wire == sy::WireProtocol::kGemini && req.shape == c.shape);

    if (c.op == sy::Operation::kEmbeddings) {
      sy::chat::EmbedRequest embed;
      if (auto e = fd.ParseEmbed(req, &embed)) {
        CheckError(*e);
      } else {
        Check(!embed.inputs.empty());
        auto call = codec.EncodeEmbed(embed, "m");
        Check(std::holds_alternative<sy::UpstreamCall>(call));
        CheckEncoded(std::get<sy::UpstreamCall>(call).body);
      }
      continue;
    }
    sy::chat::Request chat;
    if (auto e = fd.ParseChat(req, &chat)) {
      CheckError(*e);
      continue;
    }
    CheckChat(chat);
    sy::chat::FillToolResultNames(&chat);
    auto call = codec.EncodeChat(chat, "models/gemini x", sy::CodecOptions{true});
    Check(std::holds_alternative<sy::UpstreamCall>(call));
    CheckEncoded(std::get<sy::UpstreamCall>(call).body);
    auto count = codec.EncodeCountTokens(chat, "gemini");
    Check(count.has_value());
    CheckEncoded(count->body);
  }
  return 0;
}
