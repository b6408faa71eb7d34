// Fuzzes the upstream URL parser (src/upstream/url.h) and the proxy settings
// read from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (src/upstream/proxy_env.h).
//
// Input: up to four lines: a target URL, https_proxy, http_proxy, no_proxy.
// Invariants:
//   - a parsed URL has scheme http or https, a non-empty host, a port other
//     than 0, a path starting with "/", and no control character or space in
//     host, path or query;
//   - printing it back as scheme://Authority()Target() and parsing that gives
//     the same scheme, host, port, path and query;
//   - JoinPath always gives a path starting with "/";
//   - ProxyFor gives either no proxy or the proxy configured for the target's
//     scheme; never one with NO_PROXY=*; and the same answer for "host" and
//     the absolute name "host.".
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "upstream/proxy_env.h"
#include "upstream/url.h"

namespace {

using sy::upstream::ParseUrl;
using sy::upstream::ProxySettings;
using sy::upstream::Url;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Clean(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

bool SameUrl(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.path == b.path && a.query == b.query;
}

bool SameProxy(const std::optional<Url>& a, const std::optional<Url>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (SameUrl(*a, *b) && a->userinfo == b->userinfo);
}

std::optional<Url> ParseAndCheck(std::string_view text, bool default_http) {
  auto url = ParseUrl(text, default_http);
  if (!url) return url;
  Check(url->scheme == "http" || url->scheme == "https");
  Check(!url->host.empty() && url->port != 0);
  Check(!url->path.empty() && url->path.front() == '/');
  Check(Clean(url->host) && Clean(url->path) && Clean(url->query));
  auto again = ParseUrl(url->scheme + "://" + url->Authority() + url->Target());
  Check(again && SameUrl(*url, *again));
  Check(!sy::upstream::JoinPath(url->path, url->query).empty());
  Check(sy::upstream::JoinPath(url->path, url->query).front() == '/');
  return url;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  while (lines.size() < 3) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) break;
    lines.emplace_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  lines.emplace_back(rest);
  lines.resize(4);

  for (const auto& line : lines) {
    ParseAndCheck(line, false);
    ParseAndCheck(line, true);
  }

  const std::map<std::string, std::string> vars = {
      {"https_proxy", lines[1]}, {"http_proxy", lines[2]}, {"NO_PROXY", lines[3]}};
  const sy::config::EnvLookup env = [&vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  const ProxySettings proxy = ProxySettings::FromEnv(env);

  auto target = ParseAndCheck(lines[0], false);
  if (!target) return 0;
  const auto chosen = proxy.ProxyFor(*target);
  const auto configured = lines[target->tls() ? 1 : 2].empty()
                              ? std::nullopt
                              : ParseUrl(lines[target->tls() ? 1 : 2], /*default_http=*/true);
  Check(!chosen || SameProxy(chosen, configured));
  if (chosen) {
    // NO_PROXY=* (any item "*") turns every proxy off.
    std::string_view list = lines[3];
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      Check(item != "*");
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  if (target->host.find(':') == std::string::npos) {
    Url absolute = *target;
    absolute.host += '.';
    Check(SameProxy(proxy.ProxyFor(absolute), chosen));
  }
  return 0;
}
