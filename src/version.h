#pragma once
namespace sy {
inline constexpr const char* kVersion = "0.1.0";
inline constexpr const char* kProductName = "Switchyard";
// What GET /api/version reports: the Ollama API version the Ollama front door
// answers like (clients such as VS Code refuse versions older than they need).
inline constexpr const char* kOllamaApiVersion = "0.12.0";
}  // namespace sy
