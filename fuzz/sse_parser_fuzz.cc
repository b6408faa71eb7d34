// Fuzzes the incremental SSE parser (src/sse/sse_parser.h).
//
// Invariants:
//   - the events (event, data, id) and the final partial() state are the same
//     whether the input is fed whole, one byte at a time, or split at points
//     chosen by the fuzzer (read from the input's last bytes);
//   - every event survives FormatEvent: formatting it and parsing the result
//     gives back the same event name and data.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sse/sse_parser.h"

namespace {

struct Result {
  std::vector<sy::sse::Event> events;
  bool partial = false;
};

bool operator==(const sy::sse::Event& a, const sy::sse::Event& b) {
  return a.event == b.event && a.data == b.data && a.id == b.id;
}

// Feeds `stream` in pieces ending at `cuts` (ascending, each <= size).
Result Parse(std::string_view stream, const std::vector<size_t>& cuts) {
  Result r;
  sy::sse::Parser parser([&r](const sy::sse::Event& e) { r.events.push_back(e); });
  size_t start = 0;
  for (size_t cut : cuts) {
    parser.Feed(stream.substr(start, cut - start));
    start = cut;
  }
  parser.Feed(stream.substr(start));
  if (parser.events() != r.events.size()) std::abort();
  r.partial = parser.partial();
  return r;
}

void ExpectSame(const Result& a, const Result& b) {
  if (a.events.size() != b.events.size() || a.partial != b.partial) std::abort();
  for (size_t i = 0; i < a.events.size(); ++i) {
    if (!(a.events[i] == b.events[i])) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  const Result whole = Parse(stream, {});

  std::vector<size_t> every_byte;
  for (size_t i = 1; i < size; ++i) every_byte.push_back(i);
  ExpectSame(whole, Parse(stream, every_byte));

  FuzzedDataProvider fdp(data, size);
  std::vector<size_t> cuts;
  const size_t n = fdp.ConsumeIntegralInRange<size_t>(0, 16);
  for (size_t i = 0; i < n && fdp.remaining_bytes() > 0; ++i) {
    cuts.push_back(fdp.ConsumeIntegralInRange<size_t>(0, size));
  }
  std::sort(cuts.begin(), cuts.end());
  ExpectSame(whole, Parse(stream, cuts));

  for (const auto& e : whole.events) {
    const Result again = Parse(sy::sse::FormatEvent(e.data, e.event), {});
    if (again.events.size() != 1 || again.partial) std::abort();
    if (again.events[0].data != e.data || again.events[0].event != e.event) std::abort();
  }
  return 0;
}
