// BeastHttpClient: the real HttpClient. HTTP/1.1 over TCP, or over TLS
// (OpenSSL, peer and host name verified) directly or through an HTTP proxy's
// CONNECT tunnel; plain-http targets go to a proxy in absolute form.
//
// Pooling: one keep-alive pool per (scheme, host, port, proxy, ca_file). Idle
// connections are reused newest first; at most request.max_idle_connections
// stay idle per pool. A connection returns to its pool when its response body
// has been read to the end and both sides allow keep-alive; a cancelled, timed
// out, failed or abandoned (destroyed before done) response closes it. An idle
// connection is dropped after 90 s; one idle for over 1 s is checked with a
// non-blocking peek (EOF, reset or stray bytes: dropped) before reuse. If a
// reused connection turns out dead (write fails, or EOF/reset before any
// response byte), the request is sent once more on a fresh connection.
//
// Timeouts: connect_timeout bounds DNS + TCP connect + CONNECT + TLS handshake;
// read_timeout bounds each wait for response bytes (headers, then each body
// piece). Time the caller spends between ReadSome calls does not count.
//
// Thread-safety: none. One instance per worker thread; every call runs on the
// executor given at construction. Responses may outlive the client.
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "upstream/http_client.h"
#include "upstream/proxy_env.h"

namespace sy::upstream {

class BeastHttpClient final : public HttpClient {
 public:
  // `proxy` usually comes from ProxySettings::FromEnv(config::ProcessEnv()).
  BeastHttpClient(boost::asio::any_io_executor ex, ProxySettings proxy);
  ~BeastHttpClient() override;
  BeastHttpClient(const BeastHttpClient&) = delete;
  BeastHttpClient& operator=(const BeastHttpClient&) = delete;

  boost::asio::awaitable<std::pair<HttpError, std::unique_ptr<HttpResponse>>> Send(
      HttpRequest request, Cancellation* cancel) override;

  // Idle pooled connections over all pools (for tests and stats).
  size_t idle_connections() const;
  // Connections opened since construction (for tests and stats).
  size_t connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sy::upstream
