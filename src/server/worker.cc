#include "server/worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "server/http_session.h"
#include "server/supervised.h"

namespace sy {

namespace asio = boost::asio;
using boost::system::error_code;

Worker::Worker(Gateway& gateway, std::unique_ptr<upstream::HttpClient> http)
    : gateway_(gateway), work_(io_.get_executor()), acceptor_(io_), http_(std::move(http)) {}

Worker::~Worker() {
  Stop();
  Join();
}

error_code Worker::Listen(const asio::ip::tcp::endpoint& endpoint) {
  error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return ec;
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  int one = 1;
  if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return error_code(errno, boost::system::system_category());
  }
  acceptor_.bind(endpoint, ec);
  if (ec) return ec;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  return ec;
}

uint16_t Worker::port() const {
  error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Worker::Start() {
  // Supervised: a loop that throws is logged and restarted (or, failing
  // again and again, the process exits for its supervisor to restart it).
  SpawnSupervised(io_, "accept loop", [this] { return AcceptLoop(); });
  SpawnSupervised(io_, "deadline sweep", [this] { return SweepLoop(); });
  thread_ = std::thread([this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        log::Error("worker: unexpected exception: ", e.what());
      }
    }
  });
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::Stop() { io_.stop(); }

void Worker::BeginDrain() {
  asio::post(io_, [this] {
    draining_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    for (auto* conn : connections_) {
      if (conn->idle) conn->socket.cancel(ignored);
    }
  });
}

asio::awaitable<void> Worker::SweepLoop() {
  asio::steady_timer timer(io_);
  for (;;) {
    timer.expires_after(kSweepInterval);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const auto now = ClientConnection::Clock::now();
    for (auto* conn : connections_) {
      if (conn->deadline <= now) {
        conn->timed_out = true;
        conn->NoDeadline();
        conn->socket.cancel(ec);
      }
    }
  }
}

asio::awaitable<void> Worker::AcceptLoop() {
  for (;;) {
    error_code ec;
    asio::ip::tcp::socket socket(io_);
    co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        // Out of file descriptors: back off briefly instead of spinning.
        log::Warn("accept: ", ec.message());
        asio::steady_timer timer(io_, std::chrono::milliseconds(50));
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      continue;
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    asio::co_spawn(io_, RunSession(std::move(socket), *this), asio::detached);
  }
}

}  // namespace sy
