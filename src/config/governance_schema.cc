#include "config/governance_schema.h"

#include <cmath>
#include <cstdlib>

namespace sy::config::schema {
namespace {

// Most a price may be: $1000 per 1K tokens (1e12 pico-dollars per token).
// Past it, the value is surely in the wrong unit.
constexpr double kMaxDollarsPer1K = 1000.0;
constexpr double kMaxBudgetDollars = 1e12;

bool ReadNumber(Checker& c, const YAML::Node& node, const std::string& path, double* out) {
  std::string text;
  if (!ReadText(c, node, path, &text)) return false;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value < 0 ||
      text.find_first_of("xXpPnN") != std::string::npos) {
    c.Add(path, "expected a non-negative decimal number, got " + Quote(text));
    return false;
  }
  *out = value;
  return true;
}

// A price field: per_1k or per_1m dollars to pico-dollars per token.
Field<TokenPrice> PriceField(const char* key, int64_t TokenPrice::*member, double per_tokens) {
  return {key, false, [member, per_tokens](Checker& c, const YAML::Node& n, const std::string& path, TokenPrice* out) {
            double dollars = 0;
            if (!ReadNumber(c, n, path, &dollars)) return;
            const double per_1k = dollars * 1000.0 / per_tokens;
            if (per_1k > kMaxDollarsPer1K) {
              c.Add(path, "is more than $1000 per 1K tokens; is it in the wrong unit (per 1K vs per 1M)?");
              return;
            }
            if (out->*member >= 0) {
              c.Add(path, "sets a price already set by its per_1k/per_1m twin");
              return;
            }
            // dollars per token * 1e12, rounded.
            out->*member = static_cast<int64_t>(std::llround(dollars / per_tokens * 1e12));
          }};
}

const Schema<TokenPrice>& PriceSchema() {
  using P = TokenPrice;
  static const auto* schema = new Schema<P>{
      PriceField("input_per_1k", &P::input, 1e3),
      PriceField("output_per_1k", &P::output, 1e3),
      PriceField("cached_input_per_1k", &P::cached_input, 1e3),
      PriceField("cache_write_per_1k", &P::cache_write, 1e3),
      PriceField("input_per_1m", &P::input, 1e6),
      PriceField("output_per_1m", &P::output, 1e6),
      PriceField("cached_input_per_1m", &P::cached_input, 1e6),
      PriceField("cache_write_per_1m", &P::cache_write, 1e6),
  };
  return *schema;
}

bool IsModelPattern(const std::string& text) {
  if (text.empty() || text.size() > 256) return false;
  for (const char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

bool ReadDollars(Checker& c, const YAML::Node& node, const std::string& path, int64_t* micros) {
  double dollars = 0;
  if (!ReadNumber(c, node, path, &dollars)) return false;
  if (dollars > kMaxBudgetDollars) {
    c.Add(path, "is too large");
    return false;
  }
  *micros = static_cast<int64_t>(std::llround(dollars * 1e6));
  return true;
}

void ParsePrice(Checker& c, const YAML::Node& node, const std::string& path, TokenPrice* out) {
  ParseMapping(c, node, path, PriceSchema(), out);
  if (out->input < 0 || out->output < 0) {
    if (!c.HasProblemAt(path)) c.Add(path, "needs an input and an output price (input_per_1k/_1m, output_per_1k/_1m)");
  }
}

const Schema<LimitsConfig>& LimitsSchema() {
  using L = LimitsConfig;
  static const auto* schema = new Schema<L>{
      UintField("rpm", &L::rpm, 0, 1000000000),
      UintField("tpm", &L::tpm, 0, 1000000000000),
      UintField("ip_rpm", &L::ip_rpm, 0, 1000000000),
      UintField("instances", &L::instances, 1, 10000),
      UintField("redis_timeout_ms", &L::redis_timeout_ms, 1, 60000),
  };
  return *schema;
}

const Schema<UsageConfig>& UsageSchema() {
  using U = UsageConfig;
  static const auto* schema = new Schema<U>{
      BoolField("enabled", &U::enabled),
      StringField("spool", &U::spool, false),
      UintField("queue_capacity", &U::queue_capacity, 100, 100000000),
      UintField("batch_rows", &U::batch_rows, 1, 100000),
      UintField("flush_interval_ms", &U::flush_interval_ms, 1, 60000),
      UintField("key_refresh_ms", &U::key_refresh_ms, 10, 60000),
  };
  return *schema;
}

const Schema<PriceConfig>& PriceEntrySchema() {
  static const auto* schema = [] {
    auto* s = new Schema<PriceConfig>{StringField("model", &PriceConfig::model, true)};
    for (const Field<TokenPrice>& f : PriceSchema()) {
      s->push_back({f.key, false, [parse = f.parse](Checker& c, const YAML::Node& n, const std::string& path,
                                                     PriceConfig* out) { parse(c, n, path, &out->price); }});
    }
    return s;
  }();
  return *schema;
}

void AddClientKeyGovernance(Schema<ClientKey>* schema) {
  using K = ClientKey;
  schema->push_back({"type", false, [](Checker& c, const YAML::Node& n, const std::string& path, K* out) {
                       std::string text;
                       if (!ReadText(c, n, path, &text)) return;
                       if (text != "user" && text != "admin" && text != "service") {
                         c.Add(path, "must be user, admin or service, got " + Quote(text));
                         return;
                       }
                       out->type = text;
                     }});
  schema->push_back(UintField("rpm", &K::rpm, 0, 1000000000));
  schema->push_back(UintField("tpm", &K::tpm, 0, 1000000000000));
  schema->push_back({"budget", false, [](Checker& c, const YAML::Node& n, const std::string& path, K* out) {
                       ReadDollars(c, n, path, &out->budget_micros);
                     }});
  schema->push_back({"budget_period", false, [](Checker& c, const YAML::Node& n, const std::string& path, K* out) {
                       std::string text;
                       if (!ReadText(c, n, path, &text)) return;
                       if (text != "daily" && text != "weekly" && text != "monthly") {
                         c.Add(path, "must be daily, weekly or monthly, got " + Quote(text));
                         return;
                       }
                       out->budget_period = text;
                     }});
  schema->push_back({"models", false, [](Checker& c, const YAML::Node& n, const std::string& path, K* out) {
                       if (!n.IsSequence()) {
                         c.Add(path, std::string("expected a list of model names or patterns, got ") + KindName(n));
                         return;
                       }
                       size_t i = 0;
                       for (const auto& item : n) {
                         if (!c.Spend()) return;
                         const std::string item_path = JoinIndex(path, i++);
                         std::string text;
                         if (!ReadText(c, item, item_path, &text)) continue;
                         if (!IsModelPattern(text)) {
                           c.Add(item_path, "must be a model name or pattern without spaces, got " + Quote(text));
                           continue;
                         }
                         out->models.push_back(std::move(text));
                       }
                     }});
}

void ParseStoreUrl(Checker& c, const YAML::Node& n, const std::string& path, Config* out) {
  std::string text;
  if (!ReadText(c, n, path, &text)) return;
  const bool ok = text == "none" || (text.rfind("sqlite://", 0) == 0 && text.size() > 9) ||
                  text.rfind("postgres://", 0) == 0 || text.rfind("postgresql://", 0) == 0;
  if (!ok) {
    c.Add(path, "must be sqlite://PATH, postgres://..., postgresql://... or none");
    return;
  }
  out->store = std::move(text);
}

void ParseRedisUrl(Checker& c, const YAML::Node& n, const std::string& path, Config* out) {
  std::string text;
  if (!ReadText(c, n, path, &text)) return;
  if (!text.empty() && text.rfind("redis://", 0) != 0) {
    c.Add(path, "must be redis://[:password@]host:port[/db]");  // the value may hold a password: not echoed
    return;
  }
  out->redis = std::move(text);
}

}  // namespace sy::config::schema
