#include "server/gateway.h"

#include <chrono>

#include "common/json_writer.h"
#include "common/log.h"
#include "common/text_codec.h"
#include "frontdoor/openai/openai_frontdoor.h"
#include "provider/provider.h"
#include "server/router.h"
#include "version.h"

namespace sy {
namespace {

long long UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Percent-decodes a path segment ("openai%2Fgpt-4o" → "openai/gpt-4o");
// malformed escapes stay as they are.
std::string PercentDecoded(std::string_view in) {
  std::string out;
  text::PercentDecode(in, &out);
  return out;
}

// Begin + Write + End. (GCC 12 miscompiles co_await used directly as an if
// or while condition, so results are stored first, here and everywhere.)
boost::asio::awaitable<void> WriteWhole(ResponseSink& sink, ResponseHead head, const std::string& body) {
  bool alive = co_await sink.Begin(std::move(head));
  if (alive) alive = co_await sink.Write(body);
  if (alive) co_await sink.End();
}

net::CidrSet ParseTrusted(const std::vector<std::string>& texts) {
  std::vector<net::Cidr> ranges;
  for (const auto& t : texts) {
    if (auto c = net::Cidr::Parse(t)) ranges.push_back(*c);  // the loader validated each
  }
  return net::CidrSet(std::move(ranges));
}

}  // namespace

Gateway::Gateway(config::Config config)
    : config_(std::move(config)),
      providers_(config_.providers),
      router_(config_.models, providers_.ById()),
      auth_(config_.server.auth, config_.keys),
      started_at_(UnixNow()),
      connections_(config_.server.max_connections),
      trusted_proxies_(ParseTrusted(config_.server.trusted_proxies)) {}

std::string Gateway::StartupProblem() const {
  if (!auth_.ready()) {
    return "cannot hash client keys with SHA-256 (OpenSSL); refusing to start rather than accept any key";
  }
  return "";
}

boost::asio::awaitable<void> SendBody(ResponseSink& sink, int status, std::string body) {
  ResponseHead head;
  head.status = status;
  head.content_length = body.size();
  co_await WriteWhole(sink, std::move(head), body);
}

boost::asio::awaitable<void> Gateway::SendError(ResponseSink& sink, const GatewayError& error) {
  ResponseHead head;
  head.status = HttpStatus(error.code);
  std::string body = openai::ErrorBody(error);
  head.content_length = body.size();
  if (error.retry_after) head.headers.emplace_back("Retry-After", *error.retry_after);
  if (error.code == ErrorCode::kUnauthorized) head.headers.emplace_back("WWW-Authenticate", "Bearer");
  co_await WriteWhole(sink, std::move(head), body);
}

std::string Gateway::ModelBody(const std::string& id) const {
  for (const auto& m : router_.models()) {
    if (m.id == id) return openai::ModelObject({m.id, m.provider}, started_at_);
  }
  auto resolved = router_.Resolve(id);  // provider/model names are valid too
  if (auto* r = std::get_if<Route>(&resolved)) return openai::ModelObject({id, r->provider->id()}, started_at_);
  return "";
}

std::string Gateway::RootBody() const {
  std::string out = "{\"name\":\"";
  out += kProductName;
  out += "\",\"version\":\"";
  out += kVersion;
  out += "\",\"status\":\"";
  out += draining() ? "shutting_down" : "running";
  out += "\"}";
  return out;
}

boost::asio::awaitable<void> Gateway::HandleHealth(ResponseSink& sink) {
  size_t unhealthy = 0;
  std::string providers = "[";
  for (const auto& p : providers_.all()) {
    if (providers.size() > 1) providers += ",";
    bool ok = p->healthy();
    unhealthy += !ok;
    providers += "{\"id\":" + json::Quote(p->id()) + ",\"name\":" + json::Quote(p->display_name()) +
                 ",\"healthy\":" + (ok ? "true" : "false") +
                 ",\"models_count\":" + std::to_string(router_.ModelCount(p->id())) + "}";
  }
  providers += "]";
  // Ready unless draining or every provider is down; "degraded" when some are.
  const size_t total = providers_.all().size();
  std::string_view status = "healthy";
  int code = 200;
  if (draining()) {
    status = "shutting_down";
    code = 503;
  } else if (total > 0 && unhealthy == total) {
    status = "unhealthy";
    code = 503;
  } else if (unhealthy > 0) {
    status = "degraded";
  }
  std::string body = "{\"status\":\"" + std::string(status) + "\",\"version\":\"" + kVersion + "\",\"service\":\"" +
                     kProductName + "\",\"timestamp\":\"" + std::to_string(UnixNow()) + "\",\"providers\":" +
                     providers + ",\"connections\":{\"open\":" + std::to_string(connections_.open()) +
                     ",\"max\":" + std::to_string(connections_.max()) +
                     ",\"rejected_total\":" + std::to_string(connections_.rejected()) + "}}";
  co_await SendBody(sink, code, std::move(body));
}

Admission Gateway::Admit(const GatewayRequest& request) const {
  Admission a;
  a.route = MatchRoute(request.method, request.target);
  if (a.route.endpoint == Endpoint::kNotFound) {
    const std::string_view path = request.target.substr(0, request.target.find('?'));
    a.error = MakeError(ErrorCode::kNotFound, "Unknown endpoint: " + std::string(request.method.substr(0, 16)) + " " +
                                                  std::string(path.substr(0, 200)));
    return a;
  }
  if (config_.server.auth == config::AuthMode::kKeys && RequiresAuth(a.route.endpoint) &&
      !auth_.Check(request.authorization, request.x_api_key)) {
    bool none = Authenticator::PresentedKey(request.authorization, request.x_api_key).empty();
    a.error = MakeError(ErrorCode::kUnauthorized,
                        none ? "Missing API key. Send it as 'Authorization: Bearer KEY' or 'x-api-key: KEY'."
                             : "Incorrect API key provided.");
    return a;
  }
  if (a.route.endpoint == Endpoint::kMethodNotAllowed) {
    a.error = MakeError(ErrorCode::kMethodNotAllowed,
                    "Method " + std::string(request.method.substr(0, 16)) + " is not allowed on this endpoint.");
  }
  return a;
}

boost::asio::awaitable<void> Gateway::Handle(GatewayRequest& request, const Admission& admission, ResponseSink& sink,
                                             RequestContext& ctx) {
  if (admission.error) {
    co_await SendError(sink, *admission.error);
    co_return;
  }
  const RouteMatch& route = admission.route;
  // GCC 12 destroys temporaries that live across a co_await twice: every
  // argument below is a named local, never a temporary object.
  switch (route.endpoint) {
    case Endpoint::kMethodNotAllowed:  // refused by Admit
    case Endpoint::kRoot: {
      std::string body = RootBody();
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    case Endpoint::kHealth:
      co_await HandleHealth(sink);
      co_return;
    case Endpoint::kReadiness: {
      const bool ready = !draining();
      std::string body = ready ? "{\"status\":\"ready\"}" : "{\"status\":\"shutting_down\"}";
      co_await SendBody(sink, ready ? 200 : 503, std::move(body));
      co_return;
    }
    case Endpoint::kListModels: {
      std::vector<openai::ModelEntry> entries;
      for (const auto& m : router_.models()) entries.push_back({m.id, m.provider});
      std::string body = openai::ModelList(entries, started_at_);
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    case Endpoint::kGetModel: {
      const std::string id = PercentDecoded(route.param);
      std::string body = ModelBody(id);
      if (body.empty()) {
        auto resolved = router_.Resolve(id);  // unknown: its model_not_found error
        GatewayError error = std::get<GatewayError>(resolved);
        co_await SendError(sink, error);
      } else {
        co_await SendBody(sink, 200, std::move(body));
      }
      co_return;
    }
    case Endpoint::kChatCompletions:
      co_await HandleInference(Operation::kChatCompletions, request, sink, ctx);
      co_return;
    case Endpoint::kCompletions:
      co_await HandleInference(Operation::kCompletions, request, sink, ctx);
      co_return;
    case Endpoint::kEmbeddings:
      co_await HandleInference(Operation::kEmbeddings, request, sink, ctx);
      co_return;
    case Endpoint::kNotFound:
      co_return;  // handled above
  }
}

boost::asio::awaitable<void> Gateway::HandleInference(Operation op, GatewayRequest& request, ResponseSink& sink,
                                                      RequestContext& ctx) {
  auto parsed = openai::ParseRequest(op, std::move(request.body));
  if (auto* e = std::get_if<GatewayError>(&parsed)) {
    co_await SendError(sink, *e);
    co_return;
  }
  InternalRequest& req = std::get<InternalRequest>(parsed);
  auto resolved = router_.Resolve(req.model);
  if (auto* e = std::get_if<GatewayError>(&resolved)) {
    co_await SendError(sink, *e);
    co_return;
  }
  Route& route = std::get<Route>(resolved);
  if (ctx.watch_client) ctx.watch_client();

  ProviderCall call{&req, std::move(route.upstream_model), ctx.http, ctx.cancel};
  ProviderOutcome outcome = co_await route.provider->Forward(std::move(call), sink);
  if (outcome.client_gone) {
    sink.Abort();
    co_return;
  }
  if (!outcome.error) co_return;
  log::Warn("request ", ctx.request_id, ": ", ErrorCodeName(outcome.error->code), ": ",
            outcome.error->detail.empty() ? outcome.error->message : outcome.error->detail);
  if (!sink.started()) {
    co_await SendError(sink, *outcome.error);
  } else if (req.stream && sink.chunked()) {
    // Mid-stream failure: tell the client in-band, then end the stream.
    std::string event = openai::ErrorEvent(*outcome.error);
    bool alive = co_await sink.Write(event);
    if (alive) co_await sink.End();
  } else {
    // A body of announced length cannot be completed, and nothing may be
    // appended to it: the next response on the connection would be corrupt.
    sink.Abort();
  }
}

}  // namespace sy
