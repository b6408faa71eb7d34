// The one place that knows every upstream codec.
#include "provider/anthropic/anthropic_codec.h"
#include "provider/gemini/gemini_codec.h"
#include "provider/http_provider.h"
#include "provider/ollama/ollama_codec.h"
#include "provider/openai/openai_codec.h"

namespace sy {

std::unique_ptr<UpstreamCodec> MakeCodec(const std::string& type) {
  if (type == "anthropic") return std::make_unique<anthropic::AnthropicCodec>();
  if (type == "gemini") return std::make_unique<gemini::GeminiCodec>();
  if (type == "ollama") return std::make_unique<ollama::OllamaCodec>();
  return std::make_unique<openai::OpenAiCodec>();  // "openai": any OpenAI-compatible server
}

}  // namespace sy
