// Fuzzes the Gemini codec's response side: the SSE stream decoder on
// arbitrary bytes, DecodeChat and DecodeEmbed; and the Gemini front door's
// encoders on what they produce.
//
// Invariants:
//   - the events follow core/chat.h: kStart first (or a lone kError), then
//     deltas, exactly one terminal event (kFinish or kError) and nothing after
//     it; tool-call indexes dense from 0, kToolCallStart before the delta and
//     end of its index, every started call ended before kFinish;
//   - the events are the same (generated ids aside) whether the input is fed
//     whole, split at a point taken from the input, or (for short inputs) one
//     byte at a time;
//   - the Gemini stream encoder turns the events into valid JSON chunks (SSE;
//     so never a [DONE])
//     and one valid JSON array (JSON-array shape);
//   - DecodeChat / DecodeEmbed never crash; a decoded response encodes to
//     valid JSON.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "frontdoor/gemini/gemini_frontdoor.h"
#include "provider/gemini/gemini_codec.h"
#include "sse/sse_parser.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

using Events = std::vector<sy::chat::StreamEvent>;

Events Decode(std::string_view body, const std::vector<size_t>& cuts) {
  sy::gemini::GeminiCodec codec;
  auto dec = codec.NewStreamDecoder();
  Events out;
  size_t start = 0;
  for (size_t cut : cuts) {
    dec->Feed(body.substr(start, cut - start), &out);
    start = cut;
  }
  dec->Feed(body.substr(start), &out);
  dec->Finish(&out);
  const size_t n = out.size();
  dec->Finish(&out);
  dec->Feed("data: {}\n\n", &out);
  Check(out.size() == n);  // nothing after the end
  return out;
}

void CheckOrder(const Events& ev) {
  Check(!ev.empty());
  const auto last = ev.back().kind;
  Check(last == sy::chat::EventKind::kFinish || last == sy::chat::EventKind::kError);
  if (last == sy::chat::EventKind::kError) Check(ev.back().error.has_value() && !ev.back().error->message.empty());
  if (ev.size() > 1) Check(ev.front().kind == sy::chat::EventKind::kStart);
  int next_index = 0;
  std::vector<int> state;  // per index: 1 started, 2 ended
  for (size_t i = 0; i < ev.size(); ++i) {
    const auto& e = ev[i];
    if (i + 1 < ev.size()) {
      Check(e.kind != sy::chat::EventKind::kFinish && e.kind != sy::chat::EventKind::kError);
      if (i > 0) Check(e.kind != sy::chat::EventKind::kStart);
    }
    switch (e.kind) {
      case sy::chat::EventKind::kToolCallStart:
        Check(e.index == next_index++ && !e.id.empty());
        state.push_back(1);
        break;
      case sy::chat::EventKind::kToolCallDelta:
        Check(e.index >= 0 && e.index < next_index && state[e.index] == 1);
        break;
      case sy::chat::EventKind::kToolCallEnd:
        Check(e.index >= 0 && e.index < next_index && state[e.index] == 1);
        state[e.index] = 2;
        break;
      case sy::chat::EventKind::kFinish:
        for (int s : state) Check(s == 2);
        break;
      default: break;
    }
  }
}

void CheckSame(const Events& a, const Events& b) {
  Check(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    Check(a[i].kind == b[i].kind && a[i].text == b[i].text && a[i].index == b[i].index && a[i].name == b[i].name &&
          a[i].finish == b[i].finish && a[i].usage.has_value() == b[i].usage.has_value());
    if (a[i].usage) Check(a[i].usage->total() == b[i].usage->total());
  }
}

bool ValidJson(std::string_view json) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return parser.parse(json.data(), json.size()).get(doc) == simdjson::SUCCESS;
}

void CheckEncoders(const Events& ev) {
  sy::gemini::GeminiFrontDoor fd;
  sy::InternalRequest req;
  req.model = "m";
  req.stream = true;
  req.shape = sy::gemini::kShapeStreamJsonArray;
  auto array = fd.NewStreamEncoder(req, sy::chat::Request{});
  std::string out;
  for (const auto& e : ev) array->Encode(e, &out);
  Check(ValidJson(out));

  req.shape = sy::gemini::kShapeStreamSse;
  auto sse = fd.NewStreamEncoder(req, sy::chat::Request{});
  out.clear();
  for (const auto& e : ev) sse->Encode(e, &out);
  bool ok = true;
  sy::sse::Parser parser([&ok](const sy::sse::Event& e) { ok = ok && ValidJson(e.data); });
  parser.Feed(out);
  Check(ok && !parser.partial());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const Events whole = Decode(body, {});
  CheckOrder(whole);
  // A split point taken from the data itself.
  if (size > 0) {
    const size_t cut = (static_cast<size_t>(data[0]) * 131 + (size > 1 ? data[size - 1] : 0)) % size;
    CheckSame(whole, Decode(body, {cut}));
  }
  if (size <= 512) {
    std::vector<size_t> every;
    for (size_t i = 1; i < size; ++i) every.push_back(i);
    CheckSame(whole, Decode(body, every));
  }
  CheckEncoders(whole);

  sy::gemini::GeminiCodec codec;
  sy::gemini::GeminiFrontDoor fd;
  auto response = codec.DecodeChat(body);
  if (auto* r = std::get_if<sy::chat::Response>(&response)) {
    Check(ValidJson(fd.EncodeResponse(sy::InternalRequest{}, *r)));
  } else {
    Check(!std::get<sy::GatewayError>(response).message.empty());
  }
  auto embed = codec.DecodeEmbed(body);
  if (auto* r = std::get_if<sy::chat::EmbedResponse>(&embed)) {
    sy::InternalRequest batch;
    batch.shape = sy::gemini::kShapeBatchEmbed;
    Check(ValidJson(fd.EncodeEmbed(batch, *r)));
  }
  (void)codec.DecodeCountTokens(body);
  (void)codec.ErrorMessage(body);
  return 0;
}
