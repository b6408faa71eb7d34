// Internal to the usage tap: the tap of each kind of body, made by
// NewUsageTap (usage_tap.cc).
#pragma once

#include <memory>

#include "governance/usage_tap.h"

namespace sy::gov::tap {

// SSE streams (OpenAI, Anthropic, Gemini alt=sse): passes every byte at once.
std::unique_ptr<UsageTap> NewSseTap(WireProtocol protocol);
// Gemini streams: SSE, or a JSON array when the body starts with '['.
std::unique_ptr<UsageTap> NewGeminiStreamTap();
// Ollama NDJSON streams.
std::unique_ptr<UsageTap> NewNdjsonTap();
// OpenAI streams whose client did not ask for usage: drops the usage-only
// chunk, holding back only an incomplete trailing event (usage_tap_strip.cc).
std::unique_ptr<UsageTap> NewStripTap();
// One JSON body, read in Finish().
std::unique_ptr<UsageTap> NewBodyTap(WireProtocol protocol);

}  // namespace sy::gov::tap
