#include "core/model_router.h"

#include <algorithm>

#include "provider/provider.h"

namespace sy {

ModelRouter::ModelRouter(const std::vector<config::ModelAlias>& aliases,
                         std::unordered_map<std::string, Provider*> providers)
    : providers_(std::move(providers)) {
  for (const auto& [id, p] : providers_) {
    if (p->local()) bare_name_providers_.push_back(p);
  }
  std::sort(bare_name_providers_.begin(), bare_name_providers_.end(),
            [](Provider* a, Provider* b) { return a->id() < b->id(); });
  for (const auto& alias : aliases) {
    auto it = providers_.find(alias.provider);
    if (it == providers_.end()) continue;  // validation rejects this; be safe anyway
    aliases_.emplace(alias.name, Target{it->second, alias.upstream_model, alias.drop_params});
    models_.push_back(ModelInfo{alias.name, alias.provider});
  }
}

std::variant<Route, GatewayError> ModelRouter::Resolve(std::string_view model) const {
  if (auto it = aliases_.find(std::string(model)); it != aliases_.end()) {
    return Route{it->second.provider, it->second.upstream_model, it->second.drop_params};
  }
  size_t sep = model.find("://");
  size_t skip = 3;
  if (sep == std::string_view::npos) {
    sep = model.find('/');
    skip = 1;
  }
  if (sep != std::string_view::npos && sep > 0 && sep + skip < model.size()) {
    auto it = providers_.find(std::string(model.substr(0, sep)));
    if (it != providers_.end()) {
      return Route{it->second, std::string(model.substr(sep + skip)), std::nullopt};
    }
  }
  // A local model by its file name.
  for (Provider* p : bare_name_providers_) {
    if (p->HasModel(model)) return Route{p, std::string(model), std::nullopt};
  }
  return GatewayError{ErrorCode::kModelNotFound,
                      "The model '" + std::string(model) + "' does not exist or you do not have access to it.",
                      std::string("model"), std::nullopt, {}};
}

std::variant<Route, GatewayError> ModelRouter::ResolveLoose(std::string_view model) const {
  auto first = Resolve(model);
  constexpr std::string_view kLatest = ":latest";
  if (std::holds_alternative<Route>(first) || !model.ends_with(kLatest)) return first;
  auto second = Resolve(model.substr(0, model.size() - kLatest.size()));
  if (std::holds_alternative<Route>(second)) return second;
  return first;
}

size_t ModelRouter::ModelCount(const std::string& provider_id) const {
  size_t n = 0;
  for (const auto& m : models_) n += m.provider == provider_id;
  return n;
}

}  // namespace sy
