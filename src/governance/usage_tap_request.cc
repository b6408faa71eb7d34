// RequestStreamUsage: edits a passthrough OpenAI body in place so that the
// upstream sends usage (stream_options.include_usage = true).
//
// The body is validated by simdjson first; the members are then located by a
// small scanner over the (now known valid) text, and only the bytes that must
// change are rewritten: every other member, and every byte of formatting,
// stays as the client sent it.
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <vector>

#include "governance/usage_tap.h"
#include "governance/usage_tap_counter.h"

namespace sy::gov {
namespace {

using tap::kNpos;
using tap::SkipSpace;
using tap::StringEnd;
using tap::ValueEnd;

struct MemberAt {
  std::string_view key;  // the key token, quotes included
  size_t value_begin = 0;
  size_t value_end = 0;
};

struct ObjectAt {
  std::vector<MemberAt> members;
  size_t close = 0;  // index of the closing '}'
};

// The members of the object whose '{' is at s[open]. REQUIRES: s is valid
// JSON (false, never a crash, otherwise).
bool ReadObject(std::string_view s, size_t open, ObjectAt* out) {
  size_t i = SkipSpace(s, open + 1);
  while (i < s.size() && s[i] == '"') {
    const size_t key_end = StringEnd(s, i);
    if (key_end == kNpos) return false;
    size_t j = SkipSpace(s, key_end);
    if (j >= s.size() || s[j] != ':') return false;
    j = SkipSpace(s, j + 1);
    const size_t value_end = ValueEnd(s, j);
    if (value_end == kNpos || value_end == j) return false;
    out->members.push_back({s.substr(i, key_end - i), j, value_end});
    i = SkipSpace(s, value_end);
    if (i < s.size() && s[i] == ',') i = SkipSpace(s, i + 1);
  }
  if (i >= s.size() || s[i] != '}') return false;
  out->close = i;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Whether the key token (quotes included) decodes to `key` (ASCII).
bool KeyIs(std::string_view token, std::string_view key) {
  std::string_view inner = token.substr(1, token.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return inner == key;
  std::string decoded;  // keys with escapes: rare enough to decode
  for (size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] != '\\' || i + 1 >= inner.size()) {
      decoded.push_back(inner[i]);
      continue;
    }
    const char e = inner[++i];
    if (e == 'u') {
      // The body is valid JSON: four hex digits follow.
      unsigned cp = 0;
      bool ok = i + 4 < inner.size();
      for (size_t k = 1; ok && k <= 4; ++k) {
        const int h = HexValue(inner[i + k]);
        ok = h >= 0;
        cp = cp * 16 + static_cast<unsigned>(ok ? h : 0);
      }
      if (!ok) return false;
      i += 4;
      decoded.push_back(cp < 0x80 ? static_cast<char>(cp) : '\x01');  // non-ASCII never matches
    } else {
      switch (e) {
        case 'n': decoded.push_back('\n'); break;
        case 't': decoded.push_back('\t'); break;
        case 'r': decoded.push_back('\r'); break;
        case 'b': decoded.push_back('\b'); break;
        case 'f': decoded.push_back('\f'); break;
        default: decoded.push_back(e); break;  // \" \\ \/
      }
    }
  }
  return decoded == key;
}

struct Edit {
  size_t pos = 0;
  size_t length = 0;  // bytes replaced
  std::string text;
};

constexpr std::string_view kIncludeUsage = "\"include_usage\":true";

// Adds the edits that make the stream_options object at [begin, end) ask for
// usage. Returns whether it already did (its last include_usage is true).
bool FixStreamOptions(std::string_view body, size_t begin, std::vector<Edit>* edits) {
  ObjectAt options;
  if (!ReadObject(body, begin, &options)) return false;
  bool found = false, asked = false;
  for (const MemberAt& m : options.members) {
    if (!KeyIs(m.key, "include_usage")) continue;
    found = true;
    asked = body.substr(m.value_begin, m.value_end - m.value_begin) == "true";
    if (!asked) edits->push_back({m.value_begin, m.value_end - m.value_begin, "true"});
  }
  if (!found) {
    std::string text(kIncludeUsage);
    if (!options.members.empty()) text.push_back(',');
    edits->push_back({begin + 1, 0, std::move(text)});
  }
  return asked;
}

}  // namespace

bool RequestStreamUsage(InternalRequest* req, bool* client_asked) {
  if (client_asked != nullptr) *client_asked = false;
  if (req == nullptr || req->wire != WireProtocol::kOpenAI || !req->stream) return false;
  if (req->operation != Operation::kChatCompletions && req->operation != Operation::kCompletions) return false;
  std::string& body = req->raw_body;
  {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::object root;
    if (parser.parse(body).get_object().get(root)) return false;
  }
  const std::string_view s(body);
  const size_t open = SkipSpace(s, 0);
  ObjectAt root;
  if (open >= s.size() || s[open] != '{' || !ReadObject(s, open, &root)) return false;

  std::vector<Edit> edits;
  bool asked = false, found = false;
  // Every stream_options member is fixed (a duplicate key is read differently
  // by different parsers); the last one says whether the client asked, as
  // with most JSON parsers.
  for (const MemberAt& m : root.members) {
    if (!KeyIs(m.key, "stream_options")) continue;
    found = true;
    const std::string_view value = s.substr(m.value_begin, m.value_end - m.value_begin);
    if (value == "null") {
      edits.push_back({m.value_begin, value.size(), "{" + std::string(kIncludeUsage) + "}"});
      asked = false;
    } else if (value.front() == '{') {
      asked = FixStreamOptions(s, m.value_begin, &edits);
    } else {
      return false;  // not an object: not a body this can edit
    }
  }
  if (!found) {
    std::string text = root.members.empty() ? "" : ",";
    text += "\"stream_options\":{";
    text += kIncludeUsage;
    text += "}";
    edits.push_back({root.close, 0, std::move(text)});  // last: the model's position stays
  }

  // Applied from the end, so that the positions of the ones before hold.
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.pos > b.pos; });
  Span& span = req->model_span;
  for (const Edit& e : edits) {
    body.replace(e.pos, e.length, e.text);
    if (!span.empty() && span.begin >= e.pos + e.length) {
      const size_t grown = e.text.size(), shrunk = e.length;
      span.begin = span.begin + grown - shrunk;
      span.end = span.end + grown - shrunk;
    }
  }
  if (client_asked != nullptr) *client_asked = asked;
  return true;
}

}  // namespace sy::gov
