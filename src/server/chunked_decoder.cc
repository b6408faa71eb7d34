#include "server/chunked_decoder.h"

#include <algorithm>

#include "common/text_codec.h"

namespace sy {

ChunkedDecoder::Status ChunkedDecoder::Feed(std::string_view in, size_t* consumed, std::string* body) {
  size_t i = 0;
  *consumed = 0;
  if (status_ != Status::kNeedMore) return status_;
  while (i < in.size()) {
    if (state_ == State::kData) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
      body->append(in.data() + i, n);
      i += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::kDataCr;
      continue;
    }
    const char c = in[i++];
    switch (state_) {
      case State::kSize: {
        if (++line_bytes_ > kMaxLineBytes) return Fail("chunk-size line too long");
        const int digit = text::HexDigitValue(c);
        if (digit >= 0) {
          if (++digits_ > 16) return Fail("chunk size too large");
          chunk_size_ = chunk_size_ * 16 + static_cast<uint64_t>(digit);
        } else if (digits_ == 0) {
          return Fail("chunk size is not a hex number");
        } else if (c == ';') {
          state_ = State::kExtension;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else {
          return Fail("unexpected byte in a chunk-size line");
        }
        break;
      }
      case State::kExtension: {
        if (++line_bytes_ > kMaxLineBytes) return Fail("chunk-size line too long");
        if (++extension_bytes_ > kMaxExtensionBytes) return Fail("chunk extension too long");
        const auto u = static_cast<unsigned char>(c);
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
          return Fail("control byte in a chunk extension");
        }
        break;
      }
      case State::kSizeLf:
        if (c != '\n') return Fail("chunk-size line does not end in CRLF");
        if (chunk_size_ == 0) {
          state_ = State::kTrailerStart;
          break;
        }
        if (chunk_size_ > max_body_ - decoded_) return status_ = Status::kTooLarge;
        decoded_ += chunk_size_;
        remaining_ = chunk_size_;
        state_ = State::kData;
        break;
      case State::kDataCr:
        if (c != '\r') return Fail("chunk data is longer than its size");
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return Fail("chunk data does not end in CRLF");
        state_ = State::kSize;
        chunk_size_ = 0;
        digits_ = 0;
        line_bytes_ = 0;
        extension_bytes_ = 0;
        break;
      case State::kTrailerStart:
      case State::kTrailer:
        if (++trailer_bytes_ > kMaxLineBytes) return Fail("trailer section too long");
        if (c == '\r') {
          state_ = state_ == State::kTrailerStart ? State::kEndLf : State::kTrailerLf;
        } else if (c == '\n' || c == '\0') {
          return Fail("malformed trailer section");
        } else {
          state_ = State::kTrailer;
        }
        break;
      case State::kTrailerLf:
        if (c != '\n') return Fail("trailer line does not end in CRLF");
        state_ = State::kTrailerStart;
        break;
      case State::kEndLf:
        if (c != '\n') return Fail("chunked body does not end in CRLF");
        *consumed = i;
        return status_ = Status::kDone;
      case State::kData:
        break;  // handled above
    }
  }
  *consumed = i;
  return Status::kNeedMore;
}

}  // namespace sy
