// Fuzzes the OpenAI front door (openai::ParseRequest) and the passthrough
// model rewrite (HttpProvider::RewriteModel) on request bodies.
//
// For each Operation: when ParseRequest accepts the body,
//   - model_span lies inside raw_body and is the JSON string token whose
//     value is request.model (the member simdjson read "model" from);
//   - the body rewritten for a fixed upstream model (one that needs JSON
//     escaping) is valid JSON, still an object, and its top-level "model"
//     is exactly that upstream model; "stream" reads the same as before.
// Rejections must carry a message. Checked with the real simdjson.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "frontdoor/openai/openai_frontdoor.h"
#include "provider/http_provider.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

const std::string kUpstreamModel = "up/model-\"q\"\\\xc3\xa9\n";  // quote, backslash, é, newline

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  static simdjson::dom::parser checker;
  for (auto op : {sy::Operation::kChatCompletions, sy::Operation::kCompletions, sy::Operation::kEmbeddings}) {
    auto parsed = sy::openai::ParseRequest(op, body);
    if (auto* error = std::get_if<sy::GatewayError>(&parsed)) {
      Check(!error->message.empty());
      continue;
    }
    const auto& req = std::get<sy::InternalRequest>(parsed);
    Check(req.operation == op && req.raw_body == body && !req.model.empty());
    Check(req.model_span.begin < req.model_span.end && req.model_span.end <= body.size());

    // The span is a JSON string token that decodes to req.model.
    const std::string token = body.substr(req.model_span.begin, req.model_span.end - req.model_span.begin);
    std::string_view decoded;
    Check(checker.parse(token).get_string().get(decoded) == simdjson::SUCCESS);
    Check(decoded == req.model);

    const std::string rewritten = sy::HttpProvider::RewriteModel(req, kUpstreamModel);
    simdjson::dom::object obj;
    Check(checker.parse(rewritten).get_object().get(obj) == simdjson::SUCCESS);
    std::string_view model;
    Check(obj["model"].get_string().get(model) == simdjson::SUCCESS);
    Check(model == kUpstreamModel);
    bool stream = false;
    simdjson::dom::element s;
    if (obj["stream"].get(s) == simdjson::SUCCESS && !s.is_null()) {
      Check(s.get_bool().get(stream) == simdjson::SUCCESS);
    }
    Check(stream == req.stream);
  }
  return 0;
}
