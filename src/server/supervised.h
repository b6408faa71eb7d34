// Long-lived loops (a worker's accept loop and deadline sweep) run under
// supervision: if one ends with an exception it is logged and started again,
// never lost silently. A loop that keeps failing (more than max_restarts
// within `window`) makes the process exit non-zero, so that a service
// manager restarts it: a gateway that no longer accepts, or no longer
// enforces timeouts, must not stay up looking healthy.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

namespace sy {

struct RestartPolicy {
  std::chrono::milliseconds pause{100};    // before a restart
  int max_restarts = 10;                    // within `window`
  std::chrono::milliseconds window{60000};
  // Called when the loop failed too often; the default logs and exits the
  // process with status 70 (EX_SOFTWARE).
  std::function<void(const std::string& name)> give_up;
};

// Runs make()'s coroutine on io. A normal return ends supervision.
void SpawnSupervised(boost::asio::io_context& io, std::string name,
                     std::function<boost::asio::awaitable<void>()> make, RestartPolicy policy = {});

}  // namespace sy
