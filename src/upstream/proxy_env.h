// HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read the way curl and most HTTP clients
// read them: upper- or lower-case names (lower-case wins), NO_PROXY a comma
// list of host names, domain suffixes (".example.com" or "example.com" both
// match sub-domains), IP addresses, optional ":port", or "*" for everything.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "upstream/url.h"

namespace sy::upstream {

class ProxySettings {
 public:
  ProxySettings() = default;
  static ProxySettings FromEnv(const config::EnvLookup& env);

  // The proxy to use for a request to `target`, or nullopt for a direct connection.
  std::optional<Url> ProxyFor(const Url& target) const;

 private:
  struct NoProxyEntry {
    std::string host;  // lower-cased, leading dot stripped
    uint16_t port = 0; // 0 = any port
  };
  bool Bypass(const Url& target) const;

  std::optional<Url> https_proxy_;
  std::optional<Url> http_proxy_;
  bool no_proxy_all_ = false;
  std::vector<NoProxyEntry> no_proxy_;
};

}  // namespace sy::upstream
