#include "governance/pricing.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sy::gov {
namespace {

constexpr int64_t kPicoPerMicro = 1'000'000;
constexpr double kMaxDollarsPer1K = 1000.0;  // above: a unit mistake (per-token entered as per-1K...)

// Dollars per 1M tokens → pico-dollars per token (x 1e6), rounded; -1 stays
// -1 ("same as input").
constexpr int64_t P(double dollars_per_1m) {
  return dollars_per_1m < 0 ? -1 : static_cast<int64_t>(dollars_per_1m * 1e6 + 0.5);
}

struct Builtin {
  std::string_view prefix;
  int64_t input, cached_input, cache_write, output;
};

// List prices in US dollars per 1M tokens: input, cached input (cache read),
// cache write, output. -1: the upstream has no separate rate (billed as
// input). Anthropic's cache writes are the 5-minute ones (1.25 x input);
// Gemini's prices are those of prompts up to 200K tokens (the long-context
// tier is not modelled). Sources, checked 2026-12-02: the providers' pricing
// pages — platform.openai.com/docs/pricing, platform.claude.com/docs/en/
// about-claude/pricing, ai.google.dev/gemini-api/docs/pricing. Prices change:
// config prices override these.
constexpr Builtin kBuiltins[] = {
    // OpenAI
    {"gpt-5", P(1.25), P(0.125), -1, P(10.00)},
    {"gpt-5-mini", P(0.25), P(0.025), -1, P(2.00)},
    {"gpt-5-nano", P(0.05), P(0.005), -1, P(0.40)},
    {"gpt-4.5", P(75.00), P(37.50), -1, P(150.00)},
    {"gpt-4.1", P(2.00), P(0.50), -1, P(8.00)},
    {"gpt-4.1-mini", P(0.40), P(0.10), -1, P(1.60)},
    {"gpt-4.1-nano", P(0.10), P(0.025), -1, P(0.40)},
    {"gpt-4o", P(2.50), P(1.25), -1, P(10.00)},
    {"gpt-4o-2024-05-13", P(5.00), -1, -1, P(15.00)},
    {"gpt-4o-mini", P(0.15), P(0.075), -1, P(0.60)},
    {"chatgpt-4o-latest", P(5.00), -1, -1, P(15.00)},
    {"gpt-4-turbo", P(10.00), -1, -1, P(30.00)},
    {"gpt-4-1106", P(10.00), -1, -1, P(30.00)},  // gpt-4-1106-preview: GPT-4 Turbo
    {"gpt-4-0125", P(10.00), -1, -1, P(30.00)},  // gpt-4-0125-preview: GPT-4 Turbo
    {"gpt-4-vision", P(10.00), -1, -1, P(30.00)},
    {"gpt-4", P(30.00), -1, -1, P(60.00)},
    {"gpt-4-32k", P(60.00), -1, -1, P(120.00)},
    {"gpt-3.5-turbo", P(0.50), -1, -1, P(1.50)},
    {"gpt-3.5-turbo-instruct", P(1.50), -1, -1, P(2.00)},
    {"o1", P(15.00), P(7.50), -1, P(60.00)},
    {"o1-mini", P(1.10), P(0.55), -1, P(4.40)},
    {"o1-pro", P(150.00), -1, -1, P(600.00)},
    {"o3", P(2.00), P(0.50), -1, P(8.00)},
    {"o3-mini", P(1.10), P(0.55), -1, P(4.40)},
    {"o3-pro", P(20.00), -1, -1, P(80.00)},
    {"o4-mini", P(1.10), P(0.275), -1, P(4.40)},
    {"text-embedding-3-small", P(0.02), -1, -1, 0},
    {"text-embedding-3-large", P(0.13), -1, -1, 0},
    {"text-embedding-ada-002", P(0.10), -1, -1, 0},
    // Anthropic
    {"claude-opus-4", P(15.00), P(1.50), P(18.75), P(75.00)},  // Opus 4 and 4.1
    {"claude-opus-4-5", P(5.00), P(0.50), P(6.25), P(25.00)},
    {"claude-opus-4-6", P(5.00), P(0.50), P(6.25), P(25.00)},
    {"claude-opus-4-7", P(5.00), P(0.50), P(6.25), P(25.00)},
    {"claude-opus-4-8", P(5.00), P(0.50), P(6.25), P(25.00)},
    {"claude-sonnet-4", P(3.00), P(0.30), P(3.75), P(15.00)},  // Sonnet 4, 4.5, 4.6
    {"claude-haiku-4-5", P(1.00), P(0.10), P(1.25), P(5.00)},
    {"claude-3-7-sonnet", P(3.00), P(0.30), P(3.75), P(15.00)},
    {"claude-3-5-sonnet", P(3.00), P(0.30), P(3.75), P(15.00)},
    {"claude-3-5-haiku", P(0.80), P(0.08), P(1.00), P(4.00)},
    {"claude-3-opus", P(15.00), P(1.50), P(18.75), P(75.00)},
    {"claude-3-sonnet", P(3.00), P(0.30), P(3.75), P(15.00)},
    {"claude-3-haiku", P(0.25), P(0.03), P(0.30), P(1.25)},
    // Google
    {"gemini-2.5-pro", P(1.25), P(0.125), -1, P(10.00)},
    {"gemini-2.5-flash", P(0.30), P(0.03), -1, P(2.50)},
    {"gemini-2.5-flash-lite", P(0.10), P(0.01), -1, P(0.40)},
    {"gemini-2.0-flash", P(0.10), P(0.025), -1, P(0.40)},
    {"gemini-2.0-flash-lite", P(0.075), -1, -1, P(0.30)},
    {"gemini-1.5-pro", P(1.25), P(0.3125), -1, P(5.00)},
    {"gemini-1.5-flash", P(0.075), P(0.01875), -1, P(0.30)},
    {"gemini-1.5-flash-8b", P(0.0375), P(0.01), -1, P(0.15)},
    {"gemini-embedding-001", P(0.15), -1, -1, 0},
};

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Whether `name` starts with `prefix` (ASCII case-insensitive) at a name
// boundary: the prefix is all of it, or a '-', '@', ':' or '_' follows
// ("gpt-4" matches "gpt-4-0613" but neither "gpt-4o" nor "gpt-4.5").
bool PrefixAtBoundary(std::string_view name, std::string_view prefix) {
  if (name.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(name[i]) != prefix[i]) return false;
  }
  if (name.size() == prefix.size()) return true;
  const char next = name[prefix.size()];
  return next == '-' || next == '@' || next == ':' || next == '_';
}

// The model's own name without a routing prefix: "models/gemini-1.5-pro",
// "openai/gpt-4o" → the part after the last '/'; Bedrock's
// "us.anthropic.claude-3-5-sonnet-..." → "claude-3-5-sonnet-...".
std::string_view BareName(std::string_view name) {
  if (size_t slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
  constexpr std::string_view kBedrock = "anthropic.";
  if (size_t at = name.find(kBedrock); at != std::string_view::npos) {
    bool prefix_ok = true;  // only region-like labels before it ("us.", "eu.", "apac.")
    for (size_t i = 0; i < at; ++i) {
      const char c = Lower(name[i]);
      if (!((c >= 'a' && c <= 'z') || c == '.')) prefix_ok = false;
    }
    if (prefix_ok) name.remove_prefix(at + kBedrock.size());
  }
  return name;
}

std::optional<int64_t> PicoPerToken(double dollars, double dollars_max, double pico_per_dollar_unit) {
  if (!std::isfinite(dollars) || dollars < 0 || dollars > dollars_max) return std::nullopt;
  return static_cast<int64_t>(std::llround(dollars * pico_per_dollar_unit));
}

}  // namespace

Micros CostOf(const chat::Usage& usage, const Price& price) {
  auto count = [](int64_t n) -> __int128 { return n < 0 ? 0 : n; };
  const __int128 input_rate = price.input < 0 ? 0 : price.input;
  const __int128 output_rate = price.output < 0 ? 0 : price.output;
  const __int128 cached_rate = price.cached_input < 0 ? input_rate : price.cached_input;
  const __int128 write_rate = price.cache_write < 0 ? input_rate : price.cache_write;
  const __int128 cached = count(usage.cached_input_tokens);
  const __int128 written = count(usage.cache_write_tokens);
  // The cached and written tokens are parts of input_tokens: each input
  // token is billed once, at the rate of its class.
  const __int128 uncached = std::max<__int128>(0, count(usage.input_tokens) - cached - written);
  const __int128 pico =
      uncached * input_rate + cached * cached_rate + written * write_rate + count(usage.output_tokens) * output_rate;
  const __int128 micros = (pico + kPicoPerMicro / 2) / kPicoPerMicro;  // half up
  return micros > std::numeric_limits<Micros>::max() ? std::numeric_limits<Micros>::max()
                                                    : static_cast<Micros>(micros);
}

std::optional<int64_t> PicoPerTokenFrom1K(double dollars_per_1k) {
  return PicoPerToken(dollars_per_1k, kMaxDollarsPer1K, 1e9);  // $/1K → pico-$/token: x 1e12 / 1e3
}

std::optional<int64_t> PicoPerTokenFrom1M(double dollars_per_1m) {
  return PicoPerToken(dollars_per_1m, kMaxDollarsPer1K * 1000, 1e6);  // x 1e12 / 1e6
}

std::optional<Price> BuiltinPrice(std::string_view upstream_model) {
  const std::string_view name = BareName(upstream_model);
  const Builtin* best = nullptr;
  for (const Builtin& b : kBuiltins) {
    if ((best == nullptr || b.prefix.size() > best->prefix.size()) && PrefixAtBoundary(name, b.prefix)) best = &b;
  }
  if (best == nullptr) return std::nullopt;
  Price p;
  p.input = best->input;
  p.cached_input = best->cached_input;
  p.cache_write = best->cache_write;
  p.output = best->output;
  return p;
}

PriceBook::PriceBook(std::vector<PriceEntry> entries) : entries_(std::move(entries)) {
  // Sorted for binary search; stable, so that of two entries for one name
  // the first configured wins.
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const PriceEntry& a, const PriceEntry& b) { return a.model < b.model; });
}

std::optional<Price> PriceBook::Find(std::string_view alias, std::string_view provider,
                                     std::string_view upstream_model) const {
  auto exact = [this](std::string_view name) -> const Price* {
    if (name.empty()) return nullptr;
    auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                               [](const PriceEntry& e, std::string_view n) { return e.model < n; });
    return it != entries_.end() && it->model == name ? &it->price : nullptr;
  };
  if (const Price* p = exact(alias)) return *p;
  if (!provider.empty() && !upstream_model.empty()) {
    std::string qualified;
    qualified.reserve(provider.size() + 1 + upstream_model.size());
    qualified.append(provider).append("/").append(upstream_model);
    if (const Price* p = exact(qualified)) return *p;
  }
  if (const Price* p = exact(upstream_model)) return *p;
  return BuiltinPrice(upstream_model);
}

}  // namespace sy::gov
