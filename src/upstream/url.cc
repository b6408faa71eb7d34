#include "upstream/url.h"

#include "common/text_codec.h"

#include <algorithm>
#include <charconv>

namespace sy::upstream {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return Lower(x) == Lower(y);
         });
}

bool HasControlOrSpace(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// Host names: letters, digits, '-', '.', '_'. IPv6 literals are checked apart.
bool ValidRegName(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
}

bool ValidIpv6Literal(std::string_view host) {
  if (host.empty() || host.find(':') == std::string_view::npos) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return text::HexDigitValue(c) >= 0 || c == ':' || c == '.' || c == '%' || c == '-' || c == '_' ||
           (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z');  // zone ids ("%eth0")
  });
}

uint16_t DefaultPort(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

}  // namespace

std::optional<Url> ParseUrl(std::string_view text, bool default_http) {
  if (text.empty() || HasControlOrSpace(text)) return std::nullopt;
  Url url;
  std::string_view rest = text;
  if (size_t sep = rest.find("://"); sep != std::string_view::npos) {
    std::string_view scheme = rest.substr(0, sep);
    if (EqualsIgnoreCase(scheme, "http")) {
      url.scheme = "http";
    } else if (EqualsIgnoreCase(scheme, "https")) {
      url.scheme = "https";
    } else {
      return std::nullopt;
    }
    rest.remove_prefix(sep + 3);
  } else if (default_http) {
    url.scheme = "http";
  } else {
    return std::nullopt;
  }

  // Authority ends at the first '/', '?' or '#'.
  size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view tail = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);

  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    if (!text::PercentDecode(authority.substr(0, at), &url.userinfo)) return std::nullopt;
    authority.remove_prefix(at + 1);
  }

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    if (!ValidIpv6Literal(host)) return std::nullopt;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (!ValidRegName(host)) return std::nullopt;
  }
  url.host = LowerCopy(host);

  url.port = DefaultPort(url.scheme);
  if (has_port && !port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    url.port = static_cast<uint16_t>(value);
  }

  if (size_t hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  std::string_view path = tail;
  if (size_t q = tail.find('?'); q != std::string_view::npos) {
    path = tail.substr(0, q);
    url.query = std::string(tail.substr(q + 1));
  }
  if (path.empty()) {
    url.path.push_back('/');  // not `= "/"`: GCC 12 -O3 warns falsely (-Wrestrict)
  } else {
    url.path.assign(path);
  }
  return url;
}

std::string Url::Authority() const {
  std::string out;
  bool v6 = host.find(':') != std::string::npos;
  out.reserve(host.size() + 8);
  if (v6) out.push_back('[');
  out += host;
  if (v6) out.push_back(']');
  out.push_back(':');
  out += std::to_string(port);
  return out;
}

std::string Url::HostHeader() const {
  if (port == DefaultPort(scheme)) {
    if (host.find(':') == std::string::npos) return host;
    return "[" + host + "]";
  }
  return Authority();
}

std::string Url::Target() const {
  if (query.empty()) return path;
  std::string out;
  out.reserve(path.size() + 1 + query.size());
  out += path;
  out.push_back('?');
  out += query;
  return out;
}

std::string JoinPath(std::string_view base, std::string_view tail) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!tail.empty() && tail.front() == '/') tail.remove_prefix(1);
  std::string out;
  out.reserve(base.size() + tail.size() + 2);
  if (base.empty() || base.front() != '/') out.push_back('/');
  out += base;
  if (!tail.empty()) {
    if (out.back() != '/') out.push_back('/');
    out += tail;
  }
  return out;
}

}  // namespace sy::upstream
