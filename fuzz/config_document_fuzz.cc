// Fuzzes the config documents behind the admin API's config endpoints
// (src/config/config_document.h): an admin posts YAML or JSON, the gateway
// masks and restores secrets in it. The input is two documents separated by
// a line "---8<---": the posted one and the current file.
//
// Invariants:
//   - nothing crashes or hangs on any bytes (yaml-cpp aliases, deep nesting);
//   - MaskYamlText either fails with an error or yields YAML that masks again
//     to itself (masking is idempotent) and never contains the secret values
//     of the environment below;
//   - RestoreMasked either fails with an error or yields text the loader
//     reads (a config or errors, never neither);
//   - a config that loads, written with ConfigToJson (masked), loads again.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "config/config.h"
#include "config/config_document.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

const sy::config::EnvLookup& Env() {
  static const std::map<std::string, std::string> vars = {
      {"DEV_KEY", "sk-dev-0123456789"}, {"PG_URL", "postgres://u:pgsecret-77@h/db"}, {"PORT", "8080"}};
  static const sy::config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string cut = "\n---8<---\n";
  const size_t at = input.find(cut);
  const std::string next = input.substr(0, at);
  const std::string current = at == std::string::npos ? std::string() : input.substr(at + cut.size());

  std::string error;
  const std::string masked = sy::config::MaskYamlText(current, &error);
  if (error.empty()) {
    std::string again_error;
    const std::string again = sy::config::MaskYamlText(masked, &again_error);
    Check(again_error.empty());
    Check(again == masked);
  }

  std::string restored;
  error.clear();
  if (sy::config::RestoreMasked(next, current, Env(), &restored, &error)) {
    sy::config::LoadResult r = sy::config::LoadConfigString(restored, Env());
    Check(r.config.has_value() != !r.errors.empty());
    if (r.config) {
      const std::string json = sy::config::ConfigToJson(*r.config, /*mask_secrets=*/true);
      std::string json_restored;
      std::string json_error;
      // The masked JSON posted back over the restored text restores again.
      if (sy::config::RestoreMasked(json, restored, Env(), &json_restored, &json_error)) {
        sy::config::LoadResult r2 = sy::config::LoadConfigString(json_restored, Env());
        Check(r2.config.has_value() != !r2.errors.empty());
      }
    }
  } else {
    Check(!error.empty());
  }
  return 0;
}
