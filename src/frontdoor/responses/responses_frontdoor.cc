#include "frontdoor/responses/responses_frontdoor.h"

#include <simdjson.h>

#include "common/json_writer.h"
#include "frontdoor/openai/json_scan.h"
#include "frontdoor/responses/responses_internal.h"

namespace sy::responses {
namespace {

using internal::BadRequest;

std::string_view ErrorType(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthorized: return "authentication_error";
    case ErrorCode::kRateLimited: return "rate_limit_error";
    case ErrorCode::kForbidden: return "permission_error";
    case ErrorCode::kInsufficientQuota: return "insufficient_quota";
    case ErrorCode::kInternal: return "server_error";
    case ErrorCode::kProviderError:
    case ErrorCode::kNoProvider:
    case ErrorCode::kUpstreamTimeout:
    case ErrorCode::kShuttingDown:
    case ErrorCode::kUnavailable: return "api_error";
    default: return "invalid_request_error";
  }
}

// True when `obj` has `key` with a value other than null.
bool Present(simdjson::dom::object obj, std::string_view key) {
  simdjson::dom::element value;
  return !obj[key].get(value) && !value.is_null();
}

GatewayError Stateless(std::string_view param) {
  return BadRequest("'" + std::string(param) +
                        "' is not supported: this gateway is stateless and stores no responses or conversations. "
                        "Send the full conversation history in 'input' (as with store: false).",
                    std::string(param));
}

}  // namespace

std::variant<InternalRequest, GatewayError> ResponsesFrontDoor::Peek(FrontDoorInput input) const {
  // The depth bound holds for every later capacity bump (simdjson keeps it).
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(64 * 1024, kMaxJsonDepth);  // on failure parse() allocates as needed
    (void)err;
    return p;
  }();
  std::string& body = input.body;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc); err) {
    if (body.empty()) return BadRequest("Request body is empty; expected a JSON object.", "");
    if (err == simdjson::DEPTH_ERROR) {
      return BadRequest("Request body is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels.", "");
    }
    return BadRequest(std::string("Request body is not valid JSON: ") + simdjson::error_message(err), "");
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return BadRequest("Request body must be a JSON object.", "");

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
  if (stream_keys > 1) return BadRequest("Duplicate key 'stream' in the request body.", "stream");

  InternalRequest req;
  req.operation = Operation::kChatCompletions;
  req.wire = WireProtocol::kOpenAIResponses;

  simdjson::dom::element model;
  if (obj["model"].get(model)) return BadRequest("Missing required parameter: 'model'.", "model");
  std::string_view model_name;
  if (model.get_string().get(model_name)) {
    return BadRequest("Invalid type for 'model': expected a string.", "model");
  }
  if (model_name.empty()) return BadRequest("'model' must not be empty.", "model");
  req.model = std::string(model_name);

  simdjson::dom::element stream;
  if (!obj["stream"].get(stream) && !stream.is_null()) {
    bool value = false;
    if (stream.get_bool().get(value)) {
      return BadRequest("Invalid type for 'stream': expected a boolean.", "stream");
    }
    req.stream = value;
  }

  for (std::string_view key : {"previous_response_id", "conversation", "prompt"}) {
    if (Present(obj, key)) return Stateless(key);
  }
  simdjson::dom::element background;
  bool is_background = false;
  if (!obj["background"].get(background) && !background.get_bool().get(is_background) && is_background) {
    return Stateless("background");
  }

  simdjson::dom::element in;
  if (obj["input"].get(in) || in.is_null()) return BadRequest("Missing required parameter: 'input'.", "input");
  if (!in.is_string() && !in.is_array()) {
    return BadRequest("Invalid type for 'input': expected a string or an array of input items.", "input");
  }

  auto span = json::FindTopLevelValue(body, "model");
  if (!span) return BadRequest("Could not locate 'model' in the request body.", "model");
  req.model_span = *span;
  req.raw_body = std::move(body);
  return req;
}

std::optional<GatewayError> ResponsesFrontDoor::ParseEmbed(const InternalRequest& request,
                                                           chat::EmbedRequest* out) const {
  return BadRequest("The Responses API has no embeddings; use POST /v1/embeddings.", "");
}

std::unique_ptr<StreamEncoder> ResponsesFrontDoor::NewStreamEncoder(const InternalRequest& request,
                                                                    const chat::Request& chat) const {
  return internal::NewEncoder(internal::ReadMeta(request));
}

std::string ErrorBody(const GatewayError& error) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("error").BeginObject();
  w.Key("message").String(error.message);
  w.Key("type").String(ErrorType(error.code));
  w.Key("param");
  if (error.param) {
    w.String(*error.param);
  } else {
    w.Null();
  }
  w.Key("code").String(ErrorCodeName(error.code));
  w.EndObject().EndObject();
  return out;
}

ErrorReply ResponsesFrontDoor::EncodeError(const GatewayError& error) const {
  ErrorReply reply;
  reply.status = HttpStatus(error.code);
  reply.body = ErrorBody(error);
  if (error.retry_after) reply.headers.emplace_back("Retry-After", *error.retry_after);
  if (error.code == ErrorCode::kUnauthorized) reply.headers.emplace_back("WWW-Authenticate", "Bearer");
  return reply;
}

std::string ResponsesFrontDoor::ModelObject(const ModelEntry& model, long long created) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("id").String(model.id).Key("object").String("model");
  w.Key("created").Int(created).Key("owned_by").String(model.owned_by).EndObject();
  return out;
}

std::string ResponsesFrontDoor::ModelList(const std::vector<ModelEntry>& models, long long created) const {
  std::string out = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < models.size(); ++i) {
    if (i) out += ",";
    out += ModelObject(models[i], created);
  }
  out += "]}";
  return out;
}

}  // namespace sy::responses
