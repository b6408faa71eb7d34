// Fuzzes the client-facing HTTP/1.1 session (sy::RunSession, src/server/
// http_session.h) end to end: the input is what a client sends on one
// connection (one request, a pipeline, or garbage).
//
// One sy::Worker and sy::Gateway (built from a YAML config with one client
// key, small limits and one provider at 127.0.0.1:1, where nothing listens)
// live for the whole run; each input gets a fresh loopback TCP connection.
// Server and client run as coroutines on the worker's io_context, on this
// thread: the client writes the input, half-closes (at once, or once the
// server waits for more input), reads until EOF and closes.
//
// Invariants:
//   - no crash, no sanitizer report, no exception out of the session;
//   - no hang: the session ends within kDeadline of the client's half-close;
//   - what the server sends is a sequence of complete, well-formed HTTP/1.1
//     responses (interim 100 Continue included), nothing else.
//
// SY_FUZZ_VERBOSE=1 build-fuzz/http_session_fuzz FILE prints the answer.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "config/config.h"
#include "server/gateway.h"
#include "server/http_session.h"
#include "server/worker.h"
#include "upstream/beast_http_client.h"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

// Longest a session may take after the client's half-close.
constexpr auto kDeadline = std::chrono::seconds(10);
// What the client reads of the answer at most (a long pipeline of small
// requests is the only way to get much).
constexpr size_t kMaxResponseBytes = 8 << 20;

constexpr char kConfig[] = R"(
server:
  listen: 127.0.0.1:0
  auth: keys
  max_body_bytes: 4096
  max_header_bytes: 2048
  header_timeout_s: 1
  body_timeout_s: 1
  idle_timeout_s: 1
  write_timeout_s: 1
  shutdown_timeout_s: 1
  threads: 1
keys:
  - name: fuzz
    key: ${FUZZ_KEY}
providers:
  - id: local
    base_url: http://127.0.0.1:1/v1
    keys:
      - id: k
        value: sk-upstream
    timeout_s: 1
    connect_timeout_s: 1
models:
  - name: gpt-4o-mini
    target: local/gpt-4o-mini
)";

struct Harness {
  std::unique_ptr<sy::Gateway> gateway;
  std::unique_ptr<sy::Worker> worker;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;

  Harness() {
    auto env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "FUZZ_KEY") return "sk-fuzz";
      return std::nullopt;
    };
    auto loaded = sy::config::LoadConfigString(kConfig, env);
    if (!loaded.config) {
      for (const auto& e : loaded.errors) std::fprintf(stderr, "config: %s: %s\n", e.path.c_str(), e.message.c_str());
      std::abort();
    }
    gateway = std::make_unique<sy::Gateway>(std::move(*loaded.config));
    worker = std::make_unique<sy::Worker>(*gateway, nullptr);
    worker->SetHttpClient(
        std::make_unique<sy::upstream::BeastHttpClient>(worker->io().get_executor(), sy::upstream::ProxySettings()));
    acceptor = std::make_unique<asio::ip::tcp::acceptor>(
        worker->io(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  }
};

Harness& TheHarness() {
  static Harness* h = new Harness();  // never destroyed: no teardown order at exit
  return *h;
}

// The client's two halves. Each sets its flag when it is over, so the driver
// knows when the stack objects they use may go.
asio::awaitable<void> Write(asio::ip::tcp::socket& socket, std::string input, bool half_close, bool& done) {
  error_code ec;
  co_await asio::async_write(socket, asio::buffer(input), asio::redirect_error(asio::use_awaitable, ec));
  if (half_close) socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  done = true;
}

asio::awaitable<void> Read(asio::ip::tcp::socket& socket, std::string& answer, bool& done) {
  error_code ec;
  char buf[16384];
  for (;;) {
    size_t n = co_await socket.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (answer.size() < kMaxResponseBytes) answer.append(buf, n);
    if (ec) break;
  }
  done = true;
}

// True when `bytes` is a sequence of complete HTTP/1.1 responses.
bool WellFormedResponses(const std::string& bytes) {
  asio::const_buffer rest(bytes.data(), bytes.size());
  while (rest.size() > 0) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(kMaxResponseBytes);
    error_code ec;
    size_t used = parser.put(rest, ec);
    rest += used;
    if (ec || !parser.is_done()) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness& h = TheHarness();
  auto& io = h.worker->io();

  asio::ip::tcp::socket client(io);
  asio::ip::tcp::socket server(io);
  // Connect and accept asynchronously: libFuzzer's SIGALRM (its -timeout
  // watchdog) interrupts a blocking connect() with EINTR, which once ended a
  // campaign with an exception in this harness.
  error_code connected = asio::error::would_block;
  error_code accepted = asio::error::would_block;
  client.async_connect(h.acceptor->local_endpoint(), [&connected](error_code ec) { connected = ec; });
  h.acceptor->async_accept(server, [&accepted](error_code ec) { accepted = ec; });
  while (connected == asio::error::would_block || accepted == asio::error::would_block) io.run_one();
  if (connected || accepted) {
    std::fprintf(stderr, "http_session_fuzz: harness: connect: %s, accept: %s\n", connected.message().c_str(),
                 accepted.message().c_str());
    std::abort();
  }
  error_code ignored_option;
  server.set_option(asio::ip::tcp::no_delay(true), ignored_option);

  std::string answer;
  bool written = false;
  bool read_all = false;
  // One input in three (by length) half-closes right after its last byte,
  // while a request may still be upstream: the client-gone paths. The others
  // half-close once the server waits for more input: the answers.
  const bool half_close_early = size % 3 == 0;
  bool half_closed = half_close_early;
  const size_t sessions_before = h.worker->sessions();
  asio::co_spawn(io, sy::RunSession(std::move(server), *h.worker), asio::detached);
  asio::co_spawn(io, Write(client, std::string(reinterpret_cast<const char*>(data), size), half_close_early, written),
                 asio::detached);
  asio::co_spawn(io, Read(client, answer, read_all), asio::detached);

  auto deadline = std::chrono::steady_clock::now() + 2 * kDeadline;
  while (!written || !read_all || h.worker->sessions() != sessions_before) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "http_session_fuzz: hang: the session did not end within %lld s of the client's %s\n",
                   static_cast<long long>(kDeadline.count()), half_closed ? "half-close" : "connect (twice that)");
      std::abort();
    }
    if (io.poll() > 0) continue;
    // Nothing is ready: the server waits for the client or the kernel.
    if (written && !half_closed) {
      error_code ec;
      client.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
      half_closed = true;
      deadline = std::chrono::steady_clock::now() + kDeadline;
      continue;
    }
    io.run_one_for(std::chrono::milliseconds(20));
  }
  // An abortive close: no TIME_WAIT, so a long campaign never runs out of
  // local ports. The server has closed its end by now.
  error_code ignored;
  client.set_option(asio::socket_base::linger(true, 0), ignored);
  client.close(ignored);
  // Let what the session queued on its way out (closes, cancellations) run.
  io.poll();

  static const bool verbose = std::getenv("SY_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "---- answer (%zu bytes)\n%s\n----\n", answer.size(), answer.c_str());
  if (answer.size() < kMaxResponseBytes && !WellFormedResponses(answer)) {
    std::fprintf(stderr, "http_session_fuzz: malformed response bytes:\n%s\n", answer.c_str());
    std::abort();
  }
  return 0;
}
