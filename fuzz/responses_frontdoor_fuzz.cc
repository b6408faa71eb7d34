// Fuzzes the OpenAI Responses front door (src/frontdoor/responses/).
//
// 1. The input as a request body: Peek, then ParseChat when Peek accepts.
//    - rejections are kBadRequest with a message;
//    - an accepted body keeps raw_body, and model_span is the JSON string
//      token that decodes to request.model;
//    - a parsed request has tool calls with an id, a name and arguments, and
//      only text in the system prompt; echoing its assistant parts through
//      EncodeResponse gives a JSON object.
// 2. The input as a sequence of internal stream events (decoded with
//    FuzzedDataProvider; texts valid UTF-8, as decoders produce them) fed to
//    a stream encoder. The bytes written are
//    named SSE events whose data is a JSON object with "type" = the event
//    name and sequence_number counting from 0; they start with
//    response.created, response.in_progress; output_index is dense; content
//    events name an added, unfinished item of the right type; exactly one
//    terminal event ends the stream iff kFinish or kError came, and nothing
//    is written after it.
#include <fuzzer/FuzzedDataProvider.h>
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "frontdoor/responses/responses_frontdoor.h"
#include "sse/sse_parser.h"

namespace {

using sy::chat::EventKind;

void Check(bool ok) {
  if (!ok) std::abort();
}

simdjson::dom::parser& Checker() {
  static simdjson::dom::parser parser;
  return parser;
}

const sy::responses::ResponsesFrontDoor& Door() {
  static const sy::responses::ResponsesFrontDoor door;
  return door;
}

void FuzzRequest(const std::string& body) {
  sy::FrontDoorInput in;
  in.body = body;
  auto peeked = Door().Peek(std::move(in));
  if (auto* error = std::get_if<sy::GatewayError>(&peeked)) {
    Check(error->code == sy::ErrorCode::kBadRequest && !error->message.empty());
    return;
  }
  const auto& req = std::get<sy::InternalRequest>(peeked);
  Check(req.raw_body == body && !req.model.empty() && req.wire == sy::WireProtocol::kOpenAIResponses);
  Check(req.model_span.begin < req.model_span.end && req.model_span.end <= body.size());
  const std::string token = body.substr(req.model_span.begin, req.model_span.end - req.model_span.begin);
  std::string_view decoded;
  Check(Checker().parse(token).get_string().get(decoded) == simdjson::SUCCESS && decoded == req.model);

  sy::chat::Request chat;
  if (auto error = Door().ParseChat(req, &chat)) {
    Check(error->code == sy::ErrorCode::kBadRequest && !error->message.empty());
    return;
  }
  Check(chat.model == req.model && chat.stream == req.stream);
  for (const auto& p : chat.system) Check(p.kind == sy::chat::PartKind::kText);
  sy::chat::Response response;
  for (const auto& m : chat.messages) {
    for (const auto& p : m.parts) {
      if (p.kind == sy::chat::PartKind::kToolCall) Check(!p.id.empty() && !p.name.empty() && !p.arguments.empty());
      if (m.role == sy::chat::Role::kAssistant) response.content.push_back(p);
    }
  }
  for (const auto& t : chat.tools) Check(!t.name.empty() && !t.parameters.empty());
  const std::string encoded = Door().EncodeResponse(req, response);
  simdjson::dom::object obj;
  Check(Checker().parse(encoded).get_object().get(obj) == simdjson::SUCCESS);
}

sy::InternalRequest StreamRequest() {
  sy::FrontDoorInput in;
  in.body = R"({"model":"m","input":"x","stream":true,"tools":[{"type":"function","name":"f"},)"
            R"({"type":"custom","name":"apply_patch"},)"
            R"({"type":"namespace","name":"ns","tools":[{"type":"function","name":"g"}]}]})";
  return std::get<sy::InternalRequest>(Door().Peek(std::move(in)));
}

// Event texts come from decoded JSON, so they are valid UTF-8: map the
// fuzzer's high bytes to a two-byte character.
std::string Utf8(std::string s) {
  std::string out;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x80) {
      out.push_back(c);
    } else {
      out += "\xc3\xa9";
    }
  }
  return out;
}

std::vector<sy::chat::StreamEvent> DecodeEvents(const uint8_t* data, size_t size, bool* terminal) {
  static const char* const kNames[] = {"f", "apply_patch", "ns__g", "unknown"};
  FuzzedDataProvider fdp(data, size);
  std::vector<sy::chat::StreamEvent> events;
  *terminal = false;
  while (fdp.remaining_bytes() > 0 && events.size() < 64) {  // longer programs add time, not cases
    sy::chat::StreamEvent e;
    e.kind = static_cast<EventKind>(fdp.ConsumeIntegralInRange<int>(0, static_cast<int>(EventKind::kError)));
    e.index = fdp.ConsumeIntegralInRange<int>(0, 3);
    e.text = Utf8(fdp.ConsumeRandomLengthString(24));
    if (e.kind == EventKind::kToolCallStart) {
      e.name = kNames[fdp.ConsumeIntegralInRange<int>(0, 3)];
      e.id = Utf8(fdp.ConsumeRandomLengthString(12));
    }
    if (e.kind == EventKind::kUsage || e.kind == EventKind::kStart) {
      sy::chat::Usage u;
      u.input_tokens = fdp.ConsumeIntegralInRange<int64_t>(0, 1 << 20);
      u.output_tokens = fdp.ConsumeIntegralInRange<int64_t>(0, 1 << 20);
      e.usage = u;
    }
    if (e.kind == EventKind::kFinish) {
      e.finish = static_cast<sy::chat::FinishReason>(
          fdp.ConsumeIntegralInRange<int>(0, static_cast<int>(sy::chat::FinishReason::kError)));
    }
    if (e.kind == EventKind::kError && fdp.ConsumeBool()) {
      e.error = sy::MakeError(fdp.ConsumeBool() ? sy::ErrorCode::kRateLimited : sy::ErrorCode::kProviderError,
                              Utf8(fdp.ConsumeRandomLengthString(16)));
      if (fdp.ConsumeBool()) e.error->retry_after = Utf8(fdp.ConsumeRandomLengthString(4));
    }
    if (e.kind == EventKind::kFinish || e.kind == EventKind::kError) *terminal = true;
    events.push_back(std::move(e));
  }
  return events;
}

void FuzzStream(const uint8_t* data, size_t size) {
  static const sy::InternalRequest req = StreamRequest();
  static const sy::chat::Request chat;
  bool terminal = false;
  const auto events = DecodeEvents(data, size, &terminal);
  auto encoder = Door().NewStreamEncoder(req, chat);
  std::string out;
  bool ended = false;
  for (const auto& e : events) {
    const size_t before = out.size();
    encoder->Encode(e, &out);
    if (ended) Check(out.size() == before);  // nothing after the terminal event
    if (e.kind == EventKind::kFinish || e.kind == EventKind::kError) ended = true;
  }
  if (events.empty()) return;

  struct Sse {
    std::string name, data;
  };
  std::vector<Sse> sse_events;
  sy::sse::Parser parser([&](const sy::sse::Event& e) { sse_events.push_back({e.event, e.data}); });
  parser.Feed(out);
  Check(!parser.partial());
  Check(sse_events.size() >= 2 && sse_events[0].name == "response.created" &&
        sse_events[1].name == "response.in_progress");

  std::map<int64_t, std::string> added;  // output_index → item type
  std::map<int64_t, bool> done;
  int terminals = 0;
  for (size_t i = 0; i < sse_events.size(); ++i) {
    const auto& ev = sse_events[i];
    simdjson::dom::object obj;
    Check(Checker().parse(ev.data).get_object().get(obj) == simdjson::SUCCESS);
    std::string_view type;
    Check(obj["type"].get_string().get(type) == simdjson::SUCCESS && type == ev.name);
    int64_t seq = -1;
    Check(obj["sequence_number"].get_int64().get(seq) == simdjson::SUCCESS && seq == static_cast<int64_t>(i));
    const bool is_terminal =
        ev.name == "response.completed" || ev.name == "response.incomplete" || ev.name == "response.failed";
    if (is_terminal) {
      ++terminals;
      Check(i + 1 == sse_events.size());
      simdjson::dom::array output;
      Check(obj["response"]["output"].get_array().get(output) == simdjson::SUCCESS);
      size_t finished = 0;
      for (const auto& [index, d] : done) finished += d ? 1 : 0;
      Check(output.size() == finished);
      if (ev.name != "response.failed") Check(finished == added.size());
      continue;
    }
    int64_t index = -1;
    if (obj["output_index"].get_int64().get(index) != simdjson::SUCCESS) continue;
    std::string_view item_type;
    if (ev.name == "response.output_item.added") {
      Check(index == static_cast<int64_t>(added.size()));
      Check(obj["item"]["type"].get_string().get(item_type) == simdjson::SUCCESS);
      added[index] = std::string(item_type);
      continue;
    }
    Check(added.count(index) == 1 && !done[index]);
    if (ev.name == "response.output_item.done") {
      Check(obj["item"]["type"].get_string().get(item_type) == simdjson::SUCCESS && item_type == added[index]);
      done[index] = true;
    } else if (ev.name.rfind("response.output_text.", 0) == 0 || ev.name.rfind("response.content_part.", 0) == 0) {
      Check(added[index] == "message");
    } else if (ev.name.rfind("response.function_call_arguments.", 0) == 0) {
      Check(added[index] == "function_call");
    } else if (ev.name.rfind("response.custom_tool_call_input.", 0) == 0) {
      Check(added[index] == "custom_tool_call");
    } else if (ev.name.rfind("response.reasoning_summary_", 0) == 0) {
      Check(added[index] == "reasoning");
    } else {
      Check(false);  // an event this encoder never writes
    }
  }
  Check(terminals == (terminal ? 1 : 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzRequest(std::string(reinterpret_cast<const char*>(data), size));
  FuzzStream(data, size);
  return 0;
}
