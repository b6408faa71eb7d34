// Gemini upstream codec: request side (paths, auth, chat / embed / count
// bodies). Responses are decoded in gemini_response.cc and
// gemini_stream_decoder.cc.
#include "provider/gemini/gemini_codec.h"

#include <unordered_map>
#include <vector>

#include "common/json_writer.h"
#include "frontdoor/gemini/gemini_frontdoor.h"
#include "frontdoor/gemini/gemini_wire.h"

namespace sy::gemini {
namespace {

std::string ModelPath(const std::string& upstream_model) {
  return "/v1beta/models/" + PercentEncodeSegment(BareModel(upstream_model));
}

std::string ModelName(const std::string& upstream_model) { return "models/" + std::string(BareModel(upstream_model)); }

// One part of an outgoing Content: a chat part written by WritePart (with the
// signature to send), or a functionResponse.
struct OutPart {
  const chat::Part* part = nullptr;
  std::string signature;
  bool response = false;  // a functionResponse: the fields below
  std::string id;
  std::string name;
  std::string object;  // the response object text
};

struct OutContent {
  bool model = false;
  std::vector<OutPart> parts;
};

// functionResponse.response must be an object: an object text stays; any
// other JSON value, or plain text, is wrapped as {"result": value} ({"error":
// value} for a failed call).
std::string ResponseObject(const chat::Part& result) {
  std::string text;
  bool first = true;
  for (const auto& c : result.content) {
    if (c.kind != chat::PartKind::kText) continue;
    if (!first) text.push_back('\n');
    text += c.text;
    first = false;
  }
  if (auto obj = MinifiedObject(text)) return *obj;
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key(result.is_error ? "error" : "result");
  if (auto value = MinifiedValue(text)) {
    w.Raw(*value);
  } else {
    w.String(text);
  }
  w.EndObject();
  return out;
}

OutPart ResponsePart(const chat::Part& result) {
  OutPart p;
  p.response = true;
  p.id = result.id;
  p.name = result.name;
  p.object = ResponseObject(result);
  return p;
}

// The contents array of a request: alternation, functionResponse grouping and
// counting, names, signatures (see gemini_codec.h).
class ContentsBuilder {
 public:
  explicit ContentsBuilder(const chat::Request& request) : request_(request) {}

  void Build();
  void Write(json::Writer* w) const;

 private:
  void Add(bool model, std::vector<OutPart> parts);
  void AnswerEveryCall();
  void SignCurrentTurn();

  const chat::Request& request_;
  std::vector<OutContent> contents_;
  std::unordered_map<std::string, std::string> call_names_;  // call id → function name
};

void ContentsBuilder::Build() {
  for (const auto& m : request_.messages) {
    for (const auto& p : m.parts) {
      if (p.kind == chat::PartKind::kToolCall && !p.id.empty()) call_names_[p.id] = p.name;
    }
  }
  for (const auto& m : request_.messages) {
    const bool model = m.role == chat::Role::kAssistant;
    std::vector<OutPart> parts;
    std::vector<OutPart> images;  // images of tool results, after the functionResponses
    for (const auto& p : m.parts) {
      switch (p.kind) {
        case chat::PartKind::kText:
          if (!p.text.empty() || (model && !p.signature.empty())) {
            parts.push_back(OutPart{&p, model ? p.signature : std::string(), false, {}, {}, {}});
          }
          break;
        case chat::PartKind::kThinking:
          if (model && !p.text.empty()) parts.push_back(OutPart{&p, {}, false, {}, {}, {}});
          break;
        case chat::PartKind::kToolCall:
          if (model) parts.push_back(OutPart{&p, p.signature, false, {}, {}, {}});
          break;
        case chat::PartKind::kImage: parts.push_back(OutPart{&p, {}, false, {}, {}, {}}); break;
        case chat::PartKind::kToolResult:
          if (model) break;
          parts.push_back(ResponsePart(p));
          for (const auto& c : p.content) {
            if (c.kind == chat::PartKind::kImage) images.push_back(OutPart{&c, {}, false, {}, {}, {}});
          }
          break;
        case chat::PartKind::kRedactedThinking: break;
      }
    }
    for (auto& i : images) parts.push_back(std::move(i));
    Add(model, std::move(parts));
  }
  AnswerEveryCall();
  SignCurrentTurn();
}

void ContentsBuilder::Add(bool model, std::vector<OutPart> parts) {
  if (parts.empty()) return;
  if (!contents_.empty() && contents_.back().model == model) {
    auto& into = contents_.back().parts;
    // A user content keeps its functionResponses first.
    size_t at = into.size();
    if (!model && !parts.empty() && parts.front().response) {
      at = 0;
      while (at < into.size() && into[at].response) ++at;
      size_t n = 0;
      while (n < parts.size() && parts[n].response) ++n;
      into.insert(into.begin() + static_cast<std::ptrdiff_t>(at), std::make_move_iterator(parts.begin()),
                  std::make_move_iterator(parts.begin() + static_cast<std::ptrdiff_t>(n)));
      parts.erase(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(n));
      at = into.size();
    }
    into.insert(into.begin() + static_cast<std::ptrdiff_t>(at), std::make_move_iterator(parts.begin()),
                std::make_move_iterator(parts.end()));
    return;
  }
  contents_.push_back(OutContent{model, std::move(parts)});
}

// Every functionCall of a model content is answered by one functionResponse
// in the user content right after it; names are filled.
void ContentsBuilder::AnswerEveryCall() {
  for (size_t i = 0; i + 1 < contents_.size(); ++i) {
    if (!contents_[i].model) continue;
    std::vector<const chat::Part*> calls;
    for (const auto& p : contents_[i].parts) {
      if (p.part && p.part->kind == chat::PartKind::kToolCall) calls.push_back(p.part);
    }
    auto& answers = contents_[i + 1].parts;
    std::vector<bool> used(answers.size(), false);
    size_t position = 0;
    for (auto& a : answers) {
      if (!a.response) continue;
      if (a.name.empty()) {
        if (auto it = call_names_.find(a.id); !a.id.empty() && it != call_names_.end() && !it->second.empty()) {
          a.name = it->second;
        } else if (position < calls.size()) {
          a.name = calls[position]->name;
        }
      }
      ++position;
    }
    size_t end_of_responses = 0;
    while (end_of_responses < answers.size() && answers[end_of_responses].response) ++end_of_responses;
    std::vector<OutPart> missing;
    for (const chat::Part* call : calls) {
      bool found = false;
      for (size_t k = 0; k < answers.size() && !found; ++k) {
        if (used[k] || !answers[k].response) continue;
        if (call->id.empty() ? answers[k].name == call->name : answers[k].id == call->id) used[k] = found = true;
      }
      if (!found) {
        OutPart p;
        p.response = true;
        p.id = call->id;
        p.name = call->name;
        p.object = "{\"error\":\"No result was provided for this call.\"}";
        missing.push_back(std::move(p));
      }
    }
    answers.insert(answers.begin() + static_cast<std::ptrdiff_t>(end_of_responses),
                   std::make_move_iterator(missing.begin()), std::make_move_iterator(missing.end()));
  }
  for (auto& c : contents_) {
    for (auto& p : c.parts) {
      if (p.response && p.name.empty()) p.name = "unknown_function";  // never name: ""
    }
  }
}

// Gemini 3 validates the signatures of the current turn: the first
// functionCall of each model step there must carry one.
void ContentsBuilder::SignCurrentTurn() {
  // The turn starts at the last user content that is more than tool results
  // (the images of a result ride along with it).
  size_t start = 0;
  for (size_t i = contents_.size(); i-- > 0;) {
    if (contents_[i].model) continue;
    bool responses = false, text = false;
    for (const auto& p : contents_[i].parts) {
      responses = responses || p.response;
      text = text || (p.part && p.part->kind == chat::PartKind::kText);
    }
    if (text || !responses) {
      start = i + 1;
      break;
    }
  }
  for (size_t i = start; i < contents_.size(); ++i) {
    if (!contents_[i].model) continue;
    for (auto& p : contents_[i].parts) {
      if (!p.part || p.part->kind != chat::PartKind::kToolCall) continue;
      if (p.signature.empty()) p.signature = std::string(kSkipSignature);
      break;
    }
  }
}

void ContentsBuilder::Write(json::Writer* w) const {
  w->BeginArray();
  for (const auto& c : contents_) {
    w->BeginObject().Key("role").String(c.model ? "model" : "user").Key("parts").BeginArray();
    for (const auto& p : c.parts) {
      if (p.part) {
        WritePart(w, *p.part, p.signature);
        continue;
      }
      w->BeginObject().Key("functionResponse").BeginObject();
      if (!p.id.empty()) w->Key("id").String(p.id);
      w->Key("name").String(p.name).Key("response").Raw(p.object);
      w->EndObject().EndObject();
    }
    w->EndArray().EndObject();
  }
  w->EndArray();
}

void WriteSystem(json::Writer* w, const chat::Request& request) {
  w->BeginObject().Key("parts").BeginArray();
  for (const auto& p : request.system) {
    if (p.kind == chat::PartKind::kText && !p.text.empty()) w->BeginObject().Key("text").String(p.text).EndObject();
  }
  w->EndArray().EndObject();
}

bool HasSystem(const chat::Request& request) {
  for (const auto& p : request.system) {
    if (p.kind == chat::PartKind::kText && !p.text.empty()) return true;
  }
  return false;
}

void WriteTools(json::Writer* w, const chat::Request& request) {
  w->BeginArray().BeginObject().Key("functionDeclarations").BeginArray();
  for (const auto& t : request.tools) {
    w->BeginObject().Key("name").String(t.name);
    if (!t.description.empty()) w->Key("description").String(t.description);
    auto schema = MinifiedObject(t.parameters);
    w->Key("parametersJsonSchema").Raw(schema ? *schema : std::string("{\"type\":\"object\",\"properties\":{}}"));
    w->EndObject();
  }
  w->EndArray().EndObject().EndArray();
}

int64_t EffortBudget(std::string_view effort) {
  if (effort == "minimal") return 512;  // the smallest budget every 2.5 model accepts
  if (effort == "low") return 1024;
  if (effort == "medium") return 8192;
  return 24576;  // "high" and anything stronger
}

void WriteGenerationConfig(json::Writer* w, const chat::Request& r) {
  std::string body;
  json::Writer g(&body);
  g.BeginObject();
  if (r.temperature) g.Key("temperature").Double(*r.temperature);
  if (r.top_p) g.Key("topP").Double(*r.top_p);
  if (r.top_k) g.Key("topK").Int(*r.top_k);
  if (r.max_tokens) g.Key("maxOutputTokens").Int(*r.max_tokens);
  if (!r.stop.empty()) {
    g.Key("stopSequences").BeginArray();
    for (const auto& s : r.stop) g.String(s);
    g.EndArray();
  }
  if (r.presence_penalty) g.Key("presencePenalty").Double(*r.presence_penalty);
  if (r.frequency_penalty) g.Key("frequencyPenalty").Double(*r.frequency_penalty);
  if (r.seed) g.Key("seed").Int(*r.seed);
  if (r.n && *r.n == 1) g.Key("candidateCount").Int(1);
  if (r.response_format.type != chat::ResponseFormat::Type::kText) {
    g.Key("responseMimeType").String("application/json");
    if (r.response_format.type == chat::ResponseFormat::Type::kJsonSchema) {
      if (auto schema = MinifiedObject(r.response_format.schema)) g.Key("responseJsonSchema").Raw(*schema);
    }
  }
  const auto& rs = r.reasoning;
  if (rs.enabled.has_value() || rs.budget_tokens || !rs.effort.empty()) {
    g.Key("thinkingConfig").BeginObject();
    if (rs.enabled == false) {
      g.Key("thinkingBudget").Int(0);
    } else {
      if (rs.budget_tokens) {
        g.Key("thinkingBudget").Int(*rs.budget_tokens);
      } else if (!rs.effort.empty()) {
        g.Key("thinkingBudget").Int(EffortBudget(rs.effort));
      }
      g.Key("includeThoughts").Bool(rs.include_thoughts);
    }
    g.EndObject();
  }
  g.EndObject();
  if (body != "{}") w->Key("generationConfig").Raw(body);
}

void WriteToolConfig(json::Writer* w, const chat::ToolChoice& choice) {
  const char* mode = nullptr;
  switch (choice.mode) {
    case chat::ToolChoiceMode::kUnset: return;
    case chat::ToolChoiceMode::kAuto: mode = "AUTO"; break;
    case chat::ToolChoiceMode::kNone: mode = "NONE"; break;
    case chat::ToolChoiceMode::kRequired:
    case chat::ToolChoiceMode::kNamed: mode = "ANY"; break;
  }
  w->Key("toolConfig").BeginObject().Key("functionCallingConfig").BeginObject().Key("mode").String(mode);
  if (choice.mode == chat::ToolChoiceMode::kNamed) {
    w->Key("allowedFunctionNames").BeginArray().String(choice.name).EndArray();
  }
  w->EndObject().EndObject();
}

}  // namespace

std::pair<std::string, std::string> GeminiCodec::AuthHeader(const std::string& key) const {
  return {"x-goog-api-key", key};
}

std::string GeminiCodec::PassthroughPath(const InternalRequest& request, const std::string& upstream_model) const {
  std::string path = ModelPath(upstream_model);
  switch (request.operation) {
    case Operation::kChatCompletions:
    case Operation::kCompletions:
      if (!request.stream) return path + ":generateContent";
      return path + (request.shape == kShapeStreamJsonArray ? ":streamGenerateContent" : ":streamGenerateContent?alt=sse");
    case Operation::kCountTokens: return path + ":countTokens";
    case Operation::kEmbeddings: return path + (request.shape == kShapeBatchEmbed ? ":batchEmbedContents" : ":embedContent");
  }
  return path + ":generateContent";
}

std::variant<UpstreamCall, GatewayError> GeminiCodec::EncodeChat(const chat::Request& request,
                                                                const std::string& upstream_model,
                                                                const CodecOptions& options) const {
  if (request.n && *request.n > 1 && !options.drop_params) return chat::Unsupported("n", "gemini");
  ContentsBuilder contents(request);
  contents.Build();

  UpstreamCall call;
  call.path = ModelPath(upstream_model) + (request.stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  json::Writer w(&call.body);
  w.BeginObject().Key("contents");
  contents.Write(&w);
  if (HasSystem(request)) {
    w.Key("systemInstruction");
    WriteSystem(&w, request);
  }
  if (!request.tools.empty()) {
    w.Key("tools");
    WriteTools(&w, request);
  }
  WriteToolConfig(&w, request.tool_choice);
  WriteGenerationConfig(&w, request);
  w.EndObject();
  return call;
}

std::variant<UpstreamCall, GatewayError> GeminiCodec::EncodeEmbed(const chat::EmbedRequest& request,
                                                                 const std::string& upstream_model) const {
  UpstreamCall call;
  call.path = ModelPath(upstream_model) + ":batchEmbedContents";
  json::Writer w(&call.body);
  w.BeginObject().Key("requests").BeginArray();
  for (const auto& input : request.inputs) {
    w.BeginObject().Key("model").String(ModelName(upstream_model));
    w.Key("content").BeginObject().Key("parts").BeginArray().BeginObject().Key("text").String(input);
    w.EndObject().EndArray().EndObject();
    if (!request.task_type.empty()) w.Key("taskType").String(request.task_type);
    if (request.dimensions) w.Key("outputDimensionality").Int(*request.dimensions);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return call;
}

std::optional<UpstreamCall> GeminiCodec::EncodeCountTokens(const chat::Request& request,
                                                           const std::string& upstream_model) const {
  ContentsBuilder contents(request);
  contents.Build();
  UpstreamCall call;
  call.path = ModelPath(upstream_model) + ":countTokens";
  json::Writer w(&call.body);
  w.BeginObject();
  const bool full = HasSystem(request) || !request.tools.empty();
  if (full) w.Key("generateContentRequest").BeginObject().Key("model").String(ModelName(upstream_model));
  w.Key("contents");
  contents.Write(&w);
  if (full) {
    if (HasSystem(request)) {
      w.Key("systemInstruction");
      WriteSystem(&w, request);
    }
    if (!request.tools.empty()) {
      w.Key("tools");
      WriteTools(&w, request);
    }
    w.EndObject();
  }
  w.EndObject();
  return call;
}

}  // namespace sy::gemini
