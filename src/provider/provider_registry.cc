#include "provider/provider_registry.h"

#include "provider/openai_provider.h"

namespace sy {

ProviderRegistry::ProviderRegistry(const std::vector<config::ProviderConfig>& providers) {
  for (const auto& p : providers) {
    // "openai" is the only type so far; validation rejects the rest.
    providers_.push_back(std::make_unique<OpenAiProvider>(p));
  }
}

std::unordered_map<std::string, Provider*> ProviderRegistry::ById() const {
  std::unordered_map<std::string, Provider*> out;
  for (const auto& p : providers_) out.emplace(p->id(), p.get());
  return out;
}

}  // namespace sy
