#include "upstream/beast_http_client.h"

#include <openssl/ssl.h>

#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "upstream/upstream_connection.h"

namespace sy::upstream {
namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr size_t kReadSize = 16 * 1024;  // most a body read asks the socket for
constexpr auto kMaxIdleAge = std::chrono::seconds(90);
// A connection idle for less than this is reused without the liveness peek
// (a syscall): servers do not close keep-alive connections that quickly, and
// if one did, the request is retried on a fresh connection anyway.
constexpr auto kPeekAfterIdle = std::chrono::seconds(1);
// Over TLS each buffer of a gather write becomes its own record, so bodies up
// to this size are copied behind the header block and sent as one.
constexpr size_t kTlsInlineBodyLimit = 64 * 1024;
// Parsed routes are cached by URL; a client sending to ever-new URLs (a query
// string per request) just rebuilds the cache now and then.
constexpr size_t kMaxRoutes = 1024;

// A Beast body that appends each decoded body piece to a caller's string:
// no intermediate buffer and no zero-filling. The message's body() is the
// target string, set for the duration of each read.
struct AppendBody {
  using value_type = std::string*;

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, error_code& ec) {
      if (body_ == nullptr) {  // no ReadSome in progress: cannot happen (header reads stop before the body)
        ec = net::error::no_buffer_space;
        return 0;
      }
      ec = {};
      size_t n = 0;
      for (auto b : boost::beast::buffers_range_ref(buffers)) {
        body_->append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      return n;
    }
    void finish(error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

using Parser = http::response_parser<AppendBody>;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    if (x != b[i]) return false;  // b is lower-case
  }
  return true;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':' || c == '(' || c == ')' || c == ',' || c == ';' || c == '"' ||
        c == '/' || c == '[' || c == ']' || c == '{' || c == '}' || c == '\\' || c == '=' || c == '?' || c == '@' ||
        c == '<' || c == '>') {
      return false;
    }
  }
  return true;
}

bool IsFieldValue(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// Errors that mean "the pooled connection was already dead".
bool IsStaleConnectionError(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::connection_aborted ||
         ec == net::ssl::error::stream_truncated;
}

// A cancellation handler that closes one connection; cleared before the
// connection is pooled or dropped.
class CancelRegistration {
 public:
  CancelRegistration() = default;
  CancelRegistration(const CancelRegistration&) = delete;
  CancelRegistration& operator=(const CancelRegistration&) = delete;
  ~CancelRegistration() { Reset(); }

  void Set(Cancellation* cancel, Connection* conn) {
    Reset();
    if (cancel == nullptr) return;
    cancel_ = cancel;
    slot_ = cancel->OnCancel([conn] { conn->Close(); });
  }
  void Reset() {
    if (cancel_) cancel_->Clear(slot_);
    cancel_ = nullptr;
  }

 private:
  Cancellation* cancel_ = nullptr;
  size_t slot_ = 0;
};

// Idle connections for one (scheme, host, port, proxy, ca_file).
struct Pool {
  std::string peer;  // "host:port" of the origin, for messages
  std::vector<std::shared_ptr<Connection>> idle;  // newest last
};

// Everything Send needs about one URL, computed once.
struct Route {
  Url url;
  std::optional<Url> proxy;
  std::shared_ptr<Pool> pool;
  net::ssl::context* tls = nullptr;
  // " <target> HTTP/1.1\r\nHost: <host>\r\n" plus, for absolute form through
  // a proxy with credentials, "Proxy-Authorization: ...\r\n".
  std::string line_tail;
};

}  // namespace

struct BeastHttpClient::Impl {
  Impl(net::any_io_executor e, ProxySettings p) : ex(std::move(e)), proxy(std::move(p)) {}

  // Finds or builds the route for a request; on failure returns null and sets *err.
  std::shared_ptr<const Route> RouteFor(const HttpRequest& request, HttpError* err);
  net::ssl::context* TlsContext(const std::string& ca_file, HttpError* err);
  std::shared_ptr<Connection> TakeIdle(Pool& pool);

  net::any_io_executor ex;
  ProxySettings proxy;
  std::unordered_map<std::string, std::shared_ptr<const Route>> routes;  // by url + '\n' + ca_file
  std::unordered_map<std::string, std::shared_ptr<Pool>> pools;
  std::unordered_map<std::string, std::unique_ptr<net::ssl::context>> tls_contexts;  // by ca_file
  std::string scratch;  // lookup key, reused to avoid allocating
  size_t opened = 0;
};

std::shared_ptr<const Route> BeastHttpClient::Impl::RouteFor(const HttpRequest& request, HttpError* err) {
  scratch.assign(request.url).append("\n").append(request.ca_file);
  if (auto it = routes.find(scratch); it != routes.end()) return it->second;

  std::optional<Url> url = ParseUrl(request.url);
  if (!url) {  // the URL itself may hold a key in its query: do not echo it
    *err = {HttpErrorKind::kBadUrl, "invalid upstream URL (want http[s]://host[:port][/path])"};
    return nullptr;
  }
  auto built = std::make_shared<Route>();
  Route& route = *built;
  route.proxy = proxy.ProxyFor(*url);
  if (route.proxy && route.proxy->tls()) {
    *err = {HttpErrorKind::kConnect, "https:// proxy URLs are not supported; use http:// for the proxy"};
    return nullptr;
  }
  if (url->tls()) {
    route.tls = TlsContext(request.ca_file, err);
    if (route.tls == nullptr) return nullptr;
  }
  std::string pool_key = url->scheme + "://" + url->Authority();
  if (route.proxy) pool_key += " via " + route.proxy->userinfo + "@" + route.proxy->Authority();
  pool_key += " ca " + request.ca_file;
  std::shared_ptr<Pool>& pool = pools[pool_key];
  if (!pool) {
    pool = std::make_shared<Pool>();
    pool->peer = url->Authority();
  }
  route.pool = pool;

  std::string& tail = route.line_tail;
  tail.push_back(' ');
  const bool absolute_form = route.proxy && !url->tls();
  if (absolute_form) tail.append("http://").append(url->HostHeader());
  tail.append(url->Target()).append(" HTTP/1.1\r\nHost: ").append(url->HostHeader()).append("\r\n");
  if (absolute_form && !route.proxy->userinfo.empty()) {
    tail.append("Proxy-Authorization: Basic ");
    AppendBase64(route.proxy->userinfo, &tail);
    tail.append("\r\n");
  }
  route.url = std::move(*url);

  if (routes.size() >= kMaxRoutes) routes.clear();
  routes.emplace(scratch, built);
  return built;
}

net::ssl::context* BeastHttpClient::Impl::TlsContext(const std::string& ca_file, HttpError* err) {
  if (auto it = tls_contexts.find(ca_file); it != tls_contexts.end()) return it->second.get();
  auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_verify_mode(net::ssl::verify_peer);
  error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) {
    *err = {HttpErrorKind::kTls, "cannot load the system CA store: " + ec.message()};
    return nullptr;
  }
  if (!ca_file.empty()) {
    ctx->load_verify_file(ca_file, ec);
    if (ec) {
      *err = {HttpErrorKind::kTls, "cannot load ca_file " + ca_file + ": " + ec.message()};
      return nullptr;
    }
  }
  return tls_contexts.emplace(ca_file, std::move(ctx)).first->second.get();
}

std::shared_ptr<Connection> BeastHttpClient::Impl::TakeIdle(Pool& pool) {
  const Clock::time_point now = Clock::now();
  while (!pool.idle.empty()) {
    std::shared_ptr<Connection> conn = std::move(pool.idle.back());
    pool.idle.pop_back();
    const auto idle = now - conn->idle_since;
    if (idle < kMaxIdleAge && (idle < kPeekAfterIdle || conn->LooksReusable())) return conn;
    conn->Close();
  }
  return nullptr;
}

namespace {

// Serializes the request header block into *out; for TLS, small bodies go
// behind it so that header and body leave in one record.
HttpError SerializeRequest(const HttpRequest& request, const Route& route, bool inline_body, std::string* out) {
  if (!IsToken(request.method)) return {HttpErrorKind::kProtocol, "invalid request method"};
  size_t size = request.method.size() + route.line_tail.size() + 64;
  for (const auto& [name, value] : request.headers) size += name.size() + value.size() + 4;
  if (inline_body) size += request.body.size();
  out->clear();
  out->reserve(size);
  out->append(request.method).append(route.line_tail);
  for (const auto& [name, value] : request.headers) {
    if (IEquals(name, "host") || IEquals(name, "content-length") || IEquals(name, "connection") ||
        IEquals(name, "transfer-encoding")) {
      continue;  // ours to set
    }
    if (!IsToken(name) || !IsFieldValue(value)) {
      // Name the header but never show its value: it may be a key.
      return {HttpErrorKind::kProtocol, "request header '" + (IsToken(name) ? name : std::string("?")) +
                                            "' has characters not allowed in HTTP"};
    }
    out->append(name).append(": ").append(value).append("\r\n");
  }
  const bool get_like = request.method == "GET" || request.method == "HEAD";
  if (!request.body.empty() || !get_like) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof(digits), request.body.size()).ptr;
    out->append("Content-Length: ").append(digits, end).append("\r\n");
  }
  out->append("Connection: keep-alive\r\n\r\n");
  if (inline_body) out->append(request.body);
  return {};
}

// A response being read from one connection.
class BeastResponse final : public HttpResponse {
 public:
  BeastResponse(std::shared_ptr<Pool> pool, Cancellation* cancel, std::chrono::milliseconds read_timeout,
                size_t max_idle)
      : pool_(std::move(pool)), cancel_(cancel), read_timeout_(read_timeout), max_idle_(max_idle) {}

  ~BeastResponse() override {
    registration_.Reset();
    if (conn_) conn_->Close();  // abandoned mid-body: the connection is not reusable
  }

  int status() const override { return static_cast<int>(parser_->get().result_int()); }

  const Headers& headers() const override {
    if (!headers_) {
      headers_.emplace();
      for (const auto& field : parser_->get()) {
        headers_->emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
    }
    return *headers_;
  }

  std::string header(std::string_view name) const override {
    const auto& fields = parser_->get().base();
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : std::string(it->value());
  }

  net::awaitable<HttpError> ReadSome(std::string* out, bool* done) override;

  // Send's side.
  Parser& NewParser(bool head) {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // Unlimited. Not boost::none: Beast 1.74 compares Content-Length against
    // the optional itself, and any length "exceeds" none.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (head) parser_->skip(true);
    return *parser_;
  }
  CancelRegistration& registration() { return registration_; }
  // Takes the connection whose header block was just read.
  void Attach(std::shared_ptr<Connection> conn) {
    conn_ = std::move(conn);
    parser_->eager(true);  // parse every complete piece in the buffer at once
    if (parser_->is_done()) Finish();
  }

 private:
  // One read from the stream into the connection's buffer. (Beast's
  // http::async_read_some is not used for bodies: after a complete piece it
  // keeps reading when a partial next chunk header follows, which would hold
  // back a streamed piece until more bytes come.)
  template <class Stream>
  net::awaitable<error_code> ReadMore(Stream& stream) {
    error_code ec;
    boost::beast::flat_buffer& buffer = conn_->buffer();
    conn_->Watch(Clock::now() + read_timeout_);
    size_t n = co_await stream.async_read_some(buffer.prepare(kReadSize), net::redirect_error(net::use_awaitable, ec));
    conn_->Unwatch();
    buffer.commit(n);
    co_return ec;
  }

  // The body is complete: back to the pool when reusable, else closed.
  void Finish() {
    finished_ = true;
    registration_.Reset();
    std::shared_ptr<Connection> conn = std::move(conn_);
    conn->Disarm();
    const bool reusable = parser_->keep_alive() && conn->buffer().size() == 0 && conn->is_open() &&
                          !conn->timed_out() && !(cancel_ && cancel_->cancelled());
    if (reusable && pool_->idle.size() < max_idle_) {
      conn->reused = true;
      conn->idle_since = Clock::now();
      pool_->idle.push_back(std::move(conn));
    } else {
      conn->Close();
    }
  }

  HttpError Fail(const error_code& ec) {
    HttpError err = ExchangeError(ec, *conn_, cancel_, pool_->peer, read_timeout_);
    registration_.Reset();
    conn_->Close();
    conn_.reset();
    failed_ = err;
    return err;
  }

  std::shared_ptr<Pool> pool_;
  Cancellation* cancel_;
  std::chrono::milliseconds read_timeout_;
  size_t max_idle_;
  std::optional<Parser> parser_;  // in place: the parser may not move
  std::shared_ptr<Connection> conn_;  // null once finished or failed
  CancelRegistration registration_;
  bool finished_ = false;
  HttpError failed_;
  mutable std::optional<Headers> headers_;  // built on first headers() call
};

net::awaitable<HttpError> BeastResponse::ReadSome(std::string* out, bool* done) {
  *done = false;
  if (finished_) {
    *done = true;
    co_return HttpError{};
  }
  if (failed_) co_return failed_;
  if (cancel_ && cancel_->cancelled()) co_return Fail(net::error::operation_aborted);

  Parser& parser = *parser_;
  boost::beast::flat_buffer& buffer = conn_->buffer();
  parser.get().body() = out;
  const size_t before = out->size();
  error_code ec;
  for (;;) {
    if (buffer.size() != 0) {  // parse everything buffered (the parser is eager)
      // The body bytes cannot outnumber the buffered bytes: one allocation
      // instead of the string doubling chunk by chunk.
      out->reserve(out->size() + buffer.size());
      buffer.consume(parser.put(buffer.data(), ec));
      if (ec == http::error::need_more) ec = {};
      if (ec) break;
    }
    if (out->size() != before || parser.is_done()) break;
    // (No co_await inside ?: or conditions: GCC 12 miscompiles some of those.)
    if (conn_->tls()) {
      ec = co_await ReadMore(conn_->tls_stream());
    } else {
      ec = co_await ReadMore(conn_->socket());
    }
    // A body delimited by the end of the connection ends here. Over TLS many
    // servers skip close_notify; for such bodies that is accepted as the end.
    if (ec == net::error::eof || (ec == net::ssl::error::stream_truncated && parser.need_eof())) {
      ec = {};
      parser.put_eof(ec);
      if (ec) break;
    } else if (ec) {
      break;
    }
  }
  parser.get().body() = nullptr;
  if (ec) co_return Fail(ec);
  if (parser.is_done()) {
    Finish();
    *done = true;
  }
  co_return HttpError{};
}

using Result = std::pair<HttpError, std::unique_ptr<HttpResponse>>;
Result Failure(HttpError err) { return Result{std::move(err), std::unique_ptr<HttpResponse>()}; }

// Writes the serialized request and reads the response header block (skipping
// 1xx interim answers). *wrote tells whether the write completed.
template <class Stream>
net::awaitable<error_code> Exchange(Stream& stream, Connection& conn, const HttpRequest& request,
                                    const std::string& head, bool body_inline, BeastResponse& resp, Parser** parser,
                                    bool* wrote) {
  error_code ec;
  auto token = net::redirect_error(net::use_awaitable, ec);
  conn.Watch(Clock::now() + request.read_timeout);
  if (body_inline || request.body.empty()) {
    co_await net::async_write(stream, net::buffer(head), token);
  } else {
    std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(request.body)};
    co_await net::async_write(stream, buffers, token);
  }
  *wrote = !ec;
  while (!ec) {
    conn.Watch(Clock::now() + request.read_timeout);
    co_await http::async_read_header(stream, conn.buffer(), **parser, token);
    if (ec) break;
    const unsigned status = (*parser)->get().result_int();
    if (status < 100 || status >= 200 || status == 101) break;
    *parser = &resp.NewParser(request.method == "HEAD");  // 1xx: the real answer follows
  }
  conn.Unwatch();
  co_return ec;
}

}  // namespace

BeastHttpClient::BeastHttpClient(net::any_io_executor ex, ProxySettings proxy)
    : impl_(std::make_unique<Impl>(std::move(ex), std::move(proxy))) {}

BeastHttpClient::~BeastHttpClient() = default;

size_t BeastHttpClient::idle_connections() const {
  size_t n = 0;
  for (const auto& [key, pool] : impl_->pools) n += pool->idle.size();
  return n;
}

size_t BeastHttpClient::connections_opened() const { return impl_->opened; }

net::awaitable<std::pair<HttpError, std::unique_ptr<HttpResponse>>> BeastHttpClient::Send(HttpRequest request,
                                                                                         Cancellation* cancel) {
  if (cancel && cancel->cancelled()) co_return Failure({HttpErrorKind::kCancelled, "request cancelled"});
  HttpError err;
  // Held for the whole call: the cache may drop it while we are suspended.
  std::shared_ptr<const Route> route = impl_->RouteFor(request, &err);
  if (!route) co_return Failure(std::move(err));
  Pool& pool = *route->pool;
  const bool tls = route->url.tls();
  const bool body_inline = tls && request.body.size() <= kTlsInlineBodyLimit;
  const bool head_only = request.method == "HEAD";

  // The header block is built once, in the buffer of the connection it will
  // go out on (no allocation once the buffer has grown), and moves with a retry.
  std::shared_ptr<Connection> conn = impl_->TakeIdle(pool);
  std::string head;
  if (conn) head.swap(conn->write_buffer());
  err = SerializeRequest(request, *route, body_inline, &head);
  if (err) {
    if (conn) {  // untouched: back where it came from
      conn->write_buffer().swap(head);
      pool.idle.push_back(std::move(conn));
    }
    co_return Failure(std::move(err));
  }

  auto resp = std::make_unique<BeastResponse>(route->pool, cancel, request.read_timeout, request.max_idle_connections);
  for (int attempt = 0;; ++attempt) {
    if (!conn) {
      conn = std::make_shared<Connection>(impl_->ex);
      ++impl_->opened;
      resp->registration().Set(cancel, conn.get());
      ConnectTarget to;
      to.target = &route->url;
      to.proxy = route->proxy ? &*route->proxy : nullptr;
      to.tls = route->tls;
      to.connect_timeout = request.connect_timeout;
      err = co_await conn->Open(to, cancel);
      if (err) {
        resp->registration().Reset();
        conn->Close();
        co_return Failure(std::move(err));
      }
    } else {
      resp->registration().Set(cancel, conn.get());
    }
    Parser* parser = &resp->NewParser(head_only);
    bool wrote = false;
    error_code ec;
    if (tls) {
      ec = co_await Exchange(conn->tls_stream(), *conn, request, head, body_inline, *resp, &parser, &wrote);
    } else {
      ec = co_await Exchange(conn->socket(), *conn, request, head, body_inline, *resp, &parser, &wrote);
    }
    if (!ec) break;
    const bool stale = conn->reused && !conn->timed_out() && !(cancel && cancel->cancelled()) &&
                       (!wrote || (IsStaleConnectionError(ec) && !parser->got_some() && conn->buffer().size() == 0));
    resp->registration().Reset();
    if (attempt > 0 || !stale) {
      err = ExchangeError(ec, *conn, cancel, pool.peer, request.read_timeout);
      conn->Close();
      co_return Failure(std::move(err));
    }
    conn->Close();
    conn.reset();  // a pooled connection died under us: once more on a fresh one
  }
  conn->write_buffer().swap(head);  // keep the grown buffer with the connection
  resp->Attach(std::move(conn));
  co_return Result{HttpError{}, std::move(resp)};
}

}  // namespace sy::upstream
