// Fuzzes the GGUF header and metadata reader (src/local/gguf.h) on file bytes.
//
// Invariants:
//   - ParseGguf never reads outside the span (ASan), never overflows (UBSan),
//     and returns;
//   - an error is a short message (1..100 bytes);
//   - on success: file_size is the input size, the version is 2 or 3, the
//     counts are not negative and within the limits, the metadata has no
//     duplicate key, and the architecture, name, chat template and tokenizer
//     model are the values of their keys;
//   - parsing is deterministic: the same bytes give the same result.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>
#include <string>
#include <variant>

#include "local/gguf.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  auto result = sy::local::ParseGguf(bytes);
  if (auto* error = std::get_if<std::string>(&result)) {
    Check(!error->empty() && error->size() <= 100);
    Check(std::get<std::string>(sy::local::ParseGguf(bytes)) == *error);
    return 0;
  }
  const auto& info = std::get<sy::local::GgufInfo>(result);
  Check(info.file_size == size);
  Check(info.version == 2 || info.version == 3);
  Check(info.parameter_count >= 0 && info.vocab_size >= 0);
  Check(info.vocab_size <= static_cast<int64_t>(sy::local::kGgufMaxArrayLength));
  Check(info.metadata.size() <= sy::local::kGgufMaxKeyCount);
  std::map<std::string, std::string> keys;
  for (const auto& [key, value] : info.metadata) Check(keys.emplace(key, value).second);
  auto value_of = [&](const std::string& key, const std::string& field) {
    auto it = keys.find(key);
    // A key of another type renders differently; absent means "".
    Check(field.empty() || (it != keys.end() && it->second == field));
  };
  value_of("general.architecture", info.architecture);
  value_of("general.name", info.name);
  value_of("tokenizer.chat_template", info.chat_template);
  value_of("tokenizer.ggml.model", info.tokenizer_model);

  auto again = sy::local::ParseGguf(bytes);
  const auto* same = std::get_if<sy::local::GgufInfo>(&again);
  Check(same && same->metadata == info.metadata && same->parameter_count == info.parameter_count &&
        same->quantization == info.quantization && same->context_length == info.context_length);
  return 0;
}
