// Test helpers for the Anthropic front door and codec: replays an Anthropic
// SSE stream the way a strict client (Claude Code) does, checking the block
// protocol, and rebuilds the message it describes.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "sse/sse_parser.h"

namespace sy::anthropic::testing {

struct WireBlock {
  std::string type;  // text | thinking | redacted_thinking | tool_use
  std::string text;  // text, thinking, or the tool's concatenated partial_json
  std::string signature;
  std::string data;
  std::string id;
  std::string name;
};

struct Replayed {
  std::vector<std::string> names;  // event names in order
  std::string id;
  std::string model;
  int64_t start_input_tokens = -1;
  std::vector<WireBlock> blocks;
  std::string stop_reason;
  std::string stop_sequence;
  int64_t input_tokens = -1;   // message_delta usage
  int64_t output_tokens = -1;
  int64_t cache_read = -1;
  int64_t cache_creation = -1;
  bool stopped = false;        // message_stop seen
  std::string error_type;      // of an error event
  std::string error_message;
};

inline std::string Str(simdjson::dom::element e, std::string_view key) {
  std::string_view s;
  if (e[key].get_string().get(s)) return {};
  return std::string(s);
}

inline int64_t Int(simdjson::dom::element e, std::string_view key) {
  int64_t v = -1;
  if (e[key].get_int64().get(v)) return -1;
  return v;
}

// Replays `sse`, failing the test on every protocol violation a strict
// client rejects: unnamed events, name/type mismatch, events before
// message_start or after message_stop/error, a delta or stop for a block
// that is not the open one, a delta of the wrong kind, blocks interleaving,
// indices not 0, 1, 2..., tool_use starts without input {}.
inline Replayed Replay(std::string_view sse) {
  Replayed r;
  std::vector<sse::Event> events;
  sse::Parser parser([&](const sse::Event& e) { events.push_back(e); });
  parser.Feed(sse);
  EXPECT_FALSE(parser.partial()) << "stream ends inside an event";
  int open = -1;
  int next = 0;
  bool started = false;
  bool ended = false;
  simdjson::dom::parser json;
  for (const auto& e : events) {
    r.names.push_back(e.event);
    EXPECT_FALSE(e.event.empty()) << "unnamed event: " << e.data;
    simdjson::dom::element doc;
    if (json.parse(e.data).get(doc)) {
      ADD_FAILURE() << "invalid JSON in event " << e.event << ": " << e.data;
      continue;
    }
    const std::string type = Str(doc, "type");
    EXPECT_EQ(type, e.event) << e.data;
    EXPECT_FALSE(ended) << "event after the end: " << e.data;
    if (type == "error") {
      simdjson::dom::element err;
      EXPECT_FALSE(doc["error"].get(err));
      r.error_type = Str(err, "type");
      r.error_message = Str(err, "message");
      ended = true;
      continue;
    }
    if (type == "message_start") {
      EXPECT_FALSE(started) << "second message_start";
      started = true;
      simdjson::dom::element m;
      EXPECT_FALSE(doc["message"].get(m));
      r.id = Str(m, "id");
      r.model = Str(m, "model");
      simdjson::dom::element usage;
      EXPECT_FALSE(m["usage"].get(usage));
      r.start_input_tokens = Int(usage, "input_tokens");
      simdjson::dom::array content;
      EXPECT_FALSE(m["content"].get_array().get(content));
      EXPECT_EQ(content.size(), 0u);
      continue;
    }
    EXPECT_TRUE(started) << "event before message_start: " << e.data;
    if (type == "ping") continue;
    if (type == "content_block_start") {
      int64_t index = Int(doc, "index");
      EXPECT_EQ(open, -1) << "block " << index << " starts while block " << open << " is open";
      EXPECT_EQ(index, next) << "block indices must be 0, 1, 2...";
      open = static_cast<int>(index);
      ++next;
      simdjson::dom::element cb;
      EXPECT_FALSE(doc["content_block"].get(cb));
      WireBlock b;
      b.type = Str(cb, "type");
      b.text = Str(cb, b.type == "text" ? "text" : "thinking");
      b.signature = Str(cb, "signature");
      b.data = Str(cb, "data");
      b.id = Str(cb, "id");
      b.name = Str(cb, "name");
      if (b.type == "tool_use") {
        simdjson::dom::object input;
        EXPECT_FALSE(cb["input"].get_object().get(input)) << "tool_use start without input: " << e.data;
        EXPECT_EQ(input.size(), 0u);
        b.text.clear();
      }
      r.blocks.push_back(b);
      continue;
    }
    if (type == "content_block_delta") {
      int64_t index = Int(doc, "index");
      EXPECT_EQ(index, open) << "delta for a block that is not open: " << e.data;
      if (index != open || r.blocks.empty()) continue;
      WireBlock& b = r.blocks.back();
      simdjson::dom::element d;
      EXPECT_FALSE(doc["delta"].get(d));
      const std::string dt = Str(d, "type");
      if (dt == "text_delta") {
        EXPECT_EQ(b.type, "text") << "text_delta in a " << b.type << " block";
        b.text += Str(d, "text");
      } else if (dt == "thinking_delta") {
        EXPECT_EQ(b.type, "thinking") << "thinking_delta in a " << b.type << " block";
        b.text += Str(d, "thinking");
      } else if (dt == "signature_delta") {
        EXPECT_EQ(b.type, "thinking") << "signature_delta in a " << b.type << " block";
        b.signature += Str(d, "signature");
      } else if (dt == "input_json_delta") {
        EXPECT_EQ(b.type, "tool_use") << "input_json_delta in a " << b.type << " block";
        b.text += Str(d, "partial_json");
      } else {
        ADD_FAILURE() << "unknown delta " << dt;
      }
      continue;
    }
    if (type == "content_block_stop") {
      EXPECT_EQ(Int(doc, "index"), open) << "stop for a block that is not open: " << e.data;
      open = -1;
      continue;
    }
    if (type == "message_delta") {
      EXPECT_EQ(open, -1) << "message_delta with a block open";
      simdjson::dom::element d;
      EXPECT_FALSE(doc["delta"].get(d));
      r.stop_reason = Str(d, "stop_reason");
      r.stop_sequence = Str(d, "stop_sequence");
      simdjson::dom::element usage;
      EXPECT_FALSE(doc["usage"].get(usage));
      r.input_tokens = Int(usage, "input_tokens");
      r.output_tokens = Int(usage, "output_tokens");
      r.cache_read = Int(usage, "cache_read_input_tokens");
      r.cache_creation = Int(usage, "cache_creation_input_tokens");
      continue;
    }
    if (type == "message_stop") {
      r.stopped = true;
      ended = true;
      continue;
    }
    ADD_FAILURE() << "unknown event " << type;
  }
  return r;
}

}  // namespace sy::anthropic::testing
