#include "server/access_log.h"

#include <array>
#include <cstdio>

#include <boost/beast/core/string.hpp>

namespace sy {
namespace {

constexpr size_t kMaxLoggedTarget = 512;
constexpr std::array<std::string_view, 10> kSecretParams = {
    "key", "api_key", "apikey", "api-key", "access_token", "token", "secret", "password", "sig", "signature"};

bool IsSecretParam(std::string_view name) {
  for (auto s : kSecretParams) {
    if (boost::beast::iequals(name, s)) return true;
  }
  return false;
}

void AppendEscaped(std::string* out, std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      *out += buf;
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

std::string RedactTarget(std::string_view target) {
  std::string out;
  const size_t q = target.find('?');
  AppendEscaped(&out, target.substr(0, q));
  if (q != std::string_view::npos) {
    out.push_back('?');
    std::string_view query = target.substr(q + 1);
    bool first = true;
    while (true) {
      const size_t amp = query.find('&');
      std::string_view param = query.substr(0, amp);
      if (!first) out.push_back('&');
      first = false;
      const size_t eq = param.find('=');
      std::string_view name = param.substr(0, eq);
      if (eq != std::string_view::npos && IsSecretParam(name)) {
        AppendEscaped(&out, name);
        out += "=REDACTED";
      } else {
        AppendEscaped(&out, param);
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  if (out.size() > kMaxLoggedTarget) {
    out.resize(kMaxLoggedTarget);
    out += "...";
  }
  return out;
}

std::string FormatAccessLine(const AccessRecord& r) {
  std::string line = "access id=";
  line += r.request_id;
  line += " client=";
  line += r.client;
  line += ' ';
  AppendEscaped(&line, r.method.substr(0, 32));
  line += ' ';
  line += RedactTarget(r.target);
  line += ' ';
  line += std::to_string(r.status);
  char ms[32];
  std::snprintf(ms, sizeof ms, " %.3fms", r.millis);
  line += ms;
  if (r.client_closed) line += " (client closed)";
  return line;
}

}  // namespace sy
