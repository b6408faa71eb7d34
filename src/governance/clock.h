// The wall clock of governance (budget windows, key expiry, usage times): a
// seam, so tests can move time. Thread-safe.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace sy::gov {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;  // unix milliseconds, UTC
};

// The real-time clock to the millisecond (usage rows are ordered by it: a
// coarse clock's few milliseconds would tie requests made one after another).
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }
};

// The system clock moved by a number of seconds read from a file (re-read at
// most every 100 ms): for integration tests of budget windows and key expiry,
// enabled only by the SWITCHYARD_TEST_CLOCK_FILE environment variable.
class FileOffsetClock final : public Clock {
 public:
  explicit FileOffsetClock(std::string path) : path_(std::move(path)) {}
  int64_t NowMs() const override;

 private:
  std::string path_;
  mutable std::atomic<int64_t> offset_ms_{0};
  mutable std::atomic<int64_t> read_at_ms_{0};
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_ms) : now_(now_ms) {}
  int64_t NowMs() const override { return now_.load(); }
  void Set(int64_t now_ms) { now_.store(now_ms); }
  void Advance(int64_t ms) { now_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_;
};

// Calendar windows, UTC: the start of the day, the week (Monday) or the
// month containing t, and the start of the next one. kNone: [0, 0) = forever.
struct Window {
  int64_t start_ms = 0;
  int64_t end_ms = 0;  // 0 = never ends
  std::string id;      // "d2026-12-02", "w2026-11-30", "m2026-12", "all"
};
Window WindowOf(int period /* BudgetPeriod as int */, int64_t t_ms);

// "2026-12-02T10:30:00Z" for unix ms; and back (also accepts a date alone,
// "2026-12-02", as its midnight; and a fractional second). Nullopt = malformed.
std::string IsoTime(int64_t ms);
std::optional<int64_t> ParseIsoTime(const std::string& text);

}  // namespace sy::gov
