#include "provider/provider_registry.h"

#include "local/local_provider.h"
#include "provider/http_provider.h"

namespace sy {

ProviderRegistry::ProviderRegistry(const std::vector<config::ProviderConfig>& providers,
                                   const std::string& config_dir) {
  for (const auto& p : providers) {
    if (p.type == "local") {
      providers_.push_back(std::make_unique<local::LocalProvider>(p, local::SharedHost(p, config_dir)));
    } else {
      providers_.push_back(std::make_unique<HttpProvider>(p));
    }
  }
}

std::unordered_map<std::string, Provider*> ProviderRegistry::ById() const {
  std::unordered_map<std::string, Provider*> out;
  for (const auto& p : providers_) out.emplace(p->id(), p.get());
  return out;
}

}  // namespace sy
