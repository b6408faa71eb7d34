#include "server/request_id.h"

#include <atomic>
#include <chrono>
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
  // Time first, as UUIDv7 does: 12 hex digits of unix milliseconds, then 80
  // random bits. Ids sort by time, so the usage table's primary key index
  // grows at its right edge instead of touching a random page per row.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  uint64_t ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  for (size_t i = 12; i-- > 0; ms >>= 4) out[i] = kHex[ms & 0xF];
  // Then a process-wide sequence, so ids minted in one millisecond still sort
  // in the order they were minted, then 64 random bits.
  static std::atomic<uint32_t> sequence{0};
  uint32_t seq = sequence.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 16; i-- > 12; seq >>= 4) out[i] = kHex[seq & 0xF];
  uint64_t a = rng();
  for (size_t i = 16; i < 32; ++i, a >>= 4) out[i] = kHex[a & 0xF];
  return out;
}

std::string RequestIdFor(std::string_view client_id) {
  if (IsValidRequestId(client_id)) return std::string(client_id);
  return NewRequestId();
}

}  // namespace sy
