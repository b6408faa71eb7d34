#include "governance/usage_tap_framers.h"

#include <cstring>

namespace sy::gov::tap {

void LineFramer::Feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
    if (nl == nullptr) {
      if (!overflow_) {
        if (line_.size() + bytes.size() > kMaxUnit) {
          overflow_ = true;
          line_.clear();
        } else {
          line_.append(bytes);
        }
      }
      return;
    }
    const size_t n = static_cast<size_t>(static_cast<const char*>(nl) - bytes.data());
    if (overflow_) {
      overflow_ = false;
    } else if (line_.empty()) {
      Line(bytes.substr(0, n));
    } else if (line_.size() + n <= kMaxUnit) {
      line_.append(bytes.substr(0, n));
      Line(line_);
    }
    line_.clear();
    bytes.remove_prefix(n + 1);
  }
}

void LineFramer::Finish() {
  if (!overflow_ && !line_.empty()) {
    std::string last;
    last.swap(line_);
    Line(last);
  }
  line_.clear();
  overflow_ = false;
}

void LineFramer::Line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!line.empty()) on_unit_(line);
}

void ArrayFramer::Feed(std::string_view bytes) {
  const char* const p = bytes.data();
  const size_t n = bytes.size();
  size_t start = 0;  // where the current element's bytes begin in this piece
  for (size_t i = 0; i < n; ++i) {
    const char c = p[i];
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string_ = true;
        break;
      case '{':
      case '[':
        if (depth_ == 1 && !in_element_) {  // an element of the top-level array begins
          in_element_ = true;
          overflow_ = false;
          element_.clear();
          start = i;
        }
        ++depth_;
        break;
      case '}':
      case ']':
        if (depth_ > 0) --depth_;
        if (depth_ == 1 && in_element_) {
          in_element_ = false;
          const std::string_view tail(p + start, i + 1 - start);
          if (overflow_) {
            overflow_ = false;
          } else if (element_.empty()) {
            on_unit_(tail);  // the whole element lies in this piece: no copy
          } else if (element_.size() + tail.size() <= kMaxUnit) {
            element_.append(tail);
            on_unit_(element_);
          }
          element_.clear();
        }
        break;
      default:
        break;
    }
  }
  if (in_element_ && !overflow_) {
    const std::string_view rest(p + start, n - start);
    if (element_.size() + rest.size() > kMaxUnit) {
      overflow_ = true;
      element_.clear();
    } else {
      element_.append(rest);
    }
  }
}

void ArrayFramer::Finish() {
  if (in_element_ && !overflow_ && !element_.empty()) {
    std::string last;
    last.swap(element_);
    on_unit_(last);
  }
  in_element_ = false;
  element_.clear();
}

}  // namespace sy::gov::tap
