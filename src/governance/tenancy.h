// Everything tenancy needs for one server process, built from the config:
// the store (opened and migrated), the limiter (local or Redis), the usage
// recorder, the clock and the Governance that ties them together. main()
// owns one; Stop() on SIGTERM flushes the usage queue.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "config/config.h"
#include "governance/governance.h"

namespace sy::gov {

class Tenancy {
 public:
  ~Tenancy();
  // Null with *error set when the config's store or redis URL cannot be
  // used at all (malformed, unreadable SQLite path). A PostgreSQL that is
  // down is not an error: the server starts on config keys and retries.
  static std::unique_ptr<Tenancy> Create(const config::Config& config, std::string* error);

  Governance& governance() { return *governance_; }
  Store* store() { return store_.get(); }
  UsageRecorder* recorder() { return recorder_.get(); }
  std::string store_url_masked() const { return store_masked_; }
  bool migrated() const { return migrated_.load(); }

  // Stops the key cache, then writes every queued usage record to the store
  // or the spool. Idempotent.
  void Stop();

 private:
  Tenancy() = default;
  void RetryMigrations();

  std::unique_ptr<Clock> clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<UsageRecorder> recorder_;
  std::unique_ptr<Governance> governance_;
  std::string store_masked_;
  std::atomic<bool> migrated_{false};
  std::atomic<bool> stopping_{false};
  std::thread migrator_;
};

// The store URL a config means: its own, or sqlite://switchyard.db beside
// the config file ("" when store is none). Relative SQLite paths are
// resolved against the config file's folder.
std::string StoreUrlOf(const config::Config& config);
std::string ConfigDirOf(const config::Config& config);

// `switchyard init`: creates the management key (an admin key named
// "management") in the store and returns it — shown once. With force, an
// existing one is revoked first; without, an existing one is an error.
Status CreateManagementKey(Store* store, bool force, std::string* key_out);

}  // namespace sy::gov
