// The node-llama-cpp worker as an Engine: `node engine/worker.mjs`, one
// process per loaded model, speaking engine/PROTOCOL.md on its fd 3 (a Unix
// socket pair). Its stdout and stderr are read line by line into the log.
//
// The child is started with posix_spawn; every descriptor of the gateway
// above 3 is closed in it, so a worker never holds a listening socket. Its
// exit is seen as end-of-file on fd 3, then reaped (waitpid), so the gateway
// never leaves a zombie and never goes down with a worker.
#pragma once

#include <string>
#include <vector>

#include "local/engine.h"

namespace sy::local {

struct WorkerSettings {
  std::string node;    // Node.js binary (a path, or a name looked up on PATH)
  std::string script;  // engine/worker.mjs
};

// Where the project's pieces are when the config does not say: the pinned
// Node runtime (engine/runtime/...) when it was installed, else `node`; the
// worker script beside the installation. `exe_dir` is the gateway binary's folder.
WorkerSettings DefaultWorkerSettings(const std::string& node, const std::string& worker);

class WorkerEngineFactory final : public EngineFactory {
 public:
  explicit WorkerEngineFactory(WorkerSettings settings) : settings_(std::move(settings)) {}
  std::unique_ptr<Engine> Create(const LoadSpec& spec, boost::asio::io_context& io,
                                 EngineListener* listener) override;

 private:
  WorkerSettings settings_;
};

// Shared by the engines that run a child process: spawns argv with the given
// descriptors (child fd -> parent fd; -1 parent = /dev/null), closing every
// other descriptor above 2 in the child. Returns the pid, or -1 with *error set.
int SpawnProcess(const std::vector<std::string>& argv, const std::vector<std::pair<int, int>>& fds,
                 std::string* error);

// Physical cores of this machine (threads: 0).
unsigned PhysicalCores();

}  // namespace sy::local
