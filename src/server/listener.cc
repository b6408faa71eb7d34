#include "server/listener.h"

#include <chrono>
#include <thread>

#include "common/log.h"
#include "upstream/beast_http_client.h"
#include "upstream/proxy_env.h"

namespace sy {

namespace asio = boost::asio;

Server::Server(Gateway& gateway, const config::EnvLookup& env) : gateway_(gateway) {
  unsigned threads = gateway.config().server.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  auto proxy = upstream::ProxySettings::FromEnv(env);
  for (unsigned i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>(gateway, nullptr);
    workers_.push_back(std::move(worker));
  }
  for (auto& w : workers_) {
    w->SetHttpClient(std::make_unique<upstream::BeastHttpClient>(w->io().get_executor(), proxy));
  }
}

Server::~Server() {
  for (auto& w : workers_) w->Stop();
  for (auto& w : workers_) w->Join();
}

std::string Server::Bind() {
  uint16_t port = 0;
  if (!config::SplitListen(gateway_.listen(), &host_, &port)) {
    return "server.listen: expected HOST:PORT, got '" + gateway_.listen() + "'";
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host_, ec);
  if (ec) return "server.listen: '" + host_ + "' is not an IP address";
  if (port == 0) {
    // Pick the port with a socket that does not share: the kernel may hand a
    // port-0 SO_REUSEPORT socket a port that another SO_REUSEPORT socket of
    // the same user already listens on, and then the two would split traffic.
    asio::io_context probe_io;
    asio::ip::tcp::acceptor probe(probe_io);
    probe.open(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
    if (!ec) probe.bind(asio::ip::tcp::endpoint(address, 0), ec);
    if (ec) return "cannot listen on " + gateway_.listen() + ": " + ec.message();
    port = probe.local_endpoint().port();
  }
  for (auto& w : workers_) {
    ec = w->Listen(asio::ip::tcp::endpoint(address, port));
    if (ec) return "cannot listen on " + gateway_.listen() + ": " + ec.message();
  }
  port_ = port;
  return "";
}

void Server::Start() {
  for (auto& w : workers_) w->Start();
}

bool Server::Shutdown() {
  gateway_.BeginDrain();
  for (auto& w : workers_) w->BeginDrain();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(gateway_.config().server.shutdown_timeout_s);
  bool clean = false;
  while (std::chrono::steady_clock::now() < deadline) {
    size_t busy = 0;
    for (auto& w : workers_) busy += w->sessions();
    if (busy == 0) {
      clean = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!clean) log::Warn("shutdown: timeout reached with requests still in flight; closing them");
  for (auto& w : workers_) w->Stop();
  for (auto& w : workers_) w->Join();
  return clean;
}

}  // namespace sy
