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

  bool tls() const { return scheme == "https"; }
  // "host:port", IPv6 in brackets: the CONNECT target and the pool key part.
  std::string Authority() const;
  // Value for the Host header: port omitted when it is the scheme default.
  std::string HostHeader() const;
};

// Parses "scheme://[userinfo@]host[:port][/path]". Accepts http and https only;
// a proxy URL without scheme ("proxy:3128") is read as http.
std::optional<Url> ParseUrl(std::string_view text, bool default_http = false);

// Joins a base path ("/v1") and an endpoint path ("/chat/completions").
std::string JoinPath(std::string_view base, std::string_view tail);

}  // namespace sy::upstream
