// Minimal HTTP/1.1 request parsing for mock_upstream: just enough to find the
// end of the header block, the request line, Content-Length and keep-alive.
// Chunked request bodies are not supported (the gateway sends Content-Length).
//
// Everything here works on string_views into the connection's read buffer, so
// parsing a request allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mock {

// REQUIRES: b is lower case.
inline bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct RequestHead {
  std::string_view method;
  std::string_view path;       // without the query string
  std::string_view raw_headers;  // header lines only, each ending "\r\n"
  uint64_t content_length = 0;
  bool keep_alive = true;
  bool chunked = false;
  bool expect_continue = false;
  size_t head_bytes = 0;  // request line + headers + the blank line
};

enum class ParseStatus { kNeedMore, kOk, kBad };

// Parses the head of the request at the start of `in`. kNeedMore: no complete
// header block yet. The views in *head point into `in`.
inline ParseStatus ParseHead(std::string_view in, RequestHead* head) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return ParseStatus::kNeedMore;
  head->head_bytes = end + 4;
  size_t line_end = in.find("\r\n");
  std::string_view line = in.substr(0, line_end);
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return ParseStatus::kBad;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return ParseStatus::kBad;
  head->method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t q = target.find('?');
  head->path = q == std::string_view::npos ? target : target.substr(0, q);
  std::string_view version = line.substr(sp2 + 1);
  if (version.substr(0, 5) != "HTTP/") return ParseStatus::kBad;
  head->keep_alive = version != "HTTP/1.0";
  head->content_length = 0;
  head->chunked = false;
  head->expect_continue = false;

  // Header lines: from after the request line up to and including the last "\r\n".
  size_t hstart = line_end + 2;
  head->raw_headers = hstart <= end ? in.substr(hstart, end + 2 - hstart) : std::string_view();
  std::string_view rest = head->raw_headers;
  while (!rest.empty()) {
    size_t eol = rest.find("\r\n");
    std::string_view h = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) return ParseStatus::kBad;
    std::string_view name = h.substr(0, colon);
    std::string_view value = Trim(h.substr(colon + 1));
    switch (name.size()) {
      case 14:
        if (IEquals(name, "content-length")) {
          uint64_t n = 0;
          if (value.empty()) return ParseStatus::kBad;
          for (char c : value) {
            if (c < '0' || c > '9' || n > (uint64_t{1} << 40)) return ParseStatus::kBad;
            n = n * 10 + static_cast<uint64_t>(c - '0');
          }
          head->content_length = n;
        }
        break;
      case 10:
        if (IEquals(name, "connection")) {
          if (IEquals(value, "close")) head->keep_alive = false;
          if (IEquals(value, "keep-alive")) head->keep_alive = true;
        }
        break;
      case 17:
        if (IEquals(name, "transfer-encoding")) head->chunked = true;
        break;
      case 6:
        if (IEquals(name, "expect") && IEquals(value, "100-continue")) head->expect_continue = true;
        break;
      default:
        break;
    }
  }
  return ParseStatus::kOk;
}

// Returns the header lines as (lower-cased name, value) pairs, duplicates joined
// with ", ". Only used by the echo behaviour, so it may allocate.
inline std::vector<std::pair<std::string, std::string>> HeaderList(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!raw.empty()) {
    size_t eol = raw.find("\r\n");
    std::string_view h = raw.substr(0, eol);
    raw.remove_prefix(eol == std::string_view::npos ? raw.size() : eol + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(h.substr(0, colon));
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    std::string value(Trim(h.substr(colon + 1)));
    bool merged = false;
    for (auto& [n, v] : out) {
      if (n == name) {
        v += ", ";
        v += value;
        merged = true;
        break;
      }
    }
    if (!merged) out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

// True when `path` ends with `suffix`.
inline bool EndsWith(std::string_view path, std::string_view suffix) {
  return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
}

}  // namespace mock
