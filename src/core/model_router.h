// Resolves the model a client names to a provider and an upstream model.
//
// Order: an exact alias from `models:` wins; otherwise "provider://model" or
// "provider/model" when the provider exists; otherwise a local model file of
// that name (providers of type local, by id); otherwise model_not_found.
// Immutable after construction, so it is shared by all worker threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "config/config.h"
#include "core/errors.h"

namespace sy {

class Provider;

struct Route {
  Provider* provider = nullptr;
  std::string upstream_model;
  std::optional<bool> drop_params;  // the alias's override of the provider's drop_params
};

struct ModelInfo {
  std::string id;        // the alias clients use
  std::string provider;  // provider id that serves it
};

class ModelRouter {
 public:
  // `providers` maps provider id to provider; pointers must outlive the router.
  ModelRouter(const std::vector<config::ModelAlias>& aliases,
              std::unordered_map<std::string, Provider*> providers);

  std::variant<Route, GatewayError> Resolve(std::string_view model) const;
  // Resolve, and when that fails and the name ends in ":latest" (Ollama
  // clients add it), Resolve without it.
  std::variant<Route, GatewayError> ResolveLoose(std::string_view model) const;

  // Aliases in configuration order: what GET /v1/models lists.
  const std::vector<ModelInfo>& models() const { return models_; }
  // Number of aliases served by one provider.
  size_t ModelCount(const std::string& provider_id) const;

 private:
  struct Target {
    Provider* provider;
    std::string upstream_model;
    std::optional<bool> drop_params;
  };
  std::unordered_map<std::string, Target> aliases_;
  std::unordered_map<std::string, Provider*> providers_;
  std::vector<Provider*> bare_name_providers_;  // local providers, by id
  std::vector<ModelInfo> models_;
};

}  // namespace sy
