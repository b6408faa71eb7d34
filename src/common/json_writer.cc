#include "common/json_writer.h"

namespace sy::json {

namespace {

// Bytes that must be escaped inside a JSON string: control characters, '"' and '\\'.
constexpr auto kNeedsEscape = [] {
  struct Table {
    bool at[256] = {};
  } t;
  for (int c = 0; c < 0x20; ++c) t.at[c] = true;
  t.at[static_cast<unsigned char>('"')] = true;
  t.at[static_cast<unsigned char>('\\')] = true;
  return t;
}();

}  // namespace

void AppendString(std::string* out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + value.size() + 2);
  out->push_back('"');
  // Runs of bytes that need no escape are copied whole.
  const char* run = value.data();
  const char* const end = run + value.size();
  for (const char* p = run; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (!kNeedsEscape.at[c]) continue;
    out->append(run, static_cast<size_t>(p - run));
    run = p + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(run, static_cast<size_t>(end - run));
  out->push_back('"');
}

std::string Quote(std::string_view value) {
  std::string out;
  AppendString(&out, value);
  return out;
}

}  // namespace sy::json

#include <charconv>
#include <cmath>

namespace sy::json {

void Writer::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_->push_back(',');
    first_.back() = false;
  }
}

Writer& Writer::BeginObject() {
  Separate();
  out_->push_back('{');
  first_.push_back(true);
  return *this;
}

Writer& Writer::EndObject() {
  out_->push_back('}');
  first_.pop_back();
  return *this;
}

Writer& Writer::BeginArray() {
  Separate();
  out_->push_back('[');
  first_.push_back(true);
  return *this;
}

Writer& Writer::EndArray() {
  out_->push_back(']');
  first_.pop_back();
  return *this;
}

Writer& Writer::Key(std::string_view key) {
  Separate();
  AppendString(out_, key);
  out_->push_back(':');
  after_key_ = true;
  return *this;
}

Writer& Writer::String(std::string_view value) {
  Separate();
  AppendString(out_, value);
  return *this;
}

Writer& Writer::Int(int64_t value) {
  Separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out_->append(buf, r.ptr);
  return *this;
}

Writer& Writer::Double(double value) {
  Separate();
  if (!std::isfinite(value)) {
    out_->append("null");
    return *this;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  // The shortest form of a large integral double is all digits
  // ("-77777777777777770496"): valid JSON, but many parsers (simdjson among
  // them) refuse an integer beyond 64 bits. Such values are written with an
  // exponent instead.
  const std::string_view text(buf, static_cast<size_t>(r.ptr - buf));
  if (text.size() > 18 && text.find_first_of(".e") == std::string_view::npos) {
    r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  }
  out_->append(buf, r.ptr);
  return *this;
}

Writer& Writer::Bool(bool value) {
  Separate();
  out_->append(value ? "true" : "false");
  return *this;
}

Writer& Writer::Null() {
  Separate();
  out_->append("null");
  return *this;
}

Writer& Writer::Raw(std::string_view json) {
  Separate();
  out_->append(json.empty() ? std::string_view("null") : json);
  return *this;
}

}  // namespace sy::json
