// Helpers for the Responses front door tests.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include "frontdoor/responses/responses_frontdoor.h"
#include "sse/sse_parser.h"

namespace sy::responses::testing {

inline InternalRequest MustPeek(const std::string& body) {
  ResponsesFrontDoor door;
  FrontDoorInput in;
  in.body = body;
  auto r = door.Peek(std::move(in));
  if (auto* e = std::get_if<GatewayError>(&r)) {
    ADD_FAILURE() << "Peek refused: " << e->message;
    return InternalRequest{};
  }
  return std::get<InternalRequest>(r);
}

inline GatewayError MustRefuse(const std::string& body) {
  ResponsesFrontDoor door;
  FrontDoorInput in;
  in.body = body;
  auto r = door.Peek(std::move(in));
  if (auto* e = std::get_if<GatewayError>(&r)) return *e;
  ADD_FAILURE() << "Peek accepted: " << body;
  return GatewayError{};
}

// Peek + ParseChat, expecting success.
inline chat::Request MustParse(const std::string& body) {
  ResponsesFrontDoor door;
  chat::Request out;
  InternalRequest req = MustPeek(body);
  if (auto err = door.ParseChat(req, &out)) ADD_FAILURE() << "ParseChat refused: " << err->message;
  return out;
}

// Peek (must pass) + ParseChat (must fail).
inline GatewayError MustFailParse(const std::string& body) {
  ResponsesFrontDoor door;
  chat::Request out;
  InternalRequest req = MustPeek(body);
  if (auto err = door.ParseChat(req, &out)) return *err;
  ADD_FAILURE() << "ParseChat accepted: " << body;
  return GatewayError{};
}

struct SseEvent {
  std::string name;
  std::string data;
};

inline std::vector<SseEvent> ParseSse(const std::string& bytes, bool byte_by_byte = false) {
  std::vector<SseEvent> events;
  sse::Parser parser([&](const sse::Event& e) { events.push_back({e.event, e.data}); });
  if (byte_by_byte) {
    for (char c : bytes) parser.Feed(std::string_view(&c, 1));
  } else {
    parser.Feed(bytes);
  }
  EXPECT_FALSE(parser.partial());
  return events;
}

// A parsed JSON document that owns its parser.
struct Json {
  explicit Json(const std::string& text) {
    auto err = parser.parse(text).get(root);
    EXPECT_EQ(err, simdjson::SUCCESS) << text;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
};

inline std::vector<std::string> Names(const std::vector<SseEvent>& events) {
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(e.name);
  return names;
}

// The checks a strict client (the openai SDKs' stream accumulators, Codex)
// relies on: "type" repeats the event name, sequence_number counts from 0,
// output_index is dense and unique, content events refer to an added item of
// the right type, and exactly one terminal event ends the stream.
inline void CheckLifecycle(const std::vector<SseEvent>& events) {
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0].name, "response.created");
  EXPECT_EQ(events[1].name, "response.in_progress");
  std::map<int64_t, std::string> added;  // output_index → item type
  std::map<int64_t, int> parts;          // output_index → content parts added
  std::map<int64_t, bool> done;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& ev = events[i];
    Json j(ev.data);
    std::string_view type = j.root["type"].get_string().value();
    EXPECT_EQ(type, ev.name);
    EXPECT_EQ(j.root["sequence_number"].get_int64().value(), static_cast<int64_t>(i)) << ev.name;
    const bool terminal =
        ev.name == "response.completed" || ev.name == "response.incomplete" || ev.name == "response.failed";
    EXPECT_EQ(terminal, i + 1 == events.size()) << ev.name << " at " << i;
    int64_t index = -1;
    if (j.root["output_index"].get_int64().get(index) != simdjson::SUCCESS) index = -1;
    if (ev.name == "response.output_item.added") {
      EXPECT_EQ(index, static_cast<int64_t>(added.size()));
      std::string_view item_type = j.root["item"]["type"].get_string().value();
      added[index] = std::string(item_type);
      EXPECT_TRUE(j.root["item"]["status"].is_string());
    } else if (ev.name == "response.output_item.done") {
      ASSERT_TRUE(added.count(index)) << ev.data;
      EXPECT_FALSE(done[index]);
      done[index] = true;
      EXPECT_EQ(std::string_view(j.root["item"]["type"].get_string().value()), added[index]);
    } else if (ev.name == "response.content_part.added") {
      ASSERT_TRUE(added.count(index));
      EXPECT_EQ(added[index], "message");
      EXPECT_EQ(j.root["content_index"].get_int64().value(), parts[index]++);
    } else if (ev.name == "response.output_text.delta" || ev.name == "response.output_text.done") {
      ASSERT_TRUE(added.count(index));
      EXPECT_EQ(added[index], "message");
      EXPECT_FALSE(done[index]);
      EXPECT_LT(j.root["content_index"].get_int64().value(), parts[index]);
      EXPECT_TRUE(j.root["logprobs"].is_array());
    } else if (ev.name.rfind("response.function_call_arguments.", 0) == 0) {
      ASSERT_TRUE(added.count(index));
      EXPECT_EQ(added[index], "function_call");
      EXPECT_FALSE(done[index]);
    } else if (ev.name.rfind("response.reasoning_summary", 0) == 0) {
      ASSERT_TRUE(added.count(index));
      EXPECT_EQ(added[index], "reasoning");
      EXPECT_FALSE(done[index]);
    } else if (ev.name.rfind("response.custom_tool_call_input.", 0) == 0) {
      ASSERT_TRUE(added.count(index));
      EXPECT_EQ(added[index], "custom_tool_call");
      EXPECT_FALSE(done[index]);
    }
  }
  // Every item of a finished response is done.
  if (events.back().name != "response.failed") {
    for (const auto& [index, type] : added) EXPECT_TRUE(done[index]) << index;
  }
}

}  // namespace sy::responses::testing
