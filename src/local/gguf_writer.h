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
  // An F32 tensor; dims in ggml order (dims[0] varies fastest).
  // REQUIRES: 1..4 dims, and data.size() is their product.
  void AddTensor(std::string_view name, std::vector<uint64_t> dims, std::vector<float> data);

  // The whole file.
  std::string Build() const;

 private:
  struct Tensor {
    std::string name;
    std::vector<uint64_t> dims;
    std::vector<float> data;
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
