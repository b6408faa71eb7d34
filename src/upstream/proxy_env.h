// HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read the way curl and most HTTP clients
// read them: upper- or lower-case names (lower-case wins), NO_PROXY a comma
// list of host names, domain suffixes (".example.com" or "example.com" both
// match sub-domains), IP addresses or CIDR blocks ("10.0.0.0/8"), optional
// ":port", or "*" for everything. A variable set to the empty string counts as
// unset. Loopback targets get no special treatment: only NO_PROXY bypasses.
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
    int ip_family = 0;  // 4 or 6 for an IP or CIDR entry (host then unused); 0 = name
    int prefix_bits = 0;
    unsigned char ip[16] = {};
  };
  bool Bypass(const Url& target) const;

  std::optional<Url> https_proxy_;
  std::optional<Url> http_proxy_;
  bool no_proxy_all_ = false;
  std::vector<NoProxyEntry> no_proxy_;
};

}  // namespace sy::upstream
