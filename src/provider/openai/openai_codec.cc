// OpenAiCodec: request encoding, non-stream decoding, embeddings and error
// bodies. The stream decoder lives in openai_stream_decoder.cc.
#include "provider/openai/openai_codec.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/json_writer.h"
#include "core/ids.h"
#include "frontdoor/openai/openai_chat_wire.h"

namespace sy::openai {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr char kProviderType[] = "openai";
constexpr size_t kMaxUpstreamDepth = 256;

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(64 * 1024, kMaxUpstreamDepth);  // on failure parse() allocates as needed
    (void)err;
    return p;
  }();
  return parser;
}

GatewayError Malformed(std::string what) {
  return MakeError(ErrorCode::kProviderError, "The upstream returned a malformed response.", std::move(what));
}

// ------------------------------------------------------------------ encode

std::string ImageUrl(const chat::Part& image) {
  if (!image.data.empty()) {
    return "data:" + (image.media_type.empty() ? std::string("image/png") : image.media_type) + ";base64," +
           image.data;
  }
  return image.url;
}

// `user` as OpenAI-compatible servers accept it: short ids pass; anything
// long or unusual (Claude Code's JSON-like metadata.user_id) is hashed.
std::string SafeUser(std::string_view user) {
  bool ok = user.size() <= 64;
  for (char c : user) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                c == '.' || c == '@');
  }
  if (ok) return std::string(user);
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : user) {
    h ^= c;
    h *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "user_";
  for (int i = 0; i < 16; ++i, h >>= 4) out.push_back(kHex[h & 0xF]);
  return out;
}

// Writes user content: a string for one text part, else an array of parts.
void WriteUserContent(json::Writer* w, const std::vector<const chat::Part*>& parts) {
  if (parts.empty()) {
    w->String("");
    return;
  }
  if (parts.size() == 1 && parts[0]->kind == chat::PartKind::kText) {
    w->String(parts[0]->text);
    return;
  }
  w->BeginArray();
  for (const chat::Part* p : parts) {
    w->BeginObject();
    if (p->kind == chat::PartKind::kImage) {
      w->Key("type").String("image_url");
      w->Key("image_url").BeginObject().Key("url").String(ImageUrl(*p)).EndObject();
    } else {
      w->Key("type").String("text");
      w->Key("text").String(p->text);
    }
    w->EndObject();
  }
  w->EndArray();
}

class MessageWriter {
 public:
  explicit MessageWriter(json::Writer* w) : w_(w) {}

  void System(const std::vector<chat::Part>& parts) {
    std::string text;
    for (const auto& p : parts) {
      if (p.kind != chat::PartKind::kText || p.text.empty()) continue;
      if (!text.empty()) text += "\n\n";
      text += p.text;
    }
    if (text.empty()) return;
    w_->BeginObject().Key("role").String("system").Key("content").String(text).EndObject();
  }

  void Message(const chat::Message& m) {
    switch (m.role) {
      case chat::Role::kSystem:
        Flush();
        System(m.parts);
        break;
      case chat::Role::kAssistant:
        Flush();
        Assistant(m);
        break;
      case chat::Role::kUser:
      case chat::Role::kTool:
        // Results first (they must follow the assistant's calls), then the
        // rest of the turn as user content, after images taken from results.
        for (const auto& p : m.parts) {
          if (p.kind == chat::PartKind::kToolResult) ToolResult(p);
        }
        for (const auto& p : m.parts) {
          if (p.kind == chat::PartKind::kText || p.kind == chat::PartKind::kImage) pending_.push_back(&p);
        }
        if (m.role == chat::Role::kUser && !HasResults(m)) {
          Flush(/*force=*/true);
        }
        break;
    }
  }

  // Writes the pending user content (images from tool results, user text) as
  // one user message. With `force`, writes one even when empty.
  void Flush(bool force = false) {
    if (pending_.empty() && !force) return;
    w_->BeginObject().Key("role").String("user").Key("content");
    WriteUserContent(w_, pending_);
    w_->EndObject();
    pending_.clear();
  }

 private:
  static bool HasResults(const chat::Message& m) {
    return std::any_of(m.parts.begin(), m.parts.end(),
                       [](const chat::Part& p) { return p.kind == chat::PartKind::kToolResult; });
  }

  void ToolResult(const chat::Part& result) {
    std::string text;
    for (const auto& c : result.content) {
      if (c.kind == chat::PartKind::kText) {
        if (!text.empty()) text += "\n";
        text += c.text;
      } else if (c.kind == chat::PartKind::kImage) {
        pending_.push_back(&c);  // OpenAI tool messages cannot carry images
      }
    }
    w_->BeginObject();
    w_->Key("role").String("tool");
    w_->Key("tool_call_id").String(chat::SafeToolId(result.id, "call_"));
    w_->Key("content").String(text);
    w_->EndObject();
  }

  void Assistant(const chat::Message& m) {
    std::string text;
    bool has_calls = false;
    for (const auto& p : m.parts) {
      if (p.kind == chat::PartKind::kText) text += p.text;
      if (p.kind == chat::PartKind::kToolCall) has_calls = true;
    }
    w_->BeginObject();
    w_->Key("role").String("assistant");
    // "" rather than null next to tool calls: some compatible servers
    // (Gemini's OpenAI endpoint) reject a null content.
    w_->Key("content").String(text);
    if (has_calls) {
      w_->Key("tool_calls").BeginArray();
      for (const auto& p : m.parts) {
        if (p.kind != chat::PartKind::kToolCall) continue;
        w_->BeginObject();
        w_->Key("id").String(chat::SafeToolId(p.id, "call_"));
        w_->Key("type").String("function");
        w_->Key("function").BeginObject();
        w_->Key("name").String(p.name);
        w_->Key("arguments").String(p.arguments.empty() ? std::string_view("{}") : std::string_view(p.arguments));
        w_->EndObject();
        w_->EndObject();
      }
      w_->EndArray();
    }
    w_->EndObject();
  }

  json::Writer* w_;
  std::vector<const chat::Part*> pending_;
};

void WriteTools(json::Writer* w, const chat::Request& request) {
  if (request.tools.empty()) return;
  w->Key("tools").BeginArray();
  for (const auto& t : request.tools) {
    w->BeginObject().Key("type").String("function").Key("function").BeginObject();
    w->Key("name").String(t.name);
    if (!t.description.empty()) w->Key("description").String(t.description);
    w->Key("parameters").Raw(t.parameters.empty() ? std::string_view("{\"type\":\"object\",\"properties\":{}}")
                                                  : std::string_view(t.parameters));
    if (t.strict) w->Key("strict").Bool(true);
    w->EndObject().EndObject();
  }
  w->EndArray();
  switch (request.tool_choice.mode) {
    case chat::ToolChoiceMode::kUnset: break;
    case chat::ToolChoiceMode::kAuto: w->Key("tool_choice").String("auto"); break;
    case chat::ToolChoiceMode::kNone: w->Key("tool_choice").String("none"); break;
    case chat::ToolChoiceMode::kRequired: w->Key("tool_choice").String("required"); break;
    case chat::ToolChoiceMode::kNamed:
      w->Key("tool_choice").BeginObject().Key("type").String("function");
      w->Key("function").BeginObject().Key("name").String(request.tool_choice.name).EndObject();
      w->EndObject();
      break;
  }
  if (request.parallel_tool_calls) w->Key("parallel_tool_calls").Bool(*request.parallel_tool_calls);
}

void WriteResponseFormat(json::Writer* w, const chat::ResponseFormat& format) {
  switch (format.type) {
    case chat::ResponseFormat::Type::kText: break;
    case chat::ResponseFormat::Type::kJsonObject:
      w->Key("response_format").BeginObject().Key("type").String("json_object").EndObject();
      break;
    case chat::ResponseFormat::Type::kJsonSchema:
      w->Key("response_format").BeginObject().Key("type").String("json_schema");
      w->Key("json_schema").BeginObject();
      w->Key("name").String(format.name.empty() ? std::string_view("response") : std::string_view(format.name));
      w->Key("schema").Raw(format.schema.empty() ? std::string_view("{}") : std::string_view(format.schema));
      if (format.strict) w->Key("strict").Bool(true);
      w->EndObject().EndObject();
      break;
  }
}

// ------------------------------------------------------------------ decode

void AddToolCall(object call, std::vector<chat::Part>* out) {
  object fn;
  if (call["function"].get_object().get(fn)) return;
  chat::Part p;
  p.kind = chat::PartKind::kToolCall;
  std::string_view s;
  if (!call["id"].get_string().get(s)) p.id.assign(s);
  if (p.id.empty()) p.id = chat::NewId("call_");
  if (!fn["name"].get_string().get(s)) p.name.assign(s);
  element args;
  p.arguments = "{}";
  if (!fn["arguments"].get(args) && !args.is_null()) {
    if (!ReadArguments(args, &p.arguments)) p.arguments = "{}";
  }
  out->push_back(std::move(p));
}

}  // namespace

std::string ReasoningEffort(const chat::Reasoning& reasoning) {
  if (reasoning.enabled == false) return "";
  if (!reasoning.effort.empty()) return reasoning.effort;
  if (reasoning.budget_tokens) {
    if (*reasoning.budget_tokens <= 1024) return "low";
    if (*reasoning.budget_tokens <= 8192) return "medium";
    return "high";
  }
  return "";
}

std::pair<std::string, std::string> OpenAiCodec::AuthHeader(const std::string& key) const {
  return {"Authorization", "Bearer " + key};
}

std::string OpenAiCodec::PassthroughPath(const InternalRequest& request, const std::string& upstream_model) const {
  switch (request.operation) {
    case Operation::kChatCompletions: return "/chat/completions";
    case Operation::kCompletions: return "/completions";
    case Operation::kEmbeddings: return "/embeddings";
    case Operation::kCountTokens: break;
  }
  return "/chat/completions";
}

std::variant<UpstreamCall, GatewayError> OpenAiCodec::EncodeChat(const chat::Request& request,
                                                                const std::string& upstream_model,
                                                                const CodecOptions& options) const {
  if (request.top_k && !options.drop_params) return chat::Unsupported("top_k", kProviderType);
  if (request.n && *request.n > 1 && !options.drop_params) return chat::Unsupported("n", kProviderType);

  UpstreamCall call;
  call.path = "/chat/completions";
  json::Writer w(&call.body);
  w.BeginObject();
  w.Key("model").String(upstream_model);
  w.Key("messages").BeginArray();
  MessageWriter messages(&w);
  messages.System(request.system);
  for (const auto& m : request.messages) messages.Message(m);
  messages.Flush();
  w.EndArray();
  if (request.stream) {
    w.Key("stream").Bool(true);
    w.Key("stream_options").BeginObject().Key("include_usage").Bool(true).EndObject();
  }
  WriteTools(&w, request);
  const std::string effort = ReasoningEffort(request.reasoning);
  if (request.max_tokens) w.Key(effort.empty() ? "max_tokens" : "max_completion_tokens").Int(*request.max_tokens);
  if (!effort.empty()) w.Key("reasoning_effort").String(effort);
  if (request.temperature) w.Key("temperature").Double(*request.temperature);
  if (request.top_p) w.Key("top_p").Double(*request.top_p);
  if (request.frequency_penalty) w.Key("frequency_penalty").Double(*request.frequency_penalty);
  if (request.presence_penalty) w.Key("presence_penalty").Double(*request.presence_penalty);
  if (request.seed) w.Key("seed").Int(*request.seed);
  if (!request.stop.empty()) {
    w.Key("stop").BeginArray();
    for (const auto& s : request.stop) w.String(s);
    w.EndArray();
  }
  if (!request.user.empty()) w.Key("user").String(SafeUser(request.user));
  WriteResponseFormat(&w, request.response_format);
  w.EndObject();
  return call;
}

std::variant<chat::Response, GatewayError> OpenAiCodec::DecodeChat(std::string_view body) const {
  element doc;
  object root;
  if (Parser().parse(body.data(), body.size()).get(doc) || doc.get_object().get(root)) {
    return Malformed("chat completion body is not a JSON object");
  }
  element error;
  if (!root["error"].get(error) && !error.is_null()) return UpstreamError(error);
  array choices;
  if (root["choices"].get_array().get(choices) || choices.size() == 0) {
    return Malformed("chat completion body has no choices");
  }
  object choice;
  object message;
  if (choices.at(0).get_object().get(choice) || choice["message"].get_object().get(message)) {
    return Malformed("chat completion choices[0] has no message");
  }

  chat::Response r;
  std::string_view s;
  if (!root["id"].get_string().get(s)) r.id.assign(s);
  if (r.id.empty()) r.id = chat::NewId("chatcmpl-");
  if (!root["model"].get_string().get(s)) r.model.assign(s);

  std::string_view reasoning;
  if (message["reasoning_content"].get_string().get(reasoning) || reasoning.empty()) {
    reasoning = StringAt(message["reasoning"]);
  }
  if (!reasoning.empty()) {
    chat::Part p;
    p.kind = chat::PartKind::kThinking;
    p.text.assign(reasoning);
    r.content.push_back(std::move(p));
  }
  std::string text;
  element content;
  if (!message["content"].get(content)) {
    array parts;
    if (!content.get_string().get(s)) {
      text.assign(s);
    } else if (!content.get_array().get(parts)) {
      for (element part : parts) {
        if (!part["text"].get_string().get(s)) text.append(s);
      }
    }
  }
  if (text.empty() && !message["refusal"].get_string().get(s)) text.assign(s);
  if (!text.empty()) {
    chat::Part p;
    p.text = std::move(text);
    r.content.push_back(std::move(p));
  }
  array calls;
  bool has_calls = false;
  if (!message["tool_calls"].get_array().get(calls)) {
    for (element c : calls) {
      object call;
      if (c.get_object().get(call)) continue;
      size_t before = r.content.size();
      AddToolCall(call, &r.content);
      has_calls = has_calls || r.content.size() > before;
    }
  }
  object legacy;
  if (!has_calls && !message["function_call"].get_object().get(legacy)) {
    // Legacy function calling: {"name", "arguments"} without an id.
    chat::Part p;
    p.kind = chat::PartKind::kToolCall;
    p.id = chat::NewId("call_");
    if (!legacy["name"].get_string().get(s)) p.name.assign(s);
    element args;
    p.arguments = "{}";
    if (!legacy["arguments"].get(args) && !args.is_null() && !ReadArguments(args, &p.arguments)) p.arguments = "{}";
    r.content.push_back(std::move(p));
    has_calls = true;
  }
  std::string_view finish;
  finish = StringAt(choice["finish_reason"]);
  r.finish = ParseFinishReason(finish, has_calls);
  object usage;
  if (!root["usage"].get_object().get(usage)) r.usage = ReadUsage(usage);
  return r;
}

std::variant<UpstreamCall, GatewayError> OpenAiCodec::EncodeEmbed(const chat::EmbedRequest& request,
                                                                 const std::string& upstream_model) const {
  UpstreamCall call;
  call.path = "/embeddings";
  json::Writer w(&call.body);
  w.BeginObject();
  w.Key("model").String(upstream_model);
  w.Key("input").BeginArray();
  for (const auto& input : request.inputs) w.String(input);
  w.EndArray();
  if (request.dimensions) w.Key("dimensions").Int(*request.dimensions);
  w.Key("encoding_format").String("float");
  w.EndObject();
  return call;
}

std::variant<chat::EmbedResponse, GatewayError> OpenAiCodec::DecodeEmbed(std::string_view body) const {
  element doc;
  object root;
  if (Parser().parse(body.data(), body.size()).get(doc) || doc.get_object().get(root)) {
    return Malformed("embeddings body is not a JSON object");
  }
  element error;
  if (!root["error"].get(error) && !error.is_null()) return UpstreamError(error);
  array data;
  if (root["data"].get_array().get(data)) return Malformed("embeddings body has no data array");
  std::vector<std::pair<int64_t, std::vector<double>>> items;
  int64_t position = 0;
  for (element item : data) {
    object obj;
    array values;
    if (item.get_object().get(obj) || obj["embedding"].get_array().get(values)) {
      return Malformed("embeddings data item has no float embedding array");
    }
    std::vector<double> vector;
    vector.reserve(values.size());
    for (element v : values) {
      double d = 0;
      if (v.get_double().get(d)) return Malformed("embedding value is not a number");
      vector.push_back(d);
    }
    int64_t index = position++;
    element idx;
    if (!obj["index"].get(idx)) {
      if (auto n = ReadCount(idx)) index = *n;
    }
    items.emplace_back(index, std::move(vector));
  }
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  chat::EmbedResponse r;
  std::string_view s;
  if (!root["model"].get_string().get(s)) r.model.assign(s);
  for (auto& item : items) r.vectors.push_back(std::move(item.second));
  object usage;
  if (!root["usage"].get_object().get(usage)) {
    chat::Usage u;
    element n;
    if (!usage["prompt_tokens"].get(n)) u.input_tokens = ReadCount(n).value_or(0);
    r.usage = u;
  }
  return r;
}

std::string OpenAiCodec::ErrorMessage(std::string_view body) const {
  element doc;
  object root;
  std::string_view s;
  if (!Parser().parse(body.data(), body.size()).get(doc) && !doc.get_object().get(root)) {
    element error;
    if (!root["error"].get(error)) {
      object e;
      if (!error.get_object().get(e) && !e["message"].get_string().get(s) && !s.empty()) {
        return std::string(Utf8Prefix(s, 2000));
      }
      if (!error.get_string().get(s) && !s.empty()) return std::string(Utf8Prefix(s, 2000));
    }
    for (std::string_view key : {"message", "detail"}) {
      if (!root[key].get_string().get(s) && !s.empty()) return std::string(Utf8Prefix(s, 2000));
    }
  }
  return std::string(Utf8Prefix(body, 200));
}

}  // namespace sy::openai
