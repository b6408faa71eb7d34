// Gemini upstream codec: response side (generateContent answers, embeddings,
// token counts, error bodies).
#include <simdjson.h>

#include "core/ids.h"
#include "frontdoor/gemini/gemini_wire.h"
#include "provider/gemini/gemini_codec.h"
#include "provider/gemini/gemini_decode.h"

namespace sy::gemini {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

GatewayError Malformed(std::string what) {
  return MakeError(ErrorCode::kProviderError, "The Gemini upstream sent a malformed response.",
                   "gemini: " + std::move(what));
}

std::string_view StringOr(element parent, std::string_view key) {
  std::string_view s;
  if (parent[key].get_string().get(s)) return {};
  return s;
}

// One part of a candidate's content; false when it says nothing we keep.
bool ReadPart(element item, chat::Part* p) {
  object part;
  if (item.get_object().get(part)) return false;
  bool thought = false;
  if (part["thought"].get_bool().get(thought)) thought = false;
  p->signature = std::string(StringOr(item, "thoughtSignature"));
  element v;
  std::string_view text;
  if (!part["text"].get(v) && !v.get_string().get(text)) {
    p->kind = thought ? chat::PartKind::kThinking : chat::PartKind::kText;
    p->text = std::string(text);
    return !text.empty() || !p->signature.empty();
  }
  if (!part["functionCall"].get(v) && v.is_object()) {
    p->kind = chat::PartKind::kToolCall;
    p->name = std::string(StringOr(v, "name"));
    std::string_view id = StringOr(v, "id");
    // Older models send no id; never the name: same-name parallel calls.
    p->id = id.empty() ? chat::SafeToolId("", "call_") : std::string(id);
    element args;
    p->arguments = (!v["args"].get(args) && args.is_object()) ? simdjson::minify(args) : std::string("{}");
    return true;
  }
  if (!part["inlineData"].get(v) && v.is_object()) {
    p->kind = chat::PartKind::kImage;
    p->media_type = std::string(StringOr(v, "mimeType"));
    p->data = std::string(StringOr(v, "data"));
    return !p->data.empty();
  }
  if (!p->signature.empty()) {  // a signature-only part
    p->kind = thought ? chat::PartKind::kThinking : chat::PartKind::kText;
    return true;
  }
  return false;  // executableCode, codeExecutionResult, empty parts...
}

// The bodies an error can come in: {"error":{...}} or [{"error":{...}}].
element ErrorElement(element doc, bool* found) {
  *found = false;
  array list;
  if (!doc.get_array().get(list)) {
    for (element item : list) {
      doc = item;
      break;
    }
  }
  element error;
  if (!doc["error"].get(error)) *found = true;
  return error;
}

}  // namespace

std::optional<GatewayError> DecodeChunk(element chunk, DecodedChunk* out) {
  if (!chunk.is_object()) return Malformed("a response chunk is not a JSON object");
  element v;
  if (!chunk["error"].get(v) && !v.is_null()) {
    out->error = ErrorFromWire(v);
    return std::nullopt;
  }
  out->id = std::string(StringOr(chunk, "responseId"));
  out->model = std::string(StringOr(chunk, "modelVersion"));
  if (!chunk["usageMetadata"].get(v) && v.is_object()) out->usage = ReadUsageMetadata(v);
  array candidates;
  element first;
  bool has_candidate = false;
  if (!chunk["candidates"].get_array().get(candidates)) {
    for (element c : candidates) {
      first = c;
      has_candidate = c.is_object();
      break;
    }
  }
  if (!has_candidate) {
    element feedback;
    if (!chunk["promptFeedback"].get(feedback) && !StringOr(feedback, "blockReason").empty()) out->blocked = true;
    return std::nullopt;
  }
  out->finish_reason = std::string(StringOr(first, "finishReason"));
  array parts;
  if (!first["content"]["parts"].get_array().get(parts)) {
    for (element item : parts) {
      chat::Part p;
      if (ReadPart(item, &p)) out->parts.push_back(std::move(p));
    }
  }
  return std::nullopt;
}

std::optional<GatewayError> DecodeChunk(std::string_view json, DecodedChunk* out) {
  element doc;
  if (UpstreamParser().parse(json.data(), json.size()).get(doc)) return Malformed("a response chunk is not JSON");
  return DecodeChunk(doc, out);
}

std::variant<chat::Response, GatewayError> GeminiCodec::DecodeChat(std::string_view body) const {
  element doc;
  if (UpstreamParser().parse(body.data(), body.size()).get(doc)) return Malformed("the response is not JSON");
  // A JSON-array answer (streamGenerateContent without alt=sse) is read as
  // the chunks it holds.
  std::vector<element> chunks;
  array list;
  if (!doc.get_array().get(list)) {
    for (element item : list) chunks.push_back(item);
  } else {
    chunks.push_back(doc);
  }
  chat::Response r;
  std::string finish;
  bool blocked = false, any_candidate = false, saw_call = false;
  for (element chunk : chunks) {
    DecodedChunk d;
    if (auto e = DecodeChunk(chunk, &d)) return *e;
    if (d.error) return *d.error;
    if (r.id.empty()) r.id = std::move(d.id);
    if (r.model.empty()) r.model = std::move(d.model);
    if (d.usage) r.usage = d.usage;  // cumulative: the last one wins
    if (!d.finish_reason.empty()) finish = d.finish_reason;
    blocked = blocked || d.blocked;
    any_candidate = any_candidate || !d.finish_reason.empty() || !d.parts.empty();
    for (auto& p : d.parts) {
      saw_call = saw_call || p.kind == chat::PartKind::kToolCall;
      r.content.push_back(std::move(p));
    }
  }
  if (!any_candidate && !blocked) {
    array candidates;
    bool listed = false;
    for (element chunk : chunks) listed = listed || !chunk["candidates"].get_array().get(candidates);
    if (!listed) return Malformed("the response has no candidates");
  }
  if (r.id.empty()) r.id = chat::NewId("", 24);
  if (!finish.empty()) {
    r.finish = ParseFinishReason(finish);
  } else {
    r.finish = blocked ? chat::FinishReason::kContentFilter : chat::FinishReason::kStop;
  }
  if (r.finish == chat::FinishReason::kStop && saw_call) r.finish = chat::FinishReason::kToolCalls;
  return r;
}

std::variant<chat::EmbedResponse, GatewayError> GeminiCodec::DecodeEmbed(std::string_view body) const {
  element doc;
  if (UpstreamParser().parse(body.data(), body.size()).get(doc) || !doc.is_object()) {
    return Malformed("the embeddings response is not a JSON object");
  }
  element v;
  if (!doc["error"].get(v) && !v.is_null()) return ErrorFromWire(v);
  chat::EmbedResponse r;
  auto read = [&r](element embedding) -> bool {
    array values;
    if (embedding["values"].get_array().get(values)) return false;
    std::vector<double> vec;
    vec.reserve(values.size());
    for (element x : values) {
      double d = 0;
      if (x.get_double().get(d)) return false;
      vec.push_back(d);
    }
    r.vectors.push_back(std::move(vec));
    return true;
  };
  array list;
  if (!doc["embeddings"].get_array().get(list)) {
    for (element e : list) {
      if (!read(e)) return Malformed("an embedding has no numeric values");
    }
    return r;
  }
  if (!doc["embedding"].get(v) && read(v)) return r;
  return Malformed("the embeddings response has no embeddings");
}

std::optional<int64_t> GeminiCodec::DecodeCountTokens(std::string_view body) const {
  element doc;
  if (UpstreamParser().parse(body.data(), body.size()).get(doc) || !doc.is_object()) return std::nullopt;
  element v;
  if (!doc["error"].get(v)) return std::nullopt;
  if (doc["totalTokens"].get(v)) return 0;  // proto3 JSON omits zero
  return GetInt(v);
}

std::string GeminiCodec::ErrorMessage(std::string_view body) const {
  element doc;
  if (!UpstreamParser().parse(body.data(), body.size()).get(doc)) {
    bool found = false;
    element error = ErrorElement(doc, &found);
    std::string_view message;
    if (found && !error["message"].get_string().get(message) && !message.empty()) return std::string(message);
    if (found && !error.get_string().get(message) && !message.empty()) return std::string(message);
  }
  return std::string(body.substr(0, 200));
}

}  // namespace sy::gemini
