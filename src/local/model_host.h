// Runs the models of one `type: local` provider: which are loaded, who may
// generate, who waits.
//
// Lifecycle (like Ollama's scheduler; ../shared/notes/local-engine.md §13, §15):
//   unloaded → loading (progress) → ready → stopping → unloaded
// - A model loads on its first request; clients wait (they do not fail).
// - At most `max_loaded` models are loaded; to load another, the least
//   recently used idle one is unloaded first, and the load starts once its
//   process is gone. With none idle, the load waits for one.
// - `parallel` requests generate at once per model (the engine batches
//   them); up to `max_queue` more wait in one FIFO per model, shared by every
//   worker thread; beyond that a request gets 503 with Retry-After.
// - After `keep_alive` with nothing in flight or waiting, a model unloads.
// - An engine that exits while requests are in flight: each of them gets its
//   error (503) at once; waiting requests restart it, after a backoff when
//   it keeps failing. A load that reports no progress for load_timeout_s is
//   killed.
//
// Threading: engines, their timers and their callbacks run on the host's
// own thread (one io_context); requests call Acquire/Lease from the
// gateway's worker threads. Shared state is under one mutex; what reaches a
// request is delivered through its Mailbox.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/cancellation.h"
#include "config/config.h"
#include "core/errors.h"
#include "local/engine.h"
#include "local/gguf.h"
#include "local/mailbox.h"
#include "local/protocol.h"

namespace sy::local {

// A model file of the folder.
struct ModelFile {
  std::string name;  // file name without .gguf
  std::string path;  // absolute
  std::shared_ptr<const GgufInfo> info;  // null when the file is not a valid GGUF
  std::string problem;           // why not (no path in it)
  int64_t mtime = 0;             // seconds; with the size, tells a changed file
};

// A model with a process: for /api/ps, /readiness, the admin API.
struct LoadedModel {
  std::string name;
  std::string state;        // loading | ready | stopping
  double progress = 0;      // loading: 0..1
  int64_t context_size = 0;
  int64_t parallel = 0;
  int64_t busy = 0;         // requests generating
  int64_t queued = 0;       // requests waiting
  int64_t expires_in_ms = -1;  // -1: never (or busy)
  uint64_t size = 0;        // file size
  int pid = 0;
  std::string wrapper;
  bool gpu = false;
};

class ModelHost;
struct ModelState;

// Shared by a host and its leases. A host may be destroyed while requests
// still hold leases (they are told kGone and end on their own threads); a
// lease then leaves the host alone.
struct HostLife {
  std::mutex mu;
  bool alive = true;  // under mu; false from the start of ~ModelHost
};

// One admitted request: holds a sequence of a loaded model until destroyed.
class Lease {
 public:
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  int64_t id() const { return id_; }
  const EngineReady& ready() const { return ready_; }
  // Sends one request line (its id must be id()).
  void Send(std::string line);
  // This request's answers; waits for at least one, or for the client to go
  // (then returns none). An engine gone mid-request arrives as kGone.
  boost::asio::awaitable<std::vector<WorkerEvent>> Next();
  // The request ended (done, error or gone): nothing to abort on release.
  void Finished() { finished_ = true; }

 private:
  friend class ModelHost;
  Lease(ModelHost* host, std::shared_ptr<HostLife> life, std::shared_ptr<ModelState> model, uint64_t generation,
        int64_t id, EngineReady ready, std::shared_ptr<Mailbox<WorkerEvent>> box, Cancellation* cancel);
  ModelHost* host_;  // only while life_->alive, under life_->mu
  std::shared_ptr<HostLife> life_;
  std::shared_ptr<ModelState> model_;
  uint64_t generation_;
  int64_t id_;
  EngineReady ready_;
  std::shared_ptr<Mailbox<WorkerEvent>> box_;
  Cancellation* cancel_;
  size_t cancel_slot_ = static_cast<size_t>(-1);
  bool finished_ = false;
};

class ModelHost {
 public:
  // `models_dir`: absolute. The factory makes the engines (the worker, a
  // command, or a fake in tests).
  ModelHost(config::LocalConfig config, std::string models_dir, std::unique_ptr<EngineFactory> factory);
  ~ModelHost();
  ModelHost(const ModelHost&) = delete;
  ModelHost& operator=(const ModelHost&) = delete;

  // The folder's models, sorted by name. Rescanned when asked and at least
  // 2 s have passed (a file that did not change is not read again). Shared,
  // immutable: a request copies no metadata.
  using CatalogList = std::shared_ptr<const std::vector<ModelFile>>;
  CatalogList Catalog();
  std::optional<ModelFile> Find(const std::string& name);

  // Waits until `name` is loaded and one of its sequences is free.
  using Acquired = std::variant<std::unique_ptr<Lease>, GatewayError>;
  boost::asio::awaitable<Acquired> Acquire(std::string name, Cancellation* cancel);

  // Models with a process, by name.
  std::vector<LoadedModel> Loaded();

  const config::LocalConfig& config() const { return config_; }
  uint32_t threads() const { return threads_; }
  // For tests: the engine of a loaded model is killed now (a crash).
  void KillForTest(const std::string& name);

 private:
  friend class Lease;
  friend struct ModelState;

  std::shared_ptr<ModelState> StateOf(const ModelFile& file);  // REQUIRES mu_
  void Grant(ModelState& m);                                    // REQUIRES mu_
  void Release(Lease& lease);
  int64_t QueueRetryAfterS() const;

  // Engine thread.
  void Load(const std::shared_ptr<ModelState>& m);
  void Unload(ModelState& m, const char* why);
  void ArmIdle(const std::shared_ptr<ModelState>& m);
  void ArmLoadTimer(const std::shared_ptr<ModelState>& m);
  void TryPendingLoads();
  void OnProgress(ModelState& m, double fraction);
  void OnReady(ModelState& m, const EngineReady& ready);
  void OnMessage(ModelState& m, std::string_view line);
  void OnExit(ModelState& m, const std::string& reason);

  config::LocalConfig config_;
  std::string models_dir_;
  std::unique_ptr<EngineFactory> factory_;
  uint32_t threads_ = 1;

  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ModelState>> models_;  // by name, created on first use
  std::mutex catalog_mu_;  // the folder's scan; never held with mu_
  CatalogList catalog_ = std::make_shared<const std::vector<ModelFile>>();
  std::chrono::steady_clock::time_point scanned_{};
  std::atomic<int64_t> next_id_{1};
  bool stopping_ = false;
  std::shared_ptr<HostLife> life_ = std::make_shared<HostLife>();

  std::thread thread_;  // last: started when everything else exists
};

}  // namespace sy::local
