#include "provider/http_provider.h"

#include <charconv>

#include "common/json_writer.h"
#include "common/log.h"
#include "common/reuse_pool.h"
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


HttpProvider::HttpProvider(config::ProviderConfig config, std::unique_ptr<UpstreamCodec> codec)
    : config_(std::move(config)), codec_(codec ? std::move(codec) : MakeCodec(config_.type)) {
  if (config_.name.empty()) config_.name = config_.id;
  base_ = config_.base_url;
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  key_counters_ = std::make_unique<KeyCounters[]>(config_.keys.size());
  uint32_t total = 0;
  for (const auto& key : config_.keys) {
    auth_headers_.push_back(codec_->AuthHeader(key.value));
    total += key.weight == 0 ? 1 : key.weight;
    cumulative_weights_.push_back(total);
  }
}

bool HttpProvider::healthy() const {
  return consecutive_failures_.load(std::memory_order_relaxed) < kUnhealthyAfterFailures;
}

void HttpProvider::RecordSuccess() {
  if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
    consecutive_failures_.store(0, std::memory_order_relaxed);
  }
}

void HttpProvider::RecordFailure() { consecutive_failures_.fetch_add(1, std::memory_order_relaxed); }

size_t HttpProvider::NextKeyIndex() {
  uint64_t n = next_key_.fetch_add(1, std::memory_order_relaxed) % cumulative_weights_.back();
  size_t i = 0;
  while (cumulative_weights_[i] <= n) ++i;
  return i;
}

std::string HttpProvider::RewriteModel(const InternalRequest& request, const std::string& upstream_model) {
  const std::string& body = request.raw_body;
  const Span& span = request.model_span;
  if (upstream_model == request.model || span.empty()) return body;
  std::string out;
  out.reserve(body.size() + upstream_model.size() + 2);
  out.append(body, 0, span.begin);
  json::AppendString(&out, upstream_model);
  out.append(body, span.end, std::string::npos);
  return out;
}

GatewayError HttpProvider::MalformedError(const std::string& what) const {
  return ProviderError("Provider '" + config_.id + "' sent a response the gateway could not read.",
                       "provider '" + config_.id + "': " + what);
}

GatewayError HttpProvider::DecodeFailure(GatewayError error) {
  // An error object the upstream sent with a 200 (Anthropic's
  // overloaded_error, an OpenAI-compatible server's rate_limit_error) keeps
  // its meaning; anything else is a body the gateway could not read.
  if (error.code == ErrorCode::kRateLimited) {
    RecordSuccess();  // up, only busy
    return error;
  }
  RecordFailure();
  if (error.code != ErrorCode::kProviderError) return error;
  return MalformedError(error.detail.empty() ? error.message : error.detail);
}

std::vector<ProviderKeyUsage> HttpProvider::KeyUsage() const {
  std::vector<ProviderKeyUsage> out;
  for (size_t i = 0; i < config_.keys.size(); ++i) {
    out.push_back({config_.keys[i].id, key_counters_[i].requests.load(std::memory_order_relaxed),
                   key_counters_[i].tokens.load(std::memory_order_relaxed),
                   key_counters_[i].errors.load(std::memory_order_relaxed)});
  }
  return out;
}

void HttpProvider::CountKeyUse(int key_index, int64_t tokens, bool error) {
  if (key_index < 0 || static_cast<size_t>(key_index) >= config_.keys.size()) return;
  KeyCounters& c = key_counters_[static_cast<size_t>(key_index)];
  if (tokens > 0) c.tokens.fetch_add(static_cast<uint64_t>(tokens), std::memory_order_relaxed);
  if (error) c.errors.fetch_add(1, std::memory_order_relaxed);
}

upstream::HttpRequest HttpProvider::BuildRequest(UpstreamCall call, bool stream, ProviderOutcome* outcome) {
  upstream::HttpRequest up;
  up.method = "POST";
  up.url = base_ + call.path;
  up.headers.reserve(3 + call.headers.size() + config_.headers.size());
  up.headers.emplace_back("Content-Type", "application/json");
  if (!auth_headers_.empty()) {
    const size_t k = NextKeyIndex();
    up.headers.push_back(auth_headers_[k]);
    key_counters_[k].requests.fetch_add(1, std::memory_order_relaxed);
    outcome->key_index = static_cast<int>(k);
  }
  if (stream) up.headers.emplace_back("Accept", "text/event-stream");
  for (auto& h : call.headers) up.headers.push_back(std::move(h));
  for (const auto& h : config_.headers) up.headers.push_back(h);
  up.body = std::move(call.body);
  up.connect_timeout = std::chrono::seconds(config_.connect_timeout_s);
  up.read_timeout = std::chrono::seconds(config_.timeout_s);
  up.ca_file = config_.ca_file;
  up.max_idle_connections = config_.max_idle_connections;
  return up;
}

boost::asio::awaitable<std::unique_ptr<upstream::HttpResponse>> HttpProvider::Send(upstream::HttpClient* http,
                                                                                   upstream::HttpRequest request,
                                                                                   Cancellation* cancel,
                                                                                   ProviderOutcome* outcome,
                                                                                   bool pass_client_errors) {
  auto [err, resp] = co_await http->Send(std::move(request), cancel);
  if (err) {
    if (err.kind == upstream::HttpErrorKind::kCancelled) {
      outcome->client_gone = true;
    } else {
      RecordFailure();
      outcome->error = MapTransportError(config_.id, err);
    }
    co_return nullptr;
  }
  const int status = resp->status();
  outcome->upstream_status = status;
  const bool client_error = status >= 400 && status < 500 && status != 401 && status != 403 && status != 429;
  if (pass_client_errors && client_error) co_return std::move(resp);
  if (status < 200 || status >= 300) {
    std::string body;
    auto read_err = co_await resp->ReadAll(&body, kMaxErrorBodyBytes);
    (void)read_err;  // the status alone decides; the body only adds detail
    outcome->error = StatusError(*resp, body);
    co_return nullptr;
  }
  co_return std::move(resp);
}

boost::asio::awaitable<ProviderOutcome> HttpProvider::Chat(ProviderCall call, ChatReceiver& receiver) {
  ProviderOutcome outcome;
  const CodecOptions options{call.drop_params};
  auto encoded = codec_->EncodeChat(*call.chat, call.upstream_model, options);
  if (auto* e = std::get_if<GatewayError>(&encoded)) {
    outcome.error = std::move(*e);
    co_return outcome;
  }
  const bool stream = call.chat->stream;
  upstream::HttpRequest request = BuildRequest(std::move(std::get<UpstreamCall>(encoded)), stream, &outcome);
  std::unique_ptr<upstream::HttpResponse> response = co_await Send(call.http, std::move(request), call.cancel, &outcome);
  if (!response) co_return outcome;

  if (!stream) {
    std::string body;
    const bool read = co_await ReadBody(*response, &body, &outcome);
    if (!read) co_return outcome;
    auto decoded = codec_->DecodeChat(body);
    if (auto* e = std::get_if<GatewayError>(&decoded)) {
      outcome.error = DecodeFailure(std::move(*e));
      co_return outcome;
    }
    RecordSuccess();
    const bool alive = co_await receiver.Response(std::get<chat::Response>(decoded));
    outcome.client_gone = !alive;
    co_return outcome;
  }

  // Each upstream piece is decoded and its events handed on before the next
  // read: nothing is held back beyond what the client protocol needs.
  std::unique_ptr<StreamDecoder> decoder = codec_->NewStreamDecoder();
  Reused<std::vector<chat::StreamEvent>> events_buffer(64);  // a read's worth of chunks
  std::vector<chat::StreamEvent>& events = *events_buffer;
  Reused<std::string> piece_buffer;
  std::string& piece = *piece_buffer;
  bool done = false;
  while (true) {
    piece.clear();
    auto read_err = co_await response->ReadSome(&piece, &done);
    if (read_err) {
      if (read_err.kind == upstream::HttpErrorKind::kCancelled) {
        outcome.client_gone = true;
      } else {
        RecordFailure();
        outcome.error = MapTransportError(config_.id, read_err);
      }
      co_return outcome;
    }
    events.clear();
    if (!piece.empty()) decoder->Feed(piece, &events);
    if (done) decoder->Finish(&events);
    bool terminal = false;
    for (const auto& ev : events) {
      if (ev.kind == chat::EventKind::kError) {
        if (ev.error && ev.error->code != ErrorCode::kRateLimited) RecordFailure();
        terminal = true;
      } else if (ev.kind == chat::EventKind::kFinish) {
        RecordSuccess();
        terminal = true;
      }
    }
    if (!events.empty()) {
      const bool alive = co_await receiver.Events(events);
      if (!alive) {
        call.cancel->Cancel();
        outcome.client_gone = true;
        co_return outcome;
      }
    }
    // After its terminal event nothing more of the upstream body matters; a
    // response dropped before its end closes its connection.
    if (done || terminal) break;
  }
  co_return outcome;
}

boost::asio::awaitable<ProviderOutcome> HttpProvider::Embed(ProviderCall call, chat::EmbedResponse* out) {
  ProviderOutcome outcome;
  auto encoded = codec_->EncodeEmbed(*call.embed, call.upstream_model);
  if (auto* e = std::get_if<GatewayError>(&encoded)) {
    outcome.error = std::move(*e);
    co_return outcome;
  }
  upstream::HttpRequest request = BuildRequest(std::move(std::get<UpstreamCall>(encoded)), false, &outcome);
  std::unique_ptr<upstream::HttpResponse> response = co_await Send(call.http, std::move(request), call.cancel, &outcome);
  if (!response) co_return outcome;
  std::string body;
  const bool read = co_await ReadBody(*response, &body, &outcome);
  if (!read) co_return outcome;
  auto decoded = codec_->DecodeEmbed(body);
  if (auto* e = std::get_if<GatewayError>(&decoded)) {
    outcome.error = DecodeFailure(std::move(*e));
    co_return outcome;
  }
  RecordSuccess();
  *out = std::move(std::get<chat::EmbedResponse>(decoded));
  co_return outcome;
}

boost::asio::awaitable<ProviderOutcome> HttpProvider::CountTokens(ProviderCall call, std::optional<int64_t>* out) {
  ProviderOutcome outcome;
  std::optional<UpstreamCall> encoded = codec_->EncodeCountTokens(*call.chat, call.upstream_model);
  if (!encoded) co_return outcome;  // no endpoint: the gateway estimates
  upstream::HttpRequest request = BuildRequest(std::move(*encoded), false, &outcome);
  std::unique_ptr<upstream::HttpResponse> response = co_await Send(call.http, std::move(request), call.cancel, &outcome);
  if (!response) co_return outcome;
  std::string body;
  const bool read = co_await ReadBody(*response, &body, &outcome);
  if (!read) co_return outcome;
  *out = codec_->DecodeCountTokens(body);
  if (!*out) {
    RecordFailure();
    outcome.error = MalformedError("count_tokens answer without a count");
    co_return outcome;
  }
  RecordSuccess();
  co_return outcome;
}

GatewayError HttpProvider::StatusError(const upstream::HttpResponse& response, const std::string& body) {
  const int status = response.status();
  const std::string detail = codec_->ErrorMessage(body);
  if (status == 429) {
    RecordSuccess();  // the provider is up; it is only busy
    // A 4xx judges the client's traffic: its message is passed on.
    GatewayError e = MakeError(ErrorCode::kRateLimited,
                               "Provider '" + config_.id + "' is rate limiting requests: " + detail);
    if (auto ra = response.header("retry-after"); !ra.empty()) e.retry_after = ra;
    return e;
  }
  if (status == 529 || status == 503) {
    // Overloaded (Anthropic's 529) or unavailable: retryable, like a refused connection.
    RecordFailure();
    return MakeError(ErrorCode::kNoProvider, "Provider '" + config_.id + "' is overloaded or unavailable.",
                     "provider '" + config_.id + "' HTTP " + std::to_string(status) + ": " + detail);
  }
  if (status >= 500) {
    RecordFailure();
    return ProviderError("Provider '" + config_.id + "' returned HTTP " + std::to_string(status) + ".",
                         "provider '" + config_.id + "' HTTP " + std::to_string(status) + ": " + detail);
  }
  if (status == 401 || status == 403) {
    RecordFailure();
    return ProviderError("Provider '" + config_.id + "' rejected the gateway's credentials (HTTP " +
                             std::to_string(status) + ").",
                         "provider '" + config_.id + "' rejected its credentials (HTTP " + std::to_string(status) +
                             "): " + detail);
  }
  RecordSuccess();
  // Other 4xx judge the client's request (translated into the provider's
  // protocol): the upstream's message is passed on.
  ErrorCode code = ErrorCode::kBadRequest;
  if (status == 404) code = ErrorCode::kModelNotFound;
  if (status == 413) code = ErrorCode::kPayloadTooLarge;
  return MakeError(code, "Provider '" + config_.id + "' rejected the request: " + detail,
                   "provider '" + config_.id + "' HTTP " + std::to_string(status) + ": " + detail);
}

boost::asio::awaitable<bool> HttpProvider::ReadBody(upstream::HttpResponse& response, std::string* body,
                                                    ProviderOutcome* outcome) {
  bool done = false;
  while (!done) {
    auto read_err = co_await response.ReadSome(body, &done);
    if (read_err) {
      if (read_err.kind == upstream::HttpErrorKind::kCancelled) {
        outcome->client_gone = true;
      } else {
        RecordFailure();
        outcome->error = MapTransportError(config_.id, read_err);
      }
      co_return false;
    }
    if (body->size() > config_.max_response_bytes) {
      RecordFailure();
      outcome->error = ProviderError("Provider '" + config_.id + "' sent a response larger than the gateway accepts.",
                                     "provider '" + config_.id + "': response body over max_response_bytes (" +
                                         std::to_string(config_.max_response_bytes) + ")");
      co_return false;
    }
  }
  co_return true;
}
boost::asio::awaitable<ProviderOutcome> HttpProvider::Forward(ProviderCall call, ResponseSink& sink) {
  ProviderOutcome outcome;
  const InternalRequest& req = *call.request;
  UpstreamCall up{codec_->PassthroughPath(req, call.upstream_model), RewriteModel(req, call.upstream_model),
                  std::move(call.forward_headers)};
  upstream::HttpRequest request = BuildRequest(std::move(up), req.stream, &outcome);
  std::unique_ptr<upstream::HttpResponse> resp =
      co_await Send(call.http, std::move(request), call.cancel, &outcome, /*pass_client_errors=*/true);
  if (!resp) co_return outcome;
  const int status = resp->status();
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
  const bool check_done = call.request->stream && status < 300 && codec_->protocol() == WireProtocol::kOpenAI;
  std::string tail;
  Reused<std::string> piece_buffer;
  std::string& piece = *piece_buffer;
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
    if (done && (!check_done || EndsWithDone(tail))) {
      // The last piece and the end of the body go out together.
      const bool ended = co_await sink.WriteAndEnd(piece);
      outcome.client_gone = !ended;
      co_return outcome;
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
  // Only an OpenAI stream that ended without [DONE] gets here.
  RecordFailure();
  outcome.error = ProviderError("Provider '" + config_.id + "' ended the stream early.",
                                "provider '" + config_.id + "': stream ended without [DONE]");
  co_return outcome;
}

}  // namespace sy
