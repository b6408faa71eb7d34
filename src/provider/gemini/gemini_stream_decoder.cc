// Gemini upstream codec: streamGenerateContent?alt=sse → internal stream
// events. Each SSE data is one GenerateContentResponse; there is no end
// marker, so the stream is complete when a chunk carried a finishReason (or a
// blocked prompt) and the body ended. kFinish is only emitted by Finish(),
// after the last (cumulative) usage.
#include <vector>

#include "core/ids.h"
#include "frontdoor/gemini/gemini_wire.h"
#include "provider/gemini/gemini_codec.h"
#include "provider/gemini/gemini_decode.h"
#include "sse/sse_parser.h"

namespace sy::gemini {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

class GeminiStreamDecoder final : public StreamDecoder {
 public:
  GeminiStreamDecoder() : sse_([this](const sse::Event& e) { OnEvent(e); }) {}

  void Feed(std::string_view bytes, std::vector<chat::StreamEvent>* out) override;
  void Finish(std::vector<chat::StreamEvent>* out) override;

 private:
  void OnEvent(const sse::Event& event);
  void Chunk(DecodedChunk chunk);
  void Fail(GatewayError error);
  void Emit(chat::StreamEvent e) { out_->push_back(std::move(e)); }
  void Signature(const std::string& signature);

  sse::Parser sse_;
  std::vector<chat::StreamEvent>* out_ = nullptr;  // valid during Feed / Finish
  bool started_ = false;
  bool done_ = false;
  bool finished_ = false;  // a finishReason (or a blocked prompt) was seen
  bool saw_call_ = false;
  int next_index_ = 0;
  chat::FinishReason finish_ = chat::FinishReason::kNone;
  std::optional<chat::Usage> usage_;
};

void GeminiStreamDecoder::Feed(std::string_view bytes, std::vector<chat::StreamEvent>* out) {
  if (done_) return;
  out_ = out;
  sse_.Feed(bytes);
  out_ = nullptr;
}

void GeminiStreamDecoder::Finish(std::vector<chat::StreamEvent>* out) {
  if (done_) return;
  out_ = out;
  // A last event without its blank line still counts.
  if (sse_.partial()) sse_.Feed("\n\n");
  if (!done_) {
    done_ = true;
    if (!finished_) {
      chat::StreamEvent e;
      e.kind = chat::EventKind::kError;
      e.error = MakeError(ErrorCode::kProviderError, "The Gemini upstream stream ended early.",
                          "gemini: stream ended without a finishReason");
      Emit(std::move(e));
    } else {
      if (usage_) {
        chat::StreamEvent u;
        u.kind = chat::EventKind::kUsage;
        u.usage = usage_;
        Emit(std::move(u));
      }
      chat::StreamEvent f;
      f.kind = chat::EventKind::kFinish;
      f.finish = finish_ == chat::FinishReason::kStop && saw_call_ ? chat::FinishReason::kToolCalls : finish_;
      Emit(std::move(f));
    }
  }
  out_ = nullptr;
}

void GeminiStreamDecoder::OnEvent(const sse::Event& event) {
  if (done_ || out_ == nullptr) return;
  std::string_view data = Trim(event.data);
  if (data.empty() || data == "[DONE]") return;
  DecodedChunk chunk;
  if (auto e = DecodeChunk(data, &chunk)) {
    Fail(std::move(*e));
    return;
  }
  if (chunk.error) {
    Fail(std::move(*chunk.error));
    return;
  }
  Chunk(std::move(chunk));
}

void GeminiStreamDecoder::Fail(GatewayError error) {
  done_ = true;
  chat::StreamEvent e;
  e.kind = chat::EventKind::kError;
  e.error = std::move(error);
  Emit(std::move(e));
}

void GeminiStreamDecoder::Signature(const std::string& signature) {
  if (signature.empty()) return;
  chat::StreamEvent e;
  e.kind = chat::EventKind::kReasoningSignature;
  e.text = signature;
  Emit(std::move(e));
}

void GeminiStreamDecoder::Chunk(DecodedChunk chunk) {
  if (!started_) {
    started_ = true;
    chat::StreamEvent s;
    s.kind = chat::EventKind::kStart;
    s.id = chunk.id.empty() ? chat::NewId("", 24) : chunk.id;
    s.model = chunk.model;
    s.usage = chunk.usage;  // Gemini tells the prompt size on every chunk
    Emit(std::move(s));
  }
  if (chunk.usage) usage_ = chunk.usage;  // cumulative: the last one wins
  for (auto& p : chunk.parts) {
    switch (p.kind) {
      case chat::PartKind::kText:
      case chat::PartKind::kThinking:
        if (!p.text.empty()) {
          chat::StreamEvent e;
          e.kind = p.kind == chat::PartKind::kText ? chat::EventKind::kTextDelta : chat::EventKind::kReasoningDelta;
          e.text = std::move(p.text);
          Emit(std::move(e));
        }
        Signature(p.signature);
        break;
      case chat::PartKind::kToolCall: {
        saw_call_ = true;
        const int index = next_index_++;
        chat::StreamEvent start;
        start.kind = chat::EventKind::kToolCallStart;
        start.index = index;
        start.id = std::move(p.id);
        start.name = std::move(p.name);
        Emit(std::move(start));
        chat::StreamEvent delta;
        delta.kind = chat::EventKind::kToolCallDelta;
        delta.index = index;
        delta.text = std::move(p.arguments);
        Emit(std::move(delta));
        chat::StreamEvent end;
        end.kind = chat::EventKind::kToolCallEnd;
        end.index = index;
        Emit(std::move(end));
        Signature(p.signature);
        break;
      }
      default: break;  // images have no stream event
    }
  }
  if (!chunk.finish_reason.empty()) {
    finished_ = true;
    finish_ = ParseFinishReason(chunk.finish_reason);
  } else if (chunk.blocked) {
    finished_ = true;
    finish_ = chat::FinishReason::kContentFilter;
  }
}

}  // namespace

std::unique_ptr<StreamDecoder> GeminiCodec::NewStreamDecoder() const { return std::make_unique<GeminiStreamDecoder>(); }

}  // namespace sy::gemini
