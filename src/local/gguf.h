// Reader of GGUF (llama.cpp's model file format, versions 2 and 3) headers and
// metadata, for the local engine: what the gateway shows about a model
// (Ollama's /api/show, /v1/models) and the check that a file is sane before
// the engine is asked to load it. node-llama-cpp hangs forever on a file with
// a valid magic and garbage counts; such files are refused here.
//
// The bytes are untrusted. Every count, length and offset is checked against
// the buffer before use, sizes are computed without overflow, and the work is
// linear in the buffer size (every element read consumes bytes).
//
// Layout (little-endian): "GGUF", u32 version, u64 tensor_count, u64 kv_count;
// kv_count key/value pairs; tensor_count tensor infos (name, u32 n_dims,
// n_dims x u64 dims, u32 ggml type, u64 offset); padding to general.alignment;
// the tensor data, each tensor at data_start + offset.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sy::local {

// Limits on hostile input, beyond the buffer size itself.
inline constexpr uint64_t kGgufMaxStringBytes = 16u << 20;     // one string value (chat templates are ~10 KB)
inline constexpr uint64_t kGgufMaxKeyBytes = 65535;            // one key or tensor name
inline constexpr uint64_t kGgufMaxArrayLength = uint64_t{1} << 26;  // tokens and merges are < 1 M
inline constexpr uint64_t kGgufMaxKeyCount = 65536;
inline constexpr uint64_t kGgufMaxTensorCount = uint64_t{1} << 20;
inline constexpr uint32_t kGgufMaxDims = 4;                    // GGML_MAX_DIMS
inline constexpr uint32_t kGgufDefaultAlignment = 32;

struct GgufInfo {
  uint32_t version = 0;
  std::string architecture;      // general.architecture ("" when absent)
  std::string name;              // general.name ("" when absent)
  int64_t context_length = 0;    // <arch>.context_length (0 when absent)
  int64_t embedding_length = 0;  // <arch>.embedding_length
  int64_t block_count = 0;       // <arch>.block_count
  // general.file_type as llama.cpp names it ("F32", "F16", "Q4_0", "Q4_K_M",
  // ...), or when absent or unknown, the ggml type of most tensors of 2 or
  // more dims (of most tensors when all have 1), e.g. "Q6_K"; "" for a file
  // without tensors.
  std::string quantization;
  int64_t parameter_count = 0;   // sum over tensors of the product of their dims
  uint64_t file_size = 0;        // the size of the parsed bytes
  std::string chat_template;     // tokenizer.chat_template ("" if none)
  std::string tokenizer_model;   // tokenizer.ggml.model ("llama", "gpt2", "bert", ...)
  int64_t vocab_size = 0;        // the length of tokenizer.ggml.tokens
  // True for the BERT family of architectures ("bert", "nomic-bert", ...) and
  // whenever <arch>.pooling_type is set: a model for embeddings, not chat.
  bool embedding_model = false;
  // Every key in file order. Scalars as text: strings as they are (bytes from
  // the file, not checked for UTF-8), integers in decimal, floats in the
  // shortest form that reads back exactly, bools as "true"/"false". Arrays as
  // "[array of N TYPE]" (TYPE: "uint8" ... "float64", "bool", "string", "array").
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Parses a whole GGUF file held in memory. An error is a short message without
// the file's path ("bad magic", "tensor 'x' data past end of file", ...).
// Checks, beyond the limits above: version 2 or 3; no duplicate key; value
// types known; arrays nest at most two deep; general.alignment, when set, is a
// u32 power of two; tensor names are unique; each tensor has at most 4 dims,
// a type id below 64, an aligned offset, and for the types whose block size
// is known (all but removed ones), a first dim that is a multiple of the block
// size and data inside the file.
std::variant<GgufInfo, std::string> ParseGguf(std::span<const uint8_t> bytes);

// Maps the file at `path` read-only, parses it and unmaps it. Errors for a
// missing, unreadable, empty or non-regular file name the cause, not the path.
// REQUIRES: nobody truncates the file while it is parsed (that would SIGBUS).
std::variant<GgufInfo, std::string> ReadGgufFile(const std::string& path);

// The llama.cpp name of a ggml tensor type id ("F32", "Q4_K", ...), or "" for
// an unknown id.
std::string_view GgmlTypeName(uint32_t type);

}  // namespace sy::local
