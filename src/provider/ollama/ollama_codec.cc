// Ollama upstream codec: requests, whole responses, embeddings, errors. The
// stream decoder is in ollama_stream_decoder.cc.
#include "provider/ollama/ollama_codec.h"

#include <simdjson.h>

#include <string>
#include <unordered_map>

#include "common/json_writer.h"
#include "core/ids.h"
#include "frontdoor/ollama/ollama_frontdoor.h"
#include "frontdoor/ollama/ollama_wire.h"
#include "provider/ollama/ollama_decode.h"

namespace sy::ollama {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr std::string_view kType = "ollama";

chat::Part MakePart(chat::PartKind kind, std::string text) {
  chat::Part p;
  p.kind = kind;
  p.text = std::move(text);
  return p;
}

chat::Usage MakeUsage(int64_t input_tokens) {
  chat::Usage u;
  u.input_tokens = input_tokens;
  return u;
}

GatewayError ProviderError(std::string message, std::string detail = {}) {
  return MakeError(ErrorCode::kProviderError, std::move(message), std::move(detail));
}

simdjson::dom::parser& UpstreamParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::string JoinText(const std::vector<chat::Part>& parts, chat::PartKind kind, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& p : parts) {
    if (p.kind != kind) continue;
    if (!first) out += sep;
    out += p.text;
    first = false;
  }
  return out;
}

// Base64 of an image part; nullopt (with *error set unless drop_params) when
// it only has a URL.
std::optional<std::string> ImageData(const chat::Part& part, const CodecOptions& options,
                                     std::optional<GatewayError>* error) {
  if (!part.data.empty()) return part.data;
  std::string_view url = part.url;
  if (url.starts_with("data:")) {
    size_t marker = url.find(";base64,");
    if (marker != std::string_view::npos) return std::string(url.substr(marker + 8));
  }
  if (!options.drop_params && !*error) {
    GatewayError e = MakeError(ErrorCode::kBadRequest,
                               "Ollama needs inline base64 images: an image given by URL cannot be sent to providers "
                               "of type 'ollama'. Send the image as base64 data, or set drop_params: true for this "
                               "provider or model to drop it.");
    e.param = "image_url";
    *error = std::move(e);
  }
  return std::nullopt;
}

void WriteImages(json::Writer& w, const std::vector<std::string>& images) {
  if (images.empty()) return;
  w.Key("images").BeginArray();
  for (const auto& i : images) w.String(i);
  w.EndArray();
}

// One role:"tool" message per result.
void WriteToolResult(json::Writer& w, const chat::Part& result,
                     const std::unordered_map<std::string, std::string>& names, const CodecOptions& options,
                     std::optional<GatewayError>* error) {
  std::vector<std::string> images;
  for (const auto& c : result.content) {
    if (c.kind != chat::PartKind::kImage) continue;
    if (auto data = ImageData(c, options, error)) images.push_back(std::move(*data));
  }
  std::string name = result.name;
  if (name.empty()) {
    auto it = names.find(result.id);
    if (it != names.end()) name = it->second;
  }
  w.BeginObject().Key("role").String("tool").Key("content").String(
      JoinText(result.content, chat::PartKind::kText, "\n"));
  WriteImages(w, images);
  if (!name.empty()) w.Key("tool_name").String(name);
  if (!result.id.empty()) w.Key("tool_call_id").String(result.id);
  w.EndObject();
}

void WriteMessages(json::Writer& w, const chat::Request& request, const CodecOptions& options,
                   std::optional<GatewayError>* error) {
  std::unordered_map<std::string, std::string> names;  // call id → function name
  for (const auto& m : request.messages) {
    for (const auto& p : m.parts) {
      if (p.kind == chat::PartKind::kToolCall) names[p.id] = p.name;
    }
  }
  w.Key("messages").BeginArray();
  std::string system = JoinText(request.system, chat::PartKind::kText, "\n\n");
  if (!system.empty()) w.BeginObject().Key("role").String("system").Key("content").String(system).EndObject();
  for (const auto& m : request.messages) {
    if (m.role == chat::Role::kAssistant) {
      w.BeginObject().Key("role").String("assistant");
      w.Key("content").String(JoinText(m.parts, chat::PartKind::kText, ""));
      std::string thinking = JoinText(m.parts, chat::PartKind::kThinking, "");
      if (!thinking.empty()) w.Key("thinking").String(thinking);
      int index = 0;
      for (const auto& p : m.parts) {
        if (p.kind != chat::PartKind::kToolCall) continue;
        if (index == 0) w.Key("tool_calls").BeginArray();
        w.BeginObject();
        if (!p.id.empty()) w.Key("id").String(p.id);
        w.Key("function").BeginObject().Key("index").Int(index++).Key("name").String(p.name);
        w.Key("arguments").Raw(wire::ArgumentsObject(p.arguments)).EndObject();
        w.EndObject();
      }
      if (index > 0) w.EndArray();
      w.EndObject();
      continue;
    }
    // User, tool (and a stray system) turns: tool results first, each its
    // own role:"tool" message, then the rest as one user message.
    for (const auto& p : m.parts) {
      if (p.kind == chat::PartKind::kToolResult) WriteToolResult(w, p, names, options, error);
    }
    bool has_text = false;
    std::vector<std::string> images;
    for (const auto& p : m.parts) {
      if (p.kind == chat::PartKind::kText) has_text = true;
      if (p.kind != chat::PartKind::kImage) continue;
      if (auto data = ImageData(p, options, error)) images.push_back(std::move(*data));
    }
    if (!has_text && images.empty()) continue;
    w.BeginObject().Key("role").String(m.role == chat::Role::kSystem ? "system" : "user");
    w.Key("content").String(JoinText(m.parts, chat::PartKind::kText, "\n"));
    WriteImages(w, images);
    w.EndObject();
  }
  w.EndArray();
}

void WriteOptions(json::Writer& w, const chat::Request& r) {
  bool any = r.temperature || r.top_p || r.top_k || r.max_tokens || r.seed || r.frequency_penalty ||
             r.presence_penalty || !r.stop.empty();
  if (!any) return;
  w.Key("options").BeginObject();
  if (r.temperature) w.Key("temperature").Double(*r.temperature);
  if (r.top_p) w.Key("top_p").Double(*r.top_p);
  if (r.top_k) w.Key("top_k").Int(*r.top_k);
  if (r.max_tokens) w.Key("num_predict").Int(*r.max_tokens);
  if (r.seed) w.Key("seed").Int(*r.seed);
  if (r.frequency_penalty) w.Key("frequency_penalty").Double(*r.frequency_penalty);
  if (r.presence_penalty) w.Key("presence_penalty").Double(*r.presence_penalty);
  if (!r.stop.empty()) {
    w.Key("stop").BeginArray();
    for (const auto& s : r.stop) w.String(s);
    w.EndArray();
  }
  w.EndObject();
}

void WriteThink(json::Writer& w, const chat::Reasoning& r) {
  if (r.enabled == false) {
    w.Key("think").Bool(false);
    return;
  }
  if (r.enabled != true && r.effort.empty() && !r.budget_tokens) return;  // not asked: the model's default
  if (r.effort == "low" || r.effort == "minimal") {
    w.Key("think").String("low");
  } else if (r.effort == "medium" || r.effort == "high") {
    w.Key("think").String(r.effort);
  } else {
    w.Key("think").Bool(true);
  }
}

// At most `n` bytes of `body`, not cutting a UTF-8 sequence.
std::string Prefix(std::string_view body, size_t n) {
  if (body.size() <= n) return std::string(body);
  while (n > 0 && (static_cast<unsigned char>(body[n]) & 0xC0) == 0x80) --n;
  return std::string(body.substr(0, n));
}

}  // namespace

namespace decode {

bool ToolCalls(element calls, std::vector<chat::Part>* out) {
  array list;
  if (calls.is_null()) return true;
  if (calls.get_array().get(list)) return false;
  for (element c : list) {
    object fn;
    std::string_view name;
    if (c["function"].get_object().get(fn) || fn["name"].get_string().get(name) || name.empty()) return false;
    chat::Part part;
    part.kind = chat::PartKind::kToolCall;
    part.name = std::string(name);
    std::string_view id;
    if (!c["id"].get_string().get(id) && !id.empty()) {
      part.id = std::string(id);
    } else {
      part.id = chat::NewId("call_");
    }
    element args;
    std::string_view text;
    if (fn["arguments"].get(args) || args.is_null()) {
      part.arguments = "{}";
    } else if (!args.get_string().get(text)) {
      part.arguments = text.empty() ? std::string("{}") : std::string(text);
    } else {
      part.arguments = simdjson::minify(args);
    }
    out->push_back(std::move(part));
  }
  return true;
}

chat::FinishReason DoneReason(std::string_view reason) {
  return reason == "length" ? chat::FinishReason::kLength : chat::FinishReason::kStop;
}

bool ErrorText(object obj, std::string* message) {
  element e;
  if (obj["error"].get(e) || e.is_null()) return false;
  std::string_view s;
  object o;
  if (!e.get_string().get(s)) {
    *message = std::string(s);
  } else if (!e.get_object().get(o) && !o["message"].get_string().get(s)) {
    *message = std::string(s);
  } else {
    *message = simdjson::minify(e);
  }
  if (message->empty()) *message = "Ollama reported an error.";
  return true;
}

std::optional<chat::Usage> Usage(object obj) {
  int64_t in = 0, out = 0;
  bool has_in = !obj["prompt_eval_count"].get_int64().get(in);
  bool has_out = !obj["eval_count"].get_int64().get(out);
  if (!has_in && !has_out) return std::nullopt;
  chat::Usage u;
  u.input_tokens = in;
  u.output_tokens = out;
  return u;
}

}  // namespace decode

std::pair<std::string, std::string> OllamaCodec::AuthHeader(const std::string& key) const {
  return {"Authorization", "Bearer " + key};
}

std::string OllamaCodec::PassthroughPath(const InternalRequest& request, const std::string& upstream_model) const {
  switch (request.shape) {
    case kShapeGenerate:
      return "/api/generate";
    case kShapeEmbed:
      return "/api/embed";
    case kShapeEmbeddings:
      return "/api/embeddings";
    default:
      return "/api/chat";
  }
}

std::variant<UpstreamCall, GatewayError> OllamaCodec::EncodeChat(const chat::Request& request,
                                                                 const std::string& upstream_model,
                                                                 const CodecOptions& options) const {
  if (request.n && *request.n > 1 && !options.drop_params) return chat::Unsupported("n", kType);
  const auto mode = request.tool_choice.mode;
  if ((mode == chat::ToolChoiceMode::kRequired || mode == chat::ToolChoiceMode::kNamed) && !options.drop_params) {
    return chat::Unsupported("tool_choice", kType);  // Ollama cannot force a tool call
  }
  UpstreamCall call;
  call.path = "/api/chat";
  json::Writer w(&call.body);
  w.BeginObject().Key("model").String(upstream_model);
  std::optional<GatewayError> error;
  WriteMessages(w, request, options, &error);
  if (error) return *error;
  w.Key("stream").Bool(request.stream);
  if (!request.tools.empty() && mode != chat::ToolChoiceMode::kNone) {
    w.Key("tools").BeginArray();
    for (const auto& t : request.tools) {
      w.BeginObject().Key("type").String("function").Key("function").BeginObject();
      w.Key("name").String(t.name).Key("description").String(t.description);
      w.Key("parameters")
          .Raw(t.parameters.empty() ? std::string_view("{\"type\":\"object\",\"properties\":{}}")
                                    : std::string_view(t.parameters));
      w.EndObject().EndObject();
    }
    w.EndArray();
  }
  const auto& format = request.response_format;
  if (format.type == chat::ResponseFormat::Type::kJsonObject) {
    w.Key("format").String("json");
  } else if (format.type == chat::ResponseFormat::Type::kJsonSchema) {
    std::string schema;
    if (wire::MinifyObject(format.schema, &schema)) {
      w.Key("format").Raw(schema);
    } else {
      w.Key("format").String("json");
    }
  }
  WriteOptions(w, request);
  WriteThink(w, request.reasoning);
  w.EndObject();
  call.headers.emplace_back("Content-Type", "application/json");
  return call;
}

std::variant<chat::Response, GatewayError> OllamaCodec::DecodeChat(std::string_view body) const {
  object obj;
  if (UpstreamParser().parse(body.data(), body.size()).get_object().get(obj)) {
    return ProviderError("Ollama returned a body that is not a JSON object.", Prefix(body, 200));
  }
  std::string message;
  if (decode::ErrorText(obj, &message)) return ProviderError(message);
  chat::Response r;
  r.id = chat::NewId("chatcmpl-");
  std::string_view s;
  if (!obj["model"].get_string().get(s)) r.model = std::string(s);
  object msg;
  if (!obj["message"].get_object().get(msg)) {
    if (!msg["thinking"].get_string().get(s) && !s.empty()) {
      r.content.push_back(MakePart(chat::PartKind::kThinking, std::string(s)));
    }
    if (!msg["content"].get_string().get(s) && !s.empty()) {
      r.content.push_back(MakePart(chat::PartKind::kText, std::string(s)));
    }
    element calls;
    if (!msg["tool_calls"].get(calls) && !decode::ToolCalls(calls, &r.content)) {
      return ProviderError("Ollama returned a malformed tool call.");
    }
  } else if (!obj["response"].get_string().get(s)) {  // a /api/generate answer
    if (!s.empty()) r.content.push_back(MakePart(chat::PartKind::kText, std::string(s)));
  } else {
    return ProviderError("Ollama returned an answer without a message.");
  }
  r.finish = chat::FinishReason::kStop;
  if (!obj["done_reason"].get_string().get(s)) r.finish = decode::DoneReason(s);
  if (r.finish == chat::FinishReason::kStop) {
    for (const auto& p : r.content) {
      if (p.kind == chat::PartKind::kToolCall) r.finish = chat::FinishReason::kToolCalls;
    }
  }
  r.usage = decode::Usage(obj);
  return r;
}

std::variant<UpstreamCall, GatewayError> OllamaCodec::EncodeEmbed(const chat::EmbedRequest& request,
                                                                  const std::string& upstream_model) const {
  UpstreamCall call;
  call.path = "/api/embed";
  json::Writer w(&call.body);
  w.BeginObject().Key("model").String(upstream_model).Key("input").BeginArray();
  for (const auto& in : request.inputs) w.String(in);
  w.EndArray();
  if (request.dimensions) w.Key("dimensions").Int(*request.dimensions);
  w.EndObject();
  call.headers.emplace_back("Content-Type", "application/json");
  return call;
}

std::variant<chat::EmbedResponse, GatewayError> OllamaCodec::DecodeEmbed(std::string_view body) const {
  object obj;
  if (UpstreamParser().parse(body.data(), body.size()).get_object().get(obj)) {
    return ProviderError("Ollama returned a body that is not a JSON object.", Prefix(body, 200));
  }
  std::string message;
  if (decode::ErrorText(obj, &message)) return ProviderError(message);
  array vectors;
  if (obj["embeddings"].get_array().get(vectors)) return ProviderError("Ollama returned no embeddings.");
  chat::EmbedResponse r;
  std::string_view s;
  if (!obj["model"].get_string().get(s)) r.model = std::string(s);
  for (element v : vectors) {
    array values;
    if (v.get_array().get(values)) return ProviderError("Ollama returned a malformed embedding.");
    std::vector<double> out;
    out.reserve(values.size());
    for (element x : values) {
      double d = 0;
      if (x.get_double().get(d)) return ProviderError("Ollama returned a malformed embedding.");
      out.push_back(d);
    }
    r.vectors.push_back(std::move(out));
  }
  int64_t n = 0;
  if (!obj["prompt_eval_count"].get_int64().get(n)) r.usage = MakeUsage(n);
  return r;
}

std::optional<UpstreamCall> OllamaCodec::EncodeCountTokens(const chat::Request& request,
                                                           const std::string& upstream_model) const {
  return std::nullopt;
}

std::optional<int64_t> OllamaCodec::DecodeCountTokens(std::string_view body) const { return std::nullopt; }

std::string OllamaCodec::ErrorMessage(std::string_view body) const {
  object obj;
  std::string message;
  if (!UpstreamParser().parse(body.data(), body.size()).get_object().get(obj) && decode::ErrorText(obj, &message)) {
    return message;
  }
  return Prefix(body, 200);
}

}  // namespace sy::ollama
