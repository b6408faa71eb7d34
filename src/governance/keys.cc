#include "governance/keys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstring>

#include "common/log.h"
#include "governance/usage_spool.h"

namespace sy::gov {
namespace {

constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr size_t kRandomChars = 32;
constexpr size_t kChecksumChars = 6;
constexpr size_t kPrefixChars = 4;  // "syu_"

std::string_view PrefixOf(KeyType type) {
  switch (type) {
    case KeyType::kUser: return "syu_";
    case KeyType::kAdmin: return "sya_";
    case KeyType::kService: return "sys_";
  }
  return "syu_";
}

std::string Checksum(std::string_view body) {
  uint32_t crc = Crc32(body);
  std::string out(kChecksumChars, '0');
  for (size_t i = kChecksumChars; i-- > 0;) {
    out[i] = kBase62[crc % 62];
    crc /= 62;
  }
  return out;
}

bool IsBase62(std::string_view s) {
  for (char ch : s) {
    if (kBase62.find(ch) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace

std::string NewKeySecret(KeyType type) {
  unsigned char random[kRandomChars];
  if (RAND_bytes(random, sizeof random) != 1) return "";
  std::string body;
  body.reserve(kRandomChars);
  for (unsigned char b : random) body += kBase62[b % 62];  // 256 % 62 bias: ~190 bits remain; ample
  return std::string(PrefixOf(type)) + body + Checksum(body);
}

bool HasBadChecksum(std::string_view key) {
  if (key.size() != kPrefixChars + kRandomChars + kChecksumChars) return false;
  const std::string_view prefix = key.substr(0, kPrefixChars);
  if (prefix != "syu_" && prefix != "sya_" && prefix != "sys_") return false;
  const std::string_view body = key.substr(kPrefixChars, kRandomChars);
  const std::string_view sum = key.substr(kPrefixChars + kRandomChars);
  if (!IsBase62(body) || !IsBase62(sum)) return false;
  return Checksum(body) != sum;
}

bool KeyDigestInto(std::string_view key, unsigned char (&out)[32]) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up
  // again on every call, which costs more than hashing a short key.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (kSha256 == nullptr) return false;
  // One context per thread, reused: EVP_Digest makes and frees one per call.
  struct Ctx {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Ctx c;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (c.ctx == nullptr || EVP_DigestInit_ex2(c.ctx, kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(c.ctx, key.data(), key.size()) != 1 || EVP_DigestFinal_ex(c.ctx, md, &len) != 1 || len != 32) {
    return false;
  }
  std::memcpy(out, md, 32);
  return true;
}

std::string KeyDigest(std::string_view key) {
  unsigned char md[32];
  if (!KeyDigestInto(key, md)) return "";
  return std::string(reinterpret_cast<const char*>(md), sizeof md);
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

namespace {
std::string Unhex(std::string_view hex) {
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2) return "";
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = val(hex[i]);
    const int lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return "";
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}
}  // namespace

std::string DisplayOf(std::string_view key) {
  if (key.size() < 12) return std::string(key.substr(0, 2)) + "...";
  return std::string(key.substr(0, 8)) + "..." + std::string(key.substr(key.size() - 4));
}

std::string NewId(std::string_view prefix) {
  unsigned char random[8];
  if (RAND_bytes(random, sizeof random) != 1) {
    // Ids are not secrets: a clock-based fallback is acceptable.
    const auto t = std::chrono::steady_clock::now().time_since_epoch().count();
    std::memcpy(random, &t, sizeof random);
  }
  return std::string(prefix) + HexOf(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
}

bool ModelMatches(std::string_view pattern, std::string_view model) {
  // Iterative glob with '*' only; backtracks to the last star.
  size_t p = 0, m = 0, star = std::string_view::npos, mark = 0;
  while (m < model.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = m;
    } else if (p < pattern.size() && pattern[p] == model[m]) {
      ++p;
      ++m;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      m = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

void SetBucketIds(KeyEntry* e) {
  e->rpm_id = "k:" + e->key.id + ":rpm";
  e->tpm_id = "k:" + e->key.id + ":tpm";
  if (e->user) {
    e->user_rpm_id = "u:" + e->user->id + ":rpm";
    e->user_tpm_id = "u:" + e->user->id + ":tpm";
  }
}

std::vector<std::shared_ptr<const KeyEntry>> ConfigKeyEntries(const std::vector<config::ClientKey>& keys) {
  std::vector<std::shared_ptr<const KeyEntry>> out;
  for (const auto& k : keys) {
    auto e = std::make_shared<KeyEntry>();
    e->from_config = true;
    e->key.id = "cfg_" + k.name;
    e->key.name = k.name;
    e->key.hash = HexOf(KeyDigest(k.key));
    e->key.display = DisplayOf(k.key);
    e->key.type = ParseKeyType(k.type).value_or(KeyType::kUser);
    e->key.rpm_limit = static_cast<int64_t>(k.rpm);
    e->key.tpm_limit = static_cast<int64_t>(k.tpm);
    e->key.budget_limit = k.budget_micros;
    e->key.budget_period = ParseBudgetPeriod(k.budget_period).value_or(BudgetPeriod::kNone);
    e->key.permissions.model_patterns = k.models;
    SetBucketIds(e.get());
    out.push_back(std::move(e));
  }
  return out;
}

KeyCache::KeyCache(Store* store, const std::vector<config::ClientKey>& config_keys, int refresh_ms)
    : store_(store), config_entries_(ConfigKeyEntries(config_keys)), refresh_ms_(refresh_ms) {
  std::lock_guard<std::mutex> lock(build_mu_);
  Publish();
}

KeyCache::~KeyCache() { Stop(); }

std::shared_ptr<KeyTable> KeyCache::ConfigOnly() const {
  auto t = std::make_shared<KeyTable>();
  for (const auto& e : config_entries_) {
    t->by_digest.emplace(Unhex(e->key.hash), e);
    t->by_id.emplace(e->key.id, e);
  }
  return t;
}

Status KeyCache::Reload() {
  if (store_ == nullptr) return Status::Ok();
  std::vector<User> users;
  std::vector<ApiKey> keys;
  int64_t seq = 0;
  Status st = store_->LoadAll(&users, &keys, &seq);
  store_ok_.store(st.ok(), std::memory_order_relaxed);
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(build_mu_);
  users_ = std::move(users);
  keys_ = std::move(keys);
  seq_ = seq;
  Publish();
  return Status::Ok();
}

void KeyCache::SetConfigKeys(const std::vector<config::ClientKey>& keys) {
  std::lock_guard<std::mutex> lock(build_mu_);
  config_entries_ = ConfigKeyEntries(keys);
  Publish();
}

void KeyCache::Publish() {
  auto t = ConfigOnly();
  t->change_seq = seq_;
  for (const auto& u : users_) {
    auto p = std::make_shared<const User>(u);
    t->users.emplace(p->id, std::move(p));
  }
  for (const auto& k : keys_) {
    std::string digest = Unhex(k.hash);
    if (digest.size() != 32) continue;  // not a SHA-256: cannot match anything
    auto e = std::make_shared<KeyEntry>();
    if (auto u = t->users.find(k.user_id); u != t->users.end()) e->user = u->second;
    e->key = k;
    SetBucketIds(e.get());
    std::shared_ptr<const KeyEntry> entry = std::move(e);
    t->by_id.emplace(entry->key.id, entry);
    t->by_digest.emplace(std::move(digest), std::move(entry));  // a config key with the same secret wins
  }
  table_.store(std::move(t), std::memory_order_release);
}

void KeyCache::Start() {
  if (store_ == nullptr || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void KeyCache::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void KeyCache::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

void KeyCache::Run() {
  bool was_ok = true;
  for (;;) {
    bool poked = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(refresh_ms_), [this] { return stop_ || poked_; });
      if (stop_) return;
      poked = poked_;
      poked_ = false;
    }
    int64_t seq = 0;
    Status st = store_->ChangeSeq(&seq);
    if (st.ok() && (poked || seq != table()->change_seq || !was_ok)) st = Reload();
    store_ok_.store(st.ok(), std::memory_order_relaxed);
    if (!st.ok() && was_ok) log::Warn("key cache: store unavailable, serving the last loaded keys: ", st.message());
    if (st.ok() && !was_ok) log::Info("key cache: store available again");
    was_ok = st.ok();
    if (st.ok() && on_reload_) on_reload_();
  }
}

}  // namespace sy::gov
