#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <deque>
#include <mutex>

namespace sy::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

std::mutex g_recent_mu;
std::deque<Line>& RecentLines() {
  static auto* lines = new std::deque<Line>();  // never destroyed: threads may log during exit
  return *lines;
}
}  // namespace

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO";
    case Level::kWarn: return "WARN";
    case Level::kError: return "ERROR";
  }
  return "INFO";
}

bool ParseLevel(std::string_view text, Level* out) {
  std::string t(text);
  for (char& c : t) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (t == "debug") *out = Level::kDebug;
  else if (t == "info") *out = Level::kInfo;
  else if (t == "warn" || t == "warning") *out = Level::kWarn;
  else if (t == "error") *out = Level::kError;
  else return false;
  return true;
}

std::vector<Line> Recent(size_t limit, Level min, std::string_view contains) {
  std::vector<Line> out;
  std::lock_guard<std::mutex> lock(g_recent_mu);
  const auto& lines = RecentLines();
  for (auto it = lines.rbegin(); it != lines.rend() && out.size() < limit; ++it) {
    if (it->level < min) continue;
    if (!contains.empty() && it->message.find(contains) == std::string::npos) continue;
    out.push_back(*it);
  }
  return {out.rbegin(), out.rend()};
}

void ClearRecent() {
  std::lock_guard<std::mutex> lock(g_recent_mu);
  RecentLines().clear();
}

void SetLevel(Level level) { g_level.store(static_cast<int>(level)); }
Level GetLevel() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

void Write(Level level, std::string_view message) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t secs = system_clock::to_time_t(now);
  int millis = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line;
  line.reserve(message.size() + 48);
  line.append(stamp, n);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03dZ ", millis);
  line.append(ms);
  line.append(LevelName(level));
  line.push_back(' ');
  line.append(message);
  line.push_back('\n');
  {
    std::lock_guard<std::mutex> lock(g_recent_mu);
    auto& lines = RecentLines();
    if (lines.size() >= kRecentLines) lines.pop_front();
    lines.push_back(Line{duration_cast<milliseconds>(now.time_since_epoch()).count(), level, std::string(message)});
  }
  // One write(2) per line keeps lines from different threads whole.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace sy::log
