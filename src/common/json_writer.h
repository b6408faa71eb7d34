// Small helpers for writing JSON text by hand on the hot path, where building
// a DOM would cost more than the response itself.
#pragma once

#include <string>
#include <string_view>

namespace sy::json {

// Appends `value` as a JSON string literal (quotes included) to *out.
void AppendString(std::string* out, std::string_view value);

// Returns `value` as a JSON string literal.
std::string Quote(std::string_view value);

}  // namespace sy::json

#include <cstdint>
#include <vector>

namespace sy::json {

// Writes JSON text into a string with commas placed automatically:
//   Writer w(&out);
//   w.BeginObject().Key("id").String("x").Key("n").Int(3).EndObject();
// REQUIRES: calls form valid JSON (a Key before every object member).
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  Writer& BeginObject();
  Writer& EndObject();
  Writer& BeginArray();
  Writer& EndArray();
  Writer& Key(std::string_view key);
  Writer& String(std::string_view value);
  Writer& Int(int64_t value);
  Writer& Double(double value);  // shortest text that reads back exactly; NaN/inf → null
  Writer& Bool(bool value);
  Writer& Null();
  // Already-serialised JSON (an object text kept from the input...). "" writes null.
  Writer& Raw(std::string_view json);

 private:
  void Separate();
  std::string* out_;
  std::vector<bool> first_;  // per open container: no member written yet
  bool after_key_ = false;
};

}  // namespace sy::json
