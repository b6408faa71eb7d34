#include "server/auth.h"

namespace sy {

std::string_view PresentedKey(std::string_view authorization, std::string_view x_api_key) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size()) {
    std::string_view scheme = authorization.substr(0, kBearer.size());
    bool is_bearer = true;
    for (size_t i = 0; i < kBearer.size(); ++i) {
      char a = scheme[i], b = kBearer[i];
      if (a != b && !(a >= 'A' && a <= 'Z' && a + 32 == b) && !(a >= 'a' && a <= 'z' && a - 32 == b)) {
        is_bearer = false;
      }
    }
    if (is_bearer) {
      std::string_view key = authorization.substr(kBearer.size());
      while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
      while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
      if (!key.empty()) return key;
    }
  }
  return x_api_key;
}

}  // namespace sy
