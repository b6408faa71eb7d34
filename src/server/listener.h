// The server: N workers listening on one address (SO_REUSEPORT spreads
// connections across them), started and shut down together.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "server/gateway.h"
#include "server/worker.h"

namespace sy {

class Server {
 public:
  Server(Gateway& gateway, const config::EnvLookup& env);
  ~Server();

  // Binds every worker to server.listen. Returns an error message, or "".
  std::string Bind();
  uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }

  void Start();
  // Graceful shutdown: stop accepting, let in-flight requests finish for up to
  // server.shutdown_timeout_s, then stop every worker. Blocks until done.
  // Returns true when everything finished within the timeout.
  bool Shutdown();

 private:
  Gateway& gateway_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::string host_;
  uint16_t port_ = 0;
};

}  // namespace sy
