// Tool declarations (shared by request parsing and both response encoders),
// the request echo of a Response object, and call-id / custom-input mapping.
#include <ctime>

#include "core/ids.h"
#include "frontdoor/responses/responses_internal.h"

namespace sy::responses::internal {
namespace {

constexpr std::string_view kCustomParameters =
    "{\"type\":\"object\",\"properties\":{\"input\":{\"type\":\"string\"}},\"required\":[\"input\"]}";

// Optional string member: absent or null → "", a non-string → error.
std::optional<GatewayError> OptString(simdjson::dom::object obj, std::string_view key, const std::string& param,
                                      std::string* out) {
  simdjson::dom::element e;
  if (obj[key].get(e) || e.is_null()) return std::nullopt;
  std::string_view s;
  if (e.get_string().get(s)) {
    return BadRequest("Invalid type for '" + param + "." + std::string(key) + "': expected a string.",
                      param + "." + std::string(key));
  }
  *out = std::string(s);
  return std::nullopt;
}

std::optional<GatewayError> RequiredName(simdjson::dom::object obj, const std::string& param, std::string* out) {
  if (auto err = OptString(obj, "name", param, out)) return err;
  if (out->empty()) return BadRequest("Missing required parameter: '" + param + ".name'.", param + ".name");
  return std::nullopt;
}

// Adds `tool` under `internal_name` unless a tool of that name exists.
void AddTool(chat::Tool tool, DeclaredTool declared, chat::Request* out, ToolTable* table) {
  if (table->count(tool.name)) return;
  (*table)[tool.name] = std::move(declared);
  out->tools.push_back(std::move(tool));
}

std::optional<GatewayError> ParseToolsIn(simdjson::dom::array tools, const std::string& param, std::string_view ns,
                                         chat::Request* out, ToolTable* table) {
  size_t i = 0;
  for (simdjson::dom::element t : tools) {
    const std::string at = param + "[" + std::to_string(i++) + "]";
    simdjson::dom::object obj;
    if (t.get_object().get(obj)) return BadRequest("Invalid type for '" + at + "': expected an object.", at);
    std::string type;
    if (auto err = OptString(obj, "type", at, &type)) return err;
    if (type.empty()) return BadRequest("Missing required parameter: '" + at + ".type'.", at + ".type");

    if (type == "namespace") {
      std::string name;
      if (auto err = RequiredName(obj, at, &name)) return err;
      simdjson::dom::array inner;
      if (!obj["tools"].get_array().get(inner)) {
        if (auto err = ParseToolsIn(inner, at + ".tools", name, out, table)) return err;
      }
      continue;
    }
    if (type != "function" && type != "custom") continue;  // hosted tools: dropped (see the header)

    DeclaredTool declared;
    declared.custom = type == "custom";
    declared.ns = std::string(ns);
    if (auto err = RequiredName(obj, at, &declared.name)) return err;
    chat::Tool tool;
    tool.name = ns.empty() ? declared.name : declared.ns + std::string(kNamespaceSeparator) + declared.name;
    if (auto err = OptString(obj, "description", at, &tool.description)) return err;

    if (declared.custom) {
      tool.parameters = std::string(kCustomParameters);
      // A grammar (Codex's apply_patch) tells the model the input's syntax.
      simdjson::dom::object format;
      std::string_view syntax, definition;
      if (!obj["format"].get_object().get(format) && !format["definition"].get_string().get(definition)) {
        if (format["syntax"].get_string().get(syntax)) syntax = "grammar";
        if (!tool.description.empty()) tool.description += "\n\n";
        tool.description += "The input must follow this " + std::string(syntax) + " grammar:\n" +
                            std::string(definition);
      }
    } else {
      simdjson::dom::element params;
      if (!obj["parameters"].get(params) && !params.is_null()) {
        if (!params.is_object()) {
          return BadRequest("Invalid type for '" + at + ".parameters': expected a JSON Schema object.",
                            at + ".parameters");
        }
        tool.parameters = simdjson::minify(params);
      }
      simdjson::dom::element strict;
      if (!obj["strict"].get(strict) && !strict.is_null()) {
        if (strict.get_bool().get(tool.strict)) {
          return BadRequest("Invalid type for '" + at + ".strict': expected a boolean.", at + ".strict");
        }
      }
    }
    AddTool(std::move(tool), std::move(declared), out, table);
  }
  return std::nullopt;
}

}  // namespace

GatewayError BadRequest(std::string message, std::string param) {
  GatewayError e = MakeError(ErrorCode::kBadRequest, std::move(message));
  if (!param.empty()) e.param = std::move(param);
  return e;
}

std::optional<GatewayError> ParseTools(simdjson::dom::array tools, const std::string& param, chat::Request* out,
                                       ToolTable* table) {
  return ParseToolsIn(tools, param, "", out, table);
}

ResponseMeta ReadMeta(const InternalRequest& request) {
  ResponseMeta meta;
  meta.id = chat::NewId("resp_", 32);
  meta.created_at = static_cast<long long>(std::time(nullptr));
  meta.model = request.model;

  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(request.raw_body.data(), request.raw_body.size()).get_object().get(obj)) return meta;

  // Tools: the top-level list, then those of additional_tools input items.
  chat::Request scratch;
  simdjson::dom::array tools;
  if (!obj["tools"].get_array().get(tools)) (void)ParseTools(tools, "tools", &scratch, &meta.tools);
  simdjson::dom::array items;
  if (!obj["input"].get_array().get(items)) {
    for (simdjson::dom::element item : items) {
      std::string_view type;
      if (item["type"].get_string().get(type) || type != "additional_tools") continue;
      if (!item["tools"].get_array().get(tools)) (void)ParseTools(tools, "input", &scratch, &meta.tools);
    }
  }

  bool parallel = true;
  if (!obj["parallel_tool_calls"].get_bool().get(parallel)) meta.parallel_tool_calls = parallel;
  simdjson::dom::element e;
  if (!obj["tool_choice"].get(e) && (e.is_string() || e.is_object())) meta.tool_choice = simdjson::minify(e);
  double d = 0;
  if (!obj["temperature"].get_double().get(d)) meta.temperature = d;
  if (!obj["top_p"].get_double().get(d)) meta.top_p = d;
  int64_t n = 0;
  if (!obj["max_output_tokens"].get_int64().get(n)) meta.max_output_tokens = n;
  std::string_view s;
  if (!obj["reasoning"]["effort"].get_string().get(s)) meta.reasoning_effort = std::string(s);
  if (!obj["reasoning"]["summary"].get_string().get(s)) meta.reasoning_summary = std::string(s);
  if (!obj["text"].get(e) && e.is_object()) meta.text = simdjson::minify(e);
  if (!obj["user"].get_string().get(s)) meta.user = std::string(s);
  return meta;
}

std::string CallId(std::string_view id) {
  if (id.substr(0, 5) == "call_") return std::string(id);
  return chat::SafeToolId(id, "call_");
}

std::string CustomInput(std::string_view arguments) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(arguments.data(), arguments.size()).get_object().get(obj)) return std::string(arguments);
  std::string_view input;
  if (!obj["input"].get_string().get(input)) return std::string(input);
  // A model that named the one string member otherwise.
  if (obj.size() == 1) {
    for (auto field : obj) {
      if (!field.value.get_string().get(input)) return std::string(input);
    }
  }
  if (obj.size() == 0) return "";
  return std::string(arguments);
}

const DeclaredTool* FindTool(const ResponseMeta& meta, std::string_view name) {
  auto it = meta.tools.find(std::string(name));
  return it == meta.tools.end() ? nullptr : &it->second;
}

}  // namespace sy::responses::internal
