#include "sse/sse_parser.h"

#include <cstring>

namespace sy::sse {

void Parser::Feed(std::string_view bytes) {
  if (bytes.empty()) return;  // data() may be null: memchr(nullptr, ..., 0) is undefined
  // Whole lines are found with memchr and handed on as views of the input;
  // only a line split across pieces is copied (into line_).
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  // Streams almost never use CR: one scan of the piece spares a CR search per line.
  const bool has_cr = std::memchr(p, '\r', bytes.size()) != nullptr;
  while (p < end) {
    if (last_was_cr_) {
      last_was_cr_ = false;
      if (*p == '\n') {  // the LF of a CRLF whose CR ended the previous line
        ++p;
        continue;
      }
    }
    const auto* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* stop = lf ? lf : end;
    const auto* cr = has_cr ? static_cast<const char*>(std::memchr(p, '\r', static_cast<size_t>(stop - p))) : nullptr;
    const char* eol = cr ? cr : lf;
    if (eol == nullptr) {
      line_.append(p, static_cast<size_t>(end - p));
      return;
    }
    if (line_.empty()) {
      Line(std::string_view(p, static_cast<size_t>(eol - p)));
    } else {
      line_.append(p, static_cast<size_t>(eol - p));
      Line(line_);
      line_.clear();
    }
    last_was_cr_ = *eol == '\r';
    p = eol + 1;
  }
}

void Parser::Line(std::string_view line) {
  if (line.empty()) {
    Dispatch();
    return;
  }
  if (line.front() == ':') return;  // comment
  std::string_view field = line;
  std::string_view value;
  if (line.size() >= 5 && line.substr(0, 5) == "data:") {  // nearly every line: no search for the colon
    field = line.substr(0, 4);
    value = line.substr(5);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  has_fields_ = true;
  if (field == "data") {
    current_.data.reserve(current_.data.size() + value.size() + 1 + kDataPadding);  // no-op once large enough
    if (has_data_) current_.data.push_back('\n');
    current_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    current_.event.assign(value);
  } else if (field == "id") {
    current_.id.assign(value);
  }
  // "retry" and unknown fields are ignored.
}

void Parser::Dispatch() {
  if (has_data_) {
    ++events_;
    on_event_(current_);
  }
  // Cleared, not replaced: the strings keep their buffers for the next event.
  current_.event.clear();
  current_.data.clear();
  current_.id.clear();
  has_fields_ = false;
  has_data_ = false;
}

void AppendEvent(std::string* out, std::string_view data, std::string_view event) {
  out->reserve(out->size() + data.size() + event.size() + 16);
  if (!event.empty()) {
    out->append("event: ");
    out->append(event);
    out->push_back('\n');
  }
  size_t start = 0;
  for (;;) {
    size_t nl = data.find('\n', start);
    out->append("data: ");
    out->append(data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    out->push_back('\n');
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out->push_back('\n');
}

std::string FormatEvent(std::string_view data, std::string_view event) {
  std::string out;
  AppendEvent(&out, data, event);
  return out;
}

}  // namespace sy::sse
