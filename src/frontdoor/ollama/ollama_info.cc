// Ollama front door, discovery endpoints: /api/tags, /api/show,
// /api/version, /api/ps. Every model is remote to the gateway, so the GGUF
// facts Ollama reports (size, quantization, parameter count) are empty
// strings and zeros that still parse in Ollama's clients.
#include <simdjson.h>

#include <string>

#include "common/json_writer.h"
#include "frontdoor/ollama/ollama_frontdoor.h"
#include "frontdoor/ollama/ollama_wire.h"

namespace sy::ollama {
namespace {

constexpr std::string_view kFormat = "remote";

void WriteDetails(json::Writer& w) {
  w.Key("details").BeginObject();
  w.Key("parent_model").String("").Key("format").String(kFormat).Key("family").String("");
  w.Key("families").Null().Key("parameter_size").String("").Key("quantization_level").String("");
  w.EndObject();
}

void WriteTag(json::Writer& w, const ModelEntry& model, long long created) {
  w.BeginObject();
  w.Key("name").String(model.id).Key("model").String(model.id);
  w.Key("modified_at").String(wire::FormatTimeSeconds(created));
  w.Key("size").Int(0).Key("digest").String(wire::Sha256Hex(model.id));
  WriteDetails(w);
  w.EndObject();
}

}  // namespace

std::string OllamaFrontDoor::Tags(const std::vector<ModelEntry>& models, long long created) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("models").BeginArray();
  for (const auto& m : models) WriteTag(w, m, created);
  w.EndArray().EndObject();
  return out;
}

std::string OllamaFrontDoor::ModelList(const std::vector<ModelEntry>& models, long long created) const {
  return Tags(models, created);
}

std::string OllamaFrontDoor::ModelObject(const ModelEntry& model, long long created) const {
  std::string out;
  json::Writer w(&out);
  WriteTag(w, model, created);
  return out;
}

std::variant<std::string, GatewayError> OllamaFrontDoor::ShowRequestModel(std::string_view body) const {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(4 * 1024, kMaxJsonDepth);
    (void)err;
    return p;
  }();
  auto bad = [](std::string message) {
    GatewayError e = MakeError(ErrorCode::kBadRequest, std::move(message));
    e.param = "model";
    return e;
  };
  simdjson::dom::object obj;
  if (parser.parse(body.data(), body.size()).get_object().get(obj)) {
    return bad("Request body must be a JSON object with a 'model'.");
  }
  for (std::string_view key : {"model", "name"}) {  // "name" is the deprecated spelling
    simdjson::dom::element e;
    if (obj[key].get(e) || e.is_null()) continue;
    std::string_view name;
    if (e.get_string().get(name)) return bad("Invalid type for '" + std::string(key) + "': expected a string.");
    if (!name.empty()) return std::string(name);
  }
  return bad("Missing required parameter: 'model'.");
}

std::string OllamaFrontDoor::Show(const ModelEntry& model, long long created, int64_t context_length) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject();
  w.Key("modelfile").String("# Served by Switchyard from provider " + model.owned_by + "\nFROM " + model.id + "\n");
  w.Key("parameters").String("").Key("template").String("");
  WriteDetails(w);
  w.Key("model_info").BeginObject();
  w.Key("general.architecture").String(kFormat);
  w.Key("general.basename").String(model.id);
  w.Key(std::string(kFormat) + ".context_length").Int(context_length);
  w.EndObject();
  w.Key("capabilities").BeginArray().String("completion").String("tools").EndArray();
  w.Key("modified_at").String(wire::FormatTimeSeconds(created));
  w.EndObject();
  return out;
}

std::string OllamaFrontDoor::Version(std::string_view version) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("version").String(version).EndObject();
  return out;
}

std::string OllamaFrontDoor::Ps(const std::vector<ModelEntry>& models) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("models").BeginArray();
  for (const auto& m : models) {
    w.BeginObject();
    w.Key("name").String(m.id).Key("model").String(m.id).Key("size").Int(0);
    w.Key("digest").String(wire::Sha256Hex(m.id));
    WriteDetails(w);
    // Never unloaded: Go's zero time, which Ollama's clients parse.
    w.Key("expires_at").String("0001-01-01T00:00:00Z").Key("size_vram").Int(0);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return out;
}

std::string_view OllamaFrontDoor::StripLatest(std::string_view model) {
  constexpr std::string_view kLatest = ":latest";
  if (model.size() > kLatest.size() && model.ends_with(kLatest)) model.remove_suffix(kLatest.size());
  return model;
}

}  // namespace sy::ollama
