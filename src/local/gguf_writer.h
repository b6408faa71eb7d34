// Writes GGUF v3 files: a small builder for F32 models, and the tiny
// random-weight test model that node-llama-cpp loads (tools/tiny_gguf and the
// local engine's tests). Depends on the standard library only, so the tool
// builds without the gateway.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sy::local {

// How a tensor's data is stored: F32, or Q8_0 (blocks of 32 values, an F16
// scale and 32 int8s each, as ggml's reference quantizer writes them).
enum class TensorType { kF32, kQ8_0 };

// Collects metadata and F32 tensors in the order given, then lays out the
// file: header, key/values, tensor infos, padding, and each tensor's data at
// an offset that is a multiple of `alignment`. The builder writes no key of
// its own: callers add "general.alignment" when it is not the default 32.
class GgufBuilder {
 public:
  // REQUIRES: alignment is a power of two.
  explicit GgufBuilder(uint32_t alignment = 32) : alignment_(alignment) {}

  void AddU32(std::string_view key, uint32_t value);
  void AddI32(std::string_view key, int32_t value);
  void AddF32(std::string_view key, float value);
  void AddBool(std::string_view key, bool value);
  void AddString(std::string_view key, std::string_view value);
  void AddStringArray(std::string_view key, const std::vector<std::string>& values);
  void AddF32Array(std::string_view key, const std::vector<float>& values);
  void AddI32Array(std::string_view key, const std::vector<int32_t>& values);
  // A tensor; dims in ggml order (dims[0] varies fastest), stored as `type`.
  // REQUIRES: 1..4 dims, data.size() is their product, and for kQ8_0 dims[0]
  // is a multiple of 32.
  void AddTensor(std::string_view name, std::vector<uint64_t> dims, std::vector<float> data,
                 TensorType type = TensorType::kF32);

  // The whole file.
  std::string Build() const;

 private:
  struct Tensor {
    std::string name;
    std::vector<uint64_t> dims;
    std::vector<float> data;
    TensorType type = TensorType::kF32;
  };
  void Key(std::string_view key, uint32_t type);

  uint32_t alignment_;
  uint64_t kv_count_ = 0;
  std::string kv_;  // the encoded key/value pairs
  std::vector<Tensor> tensors_;
};

struct TinyGgufOptions {
  uint64_t seed = 1;               // seed of the weights' PRNG: same seed, same bytes
  uint32_t context_length = 4096;  // <arch>.context_length (the training context)
  // A BERT-style embedding model (architecture "bert", mean pooling) instead
  // of the llama-architecture chat model.
  bool embedding = false;
  // The chat model never generates </s> or <|im_end|>: every generation runs
  // to its max_tokens (tests of exact usage, long streams, benchmarks).
  bool never_end = false;
  // The chat model generates only whole words (the vocabulary's " the",
  // " hello", ...) and newlines, never pieces of words, and its tokenizer
  // adds no space before a text (tokenizer.ggml.add_space_prefix false, as in
  // BPE vocabularies), so its answers tokenize back to the tokens it
  // generated, as a trained model's do: a follow-up turn reuses the cached
  // answer instead of evaluating it again (session benchmarks).
  bool whole_words = false;
  // The chat model has Qwen2.5's tool-calling template and tool tags, and
  // starts every answer with a tool call's opening (<tool_call> and
  // '\n{"name": "'), as a trained model asked to use a tool does; the engine
  // completes the call under its grammar. Tests of tool calls end to end.
  bool tool_calls = false;
  // The chat model's size. kTiny is the test model (below). The others have
  // the block structure of a real small model (the vocabulary stays this
  // one's) and Q8_0 weights, so that the engine does a real model's work per
  // token: a random-weight stand-in for benchmarks, where the tiny model's
  // microseconds per token make every fixed cost look large.
  //   kSmolLm2_135m: SmolLM2-135M's blocks: 30, n_embd 576, n_ff 1536, 9 heads, 3 KV heads (113 MB)
  //   kQwen25_05b:   Qwen2.5-0.5B's blocks: 24, n_embd 896, n_ff 4864, 14 heads, 2 KV heads (381 MB)
  //   kLlama32_3b:   Llama-3.2-3B's blocks: 28, n_embd 3072, n_ff 8192, 24 heads, 8 KV heads (3.0 GB)
  enum class Shape { kTiny, kSmolLm2_135m, kQwen25_05b, kLlama32_3b };
  Shape shape = Shape::kTiny;
};

// The tiny test model: GGUF v3, F32, 2 blocks, n_embd 64, 4 heads, n_ff 128,
// a SentencePiece-style ("llama") vocabulary of 436 tokens (<unk>, <s>, </s>,
// <|im_start|>, <|im_end|> = eos, 256 byte tokens, ASCII and some English
// pieces) and a ChatML chat template; weights uniform in [-0.1, 0.1], norms 1;
// 0.56 MB with the default context. It generates ASCII text (never <unk>,
// <s>, <|im_start|> or a byte token other than newline) and may end with
// <|im_end|> or </s> at any point. With `embedding`, the same vocabulary (no
// template) and learned positions: 0.5 MB at context 512, +256 B per position.
std::string WriteTinyGguf(const TinyGgufOptions& options);

}  // namespace sy::local
