// The provider for every upstream protocol: transport, keys, health and
// limits are here once; what differs between OpenAI, Anthropic, Gemini and
// Ollama upstreams is in the UpstreamCodec it holds (provider/<type>/).
//
// Passthrough (Forward): the body goes upstream with only the model value
// replaced, and the answer comes back byte for byte, piece by piece as it
// arrives. Translated (Chat, Embed, CountTokens): the codec encodes the typed
// request and decodes the answer; streams are decoded piece by piece and
// handed on at once, never buffered.
//
// Thread-safety: calls may run on every worker thread at once; the only
// shared mutable state is atomics (key rotation, health counters).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/codec.h"
#include "provider/provider.h"
#include "upstream/http_client.h"

namespace sy {

// The codec for a provider type ("openai", "anthropic", "gemini", "ollama").
// REQUIRES: a type the config loader accepts.
std::unique_ptr<UpstreamCodec> MakeCodec(const std::string& type);

class HttpProvider final : public Provider {
 public:
  // `codec` null: the codec of config.type.
  explicit HttpProvider(config::ProviderConfig config, std::unique_ptr<UpstreamCodec> codec = nullptr);

  const std::string& id() const override { return config_.id; }
  const std::string& display_name() const override { return config_.name; }
  WireProtocol protocol() const override { return codec_->protocol(); }
  bool drop_params() const override { return config_.drop_params; }
  bool enabled() const override { return config_.enabled; }
  std::vector<ProviderKeyUsage> KeyUsage() const override;
  void CountKeyUse(int key_index, int64_t tokens, bool error) override;
  bool healthy() const override;
  boost::asio::awaitable<ProviderOutcome> Forward(ProviderCall call, ResponseSink& sink) override;
  boost::asio::awaitable<ProviderOutcome> Chat(ProviderCall call, ChatReceiver& receiver) override;
  boost::asio::awaitable<ProviderOutcome> Embed(ProviderCall call, chat::EmbedResponse* out) override;
  boost::asio::awaitable<ProviderOutcome> CountTokens(ProviderCall call, std::optional<int64_t>* out) override;

  const config::ProviderConfig& config() const { return config_; }

  // Index into config().keys of the key the next request will use, in
  // weighted turn. REQUIRES: at least one key. Exposed for tests.
  size_t NextKeyIndex();

  // The body to send upstream: raw_body with its model value replaced (as it
  // is when the model is not in the body).
  static std::string RewriteModel(const InternalRequest& request, const std::string& upstream_model);

 private:
  // The upstream request for `call` (path from the codec), with auth and the
  // configured headers.
  upstream::HttpRequest BuildRequest(UpstreamCall call, bool stream, ProviderOutcome* outcome);
  // Sends and waits for the head. On failure (transport, or a non-2xx
  // status) sets outcome->error or outcome->client_gone and returns null.
  // pass_client_errors: a 4xx that judges the client's request (not 401,
  // 403 or 429) is returned like a 2xx, for passthrough.
  boost::asio::awaitable<std::unique_ptr<upstream::HttpResponse>> Send(upstream::HttpClient* http,
                                                                       upstream::HttpRequest request,
                                                                       Cancellation* cancel,
                                                                       ProviderOutcome* outcome,
                                                                       bool pass_client_errors = false);
  // For a non-2xx status: the error to report. `body` is the start of the
  // upstream's error body. A 4xx that judges the client's request is a
  // kBadRequest (or kModelNotFound) with the upstream's message.
  GatewayError StatusError(const upstream::HttpResponse& response, const std::string& body);
  // Reads a whole body of at most max_response_bytes (translated calls).
  boost::asio::awaitable<bool> ReadBody(upstream::HttpResponse& response, std::string* body, ProviderOutcome* outcome);
  void RecordSuccess();
  void RecordFailure();
  GatewayError MalformedError(const std::string& what) const;
  // A codec's DecodeChat/DecodeEmbed failure as the client's error (and the
  // provider's health).
  GatewayError DecodeFailure(GatewayError error);

  config::ProviderConfig config_;
  std::unique_ptr<UpstreamCodec> codec_;
  std::string base_;  // base_url without a trailing slash
  std::vector<std::pair<std::string, std::string>> auth_headers_;  // per key
  std::vector<uint32_t> cumulative_weights_;
  std::atomic<uint64_t> next_key_{0};
  struct KeyCounters {
    std::atomic<uint64_t> requests{0}, tokens{0}, errors{0};
  };
  std::unique_ptr<KeyCounters[]> key_counters_;  // one per config_.keys
  std::atomic<int> consecutive_failures_{0};
};

}  // namespace sy
