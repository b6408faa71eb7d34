// Fuzzes the Rust LLM Inference Service's front door (frontdoor/llmservice)
// on request bodies, for each shape (chat, completion, WebSocket message),
// and the local engine's answer parser (local::ParseWorkerEvent) and the
// socket framing (TakeSocketPieces) on the same bytes.
//
// Invariants, checked with the real simdjson:
//   - Peek rejects with a message, or accepts with the operation of its
//     shape, a non-empty model, and never for passthrough;
//   - ParseChat rejects with a message, or gives one last user message and
//     (chat shapes) a valid session id and the seed's defaults filled in;
//   - the stream encoder on the parsed request writes SSE whose data lines
//     rejoin to the text fed in (chat, completion), or netstrings that split
//     back into exactly the pieces fed in (socket);
//   - EncodeResponse and EncodeError are JSON objects;
//   - ParseWorkerEvent never crashes; an accepted `done` has non-negative
//     counts and tool calls with argument text;
//   - TakeSocketPieces: pieces encoded and split at any point come back
//     whole and in order.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "frontdoor/llmservice/llmservice_frontdoor.h"
#include "local/protocol.h"
#include "local/session_book.h"
#include "sse/sse_parser.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckObject(std::string_view json) {
  static simdjson::dom::parser parser;
  simdjson::dom::object obj;
  Check(parser.parse(json.data(), json.size()).get_object().get(obj) == simdjson::SUCCESS);
}

using sy::llmservice::LlmServiceFrontDoor;

void Door(std::string_view body, int shape) {
  static const LlmServiceFrontDoor door;
  sy::FrontDoorInput input;
  input.shape = shape;
  input.operation = shape == sy::llmservice::kShapeCompletion ? sy::Operation::kCompletions
                                                              : sy::Operation::kChatCompletions;
  input.body = std::string(body);
  auto peeked = door.Peek(std::move(input));
  if (auto* e = std::get_if<sy::GatewayError>(&peeked)) {
    Check(!e->message.empty());
    CheckObject(door.EncodeError(*e).body);
    return;
  }
  const sy::InternalRequest& req = std::get<sy::InternalRequest>(peeked);
  Check(!req.model.empty());
  Check(!req.passthrough_ok);
  Check(req.operation == (shape == sy::llmservice::kShapeCompletion ? sy::Operation::kCompletions
                                                                    : sy::Operation::kChatCompletions));
  sy::chat::Request chat;
  if (auto e = door.ParseChat(req, &chat)) {
    Check(!e->message.empty());
    return;
  }
  Check(!chat.messages.empty() && chat.messages.back().role == sy::chat::Role::kUser);
  Check(chat.max_tokens && *chat.max_tokens >= 1);
  if (shape != sy::llmservice::kShapeCompletion) {
    Check(sy::local::SessionBook::ValidId(chat.session));
    Check(chat.top_k.has_value() && chat.repeat_penalty.has_value());
  }
  // The stream of three pieces, one with a line break.
  const std::vector<std::string> pieces = {"a", "b\nc", std::string(body.substr(0, 8))};
  auto encoder = door.NewStreamEncoder(req, chat);
  std::string out;
  for (const auto& p : pieces) {
    sy::chat::StreamEvent ev;
    ev.kind = sy::chat::EventKind::kTextDelta;
    ev.text = p;
    encoder->Encode(ev, &out);
  }
  std::string expected;
  for (const auto& p : pieces) expected += p;
  if (shape == sy::llmservice::kShapeSocket) {
    std::vector<std::string> got;
    Check(sy::llmservice::TakeSocketPieces(&out, &got));
    Check(out.empty());
    std::string joined;
    for (const auto& g : got) joined += g;
    Check(joined == expected);
  } else {
    std::string joined;
    sy::sse::Parser parser([&](const sy::sse::Event& e) { joined += e.data; });
    parser.Feed(out);
    // Pieces with line breaks come back as several data lines joined by
    // "\n"; CR LF and CR are sent as LF.
    std::string lf;
    for (const auto& p : pieces) {
      for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] != '\r') lf.push_back(p[i]);
        else if (i + 1 >= p.size() || p[i + 1] != '\n') lf.push_back('\n');
      }
    }
    Check(joined == lf);
  }
  sy::chat::Response response;
  sy::chat::Part part;
  part.text = std::string(body.substr(0, 16));
  response.content.push_back(part);
  response.usage.emplace();
  CheckObject(door.EncodeResponse(req, response));
}

void Worker(std::string_view line) {
  sy::local::WorkerEvent ev;
  if (!sy::local::ParseWorkerEvent(line, &ev)) return;
  if (ev.kind == sy::local::WorkerEvent::Kind::kDone) {
    for (const auto& call : ev.tool_calls) Check(!call.arguments.empty());
  }
  if (ev.kind == sy::local::WorkerEvent::Kind::kError) (void)sy::local::ErrorOf(ev);
}

void Socket(std::string_view data) {
  // Split the bytes into pieces at every 0x00, encode, split the encoding at
  // a point the data chooses, and take the pieces back.
  std::vector<std::string> pieces;
  size_t start = 0;
  for (size_t i = 0; i <= data.size(); ++i) {
    if (i == data.size() || data[i] == '\0') {
      pieces.emplace_back(data.substr(start, i - start));
      start = i + 1;
    }
  }
  std::string encoded;
  for (const auto& p : pieces) sy::llmservice::EncodeSocketPiece(p, &encoded);
  const size_t cut = data.empty() ? 0 : static_cast<unsigned char>(data[0]) % (encoded.size() + 1);
  std::string buffer = encoded.substr(0, cut);
  std::vector<std::string> got;
  Check(sy::llmservice::TakeSocketPieces(&buffer, &got));
  buffer += encoded.substr(cut);
  Check(sy::llmservice::TakeSocketPieces(&buffer, &got));
  Check(buffer.empty());
  Check(got == pieces);
  // Arbitrary bytes: never a crash.
  std::string raw(data);
  std::vector<std::string> any;
  (void)sy::llmservice::TakeSocketPieces(&raw, &any);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (int shape : {sy::llmservice::kShapeChat, sy::llmservice::kShapeCompletion, sy::llmservice::kShapeSocket}) {
    Door(body, shape);
  }
  Worker(body);
  Socket(body);
  (void)sy::llmservice::IsLlmServiceChat(body);
  return 0;
}
