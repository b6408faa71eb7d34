// Internal to the usage tap: finding the units of a stream in bytes that
// arrive split anywhere. A unit that lies inside one piece is handed on as a
// view of that piece; only a unit split across pieces is copied.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace sy::gov::tap {

// A unit longer than this is not a chunk of a real answer: its bytes still
// pass, but it is not buffered (nor read for usage).
inline constexpr size_t kMaxUnit = 16u << 20;

using UnitHandler = std::function<void(std::string_view unit)>;

// NDJSON (Ollama): one unit per line, without its "\n" (nor a "\r" before it).
class LineFramer {
 public:
  explicit LineFramer(UnitHandler on_unit) : on_unit_(std::move(on_unit)) {}
  void Feed(std::string_view bytes);
  // A last line without its "\n".
  void Finish();

 private:
  void Line(std::string_view line);

  UnitHandler on_unit_;
  std::string line_;
  bool overflow_ = false;  // the current line passed kMaxUnit and is being skipped
};

// A JSON array of objects, as Gemini streams without alt=sse
// ("[{...},\r\n{...}]"): one unit per element that is an object or an array.
// Strings and nesting are tracked byte by byte across pieces.
class ArrayFramer {
 public:
  explicit ArrayFramer(UnitHandler on_unit) : on_unit_(std::move(on_unit)) {}
  void Feed(std::string_view bytes);
  // An element cut off by the end of the body is handed on as it is.
  void Finish();

 private:
  UnitHandler on_unit_;
  std::string element_;
  size_t depth_ = 0;
  bool in_element_ = false;
  bool in_string_ = false;
  bool escape_ = false;
  bool overflow_ = false;
};

}  // namespace sy::gov::tap
