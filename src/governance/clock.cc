#include "governance/clock.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "governance/types.h"

namespace sy::gov {
namespace {

// Days since 1970-01-01 of a civil date, and back (Howard Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

constexpr int64_t kDayMs = 86400000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string Date(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

}  // namespace

int64_t FileOffsetClock::NowMs() const {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  if (now - read_at_ms_.load(std::memory_order_relaxed) >= 100) {
    read_at_ms_.store(now, std::memory_order_relaxed);
    std::ifstream in(path_);
    double seconds = 0;
    if (in >> seconds) offset_ms_.store(static_cast<int64_t>(seconds * 1000), std::memory_order_relaxed);
  }
  return now + offset_ms_.load(std::memory_order_relaxed);
}

Window WindowOf(int period, int64_t t_ms) {
  Window w;
  const int64_t days = FloorDiv(t_ms, kDayMs);
  switch (static_cast<BudgetPeriod>(period)) {
    case BudgetPeriod::kNone:
      w.id = "all";
      return w;
    case BudgetPeriod::kDaily:
      w.start_ms = days * kDayMs;
      w.end_ms = w.start_ms + kDayMs;
      w.id = "d" + Date(days);
      return w;
    case BudgetPeriod::kWeekly: {
      // 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7.
      const int64_t monday = days - ((days % 7 + 7 + 3) % 7);
      w.start_ms = monday * kDayMs;
      w.end_ms = w.start_ms + 7 * kDayMs;
      w.id = "w" + Date(monday);
      return w;
    }
    case BudgetPeriod::kMonthly: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(days, &y, &m, &d);
      w.start_ms = DaysFromCivil(y, m, 1) * kDayMs;
      w.end_ms = (m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1)) * kDayMs;
      w.id = "m" + Date(DaysFromCivil(y, m, 1)).substr(0, 7);
      return w;
    }
  }
  w.id = "all";
  return w;
}

std::string IsoTime(int64_t ms) {
  const int64_t days = FloorDiv(ms, kDayMs);
  const int64_t rest = ms - days * kDayMs;
  const int64_t s = rest / 1000;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lldZ", Date(days).c_str(), static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buf;
}

std::optional<int64_t> ParseIsoTime(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double sec = 0;
  int n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970 || y > 9999) return std::nullopt;
  int64_t ms = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * kDayMs;
  if (text.size() == 10) return ms;
  int m2 = 0;
  if ((text[10] != 'T' && text[10] != ' ') ||
      std::sscanf(text.c_str() + 11, "%2d:%2d:%lf%n", &h, &mi, &sec, &m2) != 3) {
    return std::nullopt;
  }
  if (h > 23 || mi > 59 || sec < 0 || sec >= 61) return std::nullopt;
  const std::string tail = text.substr(11 + static_cast<size_t>(m2));
  if (!tail.empty() && tail != "Z" && tail != "+00:00" && tail != "z") return std::nullopt;
  return ms + h * 3600000LL + mi * 60000LL + static_cast<int64_t>(sec * 1000);
}

}  // namespace sy::gov
