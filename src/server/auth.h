// Where a client's key is in a request. Checking it is Governance's
// (src/governance/governance.h): keys are looked up by SHA-256 digest in the
// key table.
#pragma once

#include <string_view>

namespace sy {

// The key presented as "Authorization: Bearer KEY" (scheme in any case,
// spaces around the key ignored) or, failing that, "x-api-key: KEY"; "" when
// neither.
std::string_view PresentedKey(std::string_view authorization, std::string_view x_api_key);

}  // namespace sy
