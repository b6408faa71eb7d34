#include "local/gguf_writer.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <set>

namespace sy::local {
namespace {

constexpr uint32_t kTypeU32 = 4, kTypeI32 = 5, kTypeF32 = 6, kTypeBool = 7, kTypeString = 8, kTypeArray = 9;

void PutU32(std::string* out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // GGUF is little-endian, as are the hosts we build on
  out->append(b, 4);
}
void PutU64(std::string* out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}
void PutF32(std::string* out, float v) { PutU32(out, std::bit_cast<uint32_t>(v)); }
void PutString(std::string* out, std::string_view s) {
  PutU64(out, s.size());
  out->append(s);
}
void PadTo(std::string* out, uint32_t alignment) {
  out->append((alignment - out->size() % alignment) % alignment, '\0');
}

// SplitMix64: small, fast, and the same on every platform.
class Prng {
 public:
  explicit Prng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [-scale, scale].
  float Uniform(float scale) { return (static_cast<float>(Next() >> 40) / 16777216.0f * 2.0f - 1.0f) * scale; }

 private:
  uint64_t state_;
};

// IEEE binary16 from binary32, rounding to nearest even (Q8_0's scales).
uint16_t ToHalf(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t biased = (x >> 23) & 0xFFu;
  uint32_t mant = x & 0x7FFFFFu;
  if (biased == 0xFF) return static_cast<uint16_t>(sign | 0x7C00u | (mant ? 0x200u : 0u));
  const int32_t exp = static_cast<int32_t>(biased) - 127 + 15;
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7C00u);
  auto round = [](uint32_t kept, uint32_t rest, uint32_t halfway) {
    return kept + ((rest > halfway || (rest == halfway && (kept & 1u))) ? 1u : 0u);
  };
  if (exp <= 0) {  // subnormal half (or zero)
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const uint32_t shift = static_cast<uint32_t>(14 - exp);
    return static_cast<uint16_t>(sign | round(mant >> shift, mant & ((1u << shift) - 1), 1u << (shift - 1)));
  }
  // A carry out of the mantissa lands in the exponent, which is right.
  return static_cast<uint16_t>(sign | round((static_cast<uint32_t>(exp) << 10) | (mant >> 13), mant & 0x1FFFu, 0x1000u));
}

// ggml's quantize_row_q8_0_ref: per 32 values, d = max|x| / 127 (stored F16)
// and round(x / d).
void PutQ8_0(std::string* out, const std::vector<float>& data) {
  for (size_t block = 0; block < data.size(); block += 32) {
    float amax = 0;
    for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(data[block + j]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    const uint16_t h = ToHalf(d);
    out->push_back(static_cast<char>(h & 0xFF));
    out->push_back(static_cast<char>(h >> 8));
    for (size_t j = 0; j < 32; ++j) out->push_back(static_cast<char>(static_cast<int8_t>(std::lround(data[block + j] * id))));
  }
}

// Block structure of the chat model.
struct Shape {
  const char* name;  // general.name
  uint32_t embd, heads, kv_heads, ff, blocks;
  TensorType weights;  // of the 2-D tensors; norms stay F32
  uint32_t file_type;  // general.file_type (llama_ftype)
};

Shape ShapeOf(TinyGgufOptions::Shape shape) {
  switch (shape) {
    case TinyGgufOptions::Shape::kSmolLm2_135m:
      return {"switchyard-random-smollm2-135m-shape", 576, 9, 3, 1536, 30, TensorType::kQ8_0, 7};
    case TinyGgufOptions::Shape::kQwen25_05b:
      return {"switchyard-random-qwen2.5-0.5b-shape", 896, 14, 2, 4864, 24, TensorType::kQ8_0, 7};
    case TinyGgufOptions::Shape::kLlama32_3b:
      return {"switchyard-random-llama3.2-3b-shape", 3072, 24, 8, 8192, 28, TensorType::kQ8_0, 7};
    case TinyGgufOptions::Shape::kTiny:
      break;
  }
  return {"switchyard-tiny", 64, 4, 4, 128, 2, TensorType::kF32, 0};  // ALL_F32
}

// Hyperparameters of the tiny embedding model (and the chat model's default).
constexpr uint32_t kEmbd = 64, kHeads = 4, kFf = 128, kBlocks = 2;
// Weights are uniform in [-s, s], s = kWeightScale * sqrt(64 / n_embd): 0.1 for
// the tiny model, smaller for wider ones so that activations stay the same size.
constexpr float kWeightScale = 0.1f;

// Token types (llama_token_type).
constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kByte = 6;

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::set<std::string> whole_words;  // "▁the", "▁hello", ...: the words with their space
  void Add(std::string piece, float score, int32_t type) {
    tokens.push_back(std::move(piece));
    scores.push_back(score);
    types.push_back(type);
  }
};

constexpr uint32_t kUnkId = 0, kBosId = 1, kImEndId = 4, kFirstByteId = 5;
constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// unk, bos, eos, the ChatML specials, 256 byte tokens, then normal pieces:
// every printable ASCII character ("▁" for space) and some English pieces with
// every prefix, so that SentencePiece's pairwise merges can reach them.
Vocab MakeVocab(bool tool_calls) {
  Vocab v;
  v.Add("<unk>", 0, kUnknown);
  v.Add("<s>", 0, kControl);
  v.Add("</s>", 0, kControl);
  v.Add("<|im_start|>", 0, kControl);
  v.Add("<|im_end|>", 0, kControl);
  for (int b = 0; b < 256; ++b) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    v.Add(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">", 0, kByte);
  }
  std::vector<std::string> pieces;
  std::set<std::string> seen;
  auto add = [&](std::string piece) {
    if (seen.insert(piece).second) pieces.push_back(std::move(piece));
  };
  add(std::string(kSpace));
  for (char c = 0x21; c < 0x7F; ++c) add(std::string(1, c));
  static constexpr const char* kWords[] = {
      "_the", "_a", "_is", "_hello", "_world", "_and", "_to", "_of", "_in", "_it", "_you", "_that", "_for",
      "_on", "_with", "_are", "_this", "_be", "_I", "_Hello", "_can", "_help", "_what", "_model", "_test",
      "ing", "er", "ed", "es", "th", "he", "an", "re", "on", "at", "en", "or", "ll", "ly", "st", "ion"};
  for (const char* word : kWords) {
    std::string w = word;
    if (w[0] == '_') {
      w = std::string(kSpace) + w.substr(1);
      v.whole_words.insert(w);
    }
    // Prefixes at character boundaries (the space marker is 3 bytes).
    for (size_t end = 1; end <= w.size(); ++end) {
      if (end < w.size() && (static_cast<unsigned char>(w[end]) & 0xC0) == 0x80) continue;
      add(w.substr(0, end));
    }
  }
  // SentencePiece scores are log probabilities: earlier pieces score higher.
  for (size_t i = 0; i < pieces.size(); ++i) v.Add(pieces[i], -static_cast<float>(i), kNormal);
  if (tool_calls) {
    // Qwen2.5's tool tags are added tokens that are not special (user-defined
    // in GGUF): matched whole in a prompt, printed as text.
    for (const char* tag : {"<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"}) {
      v.Add(tag, 0, kUserDefined);
    }
    // The text after <tool_call> up to the function's name, as one piece.
    v.Add("\n{\"name\":" + std::string(kSpace) + "\"", -static_cast<float>(pieces.size()), kNormal);
  }
  return v;
}

constexpr std::string_view kChatMlTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
    "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// Qwen2.5's tool-calling chat template, in our words: tools listed in the
// system turn, calls as <tool_call>{"name": ..., "arguments": ...}</tool_call>
// in the assistant's turn, results as <tool_response> in a user turn.
constexpr std::string_view kToolsTemplate =
    "{%- if tools %}{{- '<|im_start|>system\\n' }}"
    "{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] + '\\n\\n' }}{%- endif %}"
    "{{- '# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n"
    "You are provided with function signatures within <tools></tools> XML tags:\\n<tools>' }}"
    "{%- for tool in tools %}{{- '\\n' + (tool | tojson) }}{%- endfor %}"
    "{{- '\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}\\n</tool_call><|im_end|>\\n' }}"
    "{%- elif messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}"
    "{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) or "
    "(message.role == 'assistant' and not message.tool_calls) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- elif message.role == 'assistant' %}{{- '<|im_start|>' + message.role }}"
    "{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}"
    "{%- for tool_call in message.tool_calls %}"
    "{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}"
    "{{- '\\n<tool_call>\\n{\"name\": \"' }}{{- tool_call.name }}{{- '\", \"arguments\": ' }}"
    "{{- tool_call.arguments | tojson }}{{- '}\\n</tool_call>' }}{%- endfor %}{{- '<|im_end|>\\n' }}"
    "{%- elif message.role == 'tool' %}"
    "{%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != 'tool') %}{{- '<|im_start|>user' }}{%- endif %}"
    "{{- '\\n<tool_response>\\n' }}{{- message.content }}{{- '\\n</tool_response>' }}"
    "{%- if loop.last or (messages[loop.index0 + 1].role != 'tool') %}{{- '<|im_end|>\\n' }}{%- endif %}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

void AddTokenizer(GgufBuilder* b, const Vocab& vocab, bool add_space_prefix = true) {
  b->AddString("tokenizer.ggml.model", "llama");
  b->AddStringArray("tokenizer.ggml.tokens", vocab.tokens);
  b->AddF32Array("tokenizer.ggml.scores", vocab.scores);
  b->AddI32Array("tokenizer.ggml.token_type", vocab.types);
  b->AddU32("tokenizer.ggml.bos_token_id", kBosId);
  b->AddU32("tokenizer.ggml.eos_token_id", kImEndId);
  b->AddU32("tokenizer.ggml.unknown_token_id", kUnkId);
  b->AddU32("tokenizer.ggml.padding_token_id", kUnkId);
  b->AddBool("tokenizer.ggml.add_bos_token", false);
  if (!add_space_prefix) b->AddBool("tokenizer.ggml.add_space_prefix", false);
  b->AddBool("tokenizer.ggml.add_eos_token", false);
}

class Weights {
 public:
  Weights(uint64_t seed, uint32_t embd) : prng_(seed), scale_(kWeightScale * std::sqrt(64.0f / static_cast<float>(embd))) {}
  std::vector<float> Random(uint64_t n) {
    std::vector<float> w(n);
    for (float& x : w) x = prng_.Uniform(scale_);
    return w;
  }
  static std::vector<float> Fill(uint64_t n, float value) { return std::vector<float>(n, value); }

 private:
  Prng prng_;
  float scale_;
};

void AddLlama(GgufBuilder* b, const TinyGgufOptions& options, const Shape& shape, uint64_t n_vocab) {
  b->AddString("general.architecture", "llama");
  b->AddString("general.name", shape.name);
  b->AddU32("general.file_type", shape.file_type);
  b->AddU32("general.alignment", 32);
  b->AddU32("llama.context_length", options.context_length);
  b->AddU32("llama.embedding_length", shape.embd);
  b->AddU32("llama.block_count", shape.blocks);
  b->AddU32("llama.feed_forward_length", shape.ff);
  b->AddU32("llama.attention.head_count", shape.heads);
  b->AddU32("llama.attention.head_count_kv", shape.kv_heads);
  b->AddF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  b->AddU32("llama.rope.dimension_count", shape.embd / shape.heads);
  b->AddF32("llama.rope.freq_base", 10000.0f);
  b->AddU32("llama.vocab_size", static_cast<uint32_t>(n_vocab));
}

// Random weights would sample every token, and byte tokens above 0x7F make
// invalid UTF-8 (U+FFFD in the output). So dimension 0 of the residual stream
// is a steady signal: every token embedding has kSteer there, the blocks'
// norms give it weight 0 (they never see it), and the output rows of the
// tokens that should not be generated (<unk>, <s>, <|im_start|> and the byte
// tokens other than newline) have -kSteer there: their logits stay far below
// the others. </s> and <|im_end|> stay possible, so generation can end,
// unless `never_end` suppresses them too.
constexpr float kSteer = 8.0f;

bool Suppressed(const Vocab& vocab, uint64_t token, const TinyGgufOptions& options) {
  if (token == kUnkId || token == kBosId || token == 3) return true;
  if (token < kFirstByteId) return options.never_end && (token == 2 || token == kImEndId);
  if (token < kFirstByteId + 256) return token != kFirstByteId + '\n';  // bytes: newline only
  return options.whole_words && vocab.whole_words.count(vocab.tokens[token]) == 0;
}

// The tool-call model's script: dimensions 1 to 3 of the residual stream, like
// dimension 0, are unseen by the blocks (norm weight 0) and zero in every
// token's embedding and output row but these: newline's embedding has kSteer
// in dimension 1, as has <tool_call>'s output row, so after a newline (the
// end of "<|im_start|>assistant\n") the model says <tool_call>; <tool_call>'s
// embedding has it in dimension 2, as has the output row of the piece
// '\n{"name": "', which comes next. That is the start of a call in Qwen2.5's
// syntax; the engine then constrains the rest of the call (a declared
// function's name, arguments that fit its schema) with a grammar. After
// </tool_call> (dimension 3) comes <|im_end|>: one call, and the turn ends.
struct ScriptRow {
  uint64_t token, dimension;
};
// The embedding rows (input: newline, <tool_call>, </tool_call>) or the
// output rows (what follows each: <tool_call>, the piece, <|im_end|>).
std::vector<ScriptRow> ToolCallScript(const Vocab& vocab, bool outputs) {
  const uint64_t n_vocab = vocab.tokens.size();
  auto id = [&](std::string_view piece) {
    for (uint64_t t = 0; t < n_vocab; ++t) {
      if (vocab.tokens[t] == piece) return t;
    }
    return uint64_t{0};  // not reached: the pieces are in the tool-call vocabulary
  };
  const uint64_t newline = kFirstByteId + '\n', open = id("<tool_call>"), close = id("</tool_call>");
  const uint64_t name = n_vocab - 1;  // the piece '\n{"name": "', added last
  if (outputs) return {{open, 1}, {name, 2}, {kImEndId, 3}};
  return {{newline, 1}, {open, 2}, {close, 3}};
}

// Zeroes dimensions 1-3 of every row of `rows_of` (n wide), then sets kSteer
// at the script's rows.
void ApplyScript(const std::vector<ScriptRow>& script, uint64_t n, std::vector<float>* rows_of) {
  for (uint64_t t = 0; t < rows_of->size() / n; ++t) {
    for (uint64_t d : {1, 2, 3}) (*rows_of)[t * n + d] = 0.0f;
  }
  for (const ScriptRow& r : script) (*rows_of)[r.token * n + r.dimension] = kSteer;
}

void AddLlamaTensors(GgufBuilder* b, Weights* w, const Vocab& vocab, const TinyGgufOptions& options,
                     const Shape& shape) {
  const uint64_t n_vocab = vocab.tokens.size(), n = shape.embd, ff = shape.ff;
  const uint64_t kv = n / shape.heads * shape.kv_heads;  // K and V rows: head size times KV heads
  const TensorType q = shape.weights;
  std::vector<float> embd = w->Random(n * n_vocab);
  for (uint64_t t = 0; t < n_vocab; ++t) embd[t * n] = kSteer;
  if (options.tool_calls) ApplyScript(ToolCallScript(vocab, false), n, &embd);
  b->AddTensor("token_embd.weight", {n, n_vocab}, std::move(embd), q);
  std::vector<float> block_norm = Weights::Fill(n, 1.0f);
  block_norm[0] = 0.0f;
  if (options.tool_calls) block_norm[1] = block_norm[2] = block_norm[3] = 0.0f;
  for (uint32_t i = 0; i < shape.blocks; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    b->AddTensor(p + "attn_norm.weight", {n}, block_norm);
    b->AddTensor(p + "attn_q.weight", {n, n}, w->Random(n * n), q);
    b->AddTensor(p + "attn_k.weight", {n, kv}, w->Random(n * kv), q);
    b->AddTensor(p + "attn_v.weight", {n, kv}, w->Random(n * kv), q);
    b->AddTensor(p + "attn_output.weight", {n, n}, w->Random(n * n), q);
    b->AddTensor(p + "ffn_norm.weight", {n}, block_norm);
    b->AddTensor(p + "ffn_gate.weight", {n, ff}, w->Random(n * ff), q);
    b->AddTensor(p + "ffn_up.weight", {n, ff}, w->Random(n * ff), q);
    b->AddTensor(p + "ffn_down.weight", {ff, n}, w->Random(ff * n), q);
  }
  b->AddTensor("output_norm.weight", {n}, Weights::Fill(n, 1.0f));
  std::vector<float> output = w->Random(n * n_vocab);
  for (uint64_t t = 0; t < n_vocab; ++t) output[t * n] = Suppressed(vocab, t, options) ? -kSteer : 0.0f;
  if (options.tool_calls) ApplyScript(ToolCallScript(vocab, true), n, &output);
  b->AddTensor("output.weight", {n, n_vocab}, std::move(output), q);
}

// BERT: learned positions (one row per context position), LayerNorm with
// biases, separate q/k/v with biases, GELU feed-forward without a gate.
void AddBert(GgufBuilder* b, const TinyGgufOptions& options) {
  b->AddString("general.architecture", "bert");
  b->AddString("general.name", "switchyard-tiny-embed");
  b->AddU32("general.file_type", 0);
  b->AddU32("general.alignment", 32);
  b->AddU32("bert.context_length", options.context_length);
  b->AddU32("bert.embedding_length", kEmbd);
  b->AddU32("bert.block_count", kBlocks);
  b->AddU32("bert.feed_forward_length", kFf);
  b->AddU32("bert.attention.head_count", kHeads);
  b->AddF32("bert.attention.layer_norm_epsilon", 1e-12f);
  b->AddBool("bert.attention.causal", false);
  b->AddU32("bert.pooling_type", 1);  // mean
  b->AddU32("tokenizer.ggml.token_type_count", 2);  // rows of token_types.weight
}

void AddBertTensors(GgufBuilder* b, Weights* w, uint64_t n_vocab, uint64_t n_ctx) {
  b->AddTensor("token_embd.weight", {kEmbd, n_vocab}, w->Random(kEmbd * n_vocab));
  b->AddTensor("token_types.weight", {kEmbd, 2}, w->Random(kEmbd * 2));
  b->AddTensor("position_embd.weight", {kEmbd, n_ctx}, w->Random(kEmbd * n_ctx));
  b->AddTensor("token_embd_norm.weight", {kEmbd}, Weights::Fill(kEmbd, 1.0f));
  b->AddTensor("token_embd_norm.bias", {kEmbd}, Weights::Fill(kEmbd, 0.0f));
  for (uint32_t i = 0; i < kBlocks; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    for (const char* name : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      b->AddTensor(p + name + ".weight", {kEmbd, kEmbd}, w->Random(kEmbd * kEmbd));
      b->AddTensor(p + name + ".bias", {kEmbd}, w->Random(kEmbd));
    }
    b->AddTensor(p + "attn_output_norm.weight", {kEmbd}, Weights::Fill(kEmbd, 1.0f));
    b->AddTensor(p + "attn_output_norm.bias", {kEmbd}, Weights::Fill(kEmbd, 0.0f));
    b->AddTensor(p + "ffn_up.weight", {kEmbd, kFf}, w->Random(kEmbd * kFf));
    b->AddTensor(p + "ffn_up.bias", {kFf}, w->Random(kFf));
    b->AddTensor(p + "ffn_down.weight", {kFf, kEmbd}, w->Random(kFf * kEmbd));
    b->AddTensor(p + "ffn_down.bias", {kEmbd}, w->Random(kEmbd));
    b->AddTensor(p + "layer_output_norm.weight", {kEmbd}, Weights::Fill(kEmbd, 1.0f));
    b->AddTensor(p + "layer_output_norm.bias", {kEmbd}, Weights::Fill(kEmbd, 0.0f));
  }
}

}  // namespace

void GgufBuilder::Key(std::string_view key, uint32_t type) {
  ++kv_count_;
  PutString(&kv_, key);
  PutU32(&kv_, type);
}

void GgufBuilder::AddU32(std::string_view key, uint32_t value) {
  Key(key, kTypeU32);
  PutU32(&kv_, value);
}

void GgufBuilder::AddI32(std::string_view key, int32_t value) {
  Key(key, kTypeI32);
  PutU32(&kv_, static_cast<uint32_t>(value));
}

void GgufBuilder::AddF32(std::string_view key, float value) {
  Key(key, kTypeF32);
  PutF32(&kv_, value);
}

void GgufBuilder::AddBool(std::string_view key, bool value) {
  Key(key, kTypeBool);
  kv_.push_back(value ? '\1' : '\0');
}

void GgufBuilder::AddString(std::string_view key, std::string_view value) {
  Key(key, kTypeString);
  PutString(&kv_, value);
}

void GgufBuilder::AddStringArray(std::string_view key, const std::vector<std::string>& values) {
  Key(key, kTypeArray);
  PutU32(&kv_, kTypeString);
  PutU64(&kv_, values.size());
  for (const auto& v : values) PutString(&kv_, v);
}

void GgufBuilder::AddF32Array(std::string_view key, const std::vector<float>& values) {
  Key(key, kTypeArray);
  PutU32(&kv_, kTypeF32);
  PutU64(&kv_, values.size());
  for (float v : values) PutF32(&kv_, v);
}

void GgufBuilder::AddI32Array(std::string_view key, const std::vector<int32_t>& values) {
  Key(key, kTypeArray);
  PutU32(&kv_, kTypeI32);
  PutU64(&kv_, values.size());
  for (int32_t v : values) PutU32(&kv_, static_cast<uint32_t>(v));
}

void GgufBuilder::AddTensor(std::string_view name, std::vector<uint64_t> dims, std::vector<float> data,
                            TensorType type) {
  tensors_.push_back(Tensor{std::string(name), std::move(dims), std::move(data), type});
}

std::string GgufBuilder::Build() const {
  std::string out = "GGUF";
  PutU32(&out, 3);
  PutU64(&out, tensors_.size());
  PutU64(&out, kv_count_);
  out += kv_;
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    PutString(&out, t.name);
    PutU32(&out, static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) PutU64(&out, d);
    const bool q8 = t.type == TensorType::kQ8_0;
    PutU32(&out, q8 ? 8 : 0);  // GGML_TYPE_Q8_0 or GGML_TYPE_F32
    PutU64(&out, offset);
    const uint64_t bytes = q8 ? t.data.size() / 32 * 34 : t.data.size() * sizeof(float);
    offset += (bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  out.reserve(out.size() + offset + alignment_);
  for (const Tensor& t : tensors_) {
    PadTo(&out, alignment_);
    if (t.type == TensorType::kQ8_0) {
      PutQ8_0(&out, t.data);
    } else {
      for (float x : t.data) PutF32(&out, x);
    }
  }
  PadTo(&out, alignment_);
  return out;
}

std::string WriteTinyGguf(const TinyGgufOptions& options) {
  const Vocab vocab = MakeVocab(options.tool_calls && !options.embedding);
  const uint64_t n_vocab = vocab.tokens.size();
  GgufBuilder b(32);
  const Shape shape = ShapeOf(options.embedding ? TinyGgufOptions::Shape::kTiny : options.shape);
  Weights w(options.seed, shape.embd);
  if (options.embedding) {
    AddBert(&b, options);
    AddTokenizer(&b, vocab);
    AddBertTensors(&b, &w, n_vocab, options.context_length);
  } else {
    AddLlama(&b, options, shape, n_vocab);
    AddTokenizer(&b, vocab, !options.whole_words && !options.tool_calls);
    b.AddString("tokenizer.chat_template", options.tool_calls ? kToolsTemplate : kChatMlTemplate);
    AddLlamaTensors(&b, &w, vocab, options, shape);
  }
  return b.Build();
}

}  // namespace sy::local
