// Fuzzes the Ollama front door (frontdoor/ollama) on request bodies, for each
// endpoint shape (chat, generate, embed, legacy embeddings).
//
// Invariants, checked with the real simdjson:
//   - Peek either rejects with a message, or accepts with model_span inside
//     raw_body on the JSON string token that decodes to request.model, and
//     the operation/shape the endpoint implies;
//   - ParseChat / ParseEmbed / LoadReply never crash; a rejection carries a
//     message; LoadReply's body is a JSON object;
//   - for a parsed chat request: the OllamaCodec request built from it (with
//     and without drop_params) is a JSON object when it succeeds, and the
//     whole-response and NDJSON stream bodies written for it are JSON
//     objects (one per line, each line ending in "\n");
//   - ShowRequestModel never crashes and never returns an empty model.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "frontdoor/ollama/ollama_frontdoor.h"
#include "provider/ollama/ollama_codec.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

simdjson::dom::parser& Checker() {
  static simdjson::dom::parser parser;
  return parser;
}

void CheckObject(std::string_view json) {
  simdjson::dom::object obj;
  Check(Checker().parse(json.data(), json.size()).get_object().get(obj) == simdjson::SUCCESS);
}

void CheckLines(const std::string& out) {
  size_t start = 0;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    Check(nl != std::string::npos);
    CheckObject(std::string_view(out).substr(start, nl - start));
    start = nl + 1;
  }
}

// A response that echoes what the request holds: its texts, its tool calls.
sy::chat::Response EchoResponse(const sy::chat::Request& req) {
  sy::chat::Response r;
  for (const auto& m : req.messages) {
    for (const auto& p : m.parts) {
      if (p.kind == sy::chat::PartKind::kText || p.kind == sy::chat::PartKind::kToolCall ||
          p.kind == sy::chat::PartKind::kThinking) {
        r.content.push_back(p);
      }
    }
  }
  r.finish = req.max_tokens ? sy::chat::FinishReason::kLength : sy::chat::FinishReason::kStop;
  return r;
}

void CheckStream(const sy::ollama::OllamaFrontDoor& door, const sy::InternalRequest& req, const sy::chat::Request& chat,
                 const sy::chat::Response& response) {
  auto enc = door.NewStreamEncoder(req, chat);
  std::string out;
  sy::chat::StreamEvent start;
  start.kind = sy::chat::EventKind::kStart;
  enc->Encode(start, &out);
  int index = 0;
  for (const auto& p : response.content) {
    sy::chat::StreamEvent e;
    e.index = index;
    if (p.kind == sy::chat::PartKind::kToolCall) {
      e.kind = sy::chat::EventKind::kToolCallStart;
      e.id = p.id;
      e.name = p.name;
      enc->Encode(e, &out);
      e.kind = sy::chat::EventKind::kToolCallDelta;
      e.text = p.arguments.substr(0, p.arguments.size() / 2);  // truncated arguments too
      enc->Encode(e, &out);
      e.kind = sy::chat::EventKind::kToolCallEnd;
      enc->Encode(e, &out);
      ++index;
    } else {
      e.kind =
          p.kind == sy::chat::PartKind::kText ? sy::chat::EventKind::kTextDelta : sy::chat::EventKind::kReasoningDelta;
      e.text = p.text;
      enc->Encode(e, &out);
    }
  }
  sy::chat::StreamEvent finish;
  finish.kind = sy::chat::EventKind::kFinish;
  finish.finish = response.finish;
  enc->Encode(finish, &out);
  CheckLines(out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  static const sy::ollama::OllamaFrontDoor door([] { return int64_t{1714564800123456789}; });
  static const sy::ollama::OllamaCodec codec;

  for (int shape :
       {sy::ollama::kShapeChat, sy::ollama::kShapeGenerate, sy::ollama::kShapeEmbed, sy::ollama::kShapeEmbeddings}) {
    sy::FrontDoorInput in;
    in.shape = shape;
    in.body = body;
    auto peeked = door.Peek(std::move(in));
    if (auto* error = std::get_if<sy::GatewayError>(&peeked)) {
      Check(!error->message.empty());
      continue;
    }
    const auto& req = std::get<sy::InternalRequest>(peeked);
    const bool is_chat = shape == sy::ollama::kShapeChat || shape == sy::ollama::kShapeGenerate;
    Check(req.shape == shape && req.raw_body == body && !req.model.empty());
    Check(req.operation == (is_chat ? sy::Operation::kChatCompletions : sy::Operation::kEmbeddings));
    Check(is_chat || !req.stream);
    Check(req.model_span.begin < req.model_span.end && req.model_span.end <= body.size());
    const std::string token = body.substr(req.model_span.begin, req.model_span.end - req.model_span.begin);
    std::string_view decoded;
    Check(Checker().parse(token).get_string().get(decoded) == simdjson::SUCCESS);
    Check(decoded == req.model);

    if (auto load = door.LoadReply(req)) CheckObject(*load);

    if (!is_chat) {
      sy::chat::EmbedRequest embed;
      if (auto err = door.ParseEmbed(req, &embed)) {
        Check(!err->message.empty());
        continue;
      }
      Check(!embed.inputs.empty());
      auto call = codec.EncodeEmbed(embed, "up\"model");
      Check(std::holds_alternative<sy::UpstreamCall>(call));
      CheckObject(std::get<sy::UpstreamCall>(call).body);
      sy::chat::EmbedResponse er;
      er.vectors.push_back({0.5, -1.0});
      CheckObject(door.EncodeEmbed(req, er));
      continue;
    }

    sy::chat::Request chat;
    if (auto err = door.ParseChat(req, &chat)) {
      Check(!err->message.empty());
      continue;
    }
    Check(chat.model == req.model && chat.stream == req.stream);
    for (bool drop : {false, true}) {
      sy::CodecOptions options;
      options.drop_params = drop;
      auto call = codec.EncodeChat(chat, "up\"model", options);
      if (auto* up = std::get_if<sy::UpstreamCall>(&call)) {
        CheckObject(up->body);
      } else {
        Check(!drop && !std::get<sy::GatewayError>(call).message.empty());
      }
    }
    const sy::chat::Response response = EchoResponse(chat);
    CheckObject(door.EncodeResponse(req, response));
    CheckStream(door, req, chat, response);
  }

  auto show = door.ShowRequestModel(body);
  if (auto* model = std::get_if<std::string>(&show)) Check(!model->empty());
  return 0;
}
