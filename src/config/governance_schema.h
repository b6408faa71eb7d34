// Schemas of the tenancy sections: store, redis, limits, usage, pricing, and
// the governance fields of client keys and model aliases. Internal to
// sy_config (used by config_loader.cc).
#pragma once

#include "config/config.h"
#include "config/yaml_schema.h"

namespace sy::config::schema {

// A money amount in dollars ("25", "0.5") as micro-dollars.
bool ReadDollars(Checker& c, const YAML::Node& node, const std::string& path, int64_t* micros);
// `pricing:` of a model alias or of a pricing entry: input_per_1k, output_per_1k,
// cached_input_per_1k, cache_write_per_1k, or the same per_1m.
void ParsePrice(Checker& c, const YAML::Node& node, const std::string& path, TokenPrice* out);

const Schema<LimitsConfig>& LimitsSchema();
const Schema<UsageConfig>& UsageSchema();
const Schema<PriceConfig>& PriceEntrySchema();
// The governance fields of a client key (type, rpm, tpm, budget, budget_period, models).
void AddClientKeyGovernance(Schema<ClientKey>* schema);
// store / redis values.
void ParseStoreUrl(Checker& c, const YAML::Node& n, const std::string& path, Config* out);
void ParseRedisUrl(Checker& c, const YAML::Node& n, const std::string& path, Config* out);

}  // namespace sy::config::schema
