#include "local/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>

namespace sy::local {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF is read with memcpy: little-endian hosts only");

// GGUF metadata value types.
enum ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
  kValueTypeCount = 13,
};

constexpr std::array<const char*, kValueTypeCount> kValueTypeNames = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool",  "string", "array", "uint64", "int64", "float64"};

// Bytes of a scalar value; 0 for strings and arrays.
size_t ScalarSize(uint32_t type) {
  switch (type) {
    case kU8: case kI8: case kBool: return 1;
    case kU16: case kI16: return 2;
    case kU32: case kI32: case kF32: return 4;
    case kU64: case kI64: case kF64: return 8;
    default: return 0;
  }
}

bool IsSigned(uint32_t type) { return type == kI8 || type == kI16 || type == kI32 || type == kI64; }

// ggml tensor types: name, elements per block, bytes per block. Block size 0:
// a removed type, whose size is not checked. Sizes as ggml_blck_size and
// ggml_type_size report them in the llama.cpp of node-llama-cpp 3.21.1.
struct GgmlType {
  const char* name;
  uint32_t block;
  uint32_t bytes;
};
constexpr uint32_t kMaxGgmlType = 64;  // ids at or above are garbage
constexpr std::array<GgmlType, 43> kGgmlTypes = {{
    {"F32", 1, 4},       {"F16", 1, 2},      {"Q4_0", 32, 18},     {"Q4_1", 32, 20},    {"Q4_2", 0, 0},
    {"Q4_3", 0, 0},      {"Q5_0", 32, 22},   {"Q5_1", 32, 24},     {"Q8_0", 32, 34},    {"Q8_1", 32, 36},
    {"Q2_K", 256, 84},   {"Q3_K", 256, 110}, {"Q4_K", 256, 144},   {"Q5_K", 256, 176},  {"Q6_K", 256, 210},
    {"Q8_K", 256, 292},  {"IQ2_XXS", 256, 66}, {"IQ2_XS", 256, 74}, {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
    {"IQ4_NL", 32, 18},  {"IQ3_S", 256, 110}, {"IQ2_S", 256, 82},  {"IQ4_XS", 256, 136}, {"I8", 1, 1},
    {"I16", 1, 2},       {"I32", 1, 4},      {"I64", 1, 8},        {"F64", 1, 8},       {"IQ1_M", 256, 56},
    {"BF16", 1, 2},      {"Q4_0_4_4", 0, 0}, {"Q4_0_4_8", 0, 0},   {"Q4_0_8_8", 0, 0},  {"TQ1_0", 256, 54},
    {"TQ2_0", 256, 66},  {"IQ4_NL_4_4", 0, 0}, {"IQ4_NL_4_8", 0, 0}, {"IQ4_NL_8_8", 0, 0}, {"MXFP4", 32, 17},
    {"NVFP4", 64, 36},   {"Q1_0", 128, 18},  {"Q2_0", 64, 18},
}};

// llama_ftype (general.file_type) names, as Ollama and llama.cpp print them.
std::string_view FileTypeName(int64_t file_type) {
  static constexpr std::array<const char*, 42> kNames = {
      "F32",     "F16",    "Q4_0",    "Q4_1",   "Q4_1_F16", "",       "",       "Q8_0",    "Q5_0",   "Q5_1",
      "Q2_K",    "Q3_K_S", "Q3_K_M",  "Q3_K_L", "Q4_K_S",   "Q4_K_M", "Q5_K_S", "Q5_K_M",  "Q6_K",   "IQ2_XXS",
      "IQ2_XS",  "Q2_K_S", "IQ3_XS",  "IQ3_XXS", "IQ1_S",   "IQ4_NL", "IQ3_S",  "IQ3_M",   "IQ2_S",  "IQ2_M",
      "IQ4_XS",  "IQ1_M",  "BF16",    "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "MXFP4_MOE", "NVFP4",
      "Q1_0",    "Q2_0"};
  if (file_type < 0 || file_type >= static_cast<int64_t>(kNames.size())) return {};
  return kNames[static_cast<size_t>(file_type)];
}

bool IsBertFamily(std::string_view arch) {
  for (std::string_view a : {"bert", "modern-bert", "nomic-bert", "nomic-bert-moe", "neo-bert", "jina-bert-v2",
                             "jina-bert-v3", "eurobert"}) {
    if (arch == a) return true;
  }
  return false;
}

// One metadata value. Scalars keep their raw bits (zero-extended); strings
// point into the parsed bytes; arrays keep their element type and length.
struct Value {
  uint32_t type = 0;
  uint64_t bits = 0;
  std::string_view text;
  uint32_t element_type = 0;
  uint64_t length = 0;
};

std::optional<int64_t> AsInt(const Value& v) {
  const size_t size = ScalarSize(v.type);
  if (size == 0 || v.type == kF32 || v.type == kF64 || v.type == kBool) return std::nullopt;
  if (IsSigned(v.type)) {
    const int shift = 64 - static_cast<int>(size) * 8;
    return static_cast<int64_t>(v.bits << shift) >> shift;  // sign extension
  }
  if (v.bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(v.bits);
}

template <typename Float>
std::string FloatText(Float f) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

std::string Render(const Value& v) {
  switch (v.type) {
    case kString: return std::string(v.text);
    case kArray:
      return "[array of " + std::to_string(v.length) + " " + kValueTypeNames[v.element_type] + "]";
    case kBool: return v.bits ? "true" : "false";
    case kF32: return FloatText(std::bit_cast<float>(static_cast<uint32_t>(v.bits)));
    case kF64: return FloatText(std::bit_cast<double>(v.bits));
    default:
      if (IsSigned(v.type)) return std::to_string(*AsInt(v));
      return std::to_string(v.bits);
  }
}

uint64_t AlignUp(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

// Reads the buffer front to back; every method checks the bytes left and
// records the first error.
class Parser {
 public:
  explicit Parser(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  std::variant<GgufInfo, std::string> Parse();

 private:
  struct Tensor {
    std::string_view name;
    std::array<uint64_t, kGgufMaxDims> dims{};
    uint32_t n_dims = 0;
    uint32_t type = 0;
    uint64_t offset = 0;
  };

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  size_t Left() const { return bytes_.size() - pos_; }
  bool Raw(size_t n, uint64_t* out) {
    if (Left() < n) return Fail("truncated file");
    *out = 0;
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool U32(uint32_t* out) {
    uint64_t v;
    if (!Raw(4, &v)) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  }
  bool U64(uint64_t* out) { return Raw(8, out); }
  bool String(uint64_t limit, std::string_view* out) {
    uint64_t length;
    if (!U64(&length)) return false;
    if (length > limit) return Fail("string too long");
    if (length > Left()) return Fail("truncated file");
    *out = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
    pos_ += length;
    return true;
  }
  bool ValueTypeOf(uint32_t* type) {
    if (!U32(type)) return false;
    if (*type >= kValueTypeCount) return Fail("bad value type " + std::to_string(*type));
    return true;
  }

  bool ReadKeyValue();
  bool SkipArray(uint32_t element_type, uint64_t length, bool may_nest);
  bool ReadTensor(Tensor* t);
  bool CheckTensors(uint64_t alignment, GgufInfo* info);
  const Value* Find(std::string_view key) const {
    auto it = std::lower_bound(index_.begin(), index_.end(), key,
                               [](const auto& entry, std::string_view k) { return entry.first < k; });
    return it == index_.end() || it->first != key ? nullptr : &values_[it->second].second;
  }
  std::optional<int64_t> FindInt(std::string_view key) const {
    const Value* v = Find(key);
    return v ? AsInt(*v) : std::nullopt;
  }
  std::string FindString(std::string_view key) const {
    const Value* v = Find(key);
    return v && v->type == kString ? std::string(v->text) : std::string();
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  std::string error_;
  std::vector<std::pair<std::string_view, Value>> values_;  // file order
  // (key, index in values_) sorted by key. Sorted vectors, not hash tables:
  // hostile names could be chosen to collide in a hash.
  std::vector<std::pair<std::string_view, size_t>> index_;
  std::vector<Tensor> tensors_;
};

bool Parser::SkipArray(uint32_t element_type, uint64_t length, bool may_nest) {
  if (length > kGgufMaxArrayLength) return Fail("array too long");
  if (const size_t size = ScalarSize(element_type)) {
    if (length > Left() / size) return Fail("truncated file");
    pos_ += length * size;
    return true;
  }
  if (element_type == kString) {
    if (length > Left() / 8) return Fail("truncated file");  // each string has an 8-byte length
    for (uint64_t i = 0; i < length; ++i) {
      std::string_view ignored;
      if (!String(kGgufMaxStringBytes, &ignored)) return false;
    }
    return true;
  }
  // An array of arrays; their elements must not be arrays again.
  if (!may_nest) return Fail("arrays nested too deep");
  if (length > Left() / 12) return Fail("truncated file");  // each has a type and a length
  for (uint64_t i = 0; i < length; ++i) {
    uint32_t inner_type;
    uint64_t inner_length;
    if (!ValueTypeOf(&inner_type) || !U64(&inner_length) || !SkipArray(inner_type, inner_length, false)) return false;
  }
  return true;
}

bool Parser::ReadKeyValue() {
  std::string_view key;
  Value v;
  if (!String(kGgufMaxKeyBytes, &key) || !ValueTypeOf(&v.type)) return false;
  if (const size_t size = ScalarSize(v.type)) {
    if (!Raw(size, &v.bits)) return false;
  } else if (v.type == kString) {
    if (!String(kGgufMaxStringBytes, &v.text)) return false;
  } else {
    if (!ValueTypeOf(&v.element_type) || !U64(&v.length) || !SkipArray(v.element_type, v.length, true)) return false;
  }
  values_.emplace_back(key, v);
  return true;
}

bool Parser::ReadTensor(Tensor* t) {
  if (!String(kGgufMaxKeyBytes, &t->name) || !U32(&t->n_dims)) return false;
  if (t->n_dims > kGgufMaxDims) return Fail("tensor has too many dims");
  for (uint32_t d = 0; d < t->n_dims; ++d) {
    if (!U64(&t->dims[d])) return false;
    if (t->dims[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Fail("tensor dim too large");
  }
  return U32(&t->type) && U64(&t->offset);
}

bool Parser::CheckTensors(uint64_t alignment, GgufInfo* info) {
  const uint64_t data_start = AlignUp(pos_, alignment);
  const uint64_t size = bytes_.size();
  // Tensors per type: matrices (2+ dims) apart, as 1-dim norms and biases
  // stay F32 in quantized files.
  std::array<uint64_t, kMaxGgmlType> per_type{}, matrices_per_type{};
  std::vector<std::string_view> names;
  names.reserve(tensors_.size());
  for (const Tensor& t : tensors_) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end()) return Fail("duplicate tensor name");
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    auto fail = [&](std::string_view what) { return Fail("tensor " + std::to_string(i) + " " + std::string(what)); };
    if (t.type >= kMaxGgmlType) return fail("has a bad type");
    ++per_type[t.type];
    if (t.n_dims >= 2) ++matrices_per_type[t.type];
    // Elements (the product of the dims), without overflow.
    uint64_t elements = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      if (__builtin_mul_overflow(elements, t.dims[d], &elements) ||
          elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return fail("is too large");
      }
    }
    if (__builtin_add_overflow(info->parameter_count, static_cast<int64_t>(elements), &info->parameter_count)) {
      return Fail("too many parameters");
    }
    if (t.offset % alignment != 0) return fail("offset not aligned");
    uint64_t start;
    if (__builtin_add_overflow(data_start, t.offset, &start) || start > size) return fail("data past end of file");
    const GgmlType* traits = t.type < kGgmlTypes.size() ? &kGgmlTypes[t.type] : nullptr;
    if (!traits || traits->block == 0) continue;  // size unknown: not checked
    const uint64_t row = t.n_dims > 0 ? t.dims[0] : 1;
    if (row % traits->block != 0) return fail("shape does not fit its type");
    uint64_t data_bytes;
    if (__builtin_mul_overflow(row / traits->block, uint64_t{traits->bytes}, &data_bytes)) return fail("is too large");
    for (uint32_t d = 1; d < t.n_dims; ++d) {
      if (__builtin_mul_overflow(data_bytes, t.dims[d], &data_bytes)) return fail("is too large");
    }
    if (data_bytes > size - start) return fail("data past end of file");
  }
  if (info->quantization.empty() && !tensors_.empty()) {
    const bool any_matrix =
        std::any_of(matrices_per_type.begin(), matrices_per_type.end(), [](uint64_t n) { return n > 0; });
    const auto& counts = any_matrix ? matrices_per_type : per_type;
    uint32_t most = 0;
    for (uint32_t type = 1; type < kMaxGgmlType; ++type) {
      if (counts[type] > counts[most]) most = type;
    }
    info->quantization = std::string(GgmlTypeName(most));
    if (info->quantization.empty()) info->quantization = "type " + std::to_string(most);
  }
  return true;
}

std::variant<GgufInfo, std::string> Parser::Parse() {
  GgufInfo info;
  info.file_size = bytes_.size();
  if (bytes_.size() < 4 || std::memcmp(bytes_.data(), "GGUF", 4) != 0) {
    return std::string("not a GGUF file (bad magic)");
  }
  pos_ = 4;
  uint64_t tensor_count = 0, kv_count = 0;
  if (!U32(&info.version)) return error_;
  if (info.version != 2 && info.version != 3) return "unsupported GGUF version " + std::to_string(info.version);
  if (!U64(&tensor_count) || !U64(&kv_count)) return error_;
  // Each key/value takes at least 13 bytes, each tensor info at least 24.
  if (kv_count > kGgufMaxKeyCount || kv_count > Left() / 13) return std::string("bad metadata count");
  if (tensor_count > kGgufMaxTensorCount || tensor_count > Left() / 24) return std::string("bad tensor count");

  values_.reserve(kv_count);
  for (uint64_t i = 0; i < kv_count; ++i) {
    if (!ReadKeyValue()) return error_;
  }
  index_.reserve(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) index_.emplace_back(values_[i].first, i);
  std::sort(index_.begin(), index_.end());
  auto same_key = [](const auto& a, const auto& b) { return a.first == b.first; };
  if (std::adjacent_find(index_.begin(), index_.end(), same_key) != index_.end()) return std::string("duplicate key");
  tensors_.resize(tensor_count);
  for (Tensor& t : tensors_) {
    if (!ReadTensor(&t)) return error_;
  }

  uint64_t alignment = kGgufDefaultAlignment;
  if (const Value* a = Find("general.alignment")) {
    if (a->type != kU32 || a->bits == 0 || (a->bits & (a->bits - 1)) != 0) return std::string("bad general.alignment");
    alignment = a->bits;
  }
  if (const auto file_type = FindInt("general.file_type")) info.quantization = std::string(FileTypeName(*file_type));
  if (!CheckTensors(alignment, &info)) return error_;

  info.architecture = FindString("general.architecture");
  info.name = FindString("general.name");
  const std::string& arch = info.architecture;
  info.context_length = FindInt(arch + ".context_length").value_or(0);
  info.embedding_length = FindInt(arch + ".embedding_length").value_or(0);
  info.block_count = FindInt(arch + ".block_count").value_or(0);
  info.chat_template = FindString("tokenizer.chat_template");
  info.tokenizer_model = FindString("tokenizer.ggml.model");
  if (const Value* tokens = Find("tokenizer.ggml.tokens"); tokens && tokens->type == kArray) {
    info.vocab_size = static_cast<int64_t>(tokens->length);
  }
  info.embedding_model = IsBertFamily(arch) || Find(arch + ".pooling_type") != nullptr;
  info.metadata.reserve(values_.size());
  for (const auto& [key, value] : values_) info.metadata.emplace_back(std::string(key), Render(value));
  return info;
}

}  // namespace

std::string_view GgmlTypeName(uint32_t type) { return type < kGgmlTypes.size() ? kGgmlTypes[type].name : ""; }

std::variant<GgufInfo, std::string> ParseGguf(std::span<const uint8_t> bytes) { return Parser(bytes).Parse(); }

std::variant<GgufInfo, std::string> ReadGgufFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string("cannot open: ") + std::strerror(errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return std::string("cannot stat: ") + std::strerror(err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::string("not a regular file");
  }
  if (st.st_size == 0) {
    ::close(fd);
    return std::string("empty file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (map == MAP_FAILED) return std::string("cannot map: ") + std::strerror(map_errno);
  auto result = ParseGguf(std::span<const uint8_t>(static_cast<const uint8_t*>(map), size));
  ::munmap(map, size);
  return result;
}

}  // namespace sy::local
