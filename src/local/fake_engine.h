// FakeEngine: the engine seam in-process, for tests of ModelHost and the
// local provider. It speaks engine/PROTOCOL.md without a model: a request
// for N tokens answers "t0", " t1", ... " t{N-1}" and ends with `done`.
//
// A test keeps a FakeEngineControl and gives the factory a share of it:
//
//   auto fake = std::make_shared<FakeEngineControl>();
//   ModelHost host(config, dir, std::make_unique<FakeEngineFactory>(fake));
//   fake->Hold();  ... fake->WaitUntil(...) ... fake->Release();
//
// The control scripts the engines (load time, progress, failures, token
// pace), holds and releases generation, crashes engines on demand, and
// counts what the engines saw.
//
// Threading: the engines follow the Engine contract (engine.h): every
// method is called on the io_context given to Create, and every listener
// callback comes from there, always posted, never from inside
// Start/Send/Stop/Kill. FakeEngineControl is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "local/engine.h"

namespace sy::local {

// How an engine behaves; read when the engine is created.
struct FakeEngineScript {
  std::chrono::milliseconds load_delay{0};  // Start → ready (or failure)
  int progress_steps = 2;                   // progress events spread over load_delay
  bool load_fails = false;                  // the load ends in OnExit instead of ready
  std::string load_fail_message = "Failed to load model";
  bool load_stalls = false;                 // never a progress, never ready: only Stop/Kill end it
  std::chrono::milliseconds token_delay{0}; // between two text events of one request
  std::chrono::milliseconds stop_delay{0};  // Stop → OnExit
  int64_t default_tokens = 4;               // tokens of a request without max_tokens (finish "stop")
  // While the control holds, a chat/complete request pauses after this many tokens.
  int64_t hold_after_tokens = 0;
  // Non-empty: every chat/complete request ends with this error code
  // (context_length_exceeded | invalid_request | internal) instead of text.
  std::string request_error;
  int64_t parallel = 0;      // ready's parallel; 0 = the LoadSpec's
  int64_t context_size = 0;  // ready's context_size; 0 = the LoadSpec's, else 4096
  int64_t embedding_size = 8;  // for an embedding LoadSpec
  bool tools = true;
};

// What the engines saw. A snapshot: FakeEngineControl::Stats().
struct FakeEngineStats {
  int engines_created = 0;
  int loads = 0;     // Start calls
  int readies = 0;
  int exits = 0;     // OnExit calls
  int stops = 0;     // Stop calls
  int kills = 0;     // Kill calls
  int crashes = 0;   // Crash() that ended a live engine
  int live = 0;      // engines started and not yet gone (exited or destroyed)
  int max_live = 0;  // most live engines at once
  int in_flight = 0;       // requests on every engine now (sent, not yet ended)
  int max_concurrent = 0;  // most requests on one engine at once
  std::vector<int> max_concurrent_per_engine;  // by creation order
  int64_t lines_received = 0;  // every Send
  int requests = 0;            // chat, complete, count and embed lines
  int aborts = 0;              // abort lines (for any id)
  int ended = 0;               // requests answered to the end (done, error, count, embedding)
  std::vector<int64_t> request_ids;   // in the order received
  std::vector<int64_t> abort_ids;     // in the order received
  std::vector<int64_t> aborted_ids;   // requests that ended with finish "abort"
  std::vector<std::string> models_started;  // LoadSpec::model of each Start
  // Breaches of the protocol by the gateway: a request before ready or after
  // Stop, an id reused while in flight, more than `parallel` requests at once,
  // a line that is not a request.
  std::vector<std::string> violations;
};

class FakeEngineCore;

class FakeEngineControl {
 public:
  // The script of engines created from now on: for every model, or for one.
  void SetScript(FakeEngineScript script);
  void SetScript(const std::string& model, FakeEngineScript script);
  FakeEngineScript ScriptFor(const std::string& model) const;

  // Hold: chat/complete requests pause (after the script's hold_after_tokens)
  // until Release. An abort of a paused request takes effect on Release.
  void Hold();
  void Release();
  bool held() const;

  // Every live engine (or the one of `model`) exits now with its requests in
  // flight, as a crashed process would. Returns how many were told to.
  int Crash();
  int Crash(const std::string& model);

  FakeEngineStats Stats() const;
  // Waits until `pred` holds for the stats (checked on every change), at
  // most `timeout`. Returns whether it held.
  bool WaitUntil(const std::function<bool(const FakeEngineStats&)>& pred, std::chrono::milliseconds timeout) const;

 private:
  friend class FakeEngineCore;
  friend class FakeEngineFactory;
  friend class FakeEngine;

  // Runs `change` on the stats under the lock and wakes WaitUntil.
  void Update(const std::function<void(FakeEngineStats&)>& change);
  int CrashWhere(const std::function<bool(const FakeEngineCore&)>& match);

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  FakeEngineStats stats_;
  FakeEngineScript default_script_;
  std::map<std::string, FakeEngineScript> scripts_;
  bool held_ = false;
  std::vector<std::shared_ptr<FakeEngineCore>> cores_;  // engines not yet destroyed
};

class FakeEngine final : public Engine {
 public:
  explicit FakeEngine(std::shared_ptr<FakeEngineCore> core) : core_(std::move(core)) {}
  ~FakeEngine() override;
  void Start() override;
  void Send(std::string line) override;
  void Stop() override;
  void Kill() override;
  int pid() const override { return 0; }

 private:
  std::shared_ptr<FakeEngineCore> core_;
};

class FakeEngineFactory final : public EngineFactory {
 public:
  explicit FakeEngineFactory(std::shared_ptr<FakeEngineControl> control) : control_(std::move(control)) {}
  std::unique_ptr<Engine> Create(const LoadSpec& spec, boost::asio::io_context& io,
                                 EngineListener* listener) override;

 private:
  std::shared_ptr<FakeEngineControl> control_;
};

}  // namespace sy::local
