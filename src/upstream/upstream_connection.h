// One upstream connection of BeastHttpClient: a TCP socket, optionally TLS on
// top (directly or through an HTTP CONNECT tunnel), its read buffer, and a
// watchdog that enforces connect and read deadlines.
//
// Internal to the upstream layer; callers use HttpClient.
//
// Thread-safety: none. A connection lives on one executor and is used by one
// request at a time (owned by its response while busy, by its pool when idle).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "common/cancellation.h"
#include "upstream/http_client.h"
#include "upstream/url.h"

namespace sy::upstream {

using Clock = std::chrono::steady_clock;

// What one connection is opened to. Pointers are borrowed for the call.
struct ConnectTarget {
  const Url* target = nullptr;           // the origin
  const Url* proxy = nullptr;            // HTTP proxy, or null for direct
  boost::asio::ssl::context* tls = nullptr;  // set for https targets
  std::chrono::milliseconds connect_timeout{10000};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(boost::asio::any_io_executor ex);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves, connects, tunnels (https through a proxy) and handshakes (https),
  // all within connect_timeout. REQUIRES: a fresh connection; the watchdog is
  // armed only while this runs. `cancel` may be null.
  boost::asio::awaitable<HttpError> Open(const ConnectTarget& to, Cancellation* cancel);

  // Closes the socket at once: pending operations end with an error. Used by
  // the watchdog, by Cancellation and when the connection is dropped.
  void Close();
  bool is_open() const { return socket_.is_open(); }

  // Arms the watchdog: if still watched at `deadline`, the socket is closed and
  // timed_out() becomes true. Moving a deadline later costs no timer work.
  void Watch(Clock::time_point deadline);
  // Stops watching (the deadline no longer applies; the timer may stay armed).
  void Unwatch() { watching_ = false; }
  // Stops watching and cancels the timer so that an idle connection holds no
  // pending work on the executor.
  void Disarm();
  bool timed_out() const { return timed_out_; }

  // Cheap check of an idle connection: false when the peer closed it, reset it
  // or sent unsolicited bytes. One non-blocking recv(MSG_PEEK).
  bool LooksReusable() const;

  bool tls() const { return tls_.has_value(); }
  boost::asio::ip::tcp::socket& socket() { return socket_; }
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>& tls_stream() { return *tls_; }
  boost::beast::flat_buffer& buffer() { return buffer_; }
  std::string& write_buffer() { return write_buffer_; }

  // Pool bookkeeping.
  bool reused = false;              // served a request before this one
  Clock::time_point idle_since{};

 private:
  struct ResolveWait;
  boost::asio::awaitable<HttpError> Resolve(const Url& hop, Cancellation* cancel,
                                            boost::asio::ip::tcp::resolver::results_type* out);
  boost::asio::awaitable<HttpError> Tunnel(const Url& proxy, const Url& target, Cancellation* cancel);
  boost::asio::awaitable<HttpError> Handshake(const Url& target, boost::asio::ssl::context* ctx,
                                              Cancellation* cancel);
  // Error for a failed step ("<stage> failed: <detail>"), or kCancelled /
  // kTimeout when cancellation or the watchdog caused the failure.
  HttpError StepError(HttpErrorKind kind, Cancellation* cancel, const std::string& stage,
                      std::string_view detail) const;
  void ArmTimer(Clock::time_point at);
  void OnTimer();

  boost::asio::ip::tcp::socket socket_;  // declared before tls_, which refers to it
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  boost::beast::flat_buffer buffer_;     // bytes read but not yet parsed
  std::string write_buffer_;             // request header block, reused
  boost::asio::steady_timer timer_;
  Clock::time_point deadline_{};
  bool watching_ = false;
  bool timer_armed_ = false;
  bool timed_out_ = false;
  std::chrono::milliseconds connect_timeout_{0};  // for messages
  std::shared_ptr<ResolveWait> resolving_;
};

// Appends base64(text) to *out (for Proxy-Authorization: Basic).
void AppendBase64(std::string_view text, std::string* out);

// Maps an I/O error met while exchanging a request/response to an HttpError.
// Cancellation and watchdog timeouts take precedence over `ec`.
HttpError ExchangeError(const boost::system::error_code& ec, const Connection& conn, Cancellation* cancel,
                        const std::string& peer, std::chrono::milliseconds read_timeout);

}  // namespace sy::upstream
