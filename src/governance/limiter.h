// The limiter seam: request rates (GCRA), token rates and budget counters.
//
// Implementations: the local limiter (in memory, one process) and the Redis
// limiter (counters shared by every instance pointed at one Redis; each call
// is one round trip running one Lua script, so check-and-consume is atomic
// across instances). Both are thread-safe.
//
// Rate rules are GCRA buckets ("generic cell rate algorithm"): `limit` units
// per `period_ms`, with a burst of `limit`; one stored value per bucket (its
// theoretical arrival time), no refill job, an exact Retry-After, and any
// cost, including a negative one (a refund, when a token reservation turns
// out too large).
//
// Budget rules are spend counters. The caller names each counter with its
// window ("key:key_0f..:monthly:2026-12"), so a new window is a new counter:
// nothing is ever reset. A counter never reads below its `seed` (the spend
// the database ledger has for that window): one that does not exist yet
// starts there, and one that fell behind (charges lost with a Redis restart or
// made during an outage) is lifted to it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "governance/types.h"

namespace sy::gov {

struct RateRule {
  std::string id;            // bucket identity: scope + what it counts, e.g. "key:key_0f12:rpm"; never the limit's value
  int64_t limit = 0;         // units per period; > 0
  int64_t period_ms = 60000;
  int64_t cost = 1;          // units this request takes (requests: 1; tokens: the estimate); may be 0
};

struct BudgetRule {
  std::string id;            // counter identity including its window
  Micros limit = 0;          // refuse when spend >= limit
  Micros seed = 0;           // starting spend when the counter does not exist
  int64_t window_end_ms = 0; // when the window closes (counters may be forgotten some time after); 0 = never
};

// Where a rate bucket stands: for the X-RateLimit-* headers.
struct RateState {
  int64_t limit = 0;
  int64_t remaining = 0;  // units still allowed now
  int64_t reset_ms = 0;   // until the bucket is full again
};

struct Verdict {
  bool allowed = true;
  int denied_rate = -1;       // index into the rate rules of the one that refused, or -1
  int denied_budget = -1;     // index into the budget rules of the one that refused, or -1
  int64_t retry_after_ms = 0; // when refused by a rate: until the request would fit
  std::vector<RateState> rates;  // one per rate rule, after this request (when refused: unchanged)
  std::vector<Micros> spent;     // one per budget rule
  bool degraded = false;      // the shared store failed; decided by the local fallback
};

class Limiter {
 public:
  virtual ~Limiter() = default;
  // Checks every rule; when all pass, consumes every rate rule's cost (all or
  // nothing). Budgets are only checked here (charged later with Charge).
  // now_ms: the local limiter's clock; the Redis limiter uses Redis's TIME
  // for rates (instances' clocks may differ) and now_ms for nothing else.
  virtual Verdict Admit(std::span<const RateRule> rates, std::span<const BudgetRule> budgets, int64_t now_ms) = 0;
  // Adds each rule's cost (negative = refund) without checking any limit.
  virtual void Adjust(std::span<const RateRule> rates, int64_t now_ms) = 0;
  // Adds `amount` to every budget counter (creating it at its seed first).
  virtual void Charge(std::span<const BudgetRule> budgets, Micros amount) = 0;
  // Current spend per counter (its seed when it does not exist).
  virtual std::vector<Micros> Spent(std::span<const BudgetRule> budgets) = 0;
  // "local" or "redis"; and whether the shared store answers now.
  virtual std::string Kind() const = 0;
  virtual bool Healthy() const = 0;
};

std::unique_ptr<Limiter> NewLocalLimiter();

struct RedisOptions {
  std::string url;              // redis://[:password@]host:port[/db]
  int timeout_ms = 50;          // connect and command timeout; past it, the local fallback decides
  // While Redis is unreachable, each instance enforces limit / instances
  // locally (rounded up), so N instances together stay near the limit.
  int instances = 1;
  std::string prefix = "sy:";   // prepended to every Redis key
};

// Null with *error set when the URL is malformed. Connects lazily: a Redis
// that is down at start makes the limiter degraded, not the server fail.
std::unique_ptr<Limiter> NewRedisLimiter(const RedisOptions& options, std::string* error);

}  // namespace sy::gov
