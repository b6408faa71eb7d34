// The admin API: GhostLLM's /admin/* and /status, TruckLLM's /admin/v1/*,
// llm-mux's /v0/management/*. Admin callers only (the gateway checked the
// key); every answer is JSON in the OpenAI error shape on failure. Database
// work runs on the admin thread, never on a worker's event loop.
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/awaitable.hpp>

#include "core/response_sink.h"

namespace sy {

class Gateway;
struct GatewayRequest;
struct Admission;

class AdminApi {
 public:
  explicit AdminApi(Gateway& gateway);
  ~AdminApi();
  boost::asio::awaitable<void> Handle(GatewayRequest& request, const Admission& admission, ResponseSink& sink);

 private:
  struct Worker;
  Gateway& gateway_;
  std::unique_ptr<Worker> worker_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace sy
