// Gemini front door: GenerateContentRequest / CountTokensRequest → chat::Request
// and EmbedContentRequest / BatchEmbedContentsRequest → chat::EmbedRequest.
#include <algorithm>
#include <charconv>
#include <deque>
#include <string>
#include <unordered_map>

#include "common/json_writer.h"
#include "frontdoor/gemini/gemini_frontdoor.h"
#include "frontdoor/gemini/gemini_wire.h"

namespace sy::gemini {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

GatewayError BadRequest(std::string message, const std::string& param) {
  GatewayError e = MakeError(ErrorCode::kBadRequest, std::move(message));
  if (!param.empty()) e.param = param;
  return e;
}

GatewayError WrongType(const std::string& path, std::string_view expected) {
  return BadRequest("Invalid type for '" + path + "': expected " + std::string(expected) + ".", path);
}

std::string Index(std::string_view path, size_t i) { return std::string(path) + "[" + std::to_string(i) + "]"; }

chat::Part TextPart(std::string_view text) {
  chat::Part p;
  p.text = std::string(text);
  return p;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Optional typed members: absent or null leaves *out unset; a wrong type is a 400.
std::optional<GatewayError> OptString(object o, std::string_view key, const std::string& path, std::string_view* out) {
  element v;
  if (o[key].get(v) || v.is_null()) return std::nullopt;
  if (v.get_string().get(*out)) return WrongType(path, "a string");
  return std::nullopt;
}

std::optional<GatewayError> OptBool(object o, std::string_view key, const std::string& path, bool* out) {
  element v;
  if (o[key].get(v) || v.is_null()) return std::nullopt;
  if (v.get_bool().get(*out)) return WrongType(path, "a boolean");
  return std::nullopt;
}

std::optional<GatewayError> OptDouble(object o, std::string_view key, const std::string& path,
                                      std::optional<double>* out) {
  element v;
  if (o[key].get(v) || v.is_null()) return std::nullopt;
  double d = 0;
  if (v.get_double().get(d)) return WrongType(path, "a number");
  *out = d;
  return std::nullopt;
}

std::optional<GatewayError> OptInt(object o, std::string_view key, const std::string& path,
                                   std::optional<int64_t>* out) {
  element v;
  if (o[key].get(v) || v.is_null()) return std::nullopt;
  auto i = GetInt(v);
  if (!i) return WrongType(path, "an integer");
  *out = *i;
  return std::nullopt;
}

// ------------------------------------------------------------ schemas

bool IsSchemaMap(std::string_view key) { return key == "properties" || key == "$defs" || key == "definitions"; }
bool IsSchemaValue(std::string_view key) { return key == "items" || key == "additionalProperties" || key == "not"; }
bool IsSchemaList(std::string_view key) {
  return key == "anyOf" || key == "oneOf" || key == "allOf" || key == "prefixItems";
}
bool IsCount(std::string_view key) {
  return key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength" ||
         key == "minProperties" || key == "maxProperties";
}

// Gemini's Schema (an OpenAPI 3.0 subset: "OBJECT"/"STRING" types, nullable,
// propertyOrdering, int64 counts as strings) as JSON Schema: types lower-case,
// nullable → ["type","null"], counts as numbers, Gemini-only keys dropped.
void WriteSchema(json::Writer* w, element schema) {
  object obj;
  if (schema.get_object().get(obj)) {
    w->Raw(simdjson::minify(schema));
    return;
  }
  bool nullable = false;
  if (obj["nullable"].get_bool().get(nullable)) nullable = {};
  w->BeginObject();
  for (auto field : obj) {
    std::string_view key = field.key;
    element value = field.value;
    if (key == "nullable" || key == "propertyOrdering") continue;
    std::string_view text;
    if (key == "type" && !value.get_string().get(text)) {
      std::string type = Lower(text);
      if (type == "type_unspecified" || type.empty()) continue;
      w->Key("type");
      if (nullable) {
        w->BeginArray().String(type).String("null").EndArray();
      } else {
        w->String(type);
      }
      continue;
    }
    if (key == "format" && !value.get_string().get(text) && text == "enum") continue;
    w->Key(key);
    object map;
    array list;
    if (IsSchemaMap(key) && !value.get_object().get(map)) {
      w->BeginObject();
      for (auto member : map) {
        w->Key(member.key);
        WriteSchema(w, member.value);
      }
      w->EndObject();
    } else if (IsSchemaValue(key) && value.is_object()) {
      WriteSchema(w, value);
    } else if (IsSchemaList(key) && !value.get_array().get(list)) {
      w->BeginArray();
      for (element item : list) WriteSchema(w, item);
      w->EndArray();
    } else if (IsCount(key) && !value.get_string().get(text) && !text.empty() &&
               text.find_first_not_of("0123456789") == std::string_view::npos && text.size() < 18) {
      int64_t n = 0;
      std::from_chars(text.data(), text.data() + text.size(), n);
      w->Int(n);
    } else {
      w->Raw(simdjson::minify(value));
    }
  }
  w->EndObject();
}

std::string SchemaText(element schema) {
  std::string out;
  json::Writer w(&out);
  WriteSchema(&w, schema);
  return out;
}

// ------------------------------------------------------------ parser

class RequestParser {
 public:
  std::optional<GatewayError> Parse(object root, chat::Request* out);

 private:
  std::optional<GatewayError> Contents(array contents, chat::Request* out);
  std::optional<GatewayError> Part(element part, const std::string& path, bool model, chat::Message* msg,
                                   chat::Message* results);
  std::optional<GatewayError> FunctionCall(object call, const std::string& path, std::string_view signature,
                                           chat::Message* msg);
  std::optional<GatewayError> FunctionResponse(object response, const std::string& path, chat::Message* results);
  std::optional<GatewayError> System(element system, chat::Request* out);
  std::optional<GatewayError> Tools(element tools, chat::Request* out);
  std::optional<GatewayError> ToolConfig(element config, chat::Request* out);
  std::optional<GatewayError> GenerationConfig(element config, chat::Request* out);
  std::optional<GatewayError> Thinking(element config, chat::Request* out);

  std::string NewCallId() { return "call_gemini_" + std::to_string(next_id_++); }

  int next_id_ = 0;
  // Calls not answered yet, by function name, oldest first.
  std::unordered_map<std::string, std::deque<std::string>> open_calls_;
};

std::optional<GatewayError> RequestParser::Parse(object root, chat::Request* out) {
  element v;
  if (!root["cachedContent"].get(v) && !v.is_null()) {
    return BadRequest("'cachedContent' is not supported by this gateway; send the full contents instead.",
                      "cachedContent");
  }
  array contents;
  if (root["contents"].get(v)) return BadRequest("Missing required field 'contents'.", "contents");
  if (v.get_array().get(contents)) return WrongType("contents", "an array");
  if (auto e = Contents(contents, out)) return e;
  if (!root["systemInstruction"].get(v) && !v.is_null()) {
    if (auto e = System(v, out)) return e;
  }
  if (!root["tools"].get(v) && !v.is_null()) {
    if (auto e = Tools(v, out)) return e;
  }
  if (!root["toolConfig"].get(v) && !v.is_null()) {
    if (auto e = ToolConfig(v, out)) return e;
  }
  if (!root["generationConfig"].get(v) && !v.is_null()) {
    if (auto e = GenerationConfig(v, out)) return e;
  }
  // safetySettings, labels and anything newer are ignored.
  return std::nullopt;
}

std::optional<GatewayError> RequestParser::Contents(array contents, chat::Request* out) {
  size_t i = 0;
  for (element item : contents) {
    const std::string path = Index("contents", i++);
    object content;
    if (item.get_object().get(content)) return WrongType(path, "an object");
    std::string_view role = "user";
    if (auto e = OptString(content, "role", path + ".role", &role)) return e;
    bool model = false;
    if (role == "model") {
      model = true;
    } else if (role != "user" && role != "" && role != "function" && role != "tool") {
      return BadRequest("Invalid role '" + std::string(role.substr(0, 64)) + "' in '" + path +
                            ".role': expected \"user\" or \"model\".",
                        path + ".role");
    }
    element parts_el;
    array parts;
    if (content["parts"].get(parts_el) || parts_el.is_null()) continue;  // no parts: nothing to say
    if (parts_el.get_array().get(parts)) return WrongType(path + ".parts", "an array");
    chat::Message msg;
    msg.role = model ? chat::Role::kAssistant : chat::Role::kUser;
    chat::Message results;
    results.role = chat::Role::kTool;
    size_t j = 0;
    for (element part : parts) {
      if (auto e = Part(part, Index(path + ".parts", j++), model, &msg, &results)) return e;
    }
    // Results first: they answer the calls of the previous model turn.
    if (!results.parts.empty()) out->messages.push_back(std::move(results));
    if (!msg.parts.empty()) out->messages.push_back(std::move(msg));
  }
  return std::nullopt;
}

std::optional<GatewayError> RequestParser::Part(element item, const std::string& path, bool model, chat::Message* msg,
                                                chat::Message* results) {
  object part;
  if (item.get_object().get(part)) return WrongType(path, "an object");
  std::string_view signature;
  bool thought = false;
  if (auto e = OptString(part, "thoughtSignature", path + ".thoughtSignature", &signature)) return e;
  if (auto e = OptBool(part, "thought", path + ".thought", &thought)) return e;

  element v;
  if (!part["text"].get(v) && !v.is_null()) {
    std::string_view text;
    if (v.get_string().get(text)) return WrongType(path + ".text", "a string");
    if (thought && !model) return std::nullopt;  // thoughts belong to the model
    if (text.empty() && signature.empty()) return std::nullopt;
    chat::Part p;
    p.kind = thought ? chat::PartKind::kThinking : chat::PartKind::kText;
    p.text = std::string(text);
    p.signature = std::string(signature);
    msg->parts.push_back(std::move(p));
    return std::nullopt;
  }
  if (!part["inlineData"].get(v) && !v.is_null()) {
    object blob;
    if (v.get_object().get(blob)) return WrongType(path + ".inlineData", "an object");
    std::string_view mime, data;
    if (auto e = OptString(blob, "mimeType", path + ".inlineData.mimeType", &mime)) return e;
    if (auto e = OptString(blob, "data", path + ".inlineData.data", &data)) return e;
    if (data.empty()) return BadRequest("'" + path + ".inlineData.data' must not be empty.", path + ".inlineData.data");
    if (!mime.starts_with("image/")) {
      return BadRequest("inlineData with mimeType '" + std::string(mime.substr(0, 64)) +
                            "' cannot be translated for this model; only images are supported.",
                        path + ".inlineData.mimeType");
    }
    chat::Part p;
    p.kind = chat::PartKind::kImage;
    p.media_type = std::string(mime);
    p.data = std::string(data);
    msg->parts.push_back(std::move(p));
    return std::nullopt;
  }
  if (!part["fileData"].get(v) && !v.is_null()) {
    object file;
    if (v.get_object().get(file)) return WrongType(path + ".fileData", "an object");
    std::string_view mime, uri;
    if (auto e = OptString(file, "mimeType", path + ".fileData.mimeType", &mime)) return e;
    if (auto e = OptString(file, "fileUri", path + ".fileData.fileUri", &uri)) return e;
    if (uri.empty()) return BadRequest("Missing required field '" + path + ".fileData.fileUri'.", path + ".fileData.fileUri");
    if (!mime.empty() && !mime.starts_with("image/")) {
      return BadRequest("fileData with mimeType '" + std::string(mime.substr(0, 64)) +
                            "' cannot be translated for this model; only images are supported.",
                        path + ".fileData.mimeType");
    }
    chat::Part p;
    p.kind = chat::PartKind::kImage;
    p.media_type = std::string(mime);
    p.url = std::string(uri);
    msg->parts.push_back(std::move(p));
    return std::nullopt;
  }
  if (!part["functionCall"].get(v) && !v.is_null()) {
    object call;
    if (v.get_object().get(call)) return WrongType(path + ".functionCall", "an object");
    if (!model) {
      return BadRequest("'" + path + ".functionCall' is only allowed in contents with role \"model\".",
                        path + ".functionCall");
    }
    return FunctionCall(call, path + ".functionCall", signature, msg);
  }
  if (!part["functionResponse"].get(v) && !v.is_null()) {
    object response;
    if (v.get_object().get(response)) return WrongType(path + ".functionResponse", "an object");
    if (model) {
      return BadRequest("'" + path + ".functionResponse' is only allowed in contents with role \"user\".",
                        path + ".functionResponse");
    }
    return FunctionResponse(response, path + ".functionResponse", results);
  }
  for (std::string_view kind : {"executableCode", "codeExecutionResult"}) {
    if (!part[kind].get(v)) {
      return BadRequest("Parts of kind '" + std::string(kind) + "' are not supported by this gateway.",
                        path + "." + std::string(kind));
    }
  }
  if (model && !signature.empty()) {
    // A signature-only part (Gemini streams end a turn with one).
    chat::Part p;
    p.kind = thought ? chat::PartKind::kThinking : chat::PartKind::kText;
    p.signature = std::string(signature);
    msg->parts.push_back(std::move(p));
  }
  return std::nullopt;  // an empty part, or one with only metadata
}

std::optional<GatewayError> RequestParser::FunctionCall(object call, const std::string& path,
                                                        std::string_view signature, chat::Message* msg) {
  std::string_view name, id;
  if (auto e = OptString(call, "name", path + ".name", &name)) return e;
  if (name.empty()) return BadRequest("Missing required field '" + path + ".name'.", path + ".name");
  if (auto e = OptString(call, "id", path + ".id", &id)) return e;
  chat::Part p;
  p.kind = chat::PartKind::kToolCall;
  p.name = std::string(name);
  p.id = id.empty() ? NewCallId() : std::string(id);
  p.arguments = "{}";
  element args;
  if (!call["args"].get(args) && !args.is_null()) {
    if (!args.is_object()) return WrongType(path + ".args", "an object");
    p.arguments = simdjson::minify(args);
  }
  p.signature = std::string(signature);
  open_calls_[p.name].push_back(p.id);
  msg->parts.push_back(std::move(p));
  return std::nullopt;
}

std::optional<GatewayError> RequestParser::FunctionResponse(object response, const std::string& path,
                                                            chat::Message* results) {
  std::string_view name, id;
  if (auto e = OptString(response, "name", path + ".name", &name)) return e;
  if (auto e = OptString(response, "id", path + ".id", &id)) return e;
  chat::Part p;
  p.kind = chat::PartKind::kToolResult;
  p.name = std::string(name);
  auto& open = open_calls_[p.name];
  if (!id.empty()) {
    p.id = std::string(id);
    // Answered: no longer open, whatever name the response gives.
    for (auto& [name, ids] : open_calls_) {
      auto it = std::find(ids.begin(), ids.end(), p.id);
      if (it != ids.end()) {
        ids.erase(it);
        break;
      }
    }
  } else if (!open.empty()) {
    p.id = open.front();  // the oldest unanswered call of that name
    open.pop_front();
  } else {
    p.id = NewCallId();
  }
  chat::Part text;
  text.kind = chat::PartKind::kText;
  text.text = "{}";
  element v;
  if (!response["response"].get(v) && !v.is_null()) {
    object obj;
    if (v.get_object().get(obj)) return WrongType(path + ".response", "an object");
    text.text = simdjson::minify(v);
    // {"error": ...} alone is how Gemini marks a failed call.
    element err;
    p.is_error = obj.size() == 1 && !obj["error"].get(err);
  }
  p.content.push_back(std::move(text));
  // Gemini 3 multimodal results: functionResponse.parts[].inlineData.
  array parts;
  if (!response["parts"].get(v) && !v.get_array().get(parts)) {
    for (element item : parts) {
      std::string_view mime, data;
      element blob;
      if (item["inlineData"].get(blob)) continue;
      if (blob["mimeType"].get_string().get(mime)) mime = {};
      if (blob["data"].get_string().get(data)) data = {};
      if (!mime.starts_with("image/") || data.empty()) continue;
      chat::Part image;
      image.kind = chat::PartKind::kImage;
      image.media_type = std::string(mime);
      image.data = std::string(data);
      p.content.push_back(std::move(image));
    }
  }
  results->parts.push_back(std::move(p));
  return std::nullopt;
}

std::optional<GatewayError> RequestParser::System(element system, chat::Request* out) {
  std::string_view text;
  if (!system.get_string().get(text)) {
    if (!text.empty()) out->system.push_back(TextPart(text));
    return std::nullopt;
  }
  object obj;
  if (system.get_object().get(obj)) return WrongType("systemInstruction", "an object");
  element v;
  array parts;
  if (obj["parts"].get(v) || v.is_null()) return std::nullopt;
  if (v.get_array().get(parts)) return WrongType("systemInstruction.parts", "an array");
  size_t i = 0;
  for (element part : parts) {
    const std::string path = Index("systemInstruction.parts", i++);
    object p;
    if (part.get_object().get(p)) return WrongType(path, "an object");
    text = {};
    if (auto e = OptString(p, "text", path + ".text", &text)) return e;
    if (!text.empty()) out->system.push_back(TextPart(text));
  }
  return std::nullopt;
}

std::optional<GatewayError> RequestParser::Tools(element tools_el, chat::Request* out) {
  array tools;
  if (tools_el.get_array().get(tools)) return WrongType("tools", "an array");
  size_t i = 0;
  for (element tool_el : tools) {
    const std::string path = Index("tools", i++);
    object tool;
    if (tool_el.get_object().get(tool)) return WrongType(path, "an object");
    for (auto field : tool) {
      if (field.key == "functionDeclarations") continue;
      return BadRequest("Tool '" + std::string(field.key.substr(0, 64)) + "' (" + path + "." +
                            std::string(field.key.substr(0, 64)) +
                            ") is not supported by this gateway; only functionDeclarations can be translated.",
                        path + "." + std::string(field.key.substr(0, 64)));
    }
    element v;
    array decls;
    if (tool["functionDeclarations"].get(v) || v.is_null()) continue;
    if (v.get_array().get(decls)) return WrongType(path + ".functionDeclarations", "an array");
    size_t j = 0;
    for (element decl_el : decls) {
      const std::string dpath = Index(path + ".functionDeclarations", j++);
      object decl;
      if (decl_el.get_object().get(decl)) return WrongType(dpath, "an object");
      chat::Tool t;
      std::string_view name, description;
      if (auto e = OptString(decl, "name", dpath + ".name", &name)) return e;
      if (name.empty()) return BadRequest("Missing required field '" + dpath + ".name'.", dpath + ".name");
      if (auto e = OptString(decl, "description", dpath + ".description", &description)) return e;
      t.name = std::string(name);
      t.description = std::string(description);
      element schema;
      if (!decl["parametersJsonSchema"].get(schema) && !schema.is_null()) {
        if (!schema.is_object()) return WrongType(dpath + ".parametersJsonSchema", "an object");
        t.parameters = simdjson::minify(schema);
      } else if (!decl["parameters"].get(schema) && !schema.is_null()) {
        if (!schema.is_object()) return WrongType(dpath + ".parameters", "an object");
        t.parameters = SchemaText(schema);
      }
      out->tools.push_back(std::move(t));
    }
  }
  return std::nullopt;
}

std::optional<GatewayError> RequestParser::ToolConfig(element config_el, chat::Request* out) {
  object config;
  if (config_el.get_object().get(config)) return WrongType("toolConfig", "an object");
  element v;
  object fcc;
  if (config["functionCallingConfig"].get(v) || v.is_null()) return std::nullopt;
  if (v.get_object().get(fcc)) return WrongType("toolConfig.functionCallingConfig", "an object");
  const std::string path = "toolConfig.functionCallingConfig";
  std::string_view mode;
  if (auto e = OptString(fcc, "mode", path + ".mode", &mode)) return e;
  std::vector<std::string> allowed;
  array names;
  if (!fcc["allowedFunctionNames"].get(v) && !v.is_null()) {
    if (v.get_array().get(names)) return WrongType(path + ".allowedFunctionNames", "an array");
    for (element n : names) {
      std::string_view name;
      if (n.get_string().get(name)) return WrongType(path + ".allowedFunctionNames[]", "a string");
      allowed.emplace_back(name);
    }
  }
  if (mode == "AUTO" || mode == "VALIDATED") {
    out->tool_choice.mode = chat::ToolChoiceMode::kAuto;
  } else if (mode == "ANY") {
    out->tool_choice.mode = chat::ToolChoiceMode::kRequired;
    if (allowed.size() == 1) {
      out->tool_choice.mode = chat::ToolChoiceMode::kNamed;
      out->tool_choice.name = allowed.front();
    }
  } else if (mode == "NONE") {
    out->tool_choice.mode = chat::ToolChoiceMode::kNone;
  } else if (!mode.empty() && mode != "MODE_UNSPECIFIED") {
    return BadRequest("Invalid value for '" + path + ".mode': expected AUTO, ANY, NONE or VALIDATED.", path + ".mode");
  }
  return std::nullopt;
}

std::optional<GatewayError> RequestParser::GenerationConfig(element config_el, chat::Request* out) {
  object gc;
  if (config_el.get_object().get(gc)) return WrongType("generationConfig", "an object");
  const std::string p = "generationConfig.";
  if (auto e = OptDouble(gc, "temperature", p + "temperature", &out->temperature)) return e;
  if (auto e = OptDouble(gc, "topP", p + "topP", &out->top_p)) return e;
  if (auto e = OptInt(gc, "topK", p + "topK", &out->top_k)) return e;
  if (auto e = OptInt(gc, "maxOutputTokens", p + "maxOutputTokens", &out->max_tokens)) return e;
  if (auto e = OptInt(gc, "candidateCount", p + "candidateCount", &out->n)) return e;
  if (auto e = OptDouble(gc, "presencePenalty", p + "presencePenalty", &out->presence_penalty)) return e;
  if (auto e = OptDouble(gc, "frequencyPenalty", p + "frequencyPenalty", &out->frequency_penalty)) return e;
  if (auto e = OptInt(gc, "seed", p + "seed", &out->seed)) return e;
  element v;
  array stops;
  if (!gc["stopSequences"].get(v) && !v.is_null()) {
    if (v.get_array().get(stops)) return WrongType(p + "stopSequences", "an array");
    for (element s : stops) {
      std::string_view stop;
      if (s.get_string().get(stop)) return WrongType(p + "stopSequences[]", "a string");
      out->stop.emplace_back(stop);
    }
  }
  std::string_view mime;
  if (auto e = OptString(gc, "responseMimeType", p + "responseMimeType", &mime)) return e;
  if (mime == "application/json") {
    element schema;
    if ((!gc["responseJsonSchema"].get(schema) && !schema.is_null()) ||
        (!gc["_responseJsonSchema"].get(schema) && !schema.is_null())) {
      out->response_format.type = chat::ResponseFormat::Type::kJsonSchema;
      out->response_format.schema = simdjson::minify(schema);
    } else if (!gc["responseSchema"].get(schema) && !schema.is_null()) {
      out->response_format.type = chat::ResponseFormat::Type::kJsonSchema;
      out->response_format.schema = SchemaText(schema);
    } else {
      out->response_format.type = chat::ResponseFormat::Type::kJsonObject;
    }
    if (out->response_format.type == chat::ResponseFormat::Type::kJsonSchema) out->response_format.name = "response";
  }
  // The client did not ask for thoughts unless thinkingConfig says so.
  out->reasoning.include_thoughts = false;
  if (!gc["thinkingConfig"].get(v) && !v.is_null()) {
    if (auto e = Thinking(v, out)) return e;
  }
  return std::nullopt;
}

std::optional<GatewayError> RequestParser::Thinking(element config_el, chat::Request* out) {
  object tc;
  const std::string p = "generationConfig.thinkingConfig";
  if (config_el.get_object().get(tc)) return WrongType(p, "an object");
  if (auto e = OptBool(tc, "includeThoughts", p + ".includeThoughts", &out->reasoning.include_thoughts)) return e;
  std::optional<int64_t> budget;
  if (auto e = OptInt(tc, "thinkingBudget", p + ".thinkingBudget", &budget)) return e;
  if (budget) {
    if (*budget == 0) {
      out->reasoning.enabled = false;
    } else {
      out->reasoning.enabled = true;
      if (*budget > 0) out->reasoning.budget_tokens = *budget;  // -1: dynamic, no budget
    }
  }
  std::string_view level;
  if (auto e = OptString(tc, "thinkingLevel", p + ".thinkingLevel", &level)) return e;
  std::string effort = Lower(level);
  if (effort == "minimal" || effort == "low" || effort == "medium" || effort == "high") {
    out->reasoning.effort = effort;
    if (!out->reasoning.enabled) out->reasoning.enabled = true;
  } else if (!effort.empty() && effort != "thinking_level_unspecified") {
    return BadRequest("Invalid value for '" + p + ".thinkingLevel': expected MINIMAL, LOW, MEDIUM or HIGH.",
                      p + ".thinkingLevel");
  }
  return std::nullopt;
}

// The text of a Content's text parts, joined with "\n".
std::optional<GatewayError> ContentText(element content_el, const std::string& path, std::string* out) {
  object content;
  if (content_el.get_object().get(content)) return WrongType(path, "an object");
  element v;
  array parts;
  if (content["parts"].get(v) || v.get_array().get(parts)) {
    return BadRequest("Missing required field '" + path + ".parts'.", path + ".parts");
  }
  bool any = false;
  size_t i = 0;
  for (element part_el : parts) {
    const std::string ppath = Index(path + ".parts", i++);
    object part;
    if (part_el.get_object().get(part)) return WrongType(ppath, "an object");
    std::string_view text;
    element t;
    if (part["text"].get(t)) {
      return BadRequest("Only text parts can be embedded ('" + ppath + "' has no text).", ppath);
    }
    if (t.get_string().get(text)) return WrongType(ppath + ".text", "a string");
    if (any) out->push_back('\n');
    out->append(text);
    any = true;
  }
  if (!any) return BadRequest("'" + path + ".parts' must contain a text part.", path + ".parts");
  return std::nullopt;
}

// taskType and outputDimensionality of one embed request.
std::optional<GatewayError> EmbedOptions(object req, const std::string& prefix, chat::EmbedRequest* out) {
  std::string_view task;
  if (auto e = OptString(req, "taskType", prefix + "taskType", &task)) return e;
  if (out->task_type.empty()) out->task_type = std::string(task);
  std::optional<int64_t> dims;
  if (auto e = OptInt(req, "outputDimensionality", prefix + "outputDimensionality", &dims)) return e;
  if (dims && !out->dimensions) out->dimensions = dims;
  return std::nullopt;
}

}  // namespace

std::optional<GatewayError> GeminiFrontDoor::ParseChat(const InternalRequest& request, chat::Request* out) const {
  element doc;
  object root;
  if (ClientParser().parse(request.raw_body.data(), request.raw_body.size()).get(doc) || doc.get_object().get(root)) {
    return BadRequest("Request body must be a JSON object.", "");
  }
  if (request.operation == Operation::kCountTokens) {
    element v, contents;
    object inner;
    if (root["contents"].get(contents) && !root["generateContentRequest"].get(v) && !v.get_object().get(inner)) {
      root = inner;
    }
  }
  out->model = request.model;
  out->stream = request.stream;
  out->reasoning.include_thoughts = false;
  RequestParser parser;
  return parser.Parse(root, out);
}

std::optional<GatewayError> GeminiFrontDoor::ParseEmbed(const InternalRequest& request, chat::EmbedRequest* out) const {
  element doc;
  object root;
  if (ClientParser().parse(request.raw_body.data(), request.raw_body.size()).get(doc) || doc.get_object().get(root)) {
    return BadRequest("Request body must be a JSON object.", "");
  }
  out->model = request.model;
  element v;
  if (request.shape == kShapeBatchEmbed) {
    array requests;
    if (root["requests"].get(v)) return BadRequest("Missing required field 'requests'.", "requests");
    if (v.get_array().get(requests)) return WrongType("requests", "an array");
    size_t i = 0;
    for (element req_el : requests) {
      const std::string path = Index("requests", i++);
      object req;
      if (req_el.get_object().get(req)) return WrongType(path, "an object");
      element content;
      if (req["content"].get(content)) {
        return BadRequest("Missing required field '" + path + ".content'.", path + ".content");
      }
      std::string text;
      if (auto e = ContentText(content, path + ".content", &text)) return e;
      out->inputs.push_back(std::move(text));
      if (auto e = EmbedOptions(req, path + ".", out)) return e;
    }
    if (out->inputs.empty()) return BadRequest("'requests' must not be empty.", "requests");
    return std::nullopt;
  }
  if (root["content"].get(v)) return BadRequest("Missing required field 'content'.", "content");
  std::string text;
  if (auto e = ContentText(v, "content", &text)) return e;
  out->inputs.push_back(std::move(text));
  return EmbedOptions(root, "", out);
}

}  // namespace sy::gemini
