// ConfigToJson, MaskUrlPassword and WriteFileAtomically (config_document.h).
// MaskYamlText and RestoreMasked are in config_masking.cc.
#include "config/config_document.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/json_writer.h"
#include "config/secret_text.h"

namespace sy::config {
namespace {

// ---------------------------------------------------------------------------
// ConfigToJson

// v / 1e6 as an exact decimal: 2500000 → "2.5", 1 → "0.000001", 3000000 → "3".
std::string Millionths(int64_t v) {
  const bool negative = v < 0;
  const uint64_t u = negative ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  std::string out = (negative ? "-" : "") + std::to_string(u / 1000000);
  const uint64_t fraction = u % 1000000;
  if (fraction == 0) return out;
  std::string digits = std::to_string(fraction);
  digits.insert(0, 6 - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

// Writes the document; every string value goes through Text so that a
// literal "${" survives the ${VAR} expansion of the loader.
class DocumentWriter {
 public:
  DocumentWriter(std::string* out, bool mask) : w_(out), mask_(mask) {}

  void Write(const Config& c) {
    w_.BeginObject();
    Server(c.server);
    w_.Key("keys").BeginArray();
    for (const ClientKey& k : c.keys) Key(k);
    w_.EndArray();
    w_.Key("providers").BeginArray();
    for (const ProviderConfig& p : c.providers) Provider(p);
    w_.EndArray();
    w_.Key("models").BeginArray();
    for (const ModelAlias& m : c.models) Model(m);
    w_.EndArray();
    if (!c.store.empty()) Url("store", c.store);
    if (!c.redis.empty()) Url("redis", c.redis);
    w_.Key("limits").BeginObject();
    Uint("rpm", c.limits.rpm);
    Uint("tpm", c.limits.tpm);
    Uint("ip_rpm", c.limits.ip_rpm);
    Uint("instances", c.limits.instances);
    Uint("redis_timeout_ms", c.limits.redis_timeout_ms);
    w_.EndObject();
    w_.Key("usage").BeginObject();
    w_.Key("enabled").Bool(c.usage.enabled);
    Text("spool", c.usage.spool);
    Uint("queue_capacity", c.usage.queue_capacity);
    Uint("batch_rows", c.usage.batch_rows);
    Uint("flush_interval_ms", c.usage.flush_interval_ms);
    Uint("key_refresh_ms", c.usage.key_refresh_ms);
    w_.EndObject();
    w_.Key("pricing").BeginArray();
    for (const PriceConfig& p : c.pricing) {
      w_.BeginObject();
      Text("model", p.model);
      PriceParts(p.price);
      w_.EndObject();
    }
    w_.EndArray();
    w_.EndObject();
  }

 private:
  void Server(const ServerConfig& s) {
    w_.Key("server").BeginObject();
    Text("listen", s.listen);
    Text("auth", s.auth == AuthMode::kNone ? "none" : "keys");
    Secret("admin_key", s.admin_key);
    Uint("max_body_bytes", s.max_body_bytes);
    Uint("max_header_bytes", s.max_header_bytes);
    Uint("header_timeout_s", s.header_timeout_s);
    Uint("body_timeout_s", s.body_timeout_s);
    Uint("idle_timeout_s", s.idle_timeout_s);
    Uint("write_timeout_s", s.write_timeout_s);
    Uint("shutdown_timeout_s", s.shutdown_timeout_s);
    Uint("threads", s.threads);
    w_.Key("access_log").Bool(s.access_log);
    Uint("max_connections", s.max_connections);
    TextList("trusted_proxies", s.trusted_proxies);
    w_.EndObject();
  }

  void Key(const ClientKey& k) {
    w_.BeginObject();
    Text("name", k.name);
    Secret("key", k.key);
    Text("type", k.type);
    Uint("rpm", k.rpm);
    Uint("tpm", k.tpm);
    if (k.budget_micros >= 0) w_.Key("budget").Raw(Millionths(k.budget_micros));
    if (!k.budget_period.empty()) Text("budget_period", k.budget_period);
    TextList("models", k.models);
    w_.EndObject();
  }

  void Provider(const ProviderConfig& p) {
    w_.BeginObject();
    Text("id", p.id);
    Text("name", p.name);
    Text("type", p.type);
    if (p.type != "local" || !p.base_url.empty()) Text("base_url", p.base_url);
    w_.Key("keys").BeginArray();
    for (const ProviderKey& k : p.keys) {
      w_.BeginObject();
      Text("id", k.id);
      Secret("value", k.value);
      Uint("weight", k.weight);
      w_.EndObject();
    }
    w_.EndArray();
    w_.Key("headers").BeginObject();
    for (const auto& [name, value] : p.headers) Secret(name, value);  // names are never expanded
    w_.EndObject();
    Uint("timeout_s", p.timeout_s);
    Uint("connect_timeout_s", p.connect_timeout_s);
    Text("ca_file", p.ca_file);
    Uint("max_idle_connections", p.max_idle_connections);
    Uint("max_response_bytes", p.max_response_bytes);
    w_.Key("drop_params").Bool(p.drop_params);
    w_.Key("enabled").Bool(p.enabled);
    if (p.type == "local") {
      const LocalConfig& l = p.local;
      Text("models_dir", l.models_dir);
      if (l.keep_alive_forever) w_.Key("keep_alive").Int(-1);
      else Text("keep_alive", std::to_string(l.keep_alive_ms) + "ms");
      Uint("max_loaded", l.max_loaded);
      Uint("parallel", l.parallel);
      Uint("max_queue", l.max_queue);
      Uint("context_size", l.context_size);
      Uint("threads", l.threads);
      Text("device", l.device);
      Text("flash_attention", l.flash_attention);
      Uint("load_timeout_s", l.load_timeout_s);
      Text("engine", l.engine);
      Text("node", l.node);
      Text("worker", l.worker);
      Text("command", l.command);
    }
    w_.EndObject();
  }

  void Model(const ModelAlias& m) {
    w_.BeginObject();
    Text("name", m.name);
    Text("target", m.target);
    if (m.drop_params) w_.Key("drop_params").Bool(*m.drop_params);
    if (m.pricing) {
      w_.Key("pricing").BeginObject();
      PriceParts(*m.pricing);
      w_.EndObject();
    }
    Uint("context_length", m.context_length);
    w_.EndObject();
  }

  // Pico-dollars per token are dollars per 1M tokens times 1e6.
  void PriceParts(const TokenPrice& p) {
    if (p.input >= 0) w_.Key("input_per_1m").Raw(Millionths(p.input));
    if (p.output >= 0) w_.Key("output_per_1m").Raw(Millionths(p.output));
    if (p.cached_input >= 0) w_.Key("cached_input_per_1m").Raw(Millionths(p.cached_input));
    if (p.cache_write >= 0) w_.Key("cache_write_per_1m").Raw(Millionths(p.cache_write));
  }

  void Text(std::string_view key, std::string_view value) {
    w_.Key(key).String(secret::EscapeReferences(value));
  }
  void Secret(std::string_view key, const std::string& value) {
    if (mask_ && !value.empty()) {
      w_.Key(key).String(kMask);
    } else {
      Text(key, value);
    }
  }
  void Url(std::string_view key, const std::string& value) { Text(key, mask_ ? MaskUrlPassword(value) : value); }
  // Raw digits: Writer::Int takes int64_t, and max_body_bytes may exceed it.
  void Uint(std::string_view key, uint64_t value) { w_.Key(key).Raw(std::to_string(value)); }
  void TextList(std::string_view key, const std::vector<std::string>& values) {
    w_.Key(key).BeginArray();
    for (const std::string& v : values) w_.String(secret::EscapeReferences(v));
    w_.EndArray();
  }

  json::Writer w_;
  const bool mask_;
};

// ---------------------------------------------------------------------------
// WriteFileAtomically

std::string Errno(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + std::strerror(err);
}

// Closes fd on scope exit unless released.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now; returns close()'s errno, 0 on success.
  int Close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

bool WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// Writes text to a new file at path (replacing any), with mode, fsynced.
// owner: the uid/gid to give it when known (best effort).
bool WriteSyncedFile(const std::string& path, const std::string& text, mode_t mode, const struct stat* owner,
                     std::string* error) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) {
    *error = Errno("cannot create", path, errno);
    return false;
  }
  // Set exactly: the umask may have narrowed it, a stale file had its own.
  if (::fchmod(fd.get(), mode) != 0) {
    *error = Errno("cannot set the permissions of", path, errno);
    return false;
  }
  if (owner != nullptr && (owner->st_uid != ::geteuid() || owner->st_gid != ::getegid())) {
    [[maybe_unused]] const int ignored = ::fchown(fd.get(), owner->st_uid, owner->st_gid);
  }
  if (!WriteAll(fd.get(), text)) {
    *error = Errno("cannot write", path, errno);
    return false;
  }
  if (::fsync(fd.get()) != 0) {
    *error = Errno("cannot sync", path, errno);
    return false;
  }
  if (const int err = fd.Close(); err != 0) {
    *error = Errno("cannot close", path, err);
    return false;
  }
  return true;
}

bool ReadWholeFile(const std::string& path, std::string* out, std::string* error) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    *error = Errno("cannot open", path, errno);
    return false;
  }
  out->clear();
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = Errno("cannot read", path, errno);
      return false;
    }
    out->append(buffer, static_cast<size_t>(n));
  }
}

// Makes previous a copy of target (same inode when a hard link is possible),
// replacing any older previous in one rename.
bool KeepPrevious(const std::string& target, const struct stat& st, const std::string& previous,
                  std::string* error) {
  const std::string staging = previous + ".tmp";
  if (::unlink(staging.c_str()) != 0 && errno != ENOENT) {
    *error = Errno("cannot remove", staging, errno);
    return false;
  }
  if (::link(target.c_str(), staging.c_str()) != 0) {
    // No hard links here (some file systems, some mounts): copy instead.
    std::string old_text;
    if (!ReadWholeFile(target, &old_text, error)) return false;
    if (!WriteSyncedFile(staging, old_text, st.st_mode & 07777, &st, error)) {
      ::unlink(staging.c_str());
      return false;
    }
  }
  if (::rename(staging.c_str(), previous.c_str()) != 0) {
    *error = Errno("cannot rename " + staging + " to", previous, errno);
    ::unlink(staging.c_str());
    return false;
  }
  // rename() does nothing when both names are links to one file: tidy up.
  ::unlink(staging.c_str());
  return true;
}

bool SyncDirectory(const std::string& dir, std::string* error) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    *error = Errno("cannot open directory", dir, errno);
    return false;
  }
  if (::fsync(fd.get()) != 0) {
    *error = Errno("cannot sync directory", dir, errno);
    return false;
  }
  return true;
}

bool WriteFileAtomicallyImpl(const std::string& path, const std::string& text, std::string* error) {
  namespace fs = std::filesystem;
  if (path.empty()) {
    *error = "no file name to write to";
    return false;
  }
  std::string target = path;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const fs::path resolved = fs::canonical(path, ec);
    if (ec) {
      *error = "cannot resolve the symbolic link " + path + ": " + ec.message();
      return false;
    }
    target = resolved.string();
  }
  bool exists = false;
  if (::stat(target.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      *error = target + " is not a regular file";
      return false;
    }
    exists = true;
  } else if (errno != ENOENT) {
    *error = Errno("cannot inspect", target, errno);
    return false;
  }
  std::string dir = fs::path(target).parent_path().string();
  if (dir.empty()) dir = ".";
  const mode_t mode = exists ? (st.st_mode & 07777) : 0600;  // a config file holds secrets

  const std::string tmp = target + ".tmp";
  if (!WriteSyncedFile(tmp, text, mode, exists ? &st : nullptr, error)) {
    ::unlink(tmp.c_str());  // fails harmlessly when tmp was never made, or is a directory
    return false;
  }
  if (exists && !KeepPrevious(target, st, target + ".previous", error)) {
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    *error = Errno("cannot rename " + tmp + " to", target, errno);
    ::unlink(tmp.c_str());
    return false;
  }
  std::string sync_error;
  if (!SyncDirectory(dir, &sync_error)) {
    *error = target + " was replaced, but " + sync_error + "; the change may not survive a crash";
    return true;
  }
  return true;
}

}  // namespace

std::string ConfigToJson(const Config& c, bool mask_secrets) {
  std::string out;
  DocumentWriter(&out, mask_secrets).Write(c);
  return out;
}

std::string MaskUrlPassword(const std::string& url) {
  return secret::MaskSpans(url, [](std::string_view span) { return !span.empty(); });
}

bool WriteFileAtomically(const std::string& path, const std::string& text, std::string* error) {
  error->clear();
  try {
    return WriteFileAtomicallyImpl(path, text, error);
  } catch (const std::exception& e) {  // std::filesystem, allocation
    *error = std::string("cannot write ") + path + ": " + e.what();
    return false;
  }
}

}  // namespace sy::config
