#include "server/http_session.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "common/cidr.h"
#include "common/log.h"
#include "server/access_log.h"
#include "server/chat_socket.h"
#include "server/chunked_decoder.h"
#include "server/client_sink.h"
#include "server/request_framing.h"
#include "server/request_id.h"
#include "server/worker.h"

namespace sy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using Clock = ClientConnection::Clock;

constexpr size_t kFirstReadBytes = 2048;
constexpr size_t kHeaderReadBytes = 4096;
constexpr size_t kBodyReadBytes = 64 * 1024;
// Input a connection may hold beyond a full header block (a body read, a
// chunk-size line, pipelined requests): its buffer never grows past
// max_header_bytes + this.
constexpr size_t kBufferSlackBytes = 64 * 1024;
// Lingering close, as nginx: after an error that ends the connection, input
// is read and thrown away for up to kLingerTime, and stops once none has come
// for kLingerTimeout; the client then reads our answer instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(30);
constexpr auto kLingerTimeout = std::chrono::seconds(5);
constexpr size_t kWatchReadBytes = 1024;

// What a connection does after a request.
enum class Next {
  kKeepAlive,  // read the next request
  kClose,      // close now (the client went away, timed out, or asked)
  kLinger,     // an error was answered while input may still be arriving: lingering close
};

struct Session {
  ClientConnection& conn;
  Worker& worker;
  beast::flat_buffer buffer;
  asio::ip::address peer;
};

std::string_view BufferView(const beast::flat_buffer& b) {
  return {static_cast<const char*>(b.data().data()), b.size()};
}

// Watches the client socket while a request is upstream: a read that ends in
// EOF or an error means the client went away, and the request's Cancellation
// fires so the upstream call is dropped at once. Bytes that do arrive (the
// client's next request, pipelined) are kept in the session's buffer, and the
// watch goes on for the whole life of the request; it stops only when the
// buffer is full.
struct DisconnectWatch {
  Cancellation* cancel = nullptr;
  bool active = true;
};

void WatchForDisconnect(asio::ip::tcp::socket& socket, beast::flat_buffer& buffer,
                        const std::shared_ptr<DisconnectWatch>& watch) {
  const size_t room = std::min(kWatchReadBytes, buffer.max_size() - buffer.size());
  if (room == 0) return;
  socket.async_read_some(buffer.prepare(room), [&socket, &buffer, watch](error_code ec, size_t n) {
    // Bytes read are kept even when the request is over: StopWatching lets
    // this handler run before the session touches the buffer again.
    buffer.commit(n);
    if (!watch->active) return;
    if (ec) {
      watch->cancel->Cancel();
      return;
    }
    WatchForDisconnect(socket, buffer, watch);
  });
}

asio::awaitable<void> StopWatching(Session& s, const std::shared_ptr<DisconnectWatch>& watch) {
  watch->active = false;
  error_code ignored;
  s.conn.socket.cancel(ignored);
  // The cancelled (or already completed) read's handler is queued now; one
  // trip through the queue lets it run and commit what it read.
  auto executor = s.worker.io().get_executor();
  co_await asio::post(executor, asio::use_awaitable);
}

std::string ClientText(const Session& s, std::string_view forwarded_for) {
  return net::ClientAddress(s.peer, forwarded_for, s.worker.gateway().trusted_proxies()).to_string();
}

void LogAccess(const Session& s, std::string_view request_id, std::string_view forwarded_for, std::string_view method,
               std::string_view target, int status, Clock::time_point started, bool client_closed) {
  if (!s.worker.gateway().config().server.access_log) return;
  const std::string client = ClientText(s, forwarded_for);
  AccessRecord r;
  r.request_id = request_id;
  r.client = client;
  r.method = method.empty() ? "-" : method;
  r.target = target.empty() ? "-" : target;
  r.status = status;
  r.millis = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  r.client_closed = client_closed;
  log::Info(FormatAccessLine(r));
}

// Answers a request that cannot be served with an error, Connection: close.
// Returns kLinger: the caller then drains the input before closing.
// (Callers pass named values only: GCC 12 destroys temporaries that live
// across a co_await twice.)
asio::awaitable<Next> Reject(Session& s, const GatewayError& error, std::string_view request_id,
                             std::string_view method, std::string_view target, Clock::time_point started) {
  const auto& cfg = s.worker.gateway().config().server;
  ClientSink sink(s.conn, /*keep_alive=*/false, std::chrono::seconds(cfg.write_timeout_s), request_id);
  const WireProtocol protocol = MatchRoute(method, target).protocol;  // the shape the client reads
  co_await Gateway::SendError(sink, error, protocol);
  LogAccess(s, request_id, {}, method, target, sink.status(), started, false);
  co_return Next::kLinger;
}

GatewayError BodyTooLarge(const config::ServerConfig& cfg) {
  return MakeError(ErrorCode::kPayloadTooLarge,
                   "Request body exceeds the limit of " + std::to_string(cfg.max_body_bytes) + " bytes.");
}

// Throws away input until the client closes, goes quiet for kLingerTimeout,
// or kLingerTime has passed; the caller then closes. Half-closes first so the
// client sees the end of our response.
asio::awaitable<void> LingerAndClose(Session& s) {
  error_code ec;
  s.conn.socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  s.buffer.clear();
  const auto until = Clock::now() + kLingerTime;
  std::array<char, 4096> scratch;
  for (;;) {
    const auto left = until - Clock::now();
    if (left <= Clock::duration::zero() || s.worker.draining()) break;
    s.conn.ExpireIn(std::min<Clock::duration>(kLingerTimeout, left));
    co_await s.conn.socket.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  s.conn.NoDeadline();
}

// Why a read of request bytes stopped without a request.
enum class ReadEnd { kOk, kGone, kTimedOut };

ReadEnd ReadFailure(const Session& s, const error_code& ec) {
  if (!ec) return ReadEnd::kOk;
  return s.conn.timed_out ? ReadEnd::kTimedOut : ReadEnd::kGone;
}

// Reads until one request's header block is in the buffer. *length is its
// size, or 0 with *reject set when it must be refused.
asio::awaitable<ReadEnd> ReadHeaderBlock(Session& s, size_t* length, std::optional<GatewayError>* reject) {
  const auto& cfg = s.worker.gateway().config().server;
  HeaderBlockScanner scanner;
  *length = 0;
  for (;;) {
    std::string_view data = BufferView(s.buffer);
    if (scanner.scanned() == 0) {
      if (size_t skip = LeadingEmptyLines(data); skip > 0) {
        s.buffer.consume(skip);
        continue;
      }
    }
    const auto result = scanner.Scan(data);
    if (result == HeaderBlockScanner::Result::kComplete) {
      if (scanner.length() > cfg.max_header_bytes) break;
      *length = scanner.length();
      co_return ReadEnd::kOk;
    }
    if (result != HeaderBlockScanner::Result::kNeedMore) {
      std::string why = result == HeaderBlockScanner::Result::kObsFold ? "a header line is folded (obs-fold)"
                        : result == HeaderBlockScanner::Result::kNul   ? "a NUL byte in the header block"
                                                                       : "a line does not end in CRLF";
      *reject = MakeError(ErrorCode::kBadRequest, "Malformed HTTP request: " + why + ".");
      co_return ReadEnd::kOk;
    }
    if (data.size() >= cfg.max_header_bytes) break;
    const size_t room = std::min(kHeaderReadBytes, s.buffer.max_size() - s.buffer.size());
    error_code ec;
    size_t n = co_await s.conn.socket.async_read_some(s.buffer.prepare(room),
                                                      asio::redirect_error(asio::use_awaitable, ec));
    s.buffer.commit(n);
    if (ec) co_return ReadFailure(s, ec);
  }
  *reject = MakeError(ErrorCode::kHeadersTooLarge,
                      "Request headers exceed " + std::to_string(cfg.max_header_bytes) + " bytes.");
  co_return ReadEnd::kOk;
}

using RequestParser = http::request_parser<http::empty_body>;

// Reads the request body into *body: exactly Content-Length bytes, or a
// chunked body through ChunkedDecoder (every line bounded). Beast parses only
// the head. On a framing error or a body over the limit, *reject is set.
asio::awaitable<ReadEnd> ReadBody(Session& s, const RequestParser& parser, std::string* body,
                                  std::optional<GatewayError>* reject) {
  const auto& cfg = s.worker.gateway().config().server;
  error_code ec;
  if (!parser.chunked()) {
    const uint64_t length = parser.content_length().value_or(0);  // <= max_body_bytes: checked with the head
    body->resize(static_cast<size_t>(length));
    size_t have = std::min<size_t>(s.buffer.size(), body->size());
    std::memcpy(body->data(), s.buffer.data().data(), have);
    s.buffer.consume(have);
    while (have < body->size()) {
      // Straight into the body: no copy through the connection buffer.
      const size_t want = std::min(kBodyReadBytes * 4, body->size() - have);
      size_t n = co_await s.conn.socket.async_read_some(asio::buffer(body->data() + have, want),
                                                        asio::redirect_error(asio::use_awaitable, ec));
      have += n;
      if (ec) co_return ReadFailure(s, ec);
    }
    co_return ReadEnd::kOk;
  }
  ChunkedDecoder decoder(cfg.max_body_bytes);
  for (;;) {
    if (s.buffer.size() > 0) {
      size_t used = 0;
      const auto status = decoder.Feed(BufferView(s.buffer), &used, body);
      s.buffer.consume(used);
      if (status == ChunkedDecoder::Status::kDone) co_return ReadEnd::kOk;
      if (status == ChunkedDecoder::Status::kTooLarge) {
        *reject = BodyTooLarge(cfg);
        co_return ReadEnd::kOk;
      }
      if (status == ChunkedDecoder::Status::kBad) {
        *reject = MakeError(ErrorCode::kBadRequest,
                            "Malformed chunked request body: " + std::string(decoder.error()) + ".");
        co_return ReadEnd::kOk;
      }
    }
    const size_t room = std::min(kBodyReadBytes, s.buffer.max_size() - s.buffer.size());
    size_t n = co_await s.conn.socket.async_read_some(s.buffer.prepare(room),
                                                      asio::redirect_error(asio::use_awaitable, ec));
    s.buffer.commit(n);
    if (ec) co_return ReadFailure(s, ec);
  }
}

// Reads one request and answers it.
asio::awaitable<Next> ServeOne(Session& s) {
  const auto& cfg = s.worker.gateway().config().server;
  const auto write_timeout = std::chrono::seconds(cfg.write_timeout_s);
  const auto started = Clock::now();
  std::optional<GatewayError> reject;

  // 1. The header block, checked byte by byte before Beast parses it.
  s.conn.ExpireIn(std::chrono::seconds(cfg.header_timeout_s));
  size_t header_length = 0;
  const ReadEnd header_end = co_await ReadHeaderBlock(s, &header_length, &reject);
  s.conn.NoDeadline();
  if (header_end != ReadEnd::kOk) co_return Next::kClose;  // gone, or too slow: no answer
  if (reject) {
    const std::string id = NewRequestId();
    co_return co_await Reject(s, *reject, id, {}, {}, started);
  }

  // 2. Parse it, and refuse framings that could smuggle a request.
  RequestParser parser;
  parser.header_limit(cfg.max_header_bytes);
  parser.body_limit(cfg.max_body_bytes);
  error_code ec;
  parser.put(asio::buffer(s.buffer.data().data(), header_length), ec);
  s.buffer.consume(header_length);
  if (ec == http::error::need_more && !parser.is_header_done()) ec = http::error::partial_message;
  if (ec == http::error::need_more) ec = {};
  if (ec) {
    const std::string id = NewRequestId();
    const GatewayError error =
        ec == http::error::body_limit
            ? BodyTooLarge(cfg)
            : MakeError(ErrorCode::kBadRequest, "Malformed HTTP request: " + ec.message() + ".");
    co_return co_await Reject(s, error, id, {}, {}, started);
  }
  auto& msg = parser.get();
  const HeadFields fields = ReadHeadFields(msg.base());
  const std::string request_id = RequestIdFor(fields.request_id);
  // Several X-Forwarded-For fields are one list, in order.
  std::string forwarded_joined;
  std::string_view forwarded_for = fields.forwarded_for;
  if (fields.forwarded_for_count > 1) {
    auto [first, last] = msg.equal_range("x-forwarded-for");
    for (auto it = first; it != last; ++it) {
      if (!forwarded_joined.empty()) forwarded_joined += ',';
      forwarded_joined += it->value();
    }
    forwarded_for = forwarded_joined;
  }
  if (std::string_view bad = CheckFraming(msg.base(), fields); !bad.empty()) {
    const GatewayError error = MakeError(ErrorCode::kBadRequest, std::string(bad));
    co_return co_await Reject(s, error, request_id, msg.method_string(), msg.target(), started);
  }

  // 3. Admission on the head alone: an unknown endpoint or a wrong key is
  // answered before any body byte is read (and without 100 Continue).
  GatewayRequest request{msg.method_string(), msg.target(),       msg[http::field::authorization],
                         msg["x-api-key"],     {},                 msg["x-goog-api-key"],
                         msg["anthropic-version"], msg["anthropic-beta"], msg["x-management-key"], {}};
  // The address is worked out only when a per-address limit needs it.
  const std::string client_ip =
      s.worker.gateway().governance().limits_addresses() ? ClientText(s, forwarded_for) : std::string();
  request.client_ip = client_ip;
  const Admission admission = s.worker.gateway().Admit(request);
  const bool body_pending = !parser.is_done();
  bool keep_alive = msg.keep_alive() && !s.worker.draining();
  if (admission.error) {
    ClientSink sink(s.conn, keep_alive && !body_pending, write_timeout, request_id);
    co_await Gateway::SendError(sink, *admission.error, admission.route.protocol);
    LogAccess(s, request_id, forwarded_for, request.method, request.target, sink.status(), started, false);
    if (sink.keep_alive()) co_return Next::kKeepAlive;
    co_return body_pending ? Next::kLinger : Next::kClose;
  }

  // WS /chat/ws: the connection becomes a WebSocket.
  if (admission.route.endpoint == Endpoint::kChatSocket) {
    if (beast::websocket::is_upgrade(msg) && !body_pending) {
      co_await ServeChatSocket(s.conn, s.worker, msg, admission, request_id);
      LogAccess(s, request_id, forwarded_for, request.method, request.target, 101, started, false);
      co_return Next::kClose;
    }
    ClientSink sink(s.conn, false, write_timeout, request_id);
    const GatewayError error = MakeError(ErrorCode::kBadRequest, "/chat/ws is a WebSocket endpoint: send an Upgrade: websocket request.");
    co_await Gateway::SendError(sink, error, admission.route.protocol);
    LogAccess(s, request_id, forwarded_for, request.method, request.target, sink.status(), started, false);
    co_return body_pending ? Next::kLinger : Next::kClose;
  }

  // 4. The body.
  std::string body;
  if (body_pending) {
    if (beast::iequals(msg[http::field::expect], "100-continue") && s.buffer.size() == 0) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      s.conn.ExpireIn(write_timeout);
      co_await asio::async_write(s.conn.socket, asio::buffer(kContinue), asio::redirect_error(asio::use_awaitable, ec));
      s.conn.NoDeadline();
      if (ec) co_return Next::kClose;
    }
    s.conn.ExpireIn(std::chrono::seconds(cfg.body_timeout_s));
    const ReadEnd body_end = co_await ReadBody(s, parser, &body, &reject);
    s.conn.NoDeadline();
    if (body_end == ReadEnd::kGone) co_return Next::kClose;
    if (body_end == ReadEnd::kTimedOut) {
      s.conn.timed_out = false;
      reject = MakeError(ErrorCode::kRequestTimeout,
                         "Request body not received within " + std::to_string(cfg.body_timeout_s) + " s.");
      ClientSink sink(s.conn, false, write_timeout, request_id);
      co_await Gateway::SendError(sink, *reject, admission.route.protocol);
      LogAccess(s, request_id, forwarded_for, request.method, request.target, sink.status(), started, false);
      co_return Next::kClose;
    }
    if (reject) {
      co_return co_await Reject(s, *reject, request_id, request.method,
                                request.target, started);
    }
  }
  request.body = std::move(body);

  // 5. The answer.
  keep_alive = keep_alive && !s.worker.draining();
  ClientSink sink(s.conn, keep_alive, write_timeout, request_id);
  Cancellation cancel;
  std::shared_ptr<DisconnectWatch> watch;
  RequestContext ctx;
  ctx.http = &s.worker.http();
  ctx.cancel = &cancel;
  ctx.request_id = request_id;
  ctx.request_id_minted = request_id != fields.request_id;
  ctx.watch_client = [&] {
    watch = std::make_shared<DisconnectWatch>();
    watch->cancel = &cancel;
    WatchForDisconnect(s.conn.socket, s.buffer, watch);
  };
  co_await s.worker.gateway().Handle(request, admission, sink, ctx);
  if (watch) co_await StopWatching(s, watch);
  LogAccess(s, request_id, forwarded_for, request.method, request.target, sink.status(), started, cancel.cancelled());
  co_return sink.keep_alive() && !cancel.cancelled() ? Next::kKeepAlive : Next::kClose;
}

// At most one warning a second per worker about connections over the cap.
void WarnOverCap(Worker& worker) {
  thread_local Clock::time_point last_warning{};
  const auto now = Clock::now();
  if (now - last_warning < std::chrono::seconds(1)) return;
  last_warning = now;
  const auto& gauge = worker.gateway().connections();
  log::Warn("server.max_connections (", gauge.max(), ") reached: closing new connections (",
            gauge.rejected(), " so far)");
}

}  // namespace

asio::awaitable<void> RunSession(asio::ip::tcp::socket socket, Worker& worker) {
  error_code ec;
  ConnectionGauge& gauge = worker.gateway().connections();
  if (!gauge.TryAcquire()) {
    WarnOverCap(worker);
    socket.close(ec);
    co_return;
  }
  const auto& cfg = worker.gateway().config().server;
  worker.SessionStarted();
  ClientConnection conn(std::move(socket));
  worker.Register(&conn);
  Session s{conn, worker, beast::flat_buffer(cfg.max_header_bytes + kBufferSlackBytes), {}};
  auto peer = conn.socket.remote_endpoint(ec);
  if (!ec) s.peer = peer.address();
  const auto idle_timeout = std::chrono::seconds(cfg.idle_timeout_s);
  try {
    for (;;) {
      if (s.buffer.size() == 0) {
        // Idle: wait for the first bytes of the next request.
        if (worker.draining()) break;
        conn.idle = true;
        conn.ExpireIn(idle_timeout);
        size_t n = co_await conn.socket.async_read_some(s.buffer.prepare(kFirstReadBytes),
                                                        asio::redirect_error(asio::use_awaitable, ec));
        conn.idle = false;
        conn.NoDeadline();
        if (ec) break;
        s.buffer.commit(n);
      }
      const Next next = co_await ServeOne(s);
      if (next == Next::kLinger) {
        co_await LingerAndClose(s);
        break;
      }
      if (next == Next::kClose || worker.draining()) break;
      if (s.buffer.size() == 0 && s.buffer.capacity() > 16 * 1024) s.buffer.shrink_to_fit();
    }
  } catch (const std::exception& e) {
    log::Error("session: unexpected exception: ", e.what());
  }
  conn.socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  conn.socket.close(ec);
  worker.Unregister(&conn);
  worker.SessionEnded();
  gauge.Release();
}

}  // namespace sy
