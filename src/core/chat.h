// The typed internal model of a chat exchange, shared by every front door and
// every provider (N front doors + M providers converters, never N x M).
//
// A front door parses its wire request into a chat::Request and encodes
// chat::Response / chat::StreamEvent back into its own protocol; a provider
// codec encodes a chat::Request for its upstream protocol and decodes the
// upstream's answer into chat::Response / chat::StreamEvent.
//
// Conventions every converter keeps:
// - JSON that is passed through opaquely (tool parameter schemas, tool call
//   arguments, response schemas) is held as minified JSON text.
// - Tool-call arguments are always a JSON object text ("{}" when empty). A
//   protocol that carries them as an object (Gemini, Ollama) serialises it.
// - Token counts follow the "total" convention (see Usage); each encoder
//   derives the sums its protocol wants.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.h"

namespace sy::chat {

enum class Role { kSystem, kUser, kAssistant, kTool };

enum class PartKind {
  kText,               // text
  kImage,              // media_type + data (base64, no "data:" prefix), or url
  kToolCall,           // id, name, arguments (assistant)
  kToolResult,         // id (the call's id), name (when known), content (text/image parts), is_error
  kThinking,           // text (may be empty) + signature (opaque, byte-exact)
  kRedactedThinking,   // signature holds the opaque "data"
};

struct Part {
  PartKind kind = PartKind::kText;
  std::string text;        // kText, kThinking
  std::string media_type;  // kImage: "image/png"...
  std::string data;        // kImage: base64 without prefix
  std::string url;         // kImage: http(s) URL when not inline
  std::string id;          // kToolCall: call id; kToolResult: id of the call it answers
  std::string name;        // kToolCall / kToolResult: function name ("" when unknown)
  std::string arguments;   // kToolCall: JSON object text
  bool is_error = false;   // kToolResult
  std::vector<Part> content;  // kToolResult: text and image parts
  // kThinking: the signature; kRedactedThinking: the data. Gemini's
  // thoughtSignature on a text or tool-call part is kept here too.
  std::string signature;
};

struct Message {
  Role role = Role::kUser;
  std::vector<Part> parts;
};

struct Tool {
  std::string name;
  std::string description;
  std::string parameters = "{\"type\":\"object\",\"properties\":{}}";  // JSON Schema text
  bool strict = false;
};

enum class ToolChoiceMode { kUnset, kAuto, kNone, kRequired, kNamed };
struct ToolChoice {
  ToolChoiceMode mode = ToolChoiceMode::kUnset;
  std::string name;  // kNamed
};

struct ResponseFormat {
  enum class Type { kText, kJsonObject, kJsonSchema };
  Type type = Type::kText;
  std::string name;    // kJsonSchema
  std::string schema;  // kJsonSchema: JSON Schema text
  bool strict = false;
};

// Reasoning/thinking. Absent means the client did not ask (provider default).
struct Reasoning {
  // true: thinking requested; false: explicitly disabled; nullopt: not said.
  std::optional<bool> enabled;
  std::optional<int64_t> budget_tokens;  // Anthropic budget_tokens, Gemini thinkingBudget
  std::string effort;                    // "minimal" | "low" | "medium" | "high" ("" = not said)
  bool include_thoughts = true;          // return reasoning text/summaries when the upstream can
};

struct Request {
  std::string model;  // as the client named it (alias, provider/model, ...)
  bool stream = false;
  std::vector<Part> system;  // text parts of the system prompt, in order (hoisted from anywhere)
  std::vector<Message> messages;  // user / assistant / tool turns (no system role here)
  std::vector<Tool> tools;
  ToolChoice tool_choice;
  std::optional<bool> parallel_tool_calls;
  // Sampling. Unset = the upstream's default.
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  std::optional<double> frequency_penalty;
  std::optional<double> presence_penalty;
  std::optional<int64_t> seed;
  // llama.cpp-style samplers (Ollama options, OpenAI-compatible extensions);
  // honoured by local models, left out for remote providers.
  std::optional<double> min_p;
  std::optional<double> repeat_penalty;
  std::optional<int64_t> n;  // choices; only 1 can be translated
  std::vector<std::string> stop;
  ResponseFormat response_format;
  Reasoning reasoning;
  std::string user;  // end-user id (OpenAI user, Anthropic metadata.user_id)
  // OpenAI stream_options.include_usage as the client sent it: whether the
  // client wants the usage chunk. Upstreams are always asked for usage.
  bool include_usage = false;
  // A chat session this request continues (the Rust seed's session-id): a
  // local engine keeps its cache for it. "" = none.
  std::string session;
  // The system message the session should keep from now on, when this
  // request sets one ("" = unchanged).
  std::string session_system;
};

enum class FinishReason {
  kNone,           // not known (stream cut short)
  kStop,           // natural end
  kStopSequence,   // a stop sequence matched (stop_sequence says which, when known)
  kLength,         // max_tokens reached
  kContextFull,    // the context window is full
  kToolCalls,      // the turn ends with tool calls
  kContentFilter,  // refused / blocked by a safety filter
  kPause,          // Anthropic pause_turn: send the turn back to continue
  kError,          // the upstream reported a failure for this turn
};

// Token counts. input_tokens counts every prompt token, cached ones included;
// cached_input_tokens and cache_write_tokens are parts of it. output_tokens
// counts every generated token, reasoning included; reasoning_tokens is part
// of it.
struct Usage {
  int64_t input_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t output_tokens = 0;
  int64_t reasoning_tokens = 0;
  int64_t total() const { return input_tokens + output_tokens; }
};

struct Response {
  std::string id;     // upstream's id, or generated
  std::string model;  // the model that answered (upstream name); front doors echo the client's name
  std::vector<Part> content;  // assistant parts in order: kThinking, kText, kToolCall...
  FinishReason finish = FinishReason::kStop;
  std::string stop_sequence;  // the matched stop sequence, when known
  std::optional<Usage> usage;
};

// One event of a translated stream. A stream decoder emits, and a stream
// encoder accepts, events in this order:
//   kStart once first;
//   then any of kTextDelta, kReasoningDelta, kReasoningSignature,
//   kRedactedReasoning, kToolCallStart / kToolCallDelta / kToolCallEnd, kUsage;
//   then exactly one terminal event: kFinish or kError.
// Tool calls: `index` numbers the calls of this response densely 0, 1, 2...
// in order of their kToolCallStart; kToolCallStart (with id and name) comes
// before any kToolCallDelta of that index, and kToolCallEnd comes for every
// started call before kFinish. Deltas of different calls may interleave.
// kUsage carries cumulative totals: a later one replaces an earlier one;
// the last before kFinish is final.
enum class EventKind {
  kStart,               // id, model; usage when the upstream told input tokens up front
  kTextDelta,           // text
  kReasoningDelta,      // text
  kReasoningSignature,  // text = signature of the current reasoning block
  kRedactedReasoning,   // text = opaque data of a redacted thinking block
  kToolCallStart,       // index, id, name
  kToolCallDelta,       // index, text = a fragment of the arguments JSON
  kToolCallEnd,         // index
  kUsage,               // usage
  kFinish,              // finish, stop_sequence
  kError,               // error
};

struct StreamEvent {
  EventKind kind = EventKind::kTextDelta;
  std::string text;
  int index = 0;
  std::string id;
  std::string name;
  std::string model;
  std::optional<Usage> usage;
  FinishReason finish = FinishReason::kNone;
  std::string stop_sequence;
  std::optional<GatewayError> error;
};

// Embeddings.
struct EmbedRequest {
  std::string model;
  std::vector<std::string> inputs;
  std::optional<int64_t> dimensions;
  std::string task_type;  // Gemini taskType, passed where understood
};

struct EmbedResponse {
  std::string model;
  std::vector<std::vector<double>> vectors;  // one per input, in order
  std::optional<Usage> usage;                // input_tokens only
};

// A rough token count for text: used where no tokenizer or upstream count
// exists (Anthropic message_start before the upstream reports usage, and
// count_tokens on providers without the endpoint). Documented as an estimate.
int64_t EstimateTokens(const Request& request);

// Fills the name of every kToolResult part that lacks one from the kToolCall
// with the same id earlier in the conversation (OpenAI and Anthropic results
// carry only the id; Gemini and Ollama need the name). Names that cannot be
// found stay "".
void FillToolResultNames(Request* request);

// The 400 for a parameter an upstream protocol cannot honour (unless the
// config sets drop_params): names the parameter and the provider type.
GatewayError Unsupported(std::string_view param, std::string_view provider_type);

// Stable lower-case name ("stop", "tool_calls", ...) for logs.
const char* FinishReasonName(FinishReason reason);

}  // namespace sy::chat
