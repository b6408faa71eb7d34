// OpenAI on both sides of the seam: a client body parsed by the front door and
// encoded by the codec keeps its meaning; an upstream stream decoded by the
// codec and encoded by the front door is a valid OpenAI stream.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "frontdoor/openai/openai_chat.h"
#include "provider/openai/openai_codec.h"

namespace sy::openai {
namespace {

const OpenAiFrontDoor door([] { return int64_t{42}; });
const OpenAiCodec codec;

InternalRequest Peek(std::string body) {
  FrontDoorInput in;
  in.body = std::move(body);
  auto r = door.Peek(std::move(in));
  EXPECT_TRUE(std::holds_alternative<InternalRequest>(r));
  return std::get<InternalRequest>(r);
}

std::string Minify(const std::string& json) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  EXPECT_EQ(p.parse(json).get(e), simdjson::SUCCESS) << json;
  return simdjson::minify(e);
}

TEST(OpenAiRoundTrip, RequestKeepsItsMeaning) {
  const std::string body = Minify(R"({"model":"gpt-up","messages":[
      {"role":"system","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"What is in this image?"},
                                {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
      {"role":"assistant","content":"","tool_calls":[
          {"id":"call_1","type":"function","function":{"name":"zoom","arguments":"{\"factor\":2}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"zoomed"},
      {"role":"assistant","content":"A cat."},
      {"role":"user","content":"Thanks"}],
    "stream":true,
    "tools":[{"type":"function","function":{"name":"zoom","description":"Zoom in","parameters":{"type":"object","properties":{"factor":{"type":"number"}}}}}],
    "tool_choice":"auto","max_tokens":64,"temperature":0.2,"stop":["\n\n"]})");
  InternalRequest req = Peek(body);
  chat::Request typed;
  ASSERT_FALSE(door.ParseChat(req, &typed).has_value());
  auto call = codec.EncodeChat(typed, "gpt-up", {});
  ASSERT_TRUE(std::holds_alternative<UpstreamCall>(call));
  EXPECT_EQ(std::get<UpstreamCall>(call).body,
            Minify(R"({"model":"gpt-up","messages":[
      {"role":"system","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"What is in this image?"},
                                {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
      {"role":"assistant","content":"","tool_calls":[
          {"id":"call_1","type":"function","function":{"name":"zoom","arguments":"{\"factor\":2}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"zoomed"},
      {"role":"assistant","content":"A cat."},
      {"role":"user","content":"Thanks"}],
    "stream":true,"stream_options":{"include_usage":true},
    "tools":[{"type":"function","function":{"name":"zoom","description":"Zoom in","parameters":{"type":"object","properties":{"factor":{"type":"number"}}}}}],
    "tool_choice":"auto","max_tokens":64,"temperature":0.2,"stop":["\n\n"]})"));
}

TEST(OpenAiRoundTrip, StreamThroughBothSides) {
  InternalRequest req = Peek(R"({"model":"alias","messages":[{"role":"user","content":"q"}],"stream":true})");
  chat::Request typed;
  ASSERT_FALSE(door.ParseChat(req, &typed).has_value());
  auto decoder = codec.NewStreamDecoder();
  auto encoder = door.NewStreamEncoder(req, typed);
  const std::string upstream =
      "data: {\"id\":\"up\",\"model\":\"gpt-up\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
      "data: {\"id\":\"up\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\n"
      "data: {\"id\":\"up\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\":1}\"}}]}}]}\n\n"
      "data: {\"id\":\"up\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
      "data: {\"id\":\"up\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n"
      "data: [DONE]\n\n";
  std::vector<chat::StreamEvent> events;
  for (char c : upstream) decoder->Feed(std::string_view(&c, 1), &events);
  decoder->Finish(&events);
  std::string client;
  for (const auto& e : events) encoder->Encode(e, &client);
  const std::string head = R"(data: {"id":"up","object":"chat.completion.chunk","created":42,"model":"alias","choices":[{"index":0,)";
  const std::string tail = "}]}\n\n";
  EXPECT_EQ(client,
            head + R"("delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null)" + tail +
                head + R"("delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"logprobs":null,"finish_reason":null)" + tail +
                head + R"("delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]},"logprobs":null,"finish_reason":null)" + tail +
                head + R"("delta":{},"logprobs":null,"finish_reason":"tool_calls")" + tail + "data: [DONE]\n\n");
}

TEST(OpenAiRoundTrip, NonStreamThroughBothSides) {
  InternalRequest req = Peek(R"({"model":"alias","messages":[{"role":"user","content":"q"}]})");
  auto decoded = codec.DecodeChat(R"({"id":"chatcmpl-7","model":"gpt-up","choices":[{"index":0,
      "message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}})");
  ASSERT_TRUE(std::holds_alternative<chat::Response>(decoded));
  EXPECT_EQ(door.EncodeResponse(req, std::get<chat::Response>(decoded)),
            Minify(R"({"id":"chatcmpl-7","object":"chat.completion","created":42,"model":"alias",
      "choices":[{"index":0,"message":{"role":"assistant","content":"Hi","refusal":null},"logprobs":null,"finish_reason":"stop"}],
      "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"prompt_tokens_details":{"cached_tokens":0},
               "completion_tokens_details":{"reasoning_tokens":0}}})"));
}

}  // namespace
}  // namespace sy::openai
