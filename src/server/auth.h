// Client authentication. Keys are kept only as SHA-256 digests, so a lookup
// takes the same time whatever the presented key, and a memory dump does not
// show them. Immutable after construction; shared by all threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"

namespace sy {

class Authenticator {
 public:
  // Digest of a key into *out; false when it cannot be computed. A seam so
  // that tests can make hashing fail.
  using Hasher = bool (*)(std::string_view key, std::string* out);
  static bool Sha256(std::string_view key, std::string* out);

  // REQUIRES: hasher is non-null.
  Authenticator(config::AuthMode mode, const std::vector<config::ClientKey>& keys, Hasher hasher = &Sha256);

  // False when keys are required but cannot be hashed (OpenSSL without
  // SHA-256, or the hash of a known input came out wrong). Auth fails
  // closed: Check then refuses every key, and the server refuses to start.
  bool ready() const { return mode_ == config::AuthMode::kNone || ready_; }

  // Accepts "Authorization: Bearer KEY" or "x-api-key: KEY". Returns the key's
  // configured name ("" when auth is none), or nullopt when the request must
  // be refused with 401.
  std::optional<std::string_view> Check(std::string_view authorization, std::string_view x_api_key) const;

  // Checks a key however it was presented ("" = none).
  std::optional<std::string_view> CheckKey(std::string_view key) const;

  // The key presented in either header, or "" when none.
  static std::string_view PresentedKey(std::string_view authorization, std::string_view x_api_key);

 private:
  Hasher hasher_;
  config::AuthMode mode_;
  bool ready_ = false;
  std::unordered_map<std::string, std::string> names_by_digest_;
};

}  // namespace sy
