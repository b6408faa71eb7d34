// Helpers for the limiter tests: the test Redis's address, a connection of
// the test's own (for SCRIPT FLUSH, inspecting keys and cleaning up), and
// unique key prefixes so repeated and parallel runs do not collide.
#pragma once

#include <hiredis/hiredis.h>
#include <signal.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sy::gov::limiter_test {

// SWITCHYARD_TEST_REDIS_URL, or "" when unset (the caller then FAILs).
inline std::string RedisUrl() {
  const char* url = std::getenv("SWITCHYARD_TEST_REDIS_URL");
  return url == nullptr ? "" : url;
}

// "sytest:<16 hex>:", new on every call.
inline std::string UniquePrefix() {
  std::random_device rd;
  uint64_t v = (uint64_t{rd()} << 32) ^ rd();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sytest:";
  for (int i = 0; i < 16; ++i) out.push_back(kHex[(v >> (i * 4)) & 15]);
  return out + ":";
}

// The limiter writes with write(2); the gateway ignores SIGPIPE, so do tests.
inline void IgnoreSigpipe() { ::signal(SIGPIPE, SIG_IGN); }

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

// A plain connection to the Redis in `url` (redis://[:password@]host:port[/db]).
class TestRedis {
 public:
  explicit TestRedis(std::string_view url) {
    if (url.starts_with("redis://")) url.remove_prefix(8);
    std::string password;
    if (size_t at = url.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = url.substr(0, at);
      password = std::string(userinfo.substr(userinfo.find(':') + 1));
      url.remove_prefix(at + 1);
    }
    std::string_view db;
    if (size_t slash = url.find('/'); slash != std::string_view::npos) {
      db = url.substr(slash + 1);
      url = url.substr(0, slash);
    }
    size_t colon = url.rfind(':');
    host_ = std::string(url.substr(0, colon));
    port_ = colon == std::string_view::npos ? 6379 : std::atoi(std::string(url.substr(colon + 1)).c_str());
    c_ = redisConnect(host_.c_str(), port_);
    if (!password.empty()) Do({"AUTH", password});
    if (!db.empty()) Do({"SELECT", std::string(db)});
  }
  ~TestRedis() {
    if (c_ != nullptr) redisFree(c_);
  }
  TestRedis(const TestRedis&) = delete;
  TestRedis& operator=(const TestRedis&) = delete;

  bool ok() const { return c_ != nullptr && c_->err == 0; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }

  ReplyPtr Do(const std::vector<std::string>& args) {
    if (!ok()) return nullptr;
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    void* reply = redisCommandArgv(c_, static_cast<int>(args.size()), argv.data(), lengths.data());
    return ReplyPtr(static_cast<redisReply*>(reply));
  }

  // The string value of `key`, or "(nil)".
  std::string Get(const std::string& key) {
    ReplyPtr r = Do({"GET", key});
    if (r == nullptr) return "(no reply)";
    if (r->type == REDIS_REPLY_NIL) return "(nil)";
    return std::string(r->str, r->len);
  }

  // Deletes every key under `prefix`.
  void DeleteUnder(const std::string& prefix) {
    std::string cursor = "0";
    do {
      ReplyPtr r = Do({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
      if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return;
      cursor = std::string(r->element[0]->str, r->element[0]->len);
      const redisReply* keys = r->element[1];
      if (keys->elements == 0) continue;
      std::vector<std::string> del{"DEL"};
      for (size_t i = 0; i < keys->elements; ++i) del.emplace_back(keys->element[i]->str, keys->element[i]->len);
      Do(del);
    } while (cursor != "0");
  }

 private:
  std::string host_;
  int port_ = 6379;
  redisContext* c_ = nullptr;
};

}  // namespace sy::gov::limiter_test
