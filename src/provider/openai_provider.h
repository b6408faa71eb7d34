// A provider for any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server,
// OpenRouter, ...). With the OpenAI front door it is a passthrough: the body
// goes upstream with only the model value replaced, and the answer comes back
// byte for byte, piece by piece as it arrives.
//
// Thread-safety: Forward may run on every worker thread at once; the only
// shared mutable state is atomics (key rotation, health counters).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "config/config.h"
#include "provider/provider.h"
#include "upstream/http_client.h"

namespace sy {

class OpenAiProvider final : public Provider {
 public:
  explicit OpenAiProvider(config::ProviderConfig config);

  const std::string& id() const override { return config_.id; }
  const std::string& display_name() const override { return config_.name; }
  bool healthy() const override;
  boost::asio::awaitable<ProviderOutcome> Forward(ProviderCall call, ResponseSink& sink) override;

  const config::ProviderConfig& config() const { return config_; }

  // Index into config().keys of the key the next request will use, in
  // weighted turn. REQUIRES: at least one key. Exposed for tests.
  size_t NextKeyIndex();

  // The body to send upstream: raw_body with its model value replaced.
  static std::string RewriteModel(const InternalRequest& request, const std::string& upstream_model);

 private:
  upstream::HttpRequest BuildRequest(const ProviderCall& call);
  void RecordSuccess();
  void RecordFailure();

  config::ProviderConfig config_;
  std::string endpoint_urls_[3];  // indexed by Operation
  std::vector<std::string> bearer_values_;  // "Bearer <key>" per key
  std::vector<uint32_t> cumulative_weights_;
  std::atomic<uint64_t> next_key_{0};
  std::atomic<int> consecutive_failures_{0};
};

}  // namespace sy
