#include "server/request_framing.h"

#include <cstring>

#include <boost/beast/core/string.hpp>

namespace sy {

namespace http = boost::beast::http;

HeaderBlockScanner::Result HeaderBlockScanner::Scan(std::string_view data) {
  // memchr over each line instead of a test per byte: this runs on every
  // request, and a header block is mostly long runs of plain bytes.
  const char* base = data.data();
  const size_t size = data.size();
  if (nul_checked_ < size) {
    if (std::memchr(base + nul_checked_, '\0', size - nul_checked_) != nullptr) return Result::kNul;
    nul_checked_ = size;
  }
  while (pos_ < size) {
    if (pos_ == line_start_ && !first_line_ && (base[pos_] == ' ' || base[pos_] == '\t')) return Result::kObsFold;
    const auto* lf = static_cast<const char*>(std::memchr(base + pos_, '\n', size - pos_));
    const size_t end = lf ? static_cast<size_t>(lf - base) : size;  // the line's LF, or the end of the input
    if (const auto* cr = static_cast<const char*>(std::memchr(base + pos_, '\r', end - pos_))) {
      const size_t at = static_cast<size_t>(cr - base);
      if (!lf && at == size - 1) {
        pos_ = at;  // a CR as the last byte: judged when the next byte comes
        return Result::kNeedMore;
      }
      if (!lf || at != end - 1) return Result::kBareLineEnding;
    }
    if (!lf) {
      pos_ = size;
      return Result::kNeedMore;
    }
    if (end == 0 || base[end - 1] != '\r') return Result::kBareLineEnding;
    pos_ = end + 1;
    if (end - 1 == line_start_ && !first_line_) {
      length_ = pos_;  // an empty line ends the block
      return Result::kComplete;
    }
    first_line_ = false;
    line_start_ = pos_;
  }
  return Result::kNeedMore;
}

size_t LeadingEmptyLines(std::string_view data) {
  size_t n = 0;
  while (n + 1 < data.size() && data[n] == '\r' && data[n + 1] == '\n') n += 2;
  return n;
}

HeadFields ReadHeadFields(const http::request_header<>& header) {
  HeadFields f;
  for (const auto& field : header) {
    switch (field.name()) {
      case http::field::transfer_encoding:
        ++f.transfer_encoding_count;
        f.transfer_encoding = field.value();
        break;
      case http::field::content_length:
        ++f.content_length_count;
        f.content_length = field.value();
        break;
      case http::field::unknown: {
        const std::string_view name = field.name_string();
        if (name.size() == 12 && boost::beast::iequals(name, "x-request-id")) {
          f.request_id = field.value();
        } else if (name.size() == 15 && boost::beast::iequals(name, "x-forwarded-for")) {
          ++f.forwarded_for_count;
          if (f.forwarded_for_count == 1) f.forwarded_for = field.value();
        }
        break;
      }
      default:
        break;
    }
  }
  return f;
}

std::string_view CheckFraming(const http::request_header<>& header, const HeadFields& f) {
  if (f.content_length_count > 1) return "Request has more than one Content-Length header.";
  if (f.content_length_count == 1 && f.content_length.find(',') != std::string_view::npos) {
    return "Content-Length must be a single number.";
  }
  if (f.transfer_encoding_count == 0) return "";
  if (f.transfer_encoding_count > 1) return "Request has more than one Transfer-Encoding header.";
  if (header.version() < 11) return "Transfer-Encoding is not allowed in an HTTP/1.0 request.";
  if (f.content_length_count > 0) return "Request has both Content-Length and Transfer-Encoding.";
  std::string_view te = f.transfer_encoding;
  while (!te.empty() && (te.front() == ' ' || te.front() == '\t')) te.remove_prefix(1);
  while (!te.empty() && (te.back() == ' ' || te.back() == '\t')) te.remove_suffix(1);
  if (!boost::beast::iequals(te, "chunked")) return "Transfer-Encoding must be exactly 'chunked'.";
  return "";
}


}  // namespace sy
