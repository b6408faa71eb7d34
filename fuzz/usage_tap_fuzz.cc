// Fuzzes the usage tap (src/governance/usage_tap.h) on arbitrary upstream
// bytes, and RequestStreamUsage on arbitrary request bodies.
//
// Input: byte 0 picks the mode (protocol = (b & 7) % 5, stream = b & 8,
// strip = b & 16 on OpenAI streams, b & 32 on OpenAI: RequestStreamUsage on
// the body too); byte 1 seeds the piece sizes; the rest is the body, fed
// whole, one byte at a time, and in pieces of 1..64 bytes.
//
// Invariants:
//   - a tap that does not strip returns each input piece itself (same bytes,
//     same address);
//   - a stripping tap's output is the same whatever the split, and is the
//     input with some bytes removed (never added, never reordered);
//   - usage() and EstimatedOutputTokens() do not depend on the split; counts
//     are never negative nor absurd;
//   - RequestStreamUsage either leaves the body unchanged (false) or makes it
//     a valid JSON object asking for usage, with the model value still at
//     model_span;
//   - with b & 64 (not Ollama) the body is also read as a usage object: a
//     non-stream answer {"usage":BODY} (read without a parse where it can
//     be) gives the same usage as the same answer as one stream event (always
//     parsed), whenever the parse finds any (and BODY has no line end).
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "frontdoor/openai/json_scan.h"
#include "governance/usage_tap.h"

namespace {

using sy::WireProtocol;

struct Outcome {
  std::string out;
  std::optional<sy::chat::Usage> usage;
  int64_t estimate = 0;
};

// Feeds `body` in the pieces `sizes` gives (cycled).
Outcome Run(WireProtocol protocol, bool stream, bool strip, std::string_view body, const std::vector<size_t>& sizes) {
  auto tap = sy::gov::NewUsageTap(protocol, stream, strip);
  Outcome o;
  size_t at = 0, k = 0;
  while (at < body.size()) {
    const size_t n = sizes.empty() ? body.size() : std::min(sizes[k++ % sizes.size()], body.size() - at);
    const std::string_view piece = body.substr(at, n);
    const std::string_view sent = tap->Feed(piece);
    if (!strip && (sent.data() != piece.data() || sent.size() != piece.size())) std::abort();
    o.out.append(sent);
    at += n;
  }
  const std::string_view last = tap->Finish();
  if (!strip && !last.empty()) std::abort();
  o.out.append(last);
  if (!tap->Finish().empty()) std::abort();  // a second Finish has nothing left
  o.usage = tap->usage();
  o.estimate = tap->EstimatedOutputTokens();
  return o;
}

void ExpectSame(const Outcome& a, const Outcome& b) {
  if (a.out != b.out || a.estimate != b.estimate || a.usage.has_value() != b.usage.has_value()) std::abort();
  if (a.usage) {
    const auto &x = *a.usage, &y = *b.usage;
    if (x.input_tokens != y.input_tokens || x.cached_input_tokens != y.cached_input_tokens ||
        x.cache_write_tokens != y.cache_write_tokens || x.output_tokens != y.output_tokens ||
        x.reasoning_tokens != y.reasoning_tokens) {
      std::abort();
    }
  }
}

void ExpectSane(const Outcome& o) {
  if (o.estimate < 0) std::abort();
  if (!o.usage) return;
  constexpr int64_t kMax = int64_t{3} << 40;
  for (int64_t v : {o.usage->input_tokens, o.usage->cached_input_tokens, o.usage->cache_write_tokens,
                    o.usage->output_tokens, o.usage->reasoning_tokens}) {
    if (v < 0 || v > kMax) std::abort();
  }
}

// Whether `out` is `in` with some bytes removed.
bool IsSubsequence(std::string_view out, std::string_view in) {
  size_t j = 0;
  for (char c : in) {
    if (j < out.size() && out[j] == c) ++j;
  }
  return j == out.size();
}

void CheckRequestStreamUsage(std::string_view body) {
  sy::InternalRequest req;
  req.operation = sy::Operation::kChatCompletions;
  req.wire = WireProtocol::kOpenAI;
  req.stream = true;
  req.raw_body.assign(body);
  std::string model;
  if (auto span = sy::json::FindTopLevelValue(body, "model"); span && span->end <= body.size()) {
    req.model_span = *span;
    model.assign(body.substr(span->begin, span->end - span->begin));
  }
  bool asked = false;
  if (!sy::gov::RequestStreamUsage(&req, &asked)) {
    if (req.raw_body != body || asked) std::abort();
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(req.raw_body).get(root) || !root.is_object()) std::abort();
  bool include = false;
  if (root["stream_options"]["include_usage"].get_bool().get(include) || !include) std::abort();
  if (asked && req.raw_body != body) std::abort();
  if (!req.model_span.empty()) {
    const auto& s = req.model_span;
    if (s.end > req.raw_body.size() || req.raw_body.compare(s.begin, s.end - s.begin, model) != 0) std::abort();
  }
}

// The non-stream reader of a usage object against simdjson's parse of it.
void CheckUsageReader(WireProtocol protocol, std::string_view usage) {
  // One event holds it only if it has no line end.
  if (usage.find_first_of("\r\n") != std::string_view::npos) return;
  const std::string object = std::string("{\"usage\":").append(usage).append("}");
  const std::string event = "data: " + object + "\n\n";
  const Outcome parsed = Run(protocol, true, false, event, {});
  if (!parsed.usage) return;
  const Outcome read = Run(protocol, false, false, object, {});
  Outcome a = parsed, b = read;
  a.out = b.out, a.estimate = b.estimate;  // only the usage is compared
  ExpectSame(a, b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  static constexpr WireProtocol kProtocols[] = {WireProtocol::kOpenAI, WireProtocol::kAnthropic, WireProtocol::kGemini,
                                                WireProtocol::kOllama, WireProtocol::kOpenAIResponses};
  const WireProtocol protocol = kProtocols[(mode & 7) % 5];
  const bool stream = (mode & 8) != 0;
  const bool strip = stream && protocol == WireProtocol::kOpenAI && (mode & 16) != 0;
  uint32_t seed = data[1] * 2654435761u + 1;
  const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);

  std::vector<size_t> sizes;
  for (int i = 0; i < 16; ++i) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    sizes.push_back(1 + seed % 64);
  }
  const Outcome whole = Run(protocol, stream, strip, body, {});
  ExpectSane(whole);
  ExpectSame(whole, Run(protocol, stream, strip, body, {1}));
  ExpectSame(whole, Run(protocol, stream, strip, body, sizes));
  if (strip) {
    if (!IsSubsequence(whole.out, body)) std::abort();
  } else if (whole.out != body) {
    std::abort();
  }
  if (protocol == WireProtocol::kOpenAI && (mode & 32) != 0) CheckRequestStreamUsage(body);
  if (protocol != WireProtocol::kOllama && (mode & 64) != 0) CheckUsageReader(protocol, body);
  return 0;
}
