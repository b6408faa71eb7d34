// NewUsageTap, the tap of non-stream bodies, and EstimateInputTokens.
#include "governance/usage_tap.h"

#include <algorithm>

#include "governance/usage_tap_counter.h"
#include "governance/usage_tap_taps.h"

namespace sy::gov {
namespace tap {
namespace {

// Bodies up to this size are parsed whole in Finish(); a larger one (a big
// embeddings answer) keeps only its last kTail bytes, where the usage is.
constexpr size_t kMaxBody = 4u << 20;
constexpr size_t kTail = 64 * 1024;

class BodyTap final : public UsageTap {
 public:
  explicit BodyTap(WireProtocol protocol) : counter_(protocol) {}

  std::string_view Feed(std::string_view data) override {
    if (finished_ || data.empty()) return data;
    // A first piece is only looked at: when the body comes whole (the usual
    // case) it is parsed where it lies in Finish, never copied.
    if (!overflow_ && body_.empty() && view_.empty()) {
      view_ = data;
      return data;
    }
    Keep();
    if (!overflow_) {
      if (body_.size() + data.size() <= kMaxBody) {
        body_.append(data);
        return data;
      }
      overflow_ = true;
      counter_.CountText(body_);
      const size_t keep = std::min(body_.size(), kTail);
      tail_.assign(body_, body_.size() - keep, keep);
      std::string().swap(body_);
    }
    // Text split between two pieces is counted in parts, near enough for an estimate.
    counter_.CountText(data);
    tail_.append(data);
    if (tail_.size() > 2 * kTail) tail_.erase(0, tail_.size() - kTail);
    return data;
  }

  void Keep() override {
    if (view_.empty()) return;
    if (view_.size() <= kMaxBody) {
      body_.assign(view_);
    } else {  // one piece past the cap: only its tail is kept
      overflow_ = true;
      counter_.CountText(view_);
      tail_.assign(view_.substr(view_.size() - std::min(view_.size(), kTail)));
    }
    view_ = {};
  }

  std::string_view Finish() override {
    if (finished_) return {};
    finished_ = true;
    if (!view_.empty() && view_.size() <= kMaxBody) {
      counter_.Body(view_);
      view_ = {};
      return {};
    }
    Keep();
    if (overflow_) {
      counter_.Tail(tail_);
    } else if (!body_.empty()) {
      counter_.Body(body_);
    }
    std::string().swap(body_);
    std::string().swap(tail_);
    return {};
  }

  std::optional<chat::Usage> usage() const override { return counter_.usage(); }
  int64_t EstimatedOutputTokens() const override { return counter_.EstimatedOutputTokens(); }

 private:
  UsageCounter counter_;
  std::string_view view_;  // the first piece, not yet copied (see Keep)
  std::string body_;
  std::string tail_;
  bool overflow_ = false;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<UsageTap> NewBodyTap(WireProtocol protocol) { return std::make_unique<BodyTap>(protocol); }

}  // namespace tap

std::unique_ptr<UsageTap> NewUsageTap(WireProtocol protocol, bool stream, bool strip_usage_chunk) {
  if (!stream) return tap::NewBodyTap(protocol);
  switch (protocol) {
    case WireProtocol::kLlmService:  // never passed through; as OpenAI
    case WireProtocol::kOpenAI:
      return strip_usage_chunk ? tap::NewStripTap() : tap::NewSseTap(protocol);
    case WireProtocol::kGemini:
      return tap::NewGeminiStreamTap();
    case WireProtocol::kOllama:
      return tap::NewNdjsonTap();
    case WireProtocol::kAnthropic:
    case WireProtocol::kOpenAIResponses:
      break;
  }
  return tap::NewSseTap(protocol);
}

int64_t EstimateInputTokens(std::string_view body) {
  return std::max<int64_t>(1, static_cast<int64_t>(body.size() / 4));
}

}  // namespace sy::gov
