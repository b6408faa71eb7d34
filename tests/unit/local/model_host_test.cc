// ModelHost's scheduling, driven through Acquire/Lease from coroutines on
// worker threads of the test (as the gateway's workers do), against the
// in-process FakeEngine. Every wait is bounded by kWait: a wait that runs
// out fails the test; no wait makes a test pass.
#include "local/model_host.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "local/fake_engine.h"
#include "local/gguf_writer.h"

namespace sy::local {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The bound on every wait (generous: the test machine may be busy).
constexpr auto kWait = std::chrono::milliseconds(20000);

// Polls `pred` until it holds or kWait passes.
bool Eventually(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Threads that run requests, like the gateway's workers: one io_context each.
class Workers {
 public:
  explicit Workers(int n) {
    for (int i = 0; i < n; ++i) {
      ios_.push_back(std::make_unique<asio::io_context>(1));
      guards_.emplace_back(ios_.back()->get_executor());
    }
    for (auto& io : ios_) threads_.emplace_back([io = io.get()] { io->run(); });
  }
  ~Workers() { Stop(); }
  // The threads end; what waits on the io_contexts stays there until they go.
  void Stop() {
    guards_.clear();
    for (auto& io : ios_) io->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  asio::io_context& io(int i) { return *ios_[static_cast<size_t>(i) % ios_.size()]; }

 private:
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

// One request: acquire, send a `complete` line, read to the end.
struct Call {
  std::string tag;
  std::string model;
  int64_t max_tokens = 3;
  asio::io_context* io = nullptr;
  Cancellation cancel;  // its worker's thread only
  // Set: after sending, the client leaves without reading once this holds.
  std::function<bool()> leave_when;
  // Set: once the request ended, its lease is kept until this holds.
  std::function<bool()> release_when;

  // Written on the worker thread before `done` is set; read after.
  std::optional<GatewayError> error;  // Acquire's, or the engine's error event
  std::string text;
  std::string finish;
  bool gone = false;  // kGone
  std::string gone_message;
  bool left = false;  // Next returned nothing: the client went away

  std::atomic<int64_t> id{0};  // the lease's, once acquired
  std::atomic<int> pieces{0};  // text events read
  std::promise<void> done;
  std::future<void> future = done.get_future();
};

// The order in which requests got their lease.
struct Order {
  std::mutex mu;
  std::vector<std::string> tags;
  void Add(const std::string& tag) {
    std::lock_guard<std::mutex> lock(mu);
    tags.push_back(tag);
  }
  std::vector<std::string> Get() {
    std::lock_guard<std::mutex> lock(mu);
    return tags;
  }
};

asio::awaitable<void> Drive(ModelHost* host, std::shared_ptr<Call> c, Order* order) {
  std::string model = c->model;
  ModelHost::Acquired acquired = co_await host->Acquire(model, &c->cancel);
  if (auto* e = std::get_if<GatewayError>(&acquired)) {
    c->error = std::move(*e);
    c->done.set_value();
    co_return;
  }
  std::unique_ptr<Lease> lease = std::move(std::get<std::unique_ptr<Lease>>(acquired));
  c->id = lease->id();
  if (order) order->Add(c->tag);
  chat::Request params;
  chat::Message prompt;
  prompt.parts.push_back(chat::Part{});
  prompt.parts.back().text = "once upon a time";
  params.messages.push_back(std::move(prompt));
  params.max_tokens = c->max_tokens;
  lease->Send(EncodeComplete(params, lease->id(), 42));
  if (c->leave_when) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (!c->leave_when() && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(2ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    c->left = true;
    lease.reset();
    c->done.set_value();
    co_return;
  }
  for (bool ended = false; !ended;) {
    std::vector<WorkerEvent> batch = co_await lease->Next();
    if (batch.empty()) {
      c->left = true;
      break;
    }
    for (WorkerEvent& ev : batch) {
      switch (ev.kind) {
        case WorkerEvent::Kind::kText:
          c->text += ev.text;
          ++c->pieces;
          break;
        case WorkerEvent::Kind::kDone:
          c->finish = ev.finish;
          ended = true;
          break;
        case WorkerEvent::Kind::kGone:
          c->gone = true;
          c->gone_message = ev.message;
          ended = true;
          break;
        default:
          c->error = ErrorOf(ev);
          ended = true;
          break;
      }
      if (ended) break;
    }
  }
  if (c->release_when) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (!c->release_when() && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(2ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
  }
  lease.reset();  // the sequence is given back before the test hears of the end
  c->done.set_value();
}

std::string Tokens(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? " t" : "t") + std::to_string(i);
  return out;
}

class ModelHostTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/model_host_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = new std::string(pattern);
    const std::string bytes = WriteTinyGguf(TinyGgufOptions{});
    for (const char* name : {"alpha", "beta", "gamma"}) {
      std::ofstream(*dir_ + "/" + name + ".gguf", std::ios::binary) << bytes;
    }
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    config_.parallel = 2;
    config_.max_queue = 4;
    config_.max_loaded = 2;
    config_.keep_alive_ms = 600000;  // no unload during a test unless it asks
    config_.load_timeout_s = 30;
    config_.threads = 1;
    config_.device = "cpu";
    log::ClearRecent();
  }

  void TearDown() override {
    workers_.reset();  // every call has ended: nothing runs there any more
    host_.reset();
    const FakeEngineStats stats = fake_->Stats();
    std::string violations;
    for (const auto& v : stats.violations) violations += v + "\n";
    EXPECT_TRUE(stats.violations.empty()) << violations;
    EXPECT_EQ(stats.live, 0);
  }

  void StartHost() {
    host_ = std::make_unique<ModelHost>(config_, *dir_, std::make_unique<FakeEngineFactory>(fake_));
  }

  std::shared_ptr<Call> Begin(const std::string& model, int worker = 0, int64_t max_tokens = 3,
                              const std::string& tag = "") {
    return BeginOn(workers_->io(worker), model, max_tokens, tag);
  }
  std::shared_ptr<Call> BeginOn(asio::io_context& io, const std::string& model, int64_t max_tokens = 3,
                                const std::string& tag = "") {
    auto c = std::make_shared<Call>();
    c->tag = tag;
    c->model = model;
    c->max_tokens = max_tokens;
    c->io = &io;
    asio::co_spawn(io, Drive(host_.get(), c, &order_), asio::detached);
    return c;
  }

  // Cancels on the call's own thread, as the gateway does when a client goes.
  static void Leave(const std::shared_ptr<Call>& c) {
    asio::post(*c->io, [c] { c->cancel.Cancel(); });
  }

  static bool Ends(Call& c) { return c.future.wait_for(kWait) == std::future_status::ready; }

  // A call that ended with the whole answer.
  static void ExpectAnswer(Call& c, int tokens) {
    EXPECT_FALSE(c.error) << c.error->message;
    EXPECT_FALSE(c.gone) << c.gone_message;
    EXPECT_FALSE(c.left);
    EXPECT_EQ(c.text, Tokens(tokens));
    EXPECT_EQ(c.finish, "length");
  }

  std::optional<LoadedModel> LoadedOf(const std::string& name) {
    for (auto& l : host_->Loaded()) {
      if (l.name == name) return l;
    }
    return std::nullopt;
  }
  std::vector<std::string> LoadedNames() {
    std::vector<std::string> names;
    for (auto& l : host_->Loaded()) names.push_back(l.name);
    return names;
  }
  bool Queued(const std::string& name, int64_t n) {
    return Eventually([&] {
      auto l = LoadedOf(name);
      return l && l->queued == n;
    });
  }
  bool FakeSees(const std::function<bool(const FakeEngineStats&)>& pred) { return fake_->WaitUntil(pred, kWait); }
  bool InFlight(int n) {
    return FakeSees([n](const FakeEngineStats& s) { return s.in_flight == n; });
  }
  static bool LoggedContaining(std::string_view text) {
    return Eventually([&] { return !log::Recent(1, log::Level::kDebug, text).empty(); });
  }

  static std::string* dir_;
  config::LocalConfig config_;
  std::shared_ptr<FakeEngineControl> fake_ = std::make_shared<FakeEngineControl>();
  std::unique_ptr<ModelHost> host_;
  Order order_;
  std::unique_ptr<Workers> workers_ = std::make_unique<Workers>(3);
};

std::string* ModelHostTest::dir_ = nullptr;

TEST_F(ModelHostTest, FirstRequestLoadsThenGenerates) {
  FakeEngineScript script;
  script.load_delay = 50ms;
  script.progress_steps = 3;
  fake_->SetScript(script);
  StartHost();
  EXPECT_TRUE(host_->Loaded().empty());

  auto first = Begin("alpha", 0, 5);
  ASSERT_TRUE(Ends(*first));
  ExpectAnswer(*first, 5);
  auto l = LoadedOf("alpha");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->state, "ready");
  EXPECT_EQ(l->parallel, 2);
  EXPECT_EQ(l->busy, 0);

  // A second request reuses the loaded engine.
  auto second = Begin("alpha", 1, 2);
  ASSERT_TRUE(Ends(*second));
  ExpectAnswer(*second, 2);
  const FakeEngineStats s = fake_->Stats();
  EXPECT_EQ(s.engines_created, 1);
  EXPECT_EQ(s.loads, 1);
  EXPECT_EQ(s.readies, 1);
  EXPECT_EQ(s.requests, 2);
  EXPECT_EQ(s.models_started, std::vector<std::string>{"alpha"});
}

TEST_F(ModelHostTest, UnknownModelIsNotFound) {
  StartHost();
  auto c = Begin("nope");
  ASSERT_TRUE(Ends(*c));
  ASSERT_TRUE(c->error);
  EXPECT_EQ(c->error->code, ErrorCode::kModelNotFound);
  EXPECT_EQ(fake_->Stats().engines_created, 0);
}

TEST_F(ModelHostTest, RequestsBeyondParallelQueueFifoAndAllComplete) {
  config_.parallel = 1;
  config_.max_queue = 8;
  StartHost();
  fake_->Hold();
  std::vector<std::shared_ptr<Call>> calls;
  calls.push_back(Begin("alpha", 0, 3, "r0"));
  ASSERT_TRUE(InFlight(1));
  for (int i = 1; i < 6; ++i) {
    // Each joins the queue before the next: the queue's order is known.
    calls.push_back(Begin("alpha", i, 3, "r" + std::to_string(i)));
    ASSERT_TRUE(Queued("alpha", i));
  }
  fake_->Release();
  for (auto& c : calls) {
    ASSERT_TRUE(Ends(*c));
    ExpectAnswer(*c, 3);
  }
  EXPECT_EQ(order_.Get(), (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4", "r5"}));
  const FakeEngineStats s = fake_->Stats();
  std::vector<int64_t> ids;
  for (auto& c : calls) ids.push_back(c->id);
  EXPECT_EQ(s.request_ids, ids);  // the engine got them in queue order
  EXPECT_EQ(s.max_concurrent, 1);
}

TEST_F(ModelHostTest, EngineNeverSeesMoreThanParallel) {
  config_.parallel = 3;
  config_.max_queue = 16;
  FakeEngineScript script;
  script.token_delay = 1ms;
  fake_->SetScript(script);
  StartHost();
  fake_->Hold();
  std::vector<std::shared_ptr<Call>> calls;
  for (int i = 0; i < 12; ++i) calls.push_back(Begin("alpha", i, 4));
  ASSERT_TRUE(InFlight(3));
  ASSERT_TRUE(Queued("alpha", 9));
  EXPECT_EQ(LoadedOf("alpha")->busy, 3);
  fake_->Release();
  for (auto& c : calls) {
    ASSERT_TRUE(Ends(*c));
    ExpectAnswer(*c, 4);
  }
  const FakeEngineStats s = fake_->Stats();
  EXPECT_EQ(s.max_concurrent, 3);
  EXPECT_EQ(s.requests, 12);
  EXPECT_EQ(s.engines_created, 1);
}

TEST_F(ModelHostTest, FullQueueGets503WithRetryAfter) {
  config_.parallel = 1;
  config_.max_queue = 2;
  StartHost();
  fake_->Hold();
  auto r0 = Begin("alpha", 0);
  ASSERT_TRUE(InFlight(1));
  auto r1 = Begin("alpha", 1);
  auto r2 = Begin("alpha", 2);
  ASSERT_TRUE(Queued("alpha", 2));
  auto r3 = Begin("alpha", 0);
  ASSERT_TRUE(Ends(*r3));
  ASSERT_TRUE(r3->error);
  EXPECT_EQ(r3->error->code, ErrorCode::kNoProvider);
  EXPECT_EQ(HttpStatus(r3->error->code), 503);
  ASSERT_TRUE(r3->error->retry_after);
  EXPECT_GE(std::stoi(*r3->error->retry_after), 1);
  fake_->Release();
  for (auto* c : {r0.get(), r1.get(), r2.get()}) {
    ASSERT_TRUE(Ends(*c));
    ExpectAnswer(*c, 3);
  }
  EXPECT_EQ(fake_->Stats().requests, 3);
}

TEST_F(ModelHostTest, KeepAliveExpiryUnloadsAndNextRequestReloads) {
  config_.keep_alive_ms = 200;
  StartHost();
  auto first = Begin("alpha");
  ASSERT_TRUE(Ends(*first));
  ExpectAnswer(*first, 3);
  ASSERT_TRUE(Eventually([&] { return host_->Loaded().empty(); }));
  FakeEngineStats s = fake_->Stats();
  EXPECT_EQ(s.stops, 1);
  EXPECT_EQ(s.live, 0);

  auto second = Begin("alpha", 1);
  ASSERT_TRUE(Ends(*second));
  ExpectAnswer(*second, 3);
  s = fake_->Stats();
  EXPECT_EQ(s.loads, 2);
  EXPECT_EQ(s.engines_created, 2);
}

TEST_F(ModelHostTest, KeepAliveZeroUnloadsAfterEachResponse) {
  config_.keep_alive_ms = 0;
  StartHost();
  for (int i = 1; i <= 3; ++i) {
    auto c = Begin("alpha", i);
    ASSERT_TRUE(Ends(*c));
    ExpectAnswer(*c, 3);
    ASSERT_TRUE(FakeSees([i](const FakeEngineStats& s) { return s.stops == i && s.live == 0; }));
    ASSERT_TRUE(Eventually([&] { return host_->Loaded().empty(); }));
  }
  EXPECT_EQ(fake_->Stats().loads, 3);
}

TEST_F(ModelHostTest, MaxLoadedOneEvictsIdleModelAndWaitsForItsExit) {
  config_.max_loaded = 1;
  FakeEngineScript slow_stop;
  slow_stop.stop_delay = 150ms;  // the new load must wait for this exit
  fake_->SetScript("alpha", slow_stop);
  StartHost();
  auto a = Begin("alpha");
  ASSERT_TRUE(Ends(*a));
  ExpectAnswer(*a, 3);
  auto b = Begin("beta", 1);
  ASSERT_TRUE(Ends(*b));
  ExpectAnswer(*b, 3);
  const FakeEngineStats s = fake_->Stats();
  EXPECT_EQ(s.models_started, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(s.stops, 1);
  EXPECT_EQ(s.max_live, 1);  // beta started only once alpha was gone
  EXPECT_EQ(LoadedNames(), std::vector<std::string>{"beta"});
}

TEST_F(ModelHostTest, EvictsTheLeastRecentlyUsedIdleModel) {
  config_.max_loaded = 2;
  StartHost();
  for (const char* model : {"alpha", "beta", "alpha", "gamma"}) {
    auto c = Begin(model);
    ASSERT_TRUE(Ends(*c)) << model;
    ExpectAnswer(*c, 3);
  }
  EXPECT_EQ(LoadedNames(), (std::vector<std::string>{"alpha", "gamma"}));
  const FakeEngineStats s = fake_->Stats();
  EXPECT_EQ(s.models_started, (std::vector<std::string>{"alpha", "beta", "gamma"}));
  EXPECT_EQ(s.max_live, 2);
}

TEST_F(ModelHostTest, BusyModelIsNeverEvicted) {
  config_.max_loaded = 1;
  StartHost();
  fake_->Hold();
  auto a = Begin("alpha");
  ASSERT_TRUE(InFlight(1));
  auto b = Begin("beta", 1);
  // beta waits for room while alpha generates.
  ASSERT_TRUE(LoggedContaining("model beta: waits for room"));
  FakeEngineStats s = fake_->Stats();
  EXPECT_EQ(s.engines_created, 1);
  EXPECT_EQ(s.stops, 0);
  EXPECT_EQ(s.kills, 0);
  // Once alpha's request ends alpha is idle: it goes, and beta loads.
  fake_->Release();
  ASSERT_TRUE(Ends(*a));
  ExpectAnswer(*a, 3);
  ASSERT_TRUE(Ends(*b));
  ExpectAnswer(*b, 3);
  s = fake_->Stats();
  EXPECT_EQ(s.models_started, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(s.max_live, 1);
}

TEST_F(ModelHostTest, CrashMidRequestGivesGoneAtOnceAndNextRequestRestarts) {
  StartHost();
  FakeEngineScript script;
  script.hold_after_tokens = 1;
  fake_->SetScript(script);
  fake_->Hold();
  auto r0 = Begin("alpha", 0, 5);
  auto r1 = Begin("alpha", 1, 5);
  ASSERT_TRUE(Eventually([&] { return r0->pieces >= 1 && r1->pieces >= 1; }));
  ASSERT_EQ(fake_->Crash("alpha"), 1);
  for (auto* c : {r0.get(), r1.get()}) {
    ASSERT_TRUE(Ends(*c));
    EXPECT_TRUE(c->gone);
    EXPECT_NE(c->gone_message.find("alpha"), std::string::npos) << c->gone_message;
    EXPECT_EQ(c->gone_message.find(*dir_), std::string::npos) << "no paths reach clients";
  }
  ASSERT_TRUE(Eventually([&] { return host_->Loaded().empty(); }));
  fake_->Release();
  auto next = Begin("alpha", 2);
  ASSERT_TRUE(Ends(*next));
  ExpectAnswer(*next, 3);
  const FakeEngineStats s = fake_->Stats();
  EXPECT_EQ(s.engines_created, 2);
  EXPECT_EQ(s.crashes, 1);
}

TEST_F(ModelHostTest, CrashRestartsEngineForWaitingRequests) {
  config_.parallel = 1;
  StartHost();
  FakeEngineScript script;
  script.hold_after_tokens = 1;
  fake_->SetScript(script);
  fake_->Hold();
  auto r0 = Begin("alpha", 0);
  ASSERT_TRUE(Eventually([&] { return r0->pieces >= 1; }));
  auto r1 = Begin("alpha", 1);
  ASSERT_TRUE(Queued("alpha", 1));
  ASSERT_EQ(fake_->Crash("alpha"), 1);
  ASSERT_TRUE(Ends(*r0));
  EXPECT_TRUE(r0->gone);
  fake_->Release();
  // r1 waited: the engine is started again for it (after a backoff).
  ASSERT_TRUE(Ends(*r1));
  ExpectAnswer(*r1, 3);
  const FakeEngineStats s = fake_->Stats();
  EXPECT_EQ(s.engines_created, 2);
  EXPECT_EQ(s.max_live, 1);
}

TEST_F(ModelHostTest, KillForTestEndsRequestsInFlight) {
  StartHost();
  fake_->Hold();
  auto r0 = Begin("alpha");
  ASSERT_TRUE(InFlight(1));
  host_->KillForTest("alpha");
  ASSERT_TRUE(Ends(*r0));
  EXPECT_TRUE(r0->gone);
  fake_->Release();
  EXPECT_EQ(fake_->Stats().kills, 1);
}

TEST_F(ModelHostTest, LoadFailureFailsWaitingRequestsAtOnce) {
  config_.parallel = 1;
  FakeEngineScript failing;
  failing.load_delay = 1000ms;  // the others queue meanwhile (if late, they fail their own load)
  failing.load_fails = true;
  failing.load_fail_message = "Failed to load model " + *dir_ + "/alpha.gguf";
  fake_->SetScript(failing);
  StartHost();
  std::vector<std::shared_ptr<Call>> calls;
  for (int i = 0; i < 3; ++i) calls.push_back(Begin("alpha", i));
  for (auto& c : calls) {
    ASSERT_TRUE(Ends(*c));
    ASSERT_TRUE(c->error);
    EXPECT_EQ(c->error->code, ErrorCode::kNoProvider);
    EXPECT_TRUE(c->error->retry_after);
    EXPECT_NE(c->error->message.find("could not be loaded"), std::string::npos) << c->error->message;
    EXPECT_EQ(c->error->message.find(*dir_), std::string::npos) << "no paths reach clients";
  }
  EXPECT_LE(fake_->Stats().loads, 3);
  EXPECT_EQ(fake_->Stats().requests, 0);
  ASSERT_TRUE(Eventually([&] { return host_->Loaded().empty(); }));

  // A later request loads again.
  fake_->SetScript(FakeEngineScript{});
  auto c = Begin("alpha");
  ASSERT_TRUE(Ends(*c));
  ExpectAnswer(*c, 3);
}

TEST_F(ModelHostTest, LoadStallTimeoutKillsEngine) {
  config_.load_timeout_s = 1;
  FakeEngineScript stall;
  stall.load_stalls = true;
  fake_->SetScript(stall);
  StartHost();
  auto c = Begin("alpha");
  ASSERT_TRUE(Ends(*c));
  ASSERT_TRUE(c->error);
  EXPECT_EQ(c->error->code, ErrorCode::kNoProvider);
  const FakeEngineStats s = fake_->Stats();
  EXPECT_EQ(s.loads, 1);
  EXPECT_EQ(s.kills, 1);
  EXPECT_EQ(s.readies, 0);
  EXPECT_TRUE(host_->Loaded().empty());
}

TEST_F(ModelHostTest, ClientLeavingWhileQueuedLeavesTheQueue) {
  config_.parallel = 1;
  StartHost();
  fake_->Hold();
  auto r0 = Begin("alpha", 0);
  ASSERT_TRUE(InFlight(1));
  auto r1 = Begin("alpha", 1);
  ASSERT_TRUE(Queued("alpha", 1));
  auto r2 = Begin("alpha", 2);
  ASSERT_TRUE(Queued("alpha", 2));
  Leave(r1);
  ASSERT_TRUE(Ends(*r1));
  EXPECT_TRUE(r1->error);
  EXPECT_EQ(r1->id.load(), 0);  // it never had a sequence
  EXPECT_EQ(LoadedOf("alpha")->queued, 1);
  fake_->Release();
  for (auto* c : {r0.get(), r2.get()}) {
    ASSERT_TRUE(Ends(*c));
    ExpectAnswer(*c, 3);
  }
  EXPECT_EQ(fake_->Stats().request_ids, (std::vector<int64_t>{r0->id, r2->id}));
}

TEST_F(ModelHostTest, ClientLeavingMidGenerationAbortsAndSequenceFreesWhenEngineEndsIt) {
  config_.parallel = 1;
  StartHost();
  FakeEngineScript script;
  script.hold_after_tokens = 1;
  fake_->SetScript(script);
  fake_->Hold();
  auto r0 = Begin("alpha", 0, 5);
  ASSERT_TRUE(Eventually([&] { return r0->pieces >= 1; }));
  auto r1 = Begin("alpha", 1);
  ASSERT_TRUE(Queued("alpha", 1));
  Leave(r0);
  ASSERT_TRUE(Ends(*r0));
  EXPECT_TRUE(r0->left);
  const int64_t id = r0->id;
  ASSERT_TRUE(FakeSees([id](const FakeEngineStats& s) { return s.abort_ids == std::vector<int64_t>{id}; }));
  // The engine has not ended r0 yet (held): its sequence is still busy.
  auto l = LoadedOf("alpha");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->busy, 1);
  EXPECT_EQ(l->queued, 1);
  EXPECT_EQ(r1->id.load(), 0);
  EXPECT_EQ(fake_->Stats().in_flight, 1);
  fake_->Release();  // r0 ends with finish "abort"; then r1 gets the sequence
  ASSERT_TRUE(Ends(*r1));
  ExpectAnswer(*r1, 3);
  const FakeEngineStats s = fake_->Stats();
  EXPECT_EQ(s.aborted_ids, std::vector<int64_t>{id});
  EXPECT_EQ(s.request_ids, (std::vector<int64_t>{id, r1->id}));
  EXPECT_EQ(s.max_concurrent, 1);
}

// Regression: a client that left just as the engine ended its request (the
// `done` was in its mailbox, unread) left its sequence busy for good: the
// abort went to an id the engine no longer knew, so nothing freed it.
TEST_F(ModelHostTest, ClientLeavingAsItsAnswerEndsFreesTheSequence) {
  config_.parallel = 1;
  StartHost();
  auto r0 = std::make_shared<Call>();
  r0->model = "alpha";
  r0->io = &workers_->io(0);
  r0->leave_when = [fake = fake_] { return fake->Stats().ended >= 1; };
  asio::co_spawn(*r0->io, Drive(host_.get(), r0, nullptr), asio::detached);
  ASSERT_TRUE(Ends(*r0));
  EXPECT_TRUE(r0->left);
  auto r1 = Begin("alpha", 1);
  ASSERT_TRUE(Ends(*r1));
  ExpectAnswer(*r1, 3);
  ASSERT_TRUE(Eventually([&] { return LoadedOf("alpha")->busy == 0; }));
}

TEST_F(ModelHostTest, DestroyingTheHostEndsRequestsInFlight) {
  config_.parallel = 2;
  config_.max_queue = 2;
  StartHost();
  FakeEngineScript script;
  script.hold_after_tokens = 1;
  fake_->SetScript(script);
  fake_->Hold();
  auto r0 = Begin("alpha", 0, 5);
  // r1 keeps its lease until the host is gone: its release must not reach into it.
  std::atomic<bool> host_gone{false};
  auto r1 = std::make_shared<Call>();
  r1->model = "alpha";
  r1->max_tokens = 5;
  r1->io = &workers_->io(1);
  r1->release_when = [&host_gone] { return host_gone.load(); };
  asio::co_spawn(*r1->io, Drive(host_.get(), r1, nullptr), asio::detached);
  ASSERT_TRUE(Eventually([&] { return r0->pieces >= 1 && r1->pieces >= 1; }));
  auto r2 = Begin("alpha", 2);
  ASSERT_TRUE(Queued("alpha", 1));
  host_.reset();
  host_gone = true;
  for (auto* c : {r0.get(), r1.get()}) {
    ASSERT_TRUE(Ends(*c));
    EXPECT_TRUE(c->gone);
    EXPECT_EQ(c->pieces, 1);
  }
  ASSERT_TRUE(Ends(*r2));
  ASSERT_TRUE(r2->error);
  EXPECT_EQ(r2->error->code, ErrorCode::kShuttingDown);
  EXPECT_EQ(fake_->Stats().live, 0);
}

// One request line through a lease; the answers up to the last one.
asio::awaitable<void> Exchange(ModelHost* host, std::function<std::string(int64_t id)> line,
                               std::promise<std::vector<WorkerEvent>>* out) {
  std::vector<WorkerEvent> events;
  ModelHost::Acquired acquired = co_await host->Acquire("alpha", nullptr);
  if (auto* lease = std::get_if<std::unique_ptr<Lease>>(&acquired)) {
    (*lease)->Send(line((*lease)->id()));
    while (events.empty() || events.back().kind == WorkerEvent::Kind::kText) {
      std::vector<WorkerEvent> batch = co_await (*lease)->Next();
      if (batch.empty()) break;
      for (auto& e : batch) events.push_back(std::move(e));
    }
  }
  out->set_value(std::move(events));
}

TEST_F(ModelHostTest, FakeAnswersCountAndEmbedThroughALease) {
  StartHost();
  std::promise<std::vector<WorkerEvent>> counted, embedded;
  auto count_line = [](int64_t id) {
    return "{\"op\":\"count\",\"id\":" + std::to_string(id) + ",\"prompt\":\"a b c\"}";
  };
  auto embed_line = [](int64_t id) { return EncodeEmbed({"ab", "c d"}, id); };
  asio::co_spawn(workers_->io(0), Exchange(host_.get(), count_line, &counted), asio::detached);
  asio::co_spawn(workers_->io(1), Exchange(host_.get(), embed_line, &embedded), asio::detached);
  auto count = counted.get_future();
  auto embed = embedded.get_future();
  ASSERT_EQ(count.wait_for(kWait), std::future_status::ready);
  ASSERT_EQ(embed.wait_for(kWait), std::future_status::ready);
  std::vector<WorkerEvent> c = count.get();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, WorkerEvent::Kind::kCount);
  EXPECT_EQ(c[0].tokens, 4);  // BOS + 3 words
  std::vector<WorkerEvent> e = embed.get();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, WorkerEvent::Kind::kEmbedding);
  EXPECT_EQ(e[0].vectors.size(), 2u);
  EXPECT_EQ(e[0].prompt_tokens, 5);
  ASSERT_TRUE(Eventually([&] { return LoadedOf("alpha")->busy == 0; }));
  // (The fake counts an end just after the gateway has it.)
  EXPECT_TRUE(FakeSees([](const FakeEngineStats& s) { return s.ended == 2; }));
}

// At shutdown the gateway's workers, and the request coroutines suspended on
// them, go before the host. A request destroyed while queued must leave the
// queue: left there, it would be granted a sequence nobody releases, through
// mailboxes of a dead io_context.
TEST_F(ModelHostTest, RequestDestroyedWhileQueuedLeavesTheQueue) {
  config_.parallel = 1;
  StartHost();
  fake_->Hold();
  auto r0 = Begin("alpha", 0);
  ASSERT_TRUE(InFlight(1));
  auto doomed = std::make_unique<Workers>(1);
  auto r1 = BeginOn(doomed->io(0), "alpha");
  ASSERT_TRUE(Queued("alpha", 1));
  doomed.reset();  // r1's coroutine is destroyed without resuming
  EXPECT_EQ(LoadedOf("alpha")->queued, 0);
  fake_->Release();
  ASSERT_TRUE(Ends(*r0));
  ExpectAnswer(*r0, 3);
  auto r2 = Begin("alpha", 1);
  ASSERT_TRUE(Ends(*r2));
  ExpectAnswer(*r2, 3);
  EXPECT_EQ(fake_->Stats().request_ids, (std::vector<int64_t>{r0->id, r2->id}));
}

// As above, but the turn came while the worker was stopped: the sequence it
// was given (nothing was sent on it) is given back.
TEST_F(ModelHostTest, RequestDestroyedAfterItsTurnCameGivesTheSequenceBack) {
  config_.parallel = 1;
  StartHost();
  fake_->Hold();
  auto r0 = Begin("alpha", 0);
  ASSERT_TRUE(InFlight(1));
  auto doomed = std::make_unique<Workers>(1);
  auto r1 = BeginOn(doomed->io(0), "alpha");
  ASSERT_TRUE(Queued("alpha", 1));
  doomed->Stop();  // r1 will not resume
  fake_->Release();
  ASSERT_TRUE(Ends(*r0));
  ASSERT_TRUE(Eventually([&] {
    auto l = LoadedOf("alpha");
    return l && l->queued == 0 && l->busy == 1;  // r1's turn, never taken
  }));
  doomed.reset();
  ASSERT_TRUE(Eventually([&] { return LoadedOf("alpha")->busy == 0; }));
  auto r2 = Begin("alpha", 1);
  ASSERT_TRUE(Ends(*r2));
  ExpectAnswer(*r2, 3);
  EXPECT_EQ(fake_->Stats().request_ids, (std::vector<int64_t>{r0->id, r2->id}));
}

// Regression: the wake-up a Push posts could arrive after Take had already
// returned that item; the next Take then returned nothing, which a Lease's
// reader takes for a client that went away (it aborted live requests).
TEST(MailboxTest, AWakeUpForAnItemAlreadyTakenDoesNotEndTheNextTake) {
  Workers workers(1);
  auto box = std::make_shared<Mailbox<int>>(workers.io(0).get_executor());
  std::promise<std::vector<int>> first_promise, second_promise;
  auto first = first_promise.get_future();
  auto second = second_promise.get_future();
  auto run = [&]() -> asio::awaitable<void> {
    box->Push(1);                            // its wake-up is queued behind this coroutine
    first_promise.set_value(co_await box->Take());   // finds the item at once
    second_promise.set_value(co_await box->Take());  // must wait for the next item
  };
  asio::co_spawn(workers.io(0), run, asio::detached);
  ASSERT_EQ(first.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(first.get(), std::vector<int>{1});
  box->Push(2);  // from another thread, as the engine thread does
  ASSERT_EQ(second.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(second.get(), std::vector<int>{2});
}

}  // namespace
}  // namespace sy::local
