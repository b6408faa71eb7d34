// A ResponseSink in front of the client's that meters one inference answer
// for billing: the status sent, the time of the first body byte, the
// X-RateLimit-* headers added to the head, and, for a passed-through answer,
// a UsageTap that reads the upstream's usage from the bytes on their way
// (and, for OpenAI streams, removes the usage chunk the client did not ask
// for). A translated answer reports its usage through UsageMeter instead.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/chat.h"
#include "core/response_sink.h"
#include "governance/usage_tap.h"

namespace sy {

// Usage of a translated answer, from its typed events.
struct UsageMeter {
  std::optional<chat::Usage> usage;  // the last usage seen (cumulative: replaced, never summed)
  int64_t generated_bytes = 0;       // text, reasoning and tool arguments seen
  void Add(const chat::StreamEvent& ev);
  void Add(const chat::Response& response);
  int64_t EstimatedOutputTokens() const { return (generated_bytes + 3) / 4; }
};

class MeteredSink final : public ResponseSink {
 public:
  MeteredSink(ResponseSink& inner, std::vector<std::pair<std::string, std::string>> headers)
      : inner_(inner), headers_(std::move(headers)), started_at_(std::chrono::steady_clock::now()) {}

  void set_tap(std::unique_ptr<gov::UsageTap> tap) { tap_ = std::move(tap); }
  // Called once, before the bytes that let the client see its answer end
  // (a successful answer's last write, or the piece after which the tap has
  // the stream's final usage): the bill is settled before the client can
  // send its next request.
  void set_before_end(std::function<void()> fn) { before_end_ = std::move(fn); }
  gov::UsageTap* tap() { return tap_.get(); }

  boost::asio::awaitable<bool> Begin(ResponseHead head) override;
  boost::asio::awaitable<bool> Write(std::string_view data) override;
  boost::asio::awaitable<bool> End() override;
  boost::asio::awaitable<bool> WriteAndEnd(std::string_view data) override;
  void Abort() override { inner_.Abort(); }
  bool started() const override { return inner_.started(); }
  bool chunked() const override { return inner_.chunked(); }

  int status() const { return status_; }  // 0 until Begin
  // Milliseconds from construction to the first body byte; -1 = none sent.
  int64_t ttft_ms() const { return ttft_ms_; }
  int64_t elapsed_ms() const;

 private:
  void MarkFirstByte();

  ResponseSink& inner_;
  std::vector<std::pair<std::string, std::string>> headers_;
  void BeforeEnd();

  std::unique_ptr<gov::UsageTap> tap_;
  std::function<void()> before_end_;
  std::chrono::steady_clock::time_point started_at_;
  int status_ = 0;
  int64_t ttft_ms_ = -1;
  std::string joined_;  // WriteAndEnd through a stripping tap: its two outputs
};

}  // namespace sy
