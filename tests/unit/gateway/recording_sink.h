// A ResponseSink that records what a provider or the gateway sends, for tests.
#pragma once

#include <string>
#include <vector>

#include "core/response_sink.h"

namespace sy::testing {

class RecordingSink final : public ResponseSink {
 public:
  boost::asio::awaitable<bool> Begin(ResponseHead h) override {
    head = std::move(h);
    began = true;
    co_return client_alive;
  }
  boost::asio::awaitable<bool> Write(std::string_view data) override {
    pieces.emplace_back(data);
    body.append(data);
    if (fail_after_writes >= 0 && static_cast<int>(pieces.size()) >= fail_after_writes) client_alive = false;
    co_return client_alive;
  }
  boost::asio::awaitable<bool> End() override {
    ended = true;
    co_return client_alive;
  }
  void Abort() override { aborted = true; }
  bool started() const override { return began; }
  bool chunked() const override { return began && !head.content_length.has_value(); }

  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : head.headers) {
      if (k == name) return v;
    }
    return "";
  }

  ResponseHead head;
  bool began = false;
  bool ended = false;
  bool aborted = false;
  bool client_alive = true;
  int fail_after_writes = -1;  // the client "goes away" after this many writes
  std::vector<std::string> pieces;
  std::string body;
};

}  // namespace sy::testing
