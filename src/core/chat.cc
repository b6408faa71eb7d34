#include "core/chat.h"

#include <unordered_map>

#include "core/request.h"

namespace sy::chat {
namespace {

int64_t PartChars(const Part& part) {
  int64_t n = static_cast<int64_t>(part.text.size() + part.arguments.size() + part.name.size());
  if (part.kind == PartKind::kImage) n += 85 * 4;  // a small image costs ~85 tokens on most tokenizers
  for (const auto& c : part.content) n += PartChars(c);
  return n;
}

}  // namespace

int64_t EstimateTokens(const Request& request) {
  // About four characters per token for English text and JSON, the rule of
  // thumb OpenAI and Anthropic document; plus a few tokens per message for
  // role markers.
  int64_t chars = 0;
  for (const auto& p : request.system) chars += PartChars(p);
  for (const auto& m : request.messages) {
    chars += 16;
    for (const auto& p : m.parts) chars += PartChars(p);
  }
  for (const auto& t : request.tools) {
    chars += static_cast<int64_t>(t.name.size() + t.description.size() + t.parameters.size());
  }
  return chars == 0 ? 0 : chars / 4 + 1;
}

void FillToolResultNames(Request* request) {
  std::unordered_map<std::string, std::string> names;
  for (auto& m : request->messages) {
    for (auto& p : m.parts) {
      if (p.kind == PartKind::kToolCall && !p.id.empty()) names[p.id] = p.name;
      if (p.kind == PartKind::kToolResult && p.name.empty()) {
        auto it = names.find(p.id);
        if (it != names.end()) p.name = it->second;
      }
    }
  }
}

GatewayError Unsupported(std::string_view param, std::string_view provider_type) {
  GatewayError e = MakeError(ErrorCode::kBadRequest,
                             "Parameter '" + std::string(param) + "' is not supported by providers of type '" +
                                 std::string(provider_type) +
                                 "'. Remove it, or set drop_params: true for this provider or model to drop it.");
  e.param = std::string(param);
  return e;
}

const char* FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kNone: return "none";
    case FinishReason::kStop: return "stop";
    case FinishReason::kStopSequence: return "stop_sequence";
    case FinishReason::kLength: return "length";
    case FinishReason::kContextFull: return "context_full";
    case FinishReason::kToolCalls: return "tool_calls";
    case FinishReason::kContentFilter: return "content_filter";
    case FinishReason::kPause: return "pause";
    case FinishReason::kError: return "error";
  }
  return "none";
}

}  // namespace sy::chat

namespace sy {

std::string_view WireProtocolName(WireProtocol wire) {
  switch (wire) {
    case WireProtocol::kOpenAI: return "openai";
    case WireProtocol::kOpenAIResponses: return "openai-responses";
    case WireProtocol::kAnthropic: return "anthropic";
    case WireProtocol::kGemini: return "gemini";
    case WireProtocol::kOllama: return "ollama";
    case WireProtocol::kLlmService: return "llm-service";
  }
  return "unknown";
}

}  // namespace sy
