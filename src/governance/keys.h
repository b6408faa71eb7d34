// API key secrets and the in-memory key table.
//
// A key made by the gateway looks like "syu_" + 32 base62 characters + a
// 6-character base62 CRC32 of them ("sya_" admin, "sys_" service): scanners
// can recognise it, and a mistyped one is refused without a lookup. Only the
// SHA-256 of a key is stored.
//
// The key table is an immutable snapshot (keys, their users) published
// through an atomic shared_ptr: a request takes the current snapshot with one
// atomic load and never waits on the database. KeyCache rebuilds it when the
// store's change_seq moves (polled every key_refresh_ms) and at once after
// an admin write on this instance.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "governance/store.h"
#include "governance/types.h"

namespace sy::gov {

// A new random key of the type's prefix. Uses OpenSSL's RAND_bytes; empty
// when the random source fails (the caller must refuse).
std::string NewKeySecret(KeyType type);
// True for a string shaped like NewKeySecret's with a wrong checksum: it can
// be refused without a lookup. False for anything else (config keys may be
// any string).
bool HasBadChecksum(std::string_view key);
// Raw 32-byte SHA-256 of a key (the table's lookup key); "" when OpenSSL fails.
std::string KeyDigest(std::string_view key);
// The same into out; false when OpenSSL fails. No allocation.
bool KeyDigestInto(std::string_view key, unsigned char (&out)[32]);
std::string HexOf(std::string_view bytes);
// "syu_AbCd...wxyz": what lists and logs show instead of the key.
std::string DisplayOf(std::string_view key);
// A new id: prefix + 16 lowercase hex characters ("key_", "user_").
std::string NewId(std::string_view prefix);

// True when `model` matches `pattern` ('*' matches any run of characters).
bool ModelMatches(std::string_view pattern, std::string_view model);

struct KeyEntry {
  ApiKey key;
  std::shared_ptr<const User> user;  // null when the key has no (known) owner
  bool from_config = false;          // written in the config file, not the store
  // Limiter bucket ids, made once with the table rather than per request:
  // "k:ID:rpm", "k:ID:tpm", and the owner's "u:ID:rpm", "u:ID:tpm".
  std::string rpm_id, tpm_id, user_rpm_id, user_tpm_id;
};

// Fills an entry's bucket ids from its key and user.
void SetBucketIds(KeyEntry* e);

// Hash for unordered maps keyed by std::string that are searched with a
// std::string_view (no temporary string per lookup).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct KeyTable {
  // raw SHA-256 → key
  std::unordered_map<std::string, std::shared_ptr<const KeyEntry>, StringHash, std::equal_to<>> by_digest;
  std::unordered_map<std::string, std::shared_ptr<const KeyEntry>> by_id;
  std::unordered_map<std::string, std::shared_ptr<const User>> users;         // by id
  int64_t change_seq = -1;  // the store's, when loaded; -1 = never loaded
};

class KeyCache {
 public:
  // store may be null (store: none): only config keys. REQUIRES: store
  // outlives the cache.
  KeyCache(Store* store, const std::vector<config::ClientKey>& config_keys, int refresh_ms);
  ~KeyCache();  // Stop()

  // Loads the table from the store now. Not OK: the table keeps the config
  // keys (and whatever was loaded before).
  Status Reload();
  // Starts the poll thread; Stop() ends it.
  void Start();
  void Stop();
  // Asks the poll thread to reload now (after an admin write here).
  void Poke();
  // A reloaded config's keys: the table is rebuilt with them at once.
  void SetConfigKeys(const std::vector<config::ClientKey>& keys);

  std::shared_ptr<const KeyTable> table() const { return table_.load(std::memory_order_acquire); }
  bool store_ok() const { return store_ok_.load(std::memory_order_relaxed); }
  // Called on the poll thread after each successful reload (seeds of budget counters).
  void set_on_reload(std::function<void()> fn) { on_reload_ = std::move(fn); }

 private:
  void Run();
  std::shared_ptr<KeyTable> ConfigOnly() const;
  // Rebuilds the table from config entries + the store's rows last loaded.
  void Publish();

  Store* store_;
  mutable std::mutex build_mu_;  // guards config_entries_, users_, keys_, seq_; serialises Publish
  std::vector<std::shared_ptr<const KeyEntry>> config_entries_;
  std::vector<User> users_;
  std::vector<ApiKey> keys_;
  int64_t seq_ = -1;
  int refresh_ms_;
  std::atomic<std::shared_ptr<const KeyTable>> table_;
  std::atomic<bool> store_ok_{true};
  std::function<void()> on_reload_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool poked_ = false;
  std::thread thread_;
};

// The config's keys as table entries (id "cfg_" + name, no owner).
std::vector<std::shared_ptr<const KeyEntry>> ConfigKeyEntries(const std::vector<config::ClientKey>& keys);

}  // namespace sy::gov
