// Typed configuration. Loaded from YAML by config_loader.cc, validated as a
// whole before anything is applied. Every default is written beside its field.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sy::config {

enum class AuthMode { kKeys, kNone };

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free port
  AuthMode auth = AuthMode::kKeys;        // keys: a client key is required
  std::string admin_key;                  // for admin endpoints; empty = admin disabled
  uint64_t max_body_bytes = 10485760;     // larger request bodies get 413
  uint32_t max_header_bytes = 16384;      // larger header blocks get 431
  uint32_t header_timeout_s = 10;         // time to receive a full header block once it starts
  uint32_t body_timeout_s = 60;           // time to receive the request body
  uint32_t idle_timeout_s = 75;           // idle keep-alive connections are closed after this
  uint32_t write_timeout_s = 30;          // a client that reads nothing of its response this long is dropped
  uint32_t shutdown_timeout_s = 30;       // on SIGTERM, in-flight work gets this long to finish
  uint32_t threads = 0;                   // worker threads; 0 = one per CPU core
  bool access_log = false;                // one line per request on stderr
  uint32_t max_connections = 10000;       // open client connections, all workers together; more are closed at once
  // Peers (CIDRs such as "10.0.0.0/8", or single addresses) whose
  // X-Forwarded-For is believed; empty = believe no one (the default).
  std::vector<std::string> trusted_proxies;
};

// Token prices in pico-dollars per token (1e-12 USD; $2.50 per 1M tokens =
// 2'500'000). In YAML they are written in dollars per 1K or per 1M tokens.
struct TokenPrice {
  int64_t input = -1;         // per uncached input token; -1 = not set
  int64_t output = -1;        // per output token (reasoning included)
  int64_t cached_input = -1;  // per input token read from cache; -1 = input's price
  int64_t cache_write = -1;   // per input token written to cache; -1 = input's price
};

struct PriceConfig {
  std::string model;  // alias, "provider/model", or upstream model name
  TokenPrice price;
};

// A client key written in the config. Store keys (created with the admin API)
// have the same powers and are kept in the database; these keep working beside them.
struct ClientKey {
  std::string name;  // shown in logs instead of the key
  std::string key;   // the secret; never logged
  std::string type = "user";       // user | admin | service; admin keys may use the admin API
  uint64_t rpm = 0;                // requests per minute; 0 = no limit
  uint64_t tpm = 0;                // tokens per minute; 0 = no limit
  int64_t budget_micros = -1;      // spend limit in micro-dollars ("budget: 25.00" dollars); -1 = none
  std::string budget_period;       // daily | weekly | monthly; "" = the budget never resets
  std::vector<std::string> models; // model patterns this key may use ('*' wildcards); empty = all
};

// Limits over all clients of this instance (or of every instance sharing redis).
struct LimitsConfig {
  uint64_t rpm = 0;  // requests per minute; 0 = no limit
  uint64_t tpm = 0;  // tokens per minute; 0 = no limit
  // Requests per minute from one client address when auth is off (the LLM
  // service's per-IP limit; its default is 60); 0 = no limit.
  uint64_t ip_rpm = 0;
  // With redis: how many instances share the limits. While Redis is
  // unreachable each enforces limit / instances on its own.
  uint32_t instances = 1;
  uint32_t redis_timeout_ms = 50;  // connect and command timeout of the shared limiter
};

struct UsageConfig {
  bool enabled = true;               // record every request in the store
  std::string spool;                 // spool file for records the store could not take; "" = beside the store
  uint64_t queue_capacity = 100000;  // records held in memory before the writer takes them
  uint32_t batch_rows = 1000;        // most rows per database transaction
  uint32_t flush_interval_ms = 100;  // longest a record waits before being written
  uint32_t key_refresh_ms = 250;     // how often the key cache polls the store for changes
};

struct ProviderKey {
  std::string id;       // shown in logs and admin output instead of the value
  std::string value;    // the secret sent upstream; never logged
  uint32_t weight = 1;  // share of requests, relative to the provider's other keys
};

// type: local — GGUF models from a folder, run by a local engine.
struct LocalConfig {
  // Every *.gguf here is a model named after its file (tiny.gguf: "tiny").
  // Relative to the config file's folder.
  std::string models_dir = "./models";
  // Idle time before a loaded model is unloaded; 0 = after each response.
  uint64_t keep_alive_ms = 300000;
  bool keep_alive_forever = false;  // keep_alive: -1
  uint32_t max_loaded = 2;          // models loaded at once; the least recently used idle one goes first
  uint32_t parallel = 4;            // sequences per model (requests generated together)
  uint32_t max_queue = 64;          // requests waiting per model beyond `parallel`; more get 503
  uint32_t context_size = 0;        // tokens per sequence; 0 = the model file's own context length
  uint32_t threads = 0;             // 0 = one per physical core
  std::string device = "auto";      // auto | cpu | cuda | vulkan
  // auto = off on the CPU (llama.cpp's CPU flash attention is slower there:
  // docs/benchmarks.md), llama.cpp's own choice on a GPU; on | off.
  std::string flash_attention = "auto";
  uint32_t load_timeout_s = 120;    // a load that reports no progress for this long is killed
  // "worker": the node-llama-cpp worker (engine/worker.mjs); "command": any
  // OpenAI-compatible server started from `command`.
  std::string engine = "worker";
  std::string node;     // Node.js for the worker; "" = the project's pinned runtime when set up, else node on PATH
  std::string worker;   // the worker script; "" = engine/worker.mjs of the installation
  // engine: command — e.g. "llama-server -m {model} --port {port} -c {ctx} -t {threads} -np {parallel}"
  std::string command;
};

struct ProviderConfig {
  std::string id;                 // unique; the "provider" in provider/model
  std::string name;               // display name; defaults to id
  // Upstream protocol: "openai" (any OpenAI-compatible server), "anthropic",
  // "gemini" or "ollama".
  std::string type = "openai";
  // openai: up to and including the API version (https://api.openai.com/v1);
  // anthropic, gemini, ollama: the server root (https://api.anthropic.com) —
  // the gateway appends the native path (/v1/messages, /v1beta/models/..., /api/chat).
  std::string base_url;
  std::vector<ProviderKey> keys;  // may be empty for servers that need no key
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers sent upstream
  uint32_t timeout_s = 600;          // read timeout: longest wait for upstream bytes
  uint32_t connect_timeout_s = 10;   // TCP connect + TLS handshake (+ proxy CONNECT)
  std::string ca_file;               // extra PEM CA bundle to trust; empty = system store
  uint32_t max_idle_connections = 64;  // per worker thread, kept alive for reuse
  uint64_t max_response_bytes = 268435456;  // a non-stream response body past this (256 MiB) is cut off: 502
  // A translated request parameter this provider's protocol cannot honour
  // (e.g. top_k to openai, seed to anthropic): false = 400 naming it;
  // true = left out silently.
  bool drop_params = false;
  bool enabled = true;  // false: its models answer 503 (the admin API can switch it)
  LocalConfig local;    // type: local only
};

struct ModelAlias {
  std::string name;    // what clients ask for
  std::string target;  // "provider/model" or "provider://model"
  // Derived from target at load time:
  std::string provider;        // provider id
  std::string upstream_model;  // model name sent upstream
  std::optional<bool> drop_params;  // overrides the provider's drop_params for this alias
  std::optional<TokenPrice> pricing;  // overrides the built-in price of the upstream model
  uint64_t context_length = 0;        // shown in /v1/models; 0 = unknown
};

struct Config {
  ServerConfig server;
  std::vector<ClientKey> keys;
  std::vector<ProviderConfig> providers;
  std::vector<ModelAlias> models;
  // Users, keys and usage: "sqlite://PATH" (relative to the config file's
  // folder), "postgres://..." (libpq URI), or "none" (config keys only, no
  // usage records). "" = sqlite://switchyard.db beside the config file.
  std::string store;
  std::string redis;  // "redis://[:password@]host:port[/db]": shared limits; "" = in memory
  LimitsConfig limits;
  UsageConfig usage;
  std::vector<PriceConfig> pricing;  // prices by model name; override the built-in table
  std::string source_path;  // file it was loaded from, if any
};

struct ConfigError {
  std::string path;     // full key path, e.g. "providers[1].keys[0].value"
  std::string message;  // what is wrong
};

// Looks up an environment variable; nullopt when unset. A seam for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

struct LoadResult {
  std::optional<Config> config;     // set only when errors is empty
  std::vector<ConfigError> errors;  // every problem found, in document order
};

// Parses YAML text, expands ${VAR} from env, checks every key and value.
// Unknown keys, missing required keys, wrong types, out-of-range values, unset
// variables, duplicate ids and dangling model targets are all errors.
LoadResult LoadConfigString(const std::string& yaml_text, const EnvLookup& env);
LoadResult LoadConfigFile(const std::string& path, const EnvLookup& env);

// Splits "provider/model" or "provider://model". Returns false when there is no
// separator or either side is empty.
bool SplitTarget(const std::string& target, std::string* provider, std::string* model);

// Splits "HOST:PORT" ("[::1]:8080" for IPv6). Returns false when malformed.
bool SplitListen(const std::string& listen, std::string* host, uint16_t* port);

}  // namespace sy::config
