#include "server/auth.h"

#include <openssl/evp.h>

namespace sy {

Authenticator::Authenticator(config::AuthMode mode, const std::vector<config::ClientKey>& keys) : mode_(mode) {
  for (const auto& k : keys) names_by_digest_.emplace(Digest(k.key), k.name);
}

std::string Authenticator::Digest(std::string_view key) {
  // Fetched once: SHA256() looks the implementation up again on every call,
  // which costs more than hashing a short key.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(key.data(), key.size(), md, &length, kSha256, nullptr);
  return std::string(reinterpret_cast<const char*>(md), length);
}

std::string_view Authenticator::PresentedKey(std::string_view authorization, std::string_view x_api_key) {
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

std::optional<std::string_view> Authenticator::Check(std::string_view authorization, std::string_view x_api_key) const {
  if (mode_ == config::AuthMode::kNone) return std::string_view{};
  std::string_view key = PresentedKey(authorization, x_api_key);
  if (key.empty()) return std::nullopt;
  auto it = names_by_digest_.find(Digest(key));
  if (it == names_by_digest_.end()) return std::nullopt;
  return std::string_view(it->second);
}

}  // namespace sy
