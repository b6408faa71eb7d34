// The Redis limiter: every instance pointed at one Redis shares its buckets
// and counters. Each call is one round trip (one Lua script, or MGET for
// Spent) on a pooled connection with connect and command timeouts.
//
// When Redis fails (refused, timed out, an error reply), the call is decided
// by a LocalLimiter whose limits are divided by the number of instances, the
// verdict says degraded, one warning is logged per outage, and for the next
// second calls go straight to the local limiter; then one call probes Redis
// again. The local limiter mirrors the budget spend Redis reported, so an
// outage does not hand a spent budget its whole allowance again.
//
// REQUIRES: SIGPIPE ignored in the process (hiredis writes with write(2)).
#include <errno.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string_view>

#include "common/log.h"
#include "governance/limiter.h"
#include "governance/local_limiter.h"
#include "governance/redis_limiter_scripts.h"

namespace sy::gov {
namespace {

constexpr int64_t kRetryEveryMs = 1000;  // while Redis is down: at most one attempt per second
constexpr size_t kMaxIdleConnections = 64;
constexpr int64_t kMaxPeriodMs = 100'000'000'000'000;  // keeps period_us within int64 (see LocalLimiter)

struct Endpoint {
  std::string host;
  int port = 6379;
  std::string user;      // "" = the default user
  std::string password;  // "" = no AUTH
  int db = 0;
  // host:port for messages; never the password.
  std::string Display() const {
    std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return shown + ":" + std::to_string(port);
  }
};

bool ParseInt(std::string_view text, int64_t min, int64_t max, int64_t* out) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return false;
  *out = value;
  return true;
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    unsigned byte = 0;
    auto [end, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, byte, 16);
    if (ec != std::errc() || end != in.data() + i + 3) return false;
    out->push_back(static_cast<char>(byte));
    i += 2;
  }
  return true;
}

// redis://[[user]:password@]host[:port][/db]. Errors never quote the URL:
// it may hold a password.
bool ParseRedisUrl(std::string_view url, Endpoint* out, std::string* error) {
  constexpr std::string_view kScheme = "redis://";
  const std::string_view kShape = "expected redis://[:password@]host:port[/db]";
  if (url.size() < kScheme.size() || url.substr(0, kScheme.size()) != kScheme) {
    *error = url.starts_with("rediss://") ? "redis url: TLS (rediss://) is not supported"
                                          : "redis url: " + std::string(kShape);
    return false;
  }
  std::string_view rest = url.substr(kScheme.size());
  // The password may hold '@' or '/': the host starts after the last '@'.
  size_t at = rest.rfind('@');
  std::string_view userinfo;
  if (at != std::string_view::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  std::string_view db = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (at != std::string_view::npos) {
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos || !PercentDecode(userinfo.substr(0, colon), &out->user) ||
        !PercentDecode(userinfo.substr(colon + 1), &out->password) || out->password.empty()) {
      *error = "redis url: the part before '@' must be ':password' or 'user:password'";
      return false;
    }
  }
  std::string_view port;
  if (hostport.starts_with('[')) {  // [v6 address]:port
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      *error = "redis url: unclosed '[' in the host";
      return false;
    }
    out->host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty() && (after[0] != ':' || after.size() == 1)) {
      *error = "redis url: " + std::string(kShape);
      return false;
    }
    if (!after.empty()) port = after.substr(1);
  } else {
    size_t colon = hostport.rfind(':');
    out->host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port = hostport.substr(colon + 1);
    if (colon != std::string_view::npos && port.empty()) port = "x";  // "host:" is a mistake
  }
  if (out->host.empty() || out->host.find_first_of("?#@/ ") != std::string::npos) {
    *error = "redis url: missing or malformed host; " + std::string(kShape);
    return false;
  }
  int64_t number = 0;
  if (!port.empty()) {
    if (!ParseInt(port, 1, 65535, &number)) {
      *error = "redis url: the port must be a number from 1 to 65535";
      return false;
    }
    out->port = static_cast<int>(number);
  }
  if (!db.empty()) {
    if (!ParseInt(db, 0, 1'000'000, &number)) {
      *error = "redis url: the database after '/' must be a number";
      return false;
    }
    out->db = static_cast<int>(number);
  }
  return true;
}

std::string Sha1Hex(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), md, &length, EVP_sha1(), nullptr) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 15]);
  }
  return hex;
}

int64_t SteadyMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

int64_t WallMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
using Reply = std::unique_ptr<redisReply, ReplyFree>;

Reply Send(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv(args.size());
  std::vector<size_t> lengths(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lengths[i] = args[i].size();
  }
  void* reply = redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lengths.data());
  return Reply(static_cast<redisReply*>(reply));
}

bool IsInteger(const redisReply* r) { return r != nullptr && r->type == REDIS_REPLY_INTEGER; }

// A pooled connection the server closed while it sat idle (restart, idle
// timeout): the command never ran, so one retry on a fresh one is safe.
bool ClosedWhileIdle(const redisContext* c) {
  return c->err == REDIS_ERR_EOF || (c->err == REDIS_ERR_IO && (errno == ECONNRESET || errno == EPIPE));
}

// What went wrong on a connection, for the log.
std::string Describe(const redisContext* c, int timeout_ms) {
  if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return "no answer within " + std::to_string(timeout_ms) + " ms";
  }
  return c->err != 0 ? c->errstr : "no reply";
}

std::string PeriodUs(int64_t period_ms) {
  return std::to_string(std::clamp<int64_t>(period_ms, 0, kMaxPeriodMs) * 1000);
}

class RedisLimiter final : public Limiter {
 public:
  RedisLimiter(const RedisOptions& options, Endpoint endpoint)
      : endpoint_(std::move(endpoint)),
        prefix_(options.prefix),
        timeout_ms_(std::max(options.timeout_ms, 1)),
        instances_(std::max(options.instances, 1)),
        admit_script_(std::string(redis_scripts::kPrelude) + redis_scripts::kAdmit),
        adjust_script_(std::string(redis_scripts::kPrelude) + redis_scripts::kAdjust),
        charge_script_(redis_scripts::kCharge),
        admit_sha_(Sha1Hex(admit_script_)),
        adjust_sha_(Sha1Hex(adjust_script_)),
        charge_sha_(Sha1Hex(charge_script_)),
        fallback_(instances_) {}

  Verdict Admit(std::span<const RateRule> rates, std::span<const BudgetRule> budgets, int64_t now_ms) override {
    if (rates.empty() && budgets.empty()) return Verdict{};
    std::vector<std::string> args = Script(admit_sha_, rates.size() + budgets.size());
    for (const RateRule& r : rates) args.push_back(prefix_ + r.id);
    for (const BudgetRule& b : budgets) args.push_back(prefix_ + b.id);
    args.push_back(std::to_string(rates.size()));
    for (const RateRule& r : rates) {
      args.push_back(std::to_string(r.limit));
      args.push_back(PeriodUs(r.period_ms));
      args.push_back(std::to_string(r.cost));
    }
    for (const BudgetRule& b : budgets) {
      args.push_back(std::to_string(b.limit));
      args.push_back(std::to_string(b.seed));
    }
    if (Reply reply = Run(args, admit_script_)) {
      Verdict verdict;
      if (ParseAdmit(reply.get(), rates, budgets, &verdict)) {
        fallback_.Observe(budgets, verdict.spent, now_ms);
        return verdict;
      }
      Fail("unexpected reply to the admit script");
    }
    Verdict verdict = fallback_.Admit(rates, budgets, now_ms);
    verdict.degraded = true;
    return verdict;
  }

  void Adjust(std::span<const RateRule> rates, int64_t now_ms) override {
    std::vector<const RateRule*> live;  // the rules that change anything
    for (const RateRule& r : rates) {
      if (r.cost != 0 && r.limit > 0 && r.period_ms > 0) live.push_back(&r);
    }
    if (live.empty()) return;
    std::vector<std::string> args = Script(adjust_sha_, live.size());
    for (const RateRule* r : live) args.push_back(prefix_ + r->id);
    for (const RateRule* r : live) {
      args.push_back(std::to_string(r->limit));
      args.push_back(PeriodUs(r->period_ms));
      args.push_back(std::to_string(r->cost));
    }
    if (Reply reply = Run(args, adjust_script_)) {
      if (IsInteger(reply.get())) return;
      Fail("unexpected reply to the adjust script");
    }
    fallback_.Adjust(rates, now_ms);
  }

  void Charge(std::span<const BudgetRule> budgets, Micros amount) override {
    if (budgets.empty()) return;
    std::vector<std::string> args = Script(charge_sha_, budgets.size());
    for (const BudgetRule& b : budgets) args.push_back(prefix_ + b.id);
    args.push_back(std::to_string(amount));
    for (const BudgetRule& b : budgets) {
      args.push_back(std::to_string(b.seed));
      args.push_back(std::to_string(b.window_end_ms));
    }
    if (Reply reply = Run(args, charge_script_)) {
      std::vector<Micros> spent;
      if (IntegerArray(reply.get(), budgets.size(), &spent)) {
        fallback_.Observe(budgets, spent, WallMs());
        return;
      }
      Fail("unexpected reply to the charge script");
    }
    fallback_.Charge(budgets, amount);
  }

  std::vector<Micros> Spent(std::span<const BudgetRule> budgets) override {
    if (budgets.empty()) return {};
    std::vector<std::string> args{"MGET"};
    for (const BudgetRule& b : budgets) args.push_back(prefix_ + b.id);
    if (Reply reply = Run(args, "")) {
      std::vector<Micros> spent;
      if (ParseSpent(reply.get(), budgets, &spent)) {
        fallback_.Observe(budgets, spent, WallMs());
        return spent;
      }
      Fail("unexpected reply to MGET");
    }
    return fallback_.Spent(budgets);
  }

  std::string Kind() const override { return "redis"; }
  bool Healthy() const override { return healthy_.load(std::memory_order_acquire); }

 private:
  // EVALSHA <sha> <nkeys>, to be followed by keys and arguments.
  static std::vector<std::string> Script(const std::string& sha, size_t keys) {
    std::vector<std::string> args{"EVALSHA", sha, std::to_string(keys)};
    args.reserve(3 + keys * 4);
    return args;
  }

  static bool IntegerArray(const redisReply* r, size_t n, std::vector<Micros>* out) {
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != n) return false;
    out->resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (!IsInteger(r->element[i])) return false;
      (*out)[i] = r->element[i]->integer;
    }
    return true;
  }

  static bool ParseAdmit(const redisReply* r, std::span<const RateRule> rates, std::span<const BudgetRule> budgets,
                         Verdict* v) {
    std::vector<int64_t> n;
    if (!IntegerArray(r, 4 + 2 * rates.size() + budgets.size(), &n)) return false;
    const auto nr = static_cast<int64_t>(rates.size());
    const auto nb = static_cast<int64_t>(budgets.size());
    if (n[1] < -1 || n[1] >= nr || n[2] < -1 || n[2] >= nb) return false;
    if ((n[0] == 1) != (n[1] < 0 && n[2] < 0)) return false;
    v->allowed = n[0] == 1;
    v->denied_rate = static_cast<int>(n[1]);
    v->denied_budget = static_cast<int>(n[2]);
    v->retry_after_ms = std::max<int64_t>(n[3], 0);
    v->rates.resize(rates.size());
    for (size_t i = 0; i < rates.size(); ++i) {
      bool valid = rates[i].limit > 0 && rates[i].period_ms > 0;
      v->rates[i] = RateState{valid ? rates[i].limit : 0, n[4 + 2 * i], n[5 + 2 * i]};
    }
    v->spent.assign(n.begin() + 4 + 2 * nr, n.end());
    return true;
  }

  static bool ParseSpent(const redisReply* r, std::span<const BudgetRule> budgets, std::vector<Micros>* out) {
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != budgets.size()) return false;
    out->resize(budgets.size());
    for (size_t i = 0; i < budgets.size(); ++i) {
      const redisReply* e = r->element[i];
      if (e->type == REDIS_REPLY_NIL) {
        (*out)[i] = budgets[i].seed;
      } else if (e->type != REDIS_REPLY_STRING ||
                 !ParseInt(std::string_view(e->str, e->len), INT64_MIN, INT64_MAX, &(*out)[i])) {
        return false;
      } else {
        (*out)[i] = std::max((*out)[i], budgets[i].seed);
      }
    }
    return true;
  }

  // Runs one command; EVALSHA is sent again as EVAL when Redis lost the
  // script (restart, failover, SCRIPT FLUSH). Null when Redis failed or is
  // resting after a failure; Fail has then been called.
  Reply Run(std::vector<std::string>& args, const std::string& script) {
    if (!MayTry()) return nullptr;
    std::string error;
    bool pooled = false;
    Context c = Acquire(&pooled, &error);
    if (c == nullptr) {
      Fail(error);
      return nullptr;
    }
    Reply reply = Send(c.get(), args);
    if (reply == nullptr && pooled && ClosedWhileIdle(c.get())) {
      c = Connect(&error);
      if (c == nullptr) {
        Fail(error);
        return nullptr;
      }
      reply = Send(c.get(), args);
    }
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR && !script.empty() &&
        std::string_view(reply->str, reply->len).starts_with("NOSCRIPT")) {
      args[0] = "EVAL";
      args[1] = script;
      reply = Send(c.get(), args);
    }
    if (reply == nullptr) {
      Fail(Describe(c.get(), timeout_ms_));
      return nullptr;  // the connection is dropped: its stream may be out of step
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string message(reply->str, reply->len);
      Release(std::move(c));
      Fail(message);
      return nullptr;
    }
    Release(std::move(c));
    Recovered();
    return reply;
  }

  bool MayTry() {
    if (healthy_.load(std::memory_order_acquire)) return true;
    int64_t now = SteadyMs();
    int64_t at = retry_at_ms_.load(std::memory_order_acquire);
    if (now < at) return false;
    return retry_at_ms_.compare_exchange_strong(at, now + kRetryEveryMs);  // one caller probes; the rest stay local
  }

  void Fail(const std::string& why) {
    retry_at_ms_.store(SteadyMs() + kRetryEveryMs, std::memory_order_release);
    healthy_.store(false, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      idle_.clear();  // likely all broken alike
    }
    if (!outage_logged_.exchange(true)) {
      log::Warn("redis limiter: ", endpoint_.Display(), " failed (", Scrub(why),
                "); deciding locally with every limit divided by ", instances_,
                " until it answers; trying again at most once a second");
    }
  }

  void Recovered() {
    if (healthy_.load(std::memory_order_acquire)) return;
    healthy_.store(true, std::memory_order_release);
    if (outage_logged_.exchange(false)) {
      log::Info("redis limiter: ", endpoint_.Display(), " answers again; limits are shared again");
    }
  }

  std::string Scrub(std::string text) const {
    if (endpoint_.password.empty()) return text;
    for (size_t at; (at = text.find(endpoint_.password)) != std::string::npos;) {
      text.replace(at, endpoint_.password.size(), "***");
    }
    return text;
  }

  Context Acquire(bool* pooled, std::string* error) {
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (!idle_.empty()) {
        Context c = std::move(idle_.back());
        idle_.pop_back();
        *pooled = true;
        return c;
      }
    }
    *pooled = false;
    return Connect(error);
  }

  void Release(Context c) {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(c));
  }

  Context Connect(std::string* error) {
    timeval tv{timeout_ms_ / 1000, static_cast<suseconds_t>((timeout_ms_ % 1000) * 1000)};
    Context c(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv));
    if (c == nullptr || c->err != 0) {
      *error = c == nullptr ? "cannot allocate a connection" : "connect: " + Describe(c.get(), timeout_ms_);
      return nullptr;
    }
    if (redisSetTimeout(c.get(), tv) != REDIS_OK) {
      *error = "cannot set the command timeout";
      return nullptr;
    }
    redisEnableKeepAlive(c.get());
    if (!endpoint_.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!endpoint_.user.empty()) auth.push_back(endpoint_.user);
      auth.push_back(endpoint_.password);
      if (!Setup(c.get(), auth, "AUTH", error)) return nullptr;
    }
    if (endpoint_.db != 0 && !Setup(c.get(), {"SELECT", std::to_string(endpoint_.db)}, "SELECT", error)) return nullptr;
    return c;
  }

  bool Setup(redisContext* c, const std::vector<std::string>& args, const char* what, std::string* error) {
    Reply reply = Send(c, args);
    if (reply == nullptr) {
      *error = std::string(what) + ": " + Describe(c, timeout_ms_);
      return false;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      *error = std::string(what) + ": " + std::string(reply->str, reply->len);
      return false;
    }
    return true;
  }

  const Endpoint endpoint_;
  const std::string prefix_;
  const int timeout_ms_;
  const int instances_;
  const std::string admit_script_, adjust_script_, charge_script_;
  const std::string admit_sha_, adjust_sha_, charge_sha_;
  LocalLimiter fallback_;

  std::atomic<bool> healthy_{true};         // until a call fails
  std::atomic<int64_t> retry_at_ms_{0};     // steady clock: no Redis call before this while unhealthy
  std::atomic<bool> outage_logged_{false};  // the warning for this outage is out

  std::mutex pool_mu_;
  std::vector<Context> idle_;  // connections not in use
};

}  // namespace

std::unique_ptr<Limiter> NewRedisLimiter(const RedisOptions& options, std::string* error) {
  Endpoint endpoint;
  std::string why;
  if (!ParseRedisUrl(options.url, &endpoint, &why)) {
    if (error != nullptr) *error = why;
    return nullptr;
  }
  return std::make_unique<RedisLimiter>(options, std::move(endpoint));
}

}  // namespace sy::gov
