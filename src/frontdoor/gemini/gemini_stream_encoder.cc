// Gemini front door: internal stream events → streamGenerateContent chunks,
// framed as SSE ("data: {chunk}\r\n\r\n", never [DONE]) or as one JSON array
// ("[" chunk ",\r\n" chunk ... "]").
//
// Each chunk is a GenerateContentResponse with one part. The latest part is
// held back until the next event: a kReasoningSignature then lands on it as
// its thoughtSignature (the Gemini codec emits a part's signature right after
// the part), and the final chunk carries the last part together with
// finishReason and usageMetadata, as Gemini's own streams do (Gemini CLI
// checks that the last chunk is a valid one with a finish reason).
#include <map>

#include "common/json_writer.h"
#include "core/ids.h"
#include "frontdoor/gemini/gemini_frontdoor.h"
#include "frontdoor/gemini/gemini_wire.h"

namespace sy::gemini {
namespace {

class GeminiStreamEncoder final : public StreamEncoder {
 public:
  GeminiStreamEncoder(bool json_array, std::string model) : json_array_(json_array), model_(std::move(model)) {}

  void Encode(const chat::StreamEvent& event, std::string* out) override;

 private:
  // Holds `part`, writing the part held before it.
  void Hold(chat::Part part, std::string* out);
  // Writes the held part, if any, as a chunk of its own.
  void Flush(std::string* out);
  // One chunk: `part` (may be null), and finishReason + usage when `finish`.
  void Chunk(const chat::Part* part, const chat::FinishReason* finish, std::string* out);
  void Frame(std::string_view json, std::string* out);
  void Close(std::string* out);

  const bool json_array_;
  const std::string model_;
  std::string response_id_;
  bool opened_ = false;  // JSON array: "[" written
  bool done_ = false;
  bool last_reasoning_ = false;  // the latest content part was a thought
  std::optional<chat::Part> held_;
  std::map<int, chat::Part> calls_;  // open tool calls by index
  std::optional<chat::Usage> usage_;
};

void GeminiStreamEncoder::Encode(const chat::StreamEvent& event, std::string* out) {
  if (done_) return;
  switch (event.kind) {
    case chat::EventKind::kStart:
      if (!event.id.empty()) response_id_ = event.id;
      if (event.usage) usage_ = event.usage;
      break;
    case chat::EventKind::kTextDelta:
    case chat::EventKind::kReasoningDelta: {
      if (event.text.empty()) break;
      chat::Part p;
      p.kind = event.kind == chat::EventKind::kTextDelta ? chat::PartKind::kText : chat::PartKind::kThinking;
      p.text = event.text;
      Hold(std::move(p), out);
      break;
    }
    case chat::EventKind::kReasoningSignature: {
      if (event.text.empty()) break;
      if (held_ && held_->signature.empty()) {
        held_->signature = event.text;
        break;
      }
      chat::Part p;
      p.kind = last_reasoning_ ? chat::PartKind::kThinking : chat::PartKind::kText;
      p.signature = event.text;
      Hold(std::move(p), out);
      break;
    }
    case chat::EventKind::kRedactedReasoning: break;  // no Gemini equivalent
    case chat::EventKind::kToolCallStart: {
      chat::Part p;
      p.kind = chat::PartKind::kToolCall;
      p.id = event.id.empty() ? chat::SafeToolId("", "call_") : event.id;
      p.name = event.name;
      calls_[event.index] = std::move(p);
      break;
    }
    case chat::EventKind::kToolCallDelta:
      if (auto it = calls_.find(event.index); it != calls_.end()) it->second.arguments += event.text;
      break;
    case chat::EventKind::kToolCallEnd:
      if (auto it = calls_.find(event.index); it != calls_.end()) {
        chat::Part call = std::move(it->second);
        calls_.erase(it);
        Hold(std::move(call), out);
      }
      break;
    case chat::EventKind::kUsage:
      if (event.usage) usage_ = event.usage;
      break;
    case chat::EventKind::kFinish: {
      for (auto& [index, call] : calls_) Hold(std::move(call), out);  // calls never ended
      calls_.clear();
      const chat::FinishReason finish = event.finish;
      Chunk(held_ ? &*held_ : nullptr, &finish, out);
      held_.reset();
      Close(out);
      break;
    }
    case chat::EventKind::kError: {
      Flush(out);
      Frame(ErrorObject(event.error ? *event.error : MakeError(ErrorCode::kInternal, "The stream failed.")), out);
      Close(out);
      break;
    }
  }
}

void GeminiStreamEncoder::Hold(chat::Part part, std::string* out) {
  Flush(out);
  if (part.kind != chat::PartKind::kToolCall) last_reasoning_ = part.kind == chat::PartKind::kThinking;
  held_ = std::move(part);
}

void GeminiStreamEncoder::Flush(std::string* out) {
  if (!held_) return;
  Chunk(&*held_, nullptr, out);
  held_.reset();
}

void GeminiStreamEncoder::Chunk(const chat::Part* part, const chat::FinishReason* finish, std::string* out) {
  if (response_id_.empty()) response_id_ = chat::NewId("", 24);
  std::string json;
  json::Writer w(&json);
  w.BeginObject().Key("candidates").BeginArray().BeginObject();
  if (part) {
    w.Key("content").BeginObject().Key("parts").BeginArray();
    WritePart(&w, *part, part->signature);
    w.EndArray().Key("role").String("model").EndObject();
  }
  if (finish) w.Key("finishReason").String(FinishReasonWire(*finish));
  w.Key("index").Int(0).EndObject().EndArray();
  if (finish && usage_) {
    w.Key("usageMetadata");
    WriteUsageMetadata(&w, *usage_);
  }
  w.Key("modelVersion").String(model_).Key("responseId").String(response_id_);
  w.EndObject();
  Frame(json, out);
}

void GeminiStreamEncoder::Frame(std::string_view json, std::string* out) {
  if (!json_array_) {
    out->append("data: ");
    out->append(json);
    out->append("\r\n\r\n");
    return;
  }
  out->append(opened_ ? ",\r\n" : "[");
  opened_ = true;
  out->append(json);
}

void GeminiStreamEncoder::Close(std::string* out) {
  done_ = true;
  if (!json_array_) return;
  if (!opened_) out->push_back('[');
  opened_ = true;
  out->push_back(']');
}

}  // namespace

std::unique_ptr<StreamEncoder> GeminiFrontDoor::NewStreamEncoder(const InternalRequest& request,
                                                                 const chat::Request& chat) const {
  return std::make_unique<GeminiStreamEncoder>(request.shape == kShapeStreamJsonArray, request.model);
}

std::string GeminiFrontDoor::StreamContentType(const InternalRequest& request) const {
  return request.shape == kShapeStreamJsonArray ? "application/json" : "text/event-stream";
}

}  // namespace sy::gemini
