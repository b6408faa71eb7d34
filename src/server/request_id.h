// Request ids: every response carries `x-request-id`, and the access log line
// for the request carries the same id. A client (or the proxy in front) may
// choose it; an id that is not a short token is replaced.
#pragma once

#include <string>
#include <string_view>

namespace sy {

inline constexpr size_t kMaxRequestIdBytes = 128;

// True for 1..128 bytes of letters, digits and - _ . : / + = (UUIDs, ULIDs,
// base64, "trace:span" forms). Nothing that could split a log line or header.
bool IsValidRequestId(std::string_view id);

// A new id: 32 lowercase hex digits: 12 of unix time in milliseconds, 4 of a
// process-wide sequence (ids sort by when they were minted, like UUIDv7), 16
// from a per-thread generator (unique, not secret).
std::string NewRequestId();

// The client's id when valid, else a new one.
std::string RequestIdFor(std::string_view client_id);

}  // namespace sy
