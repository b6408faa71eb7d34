// Fuzzes the OpenAI upstream codec's decoders on arbitrary upstream bytes:
// the stream decoder (fed whole, and split at a point derived from the data),
// DecodeChat, DecodeEmbed and ErrorMessage.
//
// Invariants:
//   - the events keep the order core/chat.h promises: kStart first (unless
//     the only event is kError), exactly one terminal event, last; tool-call
//     indices dense in start order; deltas only between start and end; every
//     started call ended before kFinish; kError carries an error;
//   - the events are the same (ids aside: missing ones are generated) however
//     the bytes are split, and with the text fast path (TextShape) off;
//   - the events, encoded by the OpenAI front door, are SSE events of valid
//     JSON;
//   - DecodeChat / DecodeEmbed either fail with kProviderError or kRateLimited,
//     or return a response; ErrorMessage never fails.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "frontdoor/openai/openai_chat.h"
#include "provider/openai/openai_codec.h"

namespace {

using sy::chat::EventKind;
using sy::chat::StreamEvent;

void Check(bool ok) {
  if (!ok) std::abort();
}

std::vector<StreamEvent> Decode(std::string_view bytes, size_t split, bool fast_path = true) {
  auto decoder = sy::openai::NewStreamDecoder(fast_path);
  std::vector<StreamEvent> out;
  decoder->Feed(bytes.substr(0, split), &out);
  decoder->Feed(bytes.substr(split), &out);
  decoder->Finish(&out);
  return out;
}

void CheckContract(const std::vector<StreamEvent>& events) {
  Check(!events.empty());
  Check(events[0].kind == EventKind::kStart || (events.size() == 1 && events[0].kind == EventKind::kError));
  std::set<int> started, ended;
  int next = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const bool terminal = e.kind == EventKind::kFinish || e.kind == EventKind::kError;
    Check(terminal == (i + 1 == events.size()));
    Check(e.kind != EventKind::kStart || i == 0);
    switch (e.kind) {
      case EventKind::kToolCallStart:
        Check(e.index == next++ && !e.id.empty());
        started.insert(e.index);
        break;
      case EventKind::kToolCallDelta: Check(started.count(e.index) && !ended.count(e.index)); break;
      case EventKind::kToolCallEnd:
        Check(started.count(e.index) && !ended.count(e.index));
        ended.insert(e.index);
        break;
      case EventKind::kFinish: Check(started == ended); break;
      case EventKind::kError:
        Check(e.error.has_value() && !e.error->message.empty());
        Check(e.error->code == sy::ErrorCode::kProviderError || e.error->code == sy::ErrorCode::kRateLimited);
        break;
      case EventKind::kUsage: Check(e.usage.has_value()); break;
      default: break;
    }
  }
}

void CheckSame(const std::vector<StreamEvent>& a, const std::vector<StreamEvent>& b) {
  Check(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    Check(a[i].kind == b[i].kind && a[i].text == b[i].text && a[i].index == b[i].index && a[i].name == b[i].name &&
          a[i].model == b[i].model && a[i].finish == b[i].finish);
    Check(a[i].usage.has_value() == b[i].usage.has_value());
    if (a[i].usage) {
      Check(a[i].usage->input_tokens == b[i].usage->input_tokens &&
            a[i].usage->output_tokens == b[i].usage->output_tokens);
    }
  }
}

void CheckEncoded(const std::vector<StreamEvent>& events) {
  static const sy::openai::OpenAiFrontDoor door([] { return int64_t{1}; });
  static simdjson::dom::parser checker;
  sy::InternalRequest req;
  req.model = "client-model";
  sy::chat::Request chat;
  chat.include_usage = true;
  auto encoder = door.NewStreamEncoder(req, chat);
  std::string sse;
  for (const auto& e : events) encoder->Encode(e, &sse);
  size_t pos = 0;
  while (pos < sse.size()) {
    size_t end = sse.find("\n\n", pos);
    Check(end != std::string::npos);
    std::string_view event(sse.data() + pos, end - pos);
    Check(event.substr(0, 6) == "data: ");
    if (event.substr(6) != "[DONE]") {
      simdjson::dom::element doc;
      Check(checker.parse(event.data() + 6, event.size() - 6).get(doc) == simdjson::SUCCESS);
    }
    pos = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The split point comes from the data (its first byte scales over the size).
  const size_t split = size == 0 ? 0 : (static_cast<size_t>(data[0]) * size) / 255;
  const auto whole = Decode(bytes, size);
  CheckContract(whole);
  CheckSame(whole, Decode(bytes, split));
  CheckSame(whole, Decode(bytes, size, /*fast_path=*/false));
  if (size < 512) {  // one byte at a time, on small inputs
    auto decoder = sy::openai::OpenAiCodec().NewStreamDecoder();
    std::vector<StreamEvent> out;
    for (size_t i = 0; i < size; ++i) decoder->Feed(bytes.substr(i, 1), &out);
    decoder->Finish(&out);
    CheckSame(whole, out);
  }
  CheckEncoded(whole);

  sy::openai::OpenAiCodec codec;
  auto chat = codec.DecodeChat(bytes);
  if (auto* err = std::get_if<sy::GatewayError>(&chat)) {
    Check(err->code == sy::ErrorCode::kProviderError || err->code == sy::ErrorCode::kRateLimited);
    Check(!err->message.empty());
  } else {
    Check(!std::get<sy::chat::Response>(chat).id.empty());
  }
  auto embed = codec.DecodeEmbed(bytes);
  if (auto* err = std::get_if<sy::GatewayError>(&embed)) {
    Check(err->code == sy::ErrorCode::kProviderError || err->code == sy::ErrorCode::kRateLimited);
  }
  Check(codec.ErrorMessage(bytes).size() <= std::max<size_t>(2000, 200));
  return 0;
}
