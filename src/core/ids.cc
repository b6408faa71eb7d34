#include "core/ids.h"

#include <cstdint>
#include <random>

namespace sy::chat {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr size_t kMaxToolId = 40;  // OpenAI's limit; Anthropic allows 64

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool Allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

std::string NewId(std::string_view prefix, size_t hex) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(prefix);
  uint64_t bits = 0;
  for (size_t i = 0; i < hex; ++i) {
    if (i % 16 == 0) bits = rng();
    out.push_back(kHex[bits & 0xF]);
    bits >>= 4;
  }
  return out;
}

std::string SafeToolId(std::string_view original, std::string_view prefix) {
  if (original.empty()) return NewId(prefix);
  bool ok = original.size() <= kMaxToolId;
  for (char c : original) ok = ok && Allowed(c);
  if (ok) return std::string(original);
  std::string out;
  for (char c : original) {
    if (Allowed(c)) out.push_back(c);
    if (out.size() == kMaxToolId - 9) break;
  }
  out.push_back('_');
  uint64_t h = Fnv1a(original);
  for (int i = 0; i < 8; ++i) {
    out.push_back(kHex[h & 0xF]);
    h >>= 4;
  }
  return out;
}

}  // namespace sy::chat
