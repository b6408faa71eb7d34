#include "local/gguf.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <limits>
#include <map>

#include "local/gguf_writer.h"

namespace sy::local {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::variant<GgufInfo, std::string> Parse(const std::string& s) { return ParseGguf(Bytes(s)); }

// The error of a parse that must fail ("" when it succeeded).
std::string ErrorOf(const std::string& s) {
  auto r = Parse(s);
  auto* error = std::get_if<std::string>(&r);
  return error ? *error : std::string();
}

std::map<std::string, std::string> MetadataMap(const GgufInfo& info) {
  return {info.metadata.begin(), info.metadata.end()};
}

// Raw GGUF pieces, for files the builder would never write.
std::string U32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string U64(uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }
std::string Str(std::string_view s) { return U64(s.size()) + std::string(s); }
std::string Header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
  return "GGUF" + U32(version) + U64(tensors) + U64(kvs);
}
std::string KvU32(std::string_view key, uint32_t v) { return Str(key) + U32(4) + U32(v); }
std::string TensorInfo(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
  std::string out = Str(name) + U32(static_cast<uint32_t>(dims.size()));
  for (uint64_t d : dims) out += U64(d);
  return out + U32(type) + U64(offset);
}
// Pads `s` to a multiple of 32 (the data section's start), then appends `data_bytes` zeros.
std::string WithData(std::string s, size_t data_bytes) {
  s.append((32 - s.size() % 32) % 32, '\0');
  return s.append(data_bytes, '\0');
}

class TempFile {
 public:
  TempFile() {
    char name[] = "/tmp/gguf_test_XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }
  void Write(const std::string& bytes) const {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    std::fclose(f);
  }

 private:
  std::string path_;
};

TEST(TinyGguf, ParsesWhatTheWriterWrites) {
  const std::string file = WriteTinyGguf({});
  EXPECT_LT(file.size(), 1u << 20);
  EXPECT_EQ(file.size() % 32, 0u);
  auto r = Parse(file);
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r)) << std::get<std::string>(r);
  const auto& info = std::get<GgufInfo>(r);
  EXPECT_EQ(info.version, 3u);
  EXPECT_EQ(info.architecture, "llama");
  EXPECT_EQ(info.name, "switchyard-tiny");
  EXPECT_EQ(info.context_length, 4096);
  EXPECT_EQ(info.embedding_length, 64);
  EXPECT_EQ(info.block_count, 2);
  EXPECT_EQ(info.quantization, "F32");
  EXPECT_EQ(info.file_size, file.size());
  EXPECT_EQ(info.tokenizer_model, "llama");
  EXPECT_FALSE(info.embedding_model);
  EXPECT_NE(info.chat_template.find("<|im_start|>"), std::string::npos);
  // 5 specials, 256 bytes, 95 ASCII pieces, then words and their prefixes.
  EXPECT_GT(info.vocab_size, 5 + 256 + 95);
  EXPECT_LT(info.vocab_size, 600);
  // token_embd + output, and per block 4 * 64x64 + 3 * 64x128 + 2 norms; output_norm.
  const int64_t v = info.vocab_size;
  EXPECT_EQ(info.parameter_count, 2 * 64 * v + 2 * (4 * 64 * 64 + 3 * 64 * 128 + 2 * 64) + 64);
  const auto meta = MetadataMap(info);
  EXPECT_EQ(meta.at("general.alignment"), "32");
  EXPECT_EQ(meta.at("general.file_type"), "0");
  EXPECT_EQ(meta.at("llama.attention.layer_norm_rms_epsilon"), "1e-05");
  EXPECT_EQ(meta.at("llama.attention.head_count_kv"), "4");
  EXPECT_EQ(meta.at("llama.rope.dimension_count"), "16");
  EXPECT_EQ(meta.at("tokenizer.ggml.add_bos_token"), "false");
  EXPECT_EQ(meta.at("tokenizer.ggml.tokens"), "[array of " + std::to_string(v) + " string]");
  EXPECT_EQ(meta.at("tokenizer.ggml.scores"), "[array of " + std::to_string(v) + " float32]");
  EXPECT_EQ(meta.at("tokenizer.ggml.token_type"), "[array of " + std::to_string(v) + " int32]");
  EXPECT_EQ(meta.at("tokenizer.ggml.eos_token_id"), "4");
  EXPECT_EQ(info.metadata.front().first, "general.architecture");  // file order
}

TEST(TinyGguf, SameSeedSameBytes) {
  const std::string a = WriteTinyGguf({.seed = 7});
  EXPECT_EQ(a, WriteTinyGguf({.seed = 7}));
  const std::string b = WriteTinyGguf({.seed = 8});
  EXPECT_EQ(a.size(), b.size());
  EXPECT_NE(a, b);
}

TEST(TinyGguf, WholeWordsModelAddsNoSpacePrefix) {
  const std::string plain = WriteTinyGguf({});
  EXPECT_EQ(MetadataMap(std::get<GgufInfo>(Parse(plain))).count("tokenizer.ggml.add_space_prefix"), 0u);
  const std::string words = WriteTinyGguf({.whole_words = true});
  auto r = Parse(words);
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r)) << std::get<std::string>(r);
  EXPECT_EQ(MetadataMap(std::get<GgufInfo>(r)).at("tokenizer.ggml.add_space_prefix"), "false");
  EXPECT_NE(words.substr(words.size() - plain.size() / 2), plain.substr(plain.size() / 2));  // other output rows
}

TEST(TinyGguf, RealModelShapesAreQ8_0WithTheirBlocks) {
  const std::string file = WriteTinyGguf({.context_length = 2048, .never_end = true,
                                          .shape = TinyGgufOptions::Shape::kSmolLm2_135m});
  auto r = Parse(file);
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r)) << std::get<std::string>(r);
  const auto& info = std::get<GgufInfo>(r);
  EXPECT_EQ(info.name, "switchyard-random-smollm2-135m-shape");
  EXPECT_EQ(info.quantization, "Q8_0");
  EXPECT_EQ(info.embedding_length, 576);
  EXPECT_EQ(info.block_count, 30);
  EXPECT_EQ(info.context_length, 2048);
  const auto meta = MetadataMap(info);
  EXPECT_EQ(meta.at("llama.attention.head_count"), "9");
  EXPECT_EQ(meta.at("llama.attention.head_count_kv"), "3");
  EXPECT_EQ(meta.at("llama.feed_forward_length"), "1536");
  EXPECT_EQ(meta.at("llama.rope.dimension_count"), "64");
  // SmolLM2-135M's blocks: q and o 576x576, k and v 576x192, three 576x1536, two norms.
  const int64_t v = info.vocab_size;
  const int64_t block = 2 * 576 * 576 + 2 * 576 * 192 + 3 * 576 * 1536 + 2 * 576;
  EXPECT_EQ(info.parameter_count, 2 * 576 * v + 30 * block + 576);
  // Q8_0 stores 32 values in 34 bytes: the file is about 34/32 bytes per weight.
  EXPECT_GT(file.size(), static_cast<size_t>(info.parameter_count));
  EXPECT_LT(file.size(), static_cast<size_t>(info.parameter_count) * 11 / 10);
  EXPECT_EQ(file.size() % 32, 0u);
}

TEST(TinyGguf, ToolCallModelHasTheToolTagsAndTemplate) {
  auto plain = Parse(WriteTinyGguf({}));
  auto r = Parse(WriteTinyGguf({.tool_calls = true}));
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r)) << std::get<std::string>(r);
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(plain));
  const auto& info = std::get<GgufInfo>(r);
  const auto& base = std::get<GgufInfo>(plain);
  // Four tags and the piece after <tool_call>, after the default vocabulary.
  EXPECT_EQ(info.vocab_size, base.vocab_size + 5);
  EXPECT_NE(info.chat_template.find("<tool_call>"), std::string::npos);
  EXPECT_NE(info.chat_template.find("if tools"), std::string::npos);
  const auto meta = MetadataMap(info);
  EXPECT_EQ(meta.at("tokenizer.ggml.add_space_prefix"), "false");  // as Qwen2.5's BPE: no space after a tag
}

TEST(GgufBuilder, Q8_0BlocksHoldAnF16ScaleAndRoundedValues) {
  GgufBuilder b;
  std::vector<float> data(32, 0.0f);
  data[0] = 1.27f;   // max |x|: d = 0.01
  data[1] = -0.5f;   // -50
  data[2] = 0.004f;  // 0.4 rounds to 0
  data[3] = 0.016f;  // 1.6 rounds to 2
  b.AddTensor("t", {32}, data, TensorType::kQ8_0);
  const std::string file = b.Build();
  auto r = Parse(file);
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r)) << std::get<std::string>(r);
  const std::string block = file.substr(file.size() - 64, 34);  // the data, then padding to 32
  const uint16_t d = static_cast<uint16_t>(static_cast<uint8_t>(block[0]) | static_cast<uint8_t>(block[1]) << 8);
  EXPECT_EQ(d, 0x211Fu);  // 0.01 as binary16 (0.010002136)
  EXPECT_EQ(static_cast<int8_t>(block[2]), 127);
  EXPECT_EQ(static_cast<int8_t>(block[3]), -50);
  EXPECT_EQ(static_cast<int8_t>(block[4]), 0);
  EXPECT_EQ(static_cast<int8_t>(block[5]), 2);
  EXPECT_EQ(block.substr(6), std::string(28, '\0'));
}

TEST(TinyGguf, ContextAndEmbeddingOptions) {
  auto r = Parse(WriteTinyGguf({.context_length = 2048}));
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r));
  EXPECT_EQ(std::get<GgufInfo>(r).context_length, 2048);

  const std::string file = WriteTinyGguf({.context_length = 512, .embedding = true});
  EXPECT_LT(file.size(), 1u << 20);
  r = Parse(file);
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r)) << std::get<std::string>(r);
  const auto& info = std::get<GgufInfo>(r);
  EXPECT_EQ(info.architecture, "bert");
  EXPECT_TRUE(info.embedding_model);
  EXPECT_EQ(info.context_length, 512);
  EXPECT_EQ(info.chat_template, "");
  EXPECT_EQ(MetadataMap(info).at("bert.pooling_type"), "1");
}

TEST(ReadGgufFile, MapsAndParsesAFile) {
  TempFile tmp;
  tmp.Write(WriteTinyGguf({}));
  auto r = ReadGgufFile(tmp.path());
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r)) << std::get<std::string>(r);
  EXPECT_EQ(std::get<GgufInfo>(r).name, "switchyard-tiny");
}

TEST(ReadGgufFile, ErrorsNameTheCauseNotThePath) {
  auto missing = ReadGgufFile("/nonexistent/dir/model.gguf");
  ASSERT_TRUE(std::holds_alternative<std::string>(missing));
  EXPECT_EQ(std::get<std::string>(missing), "cannot open: No such file or directory");

  auto dir = ReadGgufFile("/tmp");
  ASSERT_TRUE(std::holds_alternative<std::string>(dir));
  EXPECT_EQ(std::get<std::string>(dir), "not a regular file");

  TempFile empty;
  auto e = ReadGgufFile(empty.path());
  ASSERT_TRUE(std::holds_alternative<std::string>(e));
  EXPECT_EQ(std::get<std::string>(e), "empty file");

  TempFile truncated;
  truncated.Write(WriteTinyGguf({}).substr(0, 1000));
  auto t = ReadGgufFile(truncated.path());
  ASSERT_TRUE(std::holds_alternative<std::string>(t));
  EXPECT_EQ(std::get<std::string>(t).find(truncated.path()), std::string::npos);
}

TEST(ParseGguf, EveryTruncationFailsCleanly) {
  const std::string file = WriteTinyGguf({});
  // The header, metadata and tensor infos end well before 20000 bytes; after
  // that, the last tensor's data is cut.
  for (size_t n = 0; n < 20000; ++n) {
    EXPECT_NE(ErrorOf(file.substr(0, n)), "") << n;
  }
  for (size_t n = 20000; n < file.size() - 32; n += 997) {
    EXPECT_NE(ErrorOf(file.substr(0, n)).find("data past end of file"), std::string::npos) << n;
  }
}

TEST(ParseGguf, BadMagicAndVersion) {
  std::string file = WriteTinyGguf({});
  EXPECT_EQ(ErrorOf("GGUG" + file.substr(4)), "not a GGUF file (bad magic)");
  EXPECT_EQ(ErrorOf(""), "not a GGUF file (bad magic)");
  EXPECT_EQ(ErrorOf(Header(0, 0, 1)), "unsupported GGUF version 1");
  EXPECT_EQ(ErrorOf(Header(0, 0, 0x03000000)), "unsupported GGUF version 50331648");  // big-endian
  EXPECT_EQ(ErrorOf(Header(0, 0, 2)), "");
  EXPECT_EQ(ErrorOf(Header(0, 0, 3)), "");
}

TEST(ParseGguf, HugeCountsAreRefused) {
  // A valid magic and version with garbage counts: node-llama-cpp hangs on these.
  EXPECT_EQ(ErrorOf(Header(0, ~uint64_t{0})), "bad metadata count");
  EXPECT_EQ(ErrorOf(Header(~uint64_t{0}, 0)), "bad tensor count");
  EXPECT_EQ(ErrorOf(Header(0, 1000) + std::string(100, 'x')), "bad metadata count");
  EXPECT_EQ(ErrorOf(Header(5, 0) + std::string(100, '\0')), "bad tensor count");
  EXPECT_EQ(ErrorOf(Header(0, 1) + U64(~uint64_t{0}) + std::string(16, 'k')), "string too long");
  EXPECT_EQ(ErrorOf(Header(0, 1) + U64(15) + std::string(19, 'k')), "bad value type " + std::to_string(0x6b6b6b6bu));
  EXPECT_EQ(ErrorOf(Header(0, 1) + Str("k") + U32(8) + U64(1000)), "truncated file");
  // Arrays: length past the limit, past the bytes, of strings past the bytes.
  EXPECT_EQ(ErrorOf(Header(0, 1) + Str("k") + U32(9) + U32(0) + U64(uint64_t{1} << 62)), "array too long");
  EXPECT_EQ(ErrorOf(Header(0, 1) + Str("k") + U32(9) + U32(12) + U64(1000) + U64(0)), "truncated file");
  EXPECT_EQ(ErrorOf(Header(0, 1) + Str("k") + U32(9) + U32(8) + U64(1000000) + Str("a")), "truncated file");
  EXPECT_EQ(ErrorOf(Header(0, 1) + Str("k") + U32(9) + U32(13) + U64(0)), "bad value type 13");
  // Tensor infos.
  EXPECT_EQ(ErrorOf(Header(1, 0) + TensorInfo("t", {1, 1, 1, 1, 1}, 0, 0)), "tensor has too many dims");
  EXPECT_EQ(ErrorOf(Header(1, 0) + TensorInfo("t", {~uint64_t{0}}, 0, 0)), "tensor dim too large");
  EXPECT_EQ(ErrorOf(WithData(Header(1, 0) + TensorInfo("t", {uint64_t{1} << 40, uint64_t{1} << 40}, 0, 0), 0)),
            "tensor 0 is too large");
  EXPECT_EQ(ErrorOf(WithData(Header(1, 0) + TensorInfo("t", {uint64_t{1} << 62}, 0, 0), 0)), "tensor 0 is too large");
}

TEST(ParseGguf, ArraysNestTwoDeepAtMost) {
  const std::string two = Str("k") + U32(9) + U32(9) + U64(2) + U32(4) + U64(1) + U32(7) + U32(8) + U64(1) + Str("s");
  auto r = Parse(Header(0, 1) + two);
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r)) << std::get<std::string>(r);
  EXPECT_EQ(MetadataMap(std::get<GgufInfo>(r)).at("k"), "[array of 2 array]");
  const std::string three = Str("k") + U32(9) + U32(9) + U64(1) + U32(9) + U64(1) + U32(4) + U64(1) + U32(7);
  EXPECT_EQ(ErrorOf(Header(0, 1) + three), "arrays nested too deep");
}

TEST(ParseGguf, BadAlignmentIsRefused) {
  for (uint32_t bad : {0u, 3u, 48u, 0x80000001u}) {
    EXPECT_EQ(ErrorOf(Header(0, 1) + KvU32("general.alignment", bad)), "bad general.alignment") << bad;
  }
  // The right value, wrong type (u64).
  EXPECT_EQ(ErrorOf(Header(0, 1) + Str("general.alignment") + U32(10) + U64(32)), "bad general.alignment");
  // A valid alignment other than 32 is used for the layout.
  GgufBuilder b(64);
  b.AddU32("general.alignment", 64);
  b.AddTensor("a", {3}, {1, 2, 3});
  b.AddTensor("b", {2}, {4, 5});
  auto r = Parse(b.Build());
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r)) << std::get<std::string>(r);
  EXPECT_EQ(std::get<GgufInfo>(r).parameter_count, 5);
  // The same tensors at 32-byte offsets are misaligned for 64.
  const std::string body = KvU32("general.alignment", 64) + TensorInfo("a", {8}, 0, 0) + TensorInfo("b", {8}, 0, 32);
  EXPECT_EQ(ErrorOf(WithData(Header(2, 1) + body, 128)), "tensor 1 offset not aligned");
}

TEST(ParseGguf, TensorDataMustFitTheFile) {
  const std::string one = Header(1, 0) + TensorInfo("t", {8}, 0, 0);  // 8 x F32 = 32 bytes
  EXPECT_EQ(ErrorOf(WithData(one, 32)), "");
  EXPECT_EQ(ErrorOf(WithData(one, 31)), "tensor 0 data past end of file");
  EXPECT_EQ(ErrorOf(one), "tensor 0 data past end of file");  // no padding, no data
  const std::string at32 = Header(1, 0) + TensorInfo("t", {8}, 0, 32);
  EXPECT_EQ(ErrorOf(WithData(at32, 32)), "tensor 0 data past end of file");
  EXPECT_EQ(ErrorOf(WithData(at32, 64)), "");
  EXPECT_EQ(ErrorOf(WithData(Header(1, 0) + TensorInfo("t", {8}, 0, 4), 64)), "tensor 0 offset not aligned");
  EXPECT_EQ(ErrorOf(WithData(Header(1, 0) + TensorInfo("t", {8}, 0, ~uint64_t{31}), 64)),
            "tensor 0 data past end of file");
  // Quantized sizes: Q4_0 is 18 bytes per 32 elements; Q6_K 210 per 256.
  EXPECT_EQ(ErrorOf(WithData(Header(1, 0) + TensorInfo("q", {64, 2}, 2, 0), 72)), "");
  EXPECT_EQ(ErrorOf(WithData(Header(1, 0) + TensorInfo("q", {64, 2}, 2, 0), 71)), "tensor 0 data past end of file");
  EXPECT_EQ(ErrorOf(WithData(Header(1, 0) + TensorInfo("q", {256}, 14, 0), 210)), "");
  EXPECT_EQ(ErrorOf(WithData(Header(1, 0) + TensorInfo("q", {33}, 2, 0), 100)), "tensor 0 shape does not fit its type");
  // A removed type (Q4_2) has no known size: only its offset is checked.
  EXPECT_EQ(ErrorOf(WithData(Header(1, 0) + TensorInfo("q", {1 << 20}, 4, 0), 0)), "");
  EXPECT_EQ(ErrorOf(WithData(Header(1, 0) + TensorInfo("q", {8}, 64, 0), 64)), "tensor 0 has a bad type");
}

TEST(ParseGguf, DuplicatesAreRefused) {
  EXPECT_EQ(ErrorOf(Header(0, 2) + KvU32("a", 1) + KvU32("a", 2)), "duplicate key");
  const std::string two = Header(2, 0) + TensorInfo("t", {8}, 0, 0) + TensorInfo("t", {8}, 0, 32);
  EXPECT_EQ(ErrorOf(WithData(two, 64)), "duplicate tensor name");
}

TEST(ParseGguf, QuantizationFromFileTypeOrTensors) {
  const std::string tensors = TensorInfo("a", {32}, 8, 0) + TensorInfo("b", {32}, 8, 64) + TensorInfo("c", {4}, 0, 128);
  auto quant = [&](const std::string& kvs, uint64_t n) {
    auto r = Parse(WithData(Header(3, n) + kvs + tensors, 160));
    return std::holds_alternative<GgufInfo>(r) ? std::get<GgufInfo>(r).quantization : std::get<std::string>(r);
  };
  EXPECT_EQ(quant("", 0), "Q8_0");  // all 1-dim: the type of most tensors
  EXPECT_EQ(quant(KvU32("general.file_type", 15), 1), "Q4_K_M");
  EXPECT_EQ(quant(KvU32("general.file_type", 1), 1), "F16");
  EXPECT_EQ(quant(KvU32("general.file_type", 32), 1), "BF16");
  EXPECT_EQ(quant(KvU32("general.file_type", 9999), 1), "Q8_0");  // unknown: from the tensors
  // 1-dim tensors (norms, biases) stay F32 in quantized files: matrices decide.
  const std::string mixed =
      TensorInfo("n1", {4}, 0, 0) + TensorInfo("m", {32, 2}, 2, 32) + TensorInfo("n2", {4}, 0, 96);
  auto m = Parse(WithData(Header(3, 0) + mixed, 128));
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(m)) << std::get<std::string>(m);
  EXPECT_EQ(std::get<GgufInfo>(m).quantization, "Q4_0");
  auto r = Parse(Header(0, 0));
  EXPECT_EQ(std::get<GgufInfo>(r).quantization, "");
  EXPECT_EQ(std::get<GgufInfo>(r).parameter_count, 0);
}

TEST(ParseGguf, ScalarsRenderAsText) {
  std::string kvs = Str("i8") + U32(1) + std::string(1, '\xFB');
  kvs += Str("i64") + U32(11) + U64(static_cast<uint64_t>(-9000000000LL));
  kvs += Str("u64") + U32(10) + U64(~uint64_t{0});
  kvs += Str("f64") + U32(12) + U64(0x3FF8000000000000ull);  // 1.5
  kvs += Str("b") + U32(7) + std::string(1, '\1');
  kvs += Str("s") + U32(8) + Str("hi");
  kvs += Str("general.architecture") + U32(8) + Str("qwen3");
  kvs += KvU32("qwen3.context_length", 40960);
  kvs += KvU32("qwen3.pooling_type", 2);
  auto r = Parse(Header(0, 9) + kvs);
  ASSERT_TRUE(std::holds_alternative<GgufInfo>(r)) << std::get<std::string>(r);
  const auto& info = std::get<GgufInfo>(r);
  const auto meta = MetadataMap(info);
  EXPECT_EQ(meta.at("i8"), "-5");
  EXPECT_EQ(meta.at("i64"), "-9000000000");
  EXPECT_EQ(meta.at("u64"), "18446744073709551615");
  EXPECT_EQ(meta.at("f64"), "1.5");
  EXPECT_EQ(meta.at("b"), "true");
  EXPECT_EQ(meta.at("s"), "hi");
  EXPECT_EQ(info.context_length, 40960);
  EXPECT_TRUE(info.embedding_model);  // pooling_type set
}

}  // namespace
}  // namespace sy::local
