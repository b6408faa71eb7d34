// Ollama front door, requests: Peek, ParseChat (chat and generate shapes),
// ParseEmbed and LoadReply.
#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <string>

#include "common/json_writer.h"
#include "core/ids.h"
#include "frontdoor/ollama/ollama_frontdoor.h"
#include "frontdoor/ollama/ollama_wire.h"
#include "frontdoor/openai/json_scan.h"

namespace sy::ollama {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

chat::Part MakePart(chat::PartKind kind, std::string text) {
  chat::Part p;
  p.kind = kind;
  p.text = std::move(text);
  return p;
}

GatewayError BadRequest(std::string message, std::string param = {}) {
  GatewayError e = MakeError(ErrorCode::kBadRequest, std::move(message));
  if (!param.empty()) e.param = std::move(param);
  return e;
}

// One parser for request bodies, bounded to kMaxJsonDepth (simdjson keeps
// the bound through later capacity bumps). Documents parsed with it are valid
// until its next parse: Peek, ParseChat, ParseEmbed and LoadReply each parse
// once and never call one another.
simdjson::dom::parser& RequestParser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(64 * 1024, kMaxJsonDepth);  // on failure parse() allocates as needed
    (void)err;
    return p;
  }();
  return parser;
}

std::optional<GatewayError> ParseBody(std::string_view body, object* out) {
  element doc;
  if (auto err = RequestParser().parse(body.data(), body.size()).get(doc); err) {
    if (body.empty()) return BadRequest("Request body is empty; expected a JSON object.");
    if (err == simdjson::DEPTH_ERROR) {
      return BadRequest("Request body is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels.");
    }
    return BadRequest(std::string("Request body is not valid JSON: ") + simdjson::error_message(err));
  }
  if (doc.get_object().get(*out)) return BadRequest("Request body must be a JSON object.");
  return std::nullopt;
}

// The member `key` when present and not null.
bool Member(object obj, std::string_view key, element* out) { return !obj[key].get(*out) && !out->is_null(); }

std::optional<GatewayError> OptString(object obj, std::string_view key, const std::string& param, std::string* out) {
  element e;
  if (!Member(obj, key, &e)) return std::nullopt;
  std::string_view s;
  if (e.get_string().get(s)) return BadRequest("Invalid type for '" + param + "': expected a string.", param);
  *out = std::string(s);
  return std::nullopt;
}

std::optional<GatewayError> Number(element e, const std::string& param, double* out) {
  if (e.get_double().get(*out) || !std::isfinite(*out)) {
    return BadRequest("Invalid type for '" + param + "': expected a number.", param);
  }
  return std::nullopt;
}

// An integer; a number with a fraction is truncated, as Ollama does.
std::optional<GatewayError> Integer(element e, const std::string& param, int64_t* out) {
  if (!e.get_int64().get(*out)) return std::nullopt;
  double d = 0;
  if (e.get_double().get(d) || !std::isfinite(d) || d < -9.2e18 || d > 9.2e18) {
    return BadRequest("Invalid type for '" + param + "': expected an integer.", param);
  }
  *out = static_cast<int64_t>(d);
  return std::nullopt;
}

// Base64 image data from a client: raw base64, or a data: URL (lenient).
std::optional<GatewayError> ParseImage(element e, const std::string& param, chat::Part* out) {
  std::string_view s;
  if (e.get_string().get(s)) return BadRequest("Invalid type for '" + param + "': expected a base64 string.", param);
  std::string_view media;
  if (s.starts_with("data:")) {
    size_t comma = s.find(',');
    size_t semi = s.find(";base64");
    if (comma == std::string_view::npos || semi == std::string_view::npos || semi > comma) {
      return BadRequest("'" + param + "' must be base64 image data.", param);
    }
    media = s.substr(5, semi - 5);
    s = s.substr(comma + 1);
  }
  std::string_view sniffed = wire::SniffImageType(s);
  if (sniffed.empty()) sniffed = media.starts_with("image/") ? media : std::string_view();
  if (sniffed.empty()) {
    return BadRequest("'" + param + "' is not a base64 PNG, JPEG, GIF or WebP image.", param);
  }
  out->kind = chat::PartKind::kImage;
  out->media_type = std::string(sniffed);
  out->data = std::string(s);
  return std::nullopt;
}

std::optional<GatewayError> ParseImages(object obj, const std::string& where, std::vector<chat::Part>* out) {
  element e;
  if (!Member(obj, "images", &e)) return std::nullopt;
  array images;
  const std::string param = where.empty() ? "images" : where + ".images";
  if (e.get_array().get(images)) return BadRequest("Invalid type for '" + param + "': expected an array.", param);
  size_t j = 0;
  for (element img : images) {
    chat::Part part;
    if (auto err = ParseImage(img, param + "[" + std::to_string(j++) + "]", &part)) return err;
    out->push_back(std::move(part));
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- options

std::optional<GatewayError> ParseOptions(object body, chat::Request* out) {
  element e;
  if (!Member(body, "options", &e)) return std::nullopt;
  object opts;
  if (e.get_object().get(opts)) return BadRequest("Invalid type for 'options': expected an object.", "options");
  element v;
  double d = 0;
  int64_t n = 0;
  if (Member(opts, "temperature", &v)) {
    if (auto err = Number(v, "options.temperature", &d)) return err;
    out->temperature = d;
  }
  if (Member(opts, "top_p", &v)) {
    if (auto err = Number(v, "options.top_p", &d)) return err;
    out->top_p = d;
  }
  if (Member(opts, "top_k", &v)) {
    if (auto err = Integer(v, "options.top_k", &n)) return err;
    out->top_k = n;
  }
  if (Member(opts, "num_predict", &v)) {
    if (auto err = Integer(v, "options.num_predict", &n)) return err;
    if (n > 0) out->max_tokens = n;  // -1 (infinite), -2 (fill the context) and 0: no limit
  }
  if (Member(opts, "seed", &v)) {
    if (auto err = Integer(v, "options.seed", &n)) return err;
    out->seed = n;
  }
  if (Member(opts, "min_p", &v)) {
    if (auto err = Number(v, "options.min_p", &d)) return err;
    out->min_p = d;
  }
  if (Member(opts, "repeat_penalty", &v)) {
    if (auto err = Number(v, "options.repeat_penalty", &d)) return err;
    out->repeat_penalty = d;
  }
  if (Member(opts, "frequency_penalty", &v)) {
    if (auto err = Number(v, "options.frequency_penalty", &d)) return err;
    out->frequency_penalty = d;
  }
  if (Member(opts, "presence_penalty", &v)) {
    if (auto err = Number(v, "options.presence_penalty", &d)) return err;
    out->presence_penalty = d;
  }
  if (Member(opts, "stop", &v)) {
    std::string_view s;
    array stops;
    if (!v.get_string().get(s)) {
      out->stop.emplace_back(s);
    } else if (!v.get_array().get(stops)) {
      for (element stop : stops) {
        if (stop.get_string().get(s)) {
          return BadRequest("Invalid type for 'options.stop': expected strings.", "options.stop");
        }
        out->stop.emplace_back(s);
      }
    } else {
      return BadRequest("Invalid type for 'options.stop': expected an array of strings.", "options.stop");
    }
  }
  return std::nullopt;
}

std::optional<GatewayError> ParseFormat(object body, chat::Request* out) {
  element e;
  if (!Member(body, "format", &e)) return std::nullopt;
  std::string_view s;
  if (!e.get_string().get(s)) {
    if (s.empty()) return std::nullopt;
    if (s != "json") return BadRequest("'format' must be \"json\" or a JSON schema object.", "format");
    out->response_format.type = chat::ResponseFormat::Type::kJsonObject;
    return std::nullopt;
  }
  if (!e.is_object()) return BadRequest("'format' must be \"json\" or a JSON schema object.", "format");
  out->response_format.type = chat::ResponseFormat::Type::kJsonSchema;
  out->response_format.name = "response";
  out->response_format.schema = simdjson::minify(e);
  return std::nullopt;
}

std::optional<GatewayError> ParseThink(object body, chat::Request* out) {
  element e;
  if (!Member(body, "think", &e)) return std::nullopt;
  bool on = false;
  if (!e.get_bool().get(on)) {
    out->reasoning.enabled = on;
    return std::nullopt;
  }
  std::string_view s;
  if (!e.get_string().get(s) && (s == "low" || s == "medium" || s == "high" || s == "max")) {
    out->reasoning.enabled = true;
    out->reasoning.effort = s == "max" ? "high" : std::string(s);  // the internal scale tops out at high
    return std::nullopt;
  }
  return BadRequest("'think' must be true, false, \"low\", \"medium\" or \"high\".", "think");
}

// ---------------------------------------------------------------- chat

std::optional<GatewayError> ParseTools(object body, chat::Request* out) {
  element e;
  if (!Member(body, "tools", &e)) return std::nullopt;
  array tools;
  if (e.get_array().get(tools)) return BadRequest("Invalid type for 'tools': expected an array.", "tools");
  size_t i = 0;
  for (element t : tools) {
    const std::string param = "tools[" + std::to_string(i++) + "]";
    object tool;
    if (t.get_object().get(tool)) return BadRequest("'" + param + "' must be an object.", param);
    std::string type = "function";
    if (auto err = OptString(tool, "type", param + ".type", &type)) return err;
    if (type != "function") return BadRequest("'" + param + ".type' must be \"function\".", param + ".type");
    object fn;
    if (tool["function"].get_object().get(fn)) {
      return BadRequest("'" + param + ".function' must be an object.", param + ".function");
    }
    chat::Tool out_tool;
    if (auto err = OptString(fn, "name", param + ".function.name", &out_tool.name)) return err;
    if (out_tool.name.empty()) {
      return BadRequest("'" + param + ".function.name' must be a non-empty string.", param + ".function.name");
    }
    if (auto err = OptString(fn, "description", param + ".function.description", &out_tool.description)) return err;
    element params;
    if (Member(fn, "parameters", &params)) {
      if (!params.is_object()) {
        return BadRequest("'" + param + ".function.parameters' must be a JSON schema object.",
                          param + ".function.parameters");
      }
      out_tool.parameters = simdjson::minify(params);
    }
    out->tools.push_back(std::move(out_tool));
  }
  return std::nullopt;
}

struct CallRef {
  std::string id;
  std::string name;
  size_t turn = 0;  // index of the assistant message that made it
  bool answered = false;
};

// The call a tool message without tool_call_id answers: the first unanswered
// call with that name in the latest tool-call turn (parallel results come in
// call order), else the latest unanswered one with that name, else the first
// unanswered call of the latest turn, else the last call.
CallRef* MatchCall(std::vector<CallRef>& calls, std::string_view name) {
  if (calls.empty()) return nullptr;
  const size_t last_turn = calls.back().turn;
  if (!name.empty()) {
    for (auto& c : calls) {
      if (c.turn == last_turn && !c.answered && c.name == name) return &c;
    }
    for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
      if (!it->answered && it->name == name) return &*it;
    }
  }
  for (auto& c : calls) {
    if (c.turn == last_turn && !c.answered) return &c;
  }
  return &calls.back();
}

std::optional<GatewayError> ParseToolCalls(object msg, const std::string& where, size_t turn,
                                           std::vector<CallRef>* calls, std::vector<chat::Part>* parts) {
  element e;
  if (!Member(msg, "tool_calls", &e)) return std::nullopt;
  array list;
  const std::string param = where + ".tool_calls";
  if (e.get_array().get(list)) return BadRequest("Invalid type for '" + param + "': expected an array.", param);
  size_t j = 0;
  for (element c : list) {
    const std::string p = param + "[" + std::to_string(j++) + "]";
    object call;
    if (c.get_object().get(call)) return BadRequest("'" + p + "' must be an object.", p);
    object fn;
    if (call["function"].get_object().get(fn)) {
      return BadRequest("'" + p + ".function' must be an object.", p + ".function");
    }
    chat::Part part;
    part.kind = chat::PartKind::kToolCall;
    if (auto err = OptString(call, "id", p + ".id", &part.id)) return err;
    if (part.id.empty()) part.id = chat::NewId("call_");
    if (auto err = OptString(fn, "name", p + ".function.name", &part.name)) return err;
    if (part.name.empty()) {
      return BadRequest("'" + p + ".function.name' must be a non-empty string.", p + ".function.name");
    }
    element args;
    part.arguments = "{}";
    if (Member(fn, "arguments", &args)) {
      std::string_view text;
      if (args.is_object()) {
        part.arguments = simdjson::minify(args);
      } else if (!args.get_string().get(text)) {  // a stringified object, as OpenAI sends it
        if (!text.empty() && !wire::MinifyObject(text, &part.arguments)) {
          return BadRequest("'" + p + ".function.arguments' must be a JSON object.", p + ".function.arguments");
        }
      } else {
        return BadRequest("'" + p + ".function.arguments' must be a JSON object.", p + ".function.arguments");
      }
    }
    calls->push_back(CallRef{part.id, part.name, turn, false});
    parts->push_back(std::move(part));
  }
  return std::nullopt;
}

std::optional<GatewayError> ParseMessages(object body, chat::Request* out) {
  array messages;
  if (body["messages"].get_array().get(messages)) {
    return BadRequest("Invalid type for 'messages': expected an array.", "messages");
  }
  if (messages.size() == 0) {
    return BadRequest("'messages' must not be empty (an empty chat only loads the model).", "messages");
  }
  std::vector<CallRef> calls;
  size_t i = 0;
  for (element m : messages) {
    const size_t index = i++;
    const std::string where = "messages[" + std::to_string(index) + "]";
    object msg;
    if (m.get_object().get(msg)) return BadRequest("'" + where + "' must be an object.", where);
    std::string role;
    if (auto err = OptString(msg, "role", where + ".role", &role)) return err;
    for (char& c : role) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);  // Ollama lower-cases
    std::string content;
    if (auto err = OptString(msg, "content", where + ".content", &content)) return err;
    std::vector<chat::Part> images;
    if (auto err = ParseImages(msg, where, &images)) return err;

    chat::Message out_msg;
    if (role == "system") {
      if (!images.empty()) {
        return BadRequest("'" + where + ".images': a system message cannot carry images.", where + ".images");
      }
      if (!content.empty()) out->system.push_back(MakePart(chat::PartKind::kText, std::move(content)));
      continue;
    }
    if (role == "user") {
      out_msg.role = chat::Role::kUser;
      if (!content.empty() || images.empty()) {
        out_msg.parts.push_back(MakePart(chat::PartKind::kText, std::move(content)));
      }
      for (auto& img : images) out_msg.parts.push_back(std::move(img));
    } else if (role == "assistant") {
      out_msg.role = chat::Role::kAssistant;
      if (!images.empty()) {
        return BadRequest("'" + where + ".images': an assistant message cannot carry images.", where + ".images");
      }
      std::string thinking;
      if (auto err = OptString(msg, "thinking", where + ".thinking", &thinking)) return err;
      if (!thinking.empty()) {
        out_msg.parts.push_back(MakePart(chat::PartKind::kThinking, std::move(thinking)));
      }
      if (!content.empty()) out_msg.parts.push_back(MakePart(chat::PartKind::kText, std::move(content)));
      if (auto err = ParseToolCalls(msg, where, index, &calls, &out_msg.parts)) return err;
      if (out_msg.parts.empty()) out_msg.parts.push_back(chat::Part{});
    } else if (role == "tool") {
      out_msg.role = chat::Role::kTool;
      std::string call_id;
      std::string tool_name;
      if (auto err = OptString(msg, "tool_call_id", where + ".tool_call_id", &call_id)) return err;
      if (auto err = OptString(msg, "tool_name", where + ".tool_name", &tool_name)) return err;
      chat::Part result;
      result.kind = chat::PartKind::kToolResult;
      result.name = tool_name;
      if (!call_id.empty()) {
        result.id = call_id;
        for (auto& c : calls) {
          if (c.id == call_id) {
            c.answered = true;
            if (result.name.empty()) result.name = c.name;
          }
        }
      } else {
        CallRef* call = MatchCall(calls, tool_name);
        if (call == nullptr) {
          return BadRequest("'" + where + "': a tool message must answer a tool call of an earlier assistant message.",
                            where);
        }
        call->answered = true;
        result.id = call->id;
        if (result.name.empty()) result.name = call->name;
      }
      if (!content.empty()) result.content.push_back(MakePart(chat::PartKind::kText, std::move(content)));
      for (auto& img : images) result.content.push_back(std::move(img));
      out_msg.parts.push_back(std::move(result));
    } else {
      return BadRequest("'" + where + ".role' must be one of system, user, assistant, tool; got '" + role + "'.",
                        where + ".role");
    }
    out->messages.push_back(std::move(out_msg));
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- generate

std::optional<GatewayError> ParseGenerate(object body, chat::Request* out) {
  // Fields no other protocol has. Go clients send them empty ("", false) on
  // every request, so only a value that means something is refused.
  std::string text;
  if (auto err = OptString(body, "suffix", "suffix", &text)) return err;
  if (!text.empty()) {
    return BadRequest("'suffix' (fill-in-the-middle) cannot be translated to this model's provider.", "suffix");
  }
  if (auto err = OptString(body, "template", "template", &text)) return err;
  if (!text.empty()) return BadRequest("'template' cannot be translated to this model's provider.", "template");
  element e;
  bool raw = false;
  if (Member(body, "raw", &e) && (e.get_bool().get(raw) || raw)) {
    return BadRequest("'raw' prompts cannot be translated to this model's provider.", "raw");
  }
  array context;
  if (Member(body, "context", &e) && (e.get_array().get(context) || context.size() != 0)) {
    return BadRequest("'context' cannot be translated to this model's provider; send the conversation to /api/chat.",
                      "context");
  }

  std::string system;
  if (auto err = OptString(body, "system", "system", &system)) return err;
  if (!system.empty()) out->system.push_back(MakePart(chat::PartKind::kText, std::move(system)));
  std::string prompt;
  if (auto err = OptString(body, "prompt", "prompt", &prompt)) return err;
  std::vector<chat::Part> images;
  if (auto err = ParseImages(body, "", &images)) return err;
  if (prompt.empty() && images.empty()) {
    return BadRequest("'prompt' must not be empty (an empty prompt only loads the model).", "prompt");
  }
  chat::Message msg;
  msg.role = chat::Role::kUser;
  if (!prompt.empty()) msg.parts.push_back(MakePart(chat::PartKind::kText, std::move(prompt)));
  for (auto& img : images) msg.parts.push_back(std::move(img));
  out->messages.push_back(std::move(msg));
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------- Peek

std::variant<InternalRequest, GatewayError> OllamaFrontDoor::Peek(FrontDoorInput input) const {
  const int shape = input.shape;
  if (shape != kShapeChat && shape != kShapeGenerate && shape != kShapeEmbed && shape != kShapeEmbeddings) {
    return MakeError(ErrorCode::kInternal, "Unknown Ollama endpoint.", "ollama Peek: shape " + std::to_string(shape));
  }
  const bool is_chat = shape == kShapeChat || shape == kShapeGenerate;
  object obj;
  if (auto err = ParseBody(input.body, &obj)) return *err;

  // The gateway routes on "model" and frames on "stream": with a second
  // "model" an upstream that keeps the last one would serve another model
  // than the one routed, authorised and billed.
  int model_keys = 0;
  int stream_keys = 0;
  for (auto field : obj) {
    if (field.key == "model") ++model_keys;
    if (field.key == "stream") ++stream_keys;
  }
  if (model_keys > 1) return BadRequest("Duplicate key 'model' in the request body.", "model");
  if (is_chat && stream_keys > 1) return BadRequest("Duplicate key 'stream' in the request body.", "stream");

  InternalRequest req;
  req.operation = is_chat ? Operation::kChatCompletions : Operation::kEmbeddings;
  req.wire = WireProtocol::kOllama;
  req.shape = shape;
  req.received_ns = now_ns_();

  element e;
  if (obj["model"].get(e)) return BadRequest("Missing required parameter: 'model'.", "model");
  std::string_view model;
  if (e.get_string().get(model)) return BadRequest("Invalid type for 'model': expected a string.", "model");
  if (model.empty()) return BadRequest("'model' must not be empty.", "model");
  req.model = std::string(model);

  if (is_chat) {
    req.stream = true;  // Ollama's default, unlike OpenAI and Anthropic
    if (Member(obj, "stream", &e)) {
      bool value = true;
      if (e.get_bool().get(value)) return BadRequest("Invalid type for 'stream': expected a boolean.", "stream");
      req.stream = value;
    }
  }

  switch (shape) {
    case kShapeChat: {
      if (obj["messages"].get(e)) return BadRequest("Missing required parameter: 'messages'.", "messages");
      if (!e.is_array()) return BadRequest("Invalid type for 'messages': expected an array.", "messages");
      break;
    }
    case kShapeGenerate:
    case kShapeEmbeddings: {
      if (obj["prompt"].get(e)) return BadRequest("Missing required parameter: 'prompt'.", "prompt");
      if (!e.is_string()) return BadRequest("Invalid type for 'prompt': expected a string.", "prompt");
      break;
    }
    case kShapeEmbed: {
      if (obj["input"].get(e)) return BadRequest("Missing required parameter: 'input'.", "input");
      if (!e.is_string() && !e.is_array()) {
        return BadRequest("Invalid type for 'input': expected a string or an array of strings.", "input");
      }
      break;
    }
  }

  auto span = json::FindTopLevelValue(input.body, "model");
  if (!span) return BadRequest("Could not locate 'model' in the request body.", "model");
  req.model_span = *span;
  req.raw_body = std::move(input.body);
  return req;
}

// ---------------------------------------------------------------- ParseChat

std::optional<GatewayError> OllamaFrontDoor::ParseChat(const InternalRequest& request, chat::Request* out) const {
  if (request.shape != kShapeChat && request.shape != kShapeGenerate) {
    return BadRequest("This endpoint does not take chat requests.");
  }
  object body;
  if (auto err = ParseBody(request.raw_body, &body)) return err;
  *out = chat::Request{};
  out->model = request.model;
  out->stream = request.stream;
  out->include_usage = true;  // the final line always carries the counts
  if (request.shape == kShapeChat) {
    if (auto err = ParseMessages(body, out)) return err;
    if (auto err = ParseTools(body, out)) return err;
  } else {
    if (auto err = ParseGenerate(body, out)) return err;
  }
  if (auto err = ParseFormat(body, out)) return err;
  if (auto err = ParseOptions(body, out)) return err;
  if (auto err = ParseThink(body, out)) return err;
  return std::nullopt;
}

// ---------------------------------------------------------------- ParseEmbed

std::optional<GatewayError> OllamaFrontDoor::ParseEmbed(const InternalRequest& request, chat::EmbedRequest* out) const {
  if (request.shape != kShapeEmbed && request.shape != kShapeEmbeddings) {
    return BadRequest("This endpoint does not take embedding requests.");
  }
  object body;
  if (auto err = ParseBody(request.raw_body, &body)) return err;
  *out = chat::EmbedRequest{};
  out->model = request.model;
  if (request.shape == kShapeEmbeddings) {
    std::string prompt;
    if (auto err = OptString(body, "prompt", "prompt", &prompt)) return err;
    if (prompt.empty()) return BadRequest("'prompt' must not be empty.", "prompt");
    out->inputs.push_back(std::move(prompt));
    return std::nullopt;
  }
  element e;
  std::string_view s;
  array inputs;
  if (!Member(body, "input", &e)) return BadRequest("Missing required parameter: 'input'.", "input");
  if (!e.get_string().get(s)) {
    if (s.empty()) return BadRequest("'input' must not be empty.", "input");
    out->inputs.emplace_back(s);
  } else if (!e.get_array().get(inputs)) {
    if (inputs.size() == 0) return BadRequest("'input' must not be empty.", "input");
    size_t i = 0;
    for (element item : inputs) {
      if (item.get_string().get(s)) {
        const std::string param = "input[" + std::to_string(i) + "]";
        return BadRequest("Invalid type for '" + param + "': expected a string.", param);
      }
      ++i;
      out->inputs.emplace_back(s);
    }
  } else {
    return BadRequest("Invalid type for 'input': expected a string or an array of strings.", "input");
  }
  if (Member(body, "dimensions", &e)) {
    int64_t n = 0;
    if (auto err = Integer(e, "dimensions", &n)) return err;
    if (n <= 0) return BadRequest("'dimensions' must be a positive integer.", "dimensions");
    out->dimensions = n;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- LoadReply

std::optional<std::string> OllamaFrontDoor::LoadReply(const InternalRequest& request) const {
  if (request.shape != kShapeChat && request.shape != kShapeGenerate) return std::nullopt;
  object body;
  if (ParseBody(request.raw_body, &body)) return std::nullopt;
  element e;
  if (request.shape == kShapeChat) {
    array messages;
    if (body["messages"].get_array().get(messages) || messages.size() != 0) return std::nullopt;
  } else {
    std::string_view prompt;
    if (body["prompt"].get_string().get(prompt) || !prompt.empty()) return std::nullopt;
    array images;
    if (Member(body, "images", &e) && (e.get_array().get(images) || images.size() != 0)) return std::nullopt;
  }
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("model").String(request.model).Key("created_at").String(wire::FormatTimeNs(now_ns_()));
  if (request.shape == kShapeChat) {
    w.Key("message").BeginObject().Key("role").String("assistant").Key("content").String("").EndObject();
  } else {
    w.Key("response").String("");
  }
  // keep_alive 0 asks Ollama to unload the model instead.
  bool unload = false;
  if (Member(body, "keep_alive", &e)) {
    double d = 1;
    std::string_view s;
    unload = (!e.get_double().get(d) && d == 0) ||
             (!e.get_string().get(s) && (s == "0" || s == "0s" || s == "0m" || s == "0h"));
  }
  w.Key("done").Bool(true).Key("done_reason").String(unload ? "unload" : "load").EndObject();
  return out;
}

// ---------------------------------------------------------------- construction

OllamaFrontDoor::OllamaFrontDoor()
    : now_ns_([] {
        return static_cast<int64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count());
      }) {}

OllamaFrontDoor::OllamaFrontDoor(Clock now_ns) : now_ns_(std::move(now_ns)) {}

}  // namespace sy::ollama
