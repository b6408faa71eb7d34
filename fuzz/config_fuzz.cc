// Fuzzes the configuration loader (src/config/config.h): YAML text in, with
// an EnvLookup that knows a few variables so ${VAR} expansion runs.
//
// Invariants:
//   - LoadConfigString returns either a config or errors, never both and
//     never neither; every error has a path and a message;
//   - an accepted config holds what the loader promises: a listen address
//     SplitListen reads, unique non-empty provider ids, unique client key
//     names and values, keys when auth is "keys" and store is "none", model aliases whose
//     provider is defined and whose target splits into that provider and
//     model, and base URLs from which the upstream URL parser
//     (src/upstream/url.h) builds every endpoint URL.
//
// fuzz/regressions/config_fuzz/ holds what it found: YAML alias amplification
// and a lone "," on which yaml-cpp 0.7's YAML::LoadAll never ends.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "config/config.h"
#include "upstream/url.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

const sy::config::EnvLookup& Env() {
  static const std::map<std::string, std::string> vars = {
      {"DEV_KEY", "sk-dev-0123456789"},
      {"CI_KEY", "sk-ci-9876543210"},
      {"OPENAI_API_KEY", "sk-openai"},
      {"SWITCHYARD_ADMIN_KEY", "sk-admin"},
      {"PORT", "8080"},
      {"HOST", "127.0.0.1"},
      {"EMPTY", ""},
      {"NESTED", "${DEV_KEY}"},  // never expanded again
  };
  static const sy::config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  return env;
}

void CheckConfig(const sy::config::Config& c) {
  std::string host;
  uint16_t port = 0;
  Check(sy::config::SplitListen(c.server.listen, &host, &port));

  std::set<std::string> ids;
  for (const auto& p : c.providers) {
    Check(!p.id.empty() && ids.insert(p.id).second);
    for (const char* tail : {"/chat/completions", "/completions", "/embeddings"}) {
      Check(sy::upstream::ParseUrl(p.base_url + tail).has_value());
    }
  }
  std::set<std::string> names;
  std::set<std::string> values;
  for (const auto& k : c.keys) {
    Check(names.insert(k.name).second && values.insert(k.key).second);
  }
  // Without a store the config's keys are the only ones there can be.
  if (c.server.auth == sy::config::AuthMode::kKeys && c.store == "none") Check(!c.keys.empty());
  for (const auto& m : c.models) {
    Check(ids.count(m.provider) == 1);
    std::string provider;
    std::string model;
    Check(sy::config::SplitTarget(m.target, &provider, &model));
    Check(provider == m.provider && model == m.upstream_model);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const sy::config::LoadResult result = sy::config::LoadConfigString(text, Env());
  Check(result.config.has_value() != !result.errors.empty());
  for (const auto& e : result.errors) Check(!e.path.empty() && !e.message.empty());
  if (result.config) CheckConfig(*result.config);
  return 0;
}
