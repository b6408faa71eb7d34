#include "upstream/upstream_connection.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/connect.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

namespace sy::upstream {
namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using net::ip::tcp;

namespace {

constexpr uint32_t kTunnelHeaderLimit = 16 * 1024;

auto Redirect(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

}  // namespace

// A DNS lookup the coroutine can stop waiting for. getaddrinfo cannot be
// interrupted, so on timeout or cancel we abandon the lookup; it finishes in
// the background and frees this state.
struct Connection::ResolveWait {
  explicit ResolveWait(const net::any_io_executor& ex) : resolver(ex), wake(ex) {}
  tcp::resolver resolver;
  net::steady_timer wake;
  bool done = false;
  error_code ec;
  tcp::resolver::results_type results;
};

Connection::Connection(net::any_io_executor ex) : socket_(ex), timer_(ex) {}

void Connection::Close() {
  error_code ignored;
  socket_.close(ignored);
  if (resolving_) resolving_->wake.cancel();
}

void Connection::Watch(Clock::time_point deadline) {
  deadline_ = deadline;
  watching_ = true;
  if (!timer_armed_ || deadline < timer_.expiry()) ArmTimer(deadline);
}

void Connection::Disarm() {
  watching_ = false;
  if (timer_armed_) {
    timer_armed_ = false;
    timer_.cancel();
  }
}

void Connection::ArmTimer(Clock::time_point at) {
  timer_armed_ = true;
  timer_.expires_at(at);  // cancels an earlier wait; its handler sees operation_aborted
  timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
    if (ec == net::error::operation_aborted) return;
    if (auto self = weak.lock()) self->OnTimer();
  });
}

void Connection::OnTimer() {
  Clock::time_point now = Clock::now();
  if (now < timer_.expiry()) return;  // a completion queued before a re-arm: stale
  timer_armed_ = false;
  if (!watching_) return;
  if (now >= deadline_) {
    timed_out_ = true;
    Close();
    return;
  }
  ArmTimer(deadline_);
}

bool Connection::LooksReusable() const {
  if (!socket_.is_open()) return false;
  char byte;
  ssize_t n = ::recv(const_cast<tcp::socket&>(socket_).native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  return false;  // 0: the peer closed it; >0: bytes nobody asked for
}

HttpError Connection::StepError(HttpErrorKind kind, Cancellation* cancel, const std::string& stage,
                                std::string_view detail) const {
  if (cancel && cancel->cancelled()) return {HttpErrorKind::kCancelled, "request cancelled"};
  if (timed_out_) {
    return {HttpErrorKind::kTimeout,
            stage + " timed out (connect_timeout " + std::to_string(connect_timeout_.count()) + " ms)"};
  }
  std::string message = stage;
  message += " failed: ";
  message += detail;
  return {kind, std::move(message)};
}

net::awaitable<HttpError> Connection::Open(const ConnectTarget& to, Cancellation* cancel) {
  const Url& target = *to.target;
  const Url& hop = to.proxy ? *to.proxy : target;
  connect_timeout_ = to.connect_timeout;
  Watch(Clock::now() + to.connect_timeout);

  error_code ec;
  std::string stage = to.proxy ? "connect to proxy " + hop.Authority() : "connect to " + hop.Authority();
  net::ip::address address = net::ip::make_address(hop.host, ec);
  if (!ec) {
    co_await socket_.async_connect(tcp::endpoint(address, hop.port), Redirect(ec));
  } else {
    tcp::resolver::results_type results;
    HttpError err = co_await Resolve(hop, cancel, &results);
    if (err) {
      Unwatch();
      co_return err;
    }
    co_await net::async_connect(socket_, results, Redirect(ec));
  }
  if (!ec && (!socket_.is_open() || (cancel && cancel->cancelled()))) ec = net::error::operation_aborted;
  if (ec) {
    Unwatch();
    co_return StepError(HttpErrorKind::kConnect, cancel, stage, ec.message());
  }
  socket_.set_option(tcp::no_delay(true), ec);

  if (to.proxy && target.tls()) {
    HttpError err = co_await Tunnel(*to.proxy, target, cancel);
    if (err) {
      Unwatch();
      co_return err;
    }
  }
  if (target.tls()) {
    HttpError err = co_await Handshake(target, to.tls, cancel);
    if (err) {
      Unwatch();
      co_return err;
    }
  }
  Unwatch();
  co_return HttpError{};
}

net::awaitable<HttpError> Connection::Resolve(const Url& hop, Cancellation* cancel,
                                              tcp::resolver::results_type* out) {
  auto wait = std::make_shared<ResolveWait>(socket_.get_executor());
  wait->wake.expires_at(Clock::time_point::max());
  wait->resolver.async_resolve(hop.host, std::to_string(hop.port), tcp::resolver::numeric_service,
                               [wait](const error_code& ec, tcp::resolver::results_type results) {
                                 wait->ec = ec;
                                 wait->results = std::move(results);
                                 wait->done = true;
                                 wait->wake.cancel();
                               });
  resolving_ = wait;
  error_code ignored;
  co_await wait->wake.async_wait(Redirect(ignored));
  resolving_.reset();
  std::string stage = "resolve " + hop.host;
  if (!wait->done) {  // Close() woke us: cancelled or timed out
    wait->resolver.cancel();
    co_return StepError(HttpErrorKind::kConnect, cancel, stage, "abandoned");
  }
  if (wait->ec || (cancel && cancel->cancelled())) {
    co_return StepError(HttpErrorKind::kConnect, cancel, stage, wait->ec.message());
  }
  *out = std::move(wait->results);
  co_return HttpError{};
}

net::awaitable<HttpError> Connection::Tunnel(const Url& proxy, const Url& target, Cancellation* cancel) {
  const std::string authority = target.Authority();
  std::string& w = write_buffer_;
  w.clear();
  w.append("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ").append(authority).append("\r\n");
  if (!proxy.userinfo.empty()) {
    w.append("Proxy-Authorization: Basic ");
    AppendBase64(proxy.userinfo, &w);
    w.append("\r\n");
  }
  w.append("\r\n");
  const std::string stage = "CONNECT " + authority + " through proxy " + proxy.Authority();

  error_code ec;
  co_await net::async_write(socket_, net::buffer(w), Redirect(ec));
  w.clear();  // it held the proxy credentials
  if (ec) co_return StepError(HttpErrorKind::kConnect, cancel, stage, ec.message());

  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a 2xx answer to CONNECT has no body, whatever its headers say
  parser.header_limit(kTunnelHeaderLimit);
  co_await http::async_read_header(socket_, buffer_, parser, Redirect(ec));
  if (ec) co_return StepError(HttpErrorKind::kConnect, cancel, stage, ec.message());
  const unsigned status = parser.get().result_int();
  if (status / 100 != 2) {
    co_return HttpError{HttpErrorKind::kConnect,
                        stage + " refused: the proxy answered HTTP " + std::to_string(status)};
  }
  if (buffer_.size() != 0) {
    co_return HttpError{HttpErrorKind::kProtocol, stage + ": the proxy sent bytes after its 2xx answer"};
  }
  co_return HttpError{};
}

net::awaitable<HttpError> Connection::Handshake(const Url& target, net::ssl::context* ctx, Cancellation* cancel) {
  const std::string stage = "TLS handshake with " + target.Authority();
  tls_.emplace(socket_, *ctx);
  SSL* ssl = tls_->native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  error_code ec;
  net::ip::make_address(target.host, ec);
  bool ok;
  if (!ec) {  // IP literal: no SNI; the certificate must name the address
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, target.host.c_str()) == 1;
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = SSL_set_tlsext_host_name(ssl, const_cast<char*>(target.host.c_str())) == 1 &&
         X509_VERIFY_PARAM_set1_host(param, target.host.c_str(), target.host.size()) == 1;
  }
  if (!ok) co_return HttpError{HttpErrorKind::kTls, stage + " failed: cannot set the expected host name"};

  co_await tls_->async_handshake(net::ssl::stream_base::client, Redirect(ec));
  if (!ec && (cancel && cancel->cancelled())) ec = net::error::operation_aborted;
  if (ec) {
    long verify = SSL_get_verify_result(ssl);
    std::string detail = verify != X509_V_OK
                             ? std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify)
                             : ec.message();
    co_return StepError(HttpErrorKind::kTls, cancel, stage, detail);
  }
  co_return HttpError{};
}

void AppendBase64(std::string_view text, std::string* out) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(text[k])); };
  for (; i + 3 <= text.size(); i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
    out->push_back(kAlphabet[v & 63]);
  }
  size_t rest = text.size() - i;
  if (rest == 0) return;
  unsigned v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
  out->push_back(kAlphabet[(v >> 18) & 63]);
  out->push_back(kAlphabet[(v >> 12) & 63]);
  out->push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
  out->push_back('=');
}

HttpError ExchangeError(const error_code& ec, const Connection& conn, Cancellation* cancel, const std::string& peer,
                        std::chrono::milliseconds read_timeout) {
  if (cancel && cancel->cancelled()) return {HttpErrorKind::kCancelled, "request cancelled"};
  if (conn.timed_out()) {
    return {HttpErrorKind::kTimeout,
            "no data from " + peer + " for " + std::to_string(read_timeout.count()) + " ms (read_timeout)"};
  }
  if (ec == http::error::end_of_stream) {
    return {HttpErrorKind::kClosed, peer + " closed the connection without answering"};
  }
  if (ec == http::error::partial_message || ec == net::error::eof || ec == net::error::connection_reset ||
      ec == net::error::broken_pipe || ec == net::error::connection_aborted ||
      ec == net::ssl::error::stream_truncated || ec == net::error::operation_aborted ||
      ec == net::error::bad_descriptor) {
    return {HttpErrorKind::kClosed, peer + " closed the connection mid-response (" + ec.message() + ")"};
  }
  if (&ec.category() == &http::make_error_code(http::error::end_of_stream).category()) {
    return {HttpErrorKind::kProtocol, "invalid HTTP response from " + peer + ": " + ec.message()};
  }
  return {HttpErrorKind::kClosed, "connection to " + peer + " failed: " + ec.message()};
}

}  // namespace sy::upstream
