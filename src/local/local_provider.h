// The provider of `type: local`: GGUF models from a folder, run by a local
// engine (ModelHost), answering through every front door like a remote
// model. Requests are always translated (there is no upstream wire format to
// pass through): chat::Request → the engine protocol → chat::Response or
// chat::StreamEvent.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "local/model_host.h"
#include "provider/provider.h"

namespace sy::local {

class LocalProvider final : public Provider {
 public:
  LocalProvider(config::ProviderConfig config, std::shared_ptr<ModelHost> host);

  const std::string& id() const override { return config_.id; }
  const std::string& display_name() const override { return config_.name; }
  WireProtocol protocol() const override { return WireProtocol::kOpenAI; }
  bool passthrough() const override { return false; }
  bool drop_params() const override { return config_.drop_params; }
  bool enabled() const override { return config_.enabled; }
  bool healthy() const override { return true; }
  bool HasModel(std::string_view name) const override;
  LocalProvider* local() override { return this; }

  boost::asio::awaitable<ProviderOutcome> Forward(ProviderCall call, ResponseSink& sink) override;
  boost::asio::awaitable<ProviderOutcome> Chat(ProviderCall call, ChatReceiver& receiver) override;
  boost::asio::awaitable<ProviderOutcome> Embed(ProviderCall call, chat::EmbedResponse* out) override;
  boost::asio::awaitable<ProviderOutcome> CountTokens(ProviderCall call, std::optional<int64_t>* out) override;

  ModelHost& host() const { return *host_; }
  const config::ProviderConfig& config() const { return config_; }

 private:
  config::ProviderConfig config_;
  std::shared_ptr<ModelHost> host_;
};

// The host of a provider: the one already running for the same provider id
// and settings (a config reload keeps loaded models), else a new one.
std::shared_ptr<ModelHost> SharedHost(const config::ProviderConfig& config, const std::string& config_dir);

// A seed for a request that names none.
int64_t RandomSeed();

}  // namespace sy::local
