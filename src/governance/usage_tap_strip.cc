// The tap of an OpenAI stream whose client did not ask for usage: the
// gateway asked upstream for it (stream_options.include_usage), so the
// usage-only chunk is read and then removed; every other byte goes to the
// client unchanged and in order.
//
// The raw bytes are cut into events exactly where sse::Parser dispatches
// (after the blank line that ends one; LF, CRLF and CR line ends). A complete
// event is given to the parser on its own, so the parser's verdict belongs to
// that event: kept, its bytes go out; a usage-only chunk, they do not. Only an
// incomplete trailing event is held back, and never more than kMaxHeld bytes
// of it: a longer event cannot be the usage chunk, so it is passed on as it
// arrives (and, complete or not, is never removed — the same verdict whatever
// the split).
#include <simdjson.h>

#include <cstring>

#include "governance/usage_tap_counter.h"
#include "governance/usage_tap_taps.h"
#include "sse/sse_parser.h"

namespace sy::gov::tap {
namespace {

constexpr size_t kMaxHeld = 64 * 1024;

class StripTap final : public UsageTap {
 public:
  StripTap()
      : counter_(WireProtocol::kOpenAI),
        sse_([this](const sse::Event& e) {
          drop_ = counter_.Unit(e.data, e.data.capacity() - e.data.size() >= simdjson::SIMDJSON_PADDING);
        }) {}

  std::string_view Feed(std::string_view data) override {
    if (finished_) return data;
    piece_ = data;
    out_.clear();
    direct_end_ = 0;
    unit_start_ = 0;
    use_out_ = !held_.empty();  // held bytes go first: the answer is built in out_
    Scan();
    const std::string_view rest = piece_.substr(unit_start_);
    if (passing_) {
      Parse(rest);
      Emit(unit_start_, piece_.size());
      unit_bytes_ += rest.size();
    } else if (!rest.empty()) {
      if (unit_bytes_ + rest.size() > kMaxHeld) {  // too long to be the usage chunk: pass it on as it comes
        passing_ = true;
        if (!held_.empty()) {
          // No event ended in this piece (held_ would be empty), so nothing
          // went out yet, and use_out_ is set.
          Parse(held_);
          out_.append(held_);
          held_.clear();
        }
        Parse(rest);
        Emit(unit_start_, piece_.size());
      } else {
        held_.append(rest);
      }
      unit_bytes_ += rest.size();
    }
    const std::string_view result = use_out_ ? std::string_view(out_) : piece_.substr(0, direct_end_);
    piece_ = {};
    return result;
  }

  std::string_view Finish() override {
    if (finished_) return {};
    finished_ = true;
    out_.clear();
    use_out_ = true;
    piece_ = {};
    unit_start_ = 0;
    if (cr_pending_ && end_after_lf_) EndUnit(0);  // the stream ended on the CR of a blank line
    if (passing_) {
      Parse("\n\n");  // the last event, without its blank line, still counts
    } else if (!held_.empty()) {
      drop_ = false;
      Parse(held_);
      Parse("\n\n");
      if (!drop_) out_.append(held_);
      held_.clear();
    }
    return out_;
  }

  std::optional<chat::Usage> usage() const override { return counter_.usage(); }
  int64_t EstimatedOutputTokens() const override { return counter_.EstimatedOutputTokens(); }
  bool UsageFinal() const override { return counter_.final(); }

 private:
  // Finds the ends of events in piece_ (line ends as sse::Parser reads them).
  void Scan() {
    const char* const p = piece_.data();
    const size_t n = piece_.size();
    const bool has_cr = n > 0 && std::memchr(p, '\r', n) != nullptr;
    size_t i = 0;
    while (i < n) {
      if (cr_pending_) {  // the previous line ended with CR: a LF now belongs to it
        cr_pending_ = false;
        const bool lf = p[i] == '\n';
        if (lf) ++i;
        if (end_after_lf_) {
          end_after_lf_ = false;
          EndUnit(i);
        }
        if (lf) continue;
      }
      const auto* lf = static_cast<const char*>(std::memchr(p + i, '\n', n - i));
      const char* stop = lf ? lf : p + n;
      const auto* cr = has_cr ? static_cast<const char*>(std::memchr(p + i, '\r', static_cast<size_t>(stop - (p + i))))
                              : nullptr;
      const char* eol = cr ? cr : lf;
      if (eol == nullptr) {
        line_has_bytes_ = true;  // i < n: the line goes on
        return;
      }
      const bool blank = !line_has_bytes_ && eol == p + i;
      line_has_bytes_ = false;
      i = static_cast<size_t>(eol - p) + 1;
      if (*eol == '\r') {
        cr_pending_ = true;
        end_after_lf_ = blank;
      } else if (blank) {
        EndUnit(i);
      }
    }
  }

  // The current event ends at piece_[end].
  void EndUnit(size_t end) {
    const std::string_view slice = piece_.substr(unit_start_, end - unit_start_);
    if (passing_) {
      Parse(slice);
      Emit(unit_start_, end);
    } else {
      drop_ = false;
      if (!held_.empty()) Parse(held_);
      Parse(slice);
      const bool drop = drop_ && unit_bytes_ + slice.size() <= kMaxHeld;
      if (!drop) {
        if (!held_.empty()) out_.append(held_);  // use_out_ is set whenever held_ was not empty
        Emit(unit_start_, end);
      }
      held_.clear();
    }
    passing_ = false;
    unit_bytes_ = 0;
    unit_start_ = end;
  }

  // sse::Parser::Feed is never given an empty view (whose data() may be null).
  void Parse(std::string_view bytes) {
    if (!bytes.empty()) sse_.Feed(bytes);
  }

  // piece_[begin, end) goes to the client: as a view of the piece while the
  // answer is a prefix of it, else copied into out_.
  void Emit(size_t begin, size_t end) {
    if (begin == end) return;
    if (!use_out_ && begin == direct_end_) {
      direct_end_ = end;
      return;
    }
    if (!use_out_) {
      out_.assign(piece_.substr(0, direct_end_));
      use_out_ = true;
    }
    out_.append(piece_.substr(begin, end - begin));
  }

  UsageCounter counter_;
  sse::Parser sse_;
  bool drop_ = false;  // the parser's verdict on the event just dispatched

  // Framing state, carried across pieces.
  bool line_has_bytes_ = false;
  bool cr_pending_ = false;    // the last byte was a CR that ended a line
  bool end_after_lf_ = false;  // ...and that line was blank: the event ends after a LF, if one comes
  std::string held_;           // the incomplete event's bytes from earlier pieces (not yet parsed)
  bool passing_ = false;       // the current event is longer than kMaxHeld: passed on as it comes
  size_t unit_bytes_ = 0;      // bytes of the current event in earlier pieces

  // The piece being fed, and the answer to it.
  std::string_view piece_;
  size_t unit_start_ = 0;  // where the current event begins in piece_
  size_t direct_end_ = 0;  // the answer is piece_[0, direct_end_) while !use_out_
  bool use_out_ = false;
  std::string out_;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<UsageTap> NewStripTap() { return std::make_unique<StripTap>(); }

}  // namespace sy::gov::tap
