// In-process HTTP/1.1 test servers for the upstream client tests.
//
// Everything runs on one io_context on the test thread: the client under test,
// the servers and the test body are coroutines on it. A server accepts on
// 127.0.0.1 port 0 and hands each connection to a scripted handler that reads
// requests and writes raw bytes, so tests control every byte and every pause.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace sy::upstream::testkit {

namespace net = boost::asio;
using net::ip::tcp;
using boost::system::error_code;

inline auto Redirect(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

// A flag a coroutine can wait for.
class Event {
 public:
  explicit Event(net::any_io_executor ex) : timer_(ex, std::chrono::steady_clock::time_point::max()) {}
  void Set() {
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const { return set_; }
  net::awaitable<void> Wait() {
    while (!set_) {
      error_code ec;
      co_await timer_.async_wait(Redirect(ec));
    }
  }

 private:
  net::steady_timer timer_;
  bool set_ = false;
};

inline net::awaitable<void> Sleep(std::chrono::milliseconds d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  error_code ec;
  co_await t.async_wait(Redirect(ec));
}

// Runs `body` on `ioc` until it finishes (or `limit` passes; then the test
// fails). Servers and leftovers are simply abandoned with the io_context.
inline void RunCo(net::io_context& ioc, std::function<net::awaitable<void>()> body,
                  std::chrono::seconds limit = std::chrono::seconds(20)) {
  bool finished = false;
  std::exception_ptr failure;
  net::co_spawn(ioc, std::move(body), [&](std::exception_ptr e) {
    finished = true;
    failure = e;
  });
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!finished && std::chrono::steady_clock::now() < deadline) {
    ioc.run_one_for(std::chrono::milliseconds(100));
  }
  if (!finished) throw std::runtime_error("test coroutine did not finish in time");
  if (failure) std::rethrow_exception(failure);
}

struct RawRequest {
  std::string line;  // "POST /path HTTP/1.1"
  std::string head;  // the whole header block, request line included
  std::string body;
  // Value of a header (case-insensitive name), or nullopt.
  std::optional<std::string> Header(std::string_view name) const {
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos + 2 < head.size()) {
      size_t start = pos + 2;
      size_t end = head.find("\r\n", start);
      std::string_view line(head.data() + start, (end == std::string::npos ? head.size() : end) - start);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos && colon == name.size() &&
          std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          })) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        return std::string(value);
      }
      pos = end;
    }
    return std::nullopt;
  }
};

// One accepted connection, plain or TLS.
class TestConn {
 public:
  TestConn(tcp::socket socket, net::ssl::context* tls, int index) : socket_(std::move(socket)), index_(index) {
    if (tls) tls_.emplace(socket_, *tls);
  }
  int index() const { return index_; }  // 0 for the first connection the server accepted
  tcp::socket& socket() { return socket_; }

  net::awaitable<bool> Handshake() {
    if (!tls_) co_return true;
    error_code ec;
    co_await tls_->async_handshake(net::ssl::stream_base::server, Redirect(ec));
    co_return !ec;
  }

  // Reads one request (header block and Content-Length body); nullopt on EOF/error.
  net::awaitable<std::optional<RawRequest>> ReadRequest() {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      bool more = co_await ReadMore();
      if (!more) co_return std::nullopt;
    }
    RawRequest req;
    req.head = buf_.substr(0, end + 4);
    req.line = req.head.substr(0, req.head.find("\r\n"));
    buf_.erase(0, end + 4);
    size_t length = 0;
    if (auto cl = req.Header("content-length")) length = std::stoul(*cl);
    while (buf_.size() < length) {
      bool more = co_await ReadMore();
      if (!more) co_return std::nullopt;
    }
    req.body = buf_.substr(0, length);
    buf_.erase(0, length);
    co_return req;
  }

  net::awaitable<bool> Write(std::string_view data) {
    error_code ec;
    if (tls_) {
      co_await net::async_write(*tls_, net::buffer(data), Redirect(ec));
    } else {
      co_await net::async_write(socket_, net::buffer(data), Redirect(ec));
    }
    co_return !ec;
  }

  // Waits until the peer closes the connection (EOF or reset). Returns true
  // when it did so without sending anything more.
  net::awaitable<bool> WaitClosed() {
    size_t before = buf_.size();
    for (;;) {
      bool more = co_await ReadMore();
      if (!more) break;
    }
    co_return buf_.size() == before;
  }

  void Close() {
    error_code ec;
    socket_.close(ec);
  }

  // Bytes received and not yet consumed by ReadRequest.
  std::string& buffered() { return buf_; }

  net::awaitable<bool> ReadMore() {
    char chunk[4096];
    error_code ec;
    size_t n = tls_ ? co_await tls_->async_read_some(net::buffer(chunk), Redirect(ec))
                    : co_await socket_.async_read_some(net::buffer(chunk), Redirect(ec));
    if (ec) co_return false;
    buf_.append(chunk, n);
    co_return true;
  }

 private:
  tcp::socket socket_;
  std::optional<net::ssl::stream<tcp::socket&>> tls_;
  std::string buf_;
  int index_;
};

// Accepts connections on 127.0.0.1:0 and runs `handler` for each.
class TestServer {
 public:
  using Handler = std::function<net::awaitable<void>(TestConn&)>;

  TestServer(net::io_context& ioc, Handler handler, net::ssl::context* tls = nullptr)
      : state_(std::make_shared<State>(ioc)) {
    state_->handler = std::move(handler);
    state_->tls = tls;
    net::co_spawn(ioc, AcceptLoop(state_), net::detached);
  }
  ~TestServer() { Stop(); }

  uint16_t port() const { return state_->port; }
  std::string url(std::string_view path = "/") const {
    return std::string(state_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }
  int connections() const { return state_->accepted; }
  void Stop() {
    error_code ec;
    state_->acceptor.close(ec);
  }

 private:
  struct State {
    explicit State(net::io_context& ioc) : acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
      port = acceptor.local_endpoint().port();
    }
    tcp::acceptor acceptor;
    uint16_t port = 0;
    int accepted = 0;
    Handler handler;
    net::ssl::context* tls = nullptr;
  };

  static net::awaitable<void> AcceptLoop(std::shared_ptr<State> state) {
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await state->acceptor.async_accept(Redirect(ec));
      if (ec) co_return;
      int index = state->accepted++;
      net::co_spawn(state->acceptor.get_executor(), Session(state, std::move(socket), index), net::detached);
    }
  }

  static net::awaitable<void> Session(std::shared_ptr<State> state, tcp::socket socket, int index) {
    TestConn conn(std::move(socket), state->tls, index);
    bool ok = co_await conn.Handshake();
    if (!ok) co_return;
    co_await state->handler(conn);
  }

  std::shared_ptr<State> state_;
};

// A port nobody listens on (bound, then closed).
inline uint16_t UnusedPort(net::io_context& ioc) {
  tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// A self-signed certificate (also its own CA) made at test time.
struct TestCert {
  std::string cert_pem;
  std::string key_pem;
  std::string cert_file;  // cert_pem written to a temp file (for ca_file)
};

inline TestCert MakeSelfSignedCert(const std::string& subject_alt_names) {
  TestCert out;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(std::rand()) + 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600 * 24);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("switchyard test"), -1,
                             -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, subject_alt_names},
                            {NID_basic_constraints, "critical,CA:TRUE"},
                            {NID_key_usage, "critical,digitalSignature,keyCertSign"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());

  auto to_pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(len));
    BIO_free(bio);
    return pem;
  };
  out.cert_pem = to_pem([&](BIO* b) { PEM_write_bio_X509(b, cert); });
  out.key_pem = to_pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(cert);
  EVP_PKEY_free(key);

  char dir[] = "/tmp/sy_upstream_test_XXXXXX";
  if (mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
  out.cert_file = std::string(dir) + "/ca.pem";
  std::ofstream(out.cert_file) << out.cert_pem;
  return out;
}

// A server-side TLS context serving `cert`.
inline std::unique_ptr<net::ssl::context> ServerTlsContext(const TestCert& cert) {
  auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  ctx->use_certificate_chain(net::buffer(cert.cert_pem));
  ctx->use_private_key(net::buffer(cert.key_pem), net::ssl::context::pem);
  return ctx;
}

// Answers every request on the connection with `response` until the client
// closes. REQUIRES: `response` outlives the connection (a constant).
inline net::awaitable<void> ServeEach(TestConn& c, std::string_view response) {
  for (;;) {
    auto req = co_await c.ReadRequest();
    if (!req) co_return;
    bool ok = co_await c.Write(response);
    if (!ok) co_return;
  }
}

}  // namespace sy::upstream::testkit
