// Prices and cost (src/governance/pricing.h).
#include "governance/pricing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace sy::gov {
namespace {

chat::Usage MakeUsage(int64_t input, int64_t cached, int64_t write, int64_t output, int64_t reasoning = 0) {
  chat::Usage u;
  u.input_tokens = input;
  u.cached_input_tokens = cached;
  u.cache_write_tokens = write;
  u.output_tokens = output;
  u.reasoning_tokens = reasoning;
  return u;
}

Price Builtin(std::string_view model) {
  auto p = BuiltinPrice(model);
  EXPECT_TRUE(p.has_value()) << model;
  return p.value_or(Price{});
}

TEST(Pricing, CostOfPlainUsage) {
  // gpt-4o: $2.50 / $10 per 1M. 1000 in + 500 out = $0.0025 + $0.005.
  EXPECT_EQ(CostOf(MakeUsage(1000, 0, 0, 500), Builtin("gpt-4o")), 7500);
  EXPECT_EQ(CostOf(MakeUsage(0, 0, 0, 0), Builtin("gpt-4o")), 0);
}

TEST(Pricing, OpenAiCachedTokensBilledOnceAtTheirRate) {
  // prompt_tokens 2006 of which 1920 cached, completion 300 (256 reasoning):
  // 86 x $2 + 1920 x $0.50 + 300 x $8 per 1M (reasoning is part of output).
  const Price p = Builtin("gpt-4.1-2025-04-14");
  EXPECT_EQ(CostOf(MakeUsage(2006, 1920, 0, 300, 256), p), 172 + 960 + 2400);
  EXPECT_LT(CostOf(MakeUsage(2006, 1920, 0, 300, 256), p), CostOf(MakeUsage(2006, 0, 0, 300), p));
}

TEST(Pricing, AnthropicCacheReadsAndWritesBilledOnceAtTheirRates) {
  // The tap's usage of input_tokens 25 + cache_read 2000 + cache_creation 100,
  // output 42, on Sonnet 4 ($3 in, $0.30 read, $3.75 write, $15 out per 1M).
  const Price p = Builtin("claude-sonnet-4-20250514");
  EXPECT_EQ(p.cache_write, 3'750'000);
  EXPECT_EQ(CostOf(MakeUsage(2125, 2000, 100, 42), p), 75 + 600 + 375 + 630);
}

TEST(Pricing, GeminiCachedTokensAndThoughts) {
  // input 100 of which 60 cached; output 28 (20 thoughts) on 2.5 Flash
  // ($0.30 in, $0.03 cached, $2.50 out per 1M): 12 + 1.8 + 70 = 83.8 → 84.
  EXPECT_EQ(CostOf(MakeUsage(100, 60, 0, 28, 20), Builtin("gemini-2.5-flash")), 84);
}

TEST(Pricing, RoundsHalfUpOncePerRequest) {
  Price p;
  p.input = 1;  // one pico-dollar per token
  EXPECT_EQ(CostOf(MakeUsage(499'999, 0, 0, 0), p), 0);
  EXPECT_EQ(CostOf(MakeUsage(500'000, 0, 0, 0), p), 1);
  EXPECT_EQ(CostOf(MakeUsage(1'499'999, 0, 0, 0), p), 1);
  EXPECT_EQ(CostOf(MakeUsage(1'500'000, 0, 0, 0), p), 2);
  // Sub-micro parts add up before rounding: 0.4 + 0.4 = 0.8 → 1, not 0 + 0.
  p.output = 1;
  EXPECT_EQ(CostOf(MakeUsage(400'000, 0, 0, 400'000), p), 1);
}

TEST(Pricing, UnsetCacheRatesAreTheInputRate) {
  Price p;
  p.input = 2'000'000;
  p.output = 0;
  EXPECT_EQ(CostOf(MakeUsage(1000, 600, 300, 0), p), 2000);
  p.cached_input = 0;
  p.cache_write = 4'000'000;
  EXPECT_EQ(CostOf(MakeUsage(1000, 600, 300, 0), p), 200 + 0 + 1200);
}

TEST(Pricing, InconsistentOrNegativeCountsNeverGoNegative) {
  Price p;
  p.input = 1'000'000;
  p.cached_input = 100'000;
  p.output = 1'000'000;
  // More cached than input (a provider's bug): no negative uncached part.
  EXPECT_EQ(CostOf(MakeUsage(10, 50, 0, 0), p), 5);
  EXPECT_EQ(CostOf(MakeUsage(-10, -5, -1, -7), p), 0);
  Price negative;
  negative.input = -5;
  negative.output = -5;
  EXPECT_EQ(CostOf(MakeUsage(100, 0, 0, 100), negative), 0);
}

TEST(Pricing, HugeCostsSaturate) {
  Price p;
  p.input = *PicoPerTokenFrom1K(1000);
  p.output = p.input;
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(CostOf(MakeUsage(max, 0, 0, max), p), max);
}

TEST(Pricing, PicoPerTokenConversions) {
  EXPECT_EQ(PicoPerTokenFrom1K(0.005), 5'000'000);
  EXPECT_EQ(PicoPerTokenFrom1K(0.03), 30'000'000);
  EXPECT_EQ(PicoPerTokenFrom1K(0), 0);
  EXPECT_EQ(PicoPerTokenFrom1K(1000), 1'000'000'000'000);
  EXPECT_EQ(PicoPerTokenFrom1M(0.075), 75'000);
  EXPECT_EQ(PicoPerTokenFrom1M(2.5), 2'500'000);
  EXPECT_EQ(PicoPerTokenFrom1M(0.01875), 18'750);
  EXPECT_EQ(PicoPerTokenFrom1M(1'000'000), 1'000'000'000'000);
  // A per-1K price and the same per-1M price agree.
  EXPECT_EQ(PicoPerTokenFrom1K(0.0025), PicoPerTokenFrom1M(2.5));
}

TEST(Pricing, PicoPerTokenValidation) {
  EXPECT_FALSE(PicoPerTokenFrom1K(-0.001).has_value());
  EXPECT_FALSE(PicoPerTokenFrom1K(1000.01).has_value()) << "over $1000 per 1K: a unit mistake";
  EXPECT_FALSE(PicoPerTokenFrom1K(std::nan("")).has_value());
  EXPECT_FALSE(PicoPerTokenFrom1K(std::numeric_limits<double>::infinity()).has_value());
  EXPECT_FALSE(PicoPerTokenFrom1M(-1).has_value());
  EXPECT_FALSE(PicoPerTokenFrom1M(1'000'001).has_value());
  EXPECT_FALSE(PicoPerTokenFrom1M(std::nan("")).has_value());
  EXPECT_FALSE(PicoPerTokenFrom1M(-std::numeric_limits<double>::infinity()).has_value());
}

TEST(Pricing, BuiltinLongestPrefix) {
  EXPECT_EQ(Builtin("gpt-4o-mini-2024-07-18").input, 150'000);
  EXPECT_EQ(Builtin("gpt-4o-mini-2024-07-18").cached_input, 75'000);
  EXPECT_EQ(Builtin("gpt-4o-2024-08-06").input, 2'500'000);
  EXPECT_EQ(Builtin("gpt-4o-2024-05-13").input, 5'000'000);
  EXPECT_EQ(Builtin("gpt-4o").input, 2'500'000) << "\"gpt-4\" must not catch gpt-4o";
  EXPECT_EQ(Builtin("gpt-4").input, 30'000'000);
  EXPECT_EQ(Builtin("gpt-4-0613").input, 30'000'000);
  EXPECT_EQ(Builtin("gpt-4-turbo-2024-04-09").input, 10'000'000);
  EXPECT_EQ(Builtin("gpt-4.1-mini-2025-04-14").output, 1'600'000);
  EXPECT_EQ(Builtin("gpt-4.1-nano").input, 100'000);
  EXPECT_EQ(Builtin("gpt-4.5-preview").input, 75'000'000);
  EXPECT_EQ(Builtin("o1-2024-12-17").output, 60'000'000);
  EXPECT_EQ(Builtin("o1-mini").output, 4'400'000);
  EXPECT_EQ(Builtin("o3").input, 2'000'000);
  EXPECT_EQ(Builtin("o3-mini-2025-01-31").input, 1'100'000);
  EXPECT_EQ(Builtin("o4-mini-2025-04-16").cached_input, 275'000);
  EXPECT_EQ(Builtin("gpt-3.5-turbo-0125").output, 1'500'000);
  EXPECT_EQ(Builtin("text-embedding-3-small").input, 20'000);
  EXPECT_EQ(Builtin("text-embedding-3-large").output, 0);
  EXPECT_EQ(Builtin("claude-3-5-sonnet-latest").input, 3'000'000);
  EXPECT_EQ(Builtin("claude-3-5-haiku-20241022").cache_write, 1'000'000);
  EXPECT_EQ(Builtin("claude-3-haiku-20240307").cached_input, 30'000);
  EXPECT_EQ(Builtin("claude-3-opus-20240229").output, 75'000'000);
  EXPECT_EQ(Builtin("claude-3-7-sonnet-20250219").cached_input, 300'000);
  EXPECT_EQ(Builtin("claude-opus-4-20250514").input, 15'000'000);
  EXPECT_EQ(Builtin("claude-opus-4-1-20250805").input, 15'000'000);
  EXPECT_EQ(Builtin("claude-opus-4-5-20251101").input, 5'000'000);
  EXPECT_EQ(Builtin("claude-sonnet-4-5-20250929").input, 3'000'000);
  EXPECT_EQ(Builtin("gemini-2.5-pro").output, 10'000'000);
  EXPECT_EQ(Builtin("gemini-2.5-flash-preview-05-20").input, 300'000);
  EXPECT_EQ(Builtin("gemini-2.5-flash-lite").input, 100'000);
  EXPECT_EQ(Builtin("gemini-2.0-flash-001").input, 100'000);
  EXPECT_EQ(Builtin("gemini-1.5-pro-002").output, 5'000'000);
  EXPECT_EQ(Builtin("gemini-1.5-flash").cached_input, 18'750);
  EXPECT_EQ(Builtin("gemini-1.5-flash-8b").input, 37'500);
}

TEST(Pricing, BuiltinNameForms) {
  EXPECT_EQ(Builtin("models/gemini-1.5-pro").input, 1'250'000);
  EXPECT_EQ(Builtin("openai/gpt-4o-mini").input, 150'000);
  EXPECT_EQ(Builtin("us.anthropic.claude-3-5-sonnet-20241022-v2:0").input, 3'000'000);
  EXPECT_EQ(Builtin("anthropic.claude-3-haiku-20240307-v1:0").input, 250'000);
  EXPECT_EQ(Builtin("claude-3-5-sonnet-v2@20241022").input, 3'000'000);
  EXPECT_EQ(Builtin("GPT-4o").input, 2'500'000);
}

TEST(Pricing, BuiltinUnknown) {
  EXPECT_FALSE(BuiltinPrice("llama3.2").has_value());
  EXPECT_FALSE(BuiltinPrice("").has_value());
  EXPECT_FALSE(BuiltinPrice("gpt-4x").has_value()) << "a prefix counts only at a name boundary";
  EXPECT_FALSE(BuiltinPrice("o10").has_value());
  EXPECT_FALSE(BuiltinPrice("mistral-large-latest").has_value());
}

TEST(Pricing, BuiltinCoversTheWellKnownModels) {
  for (const char* m : {"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o3", "o3-mini",
                        "o4-mini", "gpt-3.5-turbo", "gpt-4-turbo", "gpt-4", "text-embedding-3-small",
                        "text-embedding-3-large", "claude-opus-4", "claude-sonnet-4", "claude-3-7-sonnet",
                        "claude-3-5-sonnet", "claude-3-5-haiku", "claude-3-haiku", "claude-3-opus", "gemini-2.5-pro",
                        "gemini-2.5-flash", "gemini-2.0-flash", "gemini-1.5-pro", "gemini-1.5-flash"}) {
    const auto p = BuiltinPrice(m);
    ASSERT_TRUE(p.has_value()) << m;
    EXPECT_GT(p->input, 0) << m;
    EXPECT_TRUE(p->cached_input == -1 || (p->cached_input >= 0 && p->cached_input <= p->input)) << m;
    if (std::string_view(m).substr(0, 6) == "claude") {
      // 1.25 x input (Haiku 3: $0.30 for $0.25).
      EXPECT_GE(p->cache_write * 4, p->input * 5 - 250'000) << m;
      EXPECT_LE(p->cache_write * 4, p->input * 5) << m;
    }
  }
}

TEST(PriceBook, ConfigFirstThenBuiltin) {
  Price alias, qualified, bare;
  alias.input = 1;
  qualified.input = 2;
  bare.input = 3;
  PriceBook book({{"gpt-4o", bare}, {"fast", alias}, {"openai/gpt-4o", qualified}});
  EXPECT_EQ(book.Find("fast", "openai", "gpt-4o")->input, 1);
  EXPECT_EQ(book.Find("other", "openai", "gpt-4o")->input, 2);
  EXPECT_EQ(book.Find("other", "azure", "gpt-4o")->input, 3);
  EXPECT_EQ(book.Find("", "", "gpt-4o")->input, 3);
  EXPECT_EQ(book.Find("other", "azure", "gpt-4o-mini")->input, 150'000) << "built-in";
  EXPECT_FALSE(book.Find("x", "y", "my-local-model").has_value());
  EXPECT_EQ(PriceBook().Find("a", "b", "gpt-4o")->input, 2'500'000);
}

TEST(PriceBook, FirstConfiguredEntryWins) {
  Price first, second;
  first.input = 10;
  second.input = 20;
  PriceBook book({{"m", first}, {"a", second}, {"m", second}});
  EXPECT_EQ(book.Find("m", "", "")->input, 10);
}

}  // namespace
}  // namespace sy::gov
