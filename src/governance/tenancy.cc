#include "governance/tenancy.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "common/log.h"

namespace sy::gov {

std::string ConfigDirOf(const config::Config& config) {
  if (config.source_path.empty()) return ".";
  std::filesystem::path dir = std::filesystem::path(config.source_path).parent_path();
  return dir.empty() ? "." : dir.string();
}

std::string StoreUrlOf(const config::Config& config) {
  if (config.store == "none") return "";
  if (config.store.empty()) return "sqlite://switchyard.db";
  return config.store;
}

namespace {

std::string SpoolPathOf(const config::Config& config, const std::string& url) {
  if (!config.usage.spool.empty()) {
    std::filesystem::path p(config.usage.spool);
    return p.is_absolute() ? p.string() : (std::filesystem::path(ConfigDirOf(config)) / p).string();
  }
  if (url.rfind("sqlite://", 0) == 0) {
    std::filesystem::path p(url.substr(9));
    if (!p.is_absolute()) p = std::filesystem::path(ConfigDirOf(config)) / p;
    return p.string() + ".usage-spool";
  }
  return (std::filesystem::path(ConfigDirOf(config)) / "switchyard.usage-spool").string();
}

}  // namespace

std::unique_ptr<Tenancy> Tenancy::Create(const config::Config& config, std::string* error) {
  std::unique_ptr<Tenancy> t(new Tenancy());
  if (const char* clock_file = std::getenv("SWITCHYARD_TEST_CLOCK_FILE"); clock_file && *clock_file) {
    t->clock_ = std::make_unique<FileOffsetClock>(clock_file);
    log::Warn("SWITCHYARD_TEST_CLOCK_FILE is set: governance time follows ", clock_file, " (tests only)");
  } else {
    t->clock_ = std::make_unique<SystemClock>();
  }
  const std::string url = StoreUrlOf(config);
  if (!url.empty()) {
    t->store_masked_ = MaskStoreUrl(url);
    t->store_ = OpenStore(url, ConfigDirOf(config), error);
    if (!t->store_) return nullptr;
    Status st = t->store_->Migrate();
    if (st.ok()) {
      t->migrated_ = true;
    } else if (st.kind() == Status::Kind::kUnavailable) {
      log::Warn("store ", t->store_masked_, " unavailable at start (", st.message(),
                "); serving with config keys, usage spooled, retrying");
    } else {
      *error = "store " + t->store_masked_ + ": " + st.message();
      return nullptr;
    }
    if (config.usage.enabled) {
      RecorderOptions ro;
      ro.queue_capacity = config.usage.queue_capacity;
      ro.high_water = std::max<size_t>(1, config.usage.queue_capacity / 2);
      ro.batch_rows = config.usage.batch_rows;
      ro.flush_interval_ms = static_cast<int>(config.usage.flush_interval_ms);
      ro.spool_path = SpoolPathOf(config, url);
      t->recorder_ = std::make_unique<UsageRecorder>(t->store_.get(), ro);
    }
  }
  std::unique_ptr<Limiter> limiter;
  if (!config.redis.empty()) {
    RedisOptions ro;
    ro.url = config.redis;
    ro.timeout_ms = static_cast<int>(config.limits.redis_timeout_ms);
    ro.instances = static_cast<int>(config.limits.instances);
    limiter = NewRedisLimiter(ro, error);
    if (!limiter) return nullptr;
  } else {
    limiter = NewLocalLimiter();
  }
  t->governance_ =
      std::make_unique<Governance>(config, t->store_.get(), std::move(limiter), t->recorder_.get(), t->clock_.get());
  if (t->recorder_) t->recorder_->Start();
  Status st = t->governance_->Start();
  if (!st.ok() && t->store_) log::Warn("store ", t->store_masked_, ": cannot load keys yet: ", st.message());
  if (t->store_ && !t->migrated_) {
    Tenancy* self = t.get();
    t->migrator_ = std::thread([self] { self->RetryMigrations(); });
  }
  return t;
}

void Tenancy::RetryMigrations() {
  while (!stopping_.load()) {
    for (int i = 0; i < 20 && !stopping_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (stopping_.load()) return;
    Status st = store_->Migrate();
    if (st.ok()) {
      migrated_ = true;
      log::Info("store ", store_masked_, " available: schema ready");
      governance_->keys().Poke();
      return;
    }
  }
}

void Tenancy::Stop() {
  stopping_ = true;
  if (migrator_.joinable()) migrator_.join();
  if (governance_) governance_->Stop();
  if (recorder_) recorder_->Stop();
}

Tenancy::~Tenancy() { Stop(); }

Status CreateManagementKey(Store* store, bool force, std::string* key_out) {
  std::vector<ApiKey> keys;
  Status st = store->ListKeys("", &keys);
  if (!st.ok()) return st;
  std::vector<std::string> existing;
  for (const auto& k : keys) {
    if (k.name == "management" && k.type == KeyType::kAdmin && k.revoked_at == 0) existing.push_back(k.id);
  }
  if (!existing.empty() && !force) {
    return Status::Conflict("a management key exists already; run with --force to replace it");
  }
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::string secret = NewKeySecret(KeyType::kAdmin);
  if (secret.empty()) return Status::Invalid("the random source failed");
  ApiKey key;
  key.id = NewId("key_");
  key.hash = HexOf(KeyDigest(secret));
  key.display = DisplayOf(secret);
  key.name = "management";
  key.type = KeyType::kAdmin;
  key.created_at = now;
  st = store->CreateKey(key);
  if (!st.ok()) return st;
  // The old keys go after the new one exists: an instance whose key cache
  // sees the old key revoked sees the new one too (there is never a moment
  // with no management key).
  for (const auto& id : existing) {
    st = store->RevokeKey(id, now);
    if (!st.ok()) return st;
  }
  *key_out = secret;
  return Status::Ok();
}

}  // namespace sy::gov
