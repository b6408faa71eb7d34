// Internal: finding the secrets in a store URL, so that no message carries
// them. MaskStoreUrl (store.h) is the public face.
#pragma once

#include <string>
#include <vector>

namespace sy::gov {

// The password of `url` as written (userinfo "user:PASSWORD@", or a
// "password=" query or key=value parameter), and percent-decoded when that
// differs; empty strings are left out.
std::vector<std::string> UrlSecrets(const std::string& url);

// `message` with every occurrence of each secret replaced by "****".
std::string ScrubSecrets(std::string message, const std::vector<std::string>& secrets);

}  // namespace sy::gov
