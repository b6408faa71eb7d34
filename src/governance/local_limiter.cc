#include "governance/local_limiter.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <limits>
#include <vector>

namespace sy::gov {
namespace {

// Every time span is kept below this (about 3000 years in µs), so a sum of
// a clock reading and a span never overflows, whatever the caller passes.
constexpr int64_t kMaxSpanUs = int64_t{100'000'000'000'000'000};
constexpr int64_t kMaxNowMs = int64_t{1'000'000'000'000'000};  // year ~33000
constexpr int64_t kDayMs = 86'400'000;
constexpr uint64_t kSweepEvery = 1024;

int64_t NowUs(int64_t now_ms) { return std::clamp<int64_t>(now_ms, 0, kMaxNowMs) * 1000; }

int64_t PeriodUs(int64_t period_ms) { return std::min(period_ms, kMaxSpanUs / 1000) * 1000; }

// How far `cost` units move a TAT: cost * period / limit, rounded toward
// zero (a refund returns no more than the units are worth), capped.
// REQUIRES: limit > 0, period_us > 0.
int64_t Interval(int64_t cost, int64_t limit, int64_t period_us) {
  __int128 magnitude = cost < 0 ? -static_cast<__int128>(cost) : static_cast<__int128>(cost);
  __int128 span = magnitude * period_us / limit;
  int64_t capped = span > kMaxSpanUs ? kMaxSpanUs : static_cast<int64_t>(span);
  return cost < 0 ? -capped : capped;
}

Micros SaturatingAdd(Micros a, Micros b) {
  Micros out;
  if (__builtin_add_overflow(a, b, &out)) {
    return b > 0 ? std::numeric_limits<Micros>::max() : std::numeric_limits<Micros>::min();
  }
  return out;
}

int64_t CeilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }  // REQUIRES: a >= 0, b > 0

// Where a bucket with this TAT stands at now_us.
RateState StateOf(int64_t limit, int64_t period_us, int64_t tat_us, int64_t now_us) {
  RateState state;
  state.limit = limit;
  if (limit <= 0 || period_us <= 0) return state;
  int64_t room = now_us + period_us - tat_us;  // time the bucket can still absorb
  if (room > 0) {
    __int128 units = static_cast<__int128>(room) * limit / period_us;
    state.remaining = units > limit ? limit : static_cast<int64_t>(units);
  }
  if (tat_us > now_us) state.reset_ms = CeilDiv(tat_us - now_us, 1000);
  return state;
}

// A few int64 values per rule without a heap allocation in the usual case.
class Scratch {
 public:
  explicit Scratch(size_t n) : data_(inline_) {
    if (n > kInline) {
      heap_.resize(n);
      data_ = heap_.data();
    }
  }
  int64_t& operator[](size_t i) { return data_[i]; }

 private:
  static constexpr size_t kInline = 8;
  int64_t inline_[kInline];
  std::vector<int64_t> heap_;
  int64_t* data_;
};

}  // namespace

LocalLimiter::LocalLimiter(int divisor) : divisor_(std::max(divisor, 1)) {}

std::unique_ptr<Limiter> NewLocalLimiter() { return std::make_unique<LocalLimiter>(1); }

size_t LocalLimiter::ShardOf(const std::string& id) {
  uint64_t h = std::hash<std::string>{}(id);
  return static_cast<size_t>((h * 0x9E3779B97F4A7C15ull) >> 60);  // top 4 bits: 16 shards
}

void LocalLimiter::Lock(ShardMask mask) {
  for (ShardMask m = mask; m != 0; m &= m - 1) shards_[std::countr_zero(m)].mu.lock();
}

void LocalLimiter::Unlock(ShardMask mask) {
  for (ShardMask m = mask; m != 0; m &= m - 1) shards_[std::countr_zero(m)].mu.unlock();
}

void LocalLimiter::Tick(ShardMask mask, int64_t now_ms) {
  for (ShardMask m = mask; m != 0; m &= m - 1) {
    Shard& shard = shards_[std::countr_zero(m)];
    if (now_ms > 0) shard.last_now_ms = now_ms;
    uint64_t entries = shard.tats.size() + shard.counters.size();
    if (++shard.calls >= std::max<uint64_t>(kSweepEvery, entries)) Sweep(shard);
  }
}

void LocalLimiter::Sweep(Shard& shard) {
  shard.calls = 0;
  if (shard.last_now_ms <= 0) return;
  const int64_t now_us = NowUs(shard.last_now_ms);
  std::erase_if(shard.tats, [&](const auto& entry) { return entry.second <= now_us; });
  std::erase_if(shard.counters, [&](const auto& entry) {
    const Counter& c = entry.second;
    return c.window_end_ms > 0 && shard.last_now_ms > SaturatingAdd(c.window_end_ms, kDayMs);
  });
}

int64_t LocalLimiter::RateLimit(const RateRule& rule) const {
  if (rule.limit <= 0 || rule.period_ms <= 0) return 0;  // not a limit
  return rule.limit / divisor_ + (rule.limit % divisor_ != 0 ? 1 : 0);
}

Micros LocalLimiter::BudgetLimit(const BudgetRule& rule, const Counter* counter) const {
  if (rule.limit < 0) return kNoBudget;
  if (divisor_ == 1) return rule.limit;
  Micros base = counter != nullptr ? counter->base : rule.seed;
  if (rule.limit <= base) return rule.limit;
  Micros left = rule.limit - base;
  return base + left / divisor_ + (left % divisor_ != 0 ? 1 : 0);
}

Verdict LocalLimiter::Admit(std::span<const RateRule> rates, std::span<const BudgetRule> budgets, int64_t now_ms) {
  Verdict verdict;
  verdict.rates.resize(rates.size());
  verdict.spent.resize(budgets.size());
  if (rates.empty() && budgets.empty()) return verdict;
  const int64_t now_us = NowUs(now_ms);
  ShardMask mask = 0;
  for (const RateRule& r : rates) mask |= ShardMask{1} << ShardOf(r.id);
  for (const BudgetRule& b : budgets) mask |= ShardMask{1} << ShardOf(b.id);
  Scratch before(rates.size());  // each bucket's TAT now (never before now)
  Scratch after(rates.size());   // and once this request is counted
  int64_t worst_wait_us = 0;

  Lock(mask);
  for (size_t i = 0; i < rates.size(); ++i) {
    const RateRule& rule = rates[i];
    Shard& shard = shards_[ShardOf(rule.id)];
    auto it = shard.tats.find(rule.id);
    before[i] = it == shard.tats.end() ? now_us : std::max(it->second, now_us);
    after[i] = before[i];
    const int64_t limit = RateLimit(rule);
    if (limit == 0) continue;
    int64_t tat = before[i];
    for (size_t j = i; j-- > 0;) {  // the same bucket twice in one request: count both
      if (rates[j].id == rule.id) {
        tat = after[j];
        break;
      }
    }
    const int64_t period_us = PeriodUs(rule.period_ms);
    const int64_t next = std::clamp(tat + Interval(rule.cost, limit, period_us), now_us, now_us + kMaxSpanUs);
    const int64_t wait_us = next - period_us - now_us;  // > 0: the request does not fit yet
    if (wait_us > 0 && wait_us > worst_wait_us) {
      worst_wait_us = wait_us;
      verdict.denied_rate = static_cast<int>(i);
    }
    after[i] = next;
  }
  for (size_t j = 0; j < budgets.size(); ++j) {
    const BudgetRule& rule = budgets[j];
    Shard& shard = shards_[ShardOf(rule.id)];
    auto it = shard.counters.find(rule.id);
    const Counter* counter = it == shard.counters.end() ? nullptr : &it->second;
    const Micros spent = counter != nullptr ? std::max(counter->spent, rule.seed) : rule.seed;
    verdict.spent[j] = spent;
    const Micros limit = BudgetLimit(rule, counter);
    if (limit >= 0 && spent >= limit && verdict.denied_budget < 0) verdict.denied_budget = static_cast<int>(j);
  }
  verdict.allowed = verdict.denied_rate < 0 && verdict.denied_budget < 0;
  for (size_t i = 0; i < rates.size(); ++i) {
    const RateRule& rule = rates[i];
    const int64_t limit = RateLimit(rule);
    const int64_t tat = verdict.allowed ? after[i] : before[i];
    verdict.rates[i] = StateOf(limit, limit == 0 ? 0 : PeriodUs(rule.period_ms), tat, now_us);
    if (!verdict.allowed || limit == 0) continue;
    Shard& shard = shards_[ShardOf(rule.id)];
    if (tat > now_us) {
      shard.tats.insert_or_assign(rule.id, tat);
    } else {
      shard.tats.erase(rule.id);  // full: the same as no bucket
    }
  }
  Tick(mask, now_ms);
  Unlock(mask);

  if (verdict.denied_rate >= 0) verdict.retry_after_ms = CeilDiv(worst_wait_us, 1000);
  return verdict;
}

void LocalLimiter::Adjust(std::span<const RateRule> rates, int64_t now_ms) {
  if (rates.empty()) return;
  const int64_t now_us = NowUs(now_ms);
  ShardMask mask = 0;
  for (const RateRule& r : rates) mask |= ShardMask{1} << ShardOf(r.id);
  Lock(mask);
  for (const RateRule& rule : rates) {
    const int64_t limit = RateLimit(rule);
    if (limit == 0 || rule.cost == 0) continue;
    Shard& shard = shards_[ShardOf(rule.id)];
    auto it = shard.tats.find(rule.id);
    const int64_t tat = it == shard.tats.end() ? now_us : std::max(it->second, now_us);
    const int64_t next =
        std::clamp(tat + Interval(rule.cost, limit, PeriodUs(rule.period_ms)), now_us, now_us + kMaxSpanUs);
    if (next > now_us) {
      shard.tats.insert_or_assign(rule.id, next);
    } else if (it != shard.tats.end()) {
      shard.tats.erase(it);  // refunded down to full
    }
  }
  Tick(mask, now_ms);
  Unlock(mask);
}

void LocalLimiter::Charge(std::span<const BudgetRule> budgets, Micros amount) {
  if (budgets.empty()) return;
  ShardMask mask = 0;
  for (const BudgetRule& b : budgets) mask |= ShardMask{1} << ShardOf(b.id);
  Lock(mask);
  for (const BudgetRule& rule : budgets) {
    Shard& shard = shards_[ShardOf(rule.id)];
    auto [it, created] = shard.counters.try_emplace(rule.id, Counter{rule.seed, rule.seed, rule.window_end_ms});
    Counter& counter = it->second;
    if (counter.spent < rule.seed) counter.spent = rule.seed;  // the ledger knows more (another instance, an outage)
    counter.spent = SaturatingAdd(counter.spent, amount);
    if (rule.window_end_ms != 0) counter.window_end_ms = rule.window_end_ms;
  }
  Tick(mask, 0);
  Unlock(mask);
}

std::vector<Micros> LocalLimiter::Spent(std::span<const BudgetRule> budgets) {
  std::vector<Micros> out(budgets.size());
  if (budgets.empty()) return out;
  ShardMask mask = 0;
  for (const BudgetRule& b : budgets) mask |= ShardMask{1} << ShardOf(b.id);
  Lock(mask);
  for (size_t j = 0; j < budgets.size(); ++j) {
    const Shard& shard = shards_[ShardOf(budgets[j].id)];
    auto it = shard.counters.find(budgets[j].id);
    out[j] = it == shard.counters.end() ? budgets[j].seed : std::max(it->second.spent, budgets[j].seed);
  }
  Unlock(mask);
  return out;
}

void LocalLimiter::Observe(std::span<const BudgetRule> budgets, std::span<const Micros> spent, int64_t now_ms) {
  const size_t n = std::min(budgets.size(), spent.size());
  if (n == 0) return;
  ShardMask mask = 0;
  for (size_t j = 0; j < n; ++j) mask |= ShardMask{1} << ShardOf(budgets[j].id);
  Lock(mask);
  for (size_t j = 0; j < n; ++j) {
    const BudgetRule& rule = budgets[j];
    Shard& shard = shards_[ShardOf(rule.id)];
    auto [it, created] = shard.counters.try_emplace(rule.id, Counter{spent[j], spent[j], rule.window_end_ms});
    Counter& counter = it->second;
    if (!created) {
      counter.spent = std::max(counter.spent, spent[j]);
      counter.base = counter.spent;
      if (rule.window_end_ms != 0) counter.window_end_ms = rule.window_end_ms;
    }
  }
  Tick(mask, now_ms);
  Unlock(mask);
}

size_t LocalLimiter::EntriesForTest() {
  size_t total = 0;
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    total += shard.tats.size() + shard.counters.size();
  }
  return total;
}

}  // namespace sy::gov
