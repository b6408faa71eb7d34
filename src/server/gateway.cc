#include "server/gateway.h"

#include <chrono>
#include <ctime>

#include <simdjson.h>

#include "common/json_writer.h"
#include "common/log.h"
#include "common/reuse_pool.h"
#include "common/text_codec.h"
#include "frontdoor/frontdoors.h"
#include "provider/anthropic/anthropic_codec.h"
#include "frontdoor/gemini/gemini_frontdoor.h"
#include "frontdoor/llmservice/llmservice_frontdoor.h"
#include "frontdoor/ollama/ollama_frontdoor.h"
#include "frontdoor/openai/openai_chat.h"
#include "governance/model_facts.h"
#include "governance/tenancy.h"
#include "local/local_provider.h"
#include "local/session_book.h"
#include "governance/usage_tap.h"
#include "provider/provider.h"
#include "server/admin_api.h"
#include "server/request_id.h"
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

gov::EndpointClass ClassOf(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kCompletions: return gov::EndpointClass::kCompletions;
    case Endpoint::kEmbeddings:
    case Endpoint::kGeminiEmbed:
    case Endpoint::kGeminiBatchEmbed:
    case Endpoint::kOllamaEmbed:
    case Endpoint::kOllamaEmbeddings: return gov::EndpointClass::kEmbeddings;
    case Endpoint::kMessagesCountTokens:
    case Endpoint::kGeminiCountTokens: return gov::EndpointClass::kCountTokens;
    case Endpoint::kListModels:
    case Endpoint::kGetModel:
    case Endpoint::kGeminiListModels:
    case Endpoint::kGeminiGetModel:
    case Endpoint::kOllamaTags:
    case Endpoint::kOllamaShow:
    case Endpoint::kOllamaPs: return gov::EndpointClass::kModels;
    case Endpoint::kAdmin: return gov::EndpointClass::kAdmin;
    default: return gov::EndpointClass::kChat;
  }
}

// The endpoint as usage records name it.
std::string_view EndpointName(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kChatCompletions: return "chat.completions";
    case Endpoint::kCompletions: return "completions";
    case Endpoint::kEmbeddings: return "embeddings";
    case Endpoint::kResponses: return "responses";
    case Endpoint::kMessages: return "messages";
    case Endpoint::kMessagesCountTokens: return "messages.count_tokens";
    case Endpoint::kGeminiGenerate: return "generateContent";
    case Endpoint::kGeminiStream: return "streamGenerateContent";
    case Endpoint::kGeminiCountTokens: return "countTokens";
    case Endpoint::kGeminiEmbed: return "embedContent";
    case Endpoint::kGeminiBatchEmbed: return "batchEmbedContents";
    case Endpoint::kOllamaChat: return "api.chat";
    case Endpoint::kOllamaGenerate: return "api.generate";
    case Endpoint::kOllamaEmbed: return "api.embed";
    case Endpoint::kOllamaEmbeddings: return "api.embeddings";
    default: return "other";
  }
}

// Encodes a translated answer with the client's front door as it arrives.
class EncodingReceiver final : public ChatReceiver {
 public:
  EncodingReceiver(const FrontDoor& door, const InternalRequest& request, const chat::Request& chat,
                   ResponseSink& sink, UsageMeter* meter = nullptr)
      : door_(door), request_(request), chat_(chat), sink_(sink), meter_(meter) {}

  boost::asio::awaitable<bool> Response(chat::Response& response) override {
    if (meter_) meter_->Add(response);
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
      if (meter_) meter_->Add(ev);
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
      for (auto& h : door_.StreamHeaders(request_, chat_)) head.headers.push_back(std::move(h));
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
  UsageMeter* meter_;
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
                                     EncodingReceiver& receiver, ResponseSink& sink, RequestContext& ctx) {
  ctx.upstream_key_index = outcome.key_index;
  if (outcome.client_gone) {
    ctx.outcome_error = "client_disconnected";
    if (!receiver.answered()) sink.Abort();
    co_return;
  }
  if (!outcome.error) co_return;
  const GatewayError& error = *outcome.error;
  ctx.outcome_error = ErrorCodeName(error.code);
  const std::string_view request_id = ctx.request_id;
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

Gateway::Gateway(config::Config config, gov::Governance* governance)
    : config_(std::move(config)),
      routing_(std::make_shared<const Routing>(config_)),
      gov_(governance),
      started_at_(UnixNow()),
      connections_(config_.server.max_connections),
      trusted_proxies_(ParseTrusted(config_.server.trusted_proxies)) {
  if (gov_ == nullptr) {
    static const gov::SystemClock kClock;
    own_governance_ = std::make_unique<gov::Governance>(config_, nullptr, gov::NewLocalLimiter(), nullptr, &kClock);
    gov_ = own_governance_.get();
    gov_->Start();
  }
  admin_ = std::make_unique<AdminApi>(*this);
  sessions_ = std::make_unique<local::SessionBook>(gov_->store());
  llmservice::LlmServiceFrontDoor::SetSessions(sessions_.get());
}

Gateway::~Gateway() {
  if (llmservice::LlmServiceFrontDoor::sessions() == sessions_.get()) llmservice::LlmServiceFrontDoor::SetSessions(nullptr);
}

std::string Gateway::StartupProblem() const {
  // Keys are looked up by their SHA-256: without it auth would fail open.
  if (gov::HexOf(gov::KeyDigest("abc")) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") {
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

Routing::Routing(config::Config c)
    : config(std::move(c)), providers(config.providers, gov::ConfigDirOf(config)), router(config.models, providers.ById()) {}

std::vector<config::ConfigError> Gateway::Reload(config::Config next, std::vector<std::string>* restart_needed) {
  // The config was validated by its loader; the server: section is bound
  // at start (listen socket, threads, limits of the sessions).
  const auto& a = config_.server;
  const auto& b = next.server;
  auto differs = [&](bool d, const char* name) {
    if (d && restart_needed) restart_needed->push_back(name);
  };
  differs(a.listen != b.listen, "server.listen");
  differs(a.threads != b.threads, "server.threads");
  differs(a.max_connections != b.max_connections, "server.max_connections");
  differs(a.max_body_bytes != b.max_body_bytes, "server.max_body_bytes");
  differs(a.max_header_bytes != b.max_header_bytes, "server.max_header_bytes");
  differs(a.header_timeout_s != b.header_timeout_s || a.body_timeout_s != b.body_timeout_s ||
              a.idle_timeout_s != b.idle_timeout_s || a.write_timeout_s != b.write_timeout_s ||
              a.shutdown_timeout_s != b.shutdown_timeout_s,
          "server.*_timeout_s");
  differs(a.access_log != b.access_log, "server.access_log");
  differs(a.trusted_proxies != b.trusted_proxies, "server.trusted_proxies");
  differs(next.store != config_.store && !(next.store.empty() && config_.store.empty()), "store");
  differs(next.redis != config_.redis, "redis");
  differs(next.limits.instances != config_.limits.instances ||
              next.limits.redis_timeout_ms != config_.limits.redis_timeout_ms,
          "limits.instances / limits.redis_timeout_ms");
  const auto& ua = config_.usage;
  const auto& ub = next.usage;
  differs(ua.enabled != ub.enabled || ua.spool != ub.spool || ua.queue_capacity != ub.queue_capacity ||
              ua.batch_rows != ub.batch_rows || ua.flush_interval_ms != ub.flush_interval_ms ||
              ua.key_refresh_ms != ub.key_refresh_ms,
          "usage");
  if (next.source_path.empty()) next.source_path = routing()->config.source_path;
  auto built = std::make_shared<const Routing>(next);
  gov_->Reconfigure(built->config);
  routing_.store(std::move(built));
  reloads_.fetch_add(1);
  return {};
}

ModelEntry Gateway::Describe(const Routing& routing, const std::string& id, const Route& route) const {
  ModelEntry e;
  e.id = id;
  e.owned_by = route.provider->id();
  e.detailed = true;
  const gov::ModelFacts facts = gov::FactsOf(route.upstream_model);
  e.context_length = facts.context_length;
  e.vision = facts.vision;
  e.functions = facts.functions;
  for (const auto& alias : routing.config.models) {
    if (alias.name == id && alias.context_length > 0) e.context_length = static_cast<int64_t>(alias.context_length);
  }
  auto prices = gov_->prices();
  if (auto p = prices->Find(id, route.provider->id(), route.upstream_model)) {
    // Pico-dollars per token to dollars per 1K tokens.
    e.input_per_1k = static_cast<double>(p->input) / 1e9;
    e.output_per_1k = static_cast<double>(p->output) / 1e9;
  }
  return e;
}

namespace {

// A local model file as a model entry: its GGUF facts.
ModelEntry LocalEntry(const std::string& id, const std::string& provider, const local::ModelFile& file) {
  ModelEntry e(id, provider);
  e.detailed = true;
  e.format = "gguf";
  e.modified_at = file.mtime;
  e.functions = false;
  if (file.info) {
    const local::GgufInfo& g = *file.info;
    e.context_length = g.context_length;
    e.family = g.architecture;
    e.quantization = g.quantization;
    e.parameter_count = g.parameter_count;
    e.size = g.file_size;
    e.chat_template = g.chat_template;
    e.embedding = g.embedding_model;
    e.metadata = g.metadata;
    e.functions = g.chat_template.find("tool") != std::string::npos;
  }
  e.input_per_1k = 0;  // local models cost nothing
  e.output_per_1k = 0;
  return e;
}

}  // namespace

std::vector<ModelEntry> Gateway::ModelEntries(const Routing& routing) const {
  std::vector<ModelEntry> entries;
  entries.reserve(routing.router.models().size());
  for (const auto& m : routing.router.models()) {
    auto resolved = routing.router.Resolve(m.id);
    if (auto* r = std::get_if<Route>(&resolved)) {
      entries.push_back(Describe(routing, m.id, *r));
    } else {
      entries.push_back({m.id, m.provider});
    }
  }
  // Every model file of the local providers, by its file name.
  for (const auto& p : routing.providers.all()) {
    local::LocalProvider* lp = p->local();
    if (!lp) continue;
    const local::ModelHost::CatalogList catalog = lp->host().Catalog();
    for (const local::ModelFile& f : *catalog) {
      if (!f.info) continue;  // not servable: in the log, not in the list
      entries.push_back(LocalEntry(f.name, p->id(), f));
    }
  }
  return entries;
}

std::vector<ModelEntry> Gateway::LoadedModels(const Routing& routing) const {
  std::vector<ModelEntry> entries;
  for (const auto& p : routing.providers.all()) {
    local::LocalProvider* lp = p->local();
    if (!lp) continue;
    for (const local::LoadedModel& l : lp->host().Loaded()) {
      std::optional<local::ModelFile> f = lp->host().Find(l.name);
      if (!f) continue;
      ModelEntry e = LocalEntry(l.name, p->id(), *f);
      e.expires_in_ms = l.expires_in_ms;
      e.state = l.state;
      e.load_progress = l.progress;
      entries.push_back(std::move(e));
    }
  }
  return entries;
}

std::optional<ModelEntry> Gateway::FindModel(const Routing& routing, const std::string& id) const {
  auto resolved = routing.router.ResolveLoose(id);  // aliases, and provider/model names
  if (auto* r = std::get_if<Route>(&resolved)) {
    if (local::LocalProvider* lp = r->provider->local()) {
      std::optional<local::ModelFile> f = lp->host().Find(r->upstream_model);
      if (f) return LocalEntry(id, lp->id(), *f);
    }
    return Describe(routing, id, *r);
  }
  for (const auto& m : routing.router.models()) {
    if (m.id == id) return ModelEntry{m.id, m.provider};
  }
  return std::nullopt;
}

namespace {

// The members of JSON object `extra` appended to object `base`, those whose
// key `base` already has left out (both are the gateway's own output: flat
// keys, no nesting of the same name).
std::string MergeObjects(std::string base, std::string_view extra) {
  if (base.size() < 2 || base.back() != '}' || extra.size() < 2) return base;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object add;
  simdjson::dom::object have;
  std::string extra_copy(extra);
  if (parser.parse(extra_copy).get_object().get(add)) return base;
  std::vector<std::pair<std::string, std::string>> members;
  for (auto [key, value] : add) members.emplace_back(std::string(key), simdjson::minify(value));
  simdjson::dom::parser base_parser;
  if (base_parser.parse(base).get_object().get(have)) return base;
  base.pop_back();
  for (auto& [key, value] : members) {
    simdjson::dom::element existing;
    if (!have[key].get(existing)) continue;
    base += ',';
    json::AppendString(&base, key);
    base += ':';
    base += value;
  }
  base += '}';
  return base;
}

std::string IsoTime(int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string Gateway::ReadinessBody(const Routing& routing, bool ready) const {
  // The LLM service's shape ({status, models_available, timestamp}), with
  // the local models that have an engine and how far each one's load is.
  const std::vector<ModelEntry> entries = ModelEntries(routing);
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("status").String(ready ? "ready" : "shutting_down");
  w.Key("models_available").Int(static_cast<int64_t>(entries.size()));
  w.Key("timestamp").String(IsoTime(UnixNow()));
  w.Key("models").BeginArray();
  for (const auto& p : routing.providers.all()) {
    local::LocalProvider* lp = p->local();
    if (!lp) continue;
    for (const local::LoadedModel& l : lp->host().Loaded()) {
      w.BeginObject().Key("name").String(l.name).Key("provider").String(p->id()).Key("state").String(l.state);
      w.Key("progress").Double(static_cast<double>(static_cast<int64_t>(l.progress * 1000)) / 1000.0);
      w.Key("busy").Int(l.busy).Key("queued").Int(l.queued).EndObject();
    }
  }
  w.EndArray().EndObject();
  return out;
}

boost::asio::awaitable<void> Gateway::HandleSessions(GatewayRequest& request, const RouteMatch& route,
                                                     ResponseSink& sink) {
  const WireProtocol protocol = WireProtocol::kLlmService;
  local::SessionBook& book = *sessions_;
  if (!book.Available()) {
    const GatewayError unavailable = llmservice::LlmServiceFrontDoor::SessionsUnavailable();
    co_await SendError(sink, unavailable, protocol);
    co_return;
  }
  if (route.endpoint == Endpoint::kSessions) {
    std::string body;
    json::Writer w(&body);
    w.BeginArray();
    for (const auto& id : book.Ids()) w.String(id);
    w.EndArray();
    co_await SendBody(sink, 200, std::move(body));
    co_return;
  }
  const std::string id = PercentDecoded(route.param);
  const GatewayError missing = MakeError(ErrorCode::kNotFound, "Session '" + id.substr(0, 128) + "' not found.");
  switch (route.endpoint) {
    case Endpoint::kChatHistory: {
      const std::optional<std::vector<gov::ChatMessage>> history = book.History(id);
      if (!history) break;
      std::string body;
      json::Writer w(&body);
      w.BeginArray();
      for (const auto& m : *history) w.BeginObject().Key("role").String(m.role).Key("content").String(m.content).EndObject();
      w.EndArray();
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    case Endpoint::kChatHistoryDelete: {
      if (!book.Delete(id)) break;
      ResponseHead head;
      head.status = 204;
      head.content_length = 0;
      const std::string none;
      co_await WriteWhole(sink, std::move(head), none);
      co_return;
    }
    default: {  // rollback
      thread_local simdjson::dom::parser parser;
      simdjson::dom::object o;
      int64_t amount = 0;
      if (parser.parse(request.body).get_object().get(o) || o["amount"].get_int64().get(amount) || amount < 0) {
        GatewayError bad = MakeError(ErrorCode::kBadRequest, "The body must be {\"amount\": N} with N >= 0.");
        bad.param = "amount";
        co_await SendError(sink, bad, protocol);
        co_return;
      }
      if (!book.Rollback(id, static_cast<size_t>(amount))) break;
      std::string body = "{\"status\":\"ok\"}";
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
  }
  co_await SendError(sink, missing, protocol);
}

boost::asio::awaitable<void> Gateway::HandleSocketMessage(std::string body, const Admission& admission,
                                                          ResponseSink& sink, RequestContext& ctx) {
  ctx.routing = routing_.load();
  GatewayRequest request{"POST", "/chat/ws", {}, {}, {}, {}, {}, {}, {}, {}};
  FrontDoorInput input;
  input.operation = Operation::kChatCompletions;
  input.shape = llmservice::kShapeSocket;
  input.body = std::move(body);
  const FrontDoor& door = FrontDoorFor(WireProtocol::kLlmService);
  co_await HandleInference(door, std::move(input), request, admission, sink, ctx);
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

boost::asio::awaitable<void> Gateway::HandleHealth(const Routing& routing, ResponseSink& sink) {
  size_t unhealthy = 0;
  std::string providers = "[";
  for (const auto& p : routing.providers.all()) {
    if (providers.size() > 1) providers += ",";
    bool ok = p->healthy();
    unhealthy += !ok;
    providers += "{\"id\":" + json::Quote(p->id()) + ",\"name\":" + json::Quote(p->display_name()) +
                 ",\"healthy\":" + (ok ? "true" : "false") +
                 ",\"models_count\":" + std::to_string(routing.router.ModelCount(p->id())) + "}";
  }
  providers += "]";
  // Ready unless draining or every provider is down; "degraded" when some are.
  const size_t total = routing.providers.all().size();
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
                     kProductName + "\",\"uptime\":\"running\",\"uptime_seconds\":" +
                     std::to_string(UnixNow() - started_at_) + ",\"timestamp\":\"" + std::to_string(UnixNow()) +
                     "\",\"providers\":" +
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
  const bool admin = a.route.endpoint == Endpoint::kAdmin;
  if (admin || RequiresAuth(a.route.endpoint)) {
    // Every front door's way of sending the key: Authorization: Bearer,
    // x-api-key (Anthropic), x-goog-api-key or ?key= (Gemini); and llm-mux's
    // X-Management-Key for its management API.
    std::string_view key = PresentedKey(request.authorization, request.x_api_key);
    if (key.empty()) key = request.x_goog_api_key;
    if (key.empty()) key = request.x_management_key;
    std::string query_key;
    if (key.empty() && !admin) {
      text::PercentDecode(QueryParam(request.target, "key"), &query_key);
      key = query_key;
    }
    auto who = gov_->Authenticate(key);
    if (auto* e = std::get_if<GatewayError>(&who)) {
      a.error = std::move(*e);
      return a;
    }
    a.caller = std::move(std::get<gov::Caller>(who));
    if (a.caller.anonymous) a.caller.client_ip = std::string(request.client_ip);
    if (admin && a.caller.anonymous && !a.caller.admin) {
      a.error = MakeError(ErrorCode::kUnauthorized, "The admin API needs an admin key (server.admin_key or a key of "
                                                    "type admin).");
      return a;
    }
    if (a.route.endpoint != Endpoint::kMethodNotAllowed) {
      if (auto denied = gov_->Authorize(a.caller, ClassOf(a.route.endpoint))) {
        a.error = std::move(*denied);
        return a;
      }
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
  ctx.routing = routing_.load();
  if (route.endpoint == Endpoint::kAdmin) {
    co_await admin_->Handle(request, admission, sink);
    co_return;
  }
  const std::optional<Inference> inference = InferenceOf(route.endpoint, request.target);
  if (inference) {
    FrontDoorInput input;
    input.operation = inference->operation;
    input.shape = inference->shape;
    input.path_model = PercentDecoded(route.param);
    input.path_stream = route.endpoint == Endpoint::kGeminiStream;
    // POST /chat/completions with "model-name" is the LLM service's.
    const bool llm_chat = route.endpoint == Endpoint::kChatCompletions && llmservice::IsLlmServiceChat(request.body);
    if (llm_chat) input.shape = llmservice::kShapeChat;
    input.body = std::move(request.body);
    const FrontDoor& chosen = llm_chat ? FrontDoorFor(WireProtocol::kLlmService) : door;
    co_await HandleInference(chosen, std::move(input), request, admission, sink, ctx);
    co_return;
  }
  // Other endpoints of a known caller count against its request rate.
  gov::Ticket ticket;
  // Anonymous callers count only against the per-address limit, when set.
  const bool counted = !admission.caller.anonymous || (!admission.caller.client_ip.empty() && gov_->limits_addresses());
  if (counted && RequiresAuth(route.endpoint)) {
    std::optional<GatewayError> refused = gov_->Admit(admission.caller, false, 0, &ticket);
    if (refused) {
      MeteredSink limited(sink, std::move(ticket.headers));
      co_await SendError(limited, *refused, route.protocol);
      co_return;
    }
  }
  MeteredSink metered(sink, std::move(ticket.headers));
  co_await HandleOther(request, route, door, *ctx.routing, metered);
}

boost::asio::awaitable<void> Gateway::HandleOther(GatewayRequest& request, const RouteMatch& route,
                                                  const FrontDoor& door, const Routing& routing, ResponseSink& sink) {
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
      co_await HandleHealth(routing, sink);
      co_return;
    case Endpoint::kReadiness: {
      const bool ready = !draining();
      std::string body = ReadinessBody(routing, ready);
      co_await SendBody(sink, ready ? 200 : 503, std::move(body));
      co_return;
    }
    case Endpoint::kListModels:
    case Endpoint::kGeminiListModels:
    case Endpoint::kOllamaTags: {
      const std::vector<ModelEntry> entries = ModelEntries(routing);
      std::string body = door.ModelList(entries, started_at_);
      if (route.endpoint == Endpoint::kListModels && route.protocol == WireProtocol::kOpenAI && !route.v1) {
        // GET /models is also the LLM service's: its "models" list of names beside OpenAI's "data".
        std::string names = FrontDoorFor(WireProtocol::kLlmService).ModelList(entries, started_at_);
        body = MergeObjects(std::move(body), names);
      }
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    case Endpoint::kSessions:
    case Endpoint::kChatHistory:
    case Endpoint::kChatHistoryDelete:
    case Endpoint::kChatRollback:
      co_await HandleSessions(request, route, sink);
      co_return;
    case Endpoint::kGetModel:
    case Endpoint::kGeminiGetModel: {
      std::string id = PercentDecoded(route.param);
      if (route.endpoint == Endpoint::kGeminiGetModel && id.starts_with("models/")) id.erase(0, 7);
      const std::optional<ModelEntry> entry = FindModel(routing, id);
      if (!entry) {
        auto resolved = routing.router.Resolve(id);  // unknown: its model_not_found error
        GatewayError error = std::get<GatewayError>(resolved);
        co_await SendError(sink, error, route.protocol);
        co_return;
      }
      std::string body = door.ModelObject(*entry, started_at_);
      if (route.endpoint == Endpoint::kGetModel && route.protocol == WireProtocol::kOpenAI && !route.v1) {
        // GET /models/{id} is also the LLM service's: its name and quantization beside OpenAI's fields.
        std::string extra = FrontDoorFor(WireProtocol::kLlmService).ModelObject(*entry, started_at_);
        body = MergeObjects(std::move(body), extra);
      }
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    case Endpoint::kOllamaShow:
      co_await HandleOllamaShow(request, routing, sink);
      co_return;
    case Endpoint::kOllamaVersion: {
      std::string body = OllamaDoor().Version(kOllamaApiVersion);
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    case Endpoint::kOllamaPs: {
      // Models held in memory: local models with an engine (remote ones never are).
      const std::vector<ModelEntry> loaded = LoadedModels(routing);
      std::string body = OllamaDoor().Ps(loaded);
      co_await SendBody(sink, 200, std::move(body));
      co_return;
    }
    default:
      break;  // inference and admin endpoints are handled by Handle
  }
}

boost::asio::awaitable<void> Gateway::HandleOllamaShow(GatewayRequest& request, const Routing& routing,
                                                       ResponseSink& sink) {
  const auto& door = OllamaDoor();
  auto model = door.ShowRequestModel(request.body);
  if (auto* e = std::get_if<GatewayError>(&model)) {
    co_await SendError(sink, *e, WireProtocol::kOllama);
    co_return;
  }
  const std::string& name = std::get<std::string>(model);
  const std::optional<ModelEntry> entry = FindModel(routing, name);
  if (!entry) {
    GatewayError error = MakeError(ErrorCode::kModelNotFound, "model '" + name + "' not found");
    co_await SendError(sink, error, WireProtocol::kOllama);
    co_return;
  }
  std::string body = entry->format.empty() ? door.Show(*entry, started_at_) : door.Show(*entry, started_at_, entry->context_length);
  co_await SendBody(sink, 200, std::move(body));
}

boost::asio::awaitable<void> Gateway::HandleInference(const FrontDoor& first_door, FrontDoorInput input,
                                                      GatewayRequest& request, const Admission& admission,
                                                      ResponseSink& sink, RequestContext& ctx) {
  const gov::Caller& caller = admission.caller;
  auto peeked = first_door.Peek(std::move(input));
  if (auto* e = std::get_if<GatewayError>(&peeked)) {
    co_await SendError(sink, *e, first_door.protocol());
    co_return;
  }
  InternalRequest& req = std::get<InternalRequest>(peeked);
  auto resolved = ctx.routing->router.ResolveLoose(req.model);
  if (auto* e = std::get_if<GatewayError>(&resolved)) {
    // Ollama clients match on Ollama's own wording.
    if (first_door.protocol() == WireProtocol::kOllama) e->message = "model '" + req.model + "' not found";
    co_await SendError(sink, *e, first_door.protocol());
    co_return;
  }
  Route& route = std::get<Route>(resolved);
  // POST /completions without /v1 on a local model is the LLM service's
  // ({text, model, tokens}; SSE of bare pieces); with /v1 it is OpenAI's.
  const bool llm_completion = first_door.protocol() == WireProtocol::kOpenAI &&
                              req.operation == Operation::kCompletions && !admission.route.v1 &&
                              route.provider->local() != nullptr;
  if (llm_completion) {
    req.wire = WireProtocol::kLlmService;
    req.shape = llmservice::kShapeCompletion;
  }
  const FrontDoor& door = llm_completion ? FrontDoorFor(WireProtocol::kLlmService) : first_door;
  if (!route.provider->enabled()) {
    GatewayError error = MakeError(ErrorCode::kNoProvider, "The provider of model '" + req.model.substr(0, 200) +
                                                               "' is disabled.");
    co_await SendError(sink, error, door.protocol());
    co_return;
  }

  // The usage record: whatever happens from here on is booked.
  gov::UsageRecord record;
  record.request_id = ctx.request_id_minted ? std::string(ctx.request_id) : NewRequestId();
  record.ts = gov_->clock().NowMs();
  record.provider = route.provider->id();
  record.model = req.model;
  record.upstream_model = route.upstream_model;
  record.endpoint = EndpointName(admission.route.endpoint);

  gov::Ticket ticket;
  std::optional<GatewayError> refused =
      gov_->AuthorizeModel(caller, req.model, route.provider->id() + "/" + route.upstream_model);
  if (!refused) refused = gov_->Admit(caller, true, gov::EstimateInputTokens(req.raw_body), &ticket);
  MeteredSink metered(sink, std::move(ticket.headers));
  if (refused) {
    co_await SendError(metered, *refused, door.protocol());
    record.status = metered.status();
    record.error = ErrorCodeName(refused->code);
    gov_->Settle(caller, ticket, std::move(record), std::nullopt, 0);
    co_return;
  }

  UsageMeter meter;
  // Settled once: before the bytes that end a successful answer leave (so
  // that a client's next request already meets the charged budget), else
  // when the call is over.
  bool settled = false;
  int64_t settled_tokens = 0;
  auto settle = [&] {
    if (settled) return;
    settled = true;
    record.status = metered.status();
    record.latency_ms = metered.elapsed_ms();
    record.ttft_ms = metered.ttft_ms();
    if (!ctx.outcome_error.empty()) {
      record.error = std::string(ctx.outcome_error);
    } else if (record.status >= 400) {
      record.error = "http_" + std::to_string(record.status);
    }
    std::optional<chat::Usage> usage = meter.usage;
    int64_t estimated = meter.EstimatedOutputTokens();
    if (gov::UsageTap* tap = metered.tap()) {
      usage = tap->usage();
      // Counting the text is deferred until asked: only an answer without usage needs it.
      estimated = usage ? 0 : tap->EstimatedOutputTokens();
    }
    // A request that failed before anything was generated costs nothing.
    if (!usage && record.status >= 400) estimated = 0;
    settled_tokens = usage ? usage->total() : 0;
    gov_->Settle(caller, ticket, std::move(record), usage, estimated);
  };
  metered.set_before_end(settle);
  const bool passthrough =
      route.provider->passthrough() && route.provider->protocol() == door.protocol() && req.passthrough_ok;
  if (passthrough) {
    const bool read_usage = gov_->NeedsUsage(ticket);
    co_await Passthrough(door, req, route, request, metered, ctx, read_usage);
  } else {
    co_await Translate(door, req, route, metered, ctx, meter);
  }
  settle();
  // The provider key's counters: after the call, when the key it used is known.
  const bool failed = !ctx.outcome_error.empty() ? ctx.outcome_error != "client_disconnected" : metered.status() >= 400;
  route.provider->CountKeyUse(ctx.upstream_key_index, settled_tokens, failed);
}

boost::asio::awaitable<void> Gateway::Passthrough(const FrontDoor& door, InternalRequest& req, Route& route,
                                                  GatewayRequest& request, MeteredSink& sink, RequestContext& ctx,
                                                  bool read_usage) {
  // Same protocol: the body passes through with only the model rewritten;
  // the usage is read from the answer on its way (MeteredSink's tap), when
  // anything needs it (store: none and no limits: the bytes pass untouched).
  bool strip_usage = false;
  if (read_usage && door.protocol() == WireProtocol::kOpenAI && req.stream &&
      (req.operation == Operation::kChatCompletions || req.operation == Operation::kCompletions)) {
    // OpenAI streams carry usage only when asked: ask, and hide it from a
    // client that did not.
    bool client_asked = false;
    if (gov::RequestStreamUsage(&req, &client_asked)) strip_usage = !client_asked;
  }
  if (read_usage) sink.set_tap(gov::NewUsageTap(door.protocol(), req.stream, strip_usage));

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
  co_await EndCall(outcome, req, receiver, sink, ctx);
}

boost::asio::awaitable<void> Gateway::Translate(const FrontDoor& door, InternalRequest& req, Route& route,
                                                ResponseSink& sink, RequestContext& ctx, UsageMeter& meter) {
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
    call.session = chat.session;
  }
  if (parse_error) {
    co_await SendError(sink, *parse_error, door.protocol());
    co_return;
  }
  if (ctx.watch_client) ctx.watch_client();

  ProviderOutcome outcome;
  EncodingReceiver receiver(door, req, chat, sink, &meter);
  switch (req.operation) {
    case Operation::kEmbeddings: {
      chat::EmbedResponse answer;
      outcome = co_await route.provider->Embed(std::move(call), &answer);
      if (answer.usage) meter.usage = answer.usage;
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
  co_await EndCall(outcome, req, receiver, sink, ctx);
}

}  // namespace sy
