// The taps of streams that pass unchanged: every Feed returns its input.
#include <simdjson.h>

#include "governance/usage_tap_counter.h"
#include "governance/usage_tap_framers.h"
#include "governance/usage_tap_taps.h"
#include "sse/sse_parser.h"

namespace sy::gov::tap {
namespace {

// sse::Parser leaves simdjson's padding after every event's data, so the few
// events that carry usage are parsed where they lie.
bool Padded(const sse::Event& event) {
  return event.data.capacity() - event.data.size() >= simdjson::SIMDJSON_PADDING;
}

class SseTap final : public UsageTap {
 public:
  explicit SseTap(WireProtocol protocol)
      : counter_(protocol), sse_([this](const sse::Event& e) { counter_.Unit(e.data, Padded(e)); }) {}

  std::string_view Feed(std::string_view data) override {
    if (!finished_ && !data.empty()) sse_.Feed(data);
    return data;
  }
  std::string_view Finish() override {
    if (!finished_) {
      finished_ = true;
      if (sse_.partial()) sse_.Feed("\n\n");  // a last event without its blank line still counts
    }
    return {};
  }
  std::optional<chat::Usage> usage() const override { return counter_.usage(); }
  int64_t EstimatedOutputTokens() const override { return counter_.EstimatedOutputTokens(); }
  bool UsageFinal() const override { return counter_.final(); }

 private:
  UsageCounter counter_;
  sse::Parser sse_;
  bool finished_ = false;
};

class NdjsonTap final : public UsageTap {
 public:
  NdjsonTap() : counter_(WireProtocol::kOllama), lines_([this](std::string_view l) { counter_.Unit(l, false); }) {}

  std::string_view Feed(std::string_view data) override {
    if (!finished_) lines_.Feed(data);
    return data;
  }
  std::string_view Finish() override {
    if (!finished_) {
      finished_ = true;
      lines_.Finish();
    }
    return {};
  }
  std::optional<chat::Usage> usage() const override { return counter_.usage(); }
  int64_t EstimatedOutputTokens() const override { return counter_.EstimatedOutputTokens(); }

 private:
  UsageCounter counter_;
  LineFramer lines_;
  bool finished_ = false;
};

// streamGenerateContent answers in SSE with alt=sse, else as one JSON array
// written as it is generated. The first byte that is not whitespace tells.
class GeminiStreamTap final : public UsageTap {
 public:
  GeminiStreamTap()
      : counter_(WireProtocol::kGemini),
        sse_([this](const sse::Event& e) { counter_.Unit(e.data, Padded(e)); }),
        array_([this](std::string_view element) { counter_.Unit(element, false); }) {}

  std::string_view Feed(std::string_view data) override {
    if (finished_ || data.empty()) return data;
    if (mode_ == Mode::kUnknown) {
      const size_t first = SkipSpace(data, 0);
      if (first == data.size()) {
        // Only whitespace so far: kept for the SSE parser (line ends matter there).
        if (lead_.size() + data.size() <= kMaxLead) {
          lead_.append(data);
          return data;
        }
        mode_ = Mode::kSse;
      } else {
        mode_ = data[first] == '[' ? Mode::kArray : Mode::kSse;
      }
      if (mode_ == Mode::kSse && !lead_.empty()) sse_.Feed(lead_);
      lead_.clear();
    }
    if (mode_ == Mode::kArray) {
      array_.Feed(data);
    } else {
      sse_.Feed(data);
    }
    return data;
  }
  std::string_view Finish() override {
    if (finished_) return {};
    finished_ = true;
    if (mode_ == Mode::kArray) {
      array_.Finish();
    } else if (mode_ == Mode::kSse && sse_.partial()) {
      sse_.Feed("\n\n");
    }
    return {};
  }
  std::optional<chat::Usage> usage() const override { return counter_.usage(); }
  int64_t EstimatedOutputTokens() const override { return counter_.EstimatedOutputTokens(); }

 private:
  enum class Mode { kUnknown, kSse, kArray };
  static constexpr size_t kMaxLead = 64 * 1024;

  UsageCounter counter_;
  sse::Parser sse_;
  ArrayFramer array_;
  Mode mode_ = Mode::kUnknown;
  std::string lead_;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<UsageTap> NewSseTap(WireProtocol protocol) { return std::make_unique<SseTap>(protocol); }
std::unique_ptr<UsageTap> NewGeminiStreamTap() { return std::make_unique<GeminiStreamTap>(); }
std::unique_ptr<UsageTap> NewNdjsonTap() { return std::make_unique<NdjsonTap>(); }

}  // namespace sy::gov::tap
