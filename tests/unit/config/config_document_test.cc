// The config document functions (config_document.h): ConfigToJson,
// MaskYamlText, RestoreMasked, MaskUrlPassword and WriteFileAtomically.
// Every test uses a fake EnvLookup, never the process environment.
#include "config/config_document.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace sy::config {
namespace {

namespace fs = std::filesystem;
using Vars = std::map<std::string, std::string>;

EnvLookup FakeEnv(Vars vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string Describe(const LoadResult& r) {
  std::string out;
  for (const ConfigError& e : r.errors) out += e.path + ": " + e.message + "\n";
  return out;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every section, every secret kind: literal secrets, ${VAR} secrets, URL
// passwords, an empty header value, prices in both units, a literal "${".
constexpr char kFull[] = R"(# a comment that re-emitting loses
server:
  listen: 127.0.0.1:8080
  auth: keys
  admin_key: ${SWITCHYARD_ADMIN_KEY}
  max_body_bytes: 18446744073709551615
  max_header_bytes: 16384
  header_timeout_s: 11
  body_timeout_s: 61
  idle_timeout_s: 76
  write_timeout_s: 31
  shutdown_timeout_s: 29
  threads: 4
  access_log: true
  max_connections: 5000
  trusted_proxies: ["10.0.0.0/8", "127.0.0.1"]
keys:
  - name: dev
    key: ${DEV_KEY}
    type: admin
    rpm: 60
    tpm: 100000
    budget: 25.50
    budget_period: monthly
    models: [gpt-4, "claude*"]
  - name: ci
    key: ci-literal-secret-1
providers:
  - id: openai
    name: OpenAI
    type: openai
    base_url: https://api.openai.com/v1/
    keys:
      - id: key1
        value: ${OPENAI_API_KEY}
        weight: 3
      - id: key2
        value: sk-literal-provider-secret
    headers:
      OpenAI-Organization: org-secret-header
      X-Empty: ""
    timeout_s: 600
    connect_timeout_s: 9
    ca_file: /etc/ssl/extra.pem
    max_idle_connections: 32
    max_response_bytes: 1000
    drop_params: true
    enabled: false
  - id: anthropic
    type: anthropic
    base_url: https://api.anthropic.com
    keys: [{id: main, value: "${ANTHROPIC_API_KEY}"}]
models:
  - name: gpt-4
    target: openai/gpt-4o
    pricing: {input_per_1k: 0.0025, output_per_1m: 10, cached_input_per_1m: 1.25}
    context_length: 128000
  - name: claude
    target: anthropic://claude-sonnet-4-5
    drop_params: false
store: postgres://app:pg-secret-pw@db.internal:5432/switchyard?sslmode=require
redis: redis://:redis-secret-pw@cache:6379/2
limits: {rpm: 1000, tpm: 2000000, instances: 3, redis_timeout_ms: 75}
usage:
  enabled: false
  spool: /var/spool/$${odd}/usage.jsonl
  queue_capacity: 5000
  batch_rows: 200
  flush_interval_ms: 250
  key_refresh_ms: 500
pricing:
  - model: openai/gpt-4o-mini
    input_per_1m: 0.15
    output_per_1m: 0.6
    cache_write_per_1k: 0.000001
)";

// The environment kFull needs. DEV_KEY holds a literal "${": text from the
// environment is never expanded again, so the JSON must escape it.
const Vars kFullVars = {{"SWITCHYARD_ADMIN_KEY", "admin-env-secret"},
                        {"DEV_KEY", "dev-env-${NOT_A_VAR}-secret"},
                        {"OPENAI_API_KEY", "sk-env-openai-secret"},
                        {"ANTHROPIC_API_KEY", "sk-env-anthropic-secret"}};

// Every secret value kFull holds, literal or from the environment.
const std::vector<std::string> kFullSecrets = {
    "admin-env-secret",      "dev-env-",         "sk-env-openai-secret", "sk-env-anthropic-secret",
    "ci-literal-secret-1",   "sk-literal-provider-secret", "org-secret-header", "pg-secret-pw",
    "redis-secret-pw"};

Config MustLoad(const std::string& text, const Vars& vars) {
  LoadResult r = LoadConfigString(text, FakeEnv(vars));
  EXPECT_TRUE(r.config) << Describe(r) << "\n--- text:\n" << text;
  return r.config ? *r.config : Config{};
}

void ExpectSamePrice(const TokenPrice& a, const TokenPrice& b, const std::string& where) {
  EXPECT_EQ(a.input, b.input) << where;
  EXPECT_EQ(a.output, b.output) << where;
  EXPECT_EQ(a.cached_input, b.cached_input) << where;
  EXPECT_EQ(a.cache_write, b.cache_write) << where;
}

// Field by field; source_path is not configuration.
void ExpectSameConfig(const Config& a, const Config& b) {
  EXPECT_EQ(a.server.listen, b.server.listen);
  EXPECT_EQ(a.server.auth, b.server.auth);
  EXPECT_EQ(a.server.admin_key, b.server.admin_key);
  EXPECT_EQ(a.server.max_body_bytes, b.server.max_body_bytes);
  EXPECT_EQ(a.server.max_header_bytes, b.server.max_header_bytes);
  EXPECT_EQ(a.server.header_timeout_s, b.server.header_timeout_s);
  EXPECT_EQ(a.server.body_timeout_s, b.server.body_timeout_s);
  EXPECT_EQ(a.server.idle_timeout_s, b.server.idle_timeout_s);
  EXPECT_EQ(a.server.write_timeout_s, b.server.write_timeout_s);
  EXPECT_EQ(a.server.shutdown_timeout_s, b.server.shutdown_timeout_s);
  EXPECT_EQ(a.server.threads, b.server.threads);
  EXPECT_EQ(a.server.access_log, b.server.access_log);
  EXPECT_EQ(a.server.max_connections, b.server.max_connections);
  EXPECT_EQ(a.server.trusted_proxies, b.server.trusted_proxies);
  ASSERT_EQ(a.keys.size(), b.keys.size());
  for (size_t i = 0; i < a.keys.size(); ++i) {
    const ClientKey &x = a.keys[i], &y = b.keys[i];
    EXPECT_EQ(x.name, y.name) << i;
    EXPECT_EQ(x.key, y.key) << i;
    EXPECT_EQ(x.type, y.type) << i;
    EXPECT_EQ(x.rpm, y.rpm) << i;
    EXPECT_EQ(x.tpm, y.tpm) << i;
    EXPECT_EQ(x.budget_micros, y.budget_micros) << i;
    EXPECT_EQ(x.budget_period, y.budget_period) << i;
    EXPECT_EQ(x.models, y.models) << i;
  }
  ASSERT_EQ(a.providers.size(), b.providers.size());
  for (size_t i = 0; i < a.providers.size(); ++i) {
    const ProviderConfig &x = a.providers[i], &y = b.providers[i];
    EXPECT_EQ(x.id, y.id) << i;
    EXPECT_EQ(x.name, y.name) << i;
    EXPECT_EQ(x.type, y.type) << i;
    EXPECT_EQ(x.base_url, y.base_url) << i;
    ASSERT_EQ(x.keys.size(), y.keys.size()) << i;
    for (size_t k = 0; k < x.keys.size(); ++k) {
      EXPECT_EQ(x.keys[k].id, y.keys[k].id) << i << "/" << k;
      EXPECT_EQ(x.keys[k].value, y.keys[k].value) << i << "/" << k;
      EXPECT_EQ(x.keys[k].weight, y.keys[k].weight) << i << "/" << k;
    }
    EXPECT_EQ(x.headers, y.headers) << i;
    const LocalConfig &lx = x.local, &ly = y.local;
    EXPECT_EQ(lx.models_dir, ly.models_dir) << i;
    EXPECT_EQ(lx.keep_alive_ms, ly.keep_alive_ms) << i;
    EXPECT_EQ(lx.keep_alive_forever, ly.keep_alive_forever) << i;
    EXPECT_EQ(lx.max_loaded, ly.max_loaded) << i;
    EXPECT_EQ(lx.parallel, ly.parallel) << i;
    EXPECT_EQ(lx.max_queue, ly.max_queue) << i;
    EXPECT_EQ(lx.context_size, ly.context_size) << i;
    EXPECT_EQ(lx.threads, ly.threads) << i;
    EXPECT_EQ(lx.device, ly.device) << i;
    EXPECT_EQ(lx.flash_attention, ly.flash_attention) << i;
    EXPECT_EQ(lx.load_timeout_s, ly.load_timeout_s) << i;
    EXPECT_EQ(lx.engine, ly.engine) << i;
    EXPECT_EQ(lx.command, ly.command) << i;
    EXPECT_EQ(lx.node, ly.node) << i;
    EXPECT_EQ(lx.worker, ly.worker) << i;
    EXPECT_EQ(x.timeout_s, y.timeout_s) << i;
    EXPECT_EQ(x.connect_timeout_s, y.connect_timeout_s) << i;
    EXPECT_EQ(x.ca_file, y.ca_file) << i;
    EXPECT_EQ(x.max_idle_connections, y.max_idle_connections) << i;
    EXPECT_EQ(x.max_response_bytes, y.max_response_bytes) << i;
    EXPECT_EQ(x.drop_params, y.drop_params) << i;
    EXPECT_EQ(x.enabled, y.enabled) << i;
  }
  ASSERT_EQ(a.models.size(), b.models.size());
  for (size_t i = 0; i < a.models.size(); ++i) {
    const ModelAlias &x = a.models[i], &y = b.models[i];
    EXPECT_EQ(x.name, y.name) << i;
    EXPECT_EQ(x.target, y.target) << i;
    EXPECT_EQ(x.provider, y.provider) << i;
    EXPECT_EQ(x.upstream_model, y.upstream_model) << i;
    EXPECT_EQ(x.drop_params, y.drop_params) << i;
    ASSERT_EQ(x.pricing.has_value(), y.pricing.has_value()) << i;
    if (x.pricing) ExpectSamePrice(*x.pricing, *y.pricing, "models[" + std::to_string(i) + "]");
    EXPECT_EQ(x.context_length, y.context_length) << i;
  }
  EXPECT_EQ(a.store, b.store);
  EXPECT_EQ(a.redis, b.redis);
  EXPECT_EQ(a.limits.rpm, b.limits.rpm);
  EXPECT_EQ(a.limits.tpm, b.limits.tpm);
  EXPECT_EQ(a.limits.instances, b.limits.instances);
  EXPECT_EQ(a.limits.redis_timeout_ms, b.limits.redis_timeout_ms);
  EXPECT_EQ(a.usage.enabled, b.usage.enabled);
  EXPECT_EQ(a.usage.spool, b.usage.spool);
  EXPECT_EQ(a.usage.queue_capacity, b.usage.queue_capacity);
  EXPECT_EQ(a.usage.batch_rows, b.usage.batch_rows);
  EXPECT_EQ(a.usage.flush_interval_ms, b.usage.flush_interval_ms);
  EXPECT_EQ(a.usage.key_refresh_ms, b.usage.key_refresh_ms);
  ASSERT_EQ(a.pricing.size(), b.pricing.size());
  for (size_t i = 0; i < a.pricing.size(); ++i) {
    EXPECT_EQ(a.pricing[i].model, b.pricing[i].model) << i;
    ExpectSamePrice(a.pricing[i].price, b.pricing[i].price, "pricing[" + std::to_string(i) + "]");
  }
}

void ExpectNoSecrets(const std::string& text, const std::vector<std::string>& secrets) {
  for (const std::string& s : secrets) EXPECT_FALSE(Contains(text, s)) << "leaks " << s << " in:\n" << text;
}

YAML::Node Parse(const std::string& text) { return YAML::Load(text); }

// ---------------------------------------------------------------------------
// ConfigToJson

TEST(ConfigDocumentJsonTest, UnmaskedJsonLoadsBackToTheSameConfig) {
  const Config original = MustLoad(kFull, kFullVars);
  const std::string json = ConfigToJson(original, false);
  // Effective values: no environment is needed to load it back.
  const Config again = MustLoad(json, {});
  ExpectSameConfig(original, again);
  EXPECT_EQ(ConfigToJson(again, false), json);  // a fixed point
  EXPECT_EQ(again.keys[0].key, "dev-env-${NOT_A_VAR}-secret");
  EXPECT_EQ(again.usage.spool, "/var/spool/${odd}/usage.jsonl");
  EXPECT_EQ(again.server.max_body_bytes, UINT64_MAX);
}

TEST(ConfigDocumentJsonTest, TheShippedFullExampleRoundTrips) {
  std::ifstream in(fs::path(__FILE__).parent_path() / "../../../examples/switchyard.full.yaml");
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_FALSE(text.str().empty());
  const Vars vars = {{"SWITCHYARD_ADMIN_KEY", "a"}, {"DEV_KEY", "d"},           {"CI_KEY", "c"},
                     {"OPENAI_API_KEY", "o1"},      {"OPENAI_API_KEY_2", "o2"}, {"OPENROUTER_API_KEY", "r"},
                     {"ANTHROPIC_API_KEY", "an"},   {"GEMINI_API_KEY", "g"}};
  const Config original = MustLoad(text.str(), vars);
  ExpectSameConfig(original, MustLoad(ConfigToJson(original, false), {}));
}

TEST(ConfigDocumentJsonTest, LocalProvidersRoundTrip) {
  const Config original = MustLoad(R"(server: {auth: none}
limits: {ip_rpm: 7}
providers:
  - {id: a, type: local, models_dir: /m, keep_alive: 90s, max_loaded: 3, parallel: 2, max_queue: 9,
     context_size: 1024, threads: 1, device: cpu, flash_attention: "off", load_timeout_s: 5,
     engine: command, command: "srv --port {port}", node: /n, worker: /w}
  - {id: b, type: local, keep_alive: -1}
)", {});
  const Config again = MustLoad(ConfigToJson(original, false), {});
  ExpectSameConfig(original, again);
  EXPECT_EQ(again.limits.ip_rpm, 7u);
  EXPECT_TRUE(again.providers[1].local.keep_alive_forever);
  EXPECT_EQ(again.providers[0].local.keep_alive_ms, 90000u);
}

TEST(ConfigDocumentJsonTest, DefaultsRoundTripAndUnsetPartsAreLeftOut) {
  const Config original = MustLoad(
      "server: {auth: none}\nproviders: [{id: p, base_url: 'http://h'}]\nmodels: [{name: m, target: p/x}]\n", {});
  const std::string json = ConfigToJson(original, true);
  ExpectSameConfig(original, MustLoad(json, {}));
  const YAML::Node doc = Parse(json);
  EXPECT_EQ(doc["server"]["auth"].Scalar(), "none");
  EXPECT_EQ(doc["server"]["admin_key"].Scalar(), "");  // empty secrets stay empty
  EXPECT_FALSE(doc["store"]);                          // "" = the default: absent
  EXPECT_FALSE(doc["redis"]);
  EXPECT_FALSE(doc["models"][0]["drop_params"]);
  EXPECT_FALSE(doc["models"][0]["pricing"]);
  EXPECT_TRUE(doc["limits"].IsMap());
  EXPECT_TRUE(doc["usage"].IsMap());
}

TEST(ConfigDocumentJsonTest, PricesAreExactDollarsPerMillionAndBudgetsDollars) {
  const Config c = MustLoad(kFull, kFullVars);
  const std::string json = ConfigToJson(c, true);
  const YAML::Node doc = Parse(json);
  const YAML::Node price = doc["models"][0]["pricing"];
  EXPECT_EQ(price["input_per_1m"].Scalar(), "2.5");  // 0.0025 per 1K
  EXPECT_EQ(price["output_per_1m"].Scalar(), "10");
  EXPECT_EQ(price["cached_input_per_1m"].Scalar(), "1.25");
  EXPECT_FALSE(price["cache_write_per_1m"]);  // -1: not set
  EXPECT_FALSE(price["input_per_1k"]);
  EXPECT_EQ(doc["pricing"][0]["cache_write_per_1m"].Scalar(), "0.001");  // 0.000001 per 1K
  EXPECT_EQ(doc["keys"][0]["budget"].Scalar(), "25.5");
  EXPECT_EQ(doc["keys"][0]["budget_period"].Scalar(), "monthly");
  EXPECT_FALSE(doc["keys"][1]["budget"]);
  EXPECT_FALSE(doc["keys"][1]["budget_period"]);
  EXPECT_EQ(doc["models"][1]["drop_params"].Scalar(), "false");

  // Awkward amounts survive exactly.
  Config priced = c;
  const int64_t amounts[] = {0, 1, 7, 999999, 1000000, 1000001, 2500000, 123456789012, 1000000000000};
  priced.pricing.clear();
  for (int64_t a : amounts) {
    priced.pricing.push_back({"m" + std::to_string(a), TokenPrice{a, a, a, a}});
  }
  priced.keys[0].budget_micros = 1;
  priced.keys[1].budget_micros = 1000000000000000000;  // $1e12, the most a budget may be
  const Config back = MustLoad(ConfigToJson(priced, false), {});
  ExpectSameConfig(priced, back);
}

TEST(ConfigDocumentJsonTest, MaskedJsonHidesEverySecretKind) {
  const Config c = MustLoad(kFull, kFullVars);
  const std::string json = ConfigToJson(c, true);
  ExpectNoSecrets(json, kFullSecrets);
  const YAML::Node doc = Parse(json);
  EXPECT_EQ(doc["server"]["admin_key"].Scalar(), kMask);
  EXPECT_EQ(doc["keys"][0]["key"].Scalar(), kMask);
  EXPECT_EQ(doc["keys"][1]["key"].Scalar(), kMask);
  EXPECT_EQ(doc["providers"][0]["keys"][0]["value"].Scalar(), kMask);
  EXPECT_EQ(doc["providers"][0]["keys"][1]["value"].Scalar(), kMask);
  EXPECT_EQ(doc["providers"][0]["headers"]["OpenAI-Organization"].Scalar(), kMask);
  EXPECT_EQ(doc["providers"][0]["headers"]["X-Empty"].Scalar(), "");
  EXPECT_EQ(doc["store"].Scalar(), "postgres://app:****@db.internal:5432/switchyard?sslmode=require");
  EXPECT_EQ(doc["redis"].Scalar(), "redis://:****@cache:6379/2");
  // Names, ids and other values are shown.
  EXPECT_EQ(doc["keys"][1]["name"].Scalar(), "ci");
  EXPECT_EQ(doc["providers"][0]["keys"][1]["id"].Scalar(), "key2");
  EXPECT_EQ(doc["providers"][0]["base_url"].Scalar(), "https://api.openai.com/v1");
}

// ---------------------------------------------------------------------------
// MaskUrlPassword

TEST(ConfigDocumentUrlTest, PasswordsAreMaskedAndTheUrlKeepsItsShape) {
  const std::pair<std::string, std::string> cases[] = {
      {"postgres://user:pw@host/db", "postgres://user:****@host/db"},
      {"postgresql://user:pw@host:5432/db?sslmode=require", "postgresql://user:****@host:5432/db?sslmode=require"},
      {"redis://:pw@host:6379", "redis://:****@host:6379"},
      {"redis://:pw@host:6379/3", "redis://:****@host:6379/3"},
      {"postgres://user@host/db", "postgres://user@host/db"},
      {"postgres://host/db?password=pw&sslmode=require", "postgres://host/db?password=****&sslmode=require"},
      {"postgres://u:a@host/db?sslmode=require&PASSWORD=b", "postgres://u:****@host/db?sslmode=require&PASSWORD=****"},
      {"postgres://u:p@ss/w?rd@host/db", "postgres://u:****@host/db"},  // unescaped @ / ? in the password
      {"redis://:@host:6379", "redis://:@host:6379"},                    // empty stays empty
      {"sqlite://switchyard.db", "sqlite://switchyard.db"},
      {"none", "none"},
      {"", ""},
      {"${PG_URL}", "${PG_URL}"},
  };
  for (const auto& [url, want] : cases) EXPECT_EQ(MaskUrlPassword(url), want) << url;
}

// ---------------------------------------------------------------------------
// MaskYamlText

TEST(ConfigDocumentMaskTest, HidesEverySecretAndKeepsReferences) {
  std::string error;
  const std::string masked = MaskYamlText(kFull, &error);
  ASSERT_TRUE(error.empty()) << error;
  ExpectNoSecrets(masked, kFullSecrets);
  for (const char* ref : {"${SWITCHYARD_ADMIN_KEY}", "${DEV_KEY}", "${OPENAI_API_KEY}", "${ANTHROPIC_API_KEY}"}) {
    EXPECT_TRUE(Contains(masked, ref)) << ref << " in:\n" << masked;
  }
  const YAML::Node doc = Parse(masked);
  EXPECT_EQ(doc["keys"][1]["key"].Scalar(), kMask);
  EXPECT_EQ(doc["providers"][0]["keys"][1]["value"].Scalar(), kMask);
  EXPECT_EQ(doc["providers"][0]["headers"]["OpenAI-Organization"].Scalar(), kMask);
  EXPECT_EQ(doc["providers"][0]["headers"]["X-Empty"].Scalar(), "");
  EXPECT_EQ(doc["store"].Scalar(), "postgres://app:****@db.internal:5432/switchyard?sslmode=require");
  EXPECT_EQ(doc["redis"].Scalar(), "redis://:****@cache:6379/2");
  EXPECT_EQ(doc["usage"]["spool"].Scalar(), "/var/spool/$${odd}/usage.jsonl");  // raw text, as written
  EXPECT_EQ(doc["models"][0]["pricing"]["input_per_1k"].Scalar(), "0.0025");
}

// Nothing but secrets is masked: a file whose secrets are all references
// loads the same after masking. Catches a schema key missing from the
// masker's lists of plain keys.
TEST(ConfigDocumentMaskTest, AFileWithOnlyReferencesLoadsTheSameAfterMasking) {
  std::string text = kFull;
  for (const auto& [secret, ref] : std::vector<std::pair<std::string, std::string>>{
           {"ci-literal-secret-1", "${CI_KEY}"},
           {"sk-literal-provider-secret", "${KEY2}"},
           {"org-secret-header", "${ORG}"},
           {"postgres://app:pg-secret-pw@db.internal", "postgres://app:${PG_PASSWORD}@db.internal"},
           {"redis://:redis-secret-pw@", "redis://:${REDIS_PASSWORD}@"}}) {
    text.replace(text.find(secret), secret.size(), ref);
  }
  Vars vars = kFullVars;
  vars.insert({{"CI_KEY", "c"}, {"KEY2", "k2"}, {"ORG", "o"}, {"PG_PASSWORD", "p"}, {"REDIS_PASSWORD", "r"}});
  std::string error;
  const std::string masked = MaskYamlText(text, &error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_FALSE(Contains(masked, kMask)) << masked;
  ExpectSameConfig(MustLoad(text, vars), MustLoad(masked, vars));
}

TEST(ConfigDocumentMaskTest, OnlyWholeReferencesAreKept) {
  std::string error;
  const std::string masked = MaskYamlText(
      "server: {admin_key: 'pre-${ADMIN}'}\n"
      "keys: [{name: a, key: '${A}${B}'}, {name: b, key: '$${NOT_A_REF}'}, {name: c, key: '${1BAD}'}]\n"
      "store: 'postgres://app:${PG_PASSWORD}@db/sy'\n"
      "redis: 'redis://:pre${X}@cache:6379'\n",
      &error);
  ASSERT_TRUE(error.empty()) << error;
  const YAML::Node doc = Parse(masked);
  EXPECT_EQ(doc["server"]["admin_key"].Scalar(), kMask);
  EXPECT_EQ(doc["keys"][0]["key"].Scalar(), "${A}${B}");
  EXPECT_EQ(doc["keys"][1]["key"].Scalar(), kMask);
  EXPECT_EQ(doc["keys"][2]["key"].Scalar(), kMask);
  EXPECT_EQ(doc["store"].Scalar(), "postgres://app:${PG_PASSWORD}@db/sy");
  EXPECT_EQ(doc["redis"].Scalar(), "redis://:****@cache:6379");
}

// A file that does not follow the schema still leaks nothing: unknown keys
// and wrong shapes at levels that hold secrets are masked whole.
TEST(ConfigDocumentMaskTest, UnknownKeysAndWrongShapesAreMaskedWhole) {
  const std::string text = R"(
server: {admin_kye: s-one, admin_key: {nested: s-two}}
keys: {name: a, key: s-three}
providers:
  - id: p
    keys: s-four
    headers: [s-five]
    extra: {deep: [s-six]}
  - [s-seven]
  - keys: [{id: k, value: [s-eight], valu: s-nine}]
secrets: {x: s-ten}
store: {url: s-eleven}
limits: {rpm: 5}
)";
  std::string error;
  const std::string masked = MaskYamlText(text, &error);
  ASSERT_TRUE(error.empty()) << error;
  ExpectNoSecrets(masked, {"s-one", "s-two", "s-three", "s-four", "s-five", "s-six", "s-seven", "s-eight",
                           "s-nine", "s-ten", "s-eleven"});
  const YAML::Node doc = Parse(masked);
  EXPECT_EQ(doc["providers"][0]["id"].Scalar(), "p");
  EXPECT_EQ(doc["limits"]["rpm"].Scalar(), "5");

  // A document that is not a mapping at all.
  const std::string scalar = MaskYamlText("sk-whole-file-secret\n", &error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_FALSE(Contains(scalar, "sk-whole-file-secret")) << scalar;
}

TEST(ConfigDocumentMaskTest, AnAliasOfASecretLeaksNothing) {
  std::string error;
  const std::string masked = MaskYamlText(
      "server: {admin_key: &a alias-secret, listen: *a}\nkeys: [{name: *a, key: *a}]\n", &error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_FALSE(Contains(masked, "alias-secret")) << masked;
}

TEST(ConfigDocumentMaskTest, NotOneYamlDocumentIsAnError) {
  std::string error;
  EXPECT_EQ(MaskYamlText("server: [", &error), "");
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(MaskYamlText("a: 1\n---\nb: 2\n", &error), "");
  EXPECT_TRUE(Contains(error, "more than one")) << error;
  EXPECT_EQ(MaskYamlText("", &error), "");
  EXPECT_TRUE(error.empty()) << error;
}

// yaml-cpp reads a key "---", NUL, " b" and its emitter writes it back as a
// plain "--- b:" at the start of a line, which reads as a document marker
// (found by fuzz/config_document_fuzz): an error, never unreadable YAML.
TEST(ConfigDocumentMaskTest, ADocumentThatWouldNotReadBackIsAnError) {
  using namespace std::string_literals;
  const std::string text = "a: 1\n---\0 b\n"s;
  std::string error;
  EXPECT_EQ(MaskYamlText(text, &error), "");
  EXPECT_TRUE(Contains(error, "reads back")) << error;
  std::string restored;
  EXPECT_FALSE(RestoreMasked(text, "a: 1\n", FakeEnv({}), &restored, &error));
  EXPECT_TRUE(Contains(error, "reads back")) << error;
  EXPECT_EQ(restored, "");
}

// ---------------------------------------------------------------------------
// RestoreMasked

// kFull with its lists reordered and masked, as an admin might post it back.
constexpr char kReordered[] = R"(
server: {auth: keys, admin_key: "****", listen: "127.0.0.1:9090"}
keys:
  - {name: ci, key: "****", rpm: 7}
  - {name: new, key: brand-new-key}
  - {name: dev, key: "****", type: admin}
providers:
  - id: anthropic
    type: anthropic
    base_url: https://api.anthropic.com
    keys: [{id: main, value: "****"}]
  - id: openai
    base_url: https://api.openai.com/v1
    keys:
      - {id: key2, value: "****"}
      - {id: key1, value: "****", weight: 5}
      - {id: key3, value: sk-added}
    headers: {X-Empty: "", openai-organization: "****"}
store: "postgres://app:****@db2.internal:5432/switchyard?sslmode=require"
redis: "****"
)";

TEST(ConfigDocumentRestoreTest, RestoresByIdentityWhenOrderChangesAndKeepsEdits) {
  std::string out, error;
  ASSERT_TRUE(RestoreMasked(kReordered, kFull, FakeEnv(kFullVars), &out, &error)) << error;
  EXPECT_FALSE(Contains(out, kMask)) << out;
  // Raw values: references stay references.
  EXPECT_TRUE(Contains(out, "${SWITCHYARD_ADMIN_KEY}")) << out;
  EXPECT_TRUE(Contains(out, "${DEV_KEY}")) << out;
  EXPECT_TRUE(Contains(out, "${OPENAI_API_KEY}")) << out;
  const Config c = MustLoad(out, kFullVars);
  EXPECT_EQ(c.server.admin_key, "admin-env-secret");
  EXPECT_EQ(c.server.listen, "127.0.0.1:9090");
  ASSERT_EQ(c.keys.size(), 3u);
  EXPECT_EQ(c.keys[0].key, "ci-literal-secret-1");
  EXPECT_EQ(c.keys[0].rpm, 7u);
  EXPECT_EQ(c.keys[1].key, "brand-new-key");
  EXPECT_EQ(c.keys[2].key, "dev-env-${NOT_A_VAR}-secret");
  ASSERT_EQ(c.providers.size(), 2u);
  EXPECT_EQ(c.providers[0].keys[0].value, "sk-env-anthropic-secret");
  const auto& openai = c.providers[1].keys;
  ASSERT_EQ(openai.size(), 3u);
  EXPECT_EQ(openai[0].value, "sk-literal-provider-secret");
  EXPECT_EQ(openai[1].value, "sk-env-openai-secret");
  EXPECT_EQ(openai[1].weight, 5u);
  EXPECT_EQ(openai[2].value, "sk-added");
  // Header names match case-insensitively; the posted name is kept.
  const std::vector<std::pair<std::string, std::string>> headers = {{"X-Empty", ""},
                                                                    {"openai-organization", "org-secret-header"}};
  EXPECT_EQ(c.providers[1].headers, headers);
  EXPECT_EQ(c.store, "postgres://app:pg-secret-pw@db2.internal:5432/switchyard?sslmode=require");
  EXPECT_EQ(c.redis, "redis://:redis-secret-pw@cache:6379/2");
}

// GET (masked JSON) then POST unchanged gives back the same configuration,
// with the file's references in place.
TEST(ConfigDocumentRestoreTest, MaskedJsonPostedBackIsTheSameConfig) {
  const Config original = MustLoad(kFull, kFullVars);
  std::string out, error;
  ASSERT_TRUE(RestoreMasked(ConfigToJson(original, true), kFull, FakeEnv(kFullVars), &out, &error)) << error;
  EXPECT_NE(out.front(), '{') << "block style YAML expected:\n" << out;
  EXPECT_TRUE(Contains(out, "${OPENAI_API_KEY}")) << out;
  ExpectSameConfig(original, MustLoad(out, kFullVars));
}

TEST(ConfigDocumentRestoreTest, MaskedYamlPostedBackIsTheSameConfig) {
  std::string masked, out, error;
  masked = MaskYamlText(kFull, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_TRUE(RestoreMasked(masked, kFull, FakeEnv(kFullVars), &out, &error)) << error;
  ExpectSameConfig(MustLoad(kFull, kFullVars), MustLoad(out, kFullVars));
}

TEST(ConfigDocumentRestoreTest, AMaskWithNoCounterpartIsAnErrorNamingItsPath) {
  const std::pair<std::string, std::string> cases[] = {
      {"keys: [{name: dev, key: a}, {name: ci, key: b}, {name: x, key: '****'}]",
       "keys[2].key is masked (****) but no key named 'x' exists to take it from; send the value"},
      {"keys: [{key: '****'}]", "keys[0].key is masked (****) but the key has no name"},
      {"providers: [{id: openai, base_url: 'http://h', keys: [{id: k9, value: '****'}]}]",
       "providers[0].keys[0].value is masked (****) but provider 'openai' has no key with id 'k9' to take it from"},
      {"providers: [{id: nope, base_url: 'http://h', keys: [{id: key1, value: '****'}]}]",
       "providers[0].keys[0].value is masked (****) but no provider with id 'nope' exists"},
      {"providers: [{id: openai, base_url: 'http://h', headers: {X-New: '****'}}]",
       "providers[0].headers.X-New is masked (****) but provider 'openai' has no header 'X-New'"},
      {"providers: [{id: openai, base_url: 'http://h', headers: {X-Empty: '****'}}]",
       "providers[0].headers.X-Empty is masked (****)"},  // an empty value is nothing to take
  };
  for (const auto& [next, want] : cases) {
    std::string out = "stale", error;
    EXPECT_FALSE(RestoreMasked(next, kFull, FakeEnv(kFullVars), &out, &error)) << next;
    EXPECT_TRUE(Contains(error, want)) << next << "\n got: " << error;
    EXPECT_TRUE(out.empty());
    ExpectNoSecrets(error, kFullSecrets);
  }
  std::string out, error;
  EXPECT_FALSE(RestoreMasked("server: {admin_key: '****'}", "server: {auth: none}", FakeEnv({}), &out, &error));
  EXPECT_TRUE(Contains(error, "server.admin_key is masked (****) but the current file has no server.admin_key"))
      << error;
  // Every problem is reported.
  EXPECT_FALSE(RestoreMasked("server: {admin_key: '****'}\nkeys: [{name: zz, key: '****'}]\nredis: '****'",
                             "keys: []", FakeEnv({}), &out, &error));
  EXPECT_TRUE(Contains(error, "server.admin_key")) << error;
  EXPECT_TRUE(Contains(error, "keys[0].key")) << error;
  EXPECT_TRUE(Contains(error, "redis is masked")) << error;
}

TEST(ConfigDocumentRestoreTest, UrlPasswordsAreRestoredInPlace) {
  const std::string current =
      "store: 'postgres://app:pg-secret-pw@db/sy?password=q-secret'\n"
      "redis: 'redis://:${REDIS_PASSWORD}@cache:6379'\n";
  std::string out, error;
  ASSERT_TRUE(RestoreMasked("store: 'postgres://app2:****@db2/sy?sslmode=require&password=****'\n"
                            "redis: 'redis://:****@cache2:6380'\n",
                            current, FakeEnv({{"REDIS_PASSWORD", "redis-pw"}}), &out, &error))
      << error;
  const YAML::Node doc = Parse(out);
  EXPECT_EQ(doc["store"].Scalar(), "postgres://app2:pg-secret-pw@db2/sy?sslmode=require&password=q-secret");
  EXPECT_EQ(doc["redis"].Scalar(), "redis://:${REDIS_PASSWORD}@cache2:6380");

  // A password the current URL does not have.
  EXPECT_FALSE(RestoreMasked("store: 'postgres://app:****@db/sy'", "store: 'postgres://app@db/sy'", FakeEnv({}),
                             &out, &error));
  EXPECT_TRUE(Contains(error, "store holds a masked password (****)")) << error;
}

// The whole URL from the environment: unchanged, the reference comes back;
// changed, the password would have to move from the environment into the
// file, which is refused.
TEST(ConfigDocumentRestoreTest, AUrlTakenWholeFromTheEnvironment) {
  const Vars vars = {{"PG_URL", "postgres://app:env-pg-secret@db/sy"}};
  const std::string current = "store: ${PG_URL}\n";
  std::string out, error;
  ASSERT_TRUE(RestoreMasked("store: 'postgres://app:****@db/sy'", current, FakeEnv(vars), &out, &error)) << error;
  EXPECT_EQ(Parse(out)["store"].Scalar(), "${PG_URL}");

  EXPECT_FALSE(RestoreMasked("store: 'postgres://app:****@db2/sy'", current, FakeEnv(vars), &out, &error));
  EXPECT_TRUE(Contains(error, "taken whole from ${PG_URL}")) << error;
  EXPECT_TRUE(Contains(error, "send the full URL")) << error;
  EXPECT_FALSE(Contains(error, "env-pg-secret")) << error;
}

TEST(ConfigDocumentRestoreTest, AnAliasSharedByTwoMasksThatNeedDifferentValuesIsRefused) {
  std::string out, error;
  EXPECT_FALSE(RestoreMasked("keys: [{name: dev, key: &m '****'}, {name: ci, key: *m}]", kFull,
                             FakeEnv(kFullVars), &out, &error));
  EXPECT_TRUE(Contains(error, "alias")) << error;
}

TEST(ConfigDocumentRestoreTest, TheDocumentMustBeAMapping) {
  std::string out, error;
  for (const char* next : {"", "~", "[1, 2]", "just text", "{", "a: 1\n---\nb: 2\n"}) {
    EXPECT_FALSE(RestoreMasked(next, kFull, FakeEnv({}), &out, &error)) << next;
    EXPECT_FALSE(error.empty()) << next;
  }
}

TEST(ConfigDocumentRestoreTest, NoMasksNeedNoReadableCurrentFile) {
  std::string out, error;
  ASSERT_TRUE(RestoreMasked("server: {auth: none}", "server: [", FakeEnv({}), &out, &error)) << error;
  EXPECT_EQ(Parse(out)["server"]["auth"].Scalar(), "none");
  EXPECT_FALSE(RestoreMasked("server: {admin_key: '****'}", "server: [", FakeEnv({}), &out, &error));
  EXPECT_TRUE(Contains(error, "current configuration file cannot be read")) << error;
}

// ---------------------------------------------------------------------------
// Malformed input

TEST(ConfigDocumentFuzzTest, MalformedInputsNeverCrash) {
  std::vector<std::string> inputs = {
      "",
      std::string("\0\0\0", 3),
      "{",
      "[[[[[[[[[[",
      std::string(3000, '[') + std::string(3000, ']'),
      "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
      "secrets: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nkeys: [{name: a, key: '****'}]\n",
      " ,_A x ,_A",
      "keys: [{name: [1], key: '****'}]",
      "providers: [{id: {a: b}, keys: [{id: [x], value: '****'}], headers: {[a]: '****', b: '****'}}]",
      "store: 'postgres://:****@'",
      "store: '://****@?password=****&password='",
      "redis: '****'\nstore: '****'",
      "server: !!binary aGVsbG8=",
      "? [a, b]\n: c\n",
      "%YAML 1.2\n---\na: 1\n",
      "a: \"\\xff\\u0000\"",
  };
  std::mt19937 rng(12345);
  const std::string seed = kFull;
  for (int i = 0; i < 300; ++i) {
    std::string s = seed;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[at] = static_cast<char>(rng() % 256); break;
        case 1: s.erase(at, 1 + rng() % 20); break;
        default: s.insert(at, std::string(1 + rng() % 3, "*[]{}:,-&!|>'\"\n%@?"[rng() % 18])); break;
      }
      if (s.empty()) s = "x";
    }
    inputs.push_back(s);
  }
  for (const std::string& in : inputs) {
    std::string error, out;
    MaskYamlText(in, &error);
    RestoreMasked(in, kFull, FakeEnv(kFullVars), &out, &error);
    RestoreMasked(kReordered, in, FakeEnv(kFullVars), &out, &error);
    RestoreMasked(in, in, FakeEnv({}), &out, &error);
    MaskUrlPassword(in);
  }
}

// ---------------------------------------------------------------------------
// WriteFileAtomically

class ConfigDocumentWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "sy_config_document_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }

  static std::string Read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static mode_t Mode(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  fs::path dir_;
};

TEST_F(ConfigDocumentWriteTest, KeepsThePreviousFileAndLeavesNoTmp) {
  const fs::path path = dir_ / "switchyard.yaml";
  std::string error;
  ASSERT_TRUE(WriteFileAtomically(path.string(), "one\n", &error)) << error;
  EXPECT_TRUE(error.empty());
  EXPECT_EQ(Read(path), "one\n");
  EXPECT_FALSE(fs::exists(dir_ / "switchyard.yaml.previous"));  // nothing was there before
  EXPECT_EQ(Mode(path), 0600u);                                 // a new config file holds secrets
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);

  ASSERT_TRUE(WriteFileAtomically(path.string(), "two\n", &error)) << error;
  EXPECT_EQ(Read(path), "two\n");
  EXPECT_EQ(Read(dir_ / "switchyard.yaml.previous"), "one\n");
  EXPECT_EQ(Mode(path), 0640u);  // the old file's permissions are kept

  ASSERT_TRUE(WriteFileAtomically(path.string(), "", &error)) << error;
  EXPECT_EQ(Read(path), "");
  EXPECT_EQ(Read(dir_ / "switchyard.yaml.previous"), "two\n");

  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"switchyard.yaml", "switchyard.yaml.previous"}));
}

TEST_F(ConfigDocumentWriteTest, AFailureLeavesTheOriginalUntouched) {
  const fs::path path = dir_ / "c.yaml";
  std::string error;
  ASSERT_TRUE(WriteFileAtomically(path.string(), "original\n", &error)) << error;
  fs::create_directory(dir_ / "c.yaml.tmp");  // the temporary file cannot be made
  EXPECT_FALSE(WriteFileAtomically(path.string(), "new\n", &error));
  EXPECT_TRUE(Contains(error, "c.yaml.tmp")) << error;
  EXPECT_EQ(Read(path), "original\n");
  EXPECT_FALSE(fs::exists(dir_ / "c.yaml.previous"));
  EXPECT_TRUE(fs::is_directory(dir_ / "c.yaml.tmp"));  // not ours to remove

  EXPECT_FALSE(WriteFileAtomically((dir_ / "missing" / "c.yaml").string(), "x", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(WriteFileAtomically(dir_.string(), "x", &error));  // a directory
  EXPECT_TRUE(Contains(error, "not a regular file")) << error;
  EXPECT_FALSE(WriteFileAtomically("", "x", &error));
}

TEST_F(ConfigDocumentWriteTest, ASymbolicLinkStaysAndItsTargetIsReplaced) {
  const fs::path target = dir_ / "real.yaml";
  const fs::path link = dir_ / "link.yaml";
  std::string error;
  ASSERT_TRUE(WriteFileAtomically(target.string(), "old\n", &error)) << error;
  fs::create_symlink(target, link);
  ASSERT_TRUE(WriteFileAtomically(link.string(), "new\n", &error)) << error;
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(Read(target), "new\n");
  EXPECT_EQ(Read(dir_ / "real.yaml.previous"), "old\n");
}

}  // namespace
}  // namespace sy::config

namespace sy::config {
namespace {

// Found by fuzz/config_document_fuzz: a node that contains itself through an
// alias made every walk recurse until the stack overflowed.
TEST(ConfigDocumentBoundsTest, SelfReferentialAliasesAndDeepNestingAreRefused) {
  std::string error;
  EXPECT_EQ(MaskYamlText("a: &x [*x]\n", &error), "");
  EXPECT_NE(error.find("refers to itself"), std::string::npos) << error;
  std::string out;
  error.clear();
  EXPECT_FALSE(RestoreMasked("b: &y {k: *y}\n", "", &out, &error));
  EXPECT_FALSE(error.empty());
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  error.clear();
  EXPECT_EQ(MaskYamlText(deep, &error), "");
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace sy::config
