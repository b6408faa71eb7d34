#include "server/auth.h"

#include <openssl/evp.h>

namespace sy {

bool Authenticator::Sha256(std::string_view key, std::string* out) {
  // Fetched once: SHA256() looks the implementation up again on every call,
  // which costs more than hashing a short key.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (kSha256 == nullptr) return false;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(key.data(), key.size(), md, &length, kSha256, nullptr) != 1 || length != 32) return false;
  out->assign(reinterpret_cast<const char*>(md), length);
  return true;
}

Authenticator::Authenticator(config::AuthMode mode, const std::vector<config::ClientKey>& keys, Hasher hasher)
    : hasher_(hasher), mode_(mode) {
  // A known answer first: a hasher that "works" but returns a constant would
  // make every key match every other.
  static constexpr unsigned char kAbc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                             0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                             0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  std::string probe;
  ready_ = hasher_("abc", &probe) && probe == std::string_view(reinterpret_cast<const char*>(kAbc), sizeof kAbc);
  if (!ready_) return;
  for (const auto& k : keys) {
    std::string digest;
    if (!hasher_(k.key, &digest)) {
      ready_ = false;
      names_by_digest_.clear();
      return;
    }
    names_by_digest_.emplace(std::move(digest), k.name);
  }
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
  return CheckKey(PresentedKey(authorization, x_api_key));
}

std::optional<std::string_view> Authenticator::CheckKey(std::string_view key) const {
  if (mode_ == config::AuthMode::kNone) return std::string_view{};
  if (!ready_) return std::nullopt;  // fail closed
  if (key.empty()) return std::nullopt;
  std::string digest;
  if (!hasher_(key, &digest)) return std::nullopt;
  auto it = names_by_digest_.find(digest);
  if (it == names_by_digest_.end()) return std::nullopt;
  return std::string_view(it->second);
}

}  // namespace sy
