// The limiter contract, run against the local limiter and the Redis limiter
// alike, plus what only the local limiter does (division among instances,
// forgetting, concurrency). Redis-only behaviour: redis_limiter_test.cc.
//
// The local limiter's clock is the now_ms the test passes; the Redis
// limiter's is Redis's TIME, so for Redis "waiting" sleeps for real, and
// exact times are asserted for the local limiter only.
#include "governance/limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "governance/limiter_test_util.h"
#include "governance/local_limiter.h"

namespace sy::gov {
namespace {

using limiter_test::RedisUrl;
using limiter_test::TestRedis;
using limiter_test::UniquePrefix;

constexpr int64_t kStart = 1'780'000'000'000;  // a local clock reading (ms)

RateRule Rate(std::string id, int64_t limit, int64_t period_ms, int64_t cost = 1) {
  return RateRule{std::move(id), limit, period_ms, cost};
}

BudgetRule Budget(std::string id, Micros limit, Micros seed, int64_t window_end_ms) {
  return BudgetRule{std::move(id), limit, seed, window_end_ms};
}

class LimiterContract : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!redis()) {
      limiter_ = NewLocalLimiter();
      return;
    }
    limiter_test::IgnoreSigpipe();
    using namespace std::chrono;
    now_ = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    url_ = RedisUrl();
    ASSERT_FALSE(url_.empty()) << "SWITCHYARD_TEST_REDIS_URL is not set";
    prefix_ = UniquePrefix();
    std::string error;
    // A generous timeout: a slow test machine must not look like an outage.
    limiter_ = NewRedisLimiter(RedisOptions{url_, 2000, 1, prefix_}, &error);
    ASSERT_NE(limiter_, nullptr) << error;
  }

  void TearDown() override {
    if (redis() && !url_.empty()) TestRedis(url_).DeleteUnder(prefix_);
  }

  bool redis() const { return std::string_view(GetParam()) == "redis"; }

  // Lets `ms` pass on the limiter's clock.
  void Wait(int64_t ms) {
    now_ += ms;
    if (redis()) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }

  Verdict Admit(std::vector<RateRule> rates, std::vector<BudgetRule> budgets = {}) {
    Verdict v = limiter_->Admit(rates, budgets, now_);
    EXPECT_FALSE(v.degraded);
    EXPECT_EQ(v.rates.size(), rates.size());
    EXPECT_EQ(v.spent.size(), budgets.size());
    return v;
  }

  // Window ends a month after the test's clock (for Redis, the real one);
  // budgets in Redis expire a day after that.
  int64_t WindowEnd() const { return now_ + 30LL * 86'400'000; }

  std::string url_;
  std::string prefix_;
  std::unique_ptr<Limiter> limiter_;
  int64_t now_ = kStart;  // Redis: the wall clock at the start
};

INSTANTIATE_TEST_SUITE_P(Both, LimiterContract, ::testing::Values("local", "redis"),
                         [](const auto& info) { return std::string(info.param); });

TEST_P(LimiterContract, ABurstOfExactlyLimitPassesThenARetryAfterIsGiven) {
  const RateRule rpm = Rate("key:k1:rpm", 7, 60'000);  // 60000 / 7 ms per request: not a whole number
  for (int i = 0; i < 7; ++i) {
    Verdict v = Admit({rpm});
    ASSERT_TRUE(v.allowed) << "request " << i;
    EXPECT_EQ(v.rates[0].limit, 7);
    EXPECT_EQ(v.rates[0].remaining, 6 - i);
  }
  Verdict refused = Admit({rpm});
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.denied_rate, 0);
  EXPECT_EQ(refused.denied_budget, -1);
  EXPECT_EQ(refused.rates[0].remaining, 0);
  // The 8th fits when one request's worth (8571.4 ms) has drained.
  if (redis()) {
    EXPECT_GT(refused.retry_after_ms, 0);
    EXPECT_LE(refused.retry_after_ms, 8572);
  } else {
    EXPECT_EQ(refused.retry_after_ms, 8572);
    EXPECT_EQ(refused.rates[0].reset_ms, 60'000);
    Wait(8571);
    EXPECT_FALSE(Admit({rpm}).allowed);
    Wait(1);
    EXPECT_TRUE(Admit({rpm}).allowed);
  }
}

TEST_P(LimiterContract, TheBucketRefillsOnceRetryAfterHasPassed) {
  const RateRule rule = Rate("key:k1:rpm", 2, 2000);  // one request back every second
  ASSERT_TRUE(Admit({rule}).allowed);
  ASSERT_TRUE(Admit({rule}).allowed);
  Verdict refused = Admit({rule});
  ASSERT_FALSE(refused.allowed);
  ASSERT_GT(refused.retry_after_ms, 0);
  if (!redis()) {
    EXPECT_EQ(refused.retry_after_ms, 1000);
  }
  Wait(refused.retry_after_ms);
  EXPECT_TRUE(Admit({rule}).allowed);
  EXPECT_FALSE(Admit({rule}).allowed);  // one request came back, not two
  Wait(2000);  // a whole period: full again
  EXPECT_TRUE(Admit({rule}).allowed);
  EXPECT_TRUE(Admit({rule}).allowed);
  EXPECT_FALSE(Admit({rule}).allowed);
}

TEST_P(LimiterContract, ARequestRefusedByItsSecondRuleTakesNothingFromTheFirst) {
  const RateRule key_rpm = Rate("key:k1:rpm", 5, 60'000);
  const RateRule user_rpm = Rate("user:u1:rpm", 1, 60'000);
  ASSERT_TRUE(Admit({key_rpm, user_rpm}).allowed);
  Verdict refused = Admit({key_rpm, user_rpm});
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.denied_rate, 1);
  EXPECT_EQ(refused.rates[0].remaining, 4);  // unchanged by the refused request
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Admit({key_rpm}).allowed) << i;
  EXPECT_FALSE(Admit({key_rpm}).allowed);
}

TEST_P(LimiterContract, ARequestRefusedByABudgetTakesNoRate) {
  const RateRule rpm = Rate("key:k1:rpm", 3, 60'000);
  const BudgetRule spent = Budget("key:k1:monthly:2026-12", 100, 100, WindowEnd());
  Verdict refused = Admit({rpm}, {spent});
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.denied_budget, 0);
  EXPECT_EQ(refused.denied_rate, -1);
  EXPECT_EQ(refused.retry_after_ms, 0);
  EXPECT_EQ(refused.spent[0], 100);
  EXPECT_EQ(refused.rates[0].remaining, 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Admit({rpm}).allowed) << i;
  EXPECT_FALSE(Admit({rpm}).allowed);
}

TEST_P(LimiterContract, TokenRulesTakeTheirCostAndAdjustRefunds) {
  RateRule tpm = Rate("key:k1:tpm", 100'000, 60'000, 60'000);
  Verdict v = Admit({tpm});
  ASSERT_TRUE(v.allowed);
  if (redis()) {
    EXPECT_GE(v.rates[0].remaining, 40'000);
  } else {
    EXPECT_EQ(v.rates[0].remaining, 40'000);
  }
  tpm.cost = 50'000;
  Verdict refused = Admit({tpm});
  ASSERT_FALSE(refused.allowed);
  EXPECT_EQ(refused.denied_rate, 0);
  if (!redis()) {
    EXPECT_EQ(refused.retry_after_ms, 6'000);  // 10000 tokens at 0.6 ms each
  }

  // The first request used 30000 tokens fewer than reserved.
  RateRule refund = tpm;
  refund.cost = -30'000;
  limiter_->Adjust(std::vector<RateRule>{refund}, now_);
  v = Admit({tpm});
  ASSERT_TRUE(v.allowed);
  if (redis()) {
    EXPECT_GE(v.rates[0].remaining, 20'000);
  } else {
    EXPECT_EQ(v.rates[0].remaining, 20'000);
  }

  // A refund larger than what was taken leaves the bucket full, no fuller.
  refund.cost = -10'000'000;
  limiter_->Adjust(std::vector<RateRule>{refund}, now_);
  tpm.cost = 100'000;
  EXPECT_TRUE(Admit({tpm}).allowed);
  tpm.cost = 10'000;  // 6 s of refill
  EXPECT_FALSE(Admit({tpm}).allowed);
}

TEST_P(LimiterContract, ARefundOnAFullBucketBanksNothing) {
  RateRule rpm = Rate("key:k1:rpm", 10, 60'000, -1000);
  limiter_->Adjust(std::vector<RateRule>{rpm}, now_);
  rpm.cost = 1;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(Admit({rpm}).allowed) << i;
  EXPECT_FALSE(Admit({rpm}).allowed);
}

TEST_P(LimiterContract, AnAdjustPastTheLimitRefusesUntilItDrains) {
  RateRule tpm = Rate("key:k1:tpm", 10, 60'000, 15);  // the answer used more than was reserved
  limiter_->Adjust(std::vector<RateRule>{tpm}, now_);
  tpm.cost = 0;
  Verdict v = Admit({tpm});
  EXPECT_FALSE(v.allowed);  // even a free request waits while the bucket is over its limit
  if (!redis()) {
    EXPECT_EQ(v.retry_after_ms, 30'000);
  }
  tpm.cost = 1;
  v = Admit({tpm});
  EXPECT_FALSE(v.allowed);
  if (!redis()) {
    EXPECT_EQ(v.retry_after_ms, 36'000);
    EXPECT_EQ(v.rates[0].reset_ms, 90'000);
  }
}

TEST_P(LimiterContract, AZeroCostRequestTakesNothing) {
  RateRule tpm = Rate("key:k1:tpm", 2, 60'000, 0);
  for (int i = 0; i < 5; ++i) {
    Verdict v = Admit({tpm});
    ASSERT_TRUE(v.allowed);
    EXPECT_EQ(v.rates[0].remaining, 2);
    EXPECT_EQ(v.rates[0].reset_ms, 0);
  }
  tpm.cost = 1;
  EXPECT_TRUE(Admit({tpm}).allowed);
  EXPECT_TRUE(Admit({tpm}).allowed);
  EXPECT_FALSE(Admit({tpm}).allowed);
}

TEST_P(LimiterContract, BudgetsStartAtTheirSeedAddChargesAndRefuseAtTheLimit) {
  const BudgetRule december = Budget("key:k1:monthly:2026-12", 1000, 100, WindowEnd());
  EXPECT_EQ(limiter_->Spent(std::vector<BudgetRule>{december}), std::vector<Micros>{100});
  Verdict v = Admit({}, {december});
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.spent, std::vector<Micros>{100});

  limiter_->Charge(std::vector<BudgetRule>{december}, 850);
  EXPECT_EQ(limiter_->Spent(std::vector<BudgetRule>{december}), std::vector<Micros>{950});
  EXPECT_TRUE(Admit({}, {december}).allowed);  // 950 < 1000

  limiter_->Charge(std::vector<BudgetRule>{december}, 50);
  v = Admit({}, {december});
  EXPECT_FALSE(v.allowed);  // spend >= limit
  EXPECT_EQ(v.denied_budget, 0);
  EXPECT_EQ(v.spent, std::vector<Micros>{1000});

  // A new window is a new counter: it starts at its own seed.
  const BudgetRule january = Budget("key:k1:monthly:2027-01", 1000, 0, WindowEnd());
  v = Admit({}, {january});
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.spent, std::vector<Micros>{0});

  // The refusing one of several budgets is named.
  const BudgetRule user = Budget("user:u1:monthly:2026-12", 500, 0, WindowEnd());
  v = Admit({}, {user, december});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.denied_budget, 1);
  EXPECT_EQ(v.spent, (std::vector<Micros>{0, 1000}));

  // Charging a counter that does not exist yet starts from its seed.
  const BudgetRule lifetime = Budget("key:k2:lifetime", 10'000, 500, 0);
  limiter_->Charge(std::vector<BudgetRule>{lifetime, january}, 10);
  EXPECT_EQ(limiter_->Spent(std::vector<BudgetRule>{lifetime, january}), (std::vector<Micros>{510, 10}));

  // kNoBudget never refuses.
  EXPECT_TRUE(Admit({}, {Budget("key:k3:none", kNoBudget, 1'000'000, 0)}).allowed);
}

TEST_P(LimiterContract, StatesGiveRemainingAndResetForEveryRule) {
  const RateRule rpm = Rate("key:k1:rpm", 10, 60'000);
  const RateRule tpm = Rate("key:k1:tpm", 1000, 60'000, 100);
  Verdict v;
  for (int i = 0; i < 3; ++i) v = Admit({rpm, tpm});
  ASSERT_TRUE(v.allowed);
  EXPECT_EQ(v.rates[0].limit, 10);
  EXPECT_EQ(v.rates[0].remaining, 7);
  EXPECT_EQ(v.rates[1].limit, 1000);
  EXPECT_EQ(v.rates[1].remaining, 700);
  if (redis()) {
    EXPECT_GT(v.rates[0].reset_ms, 0);
    EXPECT_LE(v.rates[0].reset_ms, 18'000);
  } else {
    EXPECT_EQ(v.rates[0].reset_ms, 18'000);
    EXPECT_EQ(v.rates[1].reset_ms, 18'000);
  }
  Verdict none = Admit({});
  EXPECT_TRUE(none.allowed);
  EXPECT_TRUE(none.rates.empty());
  EXPECT_TRUE(none.spent.empty());
}

TEST_P(LimiterContract, TheSameBucketTwiceInOneRequestCountsBoth) {
  const RateRule rpm = Rate("key:k1:rpm", 3, 60'000);
  EXPECT_TRUE(Admit({rpm, rpm}).allowed);   // takes 2
  EXPECT_FALSE(Admit({rpm, rpm}).allowed);  // needs 2, 1 left
  EXPECT_TRUE(Admit({rpm}).allowed);
  EXPECT_FALSE(Admit({rpm}).allowed);
}

TEST_P(LimiterContract, ARuleWithoutALimitNeverRefuses) {
  const RateRule none = Rate("key:k1:rpm", 0, 60'000);
  for (int i = 0; i < 5; ++i) {
    Verdict v = Admit({none});
    EXPECT_TRUE(v.allowed);
    EXPECT_EQ(v.rates[0].limit, 0);
  }
}

// ---- the local limiter only ----

TEST(LocalLimiter, ConcurrentRequestsNeverPassTheLimit) {
  auto limiter = NewLocalLimiter();
  const std::vector<RateRule> rates{Rate("key:k1:rpm", 1000, 60'000), Rate("user:u1:rpm", 100'000, 60'000)};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (limiter->Admit(rates, {}, kStart).allowed) allowed.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

TEST(LocalLimiter, ForgetsFullBucketsAndBudgetsOfLongClosedWindows) {
  LocalLimiter limiter;
  for (int i = 0; i < 3000; ++i) {
    limiter.Admit(std::vector<RateRule>{Rate("key:" + std::to_string(i) + ":rpm", 10, 1000)}, {}, kStart);
  }
  std::vector<BudgetRule> budgets;
  for (int i = 0; i < 100; ++i) {
    budgets.push_back(Budget("key:" + std::to_string(i) + ":daily:1", 1000, 0, kStart + 1000));
  }
  limiter.Charge(budgets, 7);
  EXPECT_EQ(limiter.EntriesForTest(), 3100u);

  // Two days on: every bucket is full again and every window a day past its end.
  const int64_t later = kStart + 2 * 86'400'000;
  for (int i = 0; i < 50'000; ++i) {  // free requests on 1024 keys: calls on every shard, nothing kept
    limiter.Admit(std::vector<RateRule>{Rate("live:" + std::to_string(i % 1024), 10, 60'000, 0)}, {}, later);
  }
  EXPECT_EQ(limiter.EntriesForTest(), 0u);
  EXPECT_EQ(limiter.Spent(std::vector<BudgetRule>{budgets[0]}), std::vector<Micros>{0});  // back at its seed
}

TEST(LocalLimiter, DividesLimitsAmongInstances) {
  LocalLimiter limiter(3);
  const RateRule rpm = Rate("key:k1:rpm", 10, 60'000);  // ceil(10 / 3) = 4 here
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.Admit(std::vector<RateRule>{rpm}, {}, kStart).allowed) << i;
  Verdict v = limiter.Admit(std::vector<RateRule>{rpm}, {}, kStart);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.rates[0].limit, 4);

  // 400 of 1000 spent when last seen: a third of the 600 left is this instance's.
  const BudgetRule budget = Budget("key:k1:monthly:2026-12", 1000, 0, kStart + 1000);
  const std::vector<BudgetRule> budgets{budget};
  limiter.Observe(budgets, std::vector<Micros>{400}, kStart);
  EXPECT_TRUE(limiter.Admit({}, budgets, kStart).allowed);
  limiter.Charge(budgets, 150);
  EXPECT_TRUE(limiter.Admit({}, budgets, kStart).allowed);  // 550 < 600
  limiter.Charge(budgets, 50);
  v = limiter.Admit({}, budgets, kStart);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.spent, std::vector<Micros>{600});

  // A counter never seen starts its share from its seed.
  const std::vector<BudgetRule> fresh{Budget("key:k2:monthly:2026-12", 1000, 700, 0)};
  limiter.Charge(fresh, 100);  // 800 >= 700 + ceil(300 / 3)
  EXPECT_FALSE(limiter.Admit({}, fresh, kStart).allowed);
}

TEST(LocalLimiter, ExtremeValuesNeitherOverflowNorCrash) {
  auto limiter = NewLocalLimiter();
  const std::vector<RateRule> rates{Rate("a", LLONG_MAX, LLONG_MAX, LLONG_MAX), Rate("b", 1, LLONG_MAX, LLONG_MAX),
                                    Rate("c", LLONG_MAX, 1, LLONG_MIN), Rate("d", -5, -5, -5)};
  for (int64_t now : std::vector<int64_t>{0, -1, kStart, LLONG_MAX}) {
    Verdict v = limiter->Admit(rates, {}, now);
    EXPECT_GE(v.retry_after_ms, 0);
    for (const RateState& s : v.rates) {
      EXPECT_GE(s.remaining, 0);
      EXPECT_LE(s.remaining, s.limit);
      EXPECT_GE(s.reset_ms, 0);
    }
    limiter->Adjust(rates, now);
  }
  const std::vector<BudgetRule> budgets{Budget("x", LLONG_MAX, LLONG_MAX - 1, LLONG_MAX)};
  limiter->Charge(budgets, LLONG_MAX);
  EXPECT_EQ(limiter->Spent(budgets), std::vector<Micros>{LLONG_MAX});
  EXPECT_FALSE(limiter->Admit({}, budgets, kStart).allowed);
}

TEST(LocalLimiter, SaysItIsLocalAndHealthy) {
  auto limiter = NewLocalLimiter();
  EXPECT_EQ(limiter->Kind(), "local");
  EXPECT_TRUE(limiter->Healthy());
}

}  // namespace
}  // namespace sy::gov
