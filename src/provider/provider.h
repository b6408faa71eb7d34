// The provider seam: turns a request into an upstream call, either as a
// passthrough (the client's body, model rewritten, and the upstream's bytes
// back) or translated (a typed chat::Request out, chat::Response or
// chat::StreamEvent back).
//
// Implementation: HttpProvider (http_provider.h), one class for every
// upstream protocol, holding that protocol's UpstreamCodec (core/codec.h).
// Tests use a FakeHttpClient under the real provider.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/cancellation.h"
#include "core/chat.h"
#include "core/codec.h"
#include "core/errors.h"
#include "core/request.h"
#include "core/response_sink.h"

namespace sy {

namespace upstream {
class HttpClient;
}
namespace local {
class LocalProvider;
}

// Per-request context handed to a provider.
struct ProviderCall {
  const InternalRequest* request = nullptr;
  std::string upstream_model;            // model name to send upstream
  upstream::HttpClient* http = nullptr;  // this worker thread's client
  Cancellation* cancel = nullptr;        // fires when the client goes away
  // Translated calls: the typed request (chat or embeddings).
  const chat::Request* chat = nullptr;
  const chat::EmbedRequest* embed = nullptr;
  bool drop_params = false;  // the route's drop_params (alias, else provider)
  // Passthrough: client headers of the same protocol worth forwarding
  // (anthropic-version, anthropic-beta).
  HeaderList forward_headers;
  // A chat session the request continues (the Rust seed's session-id):
  // a local engine keeps its cache warm for it. "" = none.
  std::string session = {};
};

struct ProviderOutcome {
  // Set when the call failed. If the response had not begun the front door
  // turns it into an error response; otherwise it was already under way.
  std::optional<GatewayError> error;
  int upstream_status = 0;  // 0 when no response arrived
  bool client_gone = false; // the client disconnected; nothing more can be sent
  int key_index = -1;        // which of the provider's keys the call used; -1 = none
};

// Use of one provider key, for the admin API.
struct ProviderKeyUsage {
  std::string id;  // the key's id from the config (never its value)
  uint64_t requests = 0;
  uint64_t tokens = 0;
  uint64_t errors = 0;
};

// Where a translated chat answer goes: the gateway encodes it with the
// client's front door.
class ChatReceiver {
 public:
  virtual ~ChatReceiver() = default;
  // Non-stream: the whole response. Returns false when the client is gone.
  virtual boost::asio::awaitable<bool> Response(chat::Response& response) = 0;
  // Stream: the events decoded from one upstream piece, sent on at once.
  virtual boost::asio::awaitable<bool> Events(std::vector<chat::StreamEvent>& events) = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const std::string& id() const = 0;
  virtual const std::string& display_name() const = 0;
  // The protocol its upstream speaks; a request of the same protocol is
  // passed through.
  virtual WireProtocol protocol() const = 0;
  // False for a provider that always translates (local models have no
  // upstream wire format to pass a body through to).
  virtual bool passthrough() const { return true; }
  virtual bool drop_params() const = 0;
  // A model this provider serves under its own bare name (a local model
  // file), beside provider/model.
  virtual bool HasModel(std::string_view name) const { return false; }
  // The local provider, when this is one.
  virtual local::LocalProvider* local() { return nullptr; }
  // False when the config (or the admin API) switched it off.
  virtual bool enabled() const { return true; }
  // Per-key counters: requests are counted when a call is sent; tokens and
  // errors by the gateway once the call is settled.
  virtual std::vector<ProviderKeyUsage> KeyUsage() const { return {}; }
  virtual void CountKeyUse(int key_index, int64_t tokens, bool error) {}
  // Passive health: false after several consecutive failed upstream calls,
  // true again after the next success.
  virtual bool healthy() const = 0;

  // Passthrough: call.request->raw_body goes up with the model rewritten;
  // the upstream's status, headers and body go to `sink` as they arrive.
  virtual boost::asio::awaitable<ProviderOutcome> Forward(ProviderCall call, ResponseSink& sink) = 0;
  // Translated chat: call.chat goes up in the provider's protocol; the
  // answer comes back decoded into `receiver`.
  virtual boost::asio::awaitable<ProviderOutcome> Chat(ProviderCall call, ChatReceiver& receiver) = 0;
  // Translated embeddings: call.embed → *out.
  virtual boost::asio::awaitable<ProviderOutcome> Embed(ProviderCall call, chat::EmbedResponse* out) = 0;
  // Token count of call.chat; *out stays nullopt when the upstream has no
  // counting endpoint (the gateway then estimates).
  virtual boost::asio::awaitable<ProviderOutcome> CountTokens(ProviderCall call, std::optional<int64_t>* out) = 0;
};

}  // namespace sy
