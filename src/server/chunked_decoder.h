// Decodes a chunked request body (RFC 9112 §7.1) incrementally, with every
// part bounded: a chunk-size line (size and extensions) of at most
// kMaxLineBytes, extensions of at most kMaxExtensionBytes, at most 16 hex
// digits, a trailer block of at most kMaxLineBytes, and a decoded body of at
// most the caller's limit. Line endings must be CRLF. Pure: no I/O, so it is
// unit-tested and fuzzed on its own (fuzz/chunked_decoder_fuzz.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sy {

class ChunkedDecoder {
 public:
  static constexpr size_t kMaxLineBytes = 4096;
  static constexpr size_t kMaxExtensionBytes = 1024;

  enum class Status {
    kNeedMore,  // all input consumed; the body is not complete
    kDone,      // the last chunk and trailers were read; bytes after them were not consumed
    kBad,       // malformed or over a line limit: error() says what
    kTooLarge,  // the decoded body would pass max_body_bytes
  };

  explicit ChunkedDecoder(uint64_t max_body_bytes) : max_body_(max_body_bytes) {}

  // Decodes from `in`, appending data to *body; *consumed is how many bytes of
  // `in` were used. After kDone, kBad or kTooLarge, calls return the same.
  Status Feed(std::string_view in, size_t* consumed, std::string* body);
  std::string_view error() const { return error_; }

 private:
  enum class State { kSize, kExtension, kSizeLf, kData, kDataCr, kDataLf, kTrailerStart, kTrailer, kTrailerLf, kEndLf };

  Status Fail(std::string_view why) {
    error_ = why;
    return status_ = Status::kBad;
  }

  uint64_t max_body_;
  uint64_t decoded_ = 0;
  State state_ = State::kSize;
  Status status_ = Status::kNeedMore;
  uint64_t chunk_size_ = 0;
  uint64_t remaining_ = 0;
  size_t digits_ = 0;
  size_t line_bytes_ = 0;
  size_t extension_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  std::string_view error_;
};

}  // namespace sy
