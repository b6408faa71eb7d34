#pragma once
namespace sy {
inline constexpr const char* kVersion = "0.1.0";
inline constexpr const char* kProductName = "Switchyard";
}  // namespace sy
