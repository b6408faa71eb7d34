#include "server/http_session.h"

#include <array>
#include <chrono>
#include <cstdio>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/log.h"
#include "server/worker.h"

namespace sy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

constexpr size_t kFirstReadBytes = 2048;

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

// Writes a response to the client connection. The status line and headers
// are held back and go out with the first piece of body, so a small response
// costs one write(2).
class ClientSink final : public ResponseSink {
 public:
  ClientSink(ClientConnection& conn, bool keep_alive, std::chrono::seconds write_timeout)
      : conn_(conn), keep_alive_(keep_alive), write_timeout_(write_timeout) {}

  bool keep_alive() const { return keep_alive_ && ok_; }
  int status() const { return status_; }  // 0 until Begin
  bool started() const override { return started_; }

  asio::awaitable<bool> Begin(ResponseHead head) override {
    started_ = true;
    status_ = head.status;
    chunked_ = !head.content_length.has_value();
    head_.reserve(256);
    head_ = "HTTP/1.1 ";
    head_ += std::to_string(head.status);
    head_ += ' ';
    head_ += ReasonPhrase(head.status);
    head_ += "\r\nServer: switchyard\r\nContent-Type: ";
    head_ += head.content_type;
    if (chunked_) {
      head_ += "\r\nTransfer-Encoding: chunked";
    } else {
      head_ += "\r\nContent-Length: ";
      head_ += std::to_string(*head.content_length);
    }
    if (!keep_alive_) head_ += "\r\nConnection: close";
    for (const auto& [name, value] : head.headers) {
      head_ += "\r\n";
      head_ += name;
      head_ += ": ";
      head_ += value;
    }
    head_ += "\r\n\r\n";
    co_return ok_;
  }

  asio::awaitable<bool> Write(std::string_view data) override {
    if (data.empty() || !ok_) co_return ok_;
    std::array<asio::const_buffer, 4> bufs;
    char size_line[24];
    bufs[0] = asio::buffer(head_);
    if (chunked_) {
      int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
      bufs[1] = asio::buffer(size_line, static_cast<size_t>(n));
      bufs[2] = asio::buffer(data);
      bufs[3] = asio::buffer("\r\n", 2);
    } else {
      bufs[1] = asio::buffer(data);
    }
    co_return co_await Send(bufs);
  }

  asio::awaitable<bool> End() override {
    if (!ok_) co_return false;
    std::array<asio::const_buffer, 2> bufs;
    bufs[0] = asio::buffer(head_);
    if (chunked_) bufs[1] = asio::buffer("0\r\n\r\n", 5);
    if (asio::buffer_size(bufs) == 0) co_return true;
    co_return co_await Send(bufs);
  }

  void Abort() override {
    ok_ = false;
    error_code ignored;
    conn_.socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  }

 private:
  // Tries one non-blocking writev first: the kernel's send buffer almost
  // always has room, and then no async operation or write timer is needed.
  // Only what did not fit is written asynchronously, under the write timeout.
  template <typename Buffers>
  asio::awaitable<bool> Send(const Buffers& bufs) {
    error_code ec;
    auto& socket = conn_.socket;
    const size_t total = asio::buffer_size(bufs);
    size_t sent = 0;
    if (!socket.non_blocking()) socket.non_blocking(true, ec);
    if (!ec) sent = socket.write_some(bufs, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
    if (!ec && sent < total) {
      auto rest = beast::buffers_suffix<Buffers>(bufs);
      rest.consume(sent);
      conn_.ExpireIn(write_timeout_);
      co_await asio::async_write(socket, rest, asio::redirect_error(asio::use_awaitable, ec));
      conn_.NoDeadline();
    }
    head_.clear();
    if (ec) ok_ = false;
    co_return ok_;
  }

  ClientConnection& conn_;
  bool keep_alive_;
  std::chrono::seconds write_timeout_;
  bool started_ = false;
  int status_ = 0;
  bool chunked_ = false;
  bool ok_ = true;
  std::string head_;  // status line and headers not yet sent
};

// Watches the client socket while a request is upstream: a read that ends in
// EOF or an error means the client went away, and the request's Cancellation
// fires so the upstream call is dropped at once. Bytes that do arrive (the
// client's next request, pipelined) are kept in the session's buffer.
// A speculative read costs one recv; an async_wait would cost an epoll_ctl.
struct DisconnectWatch {
  Cancellation* cancel = nullptr;
  bool active = true;
};

constexpr size_t kWatchReadBytes = 1024;

void WatchForDisconnect(asio::ip::tcp::socket& socket, beast::flat_buffer& buffer,
                        const std::shared_ptr<DisconnectWatch>& watch) {
  socket.async_read_some(buffer.prepare(kWatchReadBytes), [&buffer, watch](error_code ec, size_t n) {
    if (!watch->active) return;
    if (ec) {
      watch->cancel->Cancel();
      return;
    }
    buffer.commit(n);  // pipelined bytes: the next ServeOne parses them
  });
}

// An error response for a request that could not be read, then close.
asio::awaitable<void> RejectAndClose(ClientConnection& conn, ErrorCode code, std::string message) {
  ClientSink sink(conn, /*keep_alive=*/false, std::chrono::seconds(5));
  GatewayError error{code, std::move(message), std::nullopt, std::nullopt};
  co_await Gateway::SendError(sink, error);
}

// The answer for a request that failed to read, or nullopt when the client
// simply went away (or was too slow) and deserves no answer.
std::optional<std::pair<ErrorCode, std::string>> Rejection(const error_code& ec, const config::ServerConfig& cfg,
                                                           std::string_view malformed_prefix) {
  if (ec == http::error::header_limit) {
    return std::pair{ErrorCode::kHeadersTooLarge,
                     "Request headers exceed " + std::to_string(cfg.max_header_bytes) + " bytes."};
  }
  if (ec == http::error::body_limit) {
    return std::pair{ErrorCode::kPayloadTooLarge,
                     "Request body exceeds the limit of " + std::to_string(cfg.max_body_bytes) + " bytes."};
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == beast::error::timeout ||
      ec == asio::error::eof || ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
    return std::nullopt;
  }
  return std::pair{ErrorCode::kBadRequest, std::string(malformed_prefix) + ec.message()};
}

// Reads one request and answers it. Returns false when the connection must close.
asio::awaitable<bool> ServeOne(ClientConnection& conn, beast::flat_buffer& buffer, Worker& worker) {
  const auto& cfg = worker.gateway().config().server;
  error_code ec;
  http::request_parser<http::string_body> parser;
  parser.header_limit(cfg.max_header_bytes);
  parser.body_limit(cfg.max_body_bytes);

  conn.ExpireIn(std::chrono::seconds(cfg.header_timeout_s));
  co_await http::async_read_header(conn.socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (auto rejection = Rejection(ec, cfg, "Malformed HTTP request: ")) {
      co_await RejectAndClose(conn, rejection->first, std::move(rejection->second));
    }
    co_return false;
  }
  auto& header = parser.get();
  if (beast::iequals(header[http::field::expect], "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    co_await asio::async_write(conn.socket, asio::buffer(kContinue), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
  }
  conn.ExpireIn(std::chrono::seconds(cfg.body_timeout_s));
  co_await http::async_read(conn.socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  conn.NoDeadline();
  if (ec) {
    if (auto rejection = Rejection(ec, cfg, "Malformed HTTP request body: ")) {
      co_await RejectAndClose(conn, rejection->first, std::move(rejection->second));
    }
    co_return false;
  }

  const auto started = ClientConnection::Clock::now();
  auto& msg = parser.get();
  const bool keep_alive = msg.keep_alive() && !worker.draining();
  GatewayRequest request{msg.method_string(), msg.target(), msg[http::field::authorization], msg["x-api-key"],
                         std::move(msg.body())};
  ClientSink sink(conn, keep_alive, std::chrono::seconds(cfg.idle_timeout_s));
  Cancellation cancel;
  std::shared_ptr<DisconnectWatch> watch;
  RequestContext ctx;
  ctx.http = &worker.http();
  ctx.cancel = &cancel;
  ctx.watch_client = [&] {
    watch = std::make_shared<DisconnectWatch>();
    watch->cancel = &cancel;
    WatchForDisconnect(conn.socket, buffer, watch);
  };
  co_await worker.gateway().Handle(request, sink, ctx);
  if (watch) {
    watch->active = false;
    error_code ignored;
    conn.socket.cancel(ignored);
  }
  if (cfg.access_log) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(ClientConnection::Clock::now() - started);
    log::Info("access ", request.method, " ", request.target.substr(0, 200), " ", sink.status(), " ",
              micros.count() / 1000.0, "ms", cancel.cancelled() ? " (client closed)" : "");
  }
  co_return sink.keep_alive() && !cancel.cancelled();
}

}  // namespace

asio::awaitable<void> RunSession(asio::ip::tcp::socket socket, Worker& worker) {
  worker.SessionStarted();
  ClientConnection conn(std::move(socket));
  worker.Register(&conn);
  beast::flat_buffer buffer;
  const auto idle_timeout = std::chrono::seconds(worker.gateway().config().server.idle_timeout_s);
  try {
    for (;;) {
      if (buffer.size() == 0) {
        // Idle: wait for the first bytes of the next request.
        if (worker.draining()) break;
        error_code ec;
        conn.idle = true;
        conn.ExpireIn(idle_timeout);
        size_t n = co_await conn.socket.async_read_some(buffer.prepare(kFirstReadBytes),
                                                        asio::redirect_error(asio::use_awaitable, ec));
        conn.idle = false;
        if (ec) break;
        buffer.commit(n);
      }
      const bool keep_going = co_await ServeOne(conn, buffer, worker);
      if (!keep_going) break;
      if (worker.draining()) break;
      if (buffer.size() == 0 && buffer.capacity() > 16 * 1024) buffer.shrink_to_fit();
    }
  } catch (const std::exception& e) {
    log::Error("session: unexpected exception: ", e.what());
  }
  error_code ignored;
  conn.socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  conn.socket.close(ignored);
  worker.Unregister(&conn);
  worker.SessionEnded();
}

}  // namespace sy
