// The provider seam: turns an InternalRequest into an upstream call and writes
// the answer to a ResponseSink.
//
// Implementations: OpenAiProvider (openai_provider.h) for any OpenAI-compatible
// server. Tests use a FakeHttpClient under the real provider, or FakeProvider.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/cancellation.h"
#include "core/errors.h"
#include "core/request.h"
#include "core/response_sink.h"

namespace sy {

namespace upstream {
class HttpClient;
}

// Per-request context handed to a provider.
struct ProviderCall {
  const InternalRequest* request = nullptr;
  std::string upstream_model;            // model name to send upstream
  upstream::HttpClient* http = nullptr;  // this worker thread's client
  Cancellation* cancel = nullptr;        // fires when the client goes away
};

struct ProviderOutcome {
  // Set when the call failed. If sink.started() is false the front door turns
  // it into an error response; otherwise the response was already under way.
  std::optional<GatewayError> error;
  int upstream_status = 0;  // 0 when no response arrived
  bool client_gone = false; // the client disconnected; nothing more can be sent
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const std::string& id() const = 0;
  virtual const std::string& display_name() const = 0;
  // Passive health: false after several consecutive failed upstream calls,
  // true again after the next success.
  virtual bool healthy() const = 0;
  virtual boost::asio::awaitable<ProviderOutcome> Forward(ProviderCall call, ResponseSink& sink) = 0;
};

}  // namespace sy
