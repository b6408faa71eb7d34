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
#include <boost/beast/core/tcp_stream.hpp>

#include "server/gateway.h"
#include "upstream/http_client.h"

namespace sy {

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
  void MarkIdle(boost::beast::tcp_stream* s) { idle_.insert(s); }
  void MarkBusy(boost::beast::tcp_stream* s) { idle_.erase(s); }
  bool draining() const { return draining_; }

 private:
  boost::asio::awaitable<void> AcceptLoop();

  Gateway& gateway_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<upstream::HttpClient> http_;
  std::thread thread_;
  std::atomic<size_t> sessions_{0};
  std::unordered_set<boost::beast::tcp_stream*> idle_;  // waiting for their next request
  bool draining_ = false;  // only touched on this worker's thread
};

}  // namespace sy
