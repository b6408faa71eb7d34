#include "server/router.h"

namespace sy {
namespace {

struct Fixed {
  std::string_view path;
  std::string_view method;
  Endpoint endpoint;
  WireProtocol protocol;
};

// Paths under the optional /v1 prefix (OpenAI and Anthropic).
constexpr Fixed kV1Routes[] = {
    {"/chat/completions", "POST", Endpoint::kChatCompletions, WireProtocol::kOpenAI},
    {"/completions", "POST", Endpoint::kCompletions, WireProtocol::kOpenAI},
    {"/embeddings", "POST", Endpoint::kEmbeddings, WireProtocol::kOpenAI},
    {"/models", "GET", Endpoint::kListModels, WireProtocol::kOpenAI},
    {"/responses", "POST", Endpoint::kResponses, WireProtocol::kOpenAIResponses},
    {"/messages", "POST", Endpoint::kMessages, WireProtocol::kAnthropic},
    {"/messages/count_tokens", "POST", Endpoint::kMessagesCountTokens, WireProtocol::kAnthropic},
};

constexpr Fixed kOllamaRoutes[] = {
    {"/api/chat", "POST", Endpoint::kOllamaChat, WireProtocol::kOllama},
    {"/api/generate", "POST", Endpoint::kOllamaGenerate, WireProtocol::kOllama},
    {"/api/embed", "POST", Endpoint::kOllamaEmbed, WireProtocol::kOllama},
    {"/api/embeddings", "POST", Endpoint::kOllamaEmbeddings, WireProtocol::kOllama},
    {"/api/tags", "GET", Endpoint::kOllamaTags, WireProtocol::kOllama},
    {"/api/show", "POST", Endpoint::kOllamaShow, WireProtocol::kOllama},
    {"/api/version", "GET", Endpoint::kOllamaVersion, WireProtocol::kOllama},
    {"/api/ps", "GET", Endpoint::kOllamaPs, WireProtocol::kOllama},
};

struct GeminiMethod {
  std::string_view name;
  Endpoint endpoint;
};

constexpr GeminiMethod kGeminiMethods[] = {
    {"generateContent", Endpoint::kGeminiGenerate},
    {"streamGenerateContent", Endpoint::kGeminiStream},
    {"countTokens", Endpoint::kGeminiCountTokens},
    {"embedContent", Endpoint::kGeminiEmbed},
    {"batchEmbedContents", Endpoint::kGeminiBatchEmbed},
};

RouteMatch Check(std::string_view method, std::string_view want, Endpoint endpoint, WireProtocol protocol,
                 std::string_view param = {}) {
  return RouteMatch{method == want ? endpoint : Endpoint::kMethodNotAllowed, protocol, param};
}

// "/models/{model}:{method}" with a known Gemini method; kNotFound otherwise.
RouteMatch MatchGeminiCall(std::string_view method, std::string_view rest) {
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return RouteMatch{Endpoint::kNotFound, WireProtocol::kGemini, {}};
  const std::string_view name = rest.substr(colon + 1);
  for (const auto& m : kGeminiMethods) {
    if (name == m.name) return Check(method, "POST", m.endpoint, WireProtocol::kGemini, rest.substr(0, colon));
  }
  return RouteMatch{Endpoint::kNotFound, WireProtocol::kGemini, {}};
}

WireProtocol GuessProtocol(std::string_view path) {
  if (path.starts_with("/api/")) return WireProtocol::kOllama;
  if (path.starts_with("/v1beta/")) return WireProtocol::kGemini;
  if (path.starts_with("/v1/messages")) return WireProtocol::kAnthropic;
  return WireProtocol::kOpenAI;
}

}  // namespace

RouteMatch MatchRoute(std::string_view method, std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/") return Check(method, "GET", Endpoint::kRoot, WireProtocol::kOpenAI);
  if (path == "/health") return Check(method, "GET", Endpoint::kHealth, WireProtocol::kOpenAI);
  if (path == "/readiness") return Check(method, "GET", Endpoint::kReadiness, WireProtocol::kOpenAI);
  if (path == "/status" || path == "/admin" || path.starts_with("/admin/") || path.starts_with("/v0/management/") ||
      path == "/v0/management") {
    return RouteMatch{Endpoint::kAdmin, WireProtocol::kOpenAI, path};
  }
  for (const auto& r : kOllamaRoutes) {
    if (path == r.path) return Check(method, r.method, r.endpoint, r.protocol);
  }

  constexpr std::string_view kModelPrefix = "/models/";
  if (path.starts_with("/v1beta/")) {
    std::string_view rest = path.substr(7);  // "/models..."
    if (rest == "/models") return Check(method, "GET", Endpoint::kGeminiListModels, WireProtocol::kGemini);
    if (rest.starts_with(kModelPrefix) && rest.size() > kModelPrefix.size()) {
      rest.remove_prefix(kModelPrefix.size());
      RouteMatch call = MatchGeminiCall(method, rest);
      if (call.endpoint != Endpoint::kNotFound) return call;
      if (rest.find(':') == std::string_view::npos && rest.find('/') == std::string_view::npos) {
        return Check(method, "GET", Endpoint::kGeminiGetModel, WireProtocol::kGemini, rest);
      }
    }
    return RouteMatch{Endpoint::kNotFound, WireProtocol::kGemini, {}};
  }

  // The LLM service's sessions.
  if (path == "/sessions") return Check(method, "GET", Endpoint::kSessions, WireProtocol::kLlmService);
  if (path == "/chat/ws") return Check(method, "GET", Endpoint::kChatSocket, WireProtocol::kLlmService);
  constexpr std::string_view kHistoryPrefix = "/chat/history/";
  if (path.starts_with(kHistoryPrefix) && path.size() > kHistoryPrefix.size()) {
    std::string_view id = path.substr(kHistoryPrefix.size());
    constexpr std::string_view kRollback = "/rollback";
    if (id.ends_with(kRollback) && id.size() > kRollback.size()) {
      id.remove_suffix(kRollback.size());
      if (id.find('/') == std::string_view::npos) {
        return Check(method, "POST", Endpoint::kChatRollback, WireProtocol::kLlmService, id);
      }
    } else if (id.find('/') == std::string_view::npos) {
      if (method == "DELETE") return RouteMatch{Endpoint::kChatHistoryDelete, WireProtocol::kLlmService, id};
      return Check(method, "GET", Endpoint::kChatHistory, WireProtocol::kLlmService, id);
    }
    return RouteMatch{Endpoint::kNotFound, WireProtocol::kLlmService, {}};
  }

  const bool v1 = path.starts_with("/v1/");
  if (v1) path.remove_prefix(3);
  for (const auto& r : kV1Routes) {
    if (path == r.path) {
      RouteMatch m = Check(method, r.method, r.endpoint, r.protocol);
      m.v1 = v1;
      return m;
    }
  }
  if (path.starts_with(kModelPrefix) && path.size() > kModelPrefix.size()) {
    const std::string_view rest = path.substr(kModelPrefix.size());
    // Gemini clients configured with /v1 instead of /v1beta.
    RouteMatch call = MatchGeminiCall(method, rest);
    if (call.endpoint != Endpoint::kNotFound) return call;
    RouteMatch m = Check(method, "GET", Endpoint::kGetModel, WireProtocol::kOpenAI, rest);
    m.v1 = v1;
    return m;
  }
  return RouteMatch{Endpoint::kNotFound, GuessProtocol(target.substr(0, target.find('?'))), {}};
}

bool RequiresAuth(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kRoot:
    case Endpoint::kHealth:
    case Endpoint::kReadiness:
    case Endpoint::kNotFound:
    case Endpoint::kOllamaVersion:  // a liveness probe of Ollama clients, like GET /
      return false;
    default:
      return true;
  }
}

std::string_view QueryParam(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace sy
