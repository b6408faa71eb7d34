// Gemini front door: Peek, response bodies, errors and model listing. The
// request parsing is in gemini_request.cc, the stream encoder in
// gemini_stream_encoder.cc.
#include "frontdoor/gemini/gemini_frontdoor.h"

#include "common/json_writer.h"
#include "core/ids.h"
#include "frontdoor/gemini/gemini_wire.h"

namespace sy::gemini {
namespace {

GatewayError BadRequest(std::string message, std::string param = {}) {
  GatewayError e = MakeError(ErrorCode::kBadRequest, std::move(message));
  if (!param.empty()) e.param = std::move(param);
  return e;
}

// Nominal limits for /v1beta/models (clients read them; the gateway does not
// know the upstream's real ones).
constexpr int64_t kNominalInputTokenLimit = 1048576;
constexpr int64_t kNominalOutputTokenLimit = 65536;

// Checks the member `key` of `obj` is an array (non-empty when `non_empty`).
std::optional<GatewayError> RequireArray(simdjson::dom::object obj, std::string_view key, std::string_view path,
                                         bool non_empty) {
  simdjson::dom::element value;
  if (obj[key].get(value)) return BadRequest("Missing required field '" + std::string(path) + "'.", std::string(path));
  simdjson::dom::array array;
  if (value.get_array().get(array)) {
    return BadRequest("Invalid type for '" + std::string(path) + "': expected an array.", std::string(path));
  }
  if (non_empty && array.size() == 0) {
    return BadRequest("'" + std::string(path) + "' must not be empty.", std::string(path));
  }
  return std::nullopt;
}

void WriteModel(json::Writer* w, const ModelEntry& model) {
  w->BeginObject();
  w->Key("name").String("models/" + model.id);
  w->Key("version").String("001");
  w->Key("displayName").String(model.id);
  w->Key("description").String(model.owned_by.empty() ? "Served by Switchyard."
                                                      : "Served by Switchyard via provider '" + model.owned_by + "'.");
  w->Key("inputTokenLimit").Int(kNominalInputTokenLimit);
  w->Key("outputTokenLimit").Int(kNominalOutputTokenLimit);
  w->Key("supportedGenerationMethods").BeginArray();
  for (const char* m : {"generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents"}) {
    w->String(m);
  }
  w->EndArray().EndObject();
}

}  // namespace

std::variant<InternalRequest, GatewayError> GeminiFrontDoor::Peek(FrontDoorInput input) const {
  std::string_view model = BareModel(input.path_model);
  if (model.empty()) return BadRequest("The model is missing from the request path.", "model");
  if (input.operation == Operation::kCompletions) {
    return MakeError(ErrorCode::kNotFound, "The Gemini API has no completions endpoint.");
  }

  simdjson::dom::element doc;
  if (auto err = ClientParser().parse(input.body.data(), input.body.size()).get(doc); err) {
    if (input.body.empty()) return BadRequest("Request body is empty; expected a JSON object.");
    if (err == simdjson::DEPTH_ERROR) {
      return BadRequest("Request body is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels.");
    }
    return BadRequest(std::string("Request body is not valid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return BadRequest("Request body must be a JSON object.");

  switch (input.operation) {
    case Operation::kChatCompletions:
      if (auto e = RequireArray(obj, "contents", "contents", true)) return *e;
      break;
    case Operation::kCountTokens: {
      simdjson::dom::element inner;
      if (obj["contents"].get(inner) && !obj["generateContentRequest"].get(inner)) {
        simdjson::dom::object gcr;
        if (inner.get_object().get(gcr)) {
          return BadRequest("Invalid type for 'generateContentRequest': expected an object.", "generateContentRequest");
        }
        if (auto e = RequireArray(gcr, "contents", "generateContentRequest.contents", false)) return *e;
      } else if (auto e = RequireArray(obj, "contents", "contents", false)) {
        return *e;
      }
      break;
    }
    case Operation::kEmbeddings:
      if (input.shape == kShapeBatchEmbed) {
        if (auto e = RequireArray(obj, "requests", "requests", true)) return *e;
      } else {
        simdjson::dom::element content;
        if (obj["content"].get(content)) return BadRequest("Missing required field 'content'.", "content");
        if (!content.is_object()) return BadRequest("Invalid type for 'content': expected an object.", "content");
      }
      break;
    case Operation::kCompletions: break;
  }

  InternalRequest req;
  req.operation = input.operation;
  req.wire = WireProtocol::kGemini;
  req.model = std::string(model);
  req.stream = input.operation == Operation::kChatCompletions && input.path_stream;
  req.shape = input.shape;
  // batchEmbedContents and countTokens' generateContentRequest repeat the
  // model inside the body: never passed through unchanged.
  req.passthrough_ok = !(input.operation == Operation::kEmbeddings && input.shape == kShapeBatchEmbed) &&
                       !(input.operation == Operation::kCountTokens && obj["generateContentRequest"].error() == simdjson::SUCCESS);
  req.raw_body = std::move(input.body);
  return req;
}

std::string GeminiFrontDoor::EncodeResponse(const InternalRequest& request, const chat::Response& response) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("candidates").BeginArray().BeginObject();
  bool any = false;
  for (const auto& p : response.content) {
    if (p.kind != chat::PartKind::kText && p.kind != chat::PartKind::kThinking && p.kind != chat::PartKind::kToolCall &&
        p.kind != chat::PartKind::kImage) {
      continue;
    }
    if (!any) w.Key("content").BeginObject().Key("parts").BeginArray();
    any = true;
    WritePart(&w, p, p.signature);
  }
  if (any) w.EndArray().Key("role").String("model").EndObject();
  w.Key("finishReason").String(FinishReasonWire(response.finish)).Key("index").Int(0);
  w.EndObject().EndArray();
  if (response.usage) {
    w.Key("usageMetadata");
    WriteUsageMetadata(&w, *response.usage);
  }
  w.Key("modelVersion").String(request.model);
  w.Key("responseId").String(response.id.empty() ? chat::NewId("", 24) : response.id);
  w.EndObject();
  return out;
}

std::string GeminiFrontDoor::EncodeEmbed(const InternalRequest& request, const chat::EmbedResponse& response) const {
  std::string out;
  json::Writer w(&out);
  auto values = [&w](const std::vector<double>& v) {
    w.BeginObject().Key("values").BeginArray();
    for (double d : v) w.Double(d);
    w.EndArray().EndObject();
  };
  w.BeginObject();
  if (request.shape == kShapeBatchEmbed) {
    w.Key("embeddings").BeginArray();
    for (const auto& v : response.vectors) values(v);
    w.EndArray();
  } else {
    w.Key("embedding");
    values(response.vectors.empty() ? std::vector<double>{} : response.vectors.front());
  }
  w.EndObject();
  return out;
}

std::string GeminiFrontDoor::EncodeCountTokens(const InternalRequest& request, int64_t input_tokens) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("totalTokens").Int(input_tokens).EndObject();
  return out;
}

ErrorReply GeminiFrontDoor::EncodeError(const GatewayError& error) const {
  ErrorReply reply;
  reply.status = HttpStatus(error.code);
  reply.body = ErrorObject(error);
  if (error.retry_after) reply.headers.emplace_back("Retry-After", *error.retry_after);
  return reply;
}

std::string GeminiFrontDoor::ModelList(const std::vector<ModelEntry>& models, long long created) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("models").BeginArray();
  for (const auto& m : models) WriteModel(&w, m);
  w.EndArray().EndObject();
  return out;
}

std::string GeminiFrontDoor::ModelObject(const ModelEntry& model, long long created) const {
  std::string out;
  json::Writer w(&out);
  WriteModel(&w, model);
  return out;
}

}  // namespace sy::gemini
