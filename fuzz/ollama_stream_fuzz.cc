// Fuzzes the Ollama upstream codec's decoders (provider/ollama) on upstream
// bodies: the NDJSON stream decoder, DecodeChat, DecodeEmbed, ErrorMessage.
//
// Invariants:
//   - the stream decoder yields the same events (generated ids aside)
//     whether the body is fed whole, split at a point taken from the data,
//     or (for short bodies) one byte at a time;
//   - the events keep core/chat.h's order: kStart first unless the stream
//     fails at once; tool calls numbered densely 0, 1, 2... in start order,
//     each delta and end after its start; exactly one terminal event, last;
//   - the Ollama front door's stream encoder turns those events into NDJSON
//     lines that are each a JSON object;
//   - DecodeChat / DecodeEmbed never crash; a failure is a kProviderError
//     with a message; a decoded chat response encodes to a JSON object.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "frontdoor/ollama/ollama_frontdoor.h"
#include "provider/ollama/ollama_codec.h"

namespace {

using sy::chat::EventKind;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckObject(std::string_view json) {
  static simdjson::dom::parser parser;
  simdjson::dom::object obj;
  Check(parser.parse(json.data(), json.size()).get_object().get(obj) == simdjson::SUCCESS);
}

std::vector<sy::chat::StreamEvent> Decode(std::string_view body, const std::vector<size_t>& cuts) {
  static const sy::ollama::OllamaCodec codec;
  auto dec = codec.NewStreamDecoder();
  std::vector<sy::chat::StreamEvent> out;
  size_t start = 0;
  for (size_t cut : cuts) {
    dec->Feed(body.substr(start, cut - start), &out);
    start = cut;
  }
  dec->Feed(body.substr(start), &out);
  dec->Finish(&out);
  return out;
}

bool Same(const sy::chat::StreamEvent& a, const sy::chat::StreamEvent& b) {
  bool same = a.kind == b.kind && a.text == b.text && a.index == b.index && a.name == b.name && a.model == b.model &&
              a.finish == b.finish && a.usage.has_value() == b.usage.has_value() &&
              a.error.has_value() == b.error.has_value();
  if (same && a.usage) {
    same = a.usage->input_tokens == b.usage->input_tokens && a.usage->output_tokens == b.usage->output_tokens;
  }
  if (same && a.error) same = a.error->message == b.error->message;
  return same;
}

void ExpectSame(const std::vector<sy::chat::StreamEvent>& a, const std::vector<sy::chat::StreamEvent>& b) {
  Check(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) Check(Same(a[i], b[i]));
}

void CheckOrder(const std::vector<sy::chat::StreamEvent>& events) {
  Check(!events.empty());
  const auto last = events.back().kind;
  Check(last == EventKind::kFinish || last == EventKind::kError);
  if (last == EventKind::kError) Check(events.back().error && !events.back().error->message.empty());
  Check(events.front().kind == EventKind::kStart || events.size() == 1);
  int started = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    Check(i + 1 == events.size() || (e.kind != EventKind::kFinish && e.kind != EventKind::kError));
    Check(i == 0 || e.kind != EventKind::kStart);
    if (e.kind == EventKind::kToolCallStart) {
      Check(e.index == started++ && !e.name.empty() && !e.id.empty());
    } else if (e.kind == EventKind::kToolCallDelta || e.kind == EventKind::kToolCallEnd) {
      Check(e.index >= 0 && e.index < started);
    } else if (e.kind == EventKind::kUsage) {
      Check(e.usage.has_value());
    }
  }
}

void CheckEncoded(const std::vector<sy::chat::StreamEvent>& events) {
  static const sy::ollama::OllamaFrontDoor door([] { return int64_t{1714564800123456789}; });
  for (int shape : {sy::ollama::kShapeChat, sy::ollama::kShapeGenerate}) {
    sy::InternalRequest req;
    req.wire = sy::WireProtocol::kOllama;
    req.shape = shape;
    req.model = "client-model";
    auto enc = door.NewStreamEncoder(req, sy::chat::Request{});
    std::string out;
    for (const auto& e : events) enc->Encode(e, &out);
    size_t start = 0;
    while (start < out.size()) {
      size_t nl = out.find('\n', start);
      Check(nl != std::string::npos);
      CheckObject(std::string_view(out).substr(start, nl - start));
      start = nl + 1;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  const auto whole = Decode(body, {});
  CheckOrder(whole);
  if (size > 0) {
    // A split point derived from the data: its first and last bytes.
    size_t cut = (static_cast<size_t>(data[0]) * 256 + data[size - 1]) % (size + 1);
    ExpectSame(whole, Decode(body, {cut}));
  }
  if (size <= 512) {
    std::vector<size_t> every;
    for (size_t i = 1; i < size; ++i) every.push_back(i);
    ExpectSame(whole, Decode(body, every));
  }
  CheckEncoded(whole);

  static const sy::ollama::OllamaCodec codec;
  static const sy::ollama::OllamaFrontDoor door([] { return int64_t{0}; });
  auto chat = codec.DecodeChat(body);
  if (auto* error = std::get_if<sy::GatewayError>(&chat)) {
    Check(error->code == sy::ErrorCode::kProviderError && !error->message.empty());
  } else {
    sy::InternalRequest req;
    req.shape = sy::ollama::kShapeChat;
    req.model = "m";
    CheckObject(door.EncodeResponse(req, std::get<sy::chat::Response>(chat)));
  }
  auto embed = codec.DecodeEmbed(body);
  if (auto* error = std::get_if<sy::GatewayError>(&embed)) {
    Check(error->code == sy::ErrorCode::kProviderError && !error->message.empty());
  } else {
    sy::InternalRequest req;
    req.shape = sy::ollama::kShapeEmbed;
    req.model = "m";
    CheckObject(door.EncodeEmbed(req, std::get<sy::chat::EmbedResponse>(embed)));
  }
  (void)codec.ErrorMessage(body);
  return 0;
}
