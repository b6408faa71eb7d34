// BeastHttpClient over TLS (certificates made at test time), directly and
// through a CONNECT-tunnelling test proxy.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "upstream/beast_http_client.h"
#include "upstream/test_server.h"

namespace sy::upstream {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using testkit::Event;
using testkit::RawRequest;
using testkit::Redirect;
using testkit::RunCo;
using testkit::TestCert;
using testkit::TestConn;
using testkit::TestServer;
using tcp = net::ip::tcp;

constexpr std::string_view kHello = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

// Serves kHello to every request on the connection until the client closes.
net::awaitable<void> ServeHello(TestConn& c) { return testkit::ServeEach(c, kHello); }

config::EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// Copies bytes one way until either side closes, then half-closes `to`.
net::awaitable<void> Pipe(tcp::socket& from, tcp::socket& to) {
  char buf[16384];
  for (;;) {
    boost::system::error_code ec;
    size_t n = co_await from.async_read_some(net::buffer(buf), Redirect(ec));
    if (ec) break;
    co_await net::async_write(to, net::buffer(buf, n), Redirect(ec));
    if (ec) break;
  }
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

class TlsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ip_cert_ = new TestCert(testkit::MakeSelfSignedCert("IP:127.0.0.1,DNS:localhost"));
    other_cert_ = new TestCert(testkit::MakeSelfSignedCert("DNS:example.com"));
  }
  static void TearDownTestSuite() {
    for (TestCert* c : {ip_cert_, other_cert_}) {
      std::filesystem::remove_all(std::filesystem::path(c->cert_file).parent_path());
      delete c;
    }
  }

  HttpRequest Req(std::string url, bool trust) {
    HttpRequest r;
    r.url = std::move(url);
    r.connect_timeout = 2s;
    r.read_timeout = 2s;
    if (trust) r.ca_file = ip_cert_->cert_file;
    return r;
  }
  void Run(std::function<net::awaitable<void>()> body) { RunCo(ioc_, std::move(body)); }
  net::awaitable<int> Fetch(HttpRequest req, std::string* body, HttpError* err) {
    auto [e, resp] = co_await client_->Send(std::move(req), nullptr);
    if (!e) e = co_await resp->ReadAll(body, 1 << 20);
    *err = e;
    co_return e ? -1 : resp->status();
  }

  // A CONNECT proxy: answers `answer` to CONNECT and, on 2xx, tunnels to the
  // port in the request. Records the CONNECT requests.
  std::unique_ptr<TestServer> StartProxy(std::string answer) {
    return std::make_unique<TestServer>(ioc_, [this, answer](TestConn& c) -> net::awaitable<void> {
      auto req = co_await c.ReadRequest();
      if (!req) co_return;
      proxy_seen_.push_back(*req);
      if (answer.empty()) {  // never answers
        co_await c.WaitClosed();
        co_return;
      }
      co_await c.Write(answer);
      if (answer.find(" 200 ") == std::string::npos) co_return;
      std::string target = req->line.substr(8, req->line.find(' ', 8) - 8);
      uint16_t port = static_cast<uint16_t>(std::stoi(target.substr(target.rfind(':') + 1)));
      tcp::socket upstream(c.socket().get_executor());
      boost::system::error_code ec;
      co_await upstream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), Redirect(ec));
      if (ec) co_return;
      Event back_done(c.socket().get_executor());
      net::co_spawn(
          c.socket().get_executor(),
          [&]() -> net::awaitable<void> {
            co_await Pipe(upstream, c.socket());
            back_done.Set();
          },
          net::detached);
      co_await Pipe(c.socket(), upstream);
      co_await back_done.Wait();
    });
  }

  static TestCert* ip_cert_;
  static TestCert* other_cert_;
  net::io_context ioc_;
  std::vector<RawRequest> proxy_seen_;
  std::unique_ptr<BeastHttpClient> client_ = std::make_unique<BeastHttpClient>(ioc_.get_executor(), ProxySettings());
};

TestCert* TlsClientTest::ip_cert_ = nullptr;
TestCert* TlsClientTest::other_cert_ = nullptr;

TEST_F(TlsClientTest, UntrustedCertificateFailsWithKTls) {
  auto tls = testkit::ServerTlsContext(*ip_cert_);
  TestServer server(ioc_, ServeHello, tls.get());
  Run([&]() -> net::awaitable<void> {
    std::string body;
    HttpError err;
    EXPECT_EQ(co_await Fetch(Req(server.url(), /*trust=*/false), &body, &err), -1);
    EXPECT_EQ(err.kind, HttpErrorKind::kTls);
    EXPECT_NE(err.message.find("certificate verification failed"), std::string::npos) << err.message;
  });
}

TEST_F(TlsClientTest, TrustedViaCaFileSucceedsAndPools) {
  auto tls = testkit::ServerTlsContext(*ip_cert_);
  TestServer server(ioc_, ServeHello, tls.get());
  Run([&]() -> net::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      std::string body;
      HttpError err;
      HttpRequest req = Req(server.url("/v1/chat/completions"), /*trust=*/true);
      // Small bodies go out in one write with the header; big ones after it.
      req.body = std::string(i == 0 ? 1000 : 100000, 'x');
      EXPECT_EQ(co_await Fetch(std::move(req), &body, &err), 200) << err.message;
      EXPECT_EQ(body, "hello");
    }
  });
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(client_->idle_connections(), 1u);
}

TEST_F(TlsClientTest, HostNameIsVerifiedWithSni) {
  auto tls = testkit::ServerTlsContext(*ip_cert_);
  TestServer server(ioc_, ServeHello, tls.get());
  Run([&]() -> net::awaitable<void> {
    std::string body;
    HttpError err;
    std::string url = "https://localhost:" + std::to_string(server.port()) + "/";
    EXPECT_EQ(co_await Fetch(Req(url, /*trust=*/true), &body, &err), 200) << err.message;
  });
}

TEST_F(TlsClientTest, CertificateForAnotherNameFails) {
  auto tls = testkit::ServerTlsContext(*other_cert_);
  TestServer server(ioc_, ServeHello, tls.get());
  Run([&]() -> net::awaitable<void> {
    std::string body;
    HttpError err;
    HttpRequest req = Req(server.url(), /*trust=*/false);
    req.ca_file = other_cert_->cert_file;  // trusted, but it names example.com
    EXPECT_EQ(co_await Fetch(std::move(req), &body, &err), -1);
    EXPECT_EQ(err.kind, HttpErrorKind::kTls);
    EXPECT_NE(err.message.find("mismatch"), std::string::npos) << err.message;
  });
}

TEST_F(TlsClientTest, MissingCaFileIsATlsError) {
  Run([&]() -> net::awaitable<void> {
    HttpRequest req = Req("https://127.0.0.1:1/", false);
    req.ca_file = "/nonexistent/ca.pem";
    auto [err, resp] = co_await client_->Send(std::move(req), nullptr);
    EXPECT_EQ(err.kind, HttpErrorKind::kTls);
    EXPECT_NE(err.message.find("/nonexistent/ca.pem"), std::string::npos) << err.message;
  });
}

TEST_F(TlsClientTest, PlainServerBehindHttpsUrlIsATlsError) {
  TestServer server(ioc_, [](TestConn& c) -> net::awaitable<void> {  // a plain HTTP server
    bool got = co_await c.ReadMore();                                 // sees the ClientHello
    if (got) co_await c.Write("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    c.Close();
  });
  Run([&]() -> net::awaitable<void> {
    std::string body;
    HttpError err;
    std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
    EXPECT_EQ(co_await Fetch(Req(url, true), &body, &err), -1);
    EXPECT_EQ(err.kind, HttpErrorKind::kTls) << err.message;
  });
}

TEST_F(TlsClientTest, HttpsThroughConnectProxy) {
  auto tls = testkit::ServerTlsContext(*ip_cert_);
  TestServer server(ioc_, ServeHello, tls.get());
  auto proxy = StartProxy("HTTP/1.1 200 Connection established\r\n\r\n");
  client_ = std::make_unique<BeastHttpClient>(
      ioc_.get_executor(),
      ProxySettings::FromEnv(Env({{"HTTPS_PROXY", "http://bob:pa%3Ass@127.0.0.1:" + std::to_string(proxy->port())}})));
  Run([&]() -> net::awaitable<void> {
    for (int i = 0; i < 2; ++i) {
      std::string body;
      HttpError err;
      EXPECT_EQ(co_await Fetch(Req(server.url("/v1/models"), true), &body, &err), 200) << err.message;
      EXPECT_EQ(body, "hello");
    }
  });
  ASSERT_EQ(proxy_seen_.size(), 1u);  // the tunnel was pooled
  std::string authority = "127.0.0.1:" + std::to_string(server.port());
  EXPECT_EQ(proxy_seen_[0].line, "CONNECT " + authority + " HTTP/1.1");
  EXPECT_EQ(proxy_seen_[0].Header("host"), authority);
  EXPECT_EQ(proxy_seen_[0].Header("proxy-authorization"), "Basic Ym9iOnBhOnNz");  // bob:pa:ss
}

TEST_F(TlsClientTest, ProxyRefusalIsAConnectErrorWithTheStatus) {
  auto proxy = StartProxy("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
  client_ = std::make_unique<BeastHttpClient>(
      ioc_.get_executor(), ProxySettings::FromEnv(Env({{"https_proxy", "127.0.0.1:" + std::to_string(proxy->port())}})));
  Run([&]() -> net::awaitable<void> {
    std::string body;
    HttpError err;
    EXPECT_EQ(co_await Fetch(Req("https://api.example.com/v1", true), &body, &err), -1);
    EXPECT_EQ(err.kind, HttpErrorKind::kConnect);
    EXPECT_NE(err.message.find("407"), std::string::npos) << err.message;
  });
  ASSERT_EQ(proxy_seen_.size(), 1u);
  EXPECT_EQ(proxy_seen_[0].line, "CONNECT api.example.com:443 HTTP/1.1");
  EXPECT_FALSE(proxy_seen_[0].Header("proxy-authorization"));
}

TEST_F(TlsClientTest, ConnectTimeoutCoversTheTunnel) {
  auto proxy = StartProxy("");  // accepts, reads CONNECT, never answers
  client_ = std::make_unique<BeastHttpClient>(
      ioc_.get_executor(), ProxySettings::FromEnv(Env({{"https_proxy", "127.0.0.1:" + std::to_string(proxy->port())}})));
  Run([&]() -> net::awaitable<void> {
    HttpRequest req = Req("https://api.example.com/v1", true);
    req.connect_timeout = 150ms;
    auto start = std::chrono::steady_clock::now();
    auto [err, resp] = co_await client_->Send(std::move(req), nullptr);
    EXPECT_EQ(err.kind, HttpErrorKind::kTimeout) << err.message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  });
}

TEST_F(TlsClientTest, CancelDuringTheTunnel) {
  auto proxy = StartProxy("");
  client_ = std::make_unique<BeastHttpClient>(
      ioc_.get_executor(), ProxySettings::FromEnv(Env({{"https_proxy", "127.0.0.1:" + std::to_string(proxy->port())}})));
  Run([&]() -> net::awaitable<void> {
    Cancellation cancel;
    net::co_spawn(
        ioc_,
        [&]() -> net::awaitable<void> {
          co_await testkit::Sleep(50ms);
          cancel.Cancel();
        },
        net::detached);
    auto [err, resp] = co_await client_->Send(Req("https://api.example.com/v1", true), &cancel);
    EXPECT_EQ(err.kind, HttpErrorKind::kCancelled) << err.message;
  });
}

}  // namespace
}  // namespace sy::upstream
