// Fuzzes the typed parse of OpenAI requests (OpenAiFrontDoor::ParseChat and
// ParseEmbed, after Peek) and what is built from a parsed request.
//
// For chat, legacy completions and embeddings bodies:
//   - a rejection is a 400 with a message;
//   - a parsed chat request encodes for an OpenAI upstream (OpenAiCodec,
//     drop_params) into valid JSON; a response and a stream built from its
//     parts encode into valid JSON / SSE chunks of valid JSON ending in [DONE].
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "frontdoor/openai/openai_chat.h"
#include "provider/openai/openai_codec.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

simdjson::dom::parser& Checker() {
  static simdjson::dom::parser parser;
  return parser;
}

void CheckJson(std::string_view json) {
  simdjson::dom::element e;
  Check(Checker().parse(json.data(), json.size()).get(e) == simdjson::SUCCESS);
}

// Every event of an SSE body is "data: <valid JSON>" or "data: [DONE]".
void CheckSse(const std::string& sse, bool done_expected) {
  size_t pos = 0;
  bool done = false;
  while (pos < sse.size()) {
    size_t end = sse.find("\n\n", pos);
    Check(end != std::string::npos);
    std::string_view event(sse.data() + pos, end - pos);
    Check(event.substr(0, 6) == "data: ");
    Check(!done);
    if (event.substr(6) == "[DONE]") {
      done = true;
    } else {
      CheckJson(event.substr(6));
    }
    pos = end + 2;
  }
  Check(done == done_expected);
}

const sy::openai::OpenAiFrontDoor& Door() {
  static const sy::openai::OpenAiFrontDoor door([] { return int64_t{1}; });
  return door;
}

void FuzzChat(const sy::InternalRequest& req) {
  sy::chat::Request typed;
  if (auto err = Door().ParseChat(req, &typed)) {
    Check(err->code == sy::ErrorCode::kBadRequest && !err->message.empty());
    return;
  }
  sy::openai::OpenAiCodec codec;
  auto call = codec.EncodeChat(typed, "up\"model", sy::CodecOptions{true});
  Check(std::holds_alternative<sy::UpstreamCall>(call));
  CheckJson(std::get<sy::UpstreamCall>(call).body);

  // Echo the request's parts as an answer, in one piece and as a stream.
  sy::chat::Response response;
  response.id = typed.user;
  for (const auto& m : typed.messages) {
    for (const auto& p : m.parts) response.content.push_back(p);
  }
  response.finish = static_cast<sy::chat::FinishReason>(typed.messages.size() % 9);
  CheckJson(Door().EncodeResponse(req, response));

  auto encoder = Door().NewStreamEncoder(req, typed);
  std::string sse;
  sy::chat::StreamEvent start;
  start.kind = sy::chat::EventKind::kStart;
  start.id = typed.user;
  encoder->Encode(start, &sse);
  int index = 0;
  for (const auto& p : response.content) {
    sy::chat::StreamEvent e;
    if (p.kind == sy::chat::PartKind::kToolCall) {
      e.kind = sy::chat::EventKind::kToolCallStart;
      e.index = index;
      e.id = p.id;
      e.name = p.name;
      encoder->Encode(e, &sse);
      e.kind = sy::chat::EventKind::kToolCallDelta;
      e.text = p.arguments;
      encoder->Encode(e, &sse);
      e.kind = sy::chat::EventKind::kToolCallEnd;
      encoder->Encode(e, &sse);
      ++index;
    } else {
      e.kind = p.kind == sy::chat::PartKind::kThinking ? sy::chat::EventKind::kReasoningDelta
                                                        : sy::chat::EventKind::kTextDelta;
      e.text = p.text;
      encoder->Encode(e, &sse);
    }
  }
  sy::chat::StreamEvent finish;
  finish.kind = sy::chat::EventKind::kFinish;
  finish.finish = response.finish;
  encoder->Encode(finish, &sse);
  CheckSse(sse, true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  for (auto op : {sy::Operation::kChatCompletions, sy::Operation::kCompletions, sy::Operation::kEmbeddings}) {
    sy::FrontDoorInput in;
    in.operation = op;
    in.body = body;
    auto peeked = Door().Peek(std::move(in));
    if (auto* err = std::get_if<sy::GatewayError>(&peeked)) {
      Check(!err->message.empty());
      continue;
    }
    const auto& req = std::get<sy::InternalRequest>(peeked);
    if (op == sy::Operation::kEmbeddings) {
      sy::chat::EmbedRequest embed;
      if (auto err = Door().ParseEmbed(req, &embed)) {
        Check(err->code == sy::ErrorCode::kBadRequest && !err->message.empty());
        continue;
      }
      Check(!embed.inputs.empty());
      sy::openai::OpenAiCodec codec;
      auto call = codec.EncodeEmbed(embed, "m");
      Check(std::holds_alternative<sy::UpstreamCall>(call));
      CheckJson(std::get<sy::UpstreamCall>(call).body);
      continue;
    }
    FuzzChat(req);
  }
  return 0;
}
