#include "frontdoor/llmservice/llmservice_frontdoor.h"

#include <atomic>
#include <cstdio>

#include <simdjson.h>

#include "common/json_writer.h"
#include "core/ids.h"
#include "local/session_book.h"
#include "sse/sse_parser.h"

namespace sy::llmservice {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

constexpr size_t kMaxDepth = 32;
std::atomic<local::SessionBook*> g_sessions{nullptr};

GatewayError Bad(std::string message, std::string param = {}) {
  GatewayError e = MakeError(ErrorCode::kBadRequest, std::move(message));
  if (!param.empty()) e.param = std::move(param);
  return e;
}

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(64 * 1024, kMaxDepth);
    (void)err;
    return p;
  }();
  return parser;
}

std::optional<GatewayError> Root(std::string_view body, object* out) {
  if (Parser().parse(body.data(), body.size()).get_object().get(*out)) {
    return Bad("The body must be a JSON object.");
  }
  return std::nullopt;
}

bool Has(object o, std::string_view key, element* e) { return !o[key].get(*e) && !e->is_null(); }

std::optional<GatewayError> Text(object o, std::string_view key, bool required, std::string* out) {
  element e;
  if (!Has(o, key, &e)) {
    if (required) return Bad("Missing required field '" + std::string(key) + "'.", std::string(key));
    return std::nullopt;
  }
  std::string_view v;
  if (e.get_string().get(v)) return Bad("'" + std::string(key) + "' must be a string.", std::string(key));
  *out = std::string(v);
  return std::nullopt;
}

std::optional<GatewayError> Number(object o, std::string_view key, double min, double max, std::optional<double>* out) {
  element e;
  if (!Has(o, key, &e)) return std::nullopt;
  double v = 0;
  if (e.get_double().get(v)) {
    int64_t i = 0;
    if (e.get_int64().get(i)) return Bad("'" + std::string(key) + "' must be a number.", std::string(key));
    v = static_cast<double>(i);
  }
  if (v < min || v > max) {
    char range[64];
    snprintf(range, sizeof range, " must be between %g and %g.", min, max);
    return Bad("'" + std::string(key) + "'" + range, std::string(key));
  }
  *out = v;
  return std::nullopt;
}

std::optional<GatewayError> Integer(object o, std::string_view key, int64_t min, std::optional<int64_t>* out) {
  element e;
  if (!Has(o, key, &e)) return std::nullopt;
  int64_t v = 0;
  if (e.get_int64().get(v) || v < min) {
    return Bad("'" + std::string(key) + "' must be an integer of at least " + std::to_string(min) + ".", std::string(key));
  }
  *out = v;
  return std::nullopt;
}

std::optional<GatewayError> Stop(object o, std::vector<std::string>* out) {
  element e;
  if (!Has(o, "stop", &e)) return std::nullopt;
  std::string_view one;
  if (!e.get_string().get(one)) {
    if (!one.empty()) out->emplace_back(one);
    return std::nullopt;
  }
  simdjson::dom::array list;
  if (e.get_array().get(list)) return Bad("'stop' must be a string or an array of strings.", "stop");
  for (element s : list) {
    std::string_view v;
    if (s.get_string().get(v)) return Bad("'stop' must be a string or an array of strings.", "stop");
    if (!v.empty()) out->emplace_back(v);
  }
  return std::nullopt;
}

chat::Message Message(chat::Role role, std::string text) {
  chat::Message m;
  m.role = role;
  chat::Part p;
  p.kind = chat::PartKind::kText;
  p.text = std::move(text);
  m.parts.push_back(std::move(p));
  return m;
}

// `text` with CR LF and lone CR as LF (the view itself when it has no CR).
std::string_view WithLf(std::string_view text, std::string* scratch) {
  if (text.find('\r') == std::string_view::npos) return text;
  scratch->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      scratch->push_back(text[i]);
    } else if (i + 1 >= text.size() || text[i + 1] != '\n') {
      scratch->push_back('\n');
    }
  }
  return *scratch;
}

class StreamOut final : public StreamEncoder {
 public:
  StreamOut(const InternalRequest& request, const chat::Request& chat)
      : socket_(request.shape == kShapeSocket), session_(chat.session), system_(chat.session_system) {
    if (!chat.messages.empty() && !chat.messages.back().parts.empty()) prompt_ = chat.messages.back().parts[0].text;
    record_ = request.shape != kShapeCompletion && !session_.empty();
  }

  void Encode(const chat::StreamEvent& event, std::string* out) override {
    switch (event.kind) {
      case chat::EventKind::kTextDelta:
        if (event.text.empty()) break;
        if (record_) answer_ += event.text;
        if (socket_) {
          EncodeSocketPiece(event.text, out);
        } else {
          // A CR cannot be in SSE data (it ends a line): line ends go as LF.
          sse::AppendEvent(out, WithLf(event.text, &scratch_));
        }
        break;
      case chat::EventKind::kFinish:
        if (record_) {
          if (local::SessionBook* book = g_sessions.load()) {
            std::vector<gov::ChatMessage> turn;
            if (!system_.empty()) turn.push_back({"system", system_});
            turn.push_back({"user", prompt_});
            turn.push_back({"assistant", std::move(answer_)});
            book->Append(session_, std::move(turn));
          }
        }
        break;
      case chat::EventKind::kError: {
        const std::string message = event.error ? event.error->message : "generation failed";
        if (socket_) {
          EncodeSocketPiece(std::string(kSocketErrorPrefix) + message, out);
        } else {
          sse::AppendEvent(out, message, "error");
        }
        break;
      }
      default:
        break;
    }
  }

 private:
  bool socket_;
  bool record_ = false;
  std::string session_;
  std::string system_;
  std::string prompt_;
  std::string answer_;
  std::string scratch_;
};

}  // namespace

bool IsLlmServiceChat(std::string_view body) {
  // Every OpenAI chat request passes here: parse only a body that has the key at all.
  if (body.find("\"model-name\"") == std::string_view::npos) return false;
  object o;
  if (Root(body, &o)) return false;
  element e;
  return !o["model-name"].get(e);
}

void EncodeSocketPiece(std::string_view piece, std::string* out) {
  out->append(std::to_string(piece.size()));
  out->push_back(':');
  out->append(piece);
}

bool TakeSocketPieces(std::string* buffer, std::vector<std::string>* pieces) {
  size_t at = 0;
  while (at < buffer->size()) {
    const size_t colon = buffer->find(':', at);
    if (colon == std::string::npos) break;
    if (colon == at || colon - at > 12) return false;
    size_t n = 0;
    for (size_t i = at; i < colon; ++i) {
      if ((*buffer)[i] < '0' || (*buffer)[i] > '9') return false;
      n = n * 10 + static_cast<size_t>((*buffer)[i] - '0');
    }
    if (buffer->size() - colon - 1 < n) break;
    pieces->push_back(buffer->substr(colon + 1, n));
    at = colon + 1 + n;
  }
  buffer->erase(0, at);
  return true;
}

void LlmServiceFrontDoor::SetSessions(local::SessionBook* book) { g_sessions.store(book); }
local::SessionBook* LlmServiceFrontDoor::sessions() { return g_sessions.load(); }

GatewayError LlmServiceFrontDoor::SessionsUnavailable() {
  GatewayError e = MakeError(ErrorCode::kUnavailable,
                             "Chat sessions are unavailable: the store could not be read yet; retrying.");
  e.retry_after = "5";
  return e;
}

std::variant<InternalRequest, GatewayError> LlmServiceFrontDoor::Peek(FrontDoorInput input) const {
  object o;
  if (auto e = Root(input.body, &o)) return *e;
  InternalRequest r;
  r.wire = WireProtocol::kLlmService;
  r.shape = input.shape;
  r.passthrough_ok = false;
  if (input.shape == kShapeCompletion) {
    r.operation = Operation::kCompletions;
    if (auto e = Text(o, "model", true, &r.model)) return *e;
    element s;
    if (Has(o, "stream", &s) && s.get_bool().get(r.stream)) return Bad("'stream' must be a boolean.", "stream");
  } else {
    r.operation = Operation::kChatCompletions;
    if (auto e = Text(o, "model-name", true, &r.model)) return *e;
    r.stream = true;  // answered as a stream of pieces, always
  }
  if (r.model.empty()) return Bad("The model name must not be empty.", input.shape == kShapeCompletion ? "model" : "model-name");
  r.raw_body = std::move(input.body);
  return r;
}

std::optional<GatewayError> LlmServiceFrontDoor::ParseChat(const InternalRequest& request, chat::Request* out) const {
  object o;
  if (auto e = Root(request.raw_body, &o)) return e;
  std::string prompt;
  if (auto e = Text(o, "prompt", true, &prompt)) return e;
  if (auto e = Stop(o, &out->stop)) return e;
  if (request.shape == kShapeCompletion) {
    if (auto e = Integer(o, "max_tokens", 1, &out->max_tokens)) return e;
    if (auto e = Number(o, "temperature", 0, 2, &out->temperature)) return e;
    if (auto e = Number(o, "top_p", 0, 1, &out->top_p)) return e;
    if (!out->max_tokens) out->max_tokens = 128;
    if (!out->temperature) out->temperature = 0.7;
    if (!out->top_p) out->top_p = 0.95;
    out->messages.push_back(Message(chat::Role::kUser, std::move(prompt)));
    return std::nullopt;
  }
  std::string session, system, device;
  if (auto e = Text(o, "session-id", false, &session)) return e;
  if (auto e = Text(o, "system-prompt", false, &system)) return e;
  if (auto e = Text(o, "device", false, &device)) return e;
  if (!device.empty() && device != "cpu" && device != "cuda" && device != "metal" && device != "vulkan" &&
      device != "auto") {
    return Bad("'device' must be one of cpu, cuda, metal, vulkan, auto.", "device");
  }
  if (auto e = Integer(o, "max-token", 1, &out->max_tokens)) return e;
  if (auto e = Number(o, "temperature", 0, 2, &out->temperature)) return e;
  if (auto e = Number(o, "top-p", 0, 1, &out->top_p)) return e;
  if (auto e = Integer(o, "top-k", 1, &out->top_k)) return e;
  if (auto e = Number(o, "repeat-penalty", 0, 2, &out->repeat_penalty)) return e;
  int64_t seed = 0;
  if (element e; Has(o, "seed", &e)) {
    if (e.get_int64().get(seed)) return Bad("'seed' must be an integer.", "seed");
    out->seed = seed;
  }
  if (!out->max_tokens) out->max_tokens = 512;
  if (!out->temperature) out->temperature = 0.7;
  if (!out->top_p) out->top_p = 0.95;
  if (!out->top_k) out->top_k = 40;
  if (!out->repeat_penalty) out->repeat_penalty = 1.1;
  if (session.empty()) session = chat::NewId("session-", 24);
  if (!local::SessionBook::ValidId(session)) {
    return Bad("'session-id' must be 1 to 128 letters, digits or . _ : -", "session-id");
  }
  out->session = session;
  std::optional<std::vector<gov::ChatMessage>> history;
  if (local::SessionBook* book = g_sessions.load()) {
    // A turn answered without the stored history, or recorded over it, would
    // lose the conversation: none is taken until the store has been read.
    if (!book->Available()) return LlmServiceFrontDoor::SessionsUnavailable();
    history = book->History(session);
  }
  std::string kept_system;
  if (history) {
    for (const auto& m : *history) {
      if (m.role == "system") {
        kept_system = m.content;
      } else {
        out->messages.push_back(Message(m.role == "assistant" ? chat::Role::kAssistant : chat::Role::kUser, m.content));
      }
    }
  }
  // The session's system message: the one sent, else the one kept, else the default for a new session.
  if (!system.empty()) {
    out->session_system = system;
  } else if (!history) {
    out->session_system = std::string(kDefaultSystemPrompt);
    system = out->session_system;
  } else {
    system = kept_system;
  }
  if (!system.empty()) {
    chat::Part p;
    p.kind = chat::PartKind::kText;
    p.text = system;
    out->system.push_back(std::move(p));
  }
  out->messages.push_back(Message(chat::Role::kUser, std::move(prompt)));
  return std::nullopt;
}

std::optional<GatewayError> LlmServiceFrontDoor::ParseEmbed(const InternalRequest&, chat::EmbedRequest*) const {
  return Bad("This API has no embeddings; use POST /v1/embeddings.");
}

std::string LlmServiceFrontDoor::EncodeResponse(const InternalRequest& request, const chat::Response& response) const {
  std::string text;
  for (const auto& p : response.content) {
    if (p.kind == chat::PartKind::kText) text += p.text;
  }
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("text").String(text).Key("model").String(request.model);
  w.Key("tokens").Int(response.usage ? response.usage->output_tokens : 0);
  w.EndObject();
  return out;
}

std::unique_ptr<StreamEncoder> LlmServiceFrontDoor::NewStreamEncoder(const InternalRequest& request,
                                                                     const chat::Request& chat) const {
  return std::make_unique<StreamOut>(request, chat);
}

std::string LlmServiceFrontDoor::StreamContentType(const InternalRequest& request) const {
  return request.shape == kShapeSocket ? "application/octet-stream" : "text/event-stream";
}

HeaderList LlmServiceFrontDoor::StreamHeaders(const InternalRequest& request, const chat::Request& chat) const {
  HeaderList headers;
  if (!chat.session.empty()) headers.emplace_back("X-Session-Id", chat.session);
  return headers;
}

std::string LlmServiceFrontDoor::EncodeEmbed(const InternalRequest&, const chat::EmbedResponse&) const { return "{}"; }

std::string LlmServiceFrontDoor::EncodeCountTokens(const InternalRequest&, int64_t) const { return ""; }

ErrorReply LlmServiceFrontDoor::EncodeError(const GatewayError& error) const {
  ErrorReply reply;
  reply.status = HttpStatus(error.code);
  reply.body = "{\"error\":" + json::Quote(error.message) + "}";
  if (error.retry_after) reply.headers.emplace_back("Retry-After", *error.retry_after);
  return reply;
}

std::string LlmServiceFrontDoor::ModelList(const std::vector<ModelEntry>& models, long long) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("models").BeginArray();
  for (const auto& m : models) w.String(m.id);
  w.EndArray().EndObject();
  return out;
}

std::string LlmServiceFrontDoor::ModelObject(const ModelEntry& model, long long) const {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("id").String(model.id).Key("name").String(model.id);
  if (model.context_length > 0) {
    w.Key("context_length").Int(model.context_length);
  } else {
    w.Key("context_length").Null();
  }
  if (model.quantization.empty()) {
    w.Key("quantization").Null();
  } else {
    w.Key("quantization").String(model.quantization);
  }
  w.EndObject();
  return out;
}

}  // namespace sy::llmservice
