// Ollama front door, discovery endpoints: /api/tags, /api/show,
// /api/version, /api/ps. A local model shows its GGUF facts (size,
// quantization, parameter count, template, metadata); a remote one has empty
// strings and zeros there that still parse in Ollama's clients.
#include <simdjson.h>

#include <cstdio>
#include <ctime>
#include <string>

#include "common/json_writer.h"
#include "frontdoor/ollama/ollama_frontdoor.h"
#include "frontdoor/ollama/ollama_wire.h"

namespace sy::ollama {
namespace {

constexpr std::string_view kFormat = "remote";

// Ollama's parameter_size: "494.03M", "7.6B".
std::string ParameterSize(int64_t n) {
  if (n <= 0) return "";
  char buf[32];
  if (n >= 1000000000) {
    snprintf(buf, sizeof buf, "%.1fB", static_cast<double>(n) / 1e9);
  } else {
    snprintf(buf, sizeof buf, "%.2fM", static_cast<double>(n) / 1e6);
  }
  return buf;
}

void WriteDetails(json::Writer& w, const ModelEntry& model) {
  w.Key("details").BeginObject();
  w.Key("parent_model").String("").Key("format").String(model.format.empty() ? kFormat : model.format);
  w.Key("family").String(model.family);
  if (model.family.empty()) {
    w.Key("families").Null();
  } else {
    w.Key("families").BeginArray().String(model.family).EndArray();
  }
  w.Key("parameter_size").String(ParameterSize(model.parameter_count));
  w.Key("quantization_level").String(model.quantization);
  w.EndObject();
}

long long ModifiedAt(const ModelEntry& model, long long created) {
  return model.modified_at > 0 ? model.modified_at : created;
}

void WriteTag(json::Writer& w, const ModelEntry& model, long long created) {
  w.BeginObject();
  w.Key("name").String(model.id).Key("model").String(model.id);
  w.Key("modified_at").String(wire::FormatTimeSeconds(ModifiedAt(model, created)));
  w.Key("size").Int(static_cast<int64_t>(model.size)).Key("digest").String(wire::Sha256Hex(model.id));
  WriteDetails(w, model);
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
  w.Key("parameters").String("").Key("template").String(model.chat_template);
  WriteDetails(w, model);
  w.Key("model_info").BeginObject();
  if (model.format.empty()) {
    w.Key("general.architecture").String(kFormat);
    w.Key("general.basename").String(model.id);
    w.Key(std::string(kFormat) + ".context_length").Int(context_length);
  } else {
    // The GGUF file's own metadata (numbers stay numbers where they read as such).
    for (const auto& [key, value] : model.metadata) {
      if (key == "tokenizer.chat_template") continue;  // it is "template" above
      w.Key(key).String(value);
    }
    w.Key("general.parameter_count").Int(model.parameter_count);
  }
  w.EndObject();
  w.Key("capabilities").BeginArray();
  if (model.embedding) {
    w.String("embedding");
  } else {
    w.String("completion");
    if (model.format.empty() || model.functions) w.String("tools");
  }
  w.EndArray();
  w.Key("modified_at").String(wire::FormatTimeSeconds(ModifiedAt(model, created)));
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
    w.Key("name").String(m.id).Key("model").String(m.id).Key("size").Int(static_cast<int64_t>(m.size));
    w.Key("digest").String(wire::Sha256Hex(m.id));
    WriteDetails(w, m);
    // Not set to expire (busy, or keep_alive -1): Go's zero time, which Ollama's clients parse.
    std::string expires = "0001-01-01T00:00:00Z";
    if (m.expires_in_ms >= 0) expires = wire::FormatTimeSeconds(static_cast<long long>(std::time(nullptr)) + (m.expires_in_ms + 999) / 1000);
    w.Key("expires_at").String(expires).Key("size_vram").Int(0);
    if (!m.state.empty()) {
      // Beyond Ollama's fields: where a local model's engine stands.
      w.Key("state").String(m.state);
      w.Key("load_progress").Double(static_cast<double>(static_cast<int64_t>(m.load_progress * 1000)) / 1000.0);
    }
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
