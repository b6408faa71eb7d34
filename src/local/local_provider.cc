#include "local/local_provider.h"

#include <filesystem>
#include <mutex>
#include <random>

#include "common/log.h"
#include "core/ids.h"
#include "local/protocol.h"
#include "local/command_engine.h"
#include "local/worker_engine.h"

namespace sy::local {

namespace asio = boost::asio;

namespace {

bool SameSettings(const config::LocalConfig& a, const config::LocalConfig& b) {
  return a.models_dir == b.models_dir && a.keep_alive_ms == b.keep_alive_ms &&
         a.keep_alive_forever == b.keep_alive_forever && a.max_loaded == b.max_loaded && a.parallel == b.parallel &&
         a.max_queue == b.max_queue && a.context_size == b.context_size && a.threads == b.threads &&
         a.device == b.device && a.flash_attention == b.flash_attention && a.load_timeout_s == b.load_timeout_s &&
         a.engine == b.engine && a.node == b.node &&
         a.worker == b.worker && a.command == b.command;
}

struct HostEntry {
  std::string id;
  std::string dir;
  config::LocalConfig settings;
  std::weak_ptr<ModelHost> host;
};

std::mutex hosts_mu;
std::vector<HostEntry>& Hosts() {
  static auto* hosts = new std::vector<HostEntry>;
  return *hosts;
}

}  // namespace

int64_t RandomSeed() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return static_cast<int64_t>(rng() >> 33);  // fits every engine's seed type
}

std::shared_ptr<ModelHost> SharedHost(const config::ProviderConfig& config, const std::string& config_dir) {
  namespace fs = std::filesystem;
  fs::path dir(config.local.models_dir);
  if (dir.is_relative()) dir = fs::path(config_dir) / dir;
  std::error_code ec;
  fs::path absolute = fs::weakly_canonical(dir, ec);
  const std::string models_dir = ec ? dir.string() : absolute.string();

  std::lock_guard<std::mutex> lock(hosts_mu);
  auto& hosts = Hosts();
  std::erase_if(hosts, [](const HostEntry& e) { return e.host.expired(); });
  for (auto& e : hosts) {
    if (e.id == config.id && e.dir == models_dir && SameSettings(e.settings, config.local)) {
      if (auto host = e.host.lock()) return host;
    }
  }
  std::unique_ptr<EngineFactory> factory;
  if (config.local.engine == "command") {
    factory = MakeCommandEngineFactory(config.local.command);
  } else {
    factory = std::make_unique<WorkerEngineFactory>(DefaultWorkerSettings(config.local.node, config.local.worker));
  }
  auto host = std::make_shared<ModelHost>(config.local, models_dir, std::move(factory));
  hosts.push_back(HostEntry{config.id, models_dir, config.local, host});
  return host;
}

LocalProvider::LocalProvider(config::ProviderConfig config, std::shared_ptr<ModelHost> host)
    : config_(std::move(config)), host_(std::move(host)) {}

bool LocalProvider::HasModel(std::string_view name) const {
  return host_->Find(std::string(name)).has_value();
}

asio::awaitable<ProviderOutcome> LocalProvider::Forward(ProviderCall call, ResponseSink& sink) {
  ProviderOutcome outcome;
  outcome.error = MakeError(ErrorCode::kInternal, "Local models are always translated.");
  co_return outcome;
}

namespace {

// The outcome of a failed Acquire.
void AcquireFailed(GatewayError error, const ProviderCall& call, ProviderOutcome* outcome) {
  if (call.cancel && call.cancel->cancelled()) {
    outcome->client_gone = true;
    return;
  }
  outcome->error = std::move(error);
}

void AddUsage(const WorkerEvent& done, chat::Usage* usage) {
  usage->input_tokens = done.prompt_tokens;
  usage->cached_input_tokens = std::min(done.cached_tokens, done.prompt_tokens);
  usage->output_tokens = done.completion_tokens;
}

// The request's one final answer (embedding, count, error or gone), past
// any text; nullopt when the client went away first.
asio::awaitable<std::optional<WorkerEvent>> FinalAnswer(Lease& lease) {
  while (true) {
    std::vector<WorkerEvent> batch = co_await lease.Next();
    if (batch.empty()) co_return std::nullopt;
    for (WorkerEvent& ev : batch) {
      if (ev.kind != WorkerEvent::Kind::kText) co_return std::move(ev);
    }
  }
}

// The closing events of a generation: its tool calls, usage and finish.
void EndEvents(const WorkerEvent& done, std::vector<chat::StreamEvent>* events) {
  int index = 0;
  for (const auto& call : done.tool_calls) {
    chat::StreamEvent start;
    start.kind = chat::EventKind::kToolCallStart;
    start.index = index;
    start.id = chat::NewId("call_", 24);
    start.name = call.name;
    events->push_back(std::move(start));
    chat::StreamEvent delta;
    delta.kind = chat::EventKind::kToolCallDelta;
    delta.index = index;
    delta.text = call.arguments;
    events->push_back(std::move(delta));
    chat::StreamEvent end;
    end.kind = chat::EventKind::kToolCallEnd;
    end.index = index;
    events->push_back(std::move(end));
    ++index;
  }
  chat::StreamEvent usage;
  usage.kind = chat::EventKind::kUsage;
  usage.usage.emplace();
  AddUsage(done, &*usage.usage);
  events->push_back(std::move(usage));
  chat::StreamEvent finish;
  finish.kind = chat::EventKind::kFinish;
  finish.finish = done.tool_calls.empty() ? FinishOf(done.finish) : chat::FinishReason::kToolCalls;
  finish.stop_sequence = done.stop_sequence;
  events->push_back(std::move(finish));
}

}  // namespace

asio::awaitable<ProviderOutcome> LocalProvider::Chat(ProviderCall call, ChatReceiver& receiver) {
  ProviderOutcome outcome;
  const chat::Request& request = *call.chat;
  ModelHost::Acquired acquired = co_await host_->Acquire(call.upstream_model, call.cancel);
  if (auto* e = std::get_if<GatewayError>(&acquired)) {
    AcquireFailed(std::move(*e), call, &outcome);
    co_return outcome;
  }
  std::unique_ptr<Lease> lease = std::move(std::get<std::unique_ptr<Lease>>(acquired));
  if (!request.tools.empty() && request.tool_choice.mode != chat::ToolChoiceMode::kNone && !lease->ready().tools) {
    lease->Finished();
    GatewayError e = MakeError(ErrorCode::kBadRequest, "The chat template of model '" + call.upstream_model +
                                                           "' has no tool-call syntax; tools cannot be used with it.");
    e.param = "tools";
    outcome.error = std::move(e);
    co_return outcome;
  }
  std::string line;
  const int64_t seed = request.seed ? *request.seed : RandomSeed();
  if (call.request->operation == Operation::kCompletions) {
    line = EncodeComplete(request, lease->id(), seed);  // a text completion: no chat template
  } else if (auto e = EncodeChat(request, lease->id(), seed, call.session, false, &line)) {
    lease->Finished();
    outcome.error = std::move(*e);
    co_return outcome;
  }
  lease->Send(std::move(line));
  outcome.upstream_status = 200;

  const std::string response_id = chat::NewId("chatcmpl-", 24);
  std::vector<chat::StreamEvent> events;
  chat::Response whole;
  bool started = false;
  bool ended = false;
  while (!ended) {
    std::vector<WorkerEvent> batch = co_await lease->Next();
    if (batch.empty()) {  // the client went away
      outcome.client_gone = true;
      co_return outcome;
    }
    events.clear();
    if (!started && request.stream) {
      chat::StreamEvent start;
      start.kind = chat::EventKind::kStart;
      start.id = response_id;
      start.model = call.upstream_model;
      events.push_back(std::move(start));
    }
    started = true;
    for (WorkerEvent& ev : batch) {
      switch (ev.kind) {
        case WorkerEvent::Kind::kText:
          if (!request.stream) break;
          // One delta per piece the engine decided (several may come in one event).
          if (ev.pieces.empty() && !ev.text.empty()) ev.pieces.push_back(std::move(ev.text));
          for (std::string& piece : ev.pieces) {
            if (piece.empty()) continue;
            chat::StreamEvent delta;
            delta.kind = chat::EventKind::kTextDelta;
            delta.text = std::move(piece);
            events.push_back(std::move(delta));
          }
          break;
        case WorkerEvent::Kind::kDone:
          ended = true;
          if (request.stream) {
            EndEvents(ev, &events);
          } else {
            whole.id = response_id;
            whole.model = call.upstream_model;
            if (!ev.text.empty()) {
              chat::Part text;
              text.kind = chat::PartKind::kText;
              text.text = std::move(ev.text);
              whole.content.push_back(std::move(text));
            }
            for (const auto& tc : ev.tool_calls) {
              chat::Part part;
              part.kind = chat::PartKind::kToolCall;
              part.id = chat::NewId("call_", 24);
              part.name = tc.name;
              part.arguments = tc.arguments;
              whole.content.push_back(std::move(part));
            }
            whole.finish = ev.tool_calls.empty() ? FinishOf(ev.finish) : chat::FinishReason::kToolCalls;
            whole.stop_sequence = ev.stop_sequence;
            whole.usage.emplace();
            AddUsage(ev, &*whole.usage);
          }
          break;
        default: {
          ended = true;
          GatewayError error = ErrorOf(ev);
          if (!request.stream) {
            outcome.error = std::move(error);
            co_return outcome;
          }
          chat::StreamEvent failed;
          failed.kind = chat::EventKind::kError;
          failed.error = std::move(error);
          events.push_back(std::move(failed));
          break;
        }
      }
      if (ended) break;
    }
    if (request.stream) {
      if (events.empty()) continue;
      const bool alive = co_await receiver.Events(events);
      if (!alive) {
        outcome.client_gone = true;
        co_return outcome;
      }
    }
  }
  if (!request.stream) {
    const bool alive = co_await receiver.Response(whole);
    if (!alive) outcome.client_gone = true;
  }
  co_return outcome;
}

asio::awaitable<ProviderOutcome> LocalProvider::Embed(ProviderCall call, chat::EmbedResponse* out) {
  ProviderOutcome outcome;
  ModelHost::Acquired acquired = co_await host_->Acquire(call.upstream_model, call.cancel);
  if (auto* e = std::get_if<GatewayError>(&acquired)) {
    AcquireFailed(std::move(*e), call, &outcome);
    co_return outcome;
  }
  std::unique_ptr<Lease> lease = std::move(std::get<std::unique_ptr<Lease>>(acquired));
  if (lease->ready().embedding_size <= 0) {
    lease->Finished();
    GatewayError e = MakeError(ErrorCode::kBadRequest, "Model '" + call.upstream_model + "' is not an embedding model.");
    e.param = "model";
    outcome.error = std::move(e);
    co_return outcome;
  }
  lease->Send(EncodeEmbed(call.embed->inputs, lease->id()));
  std::optional<WorkerEvent> answer = co_await FinalAnswer(*lease);
  if (!answer) {
    outcome.client_gone = true;
  } else if (answer->kind == WorkerEvent::Kind::kEmbedding) {
    out->model = call.upstream_model;
    out->vectors = std::move(answer->vectors);
    out->usage.emplace();
    out->usage->input_tokens = answer->prompt_tokens;
    outcome.upstream_status = 200;
  } else {
    outcome.error = ErrorOf(*answer);
  }
  co_return outcome;
}

asio::awaitable<ProviderOutcome> LocalProvider::CountTokens(ProviderCall call, std::optional<int64_t>* out) {
  ProviderOutcome outcome;
  ModelHost::Acquired acquired = co_await host_->Acquire(call.upstream_model, call.cancel);
  if (auto* e = std::get_if<GatewayError>(&acquired)) {
    AcquireFailed(std::move(*e), call, &outcome);
    co_return outcome;
  }
  std::unique_ptr<Lease> lease = std::move(std::get<std::unique_ptr<Lease>>(acquired));
  std::string line;
  if (auto e = EncodeChat(*call.chat, lease->id(), 0, "", true, &line)) {
    lease->Finished();
    outcome.error = std::move(*e);
    co_return outcome;
  }
  lease->Send(std::move(line));
  std::optional<WorkerEvent> answer = co_await FinalAnswer(*lease);
  if (!answer) {
    outcome.client_gone = true;
  } else if (answer->kind == WorkerEvent::Kind::kCount) {
    *out = answer->tokens;
    outcome.upstream_status = 200;
  } else {
    outcome.error = ErrorOf(*answer);
  }
  co_return outcome;
}

}  // namespace sy::local
