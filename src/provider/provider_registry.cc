#include "provider/provider_registry.h"

#include "provider/http_provider.h"

namespace sy {

ProviderRegistry::ProviderRegistry(const std::vector<config::ProviderConfig>& providers) {
  for (const auto& p : providers) {
    providers_.push_back(std::make_unique<HttpProvider>(p));
  }
}

std::unordered_map<std::string, Provider*> ProviderRegistry::ById() const {
  std::unordered_map<std::string, Provider*> out;
  for (const auto& p : providers_) out.emplace(p->id(), p.get());
  return out;
}

}  // namespace sy
