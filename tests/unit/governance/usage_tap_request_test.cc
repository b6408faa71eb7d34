// RequestStreamUsage (src/governance/usage_tap.h): a passthrough OpenAI
// stream request is edited to ask for usage, keeping everything else.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "governance/usage_tap.h"

namespace sy::gov {
namespace {

InternalRequest StreamRequest(std::string body, Operation op = Operation::kChatCompletions) {
  InternalRequest r;
  r.operation = op;
  r.wire = WireProtocol::kOpenAI;
  r.model = "gpt-4o";
  r.stream = true;
  const size_t at = body.find("\"gpt-4o\"");
  if (at != std::string::npos) r.model_span = {at, at + 8};
  r.raw_body = std::move(body);
  return r;
}

std::string ModelAtSpan(const InternalRequest& r) {
  return r.raw_body.substr(r.model_span.begin, r.model_span.end - r.model_span.begin);
}

// The edited body's stream_options.include_usage, and that it is still JSON.
bool AsksForUsage(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root)) return false;
  bool include = false;
  return !root["stream_options"]["include_usage"].get_bool().get(include) && include;
}

TEST(RequestStreamUsage, AddsStreamOptionsWhenAbsent) {
  InternalRequest r = StreamRequest(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true})");
  bool asked = true;
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_FALSE(asked);
  EXPECT_EQ(r.raw_body,
            R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(ModelAtSpan(r), "\"gpt-4o\"");
}

TEST(RequestStreamUsage, KeepsFormattingAndTrailingSpace) {
  InternalRequest r = StreamRequest("{\n  \"model\": \"gpt-4o\",\n  \"stream\": true\n}\n");
  bool asked = true;
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_EQ(r.raw_body, "{\n  \"model\": \"gpt-4o\",\n  \"stream\": true\n,\"stream_options\":{\"include_usage\":true}}\n");
  EXPECT_TRUE(AsksForUsage(r.raw_body));
  EXPECT_EQ(ModelAtSpan(r), "\"gpt-4o\"");
}

TEST(RequestStreamUsage, KeepsOtherStreamOptionsAndFixesTheModelSpan) {
  InternalRequest r = StreamRequest(
      R"({"stream_options":{"continuous_usage_stats":true},"model":"gpt-4o","stream":true,"messages":[]})");
  bool asked = true;
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_FALSE(asked);
  EXPECT_EQ(r.raw_body,
            R"({"stream_options":{"include_usage":true,"continuous_usage_stats":true},"model":"gpt-4o","stream":true,"messages":[]})");
  EXPECT_EQ(ModelAtSpan(r), "\"gpt-4o\"") << "the model moved: its span follows";
}

TEST(RequestStreamUsage, IncludeUsageFalseBecomesTrue) {
  InternalRequest r = StreamRequest(
      R"({"stream_options": {"include_usage": false, "x": 1}, "model": "gpt-4o", "stream": true})");
  bool asked = true;
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_FALSE(asked);
  EXPECT_EQ(r.raw_body, R"({"stream_options": {"include_usage": true, "x": 1}, "model": "gpt-4o", "stream": true})");
  EXPECT_EQ(ModelAtSpan(r), "\"gpt-4o\"");
}

TEST(RequestStreamUsage, IncludeUsageNullOrEmptyOptions) {
  InternalRequest r = StreamRequest(R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":null}})");
  bool asked = true;
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_FALSE(asked);
  EXPECT_EQ(r.raw_body, R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}})");

  r = StreamRequest(R"({"model":"gpt-4o","stream":true,"stream_options":{}})");
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_EQ(r.raw_body, R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}})");

  r = StreamRequest(R"({"stream_options":null,"model":"gpt-4o","stream":true})");
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_EQ(r.raw_body, R"({"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true})");
  EXPECT_EQ(ModelAtSpan(r), "\"gpt-4o\"");
}

TEST(RequestStreamUsage, ClientAlreadyAsked) {
  const std::string body = R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}})";
  InternalRequest r = StreamRequest(body);
  bool asked = false;
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_TRUE(asked);
  EXPECT_EQ(r.raw_body, body);
  EXPECT_EQ(ModelAtSpan(r), "\"gpt-4o\"");
}

TEST(RequestStreamUsage, EscapedKeysAreRecognised) {
  InternalRequest r = StreamRequest(R"({"stream\u005foptions":{"include\u005Fusage":false},"model":"gpt-4o","stream":true})");
  bool asked = true;
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_FALSE(asked);
  EXPECT_EQ(r.raw_body, R"({"stream\u005foptions":{"include\u005Fusage":true},"model":"gpt-4o","stream":true})");
  EXPECT_TRUE(AsksForUsage(r.raw_body));
}

TEST(RequestStreamUsage, DuplicateStreamOptionsAreAllFixed) {
  InternalRequest r = StreamRequest(
      R"({"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true,"stream_options":{"include_usage":false}})");
  bool asked = true;
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_FALSE(asked) << "the last duplicate is the one most parsers keep";
  EXPECT_EQ(r.raw_body,
            R"({"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}})");
}

TEST(RequestStreamUsage, CompletionsToo) {
  InternalRequest r = StreamRequest(R"({"model":"gpt-4o","prompt":"x","stream":true})", Operation::kCompletions);
  bool asked = true;
  ASSERT_TRUE(RequestStreamUsage(&r, &asked));
  EXPECT_TRUE(AsksForUsage(r.raw_body));
}

TEST(RequestStreamUsage, RefusesWhatItCannotEdit) {
  const std::string cases[] = {
      "",
      "not json",
      "[1,2]",
      R"({"model":"gpt-4o","stream":true,"stream_options":"yes"})",
      R"({"model":"gpt-4o","stream":true,"stream_options":[]})",
      R"({"model":"gpt-4o","stream":true)",
      R"({"model":"gpt-4o","stream":true} trailing)",
  };
  for (const std::string& body : cases) {
    InternalRequest r = StreamRequest(body);
    bool asked = true;
    EXPECT_FALSE(RequestStreamUsage(&r, &asked)) << body;
    EXPECT_FALSE(asked);
    EXPECT_EQ(r.raw_body, body);
  }
  // Not an OpenAI chat/completions stream.
  InternalRequest r = StreamRequest(R"({"model":"gpt-4o","stream":true})");
  r.stream = false;
  EXPECT_FALSE(RequestStreamUsage(&r, nullptr));
  r = StreamRequest(R"({"model":"gpt-4o","input":"x"})", Operation::kEmbeddings);
  EXPECT_FALSE(RequestStreamUsage(&r, nullptr));
  r = StreamRequest(R"({"model":"gpt-4o","stream":true})");
  r.wire = WireProtocol::kAnthropic;
  EXPECT_FALSE(RequestStreamUsage(&r, nullptr));
  EXPECT_FALSE(RequestStreamUsage(nullptr, nullptr));
}

TEST(RequestStreamUsage, EmptyObjectAndSurroundingSpace) {
  InternalRequest r = StreamRequest("{}");
  ASSERT_TRUE(RequestStreamUsage(&r, nullptr));
  EXPECT_EQ(r.raw_body, R"({"stream_options":{"include_usage":true}})");
  r = StreamRequest(" { } ");
  ASSERT_TRUE(RequestStreamUsage(&r, nullptr));
  EXPECT_EQ(r.raw_body, R"( { "stream_options":{"include_usage":true}} )");
}

}  // namespace
}  // namespace sy::gov
