// What only the Redis limiter does: one limit shared by several instances,
// scripts lost by Redis, URLs, and every way Redis can fail (refused, silent,
// bad password, connections cut, an outage and its end). The shared contract
// runs in limiter_test.cc.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "governance/limiter.h"
#include "governance/limiter_test_util.h"

namespace sy::gov {
namespace {

using limiter_test::RedisUrl;
using limiter_test::TestRedis;
using limiter_test::UniquePrefix;

// A loopback socket that listens but is never accepted from: connects
// succeed, commands are never answered.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 && ::listen(fd_, 16) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~SilentServer() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A loopback port with nothing listening on it (bound once, then closed).
int DeadPort() {
  SilentServer s;
  return s.port();
}

// A TCP proxy in front of the test Redis that a test can break: cut every
// open connection, or go "down" (accept, then close at once).
class Proxy {
 public:
  Proxy(std::string host, int port) : host_(std::move(host)), port_(port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 && ::listen(listen_fd_, 64) == 0 &&
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      listen_port_ = ntohs(addr.sin_port);
    }
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~Proxy() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    CutAll();
    for (auto& t : pumps_) t.join();
    ::close(listen_fd_);
  }

  int port() const { return listen_port_; }
  void SetDown(bool down) { down_ = down; }
  // Closes every open connection on the client side.
  void CutAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) {
        if (stop_) return;
        continue;
      }
      if (down_) {
        ::close(client);
        continue;
      }
      int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port_));
      ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
      if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(client);
        ::close(upstream);
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      open_.push_back(client);
      pumps_.emplace_back([this, client, upstream] { Pump(client, upstream); });
    }
  }

  void Pump(int client, int upstream) {
    pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
    char buf[16384];
    for (bool open = true; open;) {
      if (::poll(fds, 2, 200) < 0) break;
      for (int i = 0; i < 2 && open; ++i) {
        if (fds[i].revents == 0) continue;
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        open = n > 0 && ::write(fds[1 - i].fd, buf, static_cast<size_t>(n)) == n;
      }
      if (stop_) open = false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::erase(open_, client);
    }
    ::close(client);
    ::close(upstream);
  }

  const std::string host_;
  const int port_;
  int listen_fd_ = -1;
  int listen_port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> down_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> pumps_;
};

class RedisLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    limiter_test::IgnoreSigpipe();
    url_ = RedisUrl();
    ASSERT_FALSE(url_.empty()) << "SWITCHYARD_TEST_REDIS_URL is not set";
    prefix_ = UniquePrefix();
    redis_ = std::make_unique<TestRedis>(url_);
    ASSERT_TRUE(redis_->ok()) << "cannot reach the test Redis";
  }
  void TearDown() override {
    if (redis_ != nullptr) redis_->DeleteUnder(prefix_);
  }

  std::unique_ptr<Limiter> Make(const std::string& url, int instances = 1, int timeout_ms = 2000) {
    std::string error;
    auto limiter = NewRedisLimiter(RedisOptions{url, timeout_ms, instances, prefix_}, &error);
    EXPECT_NE(limiter, nullptr) << error;
    return limiter;
  }

  void FlushScripts() {
    limiter_test::ReplyPtr r = redis_->Do({"SCRIPT", "FLUSH"});
    ASSERT_NE(r, nullptr);
    ASSERT_NE(r->type, REDIS_REPLY_ERROR);
  }

  static int64_t NowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }

  std::string url_;
  std::string prefix_;
  std::unique_ptr<TestRedis> redis_;
};

TEST_F(RedisLimiterTest, TwoInstancesEnforceOneLimitExactly) {
  auto a = Make(url_, 2);
  auto b = Make(url_, 2);
  ASSERT_TRUE(a && b);
  const std::vector<RateRule> rates{RateRule{"key:k1:rpm", 10, 60'000, 1}};
  std::atomic<int> allowed{0}, degraded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    Limiter* limiter = t % 2 == 0 ? a.get() : b.get();
    threads.emplace_back([&, limiter] {
      for (int i = 0; i < 5; ++i) {
        Verdict v = limiter->Admit(rates, {}, NowMs());
        allowed += v.allowed ? 1 : 0;
        degraded += v.degraded ? 1 : 0;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(degraded.load(), 0);
  EXPECT_EQ(allowed.load(), 10);  // of 30, not 10 per instance
}

TEST_F(RedisLimiterTest, KeysAreThePrefixPlusTheRuleId) {
  auto limiter = Make(url_);
  ASSERT_TRUE(limiter);
  const std::vector<BudgetRule> budgets{BudgetRule{"key:k1:monthly:2026-12", 1000, 40, NowMs() + 86'400'000}};
  limiter->Charge(budgets, 2);
  EXPECT_EQ(redis_->Get(prefix_ + "key:k1:monthly:2026-12"), "42");
  limiter_test::ReplyPtr ttl = redis_->Do({"PTTL", prefix_ + "key:k1:monthly:2026-12"});
  ASSERT_NE(ttl, nullptr);
  EXPECT_GT(ttl->integer, 86'400'000);  // until a day after the window's end

  limiter->Admit(std::vector<RateRule>{RateRule{"key:k1:rpm", 10, 60'000, 1}}, {}, NowMs());
  EXPECT_NE(redis_->Get(prefix_ + "key:k1:rpm"), "(nil)");
  ttl = redis_->Do({"PTTL", prefix_ + "key:k1:rpm"});
  ASSERT_NE(ttl, nullptr);
  EXPECT_GT(ttl->integer, 0);  // the bucket expires once full again
  EXPECT_LE(ttl->integer, 6001);
}

TEST_F(RedisLimiterTest, ScriptsFlushedBetweenCallsAreLoadedAgain) {
  auto limiter = Make(url_);
  ASSERT_TRUE(limiter);
  const std::vector<RateRule> rates{RateRule{"key:k1:rpm", 10, 60'000, 1}};
  const std::vector<BudgetRule> budgets{BudgetRule{"key:k1:monthly:2026-12", 1000, 0, NowMs() + 86'400'000}};
  ASSERT_EQ(limiter->Admit(rates, budgets, NowMs()).rates[0].remaining, 9);
  FlushScripts();
  Verdict v = limiter->Admit(rates, budgets, NowMs());
  EXPECT_TRUE(v.allowed);
  EXPECT_FALSE(v.degraded);
  EXPECT_EQ(v.rates[0].remaining, 8);
  FlushScripts();
  std::vector<RateRule> refund = rates;
  refund[0].cost = -2;
  limiter->Adjust(refund, NowMs());
  EXPECT_EQ(limiter->Admit(rates, budgets, NowMs()).rates[0].remaining, 9);
  FlushScripts();
  limiter->Charge(budgets, 25);
  EXPECT_EQ(limiter->Spent(budgets), std::vector<Micros>{25});
  EXPECT_TRUE(limiter->Healthy());
}

TEST_F(RedisLimiterTest, TheDatabaseInTheUrlIsSelected) {
  const std::string base = url_.substr(0, url_.find('/', 8));  // without any /db
  auto limiter = Make(base + "/7");
  ASSERT_TRUE(limiter);
  const std::vector<BudgetRule> budgets{BudgetRule{"key:k1:lifetime", 1000, 0, NowMs()}};
  limiter->Charge(budgets, 5);
  TestRedis db7(base + "/7");
  EXPECT_EQ(db7.Get(prefix_ + "key:k1:lifetime"), "5");
  db7.DeleteUnder(prefix_);
  EXPECT_TRUE(limiter->Healthy());
}

TEST_F(RedisLimiterTest, AnUnreachableRedisDegradesToTheDividedLocalLimit) {
  auto limiter = Make("redis://127.0.0.1:" + std::to_string(DeadPort()), 3, 50);
  ASSERT_TRUE(limiter);
  EXPECT_EQ(limiter->Kind(), "redis");
  const std::vector<RateRule> rates{RateRule{"key:k1:rpm", 10, 60'000, 1}};
  const int64_t now = NowMs();
  testing::internal::CaptureStderr();
  for (int i = 0; i < 4; ++i) {  // ceil(10 / 3)
    Verdict v = limiter->Admit(rates, {}, now);
    EXPECT_TRUE(v.allowed) << i;
    EXPECT_TRUE(v.degraded) << i;
  }
  Verdict v = limiter->Admit(rates, {}, now);
  EXPECT_FALSE(v.allowed);
  EXPECT_TRUE(v.degraded);
  EXPECT_EQ(v.denied_rate, 0);
  EXPECT_GT(v.retry_after_ms, 0);
  EXPECT_FALSE(limiter->Healthy());

  // Every other call works on the local state, too.
  const std::vector<BudgetRule> budgets{BudgetRule{"key:k1:monthly:2026-12", 300, 0, 0}};
  limiter->Charge(budgets, 100);
  EXPECT_EQ(limiter->Spent(budgets), std::vector<Micros>{100});
  EXPECT_FALSE(limiter->Admit({}, budgets, now).allowed);  // 100 >= ceil(300 / 3)
  limiter->Adjust(rates, now);
  std::string log = testing::internal::GetCapturedStderr();
  size_t first = log.find("redis limiter");
  EXPECT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("redis limiter", first + 1), std::string::npos) << "one warning per outage:\n" << log;
}

TEST_F(RedisLimiterTest, ARedisThatNeverAnswersTimesOutToTheFallback) {
  SilentServer silent;
  auto limiter = Make("redis://127.0.0.1:" + std::to_string(silent.port()), 1, 50);
  ASSERT_TRUE(limiter);
  const std::vector<RateRule> rates{RateRule{"key:k1:rpm", 10, 60'000, 1}};
  Verdict v = limiter->Admit(rates, {}, NowMs());  // returns at all: the command timed out
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.degraded);
  EXPECT_FALSE(limiter->Healthy());
}

TEST_F(RedisLimiterTest, APasswordNeverAppearsInErrorsOrLogs) {
  TestRedis probe(url_);
  ASSERT_TRUE(probe.ok());
  // The test Redis has no password: AUTH fails, and the limiter degrades.
  const std::string url = "redis://:Sup3rSecretPw@" + probe.host() + ":" + std::to_string(probe.port());
  testing::internal::CaptureStderr();
  auto limiter = Make(url);
  ASSERT_TRUE(limiter);
  Verdict v = limiter->Admit(std::vector<RateRule>{RateRule{"key:k1:rpm", 10, 60'000, 1}}, {}, NowMs());
  EXPECT_TRUE(v.degraded);
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("AUTH"), std::string::npos) << log;
  EXPECT_EQ(log.find("Sup3rSecretPw"), std::string::npos) << log;
}

// No Redis needed: URLs are checked when the limiter is made.
TEST(RedisLimiterUrl, MalformedUrlsAreRefusedWithoutQuotingThePassword) {
  for (const char* bad : {"", "redis://", "redis://host:", "redis://host:0", "redis://host:x", "redis://:@host:1",
                          "redis://user@host:1", "redis://host:1/x", "rediss://host:1", "redis://[::1:1",
                          "redis://host:1/2/3", "localhost:6379"}) {
    std::string error;
    EXPECT_EQ(NewRedisLimiter(RedisOptions{bad, 50, 1, "sy:"}, &error), nullptr) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  for (const char* bad : {"redis://:Sup3rSecretPw@", "redis://:Sup3rSecretPw@host:99999",
                          "http://:Sup3rSecretPw@host:1", "redis://:Sup3rSecretPw@host:1/db?x=1"}) {
    std::string error;
    EXPECT_EQ(NewRedisLimiter(RedisOptions{bad, 50, 1, "sy:"}, &error), nullptr) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    EXPECT_EQ(error.find("Sup3rSecretPw"), std::string::npos) << error;
  }
  for (const char* good : {"redis://localhost", "redis://127.0.0.1:6379", "redis://:p%40ss@host:1/2",
                           "redis://user:p@ss/word@host:1/15", "redis://[::1]:6380", "redis://host:1/"}) {
    std::string error;
    EXPECT_NE(NewRedisLimiter(RedisOptions{good, 50, 1, "sy:"}, &error), nullptr) << good << ": " << error;
  }
}

TEST_F(RedisLimiterTest, ConnectionsCutWhileIdleAreReplacedWithoutDegrading) {
  TestRedis probe(url_);
  Proxy proxy(probe.host(), probe.port());
  ASSERT_NE(proxy.port(), 0);
  auto limiter = Make("redis://127.0.0.1:" + std::to_string(proxy.port()));
  ASSERT_TRUE(limiter);
  const std::vector<RateRule> rates{RateRule{"key:k1:rpm", 10, 60'000, 1}};
  ASSERT_FALSE(limiter->Admit(rates, {}, NowMs()).degraded);
  proxy.CutAll();  // e.g. Redis restarted, or closed idle clients
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Verdict v = limiter->Admit(rates, {}, NowMs());
  EXPECT_FALSE(v.degraded);
  EXPECT_EQ(v.rates[0].remaining, 8);
  EXPECT_TRUE(limiter->Healthy());
}

TEST_F(RedisLimiterTest, AnOutageDegradesThenSharedLimitsReturn) {
  TestRedis probe(url_);
  Proxy proxy(probe.host(), probe.port());
  ASSERT_NE(proxy.port(), 0);
  auto limiter = Make("redis://127.0.0.1:" + std::to_string(proxy.port()), 2);
  ASSERT_TRUE(limiter);
  const std::vector<RateRule> rates{RateRule{"key:k1:rpm", 10, 60'000, 1}};
  const std::vector<BudgetRule> budgets{BudgetRule{"key:k1:monthly:2026-12", 1000, 0, NowMs() + 86'400'000}};
  limiter->Charge(budgets, 900);
  ASSERT_TRUE(limiter->Admit(rates, budgets, NowMs()).allowed);

  testing::internal::CaptureStderr();
  proxy.SetDown(true);
  proxy.CutAll();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Verdict v = limiter->Admit(rates, budgets, NowMs());
  EXPECT_TRUE(v.degraded);
  EXPECT_TRUE(v.allowed);
  // The spend Redis reported is remembered: 900 of 1000, so this instance
  // may add half of the 100 left.
  EXPECT_EQ(v.spent, std::vector<Micros>{900});
  limiter->Charge(budgets, 50);
  EXPECT_FALSE(limiter->Admit(rates, budgets, NowMs()).allowed);
  EXPECT_FALSE(limiter->Healthy());

  proxy.SetDown(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // past the one-second rest
  v = limiter->Admit(rates, budgets, NowMs());
  EXPECT_FALSE(v.degraded);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.rates[0].remaining, 8);  // Redis's bucket, not the local one
  EXPECT_EQ(v.spent, std::vector<Micros>{900});
  EXPECT_TRUE(limiter->Healthy());
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("WARN redis limiter"), std::string::npos) << log;
  EXPECT_NE(log.find("INFO redis limiter"), std::string::npos) << log;
}

}  // namespace
}  // namespace sy::gov
