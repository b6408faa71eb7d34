// Maps an HTTP method and target to an endpoint. Pure function, no state.
#pragma once

#include <string_view>

namespace sy {

enum class Endpoint {
  kRoot,             // GET /
  kHealth,           // GET /health
  kReadiness,        // GET /readiness
  kListModels,       // GET /v1/models
  kGetModel,         // GET /v1/models/{id}
  kChatCompletions,  // POST /v1/chat/completions
  kCompletions,      // POST /v1/completions
  kEmbeddings,       // POST /v1/embeddings
  kNotFound,
  kMethodNotAllowed,
};

struct RouteMatch {
  Endpoint endpoint = Endpoint::kNotFound;
  std::string_view param;  // the {id} of /v1/models/{id}, still percent-encoded
};

// The /v1 prefix is optional ("/chat/completions" works too), as many clients
// are configured with a base URL that lacks it. The query string is ignored.
RouteMatch MatchRoute(std::string_view method, std::string_view target);

// Whether the endpoint needs a client key (when server.auth is "keys").
bool RequiresAuth(Endpoint endpoint);

}  // namespace sy
