#include "local/protocol.h"

#include <simdjson.h>

#include "common/json_writer.h"

namespace sy::local {

namespace {

using simdjson::dom::element;

std::string TextOf(const std::vector<chat::Part>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.kind == chat::PartKind::kText) out += p.text;
  }
  return out;
}

bool HasImage(const std::vector<chat::Part>& parts) {
  for (const auto& p : parts) {
    if (p.kind == chat::PartKind::kImage) return true;
    if (p.kind == chat::PartKind::kToolResult && HasImage(p.content)) return true;
  }
  return false;
}

void Sampling(json::Writer& w, std::optional<int64_t> max_tokens, std::optional<double> temperature,
              std::optional<double> top_p, std::optional<int64_t> top_k, std::optional<double> min_p,
              std::optional<double> repeat_penalty, const std::vector<std::string>& stop, int64_t seed) {
  const SamplingDefaults d;
  if (max_tokens) w.Key("max_tokens").Int(*max_tokens);
  w.Key("temperature").Double(temperature.value_or(d.temperature));
  w.Key("top_p").Double(top_p.value_or(d.top_p));
  w.Key("top_k").Int(top_k.value_or(d.top_k));
  w.Key("min_p").Double(min_p.value_or(d.min_p));
  w.Key("repeat_penalty").Double(repeat_penalty.value_or(d.repeat_penalty));
  w.Key("seed").Int(seed);
  if (!stop.empty()) {
    w.Key("stop").BeginArray();
    for (const auto& s : stop) w.String(s);
    w.EndArray();
  }
}

std::string_view Str(element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return {};
  return v;
}

int64_t Int(element e, const char* key) {
  int64_t v = 0;
  if (e[key].get(v) != simdjson::SUCCESS) return 0;
  return v;
}

}  // namespace

std::optional<GatewayError> EncodeChat(const chat::Request& request, int64_t id, int64_t seed,
                                       const std::string& session, bool count_only, std::string* line) {
  if (HasImage(request.system)) return MakeError(ErrorCode::kBadRequest, "Local models take text only: the system prompt has an image.");
  for (const auto& m : request.messages) {
    if (HasImage(m.parts)) {
      return MakeError(ErrorCode::kBadRequest, "Local models take text only: a message has an image.");
    }
  }
  if (request.n && *request.n > 1) {
    GatewayError e = MakeError(ErrorCode::kBadRequest, "Local models generate one choice per request (n must be 1).");
    e.param = "n";
    return e;
  }
  if (request.max_tokens && *request.max_tokens < 1) {
    GatewayError e = MakeError(ErrorCode::kBadRequest, "max_tokens must be at least 1.");
    e.param = "max_tokens";
    return e;
  }
  line->clear();
  json::Writer w(line);
  w.BeginObject().Key("op").String(count_only ? "count" : "chat").Key("id").Int(id);
  if (!session.empty()) w.Key("session").String(session);
  const std::string system = TextOf(request.system);
  if (!system.empty()) w.Key("system").String(system);
  w.Key("messages").BeginArray();
  for (const auto& m : request.messages) {
    // A tool message's parts are results; the other roles' parts are text and calls.
    if (m.role == chat::Role::kTool || (m.role == chat::Role::kUser && !m.parts.empty() &&
                                        m.parts.front().kind == chat::PartKind::kToolResult)) {
      for (const auto& p : m.parts) {
        if (p.kind != chat::PartKind::kToolResult) continue;
        w.BeginObject().Key("role").String("tool").Key("id").String(p.id).Key("name").String(p.name);
        w.Key("text").String(TextOf(p.content)).EndObject();
      }
      std::string rest = TextOf(m.parts);
      if (!rest.empty()) w.BeginObject().Key("role").String("user").Key("text").String(rest).EndObject();
      continue;
    }
    w.BeginObject();
    w.Key("role").String(m.role == chat::Role::kAssistant ? "assistant" : m.role == chat::Role::kSystem ? "system" : "user");
    w.Key("text").String(TextOf(m.parts));
    bool calls = false;
    for (const auto& p : m.parts) {
      if (p.kind != chat::PartKind::kToolCall) continue;
      if (!calls) w.Key("tool_calls").BeginArray();
      calls = true;
      w.BeginObject().Key("id").String(p.id).Key("name").String(p.name).Key("arguments").String(p.arguments).EndObject();
    }
    if (calls) w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  if (!request.tools.empty() && request.tool_choice.mode != chat::ToolChoiceMode::kNone) {
    w.Key("tools").BeginArray();
    for (const auto& t : request.tools) {
      w.BeginObject().Key("name").String(t.name).Key("description").String(t.description);
      w.Key("parameters").Raw(t.parameters).EndObject();
    }
    w.EndArray();
  }
  if (request.response_format.type != chat::ResponseFormat::Type::kText) {
    w.Key("json_schema").Raw(request.response_format.type == chat::ResponseFormat::Type::kJsonSchema &&
                                     !request.response_format.schema.empty()
                                 ? request.response_format.schema
                                 : std::string("{\"type\":\"object\"}"));
  }
  Sampling(w, request.max_tokens, request.temperature, request.top_p, request.top_k, request.min_p,
           request.repeat_penalty, request.stop, seed);
  if (request.frequency_penalty) w.Key("frequency_penalty").Double(*request.frequency_penalty);
  if (request.presence_penalty) w.Key("presence_penalty").Double(*request.presence_penalty);
  w.EndObject();
  return std::nullopt;
}

std::string EncodeComplete(const chat::Request& request, int64_t id, int64_t seed) {
  std::string prompt;
  for (const auto& m : request.messages) prompt += TextOf(m.parts);
  std::string line;
  json::Writer w(&line);
  w.BeginObject().Key("op").String("complete").Key("id").Int(id).Key("prompt").String(prompt);
  Sampling(w, request.max_tokens, request.temperature, request.top_p, request.top_k, request.min_p,
           request.repeat_penalty, request.stop, seed);
  w.EndObject();
  return line;
}

std::string EncodeEmbed(const std::vector<std::string>& inputs, int64_t id) {
  std::string line;
  json::Writer w(&line);
  w.BeginObject().Key("op").String("embed").Key("id").Int(id).Key("inputs").BeginArray();
  for (const auto& in : inputs) w.String(in);
  w.EndArray().EndObject();
  return line;
}

std::string EncodeAbort(int64_t id) {
  return "{\"op\":\"abort\",\"id\":" + std::to_string(id) + "}";
}

bool ParseWorkerEvent(std::string_view line, WorkerEvent* out) {
  thread_local simdjson::dom::parser parser;
  element doc;
  if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS) return false;
  std::string_view ev;
  if (doc["ev"].get(ev) != simdjson::SUCCESS) return false;
  if (doc["id"].get(out->id) != simdjson::SUCCESS) return false;
  if (ev == "text") {
    out->kind = WorkerEvent::Kind::kText;
    out->text = std::string(Str(doc, "text"));
    out->tokens = Int(doc, "tokens");
    simdjson::dom::array pieces;
    if (doc["pieces"].get(pieces) == simdjson::SUCCESS) {
      for (element p : pieces) {
        std::string_view piece;
        if (p.get(piece) != simdjson::SUCCESS) return false;
        out->pieces.emplace_back(piece);
      }
    }
  } else if (ev == "done") {
    out->kind = WorkerEvent::Kind::kDone;
    out->text = std::string(Str(doc, "text"));
    out->finish = std::string(Str(doc, "finish"));
    out->stop_sequence = std::string(Str(doc, "stop_sequence"));
    out->prompt_tokens = Int(doc, "prompt_tokens");
    out->cached_tokens = Int(doc, "cached_tokens");
    out->completion_tokens = Int(doc, "completion_tokens");
    simdjson::dom::array calls;
    if (doc["tool_calls"].get(calls) == simdjson::SUCCESS) {
      for (element c : calls) {
        ToolCallOut call;
        call.name = std::string(Str(c, "name"));
        std::string_view args;
        element a;
        if (c["arguments"].get(args) == simdjson::SUCCESS) {
          call.arguments = std::string(args);
        } else if (c["arguments"].get(a) == simdjson::SUCCESS) {
          call.arguments = simdjson::minify(a);
        }
        if (call.arguments.empty()) call.arguments = "{}";
        out->tool_calls.push_back(std::move(call));
      }
    }
  } else if (ev == "embedding") {
    out->kind = WorkerEvent::Kind::kEmbedding;
    out->prompt_tokens = Int(doc, "prompt_tokens");
    simdjson::dom::array vectors;
    if (doc["vectors"].get(vectors) != simdjson::SUCCESS) return false;
    for (element v : vectors) {
      simdjson::dom::array values;
      if (v.get(values) != simdjson::SUCCESS) return false;
      std::vector<double> vec;
      for (element x : values) {
        double d = 0;
        if (x.get(d) != simdjson::SUCCESS) return false;
        vec.push_back(d);
      }
      out->vectors.push_back(std::move(vec));
    }
  } else if (ev == "count") {
    out->kind = WorkerEvent::Kind::kCount;
    out->tokens = Int(doc, "tokens");
  } else if (ev == "error") {
    out->kind = WorkerEvent::Kind::kError;
    out->code = std::string(Str(doc, "code"));
    out->message = std::string(Str(doc, "message").substr(0, 500));
  } else {
    return false;
  }
  return true;
}

chat::FinishReason FinishOf(std::string_view finish) {
  if (finish == "length") return chat::FinishReason::kLength;
  if (finish == "stop_sequence") return chat::FinishReason::kStopSequence;
  if (finish == "tool_calls") return chat::FinishReason::kToolCalls;
  return chat::FinishReason::kStop;
}

GatewayError ErrorOf(const WorkerEvent& event) {
  if (event.kind == WorkerEvent::Kind::kGone) {
    GatewayError e = MakeError(ErrorCode::kNoProvider, event.message.empty() ? "The local engine stopped." : event.message);
    e.retry_after = "1";
    return e;
  }
  if (event.code == "context_length_exceeded") {
    GatewayError e = MakeError(ErrorCode::kBadRequest, event.message.empty()
                                                           ? "The prompt is longer than the model's context."
                                                           : event.message);
    e.param = "messages";
    return e;
  }
  if (event.code == "invalid_request") return MakeError(ErrorCode::kBadRequest, event.message);
  return MakeError(ErrorCode::kInternal, "The local engine failed: " + event.message);
}

}  // namespace sy::local
