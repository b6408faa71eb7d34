// Process-wide logging to stderr. Not for the hot path: the access log line is
// the only per-request use, and it is off by default.
//
// Never pass secrets (client keys, provider key values) to these functions;
// log the key's name or id instead.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace sy::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
Level GetLevel();
// Writes one line "2026-11-22T05:13:17.123Z LEVEL message" to stderr, atomically.
void Write(Level level, std::string_view message);

template <typename... Args>
void Logf(Level level, const Args&... args) {
  if (level < GetLevel()) return;
  std::ostringstream out;
  (out << ... << args);
  Write(level, out.str());
}
template <typename... Args> void Debug(const Args&... a) { Logf(Level::kDebug, a...); }
template <typename... Args> void Info(const Args&... a) { Logf(Level::kInfo, a...); }
template <typename... Args> void Warn(const Args&... a) { Logf(Level::kWarn, a...); }
template <typename... Args> void Error(const Args&... a) { Logf(Level::kError, a...); }

}  // namespace sy::log
