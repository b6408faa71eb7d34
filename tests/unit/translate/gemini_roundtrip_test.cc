// Both sides of the Gemini seam together: a Gemini client's history through
// the front door and the codec, and an upstream stream through the decoder
// and the front door's encoder. What Gemini needs back (ids, signatures,
// functionResponse pairing) must survive.
#include <gtest/gtest.h>

#include "frontdoor/gemini/gemini_frontdoor.h"
#include "provider/gemini/gemini_codec.h"
#include "sse/sse_parser.h"
#include "translate/gemini_test_util.h"

namespace sy::gemini {
namespace {

using testing::At;

TEST(GeminiRoundTrip, HistoryKeepsSignaturesAndPairsResponses) {
  GeminiFrontDoor fd;
  FrontDoorInput in;
  in.path_model = "gemini-3-pro";
  in.body = R"({"contents":[
      {"role":"user","parts":[{"text":"weather?"}]},
      {"role":"model","parts":[{"functionCall":{"name":"w","args":{"c":"A"}},"thoughtSignature":"REAL"},
                               {"functionCall":{"name":"w","args":{"c":"B"}}}]},
      {"role":"user","parts":[{"functionResponse":{"name":"w","response":{"t":1}}},
                              {"functionResponse":{"name":"w","response":{"t":2}}}]}],
      "tools":[{"functionDeclarations":[{"name":"w","parameters":{"type":"OBJECT","properties":{"c":{"type":"STRING"}}}}]}]})";
  auto peeked = fd.Peek(in);
  ASSERT_TRUE(std::holds_alternative<InternalRequest>(peeked));
  chat::Request chat;
  ASSERT_FALSE(fd.ParseChat(std::get<InternalRequest>(peeked), &chat));
  chat::FillToolResultNames(&chat);
  GeminiCodec codec;
  auto call = std::get<UpstreamCall>(codec.EncodeChat(chat, "gemini-3-pro", CodecOptions{}));
  const std::string& body = call.body;
  EXPECT_EQ(At(body, "/contents/1/parts/0/thoughtSignature"), R"("REAL")");
  EXPECT_EQ(At(body, "/contents/1/parts/1/thoughtSignature"), "<missing>");
  const std::string id0 = At(body, "/contents/1/parts/0/functionCall/id");
  const std::string id1 = At(body, "/contents/1/parts/1/functionCall/id");
  EXPECT_NE(id0, id1);
  EXPECT_EQ(At(body, "/contents/2/parts/0/functionResponse/id"), id0);
  EXPECT_EQ(At(body, "/contents/2/parts/1/functionResponse/id"), id1);
  EXPECT_EQ(At(body, "/contents/2/parts/1/functionResponse/response"), R"({"t":2})");
  EXPECT_EQ(At(body, "/tools/0/functionDeclarations/0/parametersJsonSchema"),
            R"({"type":"object","properties":{"c":{"type":"string"}}})");
}

TEST(GeminiRoundTrip, UpstreamStreamToClientStreamKeepsTheCallSignature) {
  GeminiCodec codec;
  auto dec = codec.NewStreamDecoder();
  std::vector<chat::StreamEvent> events;
  dec->Feed("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Let me check.\"},"
            "{\"functionCall\":{\"id\":\"fc1\",\"name\":\"w\",\"args\":{\"c\":\"A\"}},\"thoughtSignature\":\"SIG\"}]},"
            "\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":7}}\r\n\r\n",
            &events);
  dec->Finish(&events);

  GeminiFrontDoor fd;
  InternalRequest req;
  req.model = "alias";
  req.stream = true;
  auto enc = fd.NewStreamEncoder(req, chat::Request{});
  std::string out;
  for (const auto& e : events) enc->Encode(e, &out);
  std::vector<std::string> chunks;
  sse::Parser p([&chunks](const sse::Event& e) { chunks.push_back(e.data); });
  p.Feed(out);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(At(chunks[0], "/candidates/0/content/parts/0/text"), R"("Let me check.")");
  EXPECT_EQ(At(chunks[1], "/candidates/0/content/parts/0"),
            R"({"functionCall":{"id":"fc1","name":"w","args":{"c":"A"}},"thoughtSignature":"SIG"})");
  EXPECT_EQ(At(chunks[1], "/candidates/0/finishReason"), R"("STOP")");
  EXPECT_EQ(At(chunks[1], "/usageMetadata/totalTokenCount"), "12");
}

}  // namespace
}  // namespace sy::gemini
