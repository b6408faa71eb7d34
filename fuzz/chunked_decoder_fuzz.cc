// Fuzzes the chunked request-body decoder (src/server/chunked_decoder.h).
//
// Invariants:
//   - the status, the decoded body and the bytes consumed are the same whether
//     the input is fed whole or in pieces split where the fuzzer chooses (read
//     from the input's first byte) or one byte at a time;
//   - the body never passes the limit, and kDone never consumes more than given;
//   - a decoded body, re-encoded as one chunk, decodes to itself.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/chunked_decoder.h"

namespace {

constexpr uint64_t kLimit = 1 << 16;

struct Outcome {
  sy::ChunkedDecoder::Status status;
  std::string body;
  size_t consumed = 0;  // total bytes of the input used
};

Outcome Decode(std::string_view in, size_t step) {
  sy::ChunkedDecoder d(kLimit);
  Outcome o;
  o.status = sy::ChunkedDecoder::Status::kNeedMore;
  size_t pos = 0;
  while (pos < in.size()) {
    const size_t n = step == 0 ? in.size() - pos : std::min(step, in.size() - pos);
    size_t used = 0;
    o.status = d.Feed(in.substr(pos, n), &used, &o.body);
    if (used > n) std::abort();
    o.consumed += used;
    if (o.status != sy::ChunkedDecoder::Status::kNeedMore) break;
    pos += n;
  }
  if (o.body.size() > kLimit) std::abort();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 64;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = Decode(in, 0);
  for (size_t s : {step, size_t{1}}) {
    const Outcome split = Decode(in, s);
    if (split.status != whole.status || split.body != whole.body) std::abort();
    if (whole.status == sy::ChunkedDecoder::Status::kDone && split.consumed != whole.consumed) std::abort();
  }
  if (whole.status == sy::ChunkedDecoder::Status::kDone && !whole.body.empty()) {
    char size_line[32];
    const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", whole.body.size());
    const std::string again = std::string(size_line, static_cast<size_t>(n)) + whole.body + "\r\n0\r\n\r\n";
    const Outcome re = Decode(again, 0);
    if (re.status != sy::ChunkedDecoder::Status::kDone || re.body != whole.body) std::abort();
  }
  return 0;
}
