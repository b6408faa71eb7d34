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
  Authenticator(config::AuthMode mode, const std::vector<config::ClientKey>& keys);

  // Accepts "Authorization: Bearer KEY" or "x-api-key: KEY". Returns the key's
  // configured name ("" when auth is none), or nullopt when the request must
  // be refused with 401.
  std::optional<std::string_view> Check(std::string_view authorization, std::string_view x_api_key) const;

  // The key presented in either header, or "" when none.
  static std::string_view PresentedKey(std::string_view authorization, std::string_view x_api_key);

 private:
  static std::string Digest(std::string_view key);

  config::AuthMode mode_;
  std::unordered_map<std::string, std::string> names_by_digest_;
};

}  // namespace sy
