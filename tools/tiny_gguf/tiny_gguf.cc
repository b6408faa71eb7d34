// tiny_gguf: writes the tiny random-weight GGUF test model (src/local/gguf_writer.h)
// that node-llama-cpp loads in milliseconds: for the local engine's tests.
//
//   tiny_gguf --out PATH [--seed N] [--context N] [--embedding] [--never-end] [--whole-words] [--tool-calls] [--shape S]
//
//   --seed N       weights' PRNG seed (default 1); the same seed gives the same bytes
//   --context N    the model's training context length (default 4096; 512 with --embedding,
//                  whose learned positions cost 256 bytes each)
//   --embedding    a BERT-style embedding model (mean pooling) instead of the llama chat model
//   --never-end    the chat model never ends a generation itself: it always runs to max_tokens
//   --whole-words  the chat model generates whole words only, so its answers tokenize back to
//                  the tokens it generated (as a trained model's do): session benchmarks
//   --tool-calls   the chat model has Qwen2.5's tool-calling template and starts every answer
//                  with a tool call (the engine completes it under its grammar): tool-call tests
//   --shape S      the chat model's size: tiny (default, F32, 0.56 MB), smollm2-135m,
//                  qwen2.5-0.5b or llama3.2-3b (those models' blocks with Q8_0 random weights and this
//                  vocabulary: a real small model's work per token, for benchmarks)
//
// Writes PATH.tmp, then renames it to PATH. Exits 2 on bad usage, 1 when writing fails.
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "local/gguf_writer.h"

namespace {

int Usage(const char* why) {
  std::fprintf(stderr, "tiny_gguf: %s\nusage: tiny_gguf --out PATH [--seed N] [--context N] [--embedding] [--never-end] [--whole-words] [--tool-calls] [--shape tiny|smollm2-135m|qwen2.5-0.5b|llama3.2-3b]\n", why);
  return 2;
}

template <typename Int>
bool ParseNumber(std::string_view text, Int* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool WriteFile(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  sy::local::TinyGgufOptions options;
  std::string out;
  std::optional<uint32_t> context;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--out" && has_value) {
      out = argv[++i];
    } else if (arg == "--seed" && has_value) {
      if (!ParseNumber(argv[++i], &options.seed)) return Usage("--seed needs a non-negative integer");
    } else if (arg == "--context" && has_value) {
      uint32_t n = 0;
      if (!ParseNumber(argv[++i], &n) || n == 0 || n > (1u << 20)) return Usage("--context needs 1..1048576");
      context = n;
    } else if (arg == "--embedding") {
      options.embedding = true;
    } else if (arg == "--never-end") {
      options.never_end = true;
    } else if (arg == "--whole-words") {
      options.whole_words = true;
    } else if (arg == "--tool-calls") {
      options.tool_calls = true;
    } else if (arg == "--shape" && has_value) {
      const std::string_view shape = argv[++i];
      using Shape = sy::local::TinyGgufOptions::Shape;
      if (shape == "tiny") {
        options.shape = Shape::kTiny;
      } else if (shape == "smollm2-135m") {
        options.shape = Shape::kSmolLm2_135m;
      } else if (shape == "qwen2.5-0.5b") {
        options.shape = Shape::kQwen25_05b;
      } else if (shape == "llama3.2-3b") {
        options.shape = Shape::kLlama32_3b;
      } else {
        return Usage("--shape is tiny, smollm2-135m, qwen2.5-0.5b or llama3.2-3b");
      }
    } else {
      return Usage(("unknown or incomplete argument " + std::string(arg)).c_str());
    }
  }
  if (out.empty()) return Usage("--out is required");
  if (options.embedding && (options.tool_calls || options.never_end || options.whole_words ||
                            options.shape != sy::local::TinyGgufOptions::Shape::kTiny)) {
    return Usage("--embedding takes none of the chat model's options");
  }
  options.context_length = context.value_or(options.embedding ? 512 : 4096);
  const std::string bytes = sy::local::WriteTinyGguf(options);
  if (!WriteFile(out, bytes)) {
    std::fprintf(stderr, "tiny_gguf: cannot write %s: %s\n", out.c_str(), std::strerror(errno));
    return 1;
  }
  std::printf("tiny_gguf: wrote %s (%zu bytes)\n", out.c_str(), bytes.size());
  return 0;
}
