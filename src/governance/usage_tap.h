// Usage of a passed-through answer. A passthrough response goes to the
// client byte for byte; the tap watches those bytes for the upstream's usage
// (OpenAI "usage", Anthropic message_start/message_delta usage, Gemini
// usageMetadata, Ollama prompt_eval_count/eval_count), keeping the last value
// of each field (streamed usage is cumulative: never summed).
//
// OpenAI streams: the gateway asks upstream for usage even when the client did
// not (stream_options.include_usage); the tap then removes that extra usage
// chunk so the client sees exactly what it asked for.
//
// When an answer ends without usage (client gone, upstream cut), the output is
// estimated from the text the stream carried (EstimatedOutputTokens).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/chat.h"
#include "core/request.h"

namespace sy::gov {

class UsageTap {
 public:
  virtual ~UsageTap() = default;
  // Bytes of the response body as they come from upstream. Returns what to
  // send to the client now: `data` itself unless the tap strips a usage
  // chunk, in which case it may hold bytes back until an event is complete.
  // The view stays valid until the next call.
  virtual std::string_view Feed(std::string_view data) = 0;
  // The end of the body: any bytes still held back.
  virtual std::string_view Finish() = 0;
  // The bytes last passed to Feed are about to go away (their owner returns):
  // a tap that only kept a view of them copies them now. Until Keep or the
  // next Feed, the last Feed's bytes must stay valid (so a body that comes
  // whole, fed and finished in one step, is never copied).
  virtual void Keep() {}
  // The last usage seen, merged field by field; nullopt when none was seen.
  virtual std::optional<chat::Usage> usage() const = 0;
  // Output tokens estimated from the generated text seen so far (text,
  // reasoning, tool arguments): for answers that ended without usage.
  virtual int64_t EstimatedOutputTokens() const = 0;
  // The stream's last usage has been read (see UsageCounter::final): what
  // remains to send cannot change the bill.
  virtual bool UsageFinal() const { return false; }
};

// A tap for an answer in `protocol` (the upstream's, which is the client's in
// passthrough); `stream`: SSE / NDJSON, else one JSON body. strip_usage_chunk:
// OpenAI streams only, the client did not ask for usage.
std::unique_ptr<UsageTap> NewUsageTap(WireProtocol protocol, bool stream, bool strip_usage_chunk);

// For an OpenAI chat or completions request that streams: makes the body ask
// for usage (stream_options.include_usage = true), keeping every other
// stream_options member and fixing req->model_span if it moved. Sets
// *client_asked when the client had already asked. False (body unchanged)
// when the body is not a JSON object it can edit.
bool RequestStreamUsage(InternalRequest* req, bool* client_asked);

// Estimated input tokens of a request body (bytes / 4, at least 1): the TPM
// reservation made before the answer's real usage is known.
int64_t EstimateInputTokens(std::string_view body);

}  // namespace sy::gov
