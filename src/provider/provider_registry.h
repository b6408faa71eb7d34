// Builds and owns the configured providers. Immutable after construction.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "provider/provider.h"

namespace sy {

class ProviderRegistry {
 public:
  // REQUIRES: `providers` passed config validation (known types, unique ids).
  // `config_dir`: the config file's folder (local models_dir is relative to it).
  explicit ProviderRegistry(const std::vector<config::ProviderConfig>& providers, const std::string& config_dir = ".");

  const std::vector<std::unique_ptr<Provider>>& all() const { return providers_; }
  std::unordered_map<std::string, Provider*> ById() const;

 private:
  std::vector<std::unique_ptr<Provider>> providers_;
};

}  // namespace sy
