#include "frontdoor/openai/openai_frontdoor.h"

#include <simdjson.h>

#include "common/json_writer.h"
#include "frontdoor/openai/json_scan.h"
#include "sse/sse_parser.h"

namespace sy::openai {
namespace {

GatewayError BadRequest(std::string message, std::string param = {}) {
  GatewayError e{ErrorCode::kBadRequest, std::move(message), std::nullopt, std::nullopt, {}};
  if (!param.empty()) e.param = std::move(param);
  return e;
}

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

// Field required by each operation besides "model".
std::string_view RequiredField(Operation op) {
  switch (op) {
    case Operation::kChatCompletions: return "messages";
    case Operation::kCompletions: return "prompt";
    case Operation::kEmbeddings: return "input";
    case Operation::kCountTokens: return "";
  }
  return "";
}

}  // namespace

std::variant<InternalRequest, GatewayError> ParseRequest(Operation op, std::string body) {
  // The depth bound holds for every later capacity bump (simdjson keeps it).
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(64 * 1024, kMaxJsonDepth);  // on failure parse() allocates as needed
    (void)err;
    return p;
  }();
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
  req.operation = op;
  req.wire = WireProtocol::kOpenAI;

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
  if (op == Operation::kEmbeddings && req.stream) {
    return BadRequest("Embeddings do not support 'stream'.", "stream");
  }

  std::string_view required = RequiredField(op);
  simdjson::dom::element field;
  if (obj[required].get(field)) {
    return BadRequest("Missing required parameter: '" + std::string(required) + "'.", std::string(required));
  }
  if (op == Operation::kChatCompletions) {
    simdjson::dom::array messages;
    if (field.get_array().get(messages)) {
      return BadRequest("Invalid type for 'messages': expected an array.", "messages");
    }
    if (messages.size() == 0) return BadRequest("'messages' must contain at least one message.", "messages");
  }

  auto span = json::FindTopLevelValue(body, "model");
  if (!span) return BadRequest("Could not locate 'model' in the request body.", "model");
  req.model_span = *span;
  req.raw_body = std::move(body);
  return req;
}

std::string ErrorBody(const GatewayError& error) {
  std::string out = "{\"error\":{\"message\":";
  json::AppendString(&out, error.message);
  out += ",\"type\":\"";
  out += ErrorType(error.code);
  out += "\",\"param\":";
  if (error.param) {
    json::AppendString(&out, *error.param);
  } else {
    out += "null";
  }
  out += ",\"code\":\"";
  out += ErrorCodeName(error.code);
  out += "\"}}";
  return out;
}

std::string ErrorEvent(const GatewayError& error) {
  return sse::FormatEvent(ErrorBody(error));
}

std::string ModelObject(const ModelEntry& model, long long created) {
  std::string out = "{\"id\":";
  json::AppendString(&out, model.id);
  out += ",\"object\":\"model\",\"created\":" + std::to_string(created) + ",\"owned_by\":";
  json::AppendString(&out, model.owned_by);
  if (model.detailed) {
    out += ",\"provider\":";
    json::AppendString(&out, model.owned_by);
    out += ",\"context_length\":";
    out += model.context_length > 0 ? std::to_string(model.context_length) : "null";
    out += ",\"pricing\":";
    if (model.input_per_1k >= 0) {
      json::Writer w(&out);
      w.BeginObject().Key("input_per_1k").Double(model.input_per_1k).Key("output_per_1k").Double(model.output_per_1k);
      w.EndObject();
    } else {
      out += "null";
    }
    out += ",\"capabilities\":";
    json::Writer w(&out);
    w.BeginObject().Key("vision").Bool(model.vision).Key("functions").Bool(model.functions);
    w.Key("streaming").Bool(model.streaming).EndObject();
  }
  out += "}";
  return out;
}

std::string ModelList(const std::vector<ModelEntry>& models, long long created) {
  std::string out = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < models.size(); ++i) {
    if (i) out += ",";
    out += ModelObject(models[i], created);
  }
  out += "]}";
  return out;
}

}  // namespace sy::openai
