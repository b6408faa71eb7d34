// AnthropicFrontDoor::ParseChat: an Anthropic Messages request body into the
// internal chat::Request (only runs when the request is translated).
#include <simdjson.h>

#include "frontdoor/anthropic/anthropic_frontdoor.h"

namespace sy::anthropic {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

using Result = std::optional<GatewayError>;

GatewayError BadRequest(const std::string& param, std::string message) {
  GatewayError e = MakeError(ErrorCode::kBadRequest, param.empty() ? message : param + ": " + message);
  if (!param.empty()) e.param = param;
  return e;
}

chat::Part TextPart(std::string_view text) {
  chat::Part p;
  p.text.assign(text);
  return p;
}

std::string Join(const std::string& parent, std::string_view key) { return parent + "." + std::string(key); }
std::string At(const std::string& parent, size_t i) { return parent + "[" + std::to_string(i) + "]"; }

// Present and not null.
bool Has(object obj, std::string_view key, element* out) { return !obj[key].get(*out) && !out->is_null(); }

// Optional string member: absent or null leaves *out as it is.
Result OptString(object obj, std::string_view key, const std::string& path, std::string* out) {
  element el;
  if (!Has(obj, key, &el)) return std::nullopt;
  std::string_view s;
  if (el.get_string().get(s)) return BadRequest(Join(path, key), "Input should be a valid string");
  out->assign(s);
  return std::nullopt;
}

Result ReqString(object obj, std::string_view key, const std::string& path, std::string* out) {
  element el;
  if (!Has(obj, key, &el)) return BadRequest(Join(path, key), "Field required");
  return OptString(obj, key, path, out);
}

Result AsObject(element el, const std::string& path, object* out) {
  if (el.get_object().get(*out)) return BadRequest(path, "Input should be a valid dictionary");
  return std::nullopt;
}

Result BlockType(object block, const std::string& path, std::string* type) {
  if (auto e = ReqString(block, "type", path, type)) return e;
  return std::nullopt;
}

GatewayError Untranslatable(const std::string& path, std::string_view type) {
  return BadRequest(path + ".type", "content block type '" + std::string(type) +
                                        "' cannot be translated for this model's provider");
}

Result ParseImage(object block, const std::string& path, chat::Part* part) {
  element source_el;
  if (!Has(block, "source", &source_el)) return BadRequest(Join(path, "source"), "Field required");
  object source;
  const std::string spath = Join(path, "source");
  if (auto e = AsObject(source_el, spath, &source)) return e;
  std::string type;
  if (auto e = ReqString(source, "type", spath, &type)) return e;
  part->kind = chat::PartKind::kImage;
  if (type == "base64") {
    if (auto e = ReqString(source, "media_type", spath, &part->media_type)) return e;
    return ReqString(source, "data", spath, &part->data);
  }
  if (type == "url") return ReqString(source, "url", spath, &part->url);
  return BadRequest(Join(spath, "type"), "image source type '" + type + "' cannot be translated");
}

// Text and image blocks: a tool_result's content.
Result ParseResultContent(element content, const std::string& path, std::vector<chat::Part>* out) {
  std::string_view text;
  if (!content.get_string().get(text)) {
    if (!text.empty()) out->push_back(TextPart(text));
    return std::nullopt;
  }
  array blocks;
  if (content.get_array().get(blocks)) return BadRequest(path, "Input should be a valid string or list");
  size_t j = 0;
  for (element b : blocks) {
    const std::string bpath = At(path, j++);
    object block;
    if (auto e = AsObject(b, bpath, &block)) return e;
    std::string type;
    if (auto e = BlockType(block, bpath, &type)) return e;
    chat::Part part;
    if (type == "text") {
      if (auto e = ReqString(block, "text", bpath, &part.text)) return e;
      if (part.text.empty()) continue;
    } else if (type == "image") {
      if (auto e = ParseImage(block, bpath, &part)) return e;
    } else {
      return Untranslatable(bpath, type);
    }
    out->push_back(std::move(part));
  }
  return std::nullopt;
}

Result ParseBlock(object block, chat::Role role, const std::string& path, chat::Part* part, bool* skip) {
  std::string type;
  if (auto e = BlockType(block, path, &type)) return e;
  const bool assistant = role == chat::Role::kAssistant;
  if (type == "text") {
    if (auto e = ReqString(block, "text", path, &part->text)) return e;
    *skip = part->text.empty();  // never forwarded: every protocol rejects or ignores it
    return std::nullopt;
  }
  if (type == "image") return ParseImage(block, path, part);
  if (type == "tool_use" && assistant) {
    part->kind = chat::PartKind::kToolCall;
    if (auto e = ReqString(block, "id", path, &part->id)) return e;
    if (auto e = ReqString(block, "name", path, &part->name)) return e;
    element input;
    if (!Has(block, "input", &input)) {
      part->arguments = "{}";
      return std::nullopt;
    }
    object obj;
    if (auto e = AsObject(input, Join(path, "input"), &obj)) return e;
    part->arguments = simdjson::minify(obj);
    return std::nullopt;
  }
  if (type == "tool_result" && !assistant) {
    part->kind = chat::PartKind::kToolResult;
    if (auto e = ReqString(block, "tool_use_id", path, &part->id)) return e;
    element content;
    if (Has(block, "content", &content)) {
      if (auto e = ParseResultContent(content, Join(path, "content"), &part->content)) return e;
    }
    element is_error;
    if (Has(block, "is_error", &is_error) && is_error.get_bool().get(part->is_error)) {
      return BadRequest(Join(path, "is_error"), "Input should be a valid boolean");
    }
    return std::nullopt;
  }
  if (type == "thinking" && assistant) {
    part->kind = chat::PartKind::kThinking;
    if (auto e = OptString(block, "thinking", path, &part->text)) return e;
    return OptString(block, "signature", path, &part->signature);
  }
  if (type == "redacted_thinking" && assistant) {
    part->kind = chat::PartKind::kRedactedThinking;
    return ReqString(block, "data", path, &part->signature);
  }
  if (type == "tool_use" || type == "tool_result" || type == "thinking" || type == "redacted_thinking") {
    return BadRequest(Join(path, "type"), "'" + type + "' blocks are not allowed in " +
                                              (assistant ? "assistant" : "user") + " messages");
  }
  return Untranslatable(path, type);
}

Result ParseMessage(element el, size_t i, std::vector<chat::Message>* out) {
  const std::string path = At("messages", i);
  object msg;
  if (auto e = AsObject(el, path, &msg)) return e;
  std::string role_name;
  if (auto e = ReqString(msg, "role", path, &role_name)) return e;
  chat::Role role;
  if (role_name == "user") {
    role = chat::Role::kUser;
  } else if (role_name == "assistant") {
    role = chat::Role::kAssistant;
  } else {
    return BadRequest(Join(path, "role"), "Input should be 'user' or 'assistant'");
  }
  element content;
  if (!Has(msg, "content", &content)) return BadRequest(Join(path, "content"), "Field required");

  // Tool results answer the previous assistant turn: they go first, in a
  // kTool message of their own, and the rest of the user turn after them.
  chat::Message results{chat::Role::kTool, {}};
  chat::Message rest{role, {}};
  std::string_view text;
  if (!content.get_string().get(text)) {
    if (!text.empty()) rest.parts.push_back(TextPart(text));
  } else {
    array blocks;
    const std::string cpath = Join(path, "content");
    if (content.get_array().get(blocks)) return BadRequest(cpath, "Input should be a valid string or list");
    size_t j = 0;
    for (element b : blocks) {
      const std::string bpath = At(cpath, j++);
      object block;
      if (auto e = AsObject(b, bpath, &block)) return e;
      chat::Part part;
      bool skip = false;
      if (auto e = ParseBlock(block, role, bpath, &part, &skip)) return e;
      if (skip) continue;
      (part.kind == chat::PartKind::kToolResult ? results : rest).parts.push_back(std::move(part));
    }
  }
  if (!results.parts.empty()) out->push_back(std::move(results));
  if (!rest.parts.empty()) out->push_back(std::move(rest));
  return std::nullopt;
}

Result ParseSystem(element system, chat::Request* out) {
  std::string_view text;
  if (!system.get_string().get(text)) {
    if (!text.empty()) out->system.push_back(TextPart(text));
    return std::nullopt;
  }
  array blocks;
  if (system.get_array().get(blocks)) return BadRequest("system", "Input should be a valid string or list");
  size_t j = 0;
  for (element b : blocks) {
    const std::string path = At("system", j);
    object block;
    if (auto e = AsObject(b, path, &block)) return e;
    std::string type;
    if (auto e = BlockType(block, path, &type)) return e;
    if (type != "text") return BadRequest(Join(path, "type"), "system blocks must be of type 'text'");
    chat::Part part;
    if (auto e = ReqString(block, "text", path, &part.text)) return e;
    const bool billing = j == 0 && part.text.rfind(kBillingHeaderPrefix, 0) == 0;
    ++j;
    if (billing || part.text.empty()) continue;
    out->system.push_back(std::move(part));
  }
  return std::nullopt;
}

Result ParseTools(element tools_el, chat::Request* out) {
  array tools;
  if (tools_el.get_array().get(tools)) return BadRequest("tools", "Input should be a valid list");
  size_t i = 0;
  for (element t : tools) {
    const std::string path = At("tools", i++);
    object tool;
    if (auto e = AsObject(t, path, &tool)) return e;
    std::string type;
    if (auto e = OptString(tool, "type", path, &type)) return e;
    if (!type.empty() && type != "custom") {
      return BadRequest(Join(path, "type"), "server tool '" + type +
                                                "' cannot be translated for this model's provider; only custom "
                                                "tools (name, description, input_schema) can");
    }
    chat::Tool out_tool;
    if (auto e = ReqString(tool, "name", path, &out_tool.name)) return e;
    if (out_tool.name.empty()) return BadRequest(Join(path, "name"), "String should have at least 1 character");
    if (auto e = OptString(tool, "description", path, &out_tool.description)) return e;
    element schema_el;
    if (!Has(tool, "input_schema", &schema_el)) return BadRequest(Join(path, "input_schema"), "Field required");
    object schema;
    if (auto e = AsObject(schema_el, Join(path, "input_schema"), &schema)) return e;
    out_tool.parameters = simdjson::minify(schema);
    element strict;
    if (Has(tool, "strict", &strict) && strict.get_bool().get(out_tool.strict)) {
      return BadRequest(Join(path, "strict"), "Input should be a valid boolean");
    }
    out->tools.push_back(std::move(out_tool));
  }
  return std::nullopt;
}

Result ParseToolChoice(element el, chat::Request* out) {
  object choice;
  if (auto e = AsObject(el, "tool_choice", &choice)) return e;
  std::string type;
  if (auto e = ReqString(choice, "type", "tool_choice", &type)) return e;
  if (type == "auto") {
    out->tool_choice.mode = chat::ToolChoiceMode::kAuto;
  } else if (type == "any") {
    out->tool_choice.mode = chat::ToolChoiceMode::kRequired;
  } else if (type == "none") {
    out->tool_choice.mode = chat::ToolChoiceMode::kNone;
  } else if (type == "tool") {
    out->tool_choice.mode = chat::ToolChoiceMode::kNamed;
    if (auto e = ReqString(choice, "name", "tool_choice", &out->tool_choice.name)) return e;
  } else {
    return BadRequest("tool_choice.type", "Input should be 'auto', 'any', 'tool' or 'none'");
  }
  element disable;
  if (Has(choice, "disable_parallel_tool_use", &disable)) {
    bool value = false;
    if (disable.get_bool().get(value)) {
      return BadRequest("tool_choice.disable_parallel_tool_use", "Input should be a valid boolean");
    }
    if (value) out->parallel_tool_calls = false;
  }
  return std::nullopt;
}

Result ParseThinking(element el, chat::Request* out) {
  object thinking;
  if (auto e = AsObject(el, "thinking", &thinking)) return e;
  std::string type;
  if (auto e = ReqString(thinking, "type", "thinking", &type)) return e;
  if (type == "disabled") {
    out->reasoning.enabled = false;
    return std::nullopt;
  }
  if (type != "enabled" && type != "adaptive") {
    return BadRequest("thinking.type", "Input should be 'enabled', 'disabled' or 'adaptive'");
  }
  out->reasoning.enabled = true;
  element budget_el;
  if (Has(thinking, "budget_tokens", &budget_el)) {
    int64_t budget = 0;
    if (budget_el.get_int64().get(budget)) return BadRequest("thinking.budget_tokens", "Input should be a valid integer");
    out->reasoning.budget_tokens = budget;
  } else if (type == "enabled") {
    return BadRequest("thinking.budget_tokens", "Field required");
  }
  return std::nullopt;
}

Result ParseOutputConfig(element el, chat::Request* out) {
  object config;
  if (auto e = AsObject(el, "output_config", &config)) return e;
  std::string effort;
  if (auto e = OptString(config, "effort", "output_config", &effort)) return e;
  if (effort == "max") effort = "high";  // the internal scale stops at high
  if (!effort.empty() && effort != "low" && effort != "medium" && effort != "high") {
    return BadRequest("output_config.effort", "Input should be 'low', 'medium', 'high' or 'max'");
  }
  out->reasoning.effort = effort;
  element format_el;
  if (Has(config, "format", &format_el)) {
    object format;
    if (auto e = AsObject(format_el, "output_config.format", &format)) return e;
    std::string type;
    if (auto e = ReqString(format, "type", "output_config.format", &type)) return e;
    if (type != "json_schema") return BadRequest("output_config.format.type", "Input should be 'json_schema'");
    element schema_el;
    if (!Has(format, "schema", &schema_el)) return BadRequest("output_config.format.schema", "Field required");
    object schema;
    if (auto e = AsObject(schema_el, "output_config.format.schema", &schema)) return e;
    out->response_format.type = chat::ResponseFormat::Type::kJsonSchema;
    out->response_format.name = "output";
    out->response_format.schema = simdjson::minify(schema);
    out->response_format.strict = true;
  }
  return std::nullopt;
}

Result OptDouble(object obj, std::string_view key, std::optional<double>* out) {
  element el;
  if (!Has(obj, key, &el)) return std::nullopt;
  double v = 0;
  if (el.get_double().get(v)) return BadRequest(std::string(key), "Input should be a valid number");
  *out = v;
  return std::nullopt;
}

Result OptInt(object obj, std::string_view key, std::optional<int64_t>* out) {
  element el;
  if (!Has(obj, key, &el)) return std::nullopt;
  int64_t v = 0;
  if (el.get_int64().get(v)) return BadRequest(std::string(key), "Input should be a valid integer");
  *out = v;
  return std::nullopt;
}

Result ParseBody(object obj, chat::Request* out) {
  element el;
  if (Has(obj, "system", &el)) {
    if (auto e = ParseSystem(el, out)) return e;
  }
  array messages;
  if (obj["messages"].get_array().get(messages)) return BadRequest("messages", "Input should be a valid list");
  size_t i = 0;
  for (element m : messages) {
    if (auto e = ParseMessage(m, i++, &out->messages)) return e;
  }
  if (Has(obj, "tools", &el)) {
    if (auto e = ParseTools(el, out)) return e;
  }
  if (Has(obj, "tool_choice", &el)) {
    if (auto e = ParseToolChoice(el, out)) return e;
  }
  if (auto e = OptInt(obj, "max_tokens", &out->max_tokens)) return e;
  if (auto e = OptDouble(obj, "temperature", &out->temperature)) return e;
  if (auto e = OptDouble(obj, "top_p", &out->top_p)) return e;
  if (auto e = OptInt(obj, "top_k", &out->top_k)) return e;
  if (Has(obj, "stop_sequences", &el)) {
    array stops;
    if (el.get_array().get(stops)) return BadRequest("stop_sequences", "Input should be a valid list");
    size_t j = 0;
    for (element s : stops) {
      std::string_view stop;
      if (s.get_string().get(stop)) return BadRequest(At("stop_sequences", j), "Input should be a valid string");
      ++j;
      out->stop.emplace_back(stop);
    }
  }
  if (Has(obj, "metadata", &el)) {
    object metadata;
    if (auto e = AsObject(el, "metadata", &metadata)) return e;
    if (auto e = OptString(metadata, "user_id", "metadata", &out->user)) return e;
  }
  if (Has(obj, "thinking", &el)) {
    if (auto e = ParseThinking(el, out)) return e;
  }
  if (Has(obj, "output_config", &el)) {
    if (auto e = ParseOutputConfig(el, out)) return e;
  }
  return std::nullopt;
}

}  // namespace

std::optional<GatewayError> AnthropicFrontDoor::ParseChat(const InternalRequest& request, chat::Request* out) const {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(64 * 1024, kMaxJsonDepth);
    (void)err;
    return p;
  }();
  const std::string& body = request.raw_body;
  object obj;
  if (parser.parse(body.data(), body.size()).get_object().get(obj)) {
    return MakeError(ErrorCode::kBadRequest, "Request body must be a JSON object.");
  }
  out->model = request.model;
  out->stream = request.operation == Operation::kChatCompletions && request.stream;
  return ParseBody(obj, out);
}

}  // namespace sy::anthropic
