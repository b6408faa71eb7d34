// Ollama front door, streams: internal events → NDJSON lines, one JSON object
// per line, as /api/chat and /api/generate stream them.
//
//   text      → {"model","created_at","message":{"role":"assistant","content":"…"},"done":false}
//               (generate: {"model","created_at","response":"…","done":false})
//   reasoning → the same with "thinking" (content / response "")
//   tool call → buffered until its kToolCallEnd, then one line carrying the
//               complete call, arguments as an object (chat only; generate
//               has no tools)
//   finish    → "done":true with empty content, done_reason, the counts of
//               the last kUsage and the durations the gateway saw (total
//               from the request, prompt_eval to the first generated piece,
//               eval after it)
//   error     → {"error":"message"}; nothing after it
#include <map>
#include <string>

#include "common/json_writer.h"
#include "frontdoor/ollama/ollama_encode.h"
#include "frontdoor/ollama/ollama_frontdoor.h"
#include "frontdoor/ollama/ollama_wire.h"

namespace sy::ollama {
namespace {

class NdjsonEncoder final : public StreamEncoder {
 public:
  NdjsonEncoder(std::string model, bool generate, OllamaFrontDoor::Clock now_ns, int64_t received_ns)
      : model_(std::move(model)), generate_(generate), now_ns_(std::move(now_ns)), received_ns_(received_ns) {}

  void Encode(const chat::StreamEvent& event, std::string* out) override {
    if (done_) return;
    const bool generated = event.kind == chat::EventKind::kTextDelta ||
                           event.kind == chat::EventKind::kReasoningDelta ||
                           event.kind == chat::EventKind::kToolCallStart;
    if (generated && first_ns_ == 0) first_ns_ = now_ns_();
    switch (event.kind) {
      case chat::EventKind::kTextDelta:
        if (!event.text.empty()) Delta(event.text, {}, out);
        break;
      case chat::EventKind::kReasoningDelta:
        if (!event.text.empty()) Delta({}, event.text, out);
        break;
      case chat::EventKind::kToolCallStart: {
        Call& call = calls_[event.index];
        call.id = event.id;
        call.name = event.name;
        break;
      }
      case chat::EventKind::kToolCallDelta:
        calls_[event.index].arguments += event.text;
        break;
      case chat::EventKind::kToolCallEnd:
        FlushCalls(event.index, out);
        break;
      case chat::EventKind::kUsage:
        if (event.usage) usage_ = *event.usage;
        break;
      case chat::EventKind::kFinish:
        FlushCalls(-1, out);
        Final(event.finish, out);
        done_ = true;
        break;
      case chat::EventKind::kError:
        *out += "{\"error\":";
        json::AppendString(out, event.error ? event.error->message : std::string("upstream error"));
        *out += "}\n";
        done_ = true;
        break;
      case chat::EventKind::kStart:  // Ollama streams have no opening line
      case chat::EventKind::kReasoningSignature:
      case chat::EventKind::kRedactedReasoning:
        break;
    }
  }

 private:
  struct Call {
    std::string id;
    std::string name;
    std::string arguments;
    bool sent = false;
  };

  void Begin(json::Writer& w, int64_t at = 0) {
    w.BeginObject().Key("model").String(model_).Key("created_at").String(wire::FormatTimeNs(at != 0 ? at : now_ns_()));
  }

  void Delta(std::string_view text, std::string_view thinking, std::string* out) {
    json::Writer w(out);
    Begin(w);
    if (generate_) {
      w.Key("response").String(text);
      if (!thinking.empty()) w.Key("thinking").String(thinking);
    } else {
      w.Key("message").BeginObject().Key("role").String("assistant").Key("content").String(text);
      if (!thinking.empty()) w.Key("thinking").String(thinking);
      w.EndObject();
    }
    w.Key("done").Bool(false).EndObject();
    out->push_back('\n');
  }

  // One line with call `index` (-1: every call not sent yet).
  void FlushCalls(int index, std::string* out) {
    bool any = false;
    for (auto& [i, call] : calls_) any = any || (!call.sent && (index < 0 || i == index));
    if (!any) return;
    std::string line;
    json::Writer w(&line);
    if (!generate_) {
      Begin(w);
      w.Key("message").BeginObject().Key("role").String("assistant").Key("content").String("");
      w.Key("tool_calls").BeginArray();
    }
    for (auto& [i, call] : calls_) {
      if (call.sent || (index >= 0 && i != index)) continue;
      call.sent = true;
      if (!generate_) encode::WriteToolCall(w, i, call.id, call.name, call.arguments);
    }
    if (generate_) return;
    w.EndArray().EndObject().Key("done").Bool(false).EndObject();
    *out += line;
    out->push_back('\n');
  }

  void Final(chat::FinishReason finish, std::string* out) {
    const int64_t end = now_ns_();
    json::Writer w(out);
    Begin(w, end);
    if (generate_) {
      w.Key("response").String("");
    } else {
      w.Key("message").BeginObject().Key("role").String("assistant").Key("content").String("").EndObject();
    }
    w.Key("done").Bool(true);
    encode::Durations d;
    d.total = encode::Since(received_ns_, end);
    d.prompt_eval = first_ns_ != 0 ? encode::Since(received_ns_, first_ns_) : d.total;
    d.eval = encode::Since(first_ns_, end);
    encode::WriteDoneMembers(w, finish, usage_, d);
    w.EndObject();
    out->push_back('\n');
  }

  const std::string model_;
  const bool generate_;
  const OllamaFrontDoor::Clock now_ns_;
  const int64_t received_ns_;  // 0: not taken (durations 0)
  int64_t first_ns_ = 0;       // the first generated piece
  std::map<int, Call> calls_;
  chat::Usage usage_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<StreamEncoder> OllamaFrontDoor::NewStreamEncoder(const InternalRequest& request,
                                                                 const chat::Request& chat) const {
  return std::make_unique<NdjsonEncoder>(request.model, request.shape == kShapeGenerate, now_ns_, request.received_ns);
}

}  // namespace sy::ollama
