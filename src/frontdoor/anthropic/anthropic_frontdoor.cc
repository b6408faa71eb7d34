#include "frontdoor/anthropic/anthropic_frontdoor.h"

#include <simdjson.h>

#include <ctime>

#include "common/json_writer.h"
#include "frontdoor/anthropic/anthropic_wire.h"
#include "frontdoor/openai/json_scan.h"
#include "sse/sse_parser.h"

namespace sy::anthropic {
namespace {

GatewayError BadRequest(std::string message, std::string param = {}) {
  GatewayError e = MakeError(ErrorCode::kBadRequest, std::move(message));
  if (!param.empty()) e.param = std::move(param);
  return e;
}

std::string ErrorBody(const GatewayError& error) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject()
      .Key("type").String("error")
      .Key("error").BeginObject()
      .Key("type").String(ErrorTypeName(error.code))
      .Key("message").String(error.message)
      .EndObject()
      .EndObject();
  return out;
}

// RFC 3339 UTC for Unix seconds; the epoch when out of range.
std::string Rfc3339(long long seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  char buf[32];
  if (seconds < 0 || !gmtime_r(&t, &tm) || !std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
    return "1970-01-01T00:00:00Z";
  }
  return buf;
}

void WriteModel(json::Writer& w, const ModelEntry& model, long long created) {
  w.BeginObject()
      .Key("type").String("model")
      .Key("id").String(model.id)
      .Key("display_name").String(model.id)
      .Key("created_at").String(Rfc3339(created))
      .EndObject();
}

}  // namespace

std::variant<InternalRequest, GatewayError> AnthropicFrontDoor::Peek(FrontDoorInput input) const {
  const Operation op = input.operation;
  if (op != Operation::kChatCompletions && op != Operation::kCountTokens) {
    return MakeError(ErrorCode::kNotFound, "The Anthropic API has no such endpoint.");
  }
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(64 * 1024, kMaxJsonDepth);  // on failure parse() allocates as needed
    (void)err;
    return p;
  }();
  std::string& body = input.body;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc); err) {
    if (body.empty()) return BadRequest("Request body is empty; expected a JSON object.");
    if (err == simdjson::DEPTH_ERROR) {
      return BadRequest("Request body is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels.");
    }
    return BadRequest(std::string("Request body is not valid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return BadRequest("Request body must be a JSON object.");

  // Routing reads the first "model"; an upstream keeping the last one would
  // serve another model than the one routed, authorised and billed.
  int model_keys = 0;
  int stream_keys = 0;
  for (auto field : obj) {
    if (field.key == "model") ++model_keys;
    if (field.key == "stream") ++stream_keys;
  }
  if (model_keys > 1) return BadRequest("Duplicate key 'model' in the request body.", "model");
  if (stream_keys > 1) return BadRequest("Duplicate key 'stream' in the request body.", "stream");

  InternalRequest req;
  req.operation = op;
  req.wire = WireProtocol::kAnthropic;
  req.shape = input.shape;

  simdjson::dom::element model;
  if (obj["model"].get(model)) return BadRequest("model: Field required", "model");
  std::string_view model_name;
  if (model.get_string().get(model_name)) return BadRequest("model: Input should be a valid string", "model");
  if (model_name.empty()) return BadRequest("model: String should have at least 1 character", "model");
  req.model = std::string(model_name);

  if (op == Operation::kChatCompletions) {
    simdjson::dom::element stream;
    if (!obj["stream"].get(stream) && !stream.is_null()) {
      bool value = false;
      if (stream.get_bool().get(value)) return BadRequest("stream: Input should be a valid boolean", "stream");
      req.stream = value;
    }
  }

  simdjson::dom::element messages_el;
  if (obj["messages"].get(messages_el)) return BadRequest("messages: Field required", "messages");
  simdjson::dom::array messages;
  if (messages_el.get_array().get(messages)) return BadRequest("messages: Input should be a valid list", "messages");
  if (messages.size() == 0) return BadRequest("messages: at least one message is required", "messages");

  if (op == Operation::kChatCompletions) {
    simdjson::dom::element max_tokens_el;
    if (obj["max_tokens"].get(max_tokens_el)) return BadRequest("max_tokens: Field required", "max_tokens");
    int64_t max_tokens = 0;
    if (max_tokens_el.get_int64().get(max_tokens)) {
      return BadRequest("max_tokens: Input should be a valid integer", "max_tokens");
    }
    if (max_tokens < 1) return BadRequest("max_tokens: Input should be greater than or equal to 1", "max_tokens");
  }

  auto span = json::FindTopLevelValue(body, "model");
  if (!span) return BadRequest("Could not locate 'model' in the request body.", "model");
  req.model_span = *span;
  req.raw_body = std::move(body);
  return req;
}

std::optional<GatewayError> AnthropicFrontDoor::ParseEmbed(const InternalRequest& request,
                                                           chat::EmbedRequest* out) const {
  return BadRequest("The Anthropic API has no embeddings endpoint.");
}

std::string AnthropicFrontDoor::EncodeCountTokens(const InternalRequest& request, int64_t input_tokens) const {
  std::string out;
  json::Writer(&out).BeginObject().Key("input_tokens").Int(input_tokens < 0 ? 0 : input_tokens).EndObject();
  return out;
}

ErrorReply AnthropicFrontDoor::EncodeError(const GatewayError& error) const {
  ErrorReply reply;
  reply.status = HttpStatus(error.code);
  reply.body = ErrorBody(error);
  if (error.retry_after) reply.headers.emplace_back("Retry-After", *error.retry_after);
  return reply;
}

std::string AnthropicFrontDoor::ModelList(const std::vector<ModelEntry>& models, long long created) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("data").BeginArray();
  for (const auto& m : models) WriteModel(w, m, created);
  w.EndArray().Key("has_more").Bool(false);
  if (models.empty()) {
    w.Key("first_id").Null().Key("last_id").Null();
  } else {
    w.Key("first_id").String(models.front().id).Key("last_id").String(models.back().id);
  }
  w.EndObject();
  return out;
}

std::string AnthropicFrontDoor::ModelObject(const ModelEntry& model, long long created) const {
  std::string out;
  json::Writer w(&out);
  WriteModel(w, model, created);
  return out;
}

std::unique_ptr<StreamEncoder> AnthropicFrontDoor::NewStreamEncoder(const InternalRequest& request,
                                                                    const chat::Request& chat) const {
  return anthropic::NewStreamEncoder(request.model, chat::EstimateTokens(chat));
}

std::string ErrorEvent(const GatewayError& error) { return sse::FormatEvent(ErrorBody(error), "error"); }

}  // namespace sy::anthropic
