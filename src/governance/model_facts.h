// What /v1/models tells about a model beyond its name (GhostLLM's fields):
// context window and capabilities of well-known upstream model families,
// matched by the longest prefix of the upstream name. Unknown models get
// zeros and streaming only; the config's context_length overrides.
#pragma once

#include <cstdint>
#include <string_view>

namespace sy::gov {

struct ModelFacts {
  int64_t context_length = 0;  // tokens; 0 = unknown
  bool vision = false;
  bool functions = false;
};

ModelFacts FactsOf(std::string_view upstream_model);

}  // namespace sy::gov
