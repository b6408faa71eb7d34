// Request framing rules that Beast's parser leaves open, checked on the raw
// header block and on the parsed header before any body byte is read.
//
// A request that breaks one of them gets 400 and its connection is closed:
// an ambiguity in how a body is framed is how requests are smuggled past a
// proxy (a front proxy and Switchyard must never disagree on where one
// request ends and the next begins).
#pragma once

#include <cstddef>
#include <string_view>

#include <boost/beast/http/message.hpp>

namespace sy {

// Finds the end of an HTTP/1.1 header block, byte by byte, remembering where
// it stopped so that a header dribbled in one byte at a time is scanned once.
// Rejects what RFC 9112 lets a server reject: bare LF or bare CR line endings,
// obs-fold (a field line continued on the next line with SP or HTAB), and
// NUL bytes.
class HeaderBlockScanner {
 public:
  enum class Result { kNeedMore, kComplete, kBareLineEnding, kObsFold, kNul };

  // `data` is the connection's buffered input, starting at the request line;
  // each call must pass the same bytes as before plus any new ones.
  // On kComplete, length() is the size of the block including the final CRLF CRLF.
  Result Scan(std::string_view data);
  size_t length() const { return length_; }
  size_t scanned() const { return pos_; }

 private:
  size_t pos_ = 0;
  size_t nul_checked_ = 0;
  size_t length_ = 0;
  size_t line_start_ = 0;  // offset of the current line's first byte
  bool first_line_ = true;
};

// Bytes to drop before a request line: RFC 9112 §2.2 asks a server to ignore
// at least one empty line (CRLF) received before the request-line.
size_t LeadingEmptyLines(std::string_view data);

// The fields the session acts on, found in one pass over the parsed header
// (lookups by name would each walk the field set again).
struct HeadFields {
  size_t transfer_encoding_count = 0;
  std::string_view transfer_encoding;  // the last one
  size_t content_length_count = 0;
  std::string_view content_length;     // the last one
  std::string_view request_id;         // x-request-id, or ""
  size_t forwarded_for_count = 0;
  std::string_view forwarded_for;      // the first X-Forwarded-For (join all when count > 1)
};
HeadFields ReadHeadFields(const boost::beast::http::request_header<>& header);

// Checks the parsed header's body framing. Returns "" when the request may be
// read, else the client message of a 400:
//  - Transfer-Encoding must be exactly one field whose value is "chunked"
//    (any case): "chunked, chunked", "gzip", "identity", a list, or a second
//    field are refused;
//  - Transfer-Encoding on an HTTP/1.0 request is refused;
//  - Transfer-Encoding with Content-Length is refused;
//  - more than one Content-Length field, or a list value, is refused.
std::string_view CheckFraming(const boost::beast::http::request_header<>& header, const HeadFields& fields);

}  // namespace sy
