#include "server/request_id.h"

#include <random>

namespace sy {

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=';
    if (!ok) return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (size_t half = 0; half < 2; ++half) {
    uint64_t v = rng();
    for (size_t i = 0; i < 16; ++i, v >>= 4) out[half * 16 + i] = kHex[v & 0xF];
  }
  return out;
}

std::string RequestIdFor(std::string_view client_id) {
  if (IsValidRequestId(client_id)) return std::string(client_id);
  return NewRequestId();
}

}  // namespace sy
