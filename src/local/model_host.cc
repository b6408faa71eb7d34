#include "local/model_host.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include "common/log.h"
#include "local/worker_engine.h"

namespace sy::local {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kRescanEvery = std::chrono::seconds(2);
constexpr auto kStopGrace = std::chrono::seconds(10);
constexpr auto kMaxBackoff = std::chrono::seconds(30);

// A request's turn, or why it will not come.
struct Turn {
  uint64_t generation = 0;
  std::optional<GatewayError> error;
};

GatewayError Busy(const std::string& name, size_t waiting, int64_t retry_after_s) {
  GatewayError e = MakeError(ErrorCode::kNoProvider, "Model '" + name + "' is busy: " + std::to_string(waiting) +
                                                         " requests are already waiting. Retry later.");
  e.retry_after = std::to_string(retry_after_s);
  return e;
}

GatewayError Unavailable(std::string message) {
  GatewayError e = MakeError(ErrorCode::kNoProvider, std::move(message));
  e.retry_after = "1";
  return e;
}

}  // namespace

struct Waiter {
  int64_t id = 0;
  std::shared_ptr<Mailbox<Turn>> grant;
  std::shared_ptr<Mailbox<WorkerEvent>> events;
};

struct ModelState final : EngineListener {
  enum class State { kUnloaded, kLoading, kReady, kStopping };

  ModelState(ModelHost* h, ModelFile f)
      : host(h), file(std::move(f)) {
    idle_timer.emplace(h->io_);
    load_timer.emplace(h->io_);
    stop_timer.emplace(h->io_);
    retry_timer.emplace(h->io_);
  }

  void OnProgress(double fraction) override { host->OnProgress(*this, fraction); }
  void OnReady(const EngineReady& r) override { host->OnReady(*this, r); }
  void OnMessage(std::string_view line) override { host->OnMessage(*this, line); }
  void OnExit(const std::string& reason) override { host->OnExit(*this, reason); }

  const char* StateName() const {
    switch (state) {
      case State::kUnloaded: return "unloaded";
      case State::kLoading: return "loading";
      case State::kReady: return "ready";
      case State::kStopping: return "stopping";
    }
    return "unloaded";
  }
  bool Idle() const { return busy == 0 && waiters.empty() && inflight.empty(); }

  ModelHost* host;
  ModelFile file;
  State state = State::kUnloaded;
  uint64_t generation = 0;  // a new one per engine: leases of an old engine count for nothing
  double progress = 0;
  int logged_quarter = 0;
  std::unique_ptr<Engine> engine;  // engine thread only
  EngineReady ready;
  int64_t busy = 0;  // sequences in use (granted, or aborting)
  std::deque<Waiter> waiters;
  // Requests on the engine by id; a null box is an aborted request whose
  // end has not come yet (its sequence is still busy).
  std::unordered_map<int64_t, std::shared_ptr<Mailbox<WorkerEvent>>> inflight;
  // In flight, ended by the engine (done/error...), lease not yet released:
  // nothing to abort, whether or not the client read the end.
  std::unordered_set<int64_t> ended;
  Clock::time_point last_used = Clock::now();
  int failures = 0;
  bool load_pending = false;   // waits for room (max_loaded)
  bool retry_pending = false;  // waits for its backoff
  // Engine thread only. Reset by ~ModelHost once its thread has ended: a
  // lease may keep this state past the host's io_context.
  std::optional<asio::steady_timer> idle_timer, load_timer, stop_timer, retry_timer;
};

// ---------------------------------------------------------------------------
// Lease

Lease::Lease(ModelHost* host, std::shared_ptr<HostLife> life, std::shared_ptr<ModelState> model, uint64_t generation,
             int64_t id, EngineReady ready, std::shared_ptr<Mailbox<WorkerEvent>> box, Cancellation* cancel)
    : host_(host), life_(std::move(life)), model_(std::move(model)), generation_(generation), id_(id),
      ready_(std::move(ready)), box_(std::move(box)), cancel_(cancel) {
  if (cancel_) {
    auto box_ref = box_;
    cancel_slot_ = cancel_->OnCancel([box_ref] { box_ref->WakeHere(); });
  }
}

Lease::~Lease() {
  if (cancel_) cancel_->Clear(cancel_slot_);
  std::lock_guard<std::mutex> lock(life_->mu);
  if (life_->alive) host_->Release(*this);
}

void Lease::Send(std::string line) {
  std::lock_guard<std::mutex> lock(life_->mu);
  if (!life_->alive) return;  // kGone is on its way
  asio::post(host_->io_, [model = model_, generation = generation_, line = std::move(line)]() mutable {
    if (model->generation == generation && model->engine) model->engine->Send(std::move(line));
  });
}

asio::awaitable<std::vector<WorkerEvent>> Lease::Next() {
  std::vector<WorkerEvent> events = co_await box_->Take();
  for (const auto& e : events) {
    if (e.kind != WorkerEvent::Kind::kText) finished_ = true;
  }
  co_return events;
}

// ---------------------------------------------------------------------------
// ModelHost

ModelHost::ModelHost(config::LocalConfig config, std::string models_dir, std::unique_ptr<EngineFactory> factory)
    : config_(std::move(config)), models_dir_(std::move(models_dir)), factory_(std::move(factory)),
      work_(io_.get_executor()) {
  threads_ = config_.threads > 0 ? config_.threads : PhysicalCores();
  thread_ = std::thread([this] { io_.run(); });
}

ModelHost::~ModelHost() {
  {
    std::lock_guard<std::mutex> lock(life_->mu);  // waits for a lease's Release or Send under way
    life_->alive = false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [name, m] : models_) {
      for (auto& w : m->waiters) w.grant->Push(Turn{0, MakeError(ErrorCode::kShuttingDown, "The server is shutting down.")});
      m->waiters.clear();
    }
  }
  asio::post(io_, [this] {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, m] : models_) {
      m->idle_timer->cancel();
      m->load_timer->cancel();
      m->stop_timer->cancel();
      m->retry_timer->cancel();
      if (m->engine) log::Info("local: model ", name, ": unloading (shutdown)");
      m->engine.reset();  // kills and reaps the process
      WorkerEvent gone;
      gone.kind = WorkerEvent::Kind::kGone;
      gone.message = "The server is shutting down.";
      for (auto& [id, box] : m->inflight) {
        if (box) box->Push(gone);
      }
      m->inflight.clear();
      m->ended.clear();
    }
  });
  work_.reset();
  thread_.join();
  // Leases and Acquires may hold a model's state a while longer: its timers
  // go with the io_context.
  for (auto& [name, m] : models_) {
    m->idle_timer.reset();
    m->load_timer.reset();
    m->stop_timer.reset();
    m->retry_timer.reset();
  }
}

ModelHost::CatalogList ModelHost::Catalog() {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  const auto now = Clock::now();
  if (scanned_ != Clock::time_point{} && now - scanned_ < kRescanEvery) return catalog_;
  scanned_ = now;
  const std::vector<ModelFile>& before = *catalog_;
  std::vector<ModelFile> next;
  std::error_code ec;
  for (fs::directory_iterator it(models_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".gguf" || !fs::is_regular_file(p, ec)) continue;
    ModelFile f;
    f.name = p.stem().string();
    f.path = p.string();
    // Reuse what was read when the file did not change (size and mtime).
    struct stat st {};
    const bool stat_ok = ::stat(f.path.c_str(), &st) == 0;
    auto old = std::find_if(before.begin(), before.end(), [&](const ModelFile& o) { return o.path == f.path; });
    if (old != before.end() && stat_ok && old->info && old->info->file_size == static_cast<uint64_t>(st.st_size) &&
        old->mtime == st.st_mtim.tv_sec) {
      next.push_back(*old);
      continue;
    }
    auto read = ReadGgufFile(f.path);
    if (auto* info = std::get_if<GgufInfo>(&read)) {
      f.info = std::make_shared<const GgufInfo>(std::move(*info));
    } else {
      f.problem = std::get<std::string>(read);
    }
    if (stat_ok) f.mtime = st.st_mtim.tv_sec;
    next.push_back(std::move(f));
  }
  std::sort(next.begin(), next.end(), [](const ModelFile& a, const ModelFile& b) { return a.name < b.name; });
  catalog_ = std::make_shared<const std::vector<ModelFile>>(std::move(next));
  return catalog_;
}

std::optional<ModelFile> ModelHost::Find(const std::string& name) {
  const CatalogList list = Catalog();
  auto it = std::lower_bound(list->begin(), list->end(), name,
                             [](const ModelFile& f, const std::string& n) { return f.name < n; });
  if (it == list->end() || it->name != name) return std::nullopt;
  return *it;
}

std::shared_ptr<ModelState> ModelHost::StateOf(const ModelFile& file) {
  auto& slot = models_[file.name];
  if (!slot) slot = std::make_shared<ModelState>(this, file);
  if (slot->state == ModelState::State::kUnloaded) slot->file = file;  // the file may have been replaced
  return slot;
}

int64_t ModelHost::QueueRetryAfterS() const { return 1; }

asio::awaitable<ModelHost::Acquired> ModelHost::Acquire(std::string name, Cancellation* cancel) {
  std::optional<ModelFile> file = Find(name);
  if (!file) {
    GatewayError e = MakeError(ErrorCode::kModelNotFound,
                               "The model '" + name.substr(0, 200) + "' is not in the local models folder.");
    e.param = "model";
    co_return e;
  }
  if (!file->info) {
    co_return Unavailable("The model file of '" + name + "' cannot be served: " + file->problem);
  }
  auto executor = co_await asio::this_coro::executor;
  Waiter waiter;
  waiter.id = next_id_.fetch_add(1);
  waiter.grant = std::make_shared<Mailbox<Turn>>(executor);
  waiter.events = std::make_shared<Mailbox<WorkerEvent>>(executor);
  std::shared_ptr<ModelState> m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) co_return MakeError(ErrorCode::kShuttingDown, "The server is shutting down.");
    m = StateOf(*file);
    // Beyond the sequences that are (or will be) free, max_queue may wait.
    const int64_t parallel = m->state == ModelState::State::kReady ? m->ready.parallel : config_.parallel;
    const size_t room = config_.max_queue + static_cast<size_t>(std::max<int64_t>(0, parallel - m->busy));
    if (m->waiters.size() >= room) {
      log::Warn("local: model ", name, ": queue full (", m->waiters.size(), " waiting), request refused");
      co_return Busy(name, m->waiters.size(), QueueRetryAfterS());
    }
    m->waiters.push_back(waiter);
    Grant(*m);
    if (m->state == ModelState::State::kUnloaded && !m->retry_pending) {
      asio::post(io_, [this, m] { Load(m); });
    }
  }
  // GCC 12: the handler is a named local, not a temporary across co_await.
  auto wake = [box = waiter.grant] { box->WakeHere(); };
  const size_t slot = cancel ? cancel->OnCancel(wake) : static_cast<size_t>(-1);
  std::shared_ptr<HostLife> life = life_;
  // This frame may be destroyed without resuming: at shutdown the gateway's
  // workers (their io_contexts) go before the host. Then the waiter must not
  // stay queued, its mailboxes tied to a dead executor, nor keep a turn it
  // was given (nothing was sent to the engine for it).
  struct LeaveIfDropped {
    ModelHost* host;
    std::shared_ptr<HostLife> life;
    std::shared_ptr<ModelState> m;
    int64_t id;
    Cancellation* cancel;
    size_t slot;
    bool resumed = false;
    ~LeaveIfDropped() {
      if (resumed) return;
      if (cancel) cancel->Clear(slot);  // its handler holds the mailbox
      std::lock_guard<std::mutex> alive(life->mu);
      if (!life->alive) return;
      std::lock_guard<std::mutex> lock(host->mu_);
      std::erase_if(m->waiters, [&](const Waiter& w) { return w.id == id; });
      if (m->inflight.erase(id) > 0) {
        --m->busy;
        host->Grant(*m);
        if (m->Idle()) asio::post(host->io_, [host = host, m = m] { host->ArmIdle(m); });
      }
    }
  } leave_if_dropped{this, life, m, waiter.id, cancel, slot};
  std::vector<Turn> got = co_await waiter.grant->Take();
  leave_if_dropped.resumed = true;
  if (cancel) cancel->Clear(slot);
  // From here on `this` may be gone (destroyed while this request waited).
  std::unique_lock<std::mutex> alive(life->mu);
  if (!life->alive) co_return MakeError(ErrorCode::kShuttingDown, "The server is shutting down.");
  if (got.empty()) {
    // The client went away while waiting: leave the queue, or give back
    // the turn it was given meanwhile.
    std::unique_lock<std::mutex> lock(mu_);
    auto it = std::find_if(m->waiters.begin(), m->waiters.end(), [&](const Waiter& w) { return w.id == waiter.id; });
    if (it != m->waiters.end()) {
      m->waiters.erase(it);
      GatewayError gone = MakeError(ErrorCode::kBadRequest, "client disconnected");
      co_return gone;
    }
    lock.unlock();
    alive.unlock();
    std::vector<Turn> late = co_await waiter.grant->Take();  // pushed already: returns at once
    got = std::move(late);
    alive.lock();
    if (!life->alive) co_return MakeError(ErrorCode::kShuttingDown, "The server is shutting down.");
  }
  Turn& g = got.front();
  if (g.error) co_return std::move(*g.error);
  EngineReady ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready = m->ready;
  }
  std::unique_ptr<Lease> lease(
      new Lease(this, life, m, g.generation, waiter.id, std::move(ready), waiter.events, cancel));
  co_return lease;
}

// REQUIRES mu_. Gives free sequences to the longest waiting.
void ModelHost::Grant(ModelState& m) {
  while (m.state == ModelState::State::kReady && m.busy < m.ready.parallel && !m.waiters.empty()) {
    Waiter w = std::move(m.waiters.front());
    m.waiters.pop_front();
    ++m.busy;
    m.last_used = Clock::now();
    m.inflight[w.id] = w.events;
    w.grant->Push(Turn{m.generation, std::nullopt});
  }
}

void ModelHost::Release(Lease& lease) {
  std::shared_ptr<ModelState> m = lease.model_;
  bool idle = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    m->last_used = Clock::now();
    if (m->generation != lease.generation_) return;  // its engine is gone; nothing is held
    auto it = m->inflight.find(lease.id_);
    if (it == m->inflight.end()) return;
    // The client may leave with the end unread: the engine knows the id no
    // more, an abort would never be answered and the sequence never freed.
    const bool ended = m->ended.erase(lease.id_) > 0;
    if (!lease.finished_ && !ended) {
      // Still generating: its sequence stays busy until the engine ends it.
      it->second = nullptr;
      asio::post(io_, [m, generation = lease.generation_, line = EncodeAbort(lease.id_)]() mutable {
        if (m->generation == generation && m->engine) m->engine->Send(std::move(line));
      });
      return;
    }
    m->inflight.erase(it);
    --m->busy;
    Grant(*m);
    idle = m->Idle();
  }
  if (idle) asio::post(io_, [this, m] { ArmIdle(m); });
}

std::vector<LoadedModel> ModelHost::Loaded() {
  std::vector<LoadedModel> out;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  for (const auto& [name, m] : models_) {
    if (m->state == ModelState::State::kUnloaded) continue;
    LoadedModel l;
    l.name = name;
    l.state = m->StateName();
    l.progress = m->state == ModelState::State::kLoading ? m->progress : 1.0;
    l.context_size = m->ready.context_size;
    l.parallel = m->ready.parallel;
    l.busy = m->busy;
    l.queued = static_cast<int64_t>(m->waiters.size());
    l.size = m->file.info ? m->file.info->file_size : 0;
    l.wrapper = m->ready.wrapper;
    l.gpu = m->ready.gpu;
    if (!config_.keep_alive_forever && m->state == ModelState::State::kReady && m->Idle()) {
      const auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - m->last_used).count();
      l.expires_in_ms = std::max<int64_t>(0, static_cast<int64_t>(config_.keep_alive_ms) - idle_ms);
    }
    out.push_back(std::move(l));
  }
  return out;
}

void ModelHost::KillForTest(const std::string& name) {
  asio::post(io_, [this, name] {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(name);
    if (it != models_.end() && it->second->engine) it->second->engine->Kill();
  });
}

// ---------------------------------------------------------------------------
// Engine thread

void ModelHost::Load(const std::shared_ptr<ModelState>& m) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || m->state != ModelState::State::kUnloaded || m->waiters.empty()) return;
  size_t loaded = 0;
  ModelState* victim = nullptr;
  for (auto& [name, other] : models_) {
    if (other->state == ModelState::State::kUnloaded) continue;
    ++loaded;
    if (other->state == ModelState::State::kReady && other->Idle() &&
        (!victim || other->last_used < victim->last_used)) {
      victim = other.get();
    }
  }
  if (loaded >= config_.max_loaded) {
    m->load_pending = true;
    if (victim) {
      log::Info("local: model ", victim->file.name, ": unloading to make room for ", m->file.name,
                " (max_loaded ", config_.max_loaded, ")");
      Unload(*victim, "evicted");
    } else {
      log::Info("local: model ", m->file.name, ": waits for room (", loaded, " of max_loaded ", config_.max_loaded,
                " models busy)");
    }
    return;
  }
  m->load_pending = false;
  ++m->generation;
  m->state = ModelState::State::kLoading;
  m->progress = 0;
  m->logged_quarter = 0;
  m->ready = EngineReady{};
  LoadSpec spec;
  spec.model = m->file.name;
  spec.path = m->file.path;
  spec.context_size = config_.context_size;
  spec.parallel = config_.parallel;
  spec.threads = threads_;
  spec.device = config_.device;
  spec.flash_attention = config_.flash_attention;
  spec.embedding = m->file.info && m->file.info->embedding_model;
  const double mib = m->file.info ? static_cast<double>(m->file.info->file_size) / (1024.0 * 1024.0) : 0;
  log::Info("local: model ", m->file.name, ": loading (", static_cast<int64_t>(mib * 10) / 10.0, " MiB, ",
            spec.parallel, " sequences, ", spec.threads, " threads, device ", spec.device, ")");
  m->engine = factory_->Create(spec, io_, m.get());
  m->engine->Start();
  ArmLoadTimer(m);
}

void ModelHost::ArmLoadTimer(const std::shared_ptr<ModelState>& m) {
  m->load_timer->expires_after(std::chrono::seconds(config_.load_timeout_s));
  m->load_timer->async_wait([this, m, generation = m->generation](boost::system::error_code ec) {
    if (ec) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (m->generation != generation || m->state != ModelState::State::kLoading || !m->engine) return;
    log::Error("local: model ", m->file.name, ": no load progress for ", config_.load_timeout_s,
               " s; killing its engine");
    m->engine->Kill();
  });
}

void ModelHost::Unload(ModelState& m, const char* why) {
  if (m.state == ModelState::State::kUnloaded || m.state == ModelState::State::kStopping || !m.engine) return;
  log::Info("local: model ", m.file.name, ": unloading (", why, ")");
  m.state = ModelState::State::kStopping;
  m.idle_timer->cancel();
  m.engine->Stop();
  m.stop_timer->expires_after(kStopGrace);
  ModelState* target = &m;
  m.stop_timer->async_wait([this, target, generation = m.generation](boost::system::error_code ec) {
    if (ec) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (target->generation == generation && target->state == ModelState::State::kStopping && target->engine) {
      log::Warn("local: model ", target->file.name, ": engine did not stop in time; killing it");
      target->engine->Kill();
    }
  });
}

void ModelHost::ArmIdle(const std::shared_ptr<ModelState>& m) {
  std::lock_guard<std::mutex> lock(mu_);
  if (m->state != ModelState::State::kReady || !m->Idle()) return;
  // A load that waits for room (max_loaded) can evict this model now.
  TryPendingLoads();
  if (config_.keep_alive_forever) return;
  if (config_.keep_alive_ms == 0) {
    Unload(*m, "keep_alive 0");
    return;
  }
  const auto deadline = m->last_used + std::chrono::milliseconds(config_.keep_alive_ms);
  m->idle_timer->expires_at(deadline);
  m->idle_timer->async_wait([this, m, generation = m->generation](boost::system::error_code ec) {
    if (ec) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (m->generation != generation || m->state != ModelState::State::kReady || !m->Idle()) return;
    if (Clock::now() < m->last_used + std::chrono::milliseconds(config_.keep_alive_ms)) return;  // re-armed on its release
    Unload(*m, "keep_alive expired");
  });
}

// REQUIRES mu_ (engine thread). Loads that waited for room try again.
void ModelHost::TryPendingLoads() {
  for (auto& [name, m] : models_) {
    if (m->load_pending && m->state == ModelState::State::kUnloaded && !m->waiters.empty()) {
      asio::post(io_, [this, m = m] { Load(m); });
    }
  }
}

void ModelHost::OnProgress(ModelState& m, double fraction) {
  std::lock_guard<std::mutex> lock(mu_);
  m.progress = std::clamp(fraction, 0.0, 1.0);
  const int quarter = static_cast<int>(m.progress * 4);
  if (quarter > m.logged_quarter) {
    m.logged_quarter = quarter;
    log::Info("local: model ", m.file.name, ": loading ", quarter * 25, "%");
  }
  // Progress resets the stall timer.
  auto self = models_[m.file.name];
  if (self.get() == &m) ArmLoadTimer(self);
}

void ModelHost::OnReady(ModelState& m, const EngineReady& ready) {
  std::shared_ptr<ModelState> self;
  {
    std::lock_guard<std::mutex> lock(mu_);
    m.load_timer->cancel();
    m.state = ModelState::State::kReady;
    m.ready = ready;
    if (m.ready.parallel <= 0) m.ready.parallel = config_.parallel;
    m.progress = 1;
    m.failures = 0;
    m.last_used = Clock::now();
    log::Info("local: model ", m.file.name, ": ready (context ", ready.context_size, " tokens x ", m.ready.parallel,
              " sequences, chat wrapper ", ready.wrapper.empty() ? "-" : ready.wrapper, ready.gpu ? ", GPU" : ", CPU",
              ready.flash_attention.empty() ? "" : ", flash attention " + ready.flash_attention,
              ready.llama_cpp.empty() ? "" : ", llama.cpp " + ready.llama_cpp, ")");
    Grant(m);
    if (m.Idle()) self = models_[m.file.name];
  }
  if (self) ArmIdle(self);
}

void ModelHost::OnMessage(ModelState& m, std::string_view line) {
  WorkerEvent event;
  if (!ParseWorkerEvent(line, &event)) {
    log::Warn("local: model ", m.file.name, ": engine sent an answer the gateway cannot read");
    return;
  }
  std::shared_ptr<ModelState> idle_model;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = m.inflight.find(event.id);
    if (it == m.inflight.end()) return;
    const bool terminal = event.kind != WorkerEvent::Kind::kText;
    if (it->second) {
      // Its lease releases the sequence; the engine is done with it.
      if (terminal) m.ended.insert(event.id);
      it->second->Push(std::move(event));
      return;
    }
    // An aborted request has ended: its sequence is free.
    if (!terminal) return;
    m.inflight.erase(it);
    --m.busy;
    Grant(m);
    if (m.Idle()) idle_model = models_[m.file.name];
  }
  if (idle_model) ArmIdle(idle_model);
}

void ModelHost::OnExit(ModelState& m, const std::string& raw_reason) {
  std::lock_guard<std::mutex> lock(mu_);
  // No paths reach clients: the file's path becomes its name.
  std::string reason = raw_reason;
  for (size_t at; !m.file.path.empty() && (at = reason.find(m.file.path)) != std::string::npos;) {
    reason.replace(at, m.file.path.size(), m.file.name + ".gguf");
  }
  const ModelState::State was = m.state;
  m.load_timer->cancel();
  m.stop_timer->cancel();
  m.idle_timer->cancel();
  // The engine is inside its own callback: destroy it later.
  asio::post(io_, [dead = std::shared_ptr<Engine>(std::move(m.engine))] {});
  ++m.generation;
  m.state = ModelState::State::kUnloaded;
  m.busy = 0;
  m.ready = EngineReady{};
  WorkerEvent gone;
  gone.kind = WorkerEvent::Kind::kGone;
  gone.message = "The local engine of model '" + m.file.name + "' stopped (" + reason + "). Retry the request.";
  for (auto& [id, box] : m.inflight) {
    if (box) box->Push(gone);
  }
  const bool crashed = was == ModelState::State::kReady && !m.inflight.empty();
  m.inflight.clear();
  m.ended.clear();
  auto self = models_[m.file.name];
  if (was == ModelState::State::kLoading) {
    ++m.failures;
    log::Error("local: model ", m.file.name, ": failed to load: ", reason);
    for (auto& w : m.waiters) {
      w.grant->Push(Turn{0, Unavailable("Model '" + m.file.name + "' could not be loaded: " + reason)});
    }
    m.waiters.clear();
  } else if (was == ModelState::State::kReady) {
    ++m.failures;
    log::Error("local: model ", m.file.name, ": engine ", reason, crashed ? " with requests in flight" : "",
               "; it is restarted on the next request");
  } else {
    m.failures = 0;
  }
  if (!m.waiters.empty() && !stopping_) {
    // Requests wait for this model: start it again, after a backoff when it keeps failing.
    auto delay = std::chrono::milliseconds(0);
    if (m.failures > 0) {
      delay = std::min<std::chrono::milliseconds>(kMaxBackoff, std::chrono::milliseconds(500LL << std::min(m.failures - 1, 8)));
    }
    m.retry_pending = true;
    m.retry_timer->expires_after(delay);
    m.retry_timer->async_wait([this, self](boost::system::error_code ec) {
      {
        std::lock_guard<std::mutex> relock(mu_);
        self->retry_pending = false;
      }
      if (!ec) Load(self);
    });
  }
  TryPendingLoads();
}

}  // namespace sy::local
