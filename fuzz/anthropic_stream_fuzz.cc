// Fuzzes the Anthropic codec's stream decoder and DecodeChat on upstream
// bytes, and the front door's stream encoder and EncodeResponse on what they
// decode.
//
// Invariants:
//   - the decoder gives the same events whether the body is fed whole or
//     split at a point read from the input's first bytes;
//   - the events keep core/chat.h's order: kStart first; one terminal
//     (kFinish or kError) last; tool calls numbered 0, 1, 2... by their
//     kToolCallStart, no delta or end for an unstarted or ended call, every
//     call ended before kFinish;
//   - the encoder turns them into a stream a strict client accepts: named
//     events with JSON data, one message_start first, content blocks 0, 1,
//     2... never interleaved, no delta or stop for a block that is not open;
//   - DecodeChat never crashes; what it accepts encodes to a JSON object;
//   - the encoder, driven directly by an event program read from the bytes
//     (interleaved tool calls, reasoning, signatures, stray indices), keeps
//     the block protocol and loses or reorders nothing: the text, thinking,
//     signatures, redacted data and each call's arguments come out in order.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "frontdoor/anthropic/anthropic_frontdoor.h"
#include "provider/anthropic/anthropic_codec.h"
#include "sse/sse_parser.h"

namespace {

using sy::chat::EventKind;
using sy::chat::StreamEvent;

void Check(bool ok) {
  if (!ok) std::abort();
}

std::vector<StreamEvent> Decode(std::string_view body, size_t cut) {
  auto dec = sy::anthropic::NewStreamDecoder();
  std::vector<StreamEvent> out;
  dec->Feed(body.substr(0, cut), &out);
  dec->Feed(body.substr(cut), &out);
  dec->Finish(&out);
  return out;
}

bool Same(const StreamEvent& a, const StreamEvent& b) {
  auto usage_eq = [](const std::optional<sy::chat::Usage>& x, const std::optional<sy::chat::Usage>& y) {
    if (x.has_value() != y.has_value()) return false;
    return !x || (x->input_tokens == y->input_tokens && x->cached_input_tokens == y->cached_input_tokens &&
                  x->cache_write_tokens == y->cache_write_tokens && x->output_tokens == y->output_tokens);
  };
  return a.kind == b.kind && a.text == b.text && a.index == b.index && a.id == b.id && a.name == b.name &&
         a.model == b.model && a.finish == b.finish && a.stop_sequence == b.stop_sequence &&
         usage_eq(a.usage, b.usage) && a.error.has_value() == b.error.has_value();
}

void CheckOrder(const std::vector<StreamEvent>& events) {
  Check(!events.empty());
  const EventKind last = events.back().kind;
  Check(last == EventKind::kFinish || last == EventKind::kError);
  std::map<int, bool> calls;  // started calls → ended
  for (size_t i = 0; i < events.size(); ++i) {
    const StreamEvent& e = events[i];
    Check((e.kind == EventKind::kStart) == (i == 0) || (i == 0 && e.kind == EventKind::kError));
    if (i + 1 < events.size()) Check(e.kind != EventKind::kFinish && e.kind != EventKind::kError);
    switch (e.kind) {
      case EventKind::kToolCallStart:
        Check(e.index == static_cast<int>(calls.size()));
        calls[e.index] = false;
        break;
      case EventKind::kToolCallDelta:
        Check(calls.count(e.index) && !calls[e.index]);
        Check(!e.text.empty());
        break;
      case EventKind::kToolCallEnd:
        Check(calls.count(e.index) && !calls[e.index]);
        calls[e.index] = true;
        break;
      case EventKind::kFinish:
        for (const auto& [index, ended] : calls) Check(ended);
        break;
      case EventKind::kError: Check(e.error.has_value() && !e.error->message.empty()); break;
      default: break;
    }
  }
}

struct Block {
  std::string type;
  std::string text;  // text, thinking or arguments
  std::string signature;
  std::string data;
  std::string id;
};

std::string Get(simdjson::dom::object obj, std::string_view key) {
  std::string_view s;
  if (obj[key].get_string().get(s)) return {};
  return std::string(s);
}

std::vector<Block> CheckAnthropicStream(const std::string& sse) {
  std::vector<Block> blocks;
  static simdjson::dom::parser json;
  std::vector<sy::sse::Event> events;
  sy::sse::Parser parser([&](const sy::sse::Event& e) { events.push_back(e); });
  parser.Feed(sse);
  Check(!parser.partial());
  int64_t open = -1;
  int64_t next = 0;
  bool started = false;
  bool ended = false;
  for (const auto& e : events) {
    Check(!ended);
    simdjson::dom::object obj;
    Check(json.parse(e.data).get_object().get(obj) == simdjson::SUCCESS);
    std::string_view type;
    Check(obj["type"].get_string().get(type) == simdjson::SUCCESS);
    Check(type == e.event);
    if (type == "error") {
      ended = true;
      continue;
    }
    if (type == "message_start") {
      Check(!started);
      started = true;
      continue;
    }
    Check(started);
    int64_t index = -2;
    if (type == "content_block_start") {
      Check(obj["index"].get_int64().get(index) == simdjson::SUCCESS);
      Check(open == -1 && index == next);
      open = index;
      ++next;
      simdjson::dom::object cb;
      Check(obj["content_block"].get_object().get(cb) == simdjson::SUCCESS);
      Block b;
      b.type = Get(cb, "type");
      b.data = Get(cb, "data");
      b.id = Get(cb, "id");
      if (b.type == "tool_use") {
        simdjson::dom::object input;
        Check(cb["input"].get_object().get(input) == simdjson::SUCCESS && input.size() == 0);
      }
      blocks.push_back(b);
    } else if (type == "content_block_delta") {
      Check(obj["index"].get_int64().get(index) == simdjson::SUCCESS);
      Check(index == open);
      simdjson::dom::object d;
      Check(obj["delta"].get_object().get(d) == simdjson::SUCCESS);
      const std::string dt = Get(d, "type");
      Block& b = blocks.back();
      if (dt == "text_delta") {
        Check(b.type == "text");
        b.text += Get(d, "text");
      } else if (dt == "thinking_delta") {
        Check(b.type == "thinking");
        b.text += Get(d, "thinking");
      } else if (dt == "signature_delta") {
        Check(b.type == "thinking");
        b.signature += Get(d, "signature");
      } else {
        Check(dt == "input_json_delta" && b.type == "tool_use");
        b.text += Get(d, "partial_json");
      }
    } else if (type == "content_block_stop") {
      Check(obj["index"].get_int64().get(index) == simdjson::SUCCESS);
      Check(index == open);
      open = -1;
    } else if (type == "message_delta") {
      Check(open == -1);
    } else if (type == "message_stop") {
      ended = true;
    } else {
      Check(type == "ping");
    }
  }
  Check(ended);
  return blocks;
}

StreamEvent Make(EventKind kind, std::string text = {}, int index = 0) {
  StreamEvent e;
  e.kind = kind;
  e.text = std::move(text);
  e.index = index;
  return e;
}

// Drives the encoder with an event program read from `program` and checks
// that nothing is lost or reordered.
void EncoderProgram(std::string_view program) {
  auto enc = sy::anthropic::NewStreamEncoder("m", 1);
  std::string sse;
  enc->Encode(Make(EventKind::kStart), &sse);
  std::string text, thinking, signatures, redacted;
  std::vector<std::string> args;  // per call, what must come out
  std::vector<bool> ended;
  bool error = false;
  int counter = 0;
  for (unsigned char b : program) {
    const int op = b % 9;
    const int arg = b / 9;
    std::string piece = arg % 4 == 0 ? std::string() : std::to_string(counter++) + (arg % 5 == 1 ? "\n\"" : ";");
    const int calls = static_cast<int>(args.size());
    const int target = arg % (calls + 2) - 1;  // -1 and `calls` are stray indices
    switch (op) {
      case 0:
        text += piece;
        enc->Encode(Make(EventKind::kTextDelta, piece), &sse);
        break;
      case 1:
        thinking += piece;
        enc->Encode(Make(EventKind::kReasoningDelta, piece), &sse);
        break;
      case 2:
        signatures += piece;
        enc->Encode(Make(EventKind::kReasoningSignature, piece), &sse);
        break;
      case 3:
        redacted += piece + "|";
        enc->Encode(Make(EventKind::kRedactedReasoning, piece + "|"), &sse);
        break;
      case 4: {
        StreamEvent e = Make(EventKind::kToolCallStart, {}, calls);
        e.id = arg % 3 == 0 ? "functions.x:" + std::to_string(calls) : "call_" + std::to_string(calls);
        e.name = "f";
        args.emplace_back();
        ended.push_back(false);
        enc->Encode(e, &sse);
        break;
      }
      case 5:
      case 6:
        if (target >= 0 && target < calls && !ended[target]) args[target] += piece;
        enc->Encode(Make(EventKind::kToolCallDelta, piece, target), &sse);
        break;
      case 7:
        if (target >= 0 && target < calls) ended[target] = true;
        enc->Encode(Make(EventKind::kToolCallEnd, {}, target), &sse);
        break;
      case 8: {
        StreamEvent e = Make(EventKind::kUsage);
        e.usage = sy::chat::Usage{arg, arg / 2, arg / 3, arg, 0};
        enc->Encode(e, &sse);
        break;
      }
    }
    if (b == 0xFF) {
      error = true;
      break;
    }
  }
  if (error) {
    StreamEvent e = Make(EventKind::kError);
    e.error = sy::MakeError(sy::ErrorCode::kNoProvider, "Overloaded");
    enc->Encode(e, &sse);
    CheckAnthropicStream(sse);
    return;
  }
  StreamEvent fin = Make(EventKind::kFinish);
  fin.finish = sy::chat::FinishReason::kStop;
  enc->Encode(fin, &sse);
  enc->Encode(Make(EventKind::kTextDelta, "after the end"), &sse);
  const std::vector<Block> blocks = CheckAnthropicStream(sse);
  std::string got_text, got_thinking, got_signatures, got_redacted;
  std::vector<std::string> got_args;
  for (const Block& b : blocks) {
    if (b.type == "text") {
      Check(!b.text.empty());
      got_text += b.text;
    } else if (b.type == "thinking") {
      Check(!b.text.empty() || !b.signature.empty());
      got_thinking += b.text;
      got_signatures += b.signature;
    } else if (b.type == "redacted_thinking") {
      got_redacted += b.data;
    } else {
      Check(b.type == "tool_use");
      got_args.push_back(b.text);
    }
  }
  Check(got_text == text && got_thinking == thinking && got_signatures == signatures && got_redacted == redacted);
  Check(got_args == args);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const size_t cut = size == 0 ? 0 : (static_cast<size_t>(data[0]) * 257 + (size > 1 ? data[1] : 0)) % (size + 1);

  const std::vector<StreamEvent> whole = Decode(body, body.size());
  const std::vector<StreamEvent> split = Decode(body, cut);
  Check(whole.size() == split.size());
  for (size_t i = 0; i < whole.size(); ++i) Check(Same(whole[i], split[i]));
  CheckOrder(whole);

  auto enc = sy::anthropic::NewStreamEncoder("client-model", 7);
  std::string sse;
  for (const auto& e : whole) enc->Encode(e, &sse);
  CheckAnthropicStream(sse);

  static const sy::anthropic::AnthropicCodec codec;
  static const sy::anthropic::AnthropicFrontDoor door;
  static simdjson::dom::parser checker;
  auto decoded = codec.DecodeChat(body);
  if (auto* response = std::get_if<sy::chat::Response>(&decoded)) {
    sy::InternalRequest req;
    req.model = "client-model";
    const std::string out = door.EncodeResponse(req, *response);
    simdjson::dom::object obj;
    Check(checker.parse(out).get_object().get(obj) == simdjson::SUCCESS);
  } else {
    Check(!std::get<sy::GatewayError>(decoded).message.empty());
  }
  EncoderProgram(body.substr(0, 64));  // longer programs add time, not cases
  (void)codec.ErrorMessage(body);
  (void)codec.DecodeCountTokens(body);
  return 0;
}
