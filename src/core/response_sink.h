// Where a provider writes the response for the client.
//
// The HTTP session implements it over the client connection; tests use
// RecordingSink (tests/unit/gateway/recording_sink.h). A provider calls Begin once,
// then Write any number of times, then End. Each call returns false when the
// client has gone away; the provider must then stop and release the upstream.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace sy {

struct ResponseHead {
  int status = 200;
  std::string content_type = "application/json";
  // Known body length, or nullopt to send chunked (streams).
  std::optional<size_t> content_length;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual boost::asio::awaitable<bool> Begin(ResponseHead head) = 0;
  // Sends data to the client now (streams are never buffered).
  virtual boost::asio::awaitable<bool> Write(std::string_view data) = 0;
  virtual boost::asio::awaitable<bool> End() = 0;
  // Write(data) then End(): the last piece of a body. A sink that can sends
  // both at once (one syscall, one wakeup of the client instead of two).
  virtual boost::asio::awaitable<bool> WriteAndEnd(std::string_view data) {
    bool alive = co_await Write(data);
    if (alive) alive = co_await End();
    co_return alive;
  }
  // Drops the client connection without completing the response: for a body
  // of announced length that can no longer be finished.
  virtual void Abort() = 0;
  // True once Begin has been called: an error can then no longer change the status.
  virtual bool started() const = 0;
  // True once Begin has been called without a content_length: the body is
  // sent chunked, so more events may be appended and the end is explicit.
  // A response of announced length that fails midway can only be aborted.
  virtual bool chunked() const = 0;
};

}  // namespace sy
