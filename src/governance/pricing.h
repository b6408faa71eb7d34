// Prices and cost. A price is integer pico-dollars per token (1e-12 USD), so
// that $0.075 per 1M tokens is exact; costs are rounded to micro-dollars once,
// per request. Config prices (per 1K or per 1M tokens) override the built-in
// table of well-known models.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.h"
#include "governance/types.h"

namespace sy::gov {

struct Price {
  int64_t input = 0;         // pico-dollars per uncached input token
  int64_t output = 0;        // per output token (reasoning included)
  int64_t cached_input = -1; // per input token read from cache; -1 = same as input
  int64_t cache_write = -1;  // per input token written to cache; -1 = same as input
};

// Cost of one answer's usage in micro-dollars (rounded half up). Cached and
// cache-write tokens are parts of usage.input_tokens (chat::Usage's
// convention) and are priced at their own rates, never twice.
Micros CostOf(const chat::Usage& usage, const Price& price);

// Price from a per-1K / per-1M dollar amount ("input_per_1k: 0.005"): the
// pico-dollar rate per token. Nullopt when negative, not finite, or above
// $1000 per 1K tokens (a unit mistake).
std::optional<int64_t> PicoPerTokenFrom1K(double dollars_per_1k);
std::optional<int64_t> PicoPerTokenFrom1M(double dollars_per_1m);

// Built-in prices for well-known upstream models, matched by the longest
// prefix of the upstream model name ("gpt-4o-mini-2024-07-18" → "gpt-4o-mini";
// "claude-3-5-sonnet-latest" → "claude-3-5-sonnet"); nullopt when unknown.
std::optional<Price> BuiltinPrice(std::string_view upstream_model);

struct PriceEntry {
  std::string model;  // alias, "provider/model", or upstream model name
  Price price;
};

// Config prices first (exact match on the alias the client used, then
// provider/upstream_model, then upstream_model), then the built-in table.
class PriceBook {
 public:
  PriceBook() = default;
  explicit PriceBook(std::vector<PriceEntry> entries);
  std::optional<Price> Find(std::string_view alias, std::string_view provider, std::string_view upstream_model) const;
 private:
  std::vector<PriceEntry> entries_;
};

}  // namespace sy::gov
