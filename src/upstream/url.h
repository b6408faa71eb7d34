// Minimal absolute-URL parsing for upstream base URLs and proxy URLs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sy::upstream {

struct Url {
  std::string scheme;    // "http" or "https", lower-cased
  std::string userinfo;  // "user:pass" (proxy URLs), percent-decoded; may be empty
  std::string host;      // lower-cased; IPv6 without brackets
  uint16_t port = 0;     // explicit or the scheme's default
  std::string path;      // starts with "/" ("/" when absent); no query
  std::string query;     // after "?", without it; empty when absent. No fragment.

  bool tls() const { return scheme == "https"; }
  // "host:port", IPv6 in brackets: the CONNECT target and the pool key part.
  std::string Authority() const;
  // Value for the Host header: port omitted when it is the scheme default.
  std::string HostHeader() const;
  // The origin-form request target: path, plus "?query" when there is one.
  std::string Target() const;
};

// Parses "scheme://[userinfo@]host[:port][/path][?query][#fragment]". Accepts
// http and https only; with default_http, a URL without scheme ("proxy:3128")
// is read as http. Rejects empty hosts, bad ports, and any control character or
// space anywhere (so nothing parsed can inject into a request line or header).
std::optional<Url> ParseUrl(std::string_view text, bool default_http = false);

// Joins a base path ("/v1") and an endpoint path ("/chat/completions").
std::string JoinPath(std::string_view base, std::string_view tail);

}  // namespace sy::upstream
