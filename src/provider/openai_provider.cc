#include "provider/openai_provider.h"

#include <charconv>

#include <simdjson.h>

#include "common/json_writer.h"
#include "common/log.h"
#include "upstream/url.h"

namespace sy {
namespace {

constexpr int kUnhealthyAfterFailures = 3;  // consecutive failed calls
constexpr size_t kMaxErrorBodyBytes = 64 * 1024;
constexpr size_t kDoneTailBytes = 32;  // enough for "data: [DONE]" and line ends

// Whether the last SSE event of a stream is "data: [DONE]".
bool EndsWithDone(std::string_view tail) {
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r' || tail.back() == ' ')) tail.remove_suffix(1);
  constexpr std::string_view kDone = "[DONE]";
  if (!tail.ends_with(kDone)) return false;
  tail.remove_suffix(kDone.size());
  while (!tail.empty() && tail.back() == ' ') tail.remove_suffix(1);
  return tail.ends_with("data:");
}

std::string_view EndpointPath(Operation op) {
  switch (op) {
    case Operation::kChatCompletions: return "/chat/completions";
    case Operation::kCompletions: return "/completions";
    case Operation::kEmbeddings: return "/embeddings";
  }
  return "/";
}

// The "error.message" of an OpenAI-style error body, or a short prefix of the body.
std::string UpstreamMessage(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view message;
  if (!parser.parse(body).get(doc)) {
    if (!doc["error"]["message"].get_string().get(message)) return std::string(message);
    if (!doc["error"].get_string().get(message)) return std::string(message);
  }
  return body.substr(0, 200);
}

// Transport failures: the client is told what kind of failure it was, never
// where (no upstream host, port, proxy or CA path); the log gets the detail.
GatewayError MapTransportError(const std::string& provider, const upstream::HttpError& e) {
  GatewayError out;
  out.detail = "provider '" + provider + "': " + e.message;
  switch (e.kind) {
    case upstream::HttpErrorKind::kConnect:
      out.code = ErrorCode::kNoProvider;
      out.message = "Provider '" + provider + "' is unavailable.";
      break;
    case upstream::HttpErrorKind::kTimeout:
      out.code = ErrorCode::kUpstreamTimeout;
      out.message = "Provider '" + provider + "' did not answer in time.";
      break;
    case upstream::HttpErrorKind::kTls:
      out.code = ErrorCode::kProviderError;
      out.message = "Could not establish a secure connection to provider '" + provider + "'.";
      break;
    default:
      out.code = ErrorCode::kProviderError;
      out.message = "Provider '" + provider + "' failed to answer.";
      break;
  }
  return out;
}

GatewayError ProviderError(std::string message, std::string detail) {
  return MakeError(ErrorCode::kProviderError, std::move(message), std::move(detail));
}

}  // namespace

OpenAiProvider::OpenAiProvider(config::ProviderConfig config) : config_(std::move(config)) {
  if (config_.name.empty()) config_.name = config_.id;
  std::string base = config_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (auto op : {Operation::kChatCompletions, Operation::kCompletions, Operation::kEmbeddings}) {
    endpoint_urls_[static_cast<int>(op)] = base + std::string(EndpointPath(op));
  }
  uint32_t total = 0;
  for (const auto& key : config_.keys) {
    bearer_values_.push_back("Bearer " + key.value);
    total += key.weight == 0 ? 1 : key.weight;
    cumulative_weights_.push_back(total);
  }
}

bool OpenAiProvider::healthy() const {
  return consecutive_failures_.load(std::memory_order_relaxed) < kUnhealthyAfterFailures;
}

void OpenAiProvider::RecordSuccess() {
  if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
    consecutive_failures_.store(0, std::memory_order_relaxed);
  }
}

void OpenAiProvider::RecordFailure() { consecutive_failures_.fetch_add(1, std::memory_order_relaxed); }

size_t OpenAiProvider::NextKeyIndex() {
  uint64_t n = next_key_.fetch_add(1, std::memory_order_relaxed) % cumulative_weights_.back();
  size_t i = 0;
  while (cumulative_weights_[i] <= n) ++i;
  return i;
}

std::string OpenAiProvider::RewriteModel(const InternalRequest& request, const std::string& upstream_model) {
  const std::string& body = request.raw_body;
  const Span& span = request.model_span;
  if (upstream_model == request.model) return body;
  std::string out;
  out.reserve(body.size() + upstream_model.size() + 2);
  out.append(body, 0, span.begin);
  json::AppendString(&out, upstream_model);
  out.append(body, span.end, std::string::npos);
  return out;
}

upstream::HttpRequest OpenAiProvider::BuildRequest(const ProviderCall& call) {
  const InternalRequest& req = *call.request;
  upstream::HttpRequest up;
  up.method = "POST";
  up.url = endpoint_urls_[static_cast<int>(req.operation)];
  up.headers.reserve(3 + config_.headers.size());
  up.headers.emplace_back("Content-Type", "application/json");
  if (!bearer_values_.empty()) up.headers.emplace_back("Authorization", bearer_values_[NextKeyIndex()]);
  if (req.stream) up.headers.emplace_back("Accept", "text/event-stream");
  for (const auto& h : config_.headers) up.headers.push_back(h);
  up.body = RewriteModel(req, call.upstream_model);
  up.connect_timeout = std::chrono::seconds(config_.connect_timeout_s);
  up.read_timeout = std::chrono::seconds(config_.timeout_s);
  up.ca_file = config_.ca_file;
  up.max_idle_connections = config_.max_idle_connections;
  return up;
}

boost::asio::awaitable<ProviderOutcome> OpenAiProvider::Forward(ProviderCall call, ResponseSink& sink) {
  ProviderOutcome outcome;
  upstream::HttpRequest request = BuildRequest(call);
  auto [err, resp] = co_await call.http->Send(std::move(request), call.cancel);
  if (err) {
    if (err.kind == upstream::HttpErrorKind::kCancelled) {
      outcome.client_gone = true;
      co_return outcome;
    }
    RecordFailure();
    outcome.error = MapTransportError(config_.id, err);
    co_return outcome;
  }
  const int status = resp->status();
  outcome.upstream_status = status;

  if (status == 429 || status == 401 || status == 403 || status >= 500) {
    std::string body;
    auto read_err = co_await resp->ReadAll(&body, kMaxErrorBodyBytes);
    (void)read_err;  // the status alone decides; the body only adds detail
    std::string detail = UpstreamMessage(body);
    if (status == 429) {
      RecordSuccess();  // the provider is up; it is only busy
      // A 4xx judges the client's traffic: its message is passed on.
      GatewayError e{ErrorCode::kRateLimited, "Provider '" + config_.id + "' is rate limiting requests: " + detail,
                     std::nullopt, std::nullopt, {}};
      if (auto ra = resp->header("retry-after"); !ra.empty()) e.retry_after = ra;
      outcome.error = std::move(e);
    } else if (status >= 500) {
      RecordFailure();
      outcome.error = ProviderError("Provider '" + config_.id + "' returned HTTP " + std::to_string(status) + ".",
                                    "provider '" + config_.id + "' HTTP " + std::to_string(status) + ": " + detail);
    } else {
      RecordFailure();
      outcome.error = ProviderError("Provider '" + config_.id + "' rejected the gateway's credentials (HTTP " +
                                        std::to_string(status) + ").",
                                    "provider '" + config_.id + "' rejected its credentials (HTTP " +
                                        std::to_string(status) + "): " + detail);
    }
    co_return outcome;
  }
  RecordSuccess();

  // 2xx, and 4xx that judge the client's request: passed on as they are.
  ResponseHead head;
  head.status = status;
  if (auto ct = resp->header("content-type"); !ct.empty()) head.content_type = std::move(ct);
  if (resp->header("transfer-encoding").empty()) {
    auto cl = resp->header("content-length");
    size_t length = 0;
    if (!cl.empty() && std::from_chars(cl.data(), cl.data() + cl.size(), length).ec == std::errc()) {
      head.content_length = length;
    }
  }
  // The response's own x-request-id is the gateway's; the upstream's id is
  // kept under another name for support requests to the provider.
  if (auto rid = resp->header("x-request-id"); !rid.empty()) {
    head.headers.emplace_back("x-upstream-request-id", std::move(rid));
  }
  // A body of announced length past the limit is refused before any of it is sent.
  const bool bounded = !call.request->stream;
  if (bounded && head.content_length && *head.content_length > config_.max_response_bytes) {
    RecordFailure();
    outcome.error = ProviderError("Provider '" + config_.id + "' sent a response larger than the gateway accepts.",
                                  "provider '" + config_.id + "': Content-Length " +
                                      std::to_string(*head.content_length) + " over max_response_bytes");
    co_return outcome;
  }
  if (call.request->stream) {
    head.headers.emplace_back("Cache-Control", "no-cache");
    head.headers.emplace_back("X-Accel-Buffering", "no");
  }
  // Watch stream framing: an OpenAI stream that ends without "data: [DONE]"
  // was cut short upstream, even if the HTTP body ended cleanly. Only the
  // last bytes are kept; nothing is parsed per event.
  const bool check_done = call.request->stream && status < 300;
  std::string tail;
  std::string piece;
  uint64_t received = 0;
  bool done = false;
  // The first piece is read before the client is answered: a body that fails
  // before its first byte (broken chunked encoding, silence past timeout_s)
  // still gets a clean 502/504. This delays nothing, since the client sink
  // sends the head together with the first piece anyway.
  bool begun = false;
  while (true) {
    piece.clear();
    auto read_err = co_await resp->ReadSome(&piece, &done);
    if (read_err) {
      if (read_err.kind == upstream::HttpErrorKind::kCancelled) {
        outcome.client_gone = true;
        co_return outcome;
      }
      RecordFailure();
      outcome.error = MapTransportError(config_.id, read_err);
      co_return outcome;
    }
    received += piece.size();
    if (bounded && received > config_.max_response_bytes) {
      // An endless (chunked or close-delimited) body: cut it off.
      RecordFailure();
      outcome.error = ProviderError("Provider '" + config_.id + "' sent a response larger than the gateway accepts.",
                                    "provider '" + config_.id + "': response body over max_response_bytes (" +
                                        std::to_string(config_.max_response_bytes) + ")");
      co_return outcome;
    }
    if (!begun) {
      begun = true;
      const bool alive = co_await sink.Begin(std::move(head));
      if (!alive) {
        call.cancel->Cancel();
        outcome.client_gone = true;
        co_return outcome;
      }
    }
    if (check_done) {
      tail.append(piece.size() > kDoneTailBytes ? std::string_view(piece).substr(piece.size() - kDoneTailBytes)
                                                : std::string_view(piece));
      if (tail.size() > kDoneTailBytes) tail.erase(0, tail.size() - kDoneTailBytes);
    }
    if (!piece.empty()) {
      const bool written = co_await sink.Write(piece);
      if (!written) {
        call.cancel->Cancel();
        outcome.client_gone = true;
        co_return outcome;
      }
    }
    if (done) break;
  }
  if (check_done && !EndsWithDone(tail)) {
    RecordFailure();
    outcome.error = ProviderError("Provider '" + config_.id + "' ended the stream early.",
                                  "provider '" + config_.id + "': stream ended without [DONE]");
    co_return outcome;
  }
  const bool ended = co_await sink.End();
  outcome.client_gone = !ended;
  co_return outcome;
}

}  // namespace sy
