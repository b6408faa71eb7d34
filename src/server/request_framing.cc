#include "server/request_framing.h"

#include <boost/beast/core/string.hpp>

namespace sy {

namespace http = boost::beast::http;

HeaderBlockScanner::Result HeaderBlockScanner::Scan(std::string_view data) {
  for (; pos_ < data.size(); ++pos_) {
    const char c = data[pos_];
    if (c == '\0') return Result::kNul;
    if (c == '\r') {
      // A CR must be followed by LF; wait for the next byte to judge.
      if (pos_ + 1 >= data.size()) return Result::kNeedMore;
      if (data[pos_ + 1] != '\n') return Result::kBareLineEnding;
      continue;
    }
    if (c != '\n') {
      if (pos_ == line_start_ && !first_line_ && (c == ' ' || c == '\t')) return Result::kObsFold;
      continue;
    }
    // LF: the CR before it was checked when it was seen.
    if (pos_ == 0 || data[pos_ - 1] != '\r') return Result::kBareLineEnding;
    if (pos_ - 1 == line_start_ && !first_line_) {
      length_ = pos_ + 1;  // an empty line ends the block
      ++pos_;
      return Result::kComplete;
    }
    first_line_ = false;
    line_start_ = pos_ + 1;
  }
  return Result::kNeedMore;
}

size_t LeadingEmptyLines(std::string_view data) {
  size_t n = 0;
  while (n + 1 < data.size() && data[n] == '\r' && data[n + 1] == '\n') n += 2;
  return n;
}

std::string_view CheckFraming(const http::request_header<>& header) {
  const size_t te_count = header.count(http::field::transfer_encoding);
  const size_t cl_count = header.count(http::field::content_length);
  if (cl_count > 1) return "Request has more than one Content-Length header.";
  if (cl_count == 1 && header[http::field::content_length].find(',') != std::string_view::npos) {
    return "Content-Length must be a single number.";
  }
  if (te_count == 0) return "";
  if (te_count > 1) return "Request has more than one Transfer-Encoding header.";
  if (header.version() < 11) return "Transfer-Encoding is not allowed in an HTTP/1.0 request.";
  if (cl_count > 0) return "Request has both Content-Length and Transfer-Encoding.";
  std::string_view te = header[http::field::transfer_encoding];
  while (!te.empty() && (te.front() == ' ' || te.front() == '\t')) te.remove_prefix(1);
  while (!te.empty() && (te.back() == ' ' || te.back() == '\t')) te.remove_suffix(1);
  if (!boost::beast::iequals(te, "chunked")) return "Transfer-Encoding must be exactly 'chunked'.";
  return "";
}

}  // namespace sy
