// Small decoders shared by the URL parser, the router and the JSON scanner.
#pragma once

#include <string>
#include <string_view>

namespace sy::text {

// The value of a hexadecimal digit (either case), or -1.
int HexDigitValue(char c);

// Decodes %XX escapes of `in` into *out. A malformed escape (not two hex
// digits) is copied as it is and makes the result false; callers that must
// reject such input check it, the others use *out regardless.
bool PercentDecode(std::string_view in, std::string* out);

}  // namespace sy::text
