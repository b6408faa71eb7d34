#include "frontdoor/frontdoors.h"

#include "frontdoor/anthropic/anthropic_frontdoor.h"
#include "frontdoor/gemini/gemini_frontdoor.h"
#include "frontdoor/llmservice/llmservice_frontdoor.h"
#include "frontdoor/ollama/ollama_frontdoor.h"
#include "frontdoor/openai/openai_chat.h"
#include "frontdoor/responses/responses_frontdoor.h"

namespace sy {
namespace {

struct Doors {
  openai::OpenAiFrontDoor openai;
  responses::ResponsesFrontDoor responses;
  anthropic::AnthropicFrontDoor anthropic;
  gemini::GeminiFrontDoor gemini;
  ollama::OllamaFrontDoor ollama;
  llmservice::LlmServiceFrontDoor llmservice;
};

const Doors& All() {
  static const Doors* doors = new Doors();  // never destroyed: used until exit
  return *doors;
}

}  // namespace

const FrontDoor& FrontDoorFor(WireProtocol protocol) {
  const Doors& d = All();
  switch (protocol) {
    case WireProtocol::kOpenAI: return d.openai;
    case WireProtocol::kOpenAIResponses: return d.responses;
    case WireProtocol::kAnthropic: return d.anthropic;
    case WireProtocol::kGemini: return d.gemini;
    case WireProtocol::kOllama: return d.ollama;
    case WireProtocol::kLlmService: return d.llmservice;
  }
  return d.openai;
}

const ollama::OllamaFrontDoor& OllamaDoor() { return All().ollama; }

}  // namespace sy
