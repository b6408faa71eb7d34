// OpenAiFrontDoor: responses, stream chunks and embeddings in OpenAI's shapes.
#include <memory>
#include <string>
#include <utility>

#include <openssl/evp.h>
#include <simdjson.h>

#include <cstring>

#include "common/json_writer.h"
#include "core/ids.h"
#include "frontdoor/openai/openai_chat.h"
#include "frontdoor/openai/openai_chat_wire.h"
#include "frontdoor/openai/openai_frontdoor.h"
#include "sse/sse_parser.h"

namespace sy::openai {
namespace {

bool IsCompletions(const InternalRequest& request) { return request.operation == Operation::kCompletions; }

std::string NewResponseId(bool completions) { return chat::NewId(completions ? "cmpl-" : "chatcmpl-"); }

// Writes the members every chunk starts with: id, object, created, model.
void ChunkHeader(json::Writer* w, const std::string& id, bool completions, int64_t created,
                 const std::string& model) {
  w->Key("id").String(id);
  w->Key("object").String(completions ? "text_completion" : "chat.completion.chunk");
  w->Key("created").Int(created);
  w->Key("model").String(model);
}

class ChatStreamEncoder final : public StreamEncoder {
 public:
  ChatStreamEncoder(std::string model, bool completions, bool include_usage, int64_t created)
      : model_(std::move(model)), completions_(completions), include_usage_(include_usage), created_(created) {}

  void Encode(const chat::StreamEvent& event, std::string* out) override {
    if (done_) return;
    if (event.kind == chat::EventKind::kError) {
      done_ = true;
      *out += ErrorEvent(event.error ? *event.error
                                     : MakeError(ErrorCode::kProviderError, "The upstream stream failed."));
      return;
    }
    if (!started_) Start(event.kind == chat::EventKind::kStart ? event.id : std::string(), out);
    switch (event.kind) {
      case chat::EventKind::kStart: break;
      case chat::EventKind::kTextDelta:
        if (!event.text.empty()) Delta(out, "content", event.text);
        break;
      case chat::EventKind::kReasoningDelta:
        if (!event.text.empty() && !completions_) Delta(out, "reasoning_content", event.text);
        break;
      case chat::EventKind::kToolCallStart:
        if (!completions_) ToolCallStart(event, out);
        break;
      case chat::EventKind::kToolCallDelta:
        if (!completions_ && !event.text.empty()) ToolCallDelta(event, out);
        break;
      case chat::EventKind::kUsage:
        if (event.usage) usage_ = event.usage;
        break;
      case chat::EventKind::kFinish: Finish(event, out); break;
      // Signatures and redacted reasoning have no OpenAI form.
      case chat::EventKind::kReasoningSignature:
      case chat::EventKind::kRedactedReasoning:
      case chat::EventKind::kToolCallEnd:
      case chat::EventKind::kError: break;
    }
  }

 private:
  // Opens a chunk: {"id":..,"object":..,"created":..,"model":..,"choices":[{"index":0,
  // (chat) then the caller writes "delta" and closes with CloseChunk.
  void OpenChunk(json::Writer* w) {
    w->BeginObject();
    ChunkHeader(w, id_, completions_, created_, model_);
    w->Key("choices").BeginArray().BeginObject();
  }

  void CloseChunk(json::Writer* w, std::string_view finish, std::string* out, const std::string& buf) {
    if (completions_) w->Key("index").Int(0);
    w->Key("logprobs").Null();
    if (finish.empty()) {
      w->Key("finish_reason").Null();
    } else {
      w->Key("finish_reason").String(finish);
    }
    w->EndObject().EndArray();
    if (include_usage_) w->Key("usage").Null();
    w->EndObject();
    sse::AppendEvent(out, buf);
  }

  void Start(std::string upstream_id, std::string* out) {
    started_ = true;
    id_ = upstream_id.empty() ? NewResponseId(completions_) : std::move(upstream_id);
    if (completions_) return;  // text_completion chunks have no role chunk
    std::string buf;
    json::Writer w(&buf);
    OpenChunk(&w);
    w.Key("index").Int(0);
    w.Key("delta").BeginObject().Key("role").String("assistant").Key("content").String("").EndObject();
    CloseChunk(&w, {}, out, buf);
  }

  // A chunk whose delta holds one string member (chat) or whose text is
  // `value` (completions).
  void Delta(std::string* out, std::string_view key, std::string_view value) {
    std::string buf;
    json::Writer w(&buf);
    OpenChunk(&w);
    if (completions_) {
      w.Key("text").String(value);
    } else {
      w.Key("index").Int(0);
      w.Key("delta").BeginObject().Key(key).String(value).EndObject();
    }
    CloseChunk(&w, {}, out, buf);
  }

  void ToolCallStart(const chat::StreamEvent& event, std::string* out) {
    saw_tool_calls_ = true;
    std::string buf;
    json::Writer w(&buf);
    OpenChunk(&w);
    w.Key("index").Int(0);
    w.Key("delta").BeginObject().Key("tool_calls").BeginArray().BeginObject();
    w.Key("index").Int(event.index);
    w.Key("id").String(event.id);
    w.Key("type").String("function");
    w.Key("function").BeginObject().Key("name").String(event.name).Key("arguments").String("").EndObject();
    w.EndObject().EndArray().EndObject();
    CloseChunk(&w, {}, out, buf);
  }

  void ToolCallDelta(const chat::StreamEvent& event, std::string* out) {
    std::string buf;
    json::Writer w(&buf);
    OpenChunk(&w);
    w.Key("index").Int(0);
    w.Key("delta").BeginObject().Key("tool_calls").BeginArray().BeginObject();
    w.Key("index").Int(event.index);
    w.Key("function").BeginObject().Key("arguments").String(event.text).EndObject();
    w.EndObject().EndArray().EndObject();
    CloseChunk(&w, {}, out, buf);
  }

  void Finish(const chat::StreamEvent& event, std::string* out) {
    done_ = true;
    std::string buf;
    json::Writer w(&buf);
    OpenChunk(&w);
    if (completions_) {
      w.Key("text").String("");
    } else {
      w.Key("index").Int(0);
      w.Key("delta").BeginObject().EndObject();
    }
    CloseChunk(&w, FinishReasonName(event.finish, saw_tool_calls_), out, buf);
    if (include_usage_) {
      std::string u;
      json::Writer uw(&u);
      uw.BeginObject();
      ChunkHeader(&uw, id_, completions_, created_, model_);
      uw.Key("choices").BeginArray().EndArray();
      uw.Key("usage");
      WriteUsage(&uw, usage_.value_or(chat::Usage{}), !completions_);
      uw.EndObject();
      sse::AppendEvent(out, u);
    }
    *out += "data: [DONE]\n\n";
  }

  std::string model_;
  bool completions_;
  bool include_usage_;
  int64_t created_;
  std::string id_;
  bool started_ = false;
  bool done_ = false;
  bool saw_tool_calls_ = false;
  std::optional<chat::Usage> usage_;
};

}  // namespace

std::string OpenAiFrontDoor::EncodeResponse(const InternalRequest& request, const chat::Response& response) const {
  const bool completions = IsCompletions(request);
  std::string text;
  std::string reasoning;
  bool has_text = false;
  std::vector<const chat::Part*> calls;
  for (const auto& p : response.content) {
    if (p.kind == chat::PartKind::kText) {
      text += p.text;
      has_text = true;
    } else if (p.kind == chat::PartKind::kThinking) {
      reasoning += p.text;
    } else if (p.kind == chat::PartKind::kToolCall) {
      calls.push_back(&p);
    }
  }
  const std::string finish(FinishReasonName(response.finish, !calls.empty()));

  std::string out;
  json::Writer w(&out);
  w.BeginObject();
  w.Key("id").String(response.id.empty() ? NewResponseId(completions) : response.id);
  w.Key("object").String(completions ? "text_completion" : "chat.completion");
  w.Key("created").Int(Now());
  w.Key("model").String(request.model);
  w.Key("choices").BeginArray().BeginObject();
  if (completions) {
    w.Key("text").String(text);
    w.Key("index").Int(0);
  } else {
    w.Key("index").Int(0);
    w.Key("message").BeginObject();
    w.Key("role").String("assistant");
    w.Key("content");
    if (has_text) {
      w.String(text);
    } else {
      w.Null();
    }
    if (!reasoning.empty()) w.Key("reasoning_content").String(reasoning);
    if (!calls.empty()) {
      w.Key("tool_calls").BeginArray();
      for (const chat::Part* c : calls) {
        w.BeginObject();
        w.Key("id").String(c->id.empty() ? chat::NewId("call_") : c->id);
        w.Key("type").String("function");
        w.Key("function").BeginObject();
        w.Key("name").String(c->name);
        w.Key("arguments").String(c->arguments.empty() ? std::string_view("{}") : std::string_view(c->arguments));
        w.EndObject();
        w.EndObject();
      }
      w.EndArray();
    }
    w.Key("refusal").Null();
    w.EndObject();
  }
  w.Key("logprobs").Null();
  w.Key("finish_reason").String(finish);
  w.EndObject().EndArray();
  w.Key("usage");
  WriteUsage(&w, response.usage.value_or(chat::Usage{}), !completions);
  w.EndObject();
  return out;
}

std::unique_ptr<StreamEncoder> OpenAiFrontDoor::NewStreamEncoder(const InternalRequest& request,
                                                                 const chat::Request& chat) const {
  return std::make_unique<ChatStreamEncoder>(request.model, IsCompletions(request), chat.include_usage, Now());
}

std::string OpenAiFrontDoor::EncodeEmbed(const InternalRequest& request, const chat::EmbedResponse& response) const {
  // The request asked for base64 (checked by ParseEmbed: "float", "base64" or absent).
  thread_local simdjson::dom::parser parser;
  std::string_view format;
  const bool base64 = !parser.parse(request.raw_body).get_object()["encoding_format"].get_string().get(format) &&
                      format == "base64";
  std::vector<unsigned char> floats;
  std::string encoded;
  std::string out;
  json::Writer w(&out);
  w.BeginObject();
  w.Key("object").String("list");
  w.Key("data").BeginArray();
  for (size_t i = 0; i < response.vectors.size(); ++i) {
    w.BeginObject();
    w.Key("object").String("embedding");
    w.Key("index").Int(static_cast<int64_t>(i));
    if (base64) {
      // OpenAI's base64 form: the vector as little-endian float32, base64-encoded.
      floats.resize(response.vectors[i].size() * 4);
      for (size_t k = 0; k < response.vectors[i].size(); ++k) {
        const float f = static_cast<float>(response.vectors[i][k]);
        uint32_t bits = 0;
        std::memcpy(&bits, &f, 4);
        for (int b = 0; b < 4; ++b) floats[k * 4 + b] = static_cast<unsigned char>(bits >> (8 * b));
      }
      encoded.resize(4 * ((floats.size() + 2) / 3) + 1);
      const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), floats.data(),
                                    static_cast<int>(floats.size()));
      w.Key("embedding").String(std::string_view(encoded.data(), static_cast<size_t>(n)));
    } else {
      w.Key("embedding").BeginArray();
      for (double v : response.vectors[i]) w.Double(v);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("model").String(request.model);
  const int64_t tokens = response.usage ? response.usage->input_tokens : 0;
  w.Key("usage").BeginObject().Key("prompt_tokens").Int(tokens).Key("total_tokens").Int(tokens).EndObject();
  w.EndObject();
  return out;
}

}  // namespace sy::openai
