// The gateway: everything between a parsed HTTP request and the response,
// independent of sockets. A request goes
//   MatchRoute → Authenticator → FrontDoor::Peek → ModelRouter::Resolve
//   → same protocol:  Provider::Forward (passthrough) → ResponseSink
//   → otherwise:      FrontDoor::ParseChat → Provider::Chat → ChatReceiver
//                     (FrontDoor encoder) → ResponseSink.
//
// Thread-safety: one Gateway is shared by all worker threads. It is immutable
// after Create() except for atomics (draining flag, provider health).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/awaitable.hpp>

#include "common/cancellation.h"
#include "common/cidr.h"
#include "config/config.h"
#include "core/codec.h"
#include "core/errors.h"
#include "core/model_router.h"
#include "core/response_sink.h"
#include "provider/provider_registry.h"
#include "server/auth.h"
#include "server/connection_gauge.h"
#include "server/router.h"

namespace sy {

namespace upstream {
class HttpClient;
}

// An HTTP request as read by the session. Admit() needs only the head; the
// body is read after admission and filled in before Handle().
struct GatewayRequest {
  std::string_view method;
  std::string_view target;
  std::string_view authorization;  // Authorization header, or ""
  std::string_view x_api_key;      // x-api-key header, or ""
  std::string body;
  std::string_view x_goog_api_key;     // x-goog-api-key header (Gemini clients), or ""
  std::string_view anthropic_version;  // anthropic-version header, or ""
  std::string_view anthropic_beta;     // anthropic-beta header, or ""
};

// The verdict on a request head: which endpoint, and whether it is refused
// (unknown endpoint, missing or wrong key) before its body is read.
struct Admission {
  RouteMatch route;  // route.protocol: whose shape errors take
  std::optional<GatewayError> error;  // set: send it; the body is not needed
};

// What one request may use from the worker thread that runs it.
struct RequestContext {
  upstream::HttpClient* http = nullptr;  // the worker's upstream client
  Cancellation* cancel = nullptr;        // fires when the client disconnects
  // Called before a call goes upstream, to start watching the client
  // connection for a disconnect. May be empty.
  std::function<void()> watch_client;
  std::string_view request_id;  // for log lines about this request
};

class Gateway {
 public:
  explicit Gateway(config::Config config);

  // "" when the gateway can serve, else why it must not start (e.g. client
  // keys cannot be hashed: auth would fail open).
  std::string StartupProblem() const;

  // Routes the request head and checks its key. Cheap; no body needed.
  Admission Admit(const GatewayRequest& request) const;
  // Answers an admitted request (admission.error unset) or sends its error.
  boost::asio::awaitable<void> Handle(GatewayRequest& request, const Admission& admission, ResponseSink& sink,
                                      RequestContext& ctx);

  // Writes `error` as a complete error response in `protocol`'s shape.
  static boost::asio::awaitable<void> SendError(ResponseSink& sink, const GatewayError& error,
                                                WireProtocol protocol = WireProtocol::kOpenAI);

  const config::Config& config() const { return config_; }
  ConnectionGauge& connections() { return connections_; }
  const net::CidrSet& trusted_proxies() const { return trusted_proxies_; }
  void BeginDrain() { draining_.store(true); }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

 private:
  // A request for a model: peeked by its front door, resolved, then passed
  // through (same protocol) or translated.
  boost::asio::awaitable<void> HandleInference(const FrontDoor& door, FrontDoorInput input, GatewayRequest& request,
                                               ResponseSink& sink, RequestContext& ctx);
  boost::asio::awaitable<void> Translate(const FrontDoor& door, InternalRequest& req, Route& route,
                                         ResponseSink& sink, RequestContext& ctx);
  boost::asio::awaitable<void> HandleHealth(ResponseSink& sink);
  boost::asio::awaitable<void> HandleOllamaShow(GatewayRequest& request, ResponseSink& sink);
  std::string RootBody() const;
  std::vector<ModelEntry> ModelEntries() const;
  // The entry for a model id (alias or provider/model), or nullopt.
  std::optional<ModelEntry> FindModel(const std::string& id) const;

  config::Config config_;
  ProviderRegistry providers_;
  ModelRouter router_;
  Authenticator auth_;
  long long started_at_;  // unix seconds; the "created" of model objects
  std::atomic<bool> draining_{false};
  ConnectionGauge connections_;
  net::CidrSet trusted_proxies_;
};

// Writes a complete response with a body of known length.
// Writes a complete JSON response.
boost::asio::awaitable<bool> SendBody(ResponseSink& sink, int status, std::string body);  // false: client gone

}  // namespace sy
