// The in-memory limiter (internal header): what NewLocalLimiter() returns,
// and the fallback inside the Redis limiter, which needs two extras: limits
// divided among instances, and a mirror of the shared budget counters.
//
// State lives in 16 shards, each a mutex over two hash maps (rate buckets by
// rule id, budget counters by rule id). A call locks the shards its rules
// fall in, in ascending order, so Admit's check-then-consume is atomic
// across all its rules while calls on other keys run in parallel.
//
// Rate buckets are GCRA: one theoretical arrival time (TAT) per bucket, in
// unix microseconds. A bucket whose TAT is not after now is full, exactly as
// if it did not exist, so such buckets are dropped. Each unit of cost moves
// the TAT by period / limit; the fraction of a microsecond is dropped on each
// call (at most 1 µs per call in the client's favour), and the check itself
// is exact, so a full bucket admits exactly `limit` units.
//
// Memory stays bounded: every so often (after max(1024, entries) calls on a
// shard) the shard forgets full buckets and budget counters whose window
// closed more than a day ago.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "governance/limiter.h"

namespace sy::gov {

class LocalLimiter final : public Limiter {
 public:
  // divisor: the number of instances sharing the limits (the Redis
  // fallback's `instances`; 1 for a plain local limiter). Each rate limit
  // becomes ceil(limit / divisor); each budget keeps its known spend and may
  // add ceil(share / divisor) of what was left of it (see Observe).
  explicit LocalLimiter(int divisor = 1);

  Verdict Admit(std::span<const RateRule> rates, std::span<const BudgetRule> budgets, int64_t now_ms) override;
  void Adjust(std::span<const RateRule> rates, int64_t now_ms) override;
  void Charge(std::span<const BudgetRule> budgets, Micros amount) override;
  std::vector<Micros> Spent(std::span<const BudgetRule> budgets) override;
  std::string Kind() const override { return "local"; }
  bool Healthy() const override { return true; }

  // Records the shared store's spend for each counter (spent[i] for
  // budgets[i]): the local counter is raised to it, and the divided share
  // is counted from there. now_ms: the clock for forgetting old entries.
  // Extra entries of the longer span are ignored.
  void Observe(std::span<const BudgetRule> budgets, std::span<const Micros> spent, int64_t now_ms);

  // Buckets plus counters held now (for tests of the forgetting).
  size_t EntriesForTest();

 private:
  struct Counter {
    Micros spent = 0;
    Micros base = 0;  // spend when the counter was created or last observed
    int64_t window_end_ms = 0;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, int64_t> tats;      // rate rule id -> TAT (unix µs)
    std::unordered_map<std::string, Counter> counters;  // budget rule id -> spend
    uint64_t calls = 0;                                 // since the last sweep
    int64_t last_now_ms = 0;                            // the latest clock seen by Admit or Adjust
  };
  static constexpr size_t kShards = 16;
  using ShardMask = uint32_t;

  static size_t ShardOf(const std::string& id);
  // Locks the shards in `mask` in ascending order; Unlock releases them.
  void Lock(ShardMask mask);
  void Unlock(ShardMask mask);
  // Counts one call on each shard in `mask` and sweeps the ones due.
  void Tick(ShardMask mask, int64_t now_ms);
  static void Sweep(Shard& shard);

  int64_t RateLimit(const RateRule& rule) const;
  Micros BudgetLimit(const BudgetRule& rule, const Counter* counter) const;

  const int64_t divisor_;
  std::array<Shard, kShards> shards_;
};

}  // namespace sy::gov
