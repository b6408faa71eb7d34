#include "server/gateway.h"

#include <chrono>

#include "common/json_writer.h"
#include "common/log.h"
#include "common/reuse_pool.h"
#include "common/text_codec.h"
#include "frontdoor/frontdoors.h"
#include "provider/anthropic/anthropic_codec.h"
#include "frontdoor/gemini/gemini_frontdoor.h"
#include "frontdoor/ollama/ollama_frontdoor.h"
#include "frontdoor/openai/openai_chat.h"
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

// Begin, then the body and its end; false when the client is gone. (GCC 12
// miscompiles co_await used directly as an if or while condition, so results
// are stored first, here and everywhere.)
boost::asio::awaitable<bool> WriteWhole(ResponseSink& sink, ResponseHead head, const std::string& body) {
  bool alive = co_await sink.Begin(std::move(head));
  if (alive) alive = co_await sink.WriteAndEnd(body);
  co_return alive;
}

net::CidrSet ParseTrusted(const std::vector<std::string>& texts) {
  std::vector<net::Cidr> ranges;
  for (const auto& t : texts) {
    if (auto c = net::Cidr::Parse(t)) ranges.push_back(*c);  // the loader validated each
  }
  return net::CidrSet(std::move(ranges));
}

// The inference endpoints: operation and front-door shape.
struct Inference {
  Operation operation;
  int shape;
};

std::optional<Inference> InferenceOf(Endpoint endpoint, std::string_view target) {
  switch (endpoint) {
    case Endpoint::kChatCompletions: return Inference{Operation::kChatCompletions, openai::kShapeChat};
    case Endpoint::kCompletions: return Inference{Operation::kCompletions, openai::kShapeCompletions};
    case Endpoint::kEmbeddings: return Inference{Operation::kEmbeddings, openai::kShapeEmbeddings};
    case Endpoint::kResponses: return Inference{Operation::kChatCompletions, 0};
    case Endpoint::kMessages: return Inference{Operation::kChatCompletions, 0};
    case Endpoint::kMessagesCountTokens: return Inference{Operation::kCountTokens, 0};
    case Endpoint::kGeminiGenerate: return Inference{Operation::kChatCompletions, gemini::kShapeDefault};
    case Endpoint::kGeminiStream: {
      const bool sse = QueryParam(target, "alt") == "sse";
      return Inference{Operation::kChatCompletions, sse ? gemini::kShapeStreamSse : gemini::kShapeStreamJsonArray};
    }
    case Endpoint::kGeminiCountTokens: return Inference{Operation::kCountTokens, gemini::kShapeDefault};
    case Endpoint::kGeminiEmbed: return Inference{Operation::kEmbeddings, gemini::kShapeEmbedContent};
    case Endpoint::kGeminiBatchEmbed: return Inference{Operation::kEmbeddings, gemini::kShapeBatchEmbed};
    case Endpoint::kOllamaChat: return Inference{Operation::kChatCompletions, ollama::kShapeChat};
    case Endpoint::kOllamaGenerate: return Inference{Operation::kChatCompletions, ollama::kShapeGenerate};
    case Endpoint::kOllamaEmbed: return Inference{Operation::kEmbeddings, ollama::kShapeEmbed};
    case Endpoint::kOllamaEmbeddings: return Inference{Operation::kEmbeddings, ollama::kShapeEmbeddings};
    default: return std::nullopt;
  }
}

// Encodes a translated answer with the client's front door as it arrives.
class EncodingReceiver final : public ChatReceiver {
 public:
  EncodingReceiver(const FrontDoor& door, const InternalRequest& request, const chat::Request& chat,
                   ResponseSink& sink)
      : door_(door), request_(request), chat_(chat), sink_(sink) {}

  boost::asio::awaitable<bool> Response(chat::Response& response) override {
    std::string body = door_.EncodeResponse(request_, response);
    const bool alive = co_await SendBody(sink_, 200, std::move(body));
    co_return alive;
  }

  boost::asio::awaitable<bool> Events(std::vector<chat::StreamEvent>& events) override {
    if (!sink_.started()) {
      // An upstream error before anything reached the client becomes an
      // HTTP error status, so that clients retry and fallbacks work.
      for (const auto& ev : events) {
        if (ev.kind == chat::EventKind::kError && ev.error) {
          GatewayError error = *ev.error;
          co_await Gateway::SendError(sink_, error, door_.protocol());
          answered_ = true;
          co_return false;
        }
        if (ev.kind != chat::EventKind::kStart && ev.kind != chat::EventKind::kUsage) break;
      }
    }
    if (!encoder_) encoder_ = door_.NewStreamEncoder(request_, chat_);
    out_->clear();
    bool terminal = false;
    for (const auto& ev : events) {
      encoder_->Encode(ev, &*out_);
      terminal = terminal || ev.kind == chat::EventKind::kFinish || ev.kind == chat::EventKind::kError;
    }
    co_return co_await Send(terminal);
  }

  // True when the receiver already sent a complete answer (an upstream
  // error turned into an HTTP error before the stream began).
  bool answered() const { return answered_; }

  // A failure before anything was sent: a whole error response.
  boost::asio::awaitable<void> SendError(const GatewayError& error) {
    co_await Gateway::SendError(sink_, error, door_.protocol());
  }

  // A failure after the stream began: the protocol's in-band error, then the end.
  boost::asio::awaitable<void> Fail(const GatewayError& error) {
    if (!encoder_) encoder_ = door_.NewStreamEncoder(request_, chat_);
    chat::StreamEvent ev;
    ev.kind = chat::EventKind::kError;
    ev.error = error;
    out_->clear();
    encoder_->Encode(ev, &*out_);
    co_await Send(true);
  }

 private:
  boost::asio::awaitable<bool> Send(bool terminal) {
    if (!sink_.started()) {
      ResponseHead head;
      head.status = 200;
      head.content_type = door_.StreamContentType(request_);
      head.headers.emplace_back("Cache-Control", "no-cache");
      head.headers.emplace_back("X-Accel-Buffering", "no");
      const bool begun = co_await sink_.Begin(std::move(head));
      if (!begun) co_return false;
    }
    bool alive = true;
    if (terminal) {
      alive = co_await sink_.WriteAndEnd(*out_);
    } else if (!out_->empty()) {
      alive = co_await sink_.Write(*out_);
    }
    co_return alive;
  }

  const FrontDoor& door_;
  const InternalRequest& request_;
  const chat::Request& chat_;
  ResponseSink& sink_;
  std::unique_ptr<StreamEncoder> encoder_;
  Reused<std::string> out_;  // this read's encoded events
  bool answered_ = false;
};

// What follows a provider call, passthrough or translated: nothing when it
// succeeded; when the client left, the response is dropped (unless it was
// already answered); a failure becomes an error response in the front
// door's shape, or, once a stream has begun, its in-band error event; a body
// of announced length cannot be completed, and nothing may be appended to
// it (the next response on the connection would be corrupt): aborted.
boost::asio::awaitable<void> EndCall(const ProviderOutcome& outcome, const InternalRequest& req,
                                     EncodingReceiver& receiver, ResponseSink& sink, std::string_view request_id) {
  if (outcome.client_gone) {
    if (!receiver.answered()) sink.Abort();
    co_return;
  }
  if (!outcome.error) co_return;
  const GatewayError& error = *outcome.error;
  log::Warn("request ", request_id, ": ", ErrorCodeName(error.code), ": ",
            error.detail.empty() ? error.message : error.detail);
  if (!sink.started()) {
    co_await receiver.SendError(error);
  } else if (req.stream && sink.chunked()) {
    co_await receiver.Fail(error);
  } else {
    sink.Abort();
  }
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

boost::asio::awaitable<bool> SendBody(ResponseSink& sink, int status, std::string body) {
  ResponseHead head;
  head.status = status;
  head.content_length = body.size();
  const bool alive = co_await WriteWhole(sink, std::move(head), body);
  co_return alive;
}

boost::asio::awaitable<void> Gateway::SendError(ResponseSink& sink, const GatewayError& error, WireProtocol protocol) {
  ErrorReply reply = FrontDoorFor(protocol).EncodeError(error);
  ResponseHead head;
  head.status = reply.status;
  head.content_type = std::move(reply.content_type);
  head.content_length = reply.body.size();
  head.headers = std::move(reply.headers);
  co_await WriteWhole(sink, std::move(head), reply.body);
}

std::vector<ModelEntry> Gateway::ModelEntries() const {
  std::vector<ModelEntry> entries;
  entries.reserve(router_.models().size());
  for (const auto& m : router_.models()) entries.push_back({m.id, m.provider});
  return entries;
}

std::optional<ModelEntry> Gateway::FindModel(const std::string& id) const {
  for (const auto& m : router_.models()) {
    if (m.id == id) return ModelEntry{m.id, m.provider};
  }
  auto resolved = router_.ResolveLoose(id);  // provider/model names are valid too
  if (auto* r = std::get_if<Route>(&resolved)) return ModelEntry{id, r->provider->id()};
  return std::nullopt;
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
  // GET /v1/models is both OpenAI's and Anthropic's: Anthropic clients send
  // anthropic-version.
  if ((a.route.endpoint == Endpoint::kListModels || a.route.endpoint == Endpoint::kGetModel) &&
      !request.anthropic_version.empty()) {
    a.route.protocol = WireProtocol::kAnthropic;
  }
  if (a.route.endpoint == Endpoint::kNotFound) {
    const std::string_view path = request.target.substr(0, request.target.find('?'));
    a.error = MakeError(ErrorCode::kNotFound, "Unknown endpoint: " + std::string(request.method.substr(0, 16)) + " " +
                                                  std::string(path.substr(0, 200)));
    return a;
  }
  if (config_.server.auth == config::AuthMode::kKeys && RequiresAuth(a.route.endpoint)) {
    // Every front door's way of sending the key: Authorization: Bearer,
    // x-api-key (Anthropic), x-goog-api-key or ?key= (Gemini).
    std::string_view key = Authenticator::PresentedKey(request.authorization, request.x_api_key);
    if (key.empty()) key = request.x_goog_api_key;
    std::string query_key;
    if (key.empty()) {
      text::PercentDecode(QueryParam(request.target, "key"), &query_key);
      key = query_key;
    }
    if (!auth_.CheckKey(key)) {
      a.error = MakeError(ErrorCode::kUnauthorized,
                          key.empty() ? "Missing API key. Send it as 'Authorization: Bearer KEY', 'x-api-key: KEY' "
                                        "or 'x-goog-api-key: KEY'."
                                      : "Incorrect API key provided.");
      return a;
    }
  }
  if (a.route.endpoint == Endpoint::kMethodNotAllowed) {
    a.error = MakeError(ErrorCode::kMethodNotAllowed,
                        "Method " + std::string(request.method.substr(0, 16)) + " is not allowed on this endpoint.");
  }
  return a;
}

boost::asio::awaitable<void> Gateway::Handle(GatewayRequest& request, const Admission& admission, ResponseSink& sink,
                                             RequestContext& ctx) {
  const RouteMatch& route = admission.route;
  if (admission.error) {
    co_await SendError(sink, *admission.error, route.protocol);
    co_return;
  }
  const FrontDoor& door = FrontDoorFor(route.protocol);
  // GCC 12 destroys temporaries that live across a co_await twice: every
  // argument below is a named local, never a temporary object.
  switch (route.endpoint) {
    case Endpoint::kMethodNotAllowed:  // refused by Admit
    case Endpoint::kNotFound:
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
    case Endpoint::kListModels:
    case Endpoint::kGeminiListModels:
    case Endpoint::kOllamaTags: {
      const std::vector<ModelEntry> entries = ModelEntries();
      std::string body = door.ModelList(entries, started_at_);
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    case Endpoint::kGetModel:
    case Endpoint::kGeminiGetModel: {
      std::string id = PercentDecoded(route.param);
      if (route.endpoint == Endpoint::kGeminiGetModel && id.starts_with("models/")) id.erase(0, 7);
      const std::optional<ModelEntry> entry = FindModel(id);
      if (!entry) {
        auto resolved = router_.Resolve(id);  // unknown: its model_not_found error
        GatewayError error = std::get<GatewayError>(resolved);
        co_await SendError(sink, error, route.protocol);
        co_return;
      }
      std::string body = door.ModelObject(*entry, started_at_);
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    case Endpoint::kOllamaShow:
      co_await HandleOllamaShow(request, sink);
      co_return;
    case Endpoint::kOllamaVersion: {
      std::string body = OllamaDoor().Version(kOllamaApiVersion);
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    case Endpoint::kOllamaPs: {
      // Models held in memory: none for remote providers (local models come
      // with the local provider).
      const std::vector<ModelEntry> loaded;
      std::string body = OllamaDoor().Ps(loaded);
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    default:
      break;
  }
  const std::optional<Inference> inference = InferenceOf(route.endpoint, request.target);
  if (!inference) co_return;  // every endpoint is handled above or here
  FrontDoorInput input;
  input.operation = inference->operation;
  input.shape = inference->shape;
  input.path_model = PercentDecoded(route.param);
  input.path_stream = route.endpoint == Endpoint::kGeminiStream;
  input.body = std::move(request.body);
  co_await HandleInference(door, std::move(input), request, sink, ctx);
}

boost::asio::awaitable<void> Gateway::HandleOllamaShow(GatewayRequest& request, ResponseSink& sink) {
  const auto& door = OllamaDoor();
  auto model = door.ShowRequestModel(request.body);
  if (auto* e = std::get_if<GatewayError>(&model)) {
    co_await SendError(sink, *e, WireProtocol::kOllama);
    co_return;
  }
  const std::string& name = std::get<std::string>(model);
  const std::optional<ModelEntry> entry = FindModel(name);
  if (!entry) {
    GatewayError error = MakeError(ErrorCode::kModelNotFound, "model '" + name + "' not found");
    co_await SendError(sink, error, WireProtocol::kOllama);
    co_return;
  }
  std::string body = door.Show(*entry, started_at_);
  co_await SendBody(sink, 200, std::move(body));
}

boost::asio::awaitable<void> Gateway::HandleInference(const FrontDoor& door, FrontDoorInput input,
                                                      GatewayRequest& request, ResponseSink& sink,
                                                      RequestContext& ctx) {
  auto peeked = door.Peek(std::move(input));
  if (auto* e = std::get_if<GatewayError>(&peeked)) {
    co_await SendError(sink, *e, door.protocol());
    co_return;
  }
  InternalRequest& req = std::get<InternalRequest>(peeked);
  auto resolved = router_.ResolveLoose(req.model);
  if (auto* e = std::get_if<GatewayError>(&resolved)) {
    // Ollama clients match on Ollama's own wording.
    if (door.protocol() == WireProtocol::kOllama) e->message = "model '" + req.model + "' not found";
    co_await SendError(sink, *e, door.protocol());
    co_return;
  }
  Route& route = std::get<Route>(resolved);
  if (route.provider->protocol() != door.protocol() || !req.passthrough_ok) {
    co_await Translate(door, req, route, sink, ctx);
    co_return;
  }

  // Same protocol: the body passes through with only the model rewritten.
  if (ctx.watch_client) ctx.watch_client();
  ProviderCall call;
  call.request = &req;
  call.upstream_model = std::move(route.upstream_model);
  call.http = ctx.http;
  call.cancel = ctx.cancel;
  call.drop_params = route.drop_params.value_or(route.provider->drop_params());
  if (door.protocol() == WireProtocol::kAnthropic) {
    // Anthropic refuses requests without a version: the client's, else the one the codec speaks.
    std::string version = request.anthropic_version.empty() ? std::string(anthropic::kAnthropicVersion)
                                                            : std::string(request.anthropic_version);
    call.forward_headers.emplace_back("anthropic-version", std::move(version));
  }
  if (!request.anthropic_beta.empty()) {
    call.forward_headers.emplace_back("anthropic-beta", std::string(request.anthropic_beta));
  }
  ProviderOutcome outcome = co_await route.provider->Forward(std::move(call), sink);
  static const chat::Request kNone;  // a passthrough has no typed request; only Fail's error event is encoded
  EncodingReceiver receiver(door, req, kNone, sink);
  co_await EndCall(outcome, req, receiver, sink, ctx.request_id);
}

boost::asio::awaitable<void> Gateway::Translate(const FrontDoor& door, InternalRequest& req, Route& route,
                                                ResponseSink& sink, RequestContext& ctx) {
  ProviderCall call;
  call.request = &req;
  call.upstream_model = std::move(route.upstream_model);
  call.http = ctx.http;
  call.cancel = ctx.cancel;
  call.drop_params = route.drop_params.value_or(route.provider->drop_params());

  // Ollama's load requests (no messages, or an empty prompt) have an answer
  // of their own: there is nothing to generate.
  if (door.protocol() == WireProtocol::kOllama) {
    std::optional<std::string> load = OllamaDoor().LoadReply(req);
    if (load) {
      co_await SendBody(sink, 200, std::move(*load));
      co_return;
    }
  }
  chat::Request chat;
  chat::EmbedRequest embed;
  std::optional<GatewayError> parse_error;
  if (req.operation == Operation::kEmbeddings) {
    parse_error = door.ParseEmbed(req, &embed);
    call.embed = &embed;
  } else {
    parse_error = door.ParseChat(req, &chat);
    chat::FillToolResultNames(&chat);
    chat.model = req.model;
    chat.stream = req.stream;
    call.chat = &chat;
  }
  if (parse_error) {
    co_await SendError(sink, *parse_error, door.protocol());
    co_return;
  }
  if (ctx.watch_client) ctx.watch_client();

  ProviderOutcome outcome;
  EncodingReceiver receiver(door, req, chat, sink);
  switch (req.operation) {
    case Operation::kEmbeddings: {
      chat::EmbedResponse answer;
      outcome = co_await route.provider->Embed(std::move(call), &answer);
      if (!outcome.error && !outcome.client_gone) {
        answer.model = req.model;
        std::string body = door.EncodeEmbed(req, answer);
        co_await SendBody(sink, 200, std::move(body));
      }
      break;
    }
    case Operation::kCountTokens: {
      std::optional<int64_t> count;
      outcome = co_await route.provider->CountTokens(std::move(call), &count);
      if (!outcome.error && !outcome.client_gone) {
        // No counting endpoint upstream: an estimate (documented as such).
        const int64_t tokens = count ? *count : chat::EstimateTokens(chat);
        std::string body = door.EncodeCountTokens(req, tokens);
        co_await SendBody(sink, 200, std::move(body));
      }
      break;
    }
    default:
      outcome = co_await route.provider->Chat(std::move(call), receiver);
      break;
  }
  co_await EndCall(outcome, req, receiver, sink, ctx.request_id);
}

}  // namespace sy
