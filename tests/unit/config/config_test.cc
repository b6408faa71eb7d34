// Loading and validation of whole configuration documents. Every test uses a
// fake EnvLookup (a map), never the process environment.
#include "config/config.h"

#include <gtest/gtest.h>

#include <map>

namespace sy::config {
namespace {

using Vars = std::map<std::string, std::string>;

EnvLookup FakeEnv(Vars vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

LoadResult Load(const std::string& yaml, Vars vars = {}) {
  return LoadConfigString(yaml, FakeEnv(std::move(vars)));
}

// All errors, one "path: message" per line, for failure output.
std::string Describe(const LoadResult& r) {
  std::string out;
  for (const ConfigError& e : r.errors) out += e.path + ": " + e.message + "\n";
  return out;
}

// The message of the only error at path; fails the test when there is not
// exactly one.
std::string ErrorAt(const LoadResult& r, const std::string& path) {
  std::string message;
  int count = 0;
  for (const ConfigError& e : r.errors) {
    if (e.path == path) {
      message = e.message;
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << "errors at " << path << " in:\n" << Describe(r);
  return message;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A valid config without client keys, for tests that add one section.
constexpr char kAuthNone[] = "server: {auth: none}\n";

// The example from the issue, verbatim.
constexpr char kIssueExample[] = R"(
server:
  listen: 127.0.0.1:8080
  auth: keys              # keys | none
  admin_key: ${SWITCHYARD_ADMIN_KEY}
  max_body_bytes: 10485760
keys:
  - name: dev
    key: ${DEV_KEY}
providers:
  - id: openai
    type: openai
    base_url: https://api.openai.com/v1
    keys:
      - id: key1
        value: ${OPENAI_API_KEY}
        weight: 1
    headers: {OpenAI-Organization: org-123}
    timeout_s: 600
models:
  - name: gpt-4
    target: openai/gpt-4o
)";

const Vars kIssueVars = {{"SWITCHYARD_ADMIN_KEY", "admin-secret"},
                         {"DEV_KEY", "dev-secret"},
                         {"OPENAI_API_KEY", "sk-1"}};

TEST(ConfigTest, IssueExampleLoadsWithItsValues) {
  LoadResult r = Load(kIssueExample, kIssueVars);
  ASSERT_TRUE(r.config) << Describe(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.server.auth, AuthMode::kKeys);
  EXPECT_EQ(c.server.admin_key, "admin-secret");
  EXPECT_EQ(c.server.max_body_bytes, 10485760u);
  ASSERT_EQ(c.keys.size(), 1u);
  EXPECT_EQ(c.keys[0].name, "dev");
  EXPECT_EQ(c.keys[0].key, "dev-secret");
  ASSERT_EQ(c.providers.size(), 1u);
  const ProviderConfig& p = c.providers[0];
  EXPECT_EQ(p.id, "openai");
  EXPECT_EQ(p.name, "openai");  // defaults to id
  EXPECT_EQ(p.type, "openai");
  EXPECT_EQ(p.base_url, "https://api.openai.com/v1");
  ASSERT_EQ(p.keys.size(), 1u);
  EXPECT_EQ(p.keys[0].id, "key1");
  EXPECT_EQ(p.keys[0].value, "sk-1");
  EXPECT_EQ(p.keys[0].weight, 1u);
  ASSERT_EQ(p.headers.size(), 1u);
  EXPECT_EQ(p.headers[0].first, "OpenAI-Organization");
  EXPECT_EQ(p.headers[0].second, "org-123");
  EXPECT_EQ(p.timeout_s, 600u);
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_EQ(c.models[0].name, "gpt-4");
  EXPECT_EQ(c.models[0].target, "openai/gpt-4o");
  EXPECT_EQ(c.models[0].provider, "openai");
  EXPECT_EQ(c.models[0].upstream_model, "gpt-4o");
}

TEST(ConfigTest, DefaultsWhenKeysAreAbsent) {
  LoadResult r = Load(std::string(kAuthNone) + R"(
providers:
  - id: local
    base_url: http://127.0.0.1:8000/v1
)");
  ASSERT_TRUE(r.config) << Describe(r);
  const ServerConfig& s = r.config->server;
  const ServerConfig defaults;
  EXPECT_EQ(s.listen, "127.0.0.1:8080");
  EXPECT_EQ(s.admin_key, "");
  EXPECT_EQ(s.max_body_bytes, defaults.max_body_bytes);
  EXPECT_EQ(s.max_header_bytes, defaults.max_header_bytes);
  EXPECT_EQ(s.header_timeout_s, defaults.header_timeout_s);
  EXPECT_EQ(s.body_timeout_s, defaults.body_timeout_s);
  EXPECT_EQ(s.idle_timeout_s, defaults.idle_timeout_s);
  EXPECT_EQ(s.shutdown_timeout_s, defaults.shutdown_timeout_s);
  EXPECT_EQ(s.threads, 0u);
  EXPECT_FALSE(s.access_log);
  const ProviderConfig& p = r.config->providers[0];
  EXPECT_EQ(p.name, "local");
  EXPECT_EQ(p.type, "openai");
  EXPECT_TRUE(p.keys.empty());
  EXPECT_TRUE(p.headers.empty());
  EXPECT_EQ(p.timeout_s, 600u);
  EXPECT_EQ(p.connect_timeout_s, 10u);
  EXPECT_EQ(p.ca_file, "");
  EXPECT_EQ(p.max_idle_connections, 64u);
  EXPECT_TRUE(r.config->models.empty());
  EXPECT_TRUE(r.config->keys.empty());
}

TEST(ConfigTest, EveryServerKeyIsRead) {
  LoadResult r = Load(R"(
server:
  listen: "[::1]:0"
  auth: none
  admin_key: adm
  max_body_bytes: 1
  max_header_bytes: 8192
  header_timeout_s: 2
  body_timeout_s: 3
  idle_timeout_s: 4
  shutdown_timeout_s: 5
  threads: 6
  access_log: true
)");
  ASSERT_TRUE(r.config) << Describe(r);
  const ServerConfig& s = r.config->server;
  EXPECT_EQ(s.listen, "[::1]:0");
  EXPECT_EQ(s.auth, AuthMode::kNone);
  EXPECT_EQ(s.admin_key, "adm");
  EXPECT_EQ(s.max_body_bytes, 1u);
  EXPECT_EQ(s.max_header_bytes, 8192u);
  EXPECT_EQ(s.header_timeout_s, 2u);
  EXPECT_EQ(s.body_timeout_s, 3u);
  EXPECT_EQ(s.idle_timeout_s, 4u);
  EXPECT_EQ(s.shutdown_timeout_s, 5u);
  EXPECT_EQ(s.threads, 6u);
  EXPECT_TRUE(s.access_log);
}

TEST(ConfigTest, EveryProviderKeyIsRead) {
  LoadResult r = Load(std::string(kAuthNone) + R"(
providers:
  - id: vllm-1
    name: Local vLLM
    type: openai
    base_url: http://gpu-box:8000/v1/
    keys:
      - {id: a, value: k1, weight: 3}
      - {id: b, value: k2}
    headers:
      X-One: "1"
      X-Two: two words
    timeout_s: 30
    connect_timeout_s: 2
    ca_file: /etc/ssl/extra.pem
    max_idle_connections: 0
)");
  ASSERT_TRUE(r.config) << Describe(r);
  const ProviderConfig& p = r.config->providers[0];
  EXPECT_EQ(p.name, "Local vLLM");
  EXPECT_EQ(p.base_url, "http://gpu-box:8000/v1");  // trailing slash removed
  ASSERT_EQ(p.keys.size(), 2u);
  EXPECT_EQ(p.keys[0].weight, 3u);
  EXPECT_EQ(p.keys[1].weight, 1u);
  ASSERT_EQ(p.headers.size(), 2u);  // in document order
  EXPECT_EQ(p.headers[0], std::make_pair(std::string("X-One"), std::string("1")));
  EXPECT_EQ(p.headers[1], std::make_pair(std::string("X-Two"), std::string("two words")));
  EXPECT_EQ(p.timeout_s, 30u);
  EXPECT_EQ(p.connect_timeout_s, 2u);
  EXPECT_EQ(p.ca_file, "/etc/ssl/extra.pem");
  EXPECT_EQ(p.max_idle_connections, 0u);
}

TEST(ConfigTest, EdgeLimitKeysAreReadAndChecked) {
  LoadResult r = Load(R"(
server:
  auth: none
  max_connections: 500
  write_timeout_s: 7
  trusted_proxies: ["10.0.0.0/8", "127.0.0.1", "fd00::/8"]
providers:
  - id: p
    base_url: http://127.0.0.1:9/v1
    max_response_bytes: 1000
)");
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_EQ(r.config->server.max_connections, 500u);
  EXPECT_EQ(r.config->server.write_timeout_s, 7u);
  EXPECT_EQ(r.config->server.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "127.0.0.1", "fd00::/8"}));
  EXPECT_EQ(r.config->providers[0].max_response_bytes, 1000u);

  LoadResult defaults = Load(kAuthNone);
  ASSERT_TRUE(defaults.config);
  EXPECT_EQ(defaults.config->server.max_connections, 10000u);
  EXPECT_EQ(defaults.config->server.write_timeout_s, 30u);
  EXPECT_TRUE(defaults.config->server.trusted_proxies.empty());

  LoadResult bad = Load("server:\n  auth: none\n  max_connections: 0\n  trusted_proxies: [\"10.0.0.0/33\", lb.internal]\n");
  EXPECT_FALSE(bad.config);
  EXPECT_TRUE(Contains(ErrorAt(bad, "server.trusted_proxies[0]"), "CIDR"));
  EXPECT_TRUE(Contains(ErrorAt(bad, "server.trusted_proxies[1]"), "CIDR"));
  ErrorAt(bad, "server.max_connections");
  LoadResult scalar = Load("server:\n  auth: none\n  trusted_proxies: 10.0.0.0/8\n");
  EXPECT_TRUE(Contains(ErrorAt(scalar, "server.trusted_proxies"), "list"));
}

TEST(ConfigTest, MalformedYamlThatLoopsYamlCppLoadAllEnds) {
  // Regression (found by fuzz/config_fuzz): YAML::LoadAll never returned on
  // this, allocating without end.
  LoadResult r = Load(" ,_A ve3t ,_A");
  EXPECT_FALSE(r.config);
  EXPECT_FALSE(r.errors.empty());
  EXPECT_FALSE(Load(",\n").config);
}

TEST(ConfigTest, AliasAmplificationIsRefusedQuickly) {
  // Regression (found by fuzz/config_fuzz): 1,000 aliases of a provider whose
  // keys are 1,000 aliases made validate walk a million entries.
  std::string keys = "K: &K [";
  for (int i = 0; i < 1000; ++i) keys += std::string(i ? "," : "") + "*E";
  std::string providers = "providers: [";
  for (int i = 0; i < 1000; ++i) providers += std::string(i ? "," : "") + "*P";
  LoadResult r = Load("E: &E {id: k, value: v}\n" + keys + "]\nP: &P {id: x, base_url: \"http://h\", keys: *K}\n" +
                      providers + "]\nserver: {auth: none}\n");
  EXPECT_FALSE(r.config);
  bool said_why = false;
  for (const auto& e : r.errors) said_why |= Contains(e.message, "YAML aliases");
  EXPECT_TRUE(said_why) << Describe(r);
  EXPECT_LE(r.errors.size(), 1001u);
}

TEST(ConfigTest, ConfigWithoutProvidersIsValid) {
  LoadResult r = Load(kAuthNone);
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_TRUE(r.config->providers.empty());
}

TEST(ConfigTest, NullSectionsAreEmpty) {
  // What is left when every entry under a section is commented out.
  LoadResult r = Load("server:\n  auth: none\nkeys:\nproviders:\nmodels:\n");
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_TRUE(r.config->providers.empty());
}

TEST(ConfigTest, EmptyDocumentIsValidWithTheDefaultStore) {
  // Keys may come from the store (made with the admin API).
  LoadResult r = Load("");
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_EQ(r.config->store, "");
  EXPECT_EQ(r.config->server.auth, AuthMode::kKeys);
}

TEST(ConfigTest, EmptyDocumentWithoutAStoreNeedsClientKeys) {
  LoadResult r = Load("store: none\n");
  ASSERT_FALSE(r.config);
  EXPECT_TRUE(Contains(ErrorAt(r, "keys"), "auth: none"));
}

TEST(ConfigTest, AuthKeysWithoutKeysSaysHowToFix) {
  LoadResult r = Load("server: {auth: keys}\nstore: none\n");
  ASSERT_FALSE(r.config);
  const std::string message = ErrorAt(r, "keys");
  EXPECT_TRUE(Contains(message, "no client keys")) << message;
  EXPECT_TRUE(Contains(message, "server.auth: none")) << message;
}

TEST(ConfigTest, BadAuthValueIsOneError) {
  LoadResult r = Load("server: {auth: nobody}\n");
  ASSERT_EQ(r.errors.size(), 1u) << Describe(r);
  EXPECT_TRUE(Contains(ErrorAt(r, "server.auth"), "\"keys\" or \"none\""));
}

TEST(ConfigTest, UnknownKeysAreErrorsAtTheirPath) {
  LoadResult r = Load(R"(
server: {auth: none, listen_on: x}
provider: []
providers:
  - id: a
    base_url: http://a
    keys:
      - {id: k, value: v, wieght: 2}
models:
  - {name: m, target: a/m, extra: 1}
)");
  ASSERT_FALSE(r.config);
  EXPECT_EQ(r.errors.size(), 4u) << Describe(r);
  EXPECT_TRUE(Contains(ErrorAt(r, "server.listen_on"), "unknown key"));
  EXPECT_TRUE(Contains(ErrorAt(r, "provider"), "server, keys, providers, models"));
  EXPECT_TRUE(Contains(ErrorAt(r, "providers[0].keys[0].wieght"), "id, value, weight"));
  EXPECT_TRUE(Contains(ErrorAt(r, "models[0].extra"), "unknown key"));
}

TEST(ConfigTest, DuplicateYamlKeyIsAnError) {
  LoadResult r = Load("server:\n  auth: none\n  auth: keys\n");
  ASSERT_FALSE(r.config);
  EXPECT_EQ(ErrorAt(r, "server.auth"), "duplicate key");
}

TEST(ConfigTest, RequiredKeysAreReportedAtTheirPaths) {
  LoadResult r = Load(R"(
keys:
  - {key: k1}
  - {name: second}
providers:
  - type: openai
    keys:
      - {weight: 2}
models:
  - {}
)");
  ASSERT_FALSE(r.config);
  for (const char* path : {"keys[0].name", "keys[1].key", "providers[0].id",
                           "providers[0].base_url", "providers[0].keys[0].id",
                           "providers[0].keys[0].value", "models[0].name", "models[0].target"}) {
    EXPECT_EQ(ErrorAt(r, path), "is required") << path;
  }
}

TEST(ConfigTest, EmptyRequiredStringsAreErrors) {
  LoadResult r = Load(R"(
keys:
  - {name: dev, key: ""}
providers:
  - id: ""
    base_url: http://a
    keys: [{id: k, value: ""}]
)");
  ASSERT_FALSE(r.config);
  EXPECT_EQ(ErrorAt(r, "keys[0].key"), "must not be empty");
  EXPECT_EQ(ErrorAt(r, "providers[0].id"), "must not be empty");
  EXPECT_EQ(ErrorAt(r, "providers[0].keys[0].value"), "must not be empty");
}

TEST(ConfigTest, NullRequiredValueCountsAsMissing) {
  LoadResult r = Load(std::string(kAuthNone) + "models:\n  - name: m\n    target:\n");
  EXPECT_EQ(ErrorAt(r, "models[0].target"), "is required");
}

TEST(ConfigTest, IntegerTypesAreChecked) {
  LoadResult r = Load(R"(
server:
  auth: none
  max_body_bytes: ten
  max_header_bytes: -5
  header_timeout_s: 1.5
  body_timeout_s: [1]
  threads: 0x10
)");
  ASSERT_FALSE(r.config);
  EXPECT_TRUE(Contains(ErrorAt(r, "server.max_body_bytes"), "non-negative integer"));
  EXPECT_TRUE(Contains(ErrorAt(r, "server.max_header_bytes"), "\"-5\""));
  EXPECT_TRUE(Contains(ErrorAt(r, "server.header_timeout_s"), "non-negative integer"));
  EXPECT_TRUE(Contains(ErrorAt(r, "server.body_timeout_s"), "got a list"));
  EXPECT_TRUE(Contains(ErrorAt(r, "server.threads"), "non-negative integer"));
}

TEST(ConfigTest, IntegerRangesAreChecked) {
  LoadResult r = Load(R"(
server:
  auth: none
  max_body_bytes: 0
  header_timeout_s: 0
  body_timeout_s: 0
  idle_timeout_s: 0
  shutdown_timeout_s: 4294967296
  max_header_bytes: 99999999999999999999999
providers:
  - id: a
    base_url: http://a
    timeout_s: 0
    connect_timeout_s: 0
    keys: [{id: k, value: v, weight: 0}]
)");
  ASSERT_FALSE(r.config);
  for (const char* path :
       {"server.max_body_bytes", "server.header_timeout_s", "server.body_timeout_s",
        "server.idle_timeout_s", "server.shutdown_timeout_s", "server.max_header_bytes",
        "providers[0].timeout_s", "providers[0].connect_timeout_s",
        "providers[0].keys[0].weight"}) {
    EXPECT_TRUE(Contains(ErrorAt(r, path), "must be between")) << path;
  }
  EXPECT_EQ(r.errors.size(), 9u) << Describe(r);
}

TEST(ConfigTest, LargestBodyLimitFits) {
  LoadResult r = Load("server: {auth: none, max_body_bytes: 18446744073709551615}\n");
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_EQ(r.config->server.max_body_bytes, UINT64_MAX);
  EXPECT_FALSE(Load("server: {auth: none, max_body_bytes: 18446744073709551616}\n").config);
}

TEST(ConfigTest, BooleansMustBeRealBooleans) {
  EXPECT_TRUE(Load("server: {auth: none, access_log: TRUE}\n").config);
  for (const char* value : {"yes", "on", "1", "\"\"", "[true]"}) {
    LoadResult r = Load(std::string("server: {auth: none, access_log: ") + value + "}\n");
    ASSERT_FALSE(r.config) << value;
    EXPECT_TRUE(Contains(ErrorAt(r, "server.access_log"), "true or false")) << value;
  }
}

TEST(ConfigTest, StringsMustBeScalars) {
  LoadResult r = Load("server: {auth: none, admin_key: [a, b]}\nmodels: {name: x}\n");
  ASSERT_FALSE(r.config);
  EXPECT_TRUE(Contains(ErrorAt(r, "server.admin_key"), "expected a string, got a list"));
  EXPECT_TRUE(Contains(ErrorAt(r, "models"), "expected a list"));
}

TEST(ConfigTest, SectionsMustHaveTheRightShape) {
  LoadResult r = Load("server: [1]\nkeys: [plain]\n");
  ASSERT_FALSE(r.config);
  EXPECT_TRUE(Contains(ErrorAt(r, "server"), "expected a mapping"));
  EXPECT_TRUE(Contains(ErrorAt(r, "keys[0]"), "expected a mapping"));
  EXPECT_TRUE(Contains(ErrorAt(Load("- a\n- b\n"), "(document)"), "expected a mapping"));
}

TEST(ConfigTest, ListenMustBeHostPort) {
  for (const char* bad : {"8080", "localhost", ":8080", "host:", "host:65536", "::1:8080",
                          "host:80a", "[::1]8080", "[]:80"}) {
    LoadResult r = Load(std::string("server: {auth: none, listen: \"") + bad + "\"}\n");
    ASSERT_FALSE(r.config) << bad;
    EXPECT_TRUE(Contains(ErrorAt(r, "server.listen"), "HOST:PORT")) << bad;
  }
  EXPECT_TRUE(Load("server: {auth: none, listen: \"0.0.0.0:65535\"}\n").config);
}

TEST(ConfigTest, ProviderTypeMustBeSupported) {
  LoadResult r = Load(std::string(kAuthNone) +
                      "providers:\n  - {id: a, type: bedrock, base_url: http://a}\n");
  const std::string message = ErrorAt(r, "providers[0].type");
  EXPECT_TRUE(Contains(message, "\"bedrock\"")) << message;
  EXPECT_TRUE(Contains(message, "supported types: openai")) << message;
  EXPECT_TRUE(Contains(message, "anthropic, gemini, ollama")) << message;
}

TEST(ConfigTest, EveryProviderTypeAndDropParamsAreRead) {
  LoadResult r = Load(std::string(kAuthNone) +
                      "providers:\n"
                      "  - {id: a, type: anthropic, base_url: http://a, drop_params: true}\n"
                      "  - {id: g, type: gemini, base_url: http://g}\n"
                      "  - {id: o, type: ollama, base_url: http://o}\n"
                      "models:\n"
                      "  - {name: x, target: a/claude, drop_params: false}\n"
                      "  - {name: y, target: g/gemini}\n");
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_EQ(r.config->providers[0].type, "anthropic");
  EXPECT_TRUE(r.config->providers[0].drop_params);
  EXPECT_EQ(r.config->providers[1].type, "gemini");
  EXPECT_FALSE(r.config->providers[1].drop_params);
  EXPECT_EQ(r.config->providers[2].type, "ollama");
  EXPECT_EQ(r.config->models[0].drop_params, std::optional<bool>(false));
  EXPECT_EQ(r.config->models[1].drop_params, std::nullopt);
  LoadResult bad = Load(std::string(kAuthNone) +
                        "providers:\n  - {id: a, type: ollama, base_url: http://a, drop_params: yes}\n");
  EXPECT_FALSE(bad.config);
}

TEST(ConfigTest, ProviderIdMustBeUsableInATarget) {
  LoadResult r =
      Load(std::string(kAuthNone) + "providers:\n  - {id: \"open/ai\", base_url: http://a}\n");
  EXPECT_TRUE(Contains(ErrorAt(r, "providers[0].id"), "letters, digits"));
}

TEST(ConfigTest, BaseUrlMustBeHttpWithAHost) {
  const std::map<std::string, std::string> cases = {
      {"api.openai.com/v1", "http:// or https://"},
      {"ftp://host/v1", "http:// or https://"},
      {"https://", "no host"},
      {"https:///v1", "no host"},
      {"https://:443/v1", "no host"},
      {"https://user:pw@host/v1", "user:password@"},
      {"https://host/v1?x=1", "query"},
      {"https://host:0/v1", "port"},
      {"https://host:99999", "port"},
      {"https://host:/v1", "empty port"},
      {"https://ho st/v1", "spaces"},
      {"http://[::1/v1", "unclosed"},
      {"http://[localhost]/v1", "not allowed"},
      {"http://a,b/v1", "not allowed"},
  };
  for (const auto& [url, expected] : cases) {
    LoadResult r =
        Load(std::string(kAuthNone) + "providers:\n  - id: a\n    base_url: \"" + url + "\"\n");
    ASSERT_FALSE(r.config) << url;
    const std::string message = ErrorAt(r, "providers[0].base_url");
    EXPECT_TRUE(Contains(message, expected)) << url << " -> " << message;
  }
}

TEST(ConfigTest, BaseUrlPasswordIsNotEchoed) {
  LoadResult r = Load(std::string(kAuthNone) +
                      "providers:\n  - {id: a, base_url: \"https://u:hunter2@h/v1\"}\n");
  const std::string message = ErrorAt(r, "providers[0].base_url");
  EXPECT_FALSE(Contains(message, "hunter2")) << message;
}

TEST(ConfigTest, BaseUrlAcceptsPortsIpv6AndUpperCaseScheme) {
  for (const char* url :
       {"http://127.0.0.1:8000/v1", "https://[::1]:8443/v1", "HTTPS://Host", "http://h:1"}) {
    LoadResult r =
        Load(std::string(kAuthNone) + "providers:\n  - id: a\n    base_url: \"" + url + "\"\n");
    EXPECT_TRUE(r.config) << url << "\n" << Describe(r);
  }
}

TEST(ConfigTest, HeadersAreChecked) {
  LoadResult r = Load(std::string(kAuthNone) + R"(
providers:
  - id: a
    base_url: http://a
    headers:
      "Bad Name": x
      Content-Length: "5"
      X-A: "1"
      x-a: "2"
      X-Null:
      X-Nested: {a: b}
)");
  ASSERT_FALSE(r.config);
  EXPECT_TRUE(Contains(ErrorAt(r, "providers[0].headers.Bad Name"), "header name"));
  EXPECT_TRUE(Contains(ErrorAt(r, "providers[0].headers.Content-Length"), "set by the gateway"));
  EXPECT_TRUE(Contains(ErrorAt(r, "providers[0].headers.x-a"), "duplicate header"));
  EXPECT_TRUE(Contains(ErrorAt(r, "providers[0].headers.X-Null"), "got null"));
  EXPECT_TRUE(Contains(ErrorAt(r, "providers[0].headers.X-Nested"), "got a mapping"));
  EXPECT_EQ(r.errors.size(), 5u) << Describe(r);
}

TEST(ConfigTest, HeaderValuesMayNotBreakLines) {
  LoadResult r = Load(std::string(kAuthNone) +
                          "providers:\n  - id: a\n    base_url: http://a\n"
                          "    headers: {X-A: \"${V}\"}\n",
                      {{"V", "a\r\nInjected: 1"}});
  EXPECT_TRUE(Contains(ErrorAt(r, "providers[0].headers.X-A"), "control characters"));
}

TEST(ConfigTest, ProviderIdsAreUnique) {
  LoadResult r = Load(std::string(kAuthNone) + R"(
providers:
  - {id: a, base_url: http://a}
  - {id: b, base_url: http://b}
  - {id: a, base_url: http://c}
)");
  const std::string message = ErrorAt(r, "providers[2].id");
  EXPECT_TRUE(Contains(message, "duplicate provider id \"a\"")) << message;
  EXPECT_TRUE(Contains(message, "providers[0].id")) << message;
}

TEST(ConfigTest, ProviderKeyIdsAreUniqueWithinAProvider) {
  LoadResult r = Load(std::string(kAuthNone) + R"(
providers:
  - id: a
    base_url: http://a
    keys: [{id: k, value: v1}, {id: k, value: v2}]
  - id: b
    base_url: http://b
    keys: [{id: k, value: v1}]
)");
  ASSERT_EQ(r.errors.size(), 1u) << Describe(r);
  EXPECT_TRUE(Contains(ErrorAt(r, "providers[0].keys[1].id"), "duplicate key id \"k\""));
}

TEST(ConfigTest, ClientKeyNamesAndValuesAreUnique) {
  LoadResult r = Load(R"(
keys:
  - {name: a, key: secret-1}
  - {name: a, key: secret-2}
  - {name: c, key: secret-1}
)");
  ASSERT_EQ(r.errors.size(), 2u) << Describe(r);
  EXPECT_TRUE(Contains(ErrorAt(r, "keys[1].name"), "duplicate key name \"a\""));
  const std::string message = ErrorAt(r, "keys[2].key");
  EXPECT_TRUE(Contains(message, "keys[0].key")) << message;
  EXPECT_FALSE(Contains(message, "secret-1")) << "a secret leaked: " << message;
}

TEST(ConfigTest, AdminKeyMustDifferFromClientKeys) {
  LoadResult r = Load("server: {admin_key: same}\nkeys: [{name: a, key: same}]\n");
  EXPECT_TRUE(Contains(ErrorAt(r, "server.admin_key"), "keys[0].key"));
}

TEST(ConfigTest, ModelNamesAreUnique) {
  LoadResult r = Load(std::string(kAuthNone) + R"(
providers: [{id: a, base_url: http://a}]
models:
  - {name: m, target: a/x}
  - {name: m, target: a/y}
)");
  EXPECT_TRUE(Contains(ErrorAt(r, "models[1].name"), "duplicate model name \"m\""));
}

TEST(ConfigTest, ModelTargetForms) {
  LoadResult r = Load(std::string(kAuthNone) + R"(
providers: [{id: openrouter, base_url: https://openrouter.ai/api/v1}]
models:
  - {name: a, target: openrouter/meta-llama/llama-3-70b}
  - {name: b, target: "openrouter://gpt-4o"}
)");
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_EQ(r.config->models[0].provider, "openrouter");
  EXPECT_EQ(r.config->models[0].upstream_model, "meta-llama/llama-3-70b");
  EXPECT_EQ(r.config->models[1].provider, "openrouter");
  EXPECT_EQ(r.config->models[1].upstream_model, "gpt-4o");
  EXPECT_EQ(r.config->models[1].target, "openrouter://gpt-4o");
}

TEST(ConfigTest, ModelTargetMustBeWellFormed) {
  for (const char* target : {"gpt-4o", "/gpt-4o", "openai/", "openai://"}) {
    LoadResult r = Load(std::string(kAuthNone) +
                        "providers: [{id: openai, base_url: http://a}]\n"
                        "models: [{name: m, target: \"" +
                        target + "\"}]\n");
    EXPECT_TRUE(Contains(ErrorAt(r, "models[0].target"), "provider/model")) << target;
  }
}

TEST(ConfigTest, ModelTargetMustNameADefinedProvider) {
  LoadResult r = Load(std::string(kAuthNone) + R"(
models: [{name: m, target: openai/gpt-4o}]
providers: [{id: local, base_url: http://a}, {id: other, base_url: http://b}]
)");
  const std::string message = ErrorAt(r, "models[0].target");
  EXPECT_TRUE(Contains(message, "\"openai\"")) << message;
  EXPECT_TRUE(Contains(message, "defined: local, other")) << message;
}

TEST(ConfigTest, EnvExpansionFillsValues) {
  LoadResult r = Load(
      std::string(kAuthNone) + R"(
providers:
  - id: a
    base_url: http://${HOST}:${PORT}/v1
    keys: [{id: k, value: "${KEY}", weight: "${WEIGHT}"}]
    headers: {Authorization-Extra: "Bearer ${KEY}"}
    timeout_s: ${TIMEOUT}
)",
      {{"HOST", "gpu"}, {"PORT", "8000"}, {"KEY", "sk-x"}, {"WEIGHT", "4"}, {"TIMEOUT", "42"}});
  ASSERT_TRUE(r.config) << Describe(r);
  const ProviderConfig& p = r.config->providers[0];
  EXPECT_EQ(p.base_url, "http://gpu:8000/v1");
  EXPECT_EQ(p.keys[0].value, "sk-x");
  EXPECT_EQ(p.keys[0].weight, 4u);
  EXPECT_EQ(p.headers[0].second, "Bearer sk-x");
  EXPECT_EQ(p.timeout_s, 42u);
}

TEST(ConfigTest, MissingVariablesAreErrorsNamingPathAndVariable) {
  LoadResult r = Load(kIssueExample, {{"DEV_KEY", "dev"}});
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 2u) << Describe(r);
  EXPECT_EQ(r.errors[0].path, "server.admin_key");
  EXPECT_TRUE(Contains(r.errors[0].message, "SWITCHYARD_ADMIN_KEY"));
  EXPECT_EQ(r.errors[1].path, "providers[0].keys[0].value");
  EXPECT_TRUE(Contains(r.errors[1].message, "OPENAI_API_KEY"));
  EXPECT_TRUE(Contains(r.errors[1].message, "not set"));
}

TEST(ConfigTest, VariableSetToEmptyFailsRequiredValue) {
  LoadResult r = Load("keys: [{name: dev, key: \"${DEV_KEY}\"}]\n", {{"DEV_KEY", ""}});
  EXPECT_EQ(ErrorAt(r, "keys[0].key"), "must not be empty");
}

TEST(ConfigTest, DollarSignsWithoutBracesAreKept) {
  LoadResult r = Load("server: {auth: none, admin_key: \"pa$$w$rd $${X}\"}\n");
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_EQ(r.config->server.admin_key, "pa$$w$rd ${X}");
}

TEST(ConfigTest, KeysAreNotExpanded) {
  LoadResult r = Load("server: {auth: none, \"${K}\": 1}\n", {{"K", "listen"}});
  EXPECT_TRUE(Contains(ErrorAt(r, "server.${K}"), "unknown key"));
}

TEST(ConfigTest, SyntaxErrorReportsLineAndColumn) {
  LoadResult r = Load("server:\n  auth: none\n  listen: [unclosed\n");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "(document)");
  EXPECT_TRUE(Contains(r.errors[0].message, "YAML syntax error at line")) << r.errors[0].message;
  EXPECT_TRUE(Contains(r.errors[0].message, "column")) << r.errors[0].message;
}

TEST(ConfigTest, SyntaxErrorLineIsOneBased) {
  LoadResult r = Load("server:\n  auth: none\n\tlisten: x\n");
  ASSERT_EQ(r.errors.size(), 1u) << Describe(r);
  EXPECT_TRUE(Contains(r.errors[0].message, "line 3")) << r.errors[0].message;
}

TEST(ConfigTest, SeveralDocumentsAreAnError) {
  LoadResult r = Load("server: {auth: none}\n---\nkeys: []\n");
  EXPECT_TRUE(Contains(ErrorAt(r, "(document)"), "more than one YAML document"));
}

TEST(ConfigTest, AllErrorsAreCollectedInDocumentOrder) {
  LoadResult r = Load(R"(
models:
  - {name: m, target: nowhere/x}
server:
  listen: nope
  threads: lots
providers:
  - {id: a, base_url: ftp://a, type: grpc}
)");
  ASSERT_FALSE(r.config);
  std::vector<std::string> paths;
  for (const ConfigError& e : r.errors) paths.push_back(e.path);
  const std::vector<std::string> expected = {
      "models[0].target", "server.listen", "server.threads", "providers[0].base_url", "providers[0].type"};
  EXPECT_EQ(paths, expected) << Describe(r);
}

TEST(ConfigTest, OddDocumentsNeverThrow) {
  const char* documents[] = {
      "\x01\x02\xff",
      "[[[[[[",
      "{a: *undefined}",
      "&a [*a]",
      "? [complex]: key",
      "!!binary AAAA",
      "server: !!map {}",
      "'unterminated",
      "providers: [[1]]",
      "keys: [{name: [a]}]",
      "server:\n  ? [x]\n  : y\n",
      "%YAML 9.9\n---\na: 1\n",
  };
  for (const char* document : documents) {
    LoadResult r;
    EXPECT_NO_THROW(r = Load(document)) << document;
    EXPECT_TRUE(r.config.has_value() != !r.errors.empty()) << document;
  }
}

// ---------------------------------------------------------------------------
// type: local

TEST(LocalConfigTest, EveryKeyIsRead) {
  LoadResult r = Load(std::string(kAuthNone) + R"(
providers:
  - id: here
    type: local
    models_dir: /srv/models
    keep_alive: 90s
    max_loaded: 3
    parallel: 8
    max_queue: 5
    context_size: 2048
    threads: 2
    device: cuda
    flash_attention: on
    load_timeout_s: 30
    engine: command
    command: "llama-server -m {model} --port {port}"
    node: /opt/node/bin/node
    worker: /opt/sy/worker.mjs
limits: {ip_rpm: 60}
)");
  ASSERT_TRUE(r.config) << Describe(r);
  const LocalConfig& l = r.config->providers[0].local;
  EXPECT_EQ(r.config->providers[0].base_url, "");
  EXPECT_EQ(l.models_dir, "/srv/models");
  EXPECT_EQ(l.keep_alive_ms, 90000u);
  EXPECT_FALSE(l.keep_alive_forever);
  EXPECT_EQ(l.max_loaded, 3u);
  EXPECT_EQ(l.parallel, 8u);
  EXPECT_EQ(l.max_queue, 5u);
  EXPECT_EQ(l.context_size, 2048u);
  EXPECT_EQ(l.threads, 2u);
  EXPECT_EQ(l.device, "cuda");
  EXPECT_EQ(l.flash_attention, "on");
  EXPECT_EQ(l.load_timeout_s, 30u);
  EXPECT_EQ(l.engine, "command");
  EXPECT_EQ(l.command, "llama-server -m {model} --port {port}");
  EXPECT_EQ(l.node, "/opt/node/bin/node");
  EXPECT_EQ(l.worker, "/opt/sy/worker.mjs");
  EXPECT_EQ(r.config->limits.ip_rpm, 60u);
}

TEST(LocalConfigTest, KeepAliveForms) {
  const std::pair<const char*, uint64_t> ok[] = {{"0", 0}, {"45", 45000}, {"500ms", 500}, {"5m", 300000},
                                                 {"2h", 7200000}, {"30s", 30000}};
  for (const auto& [text, ms] : ok) {
    LoadResult r = Load(std::string(kAuthNone) + "providers: [{id: l, type: local, keep_alive: '" + text + "'}]\n");
    ASSERT_TRUE(r.config) << text << Describe(r);
    EXPECT_EQ(r.config->providers[0].local.keep_alive_ms, ms) << text;
    EXPECT_FALSE(r.config->providers[0].local.keep_alive_forever);
  }
  LoadResult forever = Load(std::string(kAuthNone) + "providers: [{id: l, type: local, keep_alive: -1}]\n");
  ASSERT_TRUE(forever.config) << Describe(forever);
  EXPECT_TRUE(forever.config->providers[0].local.keep_alive_forever);
  for (const char* bad : {"5x", "m", "-2", "1.5m", "9999999999"}) {
    LoadResult r = Load(std::string(kAuthNone) + "providers: [{id: l, type: local, keep_alive: '" + bad + "'}]\n");
    EXPECT_FALSE(r.config) << bad;
    EXPECT_NE(ErrorAt(r, "providers[0].keep_alive").find("duration"), std::string::npos) << bad;
  }
}

TEST(LocalConfigTest, ChoicesAndRequiredPartsAreChecked) {
  LoadResult r = Load(std::string(kAuthNone) + R"(
providers:
  - {id: a, type: local, device: tpu}
  - {id: b, type: local, engine: command, command: "llama-server -m {model}"}
  - {id: c, type: local, parallel: 0}
  - {id: d, type: openai}
  - {id: e, type: local, flash_attention: "yes"}
)");
  ASSERT_FALSE(r.config);
  EXPECT_EQ(ErrorAt(r, "providers[4].flash_attention"), "must be one of auto | on | off, got \"yes\"");
  EXPECT_EQ(ErrorAt(r, "providers[0].device"), "must be one of auto | cpu | cuda | vulkan, got \"tpu\"");
  EXPECT_NE(ErrorAt(r, "providers[1].command").find("{port}"), std::string::npos);
  EXPECT_FALSE(ErrorAt(r, "providers[2].parallel").empty());
  EXPECT_EQ(ErrorAt(r, "providers[3].base_url"), "is required");
}

}  // namespace
}  // namespace sy::config
