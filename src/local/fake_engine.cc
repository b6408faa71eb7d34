#include "local/fake_engine.h"

#include <algorithm>
#include <unordered_map>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <simdjson.h>

#include "common/json_writer.h"

namespace sy::local {

namespace asio = boost::asio;

namespace {

int64_t Words(std::string_view text) {
  int64_t n = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

}  // namespace

// One engine's state. Engine thread only, except model() (immutable) and
// io(). Handlers hold a shared_ptr and do nothing once the engine is gone
// (exited) or destroyed (detached).
class FakeEngineCore : public std::enable_shared_from_this<FakeEngineCore> {
 public:
  FakeEngineCore(const LoadSpec& spec, FakeEngineScript script, asio::io_context& io, EngineListener* listener,
                 std::shared_ptr<FakeEngineControl> control, int index)
      : spec_(spec), script_(std::move(script)), io_(io), listener_(listener), control_(std::move(control)),
        index_(index), load_timer_(io), stop_timer_(io) {}

  const std::string& model() const { return spec_.model; }
  asio::io_context& io() { return io_; }

  void Start() {
    if (started_ || !attached_) return;
    started_ = true;
    control_->Update([&](FakeEngineStats& s) {
      ++s.loads;
      ++s.live;
      s.max_live = std::max(s.max_live, s.live);
      s.models_started.push_back(spec_.model);
    });
    if (script_.load_stalls) return;
    LoadStep(1);
  }

  void Send(std::string line) {
    control_->Update([](FakeEngineStats& s) { ++s.lines_received; });
    if (!attached_ || exited_) return;
    simdjson::dom::element doc;
    std::string_view op;
    if (parser_.parse(line).get(doc) != simdjson::SUCCESS || doc["op"].get(op) != simdjson::SUCCESS) {
      Violation("a line that is not a request: " + line.substr(0, 200));
      return;
    }
    int64_t id = 0;
    if (doc["id"].get(id) != simdjson::SUCCESS) {
      Violation("a request without an id: " + line.substr(0, 200));
      return;
    }
    if (op == "abort") {
      control_->Update([&](FakeEngineStats& s) {
        ++s.aborts;
        s.abort_ids.push_back(id);
      });
      auto it = requests_.find(id);
      if (it != requests_.end()) it->second.aborted = true;  // unknown ids are ignored
      return;
    }
    if (op != "chat" && op != "complete" && op != "count" && op != "embed") {
      Violation("unknown op " + std::string(op));
      return;
    }
    control_->Update([&](FakeEngineStats& s) {
      ++s.requests;
      s.request_ids.push_back(id);
    });
    if (stopping_) {
      Violation("request " + std::to_string(id) + " after stop");
      return;
    }
    if (!ready_) {
      Violation("request " + std::to_string(id) + " before ready");
      return;
    }
    if (requests_.count(id)) {
      Violation("request id " + std::to_string(id) + " reused while in flight");
      return;
    }
    if (static_cast<int64_t>(requests_.size()) >= parallel_) {
      Violation("request " + std::to_string(id) + " beyond parallel " + std::to_string(parallel_));
    }
    Request& r = requests_[id];
    r.op = std::string(op);
    r.timer = std::make_unique<asio::steady_timer>(io_);
    const int concurrent = static_cast<int>(requests_.size());
    control_->Update([&](FakeEngineStats& s) {
      ++s.in_flight;
      s.max_concurrent = std::max(s.max_concurrent, concurrent);
      int& mine = s.max_concurrent_per_engine[index_];
      mine = std::max(mine, concurrent);
    });
    r.prompt_tokens = 1 + PromptWords(doc);
    if (r.op == "count") {
      std::string answer;
      json::Writer(&answer).BeginObject().Key("ev").String("count").Key("id").Int(id)
          .Key("tokens").Int(r.prompt_tokens).EndObject();
      Answer(id, std::move(answer));
      return;
    }
    if (r.op == "embed") {
      std::string answer;
      json::Writer w(&answer);
      w.BeginObject().Key("ev").String("embedding").Key("id").Int(id).Key("vectors").BeginArray();
      simdjson::dom::array inputs;
      int64_t prompt_tokens = 0;
      if (doc["inputs"].get(inputs) == simdjson::SUCCESS) {
        for (simdjson::dom::element input : inputs) {
          std::string_view text;
          if (input.get(text) != simdjson::SUCCESS) text = {};
          prompt_tokens += 1 + Words(text);
          w.BeginArray();
          for (int64_t k = 0; k < script_.embedding_size; ++k) {
            w.Double(static_cast<double>(static_cast<int64_t>(text.size()) + k) / 100.0);
          }
          w.EndArray();
        }
      }
      w.EndArray().Key("prompt_tokens").Int(prompt_tokens).EndObject();
      Answer(id, std::move(answer));
      return;
    }
    if (!script_.request_error.empty()) {
      std::string answer;
      json::Writer(&answer).BeginObject().Key("ev").String("error").Key("id").Int(id)
          .Key("code").String(script_.request_error).Key("message").String("fake engine error").EndObject();
      Answer(id, std::move(answer));
      return;
    }
    int64_t max_tokens = 0;
    r.limited = doc["max_tokens"].get(max_tokens) == simdjson::SUCCESS;
    r.max_tokens = r.limited ? max_tokens : script_.default_tokens;
    Schedule(id, std::chrono::milliseconds(0));
  }

  void Stop() {
    if (!attached_ || exited_ || stopping_) return;
    stopping_ = true;
    control_->Update([](FakeEngineStats& s) { ++s.stops; });
    load_timer_.cancel();
    stop_timer_.expires_after(script_.stop_delay);
    stop_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->Exit("exited with status 0");
    });
  }

  void Kill() {
    if (!attached_ || exited_) return;
    control_->Update([](FakeEngineStats& s) { ++s.kills; });
    asio::post(io_, [self = shared_from_this()] { self->Exit("killed by signal Killed"); });
  }

  // Posted by FakeEngineControl.
  void Crash() {
    if (!attached_ || exited_ || !started_) return;
    control_->Update([](FakeEngineStats& s) { ++s.crashes; });
    Exit("crashed (fake)");
  }

  // Posted by FakeEngineControl::Release.
  void ResumeParked() {
    if (!attached_ || exited_) return;
    for (auto& [id, r] : requests_) {
      if (r.parked) {
        r.parked = false;
        Schedule(id, std::chrono::milliseconds(0));
      }
    }
  }

  // The Engine was destroyed: no callback from now on.
  void Detach() {
    if (!attached_) return;
    attached_ = false;
    load_timer_.cancel();
    stop_timer_.cancel();
    const int dropped = static_cast<int>(requests_.size());
    requests_.clear();
    const bool was_live = started_ && !exited_;
    std::lock_guard<std::mutex> lock(control_->mu_);
    if (was_live) --control_->stats_.live;
    control_->stats_.in_flight -= dropped;
    std::erase(control_->cores_, shared_from_this());
    control_->changed_.notify_all();
  }

 private:
  struct Request {
    std::string op;
    int64_t max_tokens = 0;
    bool limited = false;  // max_tokens was given: the end is "length"
    int64_t emitted = 0;
    int64_t prompt_tokens = 0;
    bool aborted = false;
    bool parked = false;  // held: waits for Release
    std::string text;
    std::unique_ptr<asio::steady_timer> timer;
  };

  bool Alive() const { return attached_ && !exited_; }

  void Violation(std::string what) {
    control_->Update([&](FakeEngineStats& s) { s.violations.push_back(spec_.model + ": " + std::move(what)); });
  }

  static int64_t PromptWords(simdjson::dom::element doc) {
    int64_t n = 0;
    std::string_view text;
    if (doc["prompt"].get(text) == simdjson::SUCCESS) n += Words(text);
    if (doc["system"].get(text) == simdjson::SUCCESS) n += Words(text);
    simdjson::dom::array messages;
    if (doc["messages"].get(messages) == simdjson::SUCCESS) {
      for (simdjson::dom::element m : messages) {
        if (m["text"].get(text) == simdjson::SUCCESS) n += Words(text);
      }
    }
    return n;
  }

  // Load step `step` of progress_steps + 1; the last one is ready (or the failure).
  void LoadStep(int step) {
    const int steps = std::max(0, script_.progress_steps) + 1;
    load_timer_.expires_after(script_.load_delay / steps);
    load_timer_.async_wait([self = shared_from_this(), step, steps](boost::system::error_code ec) {
      if (ec || !self->Alive() || self->stopping_) return;
      if (step < steps) {
        self->listener_->OnProgress(static_cast<double>(step) / steps);
        if (self->Alive()) self->LoadStep(step + 1);
        return;
      }
      if (self->script_.load_fails) {
        self->Exit(self->script_.load_fail_message);
        return;
      }
      self->Ready();
    });
  }

  void Ready() {
    ready_ = true;
    EngineReady r;
    r.parallel = script_.parallel > 0 ? script_.parallel : static_cast<int64_t>(spec_.parallel);
    if (spec_.embedding) r.parallel = 1;
    parallel_ = r.parallel;
    r.context_size = script_.context_size > 0 ? script_.context_size
                     : spec_.context_size > 0  ? static_cast<int64_t>(spec_.context_size)
                                               : 4096;
    r.train_context_size = 4096;
    r.wrapper = spec_.embedding ? "" : "ChatML";
    r.tools = !spec_.embedding && script_.tools;
    r.llama_cpp = "fake";
    r.embedding_size = spec_.embedding ? script_.embedding_size : 0;
    control_->Update([](FakeEngineStats& s) { ++s.readies; });
    listener_->OnReady(r);
  }

  void Schedule(int64_t id, std::chrono::milliseconds delay) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    it->second.timer->expires_after(delay);
    it->second.timer->async_wait([self = shared_from_this(), id](boost::system::error_code ec) {
      if (!ec) self->Step(id);
    });
  }

  // One token of a chat/complete request, or its end.
  void Step(int64_t id) {
    if (!Alive()) return;
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    Request& r = it->second;
    if (r.aborted) {
      Finish(id, "abort");
      return;
    }
    if (control_->held() && r.emitted >= script_.hold_after_tokens) {
      r.parked = true;
      return;
    }
    if (r.emitted >= r.max_tokens) {
      Finish(id, r.limited ? "length" : "stop");
      return;
    }
    const std::string piece = (r.emitted == 0 ? "t" : " t") + std::to_string(r.emitted);
    r.text += piece;
    ++r.emitted;
    std::string line;
    json::Writer(&line).BeginObject().Key("ev").String("text").Key("id").Int(id).Key("text").String(piece)
        .Key("tokens").Int(1).EndObject();
    listener_->OnMessage(line);
    Schedule(id, script_.token_delay);
  }

  void Finish(int64_t id, const std::string& finish) {
    Request& r = requests_[id];
    std::string line;
    json::Writer(&line).BeginObject().Key("ev").String("done").Key("id").Int(id).Key("finish").String(finish)
        .Key("stop_sequence").String("").Key("prompt_tokens").Int(r.prompt_tokens).Key("cached_tokens").Int(0)
        .Key("completion_tokens").Int(r.emitted).Key("text").String(r.text).EndObject();
    if (finish == "abort") control_->Update([&](FakeEngineStats& s) { s.aborted_ids.push_back(id); });
    End(id, std::move(line));
  }

  // Ends request `id` with `line` on a later turn of the io_context.
  void Answer(int64_t id, std::string line) {
    asio::post(io_, [self = shared_from_this(), id, line = std::move(line)]() mutable {
      if (self->Alive()) self->End(id, std::move(line));
    });
  }

  // The request's last answer. The stats count it after the listener has it,
  // so a test that sees it ended knows the gateway was told.
  void End(int64_t id, std::string line) {
    requests_.erase(id);
    listener_->OnMessage(line);
    control_->Update([](FakeEngineStats& s) {
      --s.in_flight;
      ++s.ended;
    });
  }

  void Exit(const std::string& reason) {
    if (!Alive()) return;
    exited_ = true;
    load_timer_.cancel();
    stop_timer_.cancel();
    const int dropped = static_cast<int>(requests_.size());
    requests_.clear();
    control_->Update([&](FakeEngineStats& s) {
      ++s.exits;
      --s.live;
      s.in_flight -= dropped;
    });
    listener_->OnExit(reason);  // may destroy the Engine: nothing after
  }

  const LoadSpec spec_;
  const FakeEngineScript script_;
  asio::io_context& io_;
  EngineListener* listener_;
  std::shared_ptr<FakeEngineControl> control_;
  const int index_;  // creation order
  asio::steady_timer load_timer_, stop_timer_;
  simdjson::dom::parser parser_;
  std::unordered_map<int64_t, Request> requests_;
  int64_t parallel_ = 1;
  bool attached_ = true;
  bool started_ = false;
  bool ready_ = false;
  bool stopping_ = false;
  bool exited_ = false;
};

// ---------------------------------------------------------------------------
// FakeEngineControl

void FakeEngineControl::SetScript(FakeEngineScript script) {
  std::lock_guard<std::mutex> lock(mu_);
  default_script_ = std::move(script);
}

void FakeEngineControl::SetScript(const std::string& model, FakeEngineScript script) {
  std::lock_guard<std::mutex> lock(mu_);
  scripts_[model] = std::move(script);
}

FakeEngineScript FakeEngineControl::ScriptFor(const std::string& model) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = scripts_.find(model);
  return it != scripts_.end() ? it->second : default_script_;
}

void FakeEngineControl::Hold() {
  std::lock_guard<std::mutex> lock(mu_);
  held_ = true;
}

void FakeEngineControl::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  held_ = false;
  // A core is in cores_ until its Engine is destroyed, on its io_context's
  // thread, which needs this lock: its io_context is alive here.
  for (auto& core : cores_) asio::post(core->io(), [core] { core->ResumeParked(); });
}

bool FakeEngineControl::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_;
}

int FakeEngineControl::Crash() {
  return CrashWhere([](const FakeEngineCore&) { return true; });
}

int FakeEngineControl::Crash(const std::string& model) {
  return CrashWhere([&](const FakeEngineCore& core) { return core.model() == model; });
}

int FakeEngineControl::CrashWhere(const std::function<bool(const FakeEngineCore&)>& match) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (auto& core : cores_) {
    if (!match(*core)) continue;
    asio::post(core->io(), [core] { core->Crash(); });
    ++n;
  }
  return n;
}

FakeEngineStats FakeEngineControl::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool FakeEngineControl::WaitUntil(const std::function<bool(const FakeEngineStats&)>& pred,
                                  std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return pred(stats_); });
}

void FakeEngineControl::Update(const std::function<void(FakeEngineStats&)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  change(stats_);
  changed_.notify_all();
}

// ---------------------------------------------------------------------------
// FakeEngine, FakeEngineFactory

FakeEngine::~FakeEngine() { core_->Detach(); }
void FakeEngine::Start() { core_->Start(); }
void FakeEngine::Send(std::string line) { core_->Send(std::move(line)); }
void FakeEngine::Stop() { core_->Stop(); }
void FakeEngine::Kill() { core_->Kill(); }

std::unique_ptr<Engine> FakeEngineFactory::Create(const LoadSpec& spec, asio::io_context& io,
                                                  EngineListener* listener) {
  int index = 0;
  {
    std::lock_guard<std::mutex> lock(control_->mu_);
    index = control_->stats_.engines_created++;
    control_->stats_.max_concurrent_per_engine.push_back(0);
    control_->changed_.notify_all();
  }
  auto core = std::make_shared<FakeEngineCore>(spec, control_->ScriptFor(spec.model), io, listener, control_, index);
  {
    std::lock_guard<std::mutex> lock(control_->mu_);
    control_->cores_.push_back(core);
  }
  return std::make_unique<FakeEngine>(std::move(core));
}

}  // namespace sy::local
