// AnthropicFrontDoor::EncodeResponse: a chat::Response as an Anthropic
// Messages response body.
#include "common/json_writer.h"
#include "core/ids.h"
#include "frontdoor/anthropic/anthropic_frontdoor.h"
#include "frontdoor/anthropic/anthropic_wire.h"

namespace sy::anthropic {

std::string AnthropicFrontDoor::EncodeResponse(const InternalRequest& request, const chat::Response& response) const {
  bool has_tool_calls = false;
  for (const auto& p : response.content) has_tool_calls = has_tool_calls || p.kind == chat::PartKind::kToolCall;

  std::string out;
  json::Writer w(&out);
  w.BeginObject()
      .Key("id").String(MessageId(response.id))
      .Key("type").String("message")
      .Key("role").String("assistant")
      .Key("model").String(request.model)
      .Key("content").BeginArray();
  for (const auto& p : response.content) {
    switch (p.kind) {
      case chat::PartKind::kThinking:
        w.BeginObject()
            .Key("type").String("thinking")
            .Key("thinking").String(p.text)
            .Key("signature").String(p.signature)
            .EndObject();
        break;
      case chat::PartKind::kRedactedThinking:
        w.BeginObject().Key("type").String("redacted_thinking").Key("data").String(p.signature).EndObject();
        break;
      case chat::PartKind::kText:
        if (p.text.empty()) break;  // an empty text block is invalid on replay
        w.BeginObject().Key("type").String("text").Key("text").String(p.text).EndObject();
        break;
      case chat::PartKind::kToolCall:
        w.BeginObject()
            .Key("type").String("tool_use")
            .Key("id").String(chat::SafeToolId(p.id, "toolu_"))
            .Key("name").String(p.name)
            .Key("input").Raw(ToolInputObject(p.arguments))
            .EndObject();
        break;
      case chat::PartKind::kImage:
      case chat::PartKind::kToolResult: break;  // not assistant output
    }
  }
  w.EndArray().Key("stop_reason").String(StopReasonName(response.finish, has_tool_calls)).Key("stop_sequence");
  if (response.finish == chat::FinishReason::kStopSequence && !response.stop_sequence.empty()) {
    w.String(response.stop_sequence);
  } else {
    w.Null();
  }
  w.Key("usage").Raw(UsageObject(response.usage.value_or(chat::Usage{}))).EndObject();
  return out;
}

}  // namespace sy::anthropic
