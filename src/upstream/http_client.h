// The upstream HTTP client seam.
//
// One HttpClient lives on each worker thread and owns that thread's keep-alive
// connection pools; it is never shared between threads. Responses are read
// incrementally so that streams are forwarded as they arrive.
//
// Implementations: BeastHttpClient (beast_http_client.h) for real traffic,
// FakeHttpClient (tests/unit/upstream/fake_http_client.h) for tests.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/cancellation.h"

namespace sy::upstream {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "POST";
  std::string url;       // absolute: https://host[:port]/path
  Headers headers;       // Host, Content-Length and Connection are set by the client
  std::string body;
  std::chrono::milliseconds connect_timeout{10000};  // connect + proxy CONNECT + TLS handshake
  std::chrono::milliseconds read_timeout{600000};    // longest silence while reading the response
  std::string ca_file;   // extra trusted CA bundle (PEM); empty = system store only
  size_t max_idle_connections = 64;  // pool size for this origin on this thread
};

enum class HttpErrorKind {
  kNone,
  kBadUrl,         // the URL could not be parsed
  kConnect,        // DNS, refused, unreachable, proxy refused the tunnel
  kTls,            // handshake or certificate verification failed
  kTimeout,        // connect_timeout or read_timeout elapsed
  kProtocol,       // the upstream sent something that is not HTTP/1.1
  kClosed,         // the upstream closed the connection mid-response
  kCancelled,      // the request's Cancellation fired
};

struct HttpError {
  HttpErrorKind kind = HttpErrorKind::kNone;
  std::string message;  // for logs; contains no secrets
  explicit operator bool() const { return kind != HttpErrorKind::kNone; }
};

// A response whose headers have arrived and whose body is read piece by piece.
class HttpResponse {
 public:
  virtual ~HttpResponse() = default;
  virtual int status() const = 0;
  virtual const Headers& headers() const = 0;  // names as received
  // Header value by case-insensitive name; empty when absent.
  virtual std::string header(std::string_view name) const = 0;

  // Appends the next piece of body (de-chunked) to *out. Sets *done when the
  // body is complete; the connection then returns to its pool. On error the
  // connection is closed. Pieces are handed on as soon as they arrive.
  // Details: the last piece may come with *done set in the same call; a call
  // appends at least one byte unless it sets *done or fails; after *done,
  // calls return at once with *done set; after an error, calls repeat it.
  // One call at a time. A response destroyed before *done closes its
  // connection (it is not reused).
  virtual boost::asio::awaitable<HttpError> ReadSome(std::string* out, bool* done) = 0;

  // Reads the rest of the body into *out (at most max_bytes).
  boost::asio::awaitable<HttpError> ReadAll(std::string* out, size_t max_bytes);
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends a request and waits for the response header block. When `cancel`
  // fires (client went away), the connection is closed at once and the call
  // (or a later ReadSome) returns kCancelled. REQUIRES: cancel outlives the
  // returned response.
  virtual boost::asio::awaitable<std::pair<HttpError, std::unique_ptr<HttpResponse>>>
  Send(HttpRequest request, Cancellation* cancel) = 0;
};

}  // namespace sy::upstream
