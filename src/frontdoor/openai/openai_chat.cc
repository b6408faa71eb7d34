// OpenAiFrontDoor: Peek, the typed parse of chat / completions / embeddings
// requests, errors and model listings. Response and stream encoding live in
// openai_chat_encode.cc.
#include "frontdoor/openai/openai_chat.h"

#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <utility>

#include "core/ids.h"
#include "frontdoor/openai/openai_chat_wire.h"
#include "frontdoor/openai/openai_frontdoor.h"

namespace sy::openai {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using Error = std::optional<GatewayError>;

GatewayError Bad(std::string message, std::string param) {
  GatewayError e = MakeError(ErrorCode::kBadRequest, std::move(message));
  e.param = std::move(param);
  return e;
}

GatewayError TypeError(const std::string& param, std::string_view expected) {
  return Bad("Invalid type for '" + param + "': expected " + std::string(expected) + ".", param);
}

GatewayError Untranslatable(const std::string& param, std::string_view why) {
  return Bad("Parameter '" + param + "' " + std::string(why) +
                 " This model is served by a non-OpenAI provider, so the request is translated.",
             param);
}

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(64 * 1024, kMaxJsonDepth);  // on failure parse() allocates as needed
    (void)err;
    return p;
  }();
  return parser;
}

// The member `key` of `obj`, or nullopt when absent or null.
std::optional<element> Member(object obj, std::string_view key) {
  element v;
  if (obj[key].get(v) || v.is_null()) return std::nullopt;
  return v;
}

Error GetString(object obj, std::string_view key, const std::string& param, std::string* out) {
  auto v = Member(obj, key);
  if (!v) return std::nullopt;
  std::string_view s;
  if (v->get_string().get(s)) return TypeError(param, "a string");
  out->assign(s);
  return std::nullopt;
}

Error GetBool(object obj, std::string_view key, std::optional<bool>* out) {
  auto v = Member(obj, key);
  if (!v) return std::nullopt;
  bool b = false;
  if (v->get_bool().get(b)) return TypeError(std::string(key), "a boolean");
  *out = b;
  return std::nullopt;
}

Error GetDouble(object obj, std::string_view key, std::optional<double>* out) {
  auto v = Member(obj, key);
  if (!v) return std::nullopt;
  double d = 0;
  if (v->get_double().get(d) || !std::isfinite(d)) return TypeError(std::string(key), "a number");
  *out = d;
  return std::nullopt;
}

// Integers; a double with an integral value (1000.0) is accepted too.
Error GetInt(object obj, std::string_view key, std::optional<int64_t>* out) {
  auto v = Member(obj, key);
  if (!v) return std::nullopt;
  int64_t i = 0;
  if (!v->get_int64().get(i)) {
    *out = i;
    return std::nullopt;
  }
  double d = 0;
  if (!v->get_double().get(d) && std::isfinite(d) && std::fabs(d) < 9.0e18 && std::floor(d) == d) {
    *out = static_cast<int64_t>(d);
    return std::nullopt;
  }
  return TypeError(std::string(key), "an integer");
}

std::string Index(std::string_view base, size_t i) { return std::string(base) + "[" + std::to_string(i) + "]"; }

// "data:image/png;base64,AAAA" → media type + data; http(s) → url.
Error ParseImageUrl(std::string_view url, const std::string& param, chat::Part* part) {
  part->kind = chat::PartKind::kImage;
  if (url.substr(0, 5) == "data:") {
    size_t comma = url.find(',');
    std::string_view meta = url.substr(5, comma == std::string_view::npos ? 0 : comma - 5);
    size_t semi = meta.find(';');
    std::string_view media_type = meta.substr(0, semi);
    bool base64 = semi != std::string_view::npos && meta.substr(semi).find(";base64") != std::string_view::npos;
    if (comma == std::string_view::npos || media_type.empty() || !base64) {
      return Bad("Invalid image data URL in '" + param + "': expected data:<media type>;base64,<data>.", param);
    }
    part->media_type.assign(media_type);
    part->data.assign(url.substr(comma + 1));
    return std::nullopt;
  }
  if (url.substr(0, 7) == "http://" || url.substr(0, 8) == "https://") {
    part->url.assign(url);
    return std::nullopt;
  }
  return Bad("Invalid image URL in '" + param + "': expected an http(s) URL or a base64 data URL.", param);
}

enum class ContentKind { kSystem, kUser, kAssistant, kToolResult };

// Message content: a string, an array of parts, or null. Which part types are
// allowed depends on the role.
Error ParseContent(element content, ContentKind kind, const std::string& param, std::vector<chat::Part>* parts) {
  if (content.is_null()) return std::nullopt;
  std::string_view s;
  if (!content.get_string().get(s)) {
    chat::Part p;
    p.text.assign(s);
    parts->push_back(std::move(p));
    return std::nullopt;
  }
  array items;
  if (content.get_array().get(items)) return TypeError(param, "a string or an array of content parts");
  size_t i = 0;
  for (element item : items) {
    const std::string ip = Index(param, i++);
    object part;
    if (item.get_object().get(part)) return TypeError(ip, "an object");
    std::string type;
    if (auto e = GetString(part, "type", ip + ".type", &type)) return e;
    if (type == "text" || type == "input_text" || (type == "refusal" && kind == ContentKind::kAssistant)) {
      std::string_view key = type == "refusal" ? "refusal" : "text";
      std::string_view text;
      if (part[key].get_string().get(text)) return TypeError(ip + "." + std::string(key), "a string");
      chat::Part p;
      p.text.assign(text);
      parts->push_back(std::move(p));
    } else if (type == "image_url" && (kind == ContentKind::kUser || kind == ContentKind::kToolResult)) {
      element image;
      if (part["image_url"].get(image)) return Bad("Missing '" + ip + ".image_url'.", ip + ".image_url");
      std::string_view url;
      object image_obj;
      if (!image.get_object().get(image_obj)) {
        if (image_obj["url"].get_string().get(url)) return TypeError(ip + ".image_url.url", "a string");
      } else if (image.get_string().get(url)) {
        return TypeError(ip + ".image_url", "an object");
      }
      chat::Part p;
      if (auto e = ParseImageUrl(url, ip + ".image_url.url", &p)) return e;
      parts->push_back(std::move(p));
    } else if (type.empty()) {
      return Bad("Missing '" + ip + ".type'.", ip + ".type");
    } else {
      return Bad("Content part type '" + type + "' is not supported in '" + param +
                     "' when the request is translated for a non-OpenAI provider.",
                 ip + ".type");
    }
  }
  return std::nullopt;
}

struct MessageContext {
  chat::Request* out;
  // Legacy function calling has no ids: each assistant function_call gets
  // one, and the next "function" message with that name answers it.
  std::vector<std::pair<std::string, std::string>> open_legacy_calls;  // name, id
  int legacy_count = 0;
};

Error ParseToolCalls(array calls, const std::string& param, std::vector<chat::Part>* parts) {
  size_t i = 0;
  for (element item : calls) {
    const std::string ip = Index(param, i++);
    object call;
    if (item.get_object().get(call)) return TypeError(ip, "an object");
    std::string type;
    if (auto e = GetString(call, "type", ip + ".type", &type)) return e;
    if (!type.empty() && type != "function") {
      return Bad("Tool call type '" + type + "' cannot be translated; only 'function' calls can.", ip + ".type");
    }
    chat::Part p;
    p.kind = chat::PartKind::kToolCall;
    if (auto e = GetString(call, "id", ip + ".id", &p.id)) return e;
    if (p.id.empty()) p.id = chat::NewId("call_");
    object fn;
    if (call["function"].get_object().get(fn)) return TypeError(ip + ".function", "an object");
    if (auto e = GetString(fn, "name", ip + ".function.name", &p.name)) return e;
    p.arguments = "{}";
    if (auto args = Member(fn, "arguments")) {
      if (!ReadArguments(*args, &p.arguments)) return TypeError(ip + ".function.arguments", "a string");
    }
    parts->push_back(std::move(p));
  }
  return std::nullopt;
}


Error ParseMessage(object msg, size_t index, MessageContext* ctx) {
  const std::string param = Index("messages", index);
  std::string role;
  if (auto e = GetString(msg, "role", param + ".role", &role)) return e;
  element content;
  bool has_content = !msg["content"].get(content);
  const std::string content_param = param + ".content";

  if (role == "system" || role == "developer") {
    std::vector<chat::Part> parts;
    if (has_content) {
      if (auto e = ParseContent(content, ContentKind::kSystem, content_param, &parts)) return e;
    }
    for (auto& p : parts) {
      if (!p.text.empty()) ctx->out->system.push_back(std::move(p));
    }
    return std::nullopt;
  }

  chat::Message m;
  if (role == "user") {
    m.role = chat::Role::kUser;
    if (!has_content) return Bad("Missing '" + content_param + "'.", content_param);
    if (auto e = ParseContent(content, ContentKind::kUser, content_param, &m.parts)) return e;
  } else if (role == "assistant") {
    m.role = chat::Role::kAssistant;
    // Reasoning replayed by the client (DeepSeek reasoning_content, Ollama /
    // OpenRouter reasoning) comes first, as the model produced it.
    std::string reasoning;
    if (auto e = GetString(msg, "reasoning_content", param + ".reasoning_content", &reasoning)) return e;
    if (reasoning.empty()) {
      element r;
      std::string_view rs;
      if (!msg["reasoning"].get(r) && !r.get_string().get(rs)) reasoning.assign(rs);
    }
    if (!reasoning.empty()) {
      chat::Part thinking;
      thinking.kind = chat::PartKind::kThinking;
      thinking.text = std::move(reasoning);
      m.parts.push_back(std::move(thinking));
    }
    std::vector<chat::Part> text;
    if (has_content) {
      if (auto e = ParseContent(content, ContentKind::kAssistant, content_param, &text)) return e;
    }
    // An empty text next to tool calls (content "" or null) is no text at all.
    for (auto& p : text) {
      if (!p.text.empty()) m.parts.push_back(std::move(p));
    }
    if (auto calls = Member(msg, "tool_calls")) {
      array list;
      if (calls->get_array().get(list)) return TypeError(param + ".tool_calls", "an array");
      if (auto e = ParseToolCalls(list, param + ".tool_calls", &m.parts)) return e;
    }
    if (auto fc = Member(msg, "function_call")) {  // legacy function calling
      object call;
      if (fc->get_object().get(call)) return TypeError(param + ".function_call", "an object");
      chat::Part p;
      p.kind = chat::PartKind::kToolCall;
      if (auto e = GetString(call, "name", param + ".function_call.name", &p.name)) return e;
      p.arguments = "{}";
      if (auto args = Member(call, "arguments")) {
        if (!ReadArguments(*args, &p.arguments)) return TypeError(param + ".function_call.arguments", "a string");
      }
      p.id = "call_fn" + std::to_string(ctx->legacy_count++);
      ctx->open_legacy_calls.emplace_back(p.name, p.id);
      m.parts.push_back(std::move(p));
    }
  } else if (role == "tool" || role == "function") {
    m.role = chat::Role::kTool;
    chat::Part result;
    result.kind = chat::PartKind::kToolResult;
    if (auto e = GetString(msg, "name", param + ".name", &result.name)) return e;
    if (role == "tool") {
      if (auto e = GetString(msg, "tool_call_id", param + ".tool_call_id", &result.id)) return e;
      if (result.id.empty()) {
        return Bad("Missing '" + param + ".tool_call_id' (the id of the tool call this message answers).",
                   param + ".tool_call_id");
      }
    } else {
      auto& open = ctx->open_legacy_calls;
      for (size_t i = open.size(); i-- > 0;) {
        if (open[i].first == result.name) {
          result.id = open[i].second;
          open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
      }
      if (result.id.empty()) result.id = "call_fn" + std::to_string(ctx->legacy_count++);
    }
    if (has_content) {
      if (auto e = ParseContent(content, ContentKind::kToolResult, content_param, &result.content)) return e;
    }
    m.parts.push_back(std::move(result));
  } else if (role.empty()) {
    return Bad("Missing '" + param + ".role'.", param + ".role");
  } else {
    return Bad("Invalid value for '" + param + ".role': '" + role +
                   "'. Supported roles are system, developer, user, assistant, tool and function.",
               param + ".role");
  }
  ctx->out->messages.push_back(std::move(m));
  return std::nullopt;
}

Error ParseFunction(object fn, const std::string& param, chat::Tool* tool) {
  if (auto e = GetString(fn, "name", param + ".name", &tool->name)) return e;
  if (tool->name.empty()) return Bad("Missing '" + param + ".name'.", param + ".name");
  if (auto e = GetString(fn, "description", param + ".description", &tool->description)) return e;
  if (auto params = Member(fn, "parameters")) {
    if (!params->is_object()) return TypeError(param + ".parameters", "a JSON Schema object");
    tool->parameters = simdjson::minify(*params);
  }
  std::optional<bool> strict;
  if (auto e = GetBool(fn, "strict", &strict)) {
    e->param = param + ".strict";
    return e;
  }
  tool->strict = strict.value_or(false);
  return std::nullopt;
}

Error ParseTools(object root, chat::Request* out) {
  if (auto tools = Member(root, "tools")) {
    array list;
    if (tools->get_array().get(list)) return TypeError("tools", "an array");
    size_t i = 0;
    for (element item : list) {
      const std::string ip = Index("tools", i++);
      object t;
      if (item.get_object().get(t)) return TypeError(ip, "an object");
      std::string type;
      if (auto e = GetString(t, "type", ip + ".type", &type)) return e;
      if (type != "function" && !(type.empty() && Member(t, "function"))) {
        return Bad("Tool type '" + type +
                       "' cannot be translated for a non-OpenAI provider; only 'function' tools can.",
                   ip + ".type");
      }
      object fn;
      if (t["function"].get_object().get(fn)) return TypeError(ip + ".function", "an object");
      chat::Tool tool;
      if (auto e = ParseFunction(fn, ip + ".function", &tool)) return e;
      out->tools.push_back(std::move(tool));
    }
  }
  if (auto functions = Member(root, "functions")) {  // legacy function calling
    array list;
    if (functions->get_array().get(list)) return TypeError("functions", "an array");
    size_t i = 0;
    for (element item : list) {
      const std::string ip = Index("functions", i++);
      object fn;
      if (item.get_object().get(fn)) return TypeError(ip, "an object");
      chat::Tool tool;
      if (auto e = ParseFunction(fn, ip, &tool)) return e;
      out->tools.push_back(std::move(tool));
    }
  }

  for (std::string_view key : {"function_call", "tool_choice"}) {  // tool_choice wins when both
    auto choice = Member(root, key);
    if (!choice) continue;
    const std::string param(key);
    std::string_view mode;
    object named;
    if (!choice->get_string().get(mode)) {
      if (mode == "auto") {
        out->tool_choice.mode = chat::ToolChoiceMode::kAuto;
      } else if (mode == "none") {
        out->tool_choice.mode = chat::ToolChoiceMode::kNone;
      } else if (mode == "required" && key == "tool_choice") {
        out->tool_choice.mode = chat::ToolChoiceMode::kRequired;
      } else {
        return Bad("Invalid value for '" + param + "': '" + std::string(mode) + "'.", param);
      }
    } else if (!choice->get_object().get(named)) {
      object fn = named;
      if (key == "tool_choice") {
        std::string type;
        if (auto e = GetString(named, "type", param + ".type", &type)) return e;
        if (type != "function") {
          return Bad("tool_choice type '" + type + "' cannot be translated; use 'function'.", param + ".type");
        }
        if (named["function"].get_object().get(fn)) return TypeError(param + ".function", "an object");
      }
      std::string name;
      const std::string name_param = param + (key == "tool_choice" ? ".function.name" : ".name");
      if (auto e = GetString(fn, "name", name_param, &name)) return e;
      if (name.empty()) return Bad("Missing '" + name_param + "'.", name_param);
      out->tool_choice.mode = chat::ToolChoiceMode::kNamed;
      out->tool_choice.name = std::move(name);
    } else {
      return TypeError(param, "a string or an object");
    }
  }
  if (auto e = GetBool(root, "parallel_tool_calls", &out->parallel_tool_calls)) return e;
  return std::nullopt;
}

Error ParseStop(object root, chat::Request* out) {
  auto stop = Member(root, "stop");
  if (!stop) return std::nullopt;
  std::string_view s;
  if (!stop->get_string().get(s)) {
    if (!s.empty()) out->stop.emplace_back(s);
    return std::nullopt;
  }
  array list;
  if (stop->get_array().get(list)) return TypeError("stop", "a string or an array of strings");
  for (element item : list) {
    if (item.get_string().get(s)) return TypeError("stop", "a string or an array of strings");
    if (!s.empty()) out->stop.emplace_back(s);
  }
  return std::nullopt;
}

Error ParseResponseFormat(object root, chat::ResponseFormat* out) {
  auto format = Member(root, "response_format");
  if (!format) return std::nullopt;
  object f;
  if (format->get_object().get(f)) return TypeError("response_format", "an object");
  std::string type;
  if (auto e = GetString(f, "type", "response_format.type", &type)) return e;
  if (type == "text") {
    out->type = chat::ResponseFormat::Type::kText;
  } else if (type == "json_object") {
    out->type = chat::ResponseFormat::Type::kJsonObject;
  } else if (type == "json_schema") {
    out->type = chat::ResponseFormat::Type::kJsonSchema;
    object js;
    if (f["json_schema"].get_object().get(js)) return TypeError("response_format.json_schema", "an object");
    if (auto e = GetString(js, "name", "response_format.json_schema.name", &out->name)) return e;
    out->schema = "{}";
    if (auto schema = Member(js, "schema")) {
      if (!schema->is_object()) return TypeError("response_format.json_schema.schema", "a JSON Schema object");
      out->schema = simdjson::minify(*schema);
    }
    std::optional<bool> strict;
    if (auto e = GetBool(js, "strict", &strict)) {
      e->param = "response_format.json_schema.strict";
      return e;
    }
    out->strict = strict.value_or(false);
  } else {
    return Bad("Invalid value for 'response_format.type': '" + type + "'.", "response_format.type");
  }
  return std::nullopt;
}

// Parameters chat and legacy completions share.
Error ParseSampling(object root, chat::Request* out) {
  std::optional<int64_t> max_completion_tokens;
  if (auto e = GetInt(root, "max_tokens", &out->max_tokens)) return e;
  if (auto e = GetInt(root, "max_completion_tokens", &max_completion_tokens)) return e;
  if (max_completion_tokens) out->max_tokens = max_completion_tokens;
  if (out->max_tokens && *out->max_tokens < 1) {
    return Bad("'max_tokens' must be at least 1.", max_completion_tokens ? "max_completion_tokens" : "max_tokens");
  }
  if (auto e = GetDouble(root, "temperature", &out->temperature)) return e;
  if (auto e = GetDouble(root, "top_p", &out->top_p)) return e;
  if (auto e = GetInt(root, "top_k", &out->top_k)) return e;
  if (auto e = GetDouble(root, "frequency_penalty", &out->frequency_penalty)) return e;
  if (auto e = GetDouble(root, "presence_penalty", &out->presence_penalty)) return e;
  // llama.cpp / vLLM extensions, honoured by local models.
  if (auto e = GetDouble(root, "min_p", &out->min_p)) return e;
  if (auto e = GetDouble(root, "repeat_penalty", &out->repeat_penalty)) return e;
  if (auto e = GetInt(root, "seed", &out->seed)) return e;
  if (auto e = GetInt(root, "n", &out->n)) return e;
  if (out->n && *out->n < 1) return Bad("'n' must be at least 1.", "n");
  if (auto e = ParseStop(root, out)) return e;
  if (auto e = GetString(root, "user", "user", &out->user)) return e;
  if (auto options = Member(root, "stream_options")) {
    object o;
    if (options->get_object().get(o)) return TypeError("stream_options", "an object");
    std::optional<bool> include;
    if (auto e = GetBool(o, "include_usage", &include)) {
      e->param = "stream_options.include_usage";
      return e;
    }
    out->include_usage = include.value_or(false);
  }
  return std::nullopt;
}

Error ParseReasoningEffort(object root, chat::Reasoning* out) {
  std::string effort;
  if (auto e = GetString(root, "reasoning_effort", "reasoning_effort", &effort)) return e;
  if (effort.empty()) return std::nullopt;
  if (effort == "none") {
    out->enabled = false;
  } else if (effort == "minimal" || effort == "low" || effort == "medium" || effort == "high") {
    out->enabled = true;
    out->effort = effort;
  } else if (effort == "xhigh") {
    out->enabled = true;
    out->effort = "high";
  } else {
    return Bad("Invalid value for 'reasoning_effort': '" + effort +
                   "'. Supported values are none, minimal, low, medium and high.",
               "reasoning_effort");
  }
  return std::nullopt;
}

Error ParseChatBody(object root, chat::Request* out) {
  array messages;
  if (root["messages"].get_array().get(messages)) return TypeError("messages", "an array");
  MessageContext ctx{out, {}, 0};
  size_t i = 0;
  for (element item : messages) {
    object msg;
    if (item.get_object().get(msg)) return TypeError(Index("messages", i), "an object");
    if (auto e = ParseMessage(msg, i, &ctx)) return e;
    ++i;
  }
  chat::FillToolResultNames(out);
  if (auto e = ParseTools(root, out)) return e;
  if (auto e = ParseSampling(root, out)) return e;
  if (auto e = ParseResponseFormat(root, &out->response_format)) return e;
  if (auto e = ParseReasoningEffort(root, &out->reasoning)) return e;
  std::optional<bool> logprobs;
  if (auto e = GetBool(root, "logprobs", &logprobs)) return e;
  if (logprobs.value_or(false)) {
    return Untranslatable("logprobs", "cannot be honoured: the provider returns no log probabilities.");
  }
  return std::nullopt;
}

// Legacy /v1/completions: the prompt becomes one user message.
Error ParseCompletionsBody(object root, chat::Request* out) {
  element prompt;
  if (root["prompt"].get(prompt)) return Bad("Missing required parameter: 'prompt'.", "prompt");
  std::string_view text;
  array list;
  if (prompt.get_string().get(text)) {
    if (prompt.get_array().get(list) || list.size() != 1 || list.at(0).get_string().get(text)) {
      return Untranslatable("prompt", "must be a string (or an array of exactly one string) to be translated.");
    }
  }
  chat::Message m;
  m.role = chat::Role::kUser;
  chat::Part p;
  p.text.assign(text);
  m.parts.push_back(std::move(p));
  out->messages.push_back(std::move(m));

  std::string suffix;
  if (auto e = GetString(root, "suffix", "suffix", &suffix)) return e;
  if (!suffix.empty()) return Untranslatable("suffix", "(insertion) cannot be translated.");
  std::optional<bool> echo;
  if (auto e = GetBool(root, "echo", &echo)) return e;
  if (echo.value_or(false)) return Untranslatable("echo", "cannot be translated.");
  std::optional<int64_t> best_of;
  if (auto e = GetInt(root, "best_of", &best_of)) return e;
  if (best_of.value_or(1) > 1) return Untranslatable("best_of", "greater than 1 cannot be translated.");
  if (Member(root, "logprobs")) {
    return Untranslatable("logprobs", "cannot be honoured: the provider returns no log probabilities.");
  }
  return ParseSampling(root, out);
}

}  // namespace

OpenAiFrontDoor::OpenAiFrontDoor(std::function<int64_t()> now) : now_(std::move(now)) {}

int64_t OpenAiFrontDoor::Now() const {
  if (now_) return now_();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::variant<InternalRequest, GatewayError> OpenAiFrontDoor::Peek(FrontDoorInput input) const {
  if (input.operation == Operation::kCountTokens) {
    GatewayError e = MakeError(ErrorCode::kBadRequest,
                               "The OpenAI API has no token-counting endpoint; use the Anthropic "
                               "/v1/messages/count_tokens endpoint instead.");
    return e;
  }
  auto parsed = ParseRequest(input.operation, std::move(input.body));
  if (auto* req = std::get_if<InternalRequest>(&parsed)) {
    switch (req->operation) {
      case Operation::kCompletions: req->shape = kShapeCompletions; break;
      case Operation::kEmbeddings: req->shape = kShapeEmbeddings; break;
      default: req->shape = kShapeChat; break;
    }
  }
  return parsed;
}

std::optional<GatewayError> OpenAiFrontDoor::ParseChat(const InternalRequest& request, chat::Request* out) const {
  if (request.operation != Operation::kChatCompletions && request.operation != Operation::kCompletions) {
    return MakeError(ErrorCode::kBadRequest, "This endpoint does not take a chat request.");
  }
  element doc;
  object root;
  if (Parser().parse(request.raw_body.data(), request.raw_body.size()).get(doc) || doc.get_object().get(root)) {
    return MakeError(ErrorCode::kBadRequest, "Request body must be a JSON object.");
  }
  out->model = request.model;
  out->stream = request.stream;
  if (request.operation == Operation::kCompletions) return ParseCompletionsBody(root, out);
  return ParseChatBody(root, out);
}

std::optional<GatewayError> OpenAiFrontDoor::ParseEmbed(const InternalRequest& request,
                                                        chat::EmbedRequest* out) const {
  if (request.operation != Operation::kEmbeddings) {
    return MakeError(ErrorCode::kBadRequest, "This endpoint does not take an embeddings request.");
  }
  element doc;
  object root;
  if (Parser().parse(request.raw_body.data(), request.raw_body.size()).get(doc) || doc.get_object().get(root)) {
    return MakeError(ErrorCode::kBadRequest, "Request body must be a JSON object.");
  }
  out->model = request.model;
  element input;
  if (root["input"].get(input)) return Bad("Missing required parameter: 'input'.", "input");
  std::string_view s;
  array list;
  if (!input.get_string().get(s)) {
    out->inputs.emplace_back(s);
  } else if (!input.get_array().get(list)) {
    if (list.size() == 0) return Bad("'input' must not be empty.", "input");
    for (element item : list) {
      if (item.get_string().get(s)) {
        return Untranslatable("input", "must be a string or an array of strings to be translated (token arrays "
                                       "are specific to OpenAI tokenizers).");
      }
      out->inputs.emplace_back(s);
    }
  } else {
    return TypeError("input", "a string or an array of strings");
  }
  if (auto e = GetInt(root, "dimensions", &out->dimensions)) return e;
  if (out->dimensions && *out->dimensions < 1) return Bad("'dimensions' must be at least 1.", "dimensions");
  std::string format;
  if (auto e = GetString(root, "encoding_format", "encoding_format", &format)) return e;
  // base64 (the openai SDK's default): the answer's vectors are encoded by EncodeEmbed.
  if (!format.empty() && format != "float" && format != "base64") {
    return Bad("Invalid value for 'encoding_format': '" + format + "'.", "encoding_format");
  }
  return std::nullopt;
}

ErrorReply OpenAiFrontDoor::EncodeError(const GatewayError& error) const {
  ErrorReply reply;
  reply.status = HttpStatus(error.code);
  reply.body = ErrorBody(error);
  if (error.retry_after) reply.headers.emplace_back("Retry-After", *error.retry_after);
  if (reply.status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer");
  return reply;
}

std::string OpenAiFrontDoor::ModelList(const std::vector<sy::ModelEntry>& models, long long created) const {
  return openai::ModelList(models, created);
}

std::string OpenAiFrontDoor::ModelObject(const sy::ModelEntry& model, long long created) const {
  return openai::ModelObject(model, created);
}

}  // namespace sy::openai
