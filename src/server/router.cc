#include "server/router.h"

namespace sy {
namespace {

struct Fixed {
  std::string_view path;  // without the optional /v1 prefix
  std::string_view method;
  Endpoint endpoint;
};

constexpr Fixed kApiRoutes[] = {
    {"/chat/completions", "POST", Endpoint::kChatCompletions},
    {"/completions", "POST", Endpoint::kCompletions},
    {"/embeddings", "POST", Endpoint::kEmbeddings},
    {"/models", "GET", Endpoint::kListModels},
};

RouteMatch Check(std::string_view method, std::string_view want, Endpoint endpoint) {
  return RouteMatch{method == want ? endpoint : Endpoint::kMethodNotAllowed, {}};
}

}  // namespace

RouteMatch MatchRoute(std::string_view method, std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/") return Check(method, "GET", Endpoint::kRoot);
  if (path == "/health") return Check(method, "GET", Endpoint::kHealth);
  if (path == "/readiness") return Check(method, "GET", Endpoint::kReadiness);

  if (path.starts_with("/v1/")) path.remove_prefix(3);
  for (const auto& r : kApiRoutes) {
    if (path == r.path) return Check(method, r.method, r.endpoint);
  }
  constexpr std::string_view kModelPrefix = "/models/";
  if (path.starts_with(kModelPrefix) && path.size() > kModelPrefix.size()) {
    RouteMatch m = Check(method, "GET", Endpoint::kGetModel);
    m.param = path.substr(kModelPrefix.size());
    return m;
  }
  return RouteMatch{Endpoint::kNotFound, {}};
}

bool RequiresAuth(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kRoot:
    case Endpoint::kHealth:
    case Endpoint::kReadiness:
    case Endpoint::kNotFound:
      return false;
    default:
      return true;
  }
}

}  // namespace sy
