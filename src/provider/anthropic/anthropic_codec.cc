// AnthropicCodec: requests to an Anthropic Messages upstream.
#include "provider/anthropic/anthropic_codec.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/json_writer.h"
#include "core/ids.h"
#include "frontdoor/anthropic/anthropic_wire.h"

namespace sy::anthropic {
namespace {

constexpr std::string_view kProviderType = "anthropic";
constexpr std::string_view kDefaultSchema = R"({"type":"object","properties":{}})";

// One Anthropic turn under construction. Blocks are serialised JSON objects;
// the first `results` of them are tool_result blocks (they must lead).
struct Turn {
  bool user = true;
  std::vector<std::string> blocks;
  size_t results = 0;
};

class Conversation {
 public:
  void Add(bool user, std::string block, bool is_result = false) {
    if (turns_.empty() || turns_.back().user != user) turns_.push_back(Turn{user, {}, 0});
    Turn& t = turns_.back();
    if (is_result) {
      t.blocks.insert(t.blocks.begin() + static_cast<std::ptrdiff_t>(t.results), std::move(block));
      ++t.results;
    } else {
      t.blocks.push_back(std::move(block));
    }
  }
  const std::vector<Turn>& turns() const { return turns_; }

 private:
  std::vector<Turn> turns_;
};

std::string TextBlock(std::string_view text) {
  std::string out;
  json::Writer(&out).BeginObject().Key("type").String("text").Key("text").String(text).EndObject();
  return out;
}

// The media type of base64 image data, from its first bytes.
std::string_view SniffMediaType(std::string_view data) {
  if (data.rfind("iVBOR", 0) == 0) return "image/png";
  if (data.rfind("R0lGOD", 0) == 0) return "image/gif";
  if (data.rfind("UklGR", 0) == 0) return "image/webp";
  return "image/jpeg";
}

// "" when the part has no usable source.
std::string ImageBlock(const chat::Part& p) {
  std::string media_type = p.media_type;
  std::string_view data = p.data;
  std::string_view url = p.url;
  // A data: URL that reached the url field: inline it.
  if (data.empty() && url.rfind("data:", 0) == 0) {
    size_t comma = url.find(',');
    size_t semi = url.find(';');
    if (comma == std::string_view::npos) return "";
    if (media_type.empty() && semi != std::string_view::npos && semi < comma) media_type = url.substr(5, semi - 5);
    data = url.substr(comma + 1);
    url = {};
  }
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("type").String("image").Key("source").BeginObject();
  if (!data.empty()) {
    if (media_type.empty()) media_type = SniffMediaType(data);
    w.Key("type").String("base64").Key("media_type").String(media_type).Key("data").String(data);
  } else if (!url.empty()) {
    w.Key("type").String("url").Key("url").String(url);
  } else {
    return "";
  }
  w.EndObject().EndObject();
  return out;
}

std::string ToolResultBlock(const chat::Part& p) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("type").String("tool_result").Key("tool_use_id").String(chat::SafeToolId(p.id, "toolu_"));
  if (p.content.size() == 1 && p.content[0].kind == chat::PartKind::kText) {
    w.Key("content").String(p.content[0].text);
  } else {
    std::vector<std::string> blocks;
    for (const auto& c : p.content) {
      std::string b;
      if (c.kind == chat::PartKind::kText && !c.text.empty()) b = TextBlock(c.text);
      if (c.kind == chat::PartKind::kImage) b = ImageBlock(c);
      if (!b.empty()) blocks.push_back(std::move(b));
    }
    if (!blocks.empty()) {
      w.Key("content").BeginArray();
      for (const auto& b : blocks) w.Raw(b);
      w.EndArray();
    }
  }
  if (p.is_error) w.Key("is_error").Bool(true);
  w.EndObject();
  return out;
}

std::string ToolUseBlock(const chat::Part& p) {
  std::string out;
  json::Writer(&out)
      .BeginObject()
      .Key("type").String("tool_use")
      .Key("id").String(chat::SafeToolId(p.id, "toolu_"))
      .Key("name").String(p.name)
      .Key("input").Raw(ToolInputObject(p.arguments))
      .EndObject();
  return out;
}

void AddUserPart(const chat::Part& p, Conversation* conv) {
  switch (p.kind) {
    case chat::PartKind::kText:
      if (!p.text.empty()) conv->Add(true, TextBlock(p.text));
      break;
    case chat::PartKind::kImage:
      if (std::string b = ImageBlock(p); !b.empty()) conv->Add(true, std::move(b));
      break;
    case chat::PartKind::kToolResult: conv->Add(true, ToolResultBlock(p), true); break;
    default: break;  // assistant-only parts cannot be sent in a user turn
  }
}

void AddAssistantPart(const chat::Part& p, Conversation* conv) {
  std::string out;
  json::Writer w(&out);
  switch (p.kind) {
    case chat::PartKind::kThinking:
      // Anthropic verifies the signature; unsigned (foreign) thinking cannot go back.
      if (p.signature.empty()) return;
      w.BeginObject()
          .Key("type").String("thinking")
          .Key("thinking").String(p.text)
          .Key("signature").String(p.signature)
          .EndObject();
      break;
    case chat::PartKind::kRedactedThinking:
      if (p.signature.empty()) return;
      w.BeginObject().Key("type").String("redacted_thinking").Key("data").String(p.signature).EndObject();
      break;
    case chat::PartKind::kText:
      if (p.text.empty()) return;
      out = TextBlock(p.text);
      break;
    case chat::PartKind::kToolCall: out = ToolUseBlock(p); break;
    default: return;
  }
  conv->Add(false, std::move(out));
}

// system text parts, plus any system-role message hoisted in order.
std::vector<std::string_view> SystemTexts(const chat::Request& request) {
  std::vector<std::string_view> texts;
  for (const auto& p : request.system) {
    if (p.kind == chat::PartKind::kText && !p.text.empty()) texts.push_back(p.text);
  }
  for (const auto& m : request.messages) {
    if (m.role != chat::Role::kSystem) continue;
    for (const auto& p : m.parts) {
      if (p.kind == chat::PartKind::kText && !p.text.empty()) texts.push_back(p.text);
    }
  }
  return texts;
}

// system, messages and tools: what both /v1/messages and count_tokens take.
void WriteConversation(const chat::Request& request, json::Writer& w) {
  std::vector<std::string_view> system = SystemTexts(request);
  if (system.size() == 1) {
    w.Key("system").String(system[0]);
  } else if (system.size() > 1) {
    w.Key("system").BeginArray();
    for (auto t : system) w.Raw(TextBlock(t));
    w.EndArray();
  }

  Conversation conv;
  for (const auto& m : request.messages) {
    for (const auto& p : m.parts) {
      switch (m.role) {
        case chat::Role::kSystem: break;
        case chat::Role::kUser:
        case chat::Role::kTool: AddUserPart(p, &conv); break;
        case chat::Role::kAssistant: AddAssistantPart(p, &conv); break;
      }
    }
  }
  w.Key("messages").BeginArray();
  for (const auto& t : conv.turns()) {
    w.BeginObject().Key("role").String(t.user ? "user" : "assistant").Key("content").BeginArray();
    for (const auto& b : t.blocks) w.Raw(b);
    w.EndArray().EndObject();
  }
  w.EndArray();

  if (!request.tools.empty()) {
    w.Key("tools").BeginArray();
    for (const auto& t : request.tools) {
      std::string schema = ToolInputObject(t.parameters);
      w.BeginObject().Key("name").String(t.name);
      if (!t.description.empty()) w.Key("description").String(t.description);
      w.Key("input_schema").Raw(schema == "{}" ? std::string(kDefaultSchema) : schema).EndObject();
    }
    w.EndArray();
  }
}

void WriteToolChoice(const chat::Request& request, json::Writer& w) {
  if (request.tools.empty()) return;
  const bool no_parallel = request.parallel_tool_calls == false;
  std::string_view type;
  switch (request.tool_choice.mode) {
    case chat::ToolChoiceMode::kUnset:
      if (!no_parallel) return;
      type = "auto";  // only the parallel flag was given: auto, not any
      break;
    case chat::ToolChoiceMode::kAuto: type = "auto"; break;
    case chat::ToolChoiceMode::kRequired: type = "any"; break;
    case chat::ToolChoiceMode::kNamed: type = "tool"; break;
    case chat::ToolChoiceMode::kNone:
      w.Key("tool_choice").BeginObject().Key("type").String("none").EndObject();
      return;
  }
  w.Key("tool_choice").BeginObject().Key("type").String(type);
  if (request.tool_choice.mode == chat::ToolChoiceMode::kNamed) w.Key("name").String(request.tool_choice.name);
  if (no_parallel) w.Key("disable_parallel_tool_use").Bool(true);
  w.EndObject();
}

int64_t EffortBudget(std::string_view effort) {
  if (effort == "minimal" || effort == "low") return 1024;
  if (effort == "high") return 24576;
  return 8192;  // medium, or thinking asked for without a level
}

// The thinking budget to send, or nullopt for no thinking block.
std::optional<int64_t> ThinkingBudget(const chat::Reasoning& r) {
  if (r.enabled == false) return std::nullopt;
  if (r.budget_tokens) {
    if (*r.budget_tokens == 0) return std::nullopt;  // a zero budget means off (Gemini)
    if (*r.budget_tokens > 0) return std::max(*r.budget_tokens, kMinThinkingBudget);
    return EffortBudget(r.effort);  // negative: "dynamic"
  }
  if (r.enabled == true || !r.effort.empty()) return std::max(EffortBudget(r.effort), kMinThinkingBudget);
  return std::nullopt;
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// metadata.user_id must match ^[a-zA-Z0-9_-]+$ (256 max): a value that does
// not (Claude Code's JSON-like id) is replaced by a stable hash of it.
std::string UserId(std::string_view user) {
  if (IsValidUserId(user)) return std::string(user);
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t h = Fnv1a(user);
  std::string out = "user_";
  for (int i = 0; i < 16; ++i) {
    out.push_back(kHex[h & 0xF]);
    h >>= 4;
  }
  return out;
}

std::optional<GatewayError> CheckUnsupported(const chat::Request& r, const CodecOptions& options) {
  if (options.drop_params) return std::nullopt;
  if (r.frequency_penalty) return chat::Unsupported("frequency_penalty", kProviderType);
  if (r.presence_penalty) return chat::Unsupported("presence_penalty", kProviderType);
  if (r.seed) return chat::Unsupported("seed", kProviderType);
  if (r.n && *r.n > 1) return chat::Unsupported("n", kProviderType);
  if (r.response_format.type != chat::ResponseFormat::Type::kText) {
    return chat::Unsupported("response_format", kProviderType);
  }
  return std::nullopt;
}

}  // namespace

std::pair<std::string, std::string> AnthropicCodec::AuthHeader(const std::string& key) const {
  return {"x-api-key", key};
}

std::string AnthropicCodec::PassthroughPath(const InternalRequest& request, const std::string& upstream_model) const {
  return request.operation == Operation::kCountTokens ? "/v1/messages/count_tokens" : "/v1/messages";
}

std::variant<UpstreamCall, GatewayError> AnthropicCodec::EncodeChat(const chat::Request& request,
                                                                   const std::string& upstream_model,
                                                                   const CodecOptions& options) const {
  if (auto e = CheckUnsupported(request, options)) return *e;
  int64_t max_tokens = request.max_tokens && *request.max_tokens > 0 ? *request.max_tokens : kDefaultMaxTokens;
  std::optional<int64_t> budget = ThinkingBudget(request.reasoning);
  // budget_tokens must stay below max_tokens.
  if (budget && max_tokens <= *budget) max_tokens = *budget > INT64_MAX - 1024 ? INT64_MAX : *budget + 1024;

  UpstreamCall call;
  call.path = "/v1/messages";
  call.headers.emplace_back("anthropic-version", std::string(kAnthropicVersion));
  json::Writer w(&call.body);
  w.BeginObject().Key("model").String(upstream_model).Key("max_tokens").Int(max_tokens);
  WriteConversation(request, w);
  WriteToolChoice(request, w);
  if (request.temperature && std::isfinite(*request.temperature)) {
    // Anthropic's range is [0, 1] (OpenAI's is [0, 2]); newer models reject
    // temperature and top_p together, so temperature wins.
    w.Key("temperature").Double(std::clamp(*request.temperature, 0.0, 1.0));
  } else if (request.top_p && std::isfinite(*request.top_p)) {
    w.Key("top_p").Double(*request.top_p);
  }
  if (request.top_k) w.Key("top_k").Int(*request.top_k);
  if (!request.stop.empty()) {
    w.Key("stop_sequences").BeginArray();
    for (const auto& s : request.stop) w.String(s);
    w.EndArray();
  }
  if (budget) {
    w.Key("thinking").BeginObject().Key("type").String("enabled").Key("budget_tokens").Int(*budget).EndObject();
  }
  if (!request.user.empty()) w.Key("metadata").BeginObject().Key("user_id").String(UserId(request.user)).EndObject();
  if (request.stream) w.Key("stream").Bool(true);
  w.EndObject();
  return call;
}

std::variant<UpstreamCall, GatewayError> AnthropicCodec::EncodeEmbed(const chat::EmbedRequest& request,
                                                                    const std::string& upstream_model) const {
  return MakeError(ErrorCode::kBadRequest, "providers of type anthropic have no embeddings endpoint");
}

std::optional<UpstreamCall> AnthropicCodec::EncodeCountTokens(const chat::Request& request,
                                                              const std::string& upstream_model) const {
  UpstreamCall call;
  call.path = "/v1/messages/count_tokens";
  call.headers.emplace_back("anthropic-version", std::string(kAnthropicVersion));
  json::Writer w(&call.body);
  w.BeginObject().Key("model").String(upstream_model);
  WriteConversation(request, w);
  w.EndObject();
  return call;
}

std::unique_ptr<StreamDecoder> AnthropicCodec::NewStreamDecoder() const { return anthropic::NewStreamDecoder(); }

}  // namespace sy::anthropic
