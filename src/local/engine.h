// The engine seam: one Engine is one loaded model in an inference process.
//
// Implementations:
//   WorkerEngine  (worker_engine.h): `node engine/worker.mjs`, the
//                 node-llama-cpp worker, over the NDJSON protocol of
//                 engine/PROTOCOL.md on the worker's fd 3;
//   CommandEngine (command_engine.h): any OpenAI-compatible server started
//                 from a command template (llama.cpp's llama-server...),
//                 driven over loopback HTTP and answering in the same
//                 protocol;
//   FakeEngine    (fake_engine.h): in-process, for tests.
//
// Threading: an Engine and its listener live on the ModelHost's engine
// thread (the io_context handed to the factory). Every method is called
// there and every listener callback comes from there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

namespace sy::local {

// What to load, resolved from the provider's config.
struct LoadSpec {
  std::string model;             // the model's name (file name without .gguf)
  std::string path;              // absolute path of the GGUF file
  uint32_t context_size = 0;     // tokens per sequence; 0 = the file's own
  uint32_t parallel = 1;         // sequences
  uint32_t threads = 1;          // > 0
  std::string device = "cpu";    // auto | cpu | cuda | vulkan
  std::string flash_attention = "auto";  // auto (off on the CPU) | on | off
  bool embedding = false;        // an embedding model
};

// The engine's "ready" message.
struct EngineReady {
  int64_t context_size = 0;
  int64_t train_context_size = 0;
  int64_t parallel = 0;
  std::string wrapper;     // chat wrapper the template resolved to
  bool tools = false;      // the template has a native tool-call syntax
  bool gpu = false;
  std::string flash_attention;  // what the context was created with: on | off | auto (llama.cpp's choice)
  std::string llama_cpp;   // llama.cpp release
  int64_t embedding_size = 0;
};

class EngineListener {
 public:
  virtual ~EngineListener() = default;
  virtual void OnProgress(double fraction) = 0;
  virtual void OnReady(const EngineReady& ready) = 0;
  // One answer line of the protocol (an "ev" other than progress/ready).
  virtual void OnMessage(std::string_view line) = 0;
  // The engine is gone: exited, crashed, killed, or failed to load. Called
  // exactly once, last. `reason` is for the log and for clients (no paths).
  virtual void OnExit(const std::string& reason) = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // Starts the process and the load. Progress, then OnReady or OnExit.
  virtual void Start() = 0;
  // One request line (no line end) of the protocol.
  virtual void Send(std::string line) = 0;
  // Unload: asks the process to end, kills it after a grace period; OnExit follows.
  virtual void Stop() = 0;
  // Kills the process at once; OnExit follows.
  virtual void Kill() = 0;
  // The process id, 0 when there is none (fake).
  virtual int pid() const = 0;
};

class EngineFactory {
 public:
  virtual ~EngineFactory() = default;
  virtual std::unique_ptr<Engine> Create(const LoadSpec& spec, boost::asio::io_context& io,
                                         EngineListener* listener) = 0;
};

}  // namespace sy::local
