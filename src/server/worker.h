// One worker thread: an io_context, its own listening socket (SO_REUSEPORT),
// its own upstream client and connection pools. Nothing here is shared with
// other workers except the Gateway, so the request path takes no locks.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <unordered_set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/gateway.h"
#include "upstream/http_client.h"

namespace sy {

// One client connection's socket and deadline. Its worker knows every one, so
// a single coarse sweep enforces all client timeouts (no timer is armed per
// read or write) and draining can close the idle ones.
struct ClientConnection {
  using Clock = std::chrono::steady_clock;
  explicit ClientConnection(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {}

  // The pending operation is cancelled once `d` has passed (give or take the
  // sweep interval) and timed_out is set.
  void ExpireIn(std::chrono::nanoseconds d) { deadline = Clock::now() + d; }
  void NoDeadline() { deadline = Clock::time_point::max(); }

  boost::asio::ip::tcp::socket socket;
  Clock::time_point deadline = Clock::time_point::max();
  bool idle = false;       // waiting for the next request on a kept-alive connection
  bool timed_out = false;  // the sweep cancelled an operation
};

class Worker {
 public:
  Worker(Gateway& gateway, std::unique_ptr<upstream::HttpClient> http);
  ~Worker();

  boost::asio::io_context& io() { return io_; }
  Gateway& gateway() { return gateway_; }
  upstream::HttpClient& http() { return *http_; }
  // REQUIRES: called before Start(). The client is built on this worker's executor.
  void SetHttpClient(std::unique_ptr<upstream::HttpClient> http) { http_ = std::move(http); }

  // Opens the listening socket. REQUIRES: called before Start().
  boost::system::error_code Listen(const boost::asio::ip::tcp::endpoint& endpoint);
  uint16_t port() const;

  void Start();  // runs the io_context on a new thread
  void Join();
  void Stop();   // stops the io_context at once (abandons what is in flight)

  // Graceful shutdown, callable from any thread: stops accepting and closes
  // idle keep-alive connections; busy ones close after their response.
  void BeginDrain();
  size_t sessions() const { return sessions_.load(); }

  // Session bookkeeping; only called on this worker's thread.
  void SessionStarted() { sessions_.fetch_add(1); }
  void SessionEnded() { sessions_.fetch_sub(1); }
  void Register(ClientConnection* c) { connections_.insert(c); }
  void Unregister(ClientConnection* c) { connections_.erase(c); }
  bool draining() const { return draining_; }

  // How often deadlines are checked: timeouts fire up to this much late.
  static constexpr std::chrono::milliseconds kSweepInterval{200};

 private:
  boost::asio::awaitable<void> AcceptLoop();
  boost::asio::awaitable<void> SweepLoop();

  Gateway& gateway_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<upstream::HttpClient> http_;
  std::thread thread_;
  std::atomic<size_t> sessions_{0};
  std::unordered_set<ClientConnection*> connections_;  // every open client connection
  bool draining_ = false;  // only touched on this worker's thread
};

}  // namespace sy
