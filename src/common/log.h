// Process-wide logging to stderr. Not for the hot path: the access log line is
// the only per-request use, and it is off by default.
//
// Never pass secrets (client keys, provider key values) to these functions;
// log the key's name or id instead.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace sy::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
Level GetLevel();
// Writes one line "2026-11-22T05:13:17.123Z LEVEL message" to stderr, atomically.
void Write(Level level, std::string_view message);

// The last lines written (at most kRecentLines), kept in memory for the admin
// API's log endpoints. Newest last.
inline constexpr size_t kRecentLines = 2000;
struct Line {
  int64_t unix_ms = 0;
  Level level = Level::kInfo;
  std::string message;
};
// Up to `limit` newest lines at `min` or above whose message contains
// `contains` ("" = any), oldest first.
std::vector<Line> Recent(size_t limit, Level min, std::string_view contains);
void ClearRecent();
const char* LevelName(Level level);
// "debug"/"info"/"warn"/"warning"/"error" (any case); false otherwise.
bool ParseLevel(std::string_view text, Level* out);

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
