#include "server/supervised.h"

#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.h"

namespace sy {
namespace {

namespace asio = boost::asio;

struct Supervision {
  asio::io_context& io;
  std::string name;
  std::function<asio::awaitable<void>()> make;
  RestartPolicy policy;
  std::deque<std::chrono::steady_clock::time_point> restarts;
};

void Start(const std::shared_ptr<Supervision>& s) {
  asio::co_spawn(s->io, s->make(), [s](std::exception_ptr e) {
    if (!e) return;
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    const auto now = std::chrono::steady_clock::now();
    while (!s->restarts.empty() && now - s->restarts.front() > s->policy.window) s->restarts.pop_front();
    if (static_cast<int>(s->restarts.size()) >= s->policy.max_restarts) {
      log::Error(s->name, ": failed ", s->restarts.size() + 1, " times within ",
                 s->policy.window.count() / 1000, " s (last: ", what, "); giving up");
      if (s->policy.give_up) {
        s->policy.give_up(s->name);
      } else {
        std::_Exit(70);
      }
      return;
    }
    s->restarts.push_back(now);
    log::Error(s->name, ": unexpected exception: ", what, "; restarting");
    auto timer = std::make_shared<asio::steady_timer>(s->io, s->policy.pause);
    timer->async_wait([s, timer](boost::system::error_code ec) {
      if (!ec) Start(s);
    });
  });
}

}  // namespace

void SpawnSupervised(asio::io_context& io, std::string name, std::function<asio::awaitable<void>()> make,
                     RestartPolicy policy) {
  auto s = std::make_shared<Supervision>(Supervision{io, std::move(name), std::move(make), std::move(policy), {}});
  Start(s);
}

}  // namespace sy
