// Ollama front door, whole responses: chat / generate bodies, embeddings,
// errors.
#include <string>

#include "common/json_writer.h"
#include "frontdoor/ollama/ollama_encode.h"
#include "frontdoor/ollama/ollama_frontdoor.h"
#include "frontdoor/ollama/ollama_wire.h"

namespace sy::ollama {

namespace encode {

std::string_view DoneReason(chat::FinishReason finish) {
  switch (finish) {
    case chat::FinishReason::kLength:
    case chat::FinishReason::kContextFull:
      return "length";
    default:
      return "stop";
  }
}

void WriteToolCall(json::Writer& w, int index, std::string_view id, std::string_view name, std::string_view arguments) {
  w.BeginObject();
  if (!id.empty()) w.Key("id").String(id);
  w.Key("function").BeginObject().Key("index").Int(index).Key("name").String(name);
  w.Key("arguments").Raw(wire::ArgumentsObject(arguments)).EndObject();
  w.EndObject();
}

void WriteDoneMembers(json::Writer& w, chat::FinishReason finish, const chat::Usage& usage, const Durations& d) {
  w.Key("done_reason").String(DoneReason(finish));
  w.Key("total_duration").Int(d.total).Key("load_duration").Int(0);
  w.Key("prompt_eval_count").Int(usage.input_tokens).Key("prompt_eval_duration").Int(d.prompt_eval);
  w.Key("eval_count").Int(usage.output_tokens).Key("eval_duration").Int(d.eval);
}

// ns from `from` to `to`; 0 when `from` was not taken or the clock went back.
int64_t Since(int64_t from, int64_t to) { return from > 0 && to > from ? to - from : 0; }

}  // namespace encode

std::string OllamaFrontDoor::EncodeResponse(const InternalRequest& request, const chat::Response& response) const {
  std::string text;
  std::string thinking;
  for (const auto& p : response.content) {
    if (p.kind == chat::PartKind::kText) text += p.text;
    if (p.kind == chat::PartKind::kThinking) thinking += p.text;
  }
  std::string out;
  json::Writer w(&out);
  const int64_t now = now_ns_();
  w.BeginObject().Key("model").String(request.model).Key("created_at").String(wire::FormatTimeNs(now));
  if (request.shape == kShapeGenerate) {
    // /api/generate has no tools: calls (which it never asks for) are dropped.
    w.Key("response").String(text);
    if (!thinking.empty()) w.Key("thinking").String(thinking);
  } else {
    w.Key("message").BeginObject().Key("role").String("assistant").Key("content").String(text);
    if (!thinking.empty()) w.Key("thinking").String(thinking);
    int index = 0;
    for (const auto& p : response.content) {
      if (p.kind != chat::PartKind::kToolCall) continue;
      if (index == 0) w.Key("tool_calls").BeginArray();
      encode::WriteToolCall(w, index++, p.id, p.name, p.arguments);
    }
    if (index > 0) w.EndArray();
    w.EndObject();
  }
  w.Key("done").Bool(true);
  const int64_t total = encode::Since(request.received_ns, now);
  encode::WriteDoneMembers(w, response.finish, response.usage.value_or(chat::Usage{}), {total, 0, total});
  w.EndObject();
  return out;
}

std::string OllamaFrontDoor::StreamContentType(const InternalRequest& request) const { return "application/x-ndjson"; }

std::string OllamaFrontDoor::EncodeEmbed(const InternalRequest& request, const chat::EmbedResponse& response) const {
  std::string out;
  json::Writer w(&out);
  auto vector = [&w](const std::vector<double>& v) {
    w.BeginArray();
    for (double d : v) w.Double(d);
    w.EndArray();
  };
  w.BeginObject();
  if (request.shape == kShapeEmbeddings) {
    w.Key("embedding");
    vector(response.vectors.empty() ? std::vector<double>{} : response.vectors.front());
  } else {
    w.Key("model").String(request.model).Key("embeddings").BeginArray();
    for (const auto& v : response.vectors) vector(v);
    w.EndArray();
    w.Key("total_duration").Int(encode::Since(request.received_ns, now_ns_())).Key("load_duration").Int(0);
    w.Key("prompt_eval_count").Int(response.usage ? response.usage->input_tokens : 0);
  }
  w.EndObject();
  return out;
}

std::string OllamaFrontDoor::EncodeCountTokens(const InternalRequest& request, int64_t input_tokens) const {
  return "";
}

ErrorReply OllamaFrontDoor::EncodeError(const GatewayError& error) const {
  ErrorReply reply;
  reply.status = HttpStatus(error.code);
  reply.content_type = "application/json";
  reply.body = "{\"error\":" + json::Quote(error.message) + "}";
  if (error.retry_after) reply.headers.emplace_back("Retry-After", *error.retry_after);
  return reply;
}

}  // namespace sy::ollama
