#include "server/metered_sink.h"

#include <functional>

namespace sy {

void UsageMeter::Add(const chat::StreamEvent& ev) {
  switch (ev.kind) {
    case chat::EventKind::kTextDelta:
    case chat::EventKind::kReasoningDelta:
    case chat::EventKind::kToolCallDelta:
      generated_bytes += static_cast<int64_t>(ev.text.size());
      break;
    case chat::EventKind::kToolCallStart:
      generated_bytes += static_cast<int64_t>(ev.name.size());
      break;
    case chat::EventKind::kStart:
    case chat::EventKind::kUsage:
      if (ev.usage) {
        // Field by field: a later event may carry only the output side.
        chat::Usage merged = usage.value_or(chat::Usage{});
        const chat::Usage& u = *ev.usage;
        if (u.input_tokens) merged.input_tokens = u.input_tokens;
        if (u.cached_input_tokens) merged.cached_input_tokens = u.cached_input_tokens;
        if (u.cache_write_tokens) merged.cache_write_tokens = u.cache_write_tokens;
        if (u.output_tokens) merged.output_tokens = u.output_tokens;
        if (u.reasoning_tokens) merged.reasoning_tokens = u.reasoning_tokens;
        usage = merged;
      }
      break;
    default:
      break;
  }
}

void UsageMeter::Add(const chat::Response& response) {
  if (response.usage) usage = response.usage;
  for (const auto& part : response.content) {
    generated_bytes += static_cast<int64_t>(part.text.size() + part.arguments.size());
  }
}

int64_t MeteredSink::elapsed_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_at_).count();
}

void MeteredSink::MarkFirstByte() {
  if (ttft_ms_ < 0) ttft_ms_ = elapsed_ms();
}

boost::asio::awaitable<bool> MeteredSink::Begin(ResponseHead head) {
  status_ = head.status;
  head.headers.reserve(head.headers.size() + headers_.size());
  for (auto& h : headers_) head.headers.push_back(std::move(h));
  headers_.clear();
  const bool alive = co_await inner_.Begin(std::move(head));
  co_return alive;
}

void MeteredSink::BeforeEnd() {
  if (!before_end_ || status_ >= 400) return;  // a failed answer is settled when the call is over
  auto fn = std::move(before_end_);
  before_end_ = nullptr;
  fn();
}

boost::asio::awaitable<bool> MeteredSink::Write(std::string_view data) {
  MarkFirstByte();
  if (tap_) {
    const std::string_view out = tap_->Feed(data);
    if (tap_->UsageFinal()) BeforeEnd();
    bool alive = true;
    if (!out.empty()) alive = co_await inner_.Write(out);  // empty: held back until its event is complete
    tap_->Keep();  // `data` is the caller's, valid only during this call
    co_return alive;
  }
  const bool alive = co_await inner_.Write(data);
  co_return alive;
}

boost::asio::awaitable<bool> MeteredSink::End() {
  const std::string_view rest = tap_ ? tap_->Finish() : std::string_view();
  BeforeEnd();
  if (!rest.empty()) {
    const bool alive = co_await inner_.WriteAndEnd(rest);
    co_return alive;
  }
  const bool alive = co_await inner_.End();
  co_return alive;
}

boost::asio::awaitable<bool> MeteredSink::WriteAndEnd(std::string_view data) {
  MarkFirstByte();
  if (tap_) {
    const std::string_view fed = tap_->Feed(data);
    // A view into `data` (all of it, or the part before a removed usage
    // chunk) outlives Finish; one into the tap's own buffer does not.
    const std::less_equal<const char*> le;
    const bool in_data =
        fed.empty() || (le(data.data(), fed.data()) && le(fed.data() + fed.size(), data.data() + data.size()));
    if (in_data) {
      const std::string_view rest = tap_->Finish();
      BeforeEnd();
      if (rest.empty()) {
        const bool alive = co_await inner_.WriteAndEnd(fed);
        co_return alive;
      }
      joined_.assign(fed);
      joined_.append(rest);
    } else {
      joined_.assign(fed);  // Feed's view lasts only until the next call
      joined_.append(tap_->Finish());
      BeforeEnd();
    }
    const bool alive = co_await inner_.WriteAndEnd(joined_);
    co_return alive;
  }
  BeforeEnd();
  const bool alive = co_await inner_.WriteAndEnd(data);
  co_return alive;
}

}  // namespace sy
