// ParseChat: a Responses request body → chat::Request.
#include <type_traits>
#include <unordered_set>

#include "frontdoor/responses/responses_frontdoor.h"
#include "frontdoor/responses/responses_internal.h"

namespace sy::responses {
namespace {

using internal::BadRequest;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

chat::Part TextPart(std::string text) {
  chat::Part part;
  part.text = std::move(text);
  return part;
}

std::string Join(const std::string& param, std::string_view key) { return param + "." + std::string(key); }
std::string Index(const std::string& param, size_t i) { return param + "[" + std::to_string(i) + "]"; }

// Member `key` of `obj` as a string: absent/null → "" (or an error when
// required), another type → error.
std::optional<GatewayError> GetString(object obj, std::string_view key, const std::string& param, bool required,
                                      std::string* out) {
  element e;
  if (obj[key].get(e) || e.is_null()) {
    if (required) return BadRequest("Missing required parameter: '" + Join(param, key) + "'.", Join(param, key));
    return std::nullopt;
  }
  std::string_view s;
  if (e.get_string().get(s)) {
    return BadRequest("Invalid type for '" + Join(param, key) + "': expected a string.", Join(param, key));
  }
  *out = std::string(s);
  if (required && out->empty()) {
    return BadRequest("'" + Join(param, key) + "' must not be empty.", Join(param, key));
  }
  return std::nullopt;
}

// input_image.image_url: a data: URL (inlined) or an http(s) URL.
std::optional<GatewayError> ParseImage(object part, const std::string& param, chat::Part* out) {
  out->kind = chat::PartKind::kImage;
  element url_el;
  std::string_view url;
  if (!part["image_url"].get(url_el) && !url_el.is_null()) {
    object url_obj;  // tolerate the Chat Completions shape {"url": ...}
    bool bad = url_el.get_object().get(url_obj) ? url_el.get_string().get(url) != simdjson::SUCCESS
                                                 : url_obj["url"].get_string().get(url) != simdjson::SUCCESS;
    if (bad) {
      return BadRequest("Invalid type for '" + Join(param, "image_url") + "': expected a string.",
                        Join(param, "image_url"));
    }
  } else if (part["file_id"].get(url_el) == simdjson::SUCCESS && !url_el.is_null()) {
    return BadRequest("'" + Join(param, "file_id") +
                          "' is not supported: the gateway stores no files. Send the image as a data: URL or an "
                          "http(s) URL in 'image_url'.",
                      Join(param, "file_id"));
  } else {
    return BadRequest("Missing required parameter: '" + Join(param, "image_url") + "'.", Join(param, "image_url"));
  }
  if (url.substr(0, 5) == "data:") {
    size_t comma = url.find(',');
    std::string_view header = url.substr(5, comma == std::string_view::npos ? 0 : comma - 5);
    constexpr std::string_view kBase64 = ";base64";
    if (comma == std::string_view::npos || header.size() < kBase64.size() ||
        header.substr(header.size() - kBase64.size()) != kBase64) {
      return BadRequest("'" + Join(param, "image_url") + "' must be a base64 data: URL (data:image/png;base64,...).",
                        Join(param, "image_url"));
    }
    std::string_view media = header.substr(0, header.find(';'));
    out->media_type = std::string(media.empty() ? std::string_view("image/png") : media);
    out->data = std::string(url.substr(comma + 1));
    return std::nullopt;
  }
  if (url.substr(0, 7) != "http://" && url.substr(0, 8) != "https://") {
    return BadRequest("'" + Join(param, "image_url") + "' must be an http(s) URL or a data: URL.",
                      Join(param, "image_url"));
  }
  out->url = std::string(url);
  return std::nullopt;
}

// Content parts of a message or a tool output. `allow_images` for user
// messages and tool outputs.
std::optional<GatewayError> ParseContent(element content, const std::string& param, bool allow_images,
                                         std::vector<chat::Part>* out) {
  if (content.is_null()) return std::nullopt;
  std::string_view text;
  if (!content.get_string().get(text)) {
    if (!text.empty()) out->push_back(TextPart(std::string(text)));
    return std::nullopt;
  }
  array parts;
  if (content.get_array().get(parts)) {
    return BadRequest("Invalid type for '" + param + "': expected a string or an array of content parts.", param);
  }
  size_t i = 0;
  for (element p : parts) {
    const std::string at = Index(param, i++);
    object part;
    if (p.get_object().get(part)) return BadRequest("Invalid type for '" + at + "': expected an object.", at);
    std::string type;
    if (auto err = GetString(part, "type", at, true, &type)) return err;
    if (type == "input_text" || type == "output_text" || type == "text" || type == "refusal") {
      std::string value;
      if (auto err = GetString(part, type == "refusal" ? "refusal" : "text", at, false, &value)) return err;
      if (!value.empty()) out->push_back(TextPart(std::move(value)));
    } else if (type == "input_image" && allow_images) {
      chat::Part image;
      if (auto err = ParseImage(part, at, &image)) return err;
      out->push_back(std::move(image));
    } else if (type == "input_image") {
      return BadRequest("'" + at + "': images are only supported in user messages and tool outputs.", at);
    } else {
      return BadRequest("'" + at + "': content parts of type '" + type +
                            "' are not supported (input_text, output_text and input_image are).",
                        Join(at, "type"));
    }
  }
  return std::nullopt;
}

// Builds the message list, keeping one assistant turn's reasoning, text and
// calls in one assistant message.
class Conversation {
 public:
  explicit Conversation(chat::Request* out) : out_(out) {}

  void Assistant(chat::Part part) {
    if (out_->messages.empty() || out_->messages.back().role != chat::Role::kAssistant) {
      out_->messages.push_back(chat::Message{.role = chat::Role::kAssistant, .parts = {}});
    }
    out_->messages.back().parts.push_back(std::move(part));
  }
  void Add(chat::Role role, std::vector<chat::Part> parts) {
    if (parts.empty()) return;
    if (role == chat::Role::kAssistant) {
      for (auto& p : parts) Assistant(std::move(p));
      return;
    }
    out_->messages.push_back(chat::Message{.role = role, .parts = std::move(parts)});
  }

 private:
  chat::Request* out_;
};

class InputParser {
 public:
  InputParser(chat::Request* out, internal::ToolTable* tools) : out_(out), tools_(tools), conv_(out) {}

  std::optional<GatewayError> Item(element e, const std::string& at) {
    object item;
    if (e.get_object().get(item)) return BadRequest("Invalid type for '" + at + "': expected an object.", at);
    std::string type;
    if (auto err = GetString(item, "type", at, false, &type)) return err;
    if (type.empty() || type == "message") return Message(item, at);
    if (type == "function_call" || type == "custom_tool_call") return Call(item, at, type == "custom_tool_call");
    if (type == "function_call_output" || type == "custom_tool_call_output") return Output(item, at);
    if (type == "reasoning") return Reasoning(item, at);
    if (type == "additional_tools") {
      array tools;
      if (!item["tools"].get_array().get(tools)) return internal::ParseTools(tools, Join(at, "tools"), out_, tools_);
      return std::nullopt;
    }
    if (type == "item_reference") {
      return BadRequest("'" + at +
                            "': item_reference is not supported: this gateway is stateless and stores no items. "
                            "Send the full items instead.",
                        at);
    }
    // Items of hosted tools (web_search_call, local_shell_call, ...) cannot
    // be translated; outputs that answer them go too.
    std::string_view call_id;
    if (!item["call_id"].get_string().get(call_id)) dropped_calls_.insert(std::string(call_id));
    return std::nullopt;
  }

 private:
  std::optional<GatewayError> Message(object item, const std::string& at) {
    std::string role;
    if (auto err = GetString(item, "role", at, true, &role)) return err;
    element content;
    std::vector<chat::Part> parts;
    const bool user = role == "user";
    if (!user && role != "assistant" && role != "system" && role != "developer") {
      return BadRequest("Invalid value for '" + Join(at, "role") + "': '" + role +
                            "' (expected user, assistant, system or developer).",
                        Join(at, "role"));
    }
    if (!item["content"].get(content)) {
      if (auto err = ParseContent(content, Join(at, "content"), user, &parts)) return err;
    }
    if (role == "system" || role == "developer") {
      for (auto& p : parts) out_->system.push_back(std::move(p));
      return std::nullopt;
    }
    conv_.Add(user ? chat::Role::kUser : chat::Role::kAssistant, std::move(parts));
    return std::nullopt;
  }

  std::optional<GatewayError> Call(object item, const std::string& at, bool custom) {
    chat::Part call;
    call.kind = chat::PartKind::kToolCall;
    if (auto err = GetString(item, "call_id", at, true, &call.id)) return err;
    if (auto err = GetString(item, "name", at, true, &call.name)) return err;
    std::string ns;
    if (auto err = GetString(item, "namespace", at, false, &ns)) return err;
    if (!ns.empty()) call.name = ns + std::string(internal::kNamespaceSeparator) + call.name;
    if (custom) {
      std::string input;
      if (auto err = GetString(item, "input", at, false, &input)) return err;
      json::Writer w(&call.arguments);
      w.BeginObject().Key("input").String(input).EndObject();
    } else {
      element args;
      std::string_view text;
      if (item["arguments"].get(args) || args.is_null()) {
        call.arguments = "{}";
      } else if (!args.get_string().get(text)) {
        call.arguments = text.empty() ? std::string("{}") : std::string(text);
      } else if (args.is_object()) {
        call.arguments = simdjson::minify(args);
      } else {
        return BadRequest("Invalid type for '" + Join(at, "arguments") + "': expected a string.",
                          Join(at, "arguments"));
      }
    }
    conv_.Assistant(std::move(call));
    return std::nullopt;
  }

  std::optional<GatewayError> Output(object item, const std::string& at) {
    chat::Part result;
    result.kind = chat::PartKind::kToolResult;
    if (auto err = GetString(item, "call_id", at, true, &result.id)) return err;
    if (dropped_calls_.count(result.id)) return std::nullopt;
    element output;
    if (!item["output"].get(output)) {
      if (output.is_object()) {
        // Not in the API, but harmless: pass the JSON on as text.
        result.content.push_back(TextPart(simdjson::minify(output)));
      } else if (auto err = ParseContent(output, Join(at, "output"), true, &result.content)) {
        return err;
      }
    }
    conv_.Add(chat::Role::kTool, {std::move(result)});
    return std::nullopt;
  }

  std::optional<GatewayError> Reasoning(object item, const std::string& at) {
    std::string text;
    for (std::string_view list : {"summary", "content"}) {
      array entries;
      if (item[list].get_array().get(entries)) continue;
      for (element entry : entries) {
        std::string_view piece;
        if (entry["text"].get_string().get(piece)) continue;
        if (!text.empty()) text += "\n\n";
        text += piece;
      }
      if (!text.empty()) break;  // summaries win over raw reasoning text
    }
    std::string encrypted;
    if (auto err = GetString(item, "encrypted_content", at, false, &encrypted)) return err;
    chat::Part part;
    if (encrypted.substr(0, internal::kRedactedPrefix.size()) == internal::kRedactedPrefix) {
      part.kind = chat::PartKind::kRedactedThinking;
      part.signature = encrypted.substr(internal::kRedactedPrefix.size());
    } else {
      if (text.empty() && encrypted.empty()) return std::nullopt;
      part.kind = chat::PartKind::kThinking;
      part.text = std::move(text);
      part.signature = std::move(encrypted);
    }
    conv_.Assistant(std::move(part));
    return std::nullopt;
  }

  chat::Request* out_;
  internal::ToolTable* tools_;
  Conversation conv_;
  std::unordered_set<std::string> dropped_calls_;
};

std::optional<GatewayError> ParseToolChoice(element choice, chat::ToolChoice* out) {
  std::string_view mode;
  if (!choice.get_string().get(mode)) {
    if (mode == "auto") {
      out->mode = chat::ToolChoiceMode::kAuto;
    } else if (mode == "none") {
      out->mode = chat::ToolChoiceMode::kNone;
    } else if (mode == "required") {
      out->mode = chat::ToolChoiceMode::kRequired;
    } else {
      return BadRequest("Invalid value for 'tool_choice': '" + std::string(mode) +
                            "' (expected auto, none, required or an object).",
                        "tool_choice");
    }
    return std::nullopt;
  }
  object obj;
  if (choice.get_object().get(obj)) {
    return BadRequest("Invalid type for 'tool_choice': expected a string or an object.", "tool_choice");
  }
  std::string type;
  if (auto err = GetString(obj, "type", "tool_choice", true, &type)) return err;
  if (type == "function" || type == "custom") {
    std::string name, ns;
    if (auto err = GetString(obj, "name", "tool_choice", true, &name)) return err;
    if (auto err = GetString(obj, "namespace", "tool_choice", false, &ns)) return err;
    out->mode = chat::ToolChoiceMode::kNamed;
    out->name = ns.empty() ? name : ns + std::string(internal::kNamespaceSeparator) + name;
  } else if (type == "allowed_tools") {
    std::string m;
    if (auto err = GetString(obj, "mode", "tool_choice", false, &m)) return err;
    out->mode = m == "required" ? chat::ToolChoiceMode::kRequired : chat::ToolChoiceMode::kAuto;
  }
  // Hosted tool choices ({"type":"web_search"}...) name a dropped tool: unset.
  return std::nullopt;
}

std::optional<GatewayError> ParseReasoning(element e, chat::Reasoning* out) {
  object obj;
  if (e.get_object().get(obj)) return BadRequest("Invalid type for 'reasoning': expected an object.", "reasoning");
  std::string effort, summary;
  if (auto err = GetString(obj, "effort", "reasoning", false, &effort)) return err;
  if (auto err = GetString(obj, "summary", "reasoning", false, &summary)) return err;
  if (summary.empty()) {
    if (auto err = GetString(obj, "generate_summary", "reasoning", false, &summary)) return err;
  }
  if (effort == "none") {
    out->enabled = false;
  } else if (!effort.empty()) {
    out->enabled = true;
    out->effort = effort;
  }
  out->include_thoughts = !summary.empty();
  return std::nullopt;
}

std::optional<GatewayError> ParseTextFormat(element e, chat::ResponseFormat* out) {
  object text;
  if (e.get_object().get(text)) return BadRequest("Invalid type for 'text': expected an object.", "text");
  object format;
  element f;
  if (text["format"].get(f) || f.is_null()) return std::nullopt;
  if (f.get_object().get(format)) {
    return BadRequest("Invalid type for 'text.format': expected an object.", "text.format");
  }
  std::string type;
  if (auto err = GetString(format, "type", "text.format", true, &type)) return err;
  if (type == "text") {
    out->type = chat::ResponseFormat::Type::kText;
  } else if (type == "json_object") {
    out->type = chat::ResponseFormat::Type::kJsonObject;
  } else if (type == "json_schema") {
    out->type = chat::ResponseFormat::Type::kJsonSchema;
    if (auto err = GetString(format, "name", "text.format", false, &out->name)) return err;
    if (out->name.empty()) out->name = "response";
    element schema;
    if (format["schema"].get(schema) || !schema.is_object()) {
      return BadRequest("'text.format.schema' must be a JSON Schema object.", "text.format.schema");
    }
    out->schema = simdjson::minify(schema);
    bool strict = false;
    element s;
    if (!format["strict"].get(s) && !s.is_null()) {
      if (s.get_bool().get(strict)) {
        return BadRequest("Invalid type for 'text.format.strict': expected a boolean.", "text.format.strict");
      }
    }
    out->strict = strict;
  } else {
    return BadRequest("Invalid value for 'text.format.type': '" + type + "' (expected text, json_object or json_schema).",
                      "text.format.type");
  }
  return std::nullopt;
}

// Optional number / integer / boolean members; null is absent.
template <typename T>
std::optional<GatewayError> GetNumber(object obj, std::string_view key, std::string_view what,
                                      std::optional<T>* out) {
  element e;
  if (obj[key].get(e) || e.is_null()) return std::nullopt;
  T value{};
  bool bad;
  if constexpr (std::is_same_v<T, double>) {
    bad = e.get_double().get(value) != simdjson::SUCCESS;
  } else if constexpr (std::is_same_v<T, bool>) {
    bad = e.get_bool().get(value) != simdjson::SUCCESS;
  } else {
    bad = e.get_int64().get(value) != simdjson::SUCCESS;
  }
  if (bad) {
    return BadRequest("Invalid type for '" + std::string(key) + "': expected " + std::string(what) + ".",
                      std::string(key));
  }
  *out = value;
  return std::nullopt;
}

}  // namespace

std::optional<GatewayError> ResponsesFrontDoor::ParseChat(const InternalRequest& request, chat::Request* out) const {
  thread_local simdjson::dom::parser parser;
  object obj;
  if (parser.parse(request.raw_body.data(), request.raw_body.size()).get_object().get(obj)) {
    return BadRequest("Request body must be a JSON object.", "");
  }
  out->model = request.model;
  out->stream = request.stream;

  std::string instructions;
  if (auto err = GetString(obj, "instructions", "", false, &instructions)) {
    return BadRequest("Invalid type for 'instructions': expected a string.", "instructions");
  }
  if (!instructions.empty()) out->system.push_back(TextPart(instructions));

  internal::ToolTable tools;
  array tool_list;
  element e;
  if (!obj["tools"].get(e) && !e.is_null()) {
    if (e.get_array().get(tool_list)) return BadRequest("Invalid type for 'tools': expected an array.", "tools");
    if (auto err = internal::ParseTools(tool_list, "tools", out, &tools)) return err;
  }

  if (obj["input"].get(e)) return BadRequest("Missing required parameter: 'input'.", "input");
  std::string_view text;
  array items;
  if (!e.get_string().get(text)) {
    if (!text.empty()) {
      out->messages.push_back(chat::Message{
          .role = chat::Role::kUser, .parts = {TextPart(std::string(text))}});
    }
  } else if (!e.get_array().get(items)) {
    InputParser parser_items(out, &tools);
    size_t i = 0;
    for (element item : items) {
      if (auto err = parser_items.Item(item, Index("input", i++))) return err;
    }
  } else {
    return BadRequest("Invalid type for 'input': expected a string or an array of input items.", "input");
  }

  if (!obj["tool_choice"].get(e) && !e.is_null()) {
    if (auto err = ParseToolChoice(e, &out->tool_choice)) return err;
  }
  // No tool survived (hosted ones only): a tool_choice would make upstreams 400.
  if (out->tools.empty()) out->tool_choice = chat::ToolChoice{};
  if (auto err = GetNumber(obj, "parallel_tool_calls", "a boolean", &out->parallel_tool_calls)) return err;
  if (auto err = GetNumber(obj, "max_output_tokens", "an integer", &out->max_tokens)) return err;
  if (out->max_tokens && *out->max_tokens < 1) {
    return BadRequest("'max_output_tokens' must be at least 1.", "max_output_tokens");
  }
  if (auto err = GetNumber(obj, "temperature", "a number", &out->temperature)) return err;
  if (auto err = GetNumber(obj, "top_p", "a number", &out->top_p)) return err;
  if (!obj["reasoning"].get(e) && !e.is_null()) {
    if (auto err = ParseReasoning(e, &out->reasoning)) return err;
  }
  if (!obj["text"].get(e) && !e.is_null()) {
    if (auto err = ParseTextFormat(e, &out->response_format)) return err;
  }
  if (auto err = GetString(obj, "user", "", false, &out->user)) {
    return BadRequest("Invalid type for 'user': expected a string.", "user");
  }
  if (out->user.empty()) {
    if (auto err = GetString(obj, "safety_identifier", "", false, &out->user)) {
      return BadRequest("Invalid type for 'safety_identifier': expected a string.", "safety_identifier");
    }
  }
  chat::FillToolResultNames(out);
  return std::nullopt;
}

}  // namespace sy::responses
