// The gateway: everything between a parsed HTTP request and the response,
// independent of sockets. A request goes
//   MatchRoute → Governance::Authenticate/Authorize (head)
//   → FrontDoor::Peek → ModelRouter::Resolve → Governance::AuthorizeModel/Admit
//   → same protocol:  Provider::Forward (passthrough) → MeteredSink (UsageTap) → ResponseSink
//   → otherwise:      FrontDoor::ParseChat → Provider::Chat → ChatReceiver
//                     (FrontDoor encoder, UsageMeter) → MeteredSink → ResponseSink
//   → Governance::Settle (cost, budgets, TPM, usage record).
//
// Thread-safety: one Gateway is shared by all worker threads. It is immutable
// after Create() except for atomics (draining flag, provider health).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
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
#include "governance/governance.h"
#include "server/auth.h"
#include "server/connection_gauge.h"
#include "server/metered_sink.h"
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
  std::string_view x_management_key;   // X-Management-Key (llm-mux management API), or ""
  std::string_view client_ip = {};     // the client's address (X-Forwarded-For from trusted proxies)
};

// The verdict on a request head: which endpoint, and whether it is refused
// (unknown endpoint, missing or wrong key) before its body is read.
struct Admission {
  RouteMatch route;  // route.protocol: whose shape errors take
  std::optional<GatewayError> error;  // set: send it; the body is not needed
  gov::Caller caller;                 // who is calling (when admitted)
};

class AdminApi;
namespace local {
class SessionBook;
}

// What a config reload replaces: the config and everything built from it.
// Immutable; a request holds the snapshot it started with until it ends.
struct Routing {
  explicit Routing(config::Config c);
  config::Config config;
  ProviderRegistry providers;
  ModelRouter router;
};

// What one request may use from the worker thread that runs it.
struct RequestContext {
  upstream::HttpClient* http = nullptr;  // the worker's upstream client
  Cancellation* cancel = nullptr;        // fires when the client disconnects
  // Called before a call goes upstream, to start watching the client
  // connection for a disconnect. May be empty.
  std::function<void()> watch_client;
  std::string_view request_id;  // for log lines about this request
  bool request_id_minted = true; // false: the client sent it (not unique: usage rows get their own)
  // Set by the gateway when the call failed: the error's code name, for the usage record.
  std::string_view outcome_error;
  std::shared_ptr<const Routing> routing;  // set by Handle: the config this request runs on
  int upstream_key_index = -1;             // set by the gateway: the provider key the call used
};

class Gateway {
 public:
  // governance: users, keys, limits and usage (owned by the caller; must
  // outlive the gateway). Null: config keys only, limits in memory, no usage
  // records (tests, store: none).
  explicit Gateway(config::Config config, gov::Governance* governance = nullptr);
  ~Gateway();

  // "" when the gateway can serve, else why it must not start (e.g. client
  // keys cannot be hashed: auth would fail open).
  std::string StartupProblem() const;

  // Routes the request head and checks its key. Cheap; no body needed.
  Admission Admit(const GatewayRequest& request) const;
  // Answers an admitted request (admission.error unset) or sends its error.
  boost::asio::awaitable<void> Handle(GatewayRequest& request, const Admission& admission, ResponseSink& sink,
                                      RequestContext& ctx);

  // One message of WS /chat/ws (a LLM-service chat body): its answer goes to
  // `sink` as netstring pieces (llmservice::kShapeSocket).
  boost::asio::awaitable<void> HandleSocketMessage(std::string body, const Admission& admission, ResponseSink& sink,
                                                   RequestContext& ctx);

  // Writes `error` as a complete error response in `protocol`'s shape.
  static boost::asio::awaitable<void> SendError(ResponseSink& sink, const GatewayError& error,
                                                WireProtocol protocol = WireProtocol::kOpenAI);

  // The config the server started with (its server: section cannot change
  // without a restart).
  const config::Config& config() const { return config_; }
  // The config requests run on now (after reloads).
  std::shared_ptr<const Routing> routing() const { return routing_.load(); }
  // Validates `next` and, when it is valid, swaps it in: requests in flight
  // finish on the old config, later ones use the new. Returns the problems
  // (none = applied). Settings of server: that differ are reported in
  // *restart_needed (applied only at the next start).
  std::vector<config::ConfigError> Reload(config::Config next, std::vector<std::string>* restart_needed);
  uint64_t reloads() const { return reloads_.load(); }
  // Held by whoever reads the config file (or writes it) and then calls
  // Reload: SIGHUP and the admin API's config writes, so that two reloads
  // never interleave and an older file never lands after a newer one.
  std::mutex& reload_mutex() { return reload_mu_; }
  // The address to listen on: --listen when given, else server.listen.
  std::string listen() const { return listen_override_.empty() ? config_.server.listen : listen_override_; }
  void set_listen_override(std::string listen) { listen_override_ = std::move(listen); }
  gov::Governance& governance() { return *gov_; }
  ConnectionGauge& connections() { return connections_; }
  const net::CidrSet& trusted_proxies() const { return trusted_proxies_; }
  void BeginDrain() { draining_.store(true); }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

 private:
  // A request for a model: peeked by its front door, resolved, then passed
  // through (same protocol) or translated.
  boost::asio::awaitable<void> HandleInference(const FrontDoor& door, FrontDoorInput input, GatewayRequest& request,
                                               const Admission& admission, ResponseSink& sink, RequestContext& ctx);
  boost::asio::awaitable<void> Passthrough(const FrontDoor& door, InternalRequest& req, Route& route,
                                           GatewayRequest& request, MeteredSink& sink, RequestContext& ctx,
                                           bool read_usage);
  boost::asio::awaitable<void> Translate(const FrontDoor& door, InternalRequest& req, Route& route,
                                         ResponseSink& sink, RequestContext& ctx, UsageMeter& meter);
  // Endpoints that are neither inference nor admin: health, models, Ollama info.
  boost::asio::awaitable<void> HandleOther(GatewayRequest& request, const RouteMatch& route, const FrontDoor& door,
                                           const Routing& routing, ResponseSink& sink);
  boost::asio::awaitable<void> HandleHealth(const Routing& routing, ResponseSink& sink);
  boost::asio::awaitable<void> HandleOllamaShow(GatewayRequest& request, const Routing& routing, ResponseSink& sink);
  std::string RootBody() const;
  std::vector<ModelEntry> ModelEntries(const Routing& routing) const;
  // The entry for a model id (alias or provider/model), or nullopt.
  std::optional<ModelEntry> FindModel(const Routing& routing, const std::string& id) const;
  std::string ReadinessBody(const Routing& routing, bool ready) const;
  boost::asio::awaitable<void> HandleSessions(GatewayRequest& request, const RouteMatch& route, ResponseSink& sink);
  // Local models with an engine (GET /api/ps).
  std::vector<ModelEntry> LoadedModels(const Routing& routing) const;
  // A model's entry with GhostLLM's details (context, pricing, capabilities).
  ModelEntry Describe(const Routing& routing, const std::string& id, const Route& route) const;

  config::Config config_;
  std::atomic<std::shared_ptr<const Routing>> routing_;
  std::atomic<uint64_t> reloads_{0};
  std::mutex reload_mu_;
  std::string listen_override_;
  std::unique_ptr<gov::Governance> own_governance_;  // when none was given
  gov::Governance* gov_;
  std::unique_ptr<AdminApi> admin_;
  long long started_at_;  // unix seconds; the "created" of model objects
  std::atomic<bool> draining_{false};
  ConnectionGauge connections_;
  net::CidrSet trusted_proxies_;
  std::unique_ptr<local::SessionBook> sessions_;  // the LLM service's chat sessions
};

// Writes a complete response with a body of known length.
// Writes a complete JSON response.
boost::asio::awaitable<bool> SendBody(ResponseSink& sink, int status, std::string body);  // false: client gone

}  // namespace sy
