// The access log line: one per request, on stderr, when server.access_log is on.
#pragma once

#include <string>
#include <string_view>

namespace sy {

// The request target with the values of secret-bearing query parameters
// (key, api_key, apikey, api-key, access_token, token, secret, password,
// sig, signature; any case) replaced by "REDACTED", and control bytes
// escaped as \xHH so a target cannot forge log lines. Cut to 512 bytes.
std::string RedactTarget(std::string_view target);

struct AccessRecord {
  std::string_view request_id;
  std::string_view client;  // the client's address (see net::ClientAddress)
  std::string_view method;
  std::string_view target;  // raw; redacted here
  int status = 0;           // 0 = no response was sent
  double millis = 0;
  bool client_closed = false;
};

// "access id=... client=... METHOD /path?key=REDACTED 200 1.234ms [client closed]"
std::string FormatAccessLine(const AccessRecord& r);

}  // namespace sy
