// Responses front door: the stream encoder, fed hand-built internal events.
#include <gtest/gtest.h>

#include "core/ids.h"
#include "frontdoor/responses/responses_frontdoor.h"
#include "responses_test_util.h"

namespace sy::responses {
namespace {

using namespace testing;
using chat::EventKind;
using simdjson::dom::array;
using simdjson::dom::element;

chat::StreamEvent Ev(EventKind kind, std::string text = {}, int index = 0) {
  chat::StreamEvent e;
  e.kind = kind;
  e.text = std::move(text);
  e.index = index;
  return e;
}
chat::StreamEvent Start() { return Ev(EventKind::kStart); }
chat::StreamEvent TextDelta(std::string t) { return Ev(EventKind::kTextDelta, std::move(t)); }
chat::StreamEvent Thought(std::string t) { return Ev(EventKind::kReasoningDelta, std::move(t)); }
chat::StreamEvent Signature(std::string t) { return Ev(EventKind::kReasoningSignature, std::move(t)); }
chat::StreamEvent CallStart(int index, std::string id, std::string name) {
  chat::StreamEvent e = Ev(EventKind::kToolCallStart, {}, index);
  e.id = std::move(id);
  e.name = std::move(name);
  return e;
}
chat::StreamEvent CallDelta(int index, std::string args) { return Ev(EventKind::kToolCallDelta, std::move(args), index); }
chat::StreamEvent CallEnd(int index) { return Ev(EventKind::kToolCallEnd, {}, index); }
chat::StreamEvent UsageEv(int64_t in, int64_t out) {
  chat::StreamEvent e = Ev(EventKind::kUsage);
  e.usage = chat::Usage{.input_tokens = in, .cached_input_tokens = 0, .cache_write_tokens = 0, .output_tokens = out,
                        .reasoning_tokens = 0};
  return e;
}
chat::StreamEvent Finish(chat::FinishReason reason) {
  chat::StreamEvent e = Ev(EventKind::kFinish);
  e.finish = reason;
  return e;
}
chat::StreamEvent ErrorEv(GatewayError error) {
  chat::StreamEvent e = Ev(EventKind::kError);
  e.error = std::move(error);
  return e;
}

const std::string kTools = R"({"model":"alias","input":"x","stream":true,"tools":[
  {"type":"function","name":"get_weather"},{"type":"function","name":"get_time"},
  {"type":"custom","name":"apply_patch"}]})";

std::string RunRaw(const std::vector<chat::StreamEvent>& events, const std::string& body = kTools) {
  ResponsesFrontDoor door;
  InternalRequest req = MustPeek(body);
  chat::Request chat;
  EXPECT_FALSE(door.ParseChat(req, &chat));
  auto encoder = door.NewStreamEncoder(req, chat);
  std::string out;
  for (const auto& e : events) encoder->Encode(e, &out);
  return out;
}

std::vector<SseEvent> Stream(const std::vector<chat::StreamEvent>& events, const std::string& body = kTools) {
  std::string bytes = RunRaw(events, body);
  EXPECT_EQ(bytes.find("[DONE]"), std::string::npos);
  auto parsed = ParseSse(bytes);
  // The same events whatever the split.
  auto split = ParseSse(bytes, /*byte_by_byte=*/true);
  EXPECT_EQ(Names(parsed), Names(split));
  CheckLifecycle(parsed);
  return parsed;
}

std::string Str(element e) { return std::string(std::string_view(e.get_string().value())); }

// The index-th event named `name`.
const SseEvent& Find(const std::vector<SseEvent>& events, const std::string& name, int nth = 0) {
  for (const auto& e : events) {
    if (e.name == name && nth-- == 0) return e;
  }
  static SseEvent none;
  ADD_FAILURE() << "no " << name;
  return none;
}

TEST(ResponsesStream, PlainText) {
  auto events = Stream({Start(), TextDelta("Hel"), TextDelta(""), TextDelta("lo"), UsageEv(10, 3),
                     Finish(chat::FinishReason::kStop)});
  EXPECT_EQ(Names(events),
            (std::vector<std::string>{"response.created", "response.in_progress", "response.output_item.added",
                                      "response.content_part.added", "response.output_text.delta",
                                      "response.output_text.delta", "response.output_text.done",
                                      "response.content_part.done", "response.output_item.done",
                                      "response.completed"}));
  Json created(events[0].data);
  EXPECT_EQ(Str(created.root["response"]["status"]), "in_progress");
  EXPECT_EQ(created.root["response"]["output"].get_array().value().size(), 0u);
  EXPECT_EQ(Str(created.root["response"]["model"]), "alias");
  const std::string id = Str(created.root["response"]["id"]);

  Json added(events[2].data);
  EXPECT_EQ(Str(added.root["item"]["type"]), "message");
  EXPECT_EQ(Str(added.root["item"]["status"]), "in_progress");
  EXPECT_EQ(added.root["item"]["content"].get_array().value().size(), 0u);
  const std::string item_id = Str(added.root["item"]["id"]);
  Json delta(events[4].data);
  EXPECT_EQ(Str(delta.root["item_id"]), item_id);
  EXPECT_EQ(Str(delta.root["delta"]), "Hel");
  EXPECT_EQ(delta.root["content_index"].get_int64().value(), 0);
  Json text_done(events[6].data);
  EXPECT_EQ(Str(text_done.root["text"]), "Hello");
  Json part_done(events[7].data);
  EXPECT_EQ(Str(part_done.root["part"]["text"]), "Hello");
  Json item_done(events[8].data);
  EXPECT_EQ(Str(item_done.root["item"]["content"].at(0).value()["text"]), "Hello");
  EXPECT_EQ(Str(item_done.root["item"]["status"]), "completed");

  Json done(events.back().data);
  element r = done.root["response"];
  EXPECT_EQ(Str(r["id"]), id);
  EXPECT_EQ(Str(r["status"]), "completed");
  EXPECT_EQ(Str(r["output"].at(0).value()["content"].at(0).value()["text"]), "Hello");
  EXPECT_EQ(r["usage"]["input_tokens"].get_int64().value(), 10);
  EXPECT_EQ(r["usage"]["output_tokens"].get_int64().value(), 3);
  EXPECT_EQ(r["usage"]["total_tokens"].get_int64().value(), 13);
}

TEST(ResponsesStream, FramesAreNamedEvents) {
  std::string bytes = RunRaw({Start(), TextDelta("a\nb"), Finish(chat::FinishReason::kStop)});
  EXPECT_EQ(bytes.rfind("event: response.created\ndata: {\"type\":\"response.created\",", 0), 0u);
  EXPECT_NE(bytes.find("\"sequence_number\":0}\n\n"), std::string::npos);
  EXPECT_NE(bytes.find("\"delta\":\"a\\nb\""), std::string::npos);
}

TEST(ResponsesStream, InterleavedToolCalls) {
  auto events = Stream({Start(), CallStart(0, "call_1", "get_weather"), CallStart(1, "toolu_2", "get_time"),
                     CallDelta(0, "{\"city\":"), CallDelta(1, "{\"tz\":\"UTC\"}"), CallDelta(0, "\"Paris\"}"),
                     CallEnd(1), CallEnd(0), Finish(chat::FinishReason::kToolCalls)});
  Json a0(Find(events, "response.output_item.added", 0).data);
  Json a1(Find(events, "response.output_item.added", 1).data);
  EXPECT_EQ(a0.root["output_index"].get_int64().value(), 0);
  EXPECT_EQ(a1.root["output_index"].get_int64().value(), 1);
  EXPECT_EQ(Str(a0.root["item"]["type"]), "function_call");
  EXPECT_EQ(Str(a0.root["item"]["arguments"]), "");
  EXPECT_EQ(Str(a0.root["item"]["call_id"]), "call_1");
  EXPECT_EQ(Str(a1.root["item"]["call_id"]), "toolu_2");
  EXPECT_EQ(Str(a1.root["item"]["name"]), "get_time");
  const std::string id0 = Str(a0.root["item"]["id"]);
  const std::string id1 = Str(a1.root["item"]["id"]);
  EXPECT_EQ(id0.rfind("fc_", 0), 0u);
  EXPECT_NE(id0, id1);

  // Each delta goes to its own call.
  Json d0(Find(events, "response.function_call_arguments.delta", 0).data);
  Json d1(Find(events, "response.function_call_arguments.delta", 1).data);
  Json d2(Find(events, "response.function_call_arguments.delta", 2).data);
  EXPECT_EQ(Str(d0.root["item_id"]), id0);
  EXPECT_EQ(Str(d1.root["item_id"]), id1);
  EXPECT_EQ(d1.root["output_index"].get_int64().value(), 1);
  EXPECT_EQ(Str(d2.root["item_id"]), id0);

  Json done1(Find(events, "response.function_call_arguments.done", 0).data);
  EXPECT_EQ(Str(done1.root["item_id"]), id1);
  EXPECT_EQ(Str(done1.root["arguments"]), "{\"tz\":\"UTC\"}");
  Json done0(Find(events, "response.function_call_arguments.done", 1).data);
  EXPECT_EQ(Str(done0.root["arguments"]), "{\"city\":\"Paris\"}");
  Json item0(Find(events, "response.output_item.done", 1).data);
  EXPECT_EQ(Str(item0.root["item"]["arguments"]), "{\"city\":\"Paris\"}");
  EXPECT_EQ(Str(item0.root["item"]["status"]), "completed");

  Json completed(events.back().data);
  array out = completed.root["response"]["output"].get_array().value();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Str(out.at(0).value()["id"]), id0);
  EXPECT_EQ(Str(out.at(0).value()["arguments"]), "{\"city\":\"Paris\"}");
  EXPECT_EQ(Str(out.at(1).value()["id"]), id1);
}

TEST(ResponsesStream, TextAfterToolCalls) {
  auto events = Stream({Start(), TextDelta("Let me check."), CallStart(0, "c1", "get_weather"), CallDelta(0, "{}"),
                     CallEnd(0), TextDelta("Done"), Finish(chat::FinishReason::kStop)});
  // message 0 closes when the call starts; the later text is a new message 2.
  Json m2(Find(events, "response.output_item.added", 2).data);
  EXPECT_EQ(Str(m2.root["item"]["type"]), "message");
  EXPECT_EQ(m2.root["output_index"].get_int64().value(), 2);
  Json completed(events.back().data);
  array out = completed.root["response"]["output"].get_array().value();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(Str(out.at(0).value()["type"]), "message");
  EXPECT_EQ(Str(out.at(1).value()["type"]), "function_call");
  EXPECT_EQ(Str(out.at(2).value()["content"].at(0).value()["text"]), "Done");
  EXPECT_EQ(Str(out.at(1).value()["call_id"]), chat::SafeToolId("c1", "call_"));
}

TEST(ResponsesStream, TextWhileCallsAreOpen) {
  // A message may start while a call is still receiving arguments.
  auto events = Stream({Start(), CallStart(0, "call_a", "get_weather"), CallDelta(0, "{\"a\":"), TextDelta("hi"),
                     CallDelta(0, "1}"), CallEnd(0), Finish(chat::FinishReason::kToolCalls)});
  Json completed(events.back().data);
  array out = completed.root["response"]["output"].get_array().value();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Str(out.at(0).value()["arguments"]), "{\"a\":1}");
  EXPECT_EQ(Str(out.at(1).value()["type"]), "message");
}

TEST(ResponsesStream, ReasoningThenText) {
  auto events = Stream({Start(), Thought("Thinking "), Thought("hard"), Signature("SIG"), Signature("ONLY"),
                     TextDelta("Answer"), Finish(chat::FinishReason::kStop)});
  EXPECT_EQ(Names(events),
            (std::vector<std::string>{
                "response.created", "response.in_progress", "response.output_item.added",
                "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
                "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
                "response.reasoning_summary_part.done", "response.output_item.done",
                // the signature-only block
                "response.output_item.added", "response.output_item.done",
                "response.output_item.added", "response.content_part.added", "response.output_text.delta",
                "response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.completed"}));
  Json part(events[3].data);
  EXPECT_EQ(part.root["summary_index"].get_int64().value(), 0);
  EXPECT_EQ(Str(part.root["part"]["type"]), "summary_text");
  Json text_done(events[6].data);
  EXPECT_EQ(Str(text_done.root["text"]), "Thinking hard");
  Json rs(events[8].data);
  EXPECT_EQ(Str(rs.root["item"]["type"]), "reasoning");
  EXPECT_EQ(Str(rs.root["item"]["summary"].at(0).value()["text"]), "Thinking hard");
  EXPECT_EQ(Str(rs.root["item"]["encrypted_content"]), "SIG");
  Json only(events[10].data);
  EXPECT_EQ(only.root["item"]["summary"].get_array().value().size(), 0u);
  EXPECT_EQ(Str(only.root["item"]["encrypted_content"]), "ONLY");
}

TEST(ResponsesStream, RedactedReasoningAndReasoningBeforeCall) {
  auto events = Stream({Start(), Ev(EventKind::kRedactedReasoning, "DATA"), Thought("t"),
                     CallStart(0, "call_x", "get_time"), CallEnd(0), Finish(chat::FinishReason::kToolCalls)});
  Json completed(events.back().data);
  array out = completed.root["response"]["output"].get_array().value();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(Str(out.at(0).value()["encrypted_content"]), "sy.redacted:DATA");
  EXPECT_EQ(Str(out.at(1).value()["summary"].at(0).value()["text"]), "t");
  EXPECT_EQ(Str(out.at(2).value()["arguments"]), "{}");  // no deltas: "{}"
}

TEST(ResponsesStream, CustomToolCall) {
  auto events = Stream({Start(), CallStart(0, "call_p", "apply_patch"), CallDelta(0, "{\"input\":\"*** Begin"),
                     CallDelta(0, " Patch\\n\"}"), CallEnd(0), Finish(chat::FinishReason::kToolCalls)});
  EXPECT_EQ(Names(events), (std::vector<std::string>{"response.created", "response.in_progress",
                                                     "response.output_item.added",
                                                     "response.custom_tool_call_input.delta",
                                                     "response.custom_tool_call_input.done",
                                                     "response.output_item.done", "response.completed"}));
  Json added(events[2].data);
  EXPECT_EQ(Str(added.root["item"]["type"]), "custom_tool_call");
  EXPECT_EQ(Str(added.root["item"]["input"]), "");
  EXPECT_EQ(Str(added.root["item"]["id"]).rfind("ctc_", 0), 0u);
  Json done(events[4].data);
  EXPECT_EQ(Str(done.root["input"]), "*** Begin Patch\n");
  Json item(events[5].data);
  EXPECT_EQ(Str(item.root["item"]["input"]), "*** Begin Patch\n");
  EXPECT_EQ(Str(item.root["item"]["call_id"]), "call_p");
  EXPECT_EQ(Str(item.root["item"]["name"]), "apply_patch");
}

TEST(ResponsesStream, RateLimitErrorIsResponseFailed) {
  GatewayError limited = MakeError(ErrorCode::kRateLimited, "Rate limit reached.");
  limited.retry_after = "7";
  auto events = Stream({Start(), TextDelta("par"), ErrorEv(limited), TextDelta("ignored"),
                     Finish(chat::FinishReason::kStop)});
  EXPECT_EQ(events.back().name, "response.failed");
  Json failed(events.back().data);
  element r = failed.root["response"];
  EXPECT_EQ(Str(r["status"]), "failed");
  EXPECT_EQ(Str(r["error"]["code"]), "rate_limit_exceeded");
  EXPECT_EQ(Str(r["error"]["message"]), "Rate limit reached. Please try again in 7s.");
  EXPECT_TRUE(r["id"].is_string());
}

TEST(ResponsesStream, ProviderErrorIsServerError) {
  auto events = Stream({Start(), ErrorEv(MakeError(ErrorCode::kProviderError, "overloaded_error: Overloaded"))});
  ASSERT_EQ(events.size(), 3u);
  Json failed(events.back().data);
  EXPECT_EQ(Str(failed.root["response"]["error"]["code"]), "server_error");
  EXPECT_EQ(Str(failed.root["response"]["error"]["message"]), "overloaded_error: Overloaded");
  // An error event without an error still fails cleanly.
  auto bare = Stream({Start(), Ev(EventKind::kError)});
  EXPECT_EQ(bare.back().name, "response.failed");
}

TEST(ResponsesStream, LengthIsIncomplete) {
  auto events = Stream({Start(), CallStart(0, "call_1", "get_weather"), CallDelta(0, "{\"city\":\"Par"),
                     UsageEv(5, 16), Finish(chat::FinishReason::kLength)});
  EXPECT_EQ(events.back().name, "response.incomplete");
  Json j(events.back().data);
  EXPECT_EQ(Str(j.root["response"]["status"]), "incomplete");
  EXPECT_EQ(Str(j.root["response"]["incomplete_details"]["reason"]), "max_output_tokens");
  // The truncated call is closed, its arguments kept as they came (not repaired).
  EXPECT_EQ(Str(j.root["response"]["output"].at(0).value()["arguments"]), "{\"city\":\"Par");
  auto filtered = Stream({Start(), Finish(chat::FinishReason::kContentFilter)});
  Json f(filtered.back().data);
  EXPECT_EQ(Str(f.root["response"]["incomplete_details"]["reason"]), "content_filter");
}

TEST(ResponsesStream, IgnoresEventsForUnstartedCalls) {
  auto events = Stream({Start(), CallDelta(3, "{\"x\":1}"), CallEnd(3), CallStart(0, "call_a", "get_time"),
                     CallStart(0, "call_b", "get_weather"), CallDelta(0, "{}"), CallEnd(0), CallDelta(0, "late"),
                     CallEnd(0), Finish(chat::FinishReason::kToolCalls)});
  Json completed(events.back().data);
  array out = completed.root["response"]["output"].get_array().value();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Str(out.at(0).value()["call_id"]), "call_a");
  EXPECT_EQ(Str(out.at(0).value()["arguments"]), "{}");
}

TEST(ResponsesStream, WithoutStartEventStillBegins) {
  auto events = Stream({TextDelta("x"), Finish(chat::FinishReason::kStop)});
  EXPECT_EQ(events.back().name, "response.completed");
  auto empty = Stream({Start(), Finish(chat::FinishReason::kStop)});
  EXPECT_EQ(Names(empty), (std::vector<std::string>{"response.created", "response.in_progress",
                                                    "response.completed"}));
  Json j(empty.back().data);
  EXPECT_TRUE(j.root["response"]["usage"].is_null());
}

TEST(ResponsesStream, NamespacedCall) {
  const std::string body = R"({"model":"m","input":"x","stream":true,"tools":[
    {"type":"namespace","name":"agents","tools":[{"type":"function","name":"spawn_agent"}]}]})";
  auto events = Stream({Start(), CallStart(0, "call_s", "agents__spawn_agent"), CallDelta(0, "{}"), CallEnd(0),
                     Finish(chat::FinishReason::kToolCalls)},
                    body);
  Json done(Find(events, "response.output_item.done").data);
  EXPECT_EQ(Str(done.root["item"]["name"]), "spawn_agent");
  EXPECT_EQ(Str(done.root["item"]["namespace"]), "agents");
}

TEST(ResponsesStream, HugeArguments) {
  std::string big(300000, 'z');
  auto events = Stream({Start(), CallStart(0, "call_h", "get_weather"), CallDelta(0, "{\"s\":\""), CallDelta(0, big),
                     CallDelta(0, "\"}"), CallEnd(0), Finish(chat::FinishReason::kToolCalls)});
  Json done(Find(events, "response.function_call_arguments.done").data);
  EXPECT_EQ(Str(done.root["arguments"]).size(), big.size() + 8);
}

}  // namespace
}  // namespace sy::responses
