// Incremental parser for text/event-stream (the WHATWG Server-Sent Events
// format): bytes go in as they arrive, in pieces split anywhere; complete
// events come out.
//
// Handles LF, CRLF and CR line ends, multi-line data (joined with "\n"),
// "event:" names, comments (":" lines) and a leading space after the colon.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace sy::sse {

// Bytes of spare capacity the parser keeps after every event's data: a JSON
// parser that reads ahead (simdjson needs 64) can parse it in place.
inline constexpr size_t kDataPadding = 64;

struct Event {
  std::string event;  // "" when the stream did not name it ("message")
  std::string data;   // data lines joined with "\n"; capacity() >= size() + kDataPadding
  std::string id;
};

class Parser {
 public:
  using Handler = std::function<void(const Event&)>;
  explicit Parser(Handler on_event) : on_event_(std::move(on_event)) {}

  // Feeds the next piece of the stream.
  void Feed(std::string_view bytes);
  // Events completed so far.
  size_t events() const { return events_; }
  // True when bytes of an unfinished event are pending.
  bool partial() const { return !line_.empty() || has_fields_; }

 private:
  void Line(std::string_view line);
  void Dispatch();

  Handler on_event_;
  std::string line_;
  bool last_was_cr_ = false;
  bool has_fields_ = false;
  bool has_data_ = false;
  Event current_;
  size_t events_ = 0;
};

// Formats one event: optional "event: NAME" line, one "data: " line per line
// of `data`, and the blank line that ends it.
std::string FormatEvent(std::string_view data, std::string_view event = {});
// The same, appended to *out (no temporary string: the hot path of translated streams).
void AppendEvent(std::string* out, std::string_view data, std::string_view event = {});

}  // namespace sy::sse
