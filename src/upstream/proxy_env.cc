#include "upstream/proxy_env.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "common/log.h"

namespace sy::upstream {
namespace {

// The first non-empty value of `lower` then `upper`.
std::optional<std::string> ReadVar(const config::EnvLookup& env, const char* lower, const char* upper,
                                   const char** used) {
  for (const char* name : {lower, upper}) {
    auto value = env(name);
    if (value && !value->empty()) {
      *used = name;
      return value;
    }
  }
  return std::nullopt;
}

std::optional<Url> ReadProxy(const config::EnvLookup& env, const char* lower, const char* upper) {
  const char* used = nullptr;
  auto value = ReadVar(env, lower, upper, &used);
  if (!value) return std::nullopt;
  auto url = ParseUrl(*value, /*default_http=*/true);
  // The value may hold credentials: name the variable, never print it.
  if (!url) log::Warn("ignoring ", used, ": not an http:// or https:// proxy URL");
  return url;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses an IPv4 or IPv6 literal into 4 or 16 bytes; returns the family or 0.
int ParseIp(std::string_view text, unsigned char out[16]) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof(buf)) return 0;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (inet_pton(AF_INET, buf, out) == 1) return 4;
  if (inet_pton(AF_INET6, buf, out) == 1) return 6;
  return 0;
}

bool PrefixMatches(const unsigned char* a, const unsigned char* b, int bits) {
  int whole = bits / 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

bool ParsePort(std::string_view text, uint16_t* port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

ProxySettings ProxySettings::FromEnv(const config::EnvLookup& env) {
  ProxySettings s;
  s.https_proxy_ = ReadProxy(env, "https_proxy", "HTTPS_PROXY");
  s.http_proxy_ = ReadProxy(env, "http_proxy", "HTTP_PROXY");

  const char* used = nullptr;
  auto no_proxy = ReadVar(env, "no_proxy", "NO_PROXY", &used);
  if (!no_proxy) return s;
  std::string_view rest = *no_proxy;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    if (item == "*") {
      s.no_proxy_all_ = true;
      continue;
    }
    NoProxyEntry entry;
    std::string_view host = item;
    if (host.front() == '[') {  // [v6] or [v6]:port
      size_t close = host.find(']');
      if (close == std::string_view::npos) continue;
      std::string_view after = host.substr(close + 1);
      host = host.substr(1, close - 1);
      if (!after.empty() && (after.front() != ':' || !ParsePort(after.substr(1), &entry.port))) continue;
    } else if (std::count(host.begin(), host.end(), ':') == 1) {  // name:port or v4:port
      size_t colon = host.find(':');
      if (!ParsePort(host.substr(colon + 1), &entry.port)) continue;
      host = host.substr(0, colon);
    }
    // CIDR block or IP literal.
    std::string_view addr = host;
    int bits = -1;
    if (size_t slash = host.find('/'); slash != std::string_view::npos) {
      addr = host.substr(0, slash);
      std::string_view bits_text = host.substr(slash + 1);
      unsigned value = 0;
      auto [end, ec] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), value);
      if (ec != std::errc() || end != bits_text.data() + bits_text.size()) continue;
      bits = static_cast<int>(value);
    }
    if (int family = ParseIp(addr, entry.ip); family != 0) {
      int max_bits = family == 4 ? 32 : 128;
      if (bits > max_bits) continue;
      entry.ip_family = family;
      entry.prefix_bits = bits < 0 ? max_bits : bits;
      s.no_proxy_.push_back(std::move(entry));
      continue;
    }
    if (bits >= 0) continue;  // "name/8" is nonsense
    // Domain name: "*.example.com", ".example.com" and "example.com" are equal.
    if (host.substr(0, 2) == "*.") host.remove_prefix(1);
    while (!host.empty() && host.front() == '.') host.remove_prefix(1);
    while (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (host.empty()) continue;
    entry.host.assign(host);
    for (char& c : entry.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    s.no_proxy_.push_back(std::move(entry));
  }
  return s;
}

std::optional<Url> ProxySettings::ProxyFor(const Url& target) const {
  const std::optional<Url>& proxy = target.tls() ? https_proxy_ : http_proxy_;
  if (!proxy || Bypass(target)) return std::nullopt;
  return proxy;
}

bool ProxySettings::Bypass(const Url& target) const {
  if (no_proxy_all_) return true;
  if (no_proxy_.empty()) return false;
  std::string_view host = target.host;
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);  // "example.com." is absolute
  unsigned char ip[16];
  int family = -1;  // parsed lazily: most lists hold only names
  for (const NoProxyEntry& e : no_proxy_) {
    if (e.port != 0 && e.port != target.port) continue;
    if (e.ip_family != 0) {
      if (family < 0) family = ParseIp(host, ip);
      if (family == e.ip_family && PrefixMatches(ip, e.ip, e.prefix_bits)) return true;
      continue;
    }
    if (host.size() == e.host.size()) {
      if (host == e.host) return true;
    } else if (host.size() > e.host.size() && host[host.size() - e.host.size() - 1] == '.' &&
               host.substr(host.size() - e.host.size()) == e.host) {
      return true;
    }
  }
  return false;
}

}  // namespace sy::upstream
