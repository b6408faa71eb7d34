// Loads and validates configuration: the schema of each section (a table of
// Field rows walked by yaml_schema.h), then the checks that span entries
// (unique ids, model targets), then the result in document order.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include "common/cidr.h"
#include "config/config.h"
#include "config/governance_schema.h"
#include "config/yaml_schema.h"

namespace sy::config {
namespace {

using schema::BoolField;
using schema::Field;
using schema::ReadUint;
using schema::Checker;
using schema::JoinIndex;
using schema::JoinKey;
using schema::kDocumentPath;
using schema::KindName;
using schema::ListField;
using schema::ParseMapping;
using schema::Quote;
using schema::ReadText;
using schema::Schema;
using schema::StringField;
using schema::UintField;

// Bounds. Each limit is generous; values past it are surely typos.
constexpr uint64_t kMaxTimeoutS = 86400;          // one day
constexpr uint64_t kMaxHeaderBytes = 1048576;     // 1 MiB of request headers
constexpr uint64_t kMaxThreads = 1024;            // worker threads
constexpr uint64_t kMaxIdleConnections = 100000;  // per worker, per provider
constexpr uint64_t kMaxWeight = 1000000;          // keeps weight sums far from overflow
constexpr uint64_t kMaxConnections = 10000000;    // open client connections

// ---------------------------------------------------------------------------
// Value checks

bool IsIdChar(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '.' || ch == '_' || ch == '-';
}

bool HasControlOrSpace(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return u <= 0x20 || u == 0x7f;
  });
}

// RFC 9110 token characters, the only ones allowed in a header name.
bool IsHeaderName(std::string_view name) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           kExtra.find(ch) != std::string_view::npos;
  });
}

std::string Lower(std::string text) {
  for (char& ch : text) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return text;
}

bool AllDigits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// True when text is a decimal port number in [1, 65535].
bool IsUrlPort(std::string_view text) {
  return AllDigits(text) && text.size() <= 5 && std::stoul(std::string(text)) >= 1 &&
         std::stoul(std::string(text)) <= 65535;
}

// Host names: letters, digits, '-', '.', '_'. IPv6 literals (without the
// brackets): hex digits, ':', '.', and a "%zone" suffix.
bool IsUrlHost(std::string_view host, bool ipv6) {
  if (ipv6 && host.find(':') == std::string_view::npos) return false;
  const std::string_view extra = ipv6 ? ":.%-_" : "-._";
  return std::all_of(host.begin(), host.end(), [extra](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           extra.find(ch) != std::string_view::npos;
  });
}

// Checks "http(s)://host[:port][/path]". Returns "" when fine, else what is wrong.
std::string CheckBaseUrl(const std::string& url) {
  const std::string lower = Lower(url);
  size_t scheme_len = 0;
  if (lower.rfind("https://", 0) == 0) {
    scheme_len = 8;
  } else if (lower.rfind("http://", 0) == 0) {
    scheme_len = 7;
  } else {
    return "must start with http:// or https://";
  }
  if (HasControlOrSpace(url)) return "must not contain spaces or control characters";
  if (url.find_first_of("?#") != std::string::npos) return "must not contain a query or fragment";
  const std::string rest = url.substr(scheme_len);
  const std::string authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != std::string::npos) {
    return "must not contain user:password@; put credentials in keys or headers";
  }
  std::string host = authority;
  std::string port;
  const bool ipv6 = !authority.empty() && authority[0] == '[';
  if (ipv6) {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return "has an unclosed [ in the host";
    host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return "has text after the ] of the host";
    if (!after.empty()) port = after.substr(1);
    if (!after.empty() && port.empty()) return "has an empty port";
  } else if (const size_t colon = authority.find(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return "has an empty port";
  }
  if (host.empty()) return "has no host";
  if (!IsUrlHost(host, ipv6)) return "has a host with characters that are not allowed";
  if (!port.empty() && !IsUrlPort(port)) return "has a port that is not a number from 1 to 65535";
  return "";
}

// Removes trailing "/" from the path of an already checked URL.
std::string TrimTrailingSlash(std::string url) {
  const size_t path_start = url.find('/', url.find("://") + 3);
  while (path_start != std::string::npos && url.size() > path_start && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

// ---------------------------------------------------------------------------
// Section schemas

void ParseListen(Checker& c, const YAML::Node& n, const std::string& path, ServerConfig* out) {
  std::string text;
  if (!ReadText(c, n, path, &text)) return;
  std::string host;
  uint16_t port = 0;
  if (!SplitListen(text, &host, &port)) {
    c.Add(path,
          "must be HOST:PORT with a port from 0 to 65535 (e.g. 127.0.0.1:8080, "
          "0.0.0.0:8080 or [::1]:8080), got " +
              Quote(text));
    return;
  }
  out->listen = text;
}

void ParseAuth(Checker& c, const YAML::Node& n, const std::string& path, ServerConfig* out) {
  std::string text;
  if (!ReadText(c, n, path, &text)) return;
  if (text == "keys") {
    out->auth = AuthMode::kKeys;
  } else if (text == "none") {
    out->auth = AuthMode::kNone;
  } else {
    c.Add(path, "must be \"keys\" or \"none\", got " + Quote(text));
  }
}

// A list of CIDRs ("10.0.0.0/8") or addresses; each must parse.
void ParseTrustedProxies(Checker& c, const YAML::Node& n, const std::string& path, ServerConfig* out) {
  if (!n.IsSequence()) {
    c.Add(path, "must be a list of CIDRs or addresses, e.g. [\"10.0.0.0/8\", \"127.0.0.1\"]");
    return;
  }
  size_t index = 0;
  for (const auto& item : n) {
    if (!c.Spend()) return;
    const std::string item_path = path + "[" + std::to_string(index++) + "]";
    std::string text;
    if (!ReadText(c, item, item_path, &text)) continue;
    if (!net::Cidr::Parse(text)) {
      c.Add(item_path, "must be a CIDR such as 10.0.0.0/8 or an IP address, got " + Quote(text));
      continue;
    }
    out->trusted_proxies.push_back(text);
  }
}

const Schema<ServerConfig>& ServerSchema() {
  using S = ServerConfig;
  static const auto* schema = new Schema<S>{
      {"listen", false, ParseListen},
      {"auth", false, ParseAuth},
      StringField("admin_key", &S::admin_key, false),
      UintField("max_body_bytes", &S::max_body_bytes, 1, UINT64_MAX),
      UintField("max_header_bytes", &S::max_header_bytes, 1, kMaxHeaderBytes),
      UintField("header_timeout_s", &S::header_timeout_s, 1, kMaxTimeoutS),
      UintField("body_timeout_s", &S::body_timeout_s, 1, kMaxTimeoutS),
      UintField("idle_timeout_s", &S::idle_timeout_s, 1, kMaxTimeoutS),
      UintField("write_timeout_s", &S::write_timeout_s, 1, kMaxTimeoutS),
      UintField("shutdown_timeout_s", &S::shutdown_timeout_s, 1, kMaxTimeoutS),
      UintField("threads", &S::threads, 0, kMaxThreads),  // 0 = one per CPU core
      BoolField("access_log", &S::access_log),
      UintField("max_connections", &S::max_connections, 1, kMaxConnections),
      {"trusted_proxies", false, ParseTrustedProxies},
  };
  return *schema;
}

const Schema<ClientKey>& ClientKeySchema() {
  static const auto* schema = [] {
    auto* s = new Schema<ClientKey>{
        StringField("name", &ClientKey::name, true),
        StringField("key", &ClientKey::key, true),
    };
    schema::AddClientKeyGovernance(s);
    return s;
  }();
  return *schema;
}

const Schema<ProviderKey>& ProviderKeySchema() {
  static const auto* schema = new Schema<ProviderKey>{
      StringField("id", &ProviderKey::id, true),
      StringField("value", &ProviderKey::value, true),
      UintField("weight", &ProviderKey::weight, 1, kMaxWeight),
  };
  return *schema;
}

void ParseProviderId(Checker& c, const YAML::Node& n, const std::string& path,
                     ProviderConfig* out) {
  std::string text;
  if (!ReadText(c, n, path, &text)) return;
  if (text.empty()) {
    c.Add(path, "must not be empty");
  } else if (!std::all_of(text.begin(), text.end(), IsIdChar)) {
    c.Add(path,
          "must use only letters, digits, '.', '_' and '-' (it is the provider part of "
          "provider/model), got " +
              Quote(text));
  } else {
    out->id = text;
  }
}

void ParseProviderType(Checker& c, const YAML::Node& n, const std::string& path,
                       ProviderConfig* out) {
  std::string text;
  if (!ReadText(c, n, path, &text)) return;
  if (text != "openai" && text != "anthropic" && text != "gemini" && text != "ollama" && text != "local") {
    c.Add(path, "unsupported provider type " + Quote(text) +
                    "; supported types: openai (any OpenAI-compatible server), anthropic, gemini, ollama, "
                    "local (GGUF models from a folder)");
    return;
  }
  out->type = text;
}

void ParseBaseUrl(Checker& c, const YAML::Node& n, const std::string& path, ProviderConfig* out) {
  std::string text;
  if (!ReadText(c, n, path, &text)) return;
  if (const std::string problem = CheckBaseUrl(text); !problem.empty()) {
    // A URL with userinfo may hold a password: it is not echoed.
    const bool echo = text.find('@') == std::string::npos;
    c.Add(path,
          problem + " (e.g. https://api.openai.com/v1)" + (echo ? ", got " + Quote(text) : ""));
    return;
  }
  out->base_url = TrimTrailingSlash(text);
}

// Headers the gateway itself sets for framing; a config may not override them.
bool IsReservedHeader(const std::string& lower_name) {
  return lower_name == "host" || lower_name == "content-length" ||
         lower_name == "transfer-encoding" || lower_name == "connection";
}

void ParseHeaders(Checker& c, const YAML::Node& n, const std::string& path, ProviderConfig* out) {
  if (!n.IsMap()) {
    c.Add(path, std::string("expected a mapping of header name to value, got ") + KindName(n));
    return;
  }
  std::set<std::string> seen;  // lower-cased names
  for (const auto& entry : n) {
    if (!c.Spend()) return;
    if (!entry.first.IsScalar()) {
      c.Add(path, "header names must be plain strings");
      continue;
    }
    const std::string& name = entry.first.Scalar();
    const std::string child = JoinKey(path, name);
    c.Visit(child, entry.first);
    std::string value;
    if (!IsHeaderName(name)) {
      c.Add(child, "is not a valid HTTP header name");
    } else if (IsReservedHeader(Lower(name))) {
      c.Add(child, "is set by the gateway and cannot be configured");
    } else if (!seen.insert(Lower(name)).second) {
      c.Add(child, "duplicate header (header names are case-insensitive)");
    } else if (ReadText(c, entry.second, child, &value)) {
      if (std::any_of(value.begin(), value.end(), [](char ch) {
            const auto u = static_cast<unsigned char>(ch);
            return (u < 0x20 && ch != '\t') || u == 0x7f;
          })) {
        c.Add(child, "must not contain control characters (such as line breaks)");
      } else {
        out->headers.emplace_back(name, std::move(value));
      }
    }
  }
}

// keep_alive: a duration ("30s", "5m", "1h", "500ms"), seconds as a number,
// 0 (unload after each response) or -1 (never unload).
void ParseKeepAlive(Checker& c, const YAML::Node& n, const std::string& path, ProviderConfig* out) {
  std::string text;
  if (!ReadText(c, n, path, &text)) return;
  if (text == "-1") {
    out->local.keep_alive_forever = true;
    return;
  }
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string unit = text.substr(digits);
  uint64_t scale = 0;
  if (unit.empty() || unit == "s") scale = 1000;
  else if (unit == "ms") scale = 1;
  else if (unit == "m") scale = 60000;
  else if (unit == "h") scale = 3600000;
  if (digits == 0 || digits > 9 || scale == 0) {
    c.Add(path, "must be a duration such as 30s, 5m or 1h, seconds as a number, 0 (unload after each "
                "response) or -1 (never unload), got " + Quote(text));
    return;
  }
  out->local.keep_alive_forever = false;
  out->local.keep_alive_ms = std::stoull(text.substr(0, digits)) * scale;
}

// A field of the local engine's settings (type: local).
template <typename I>
Field<ProviderConfig> LocalUint(const char* key, I LocalConfig::*member, uint64_t min, uint64_t max) {
  return {key, false, [member, min, max](Checker& c, const YAML::Node& n, const std::string& path, ProviderConfig* out) {
            uint64_t value = 0;
            if (ReadUint(c, n, path, min, max, &value)) out->local.*member = static_cast<I>(value);
          }};
}

Field<ProviderConfig> LocalText(const char* key, std::string LocalConfig::*member,
                                std::initializer_list<const char*> allowed = {}) {
  std::vector<std::string> choices(allowed.begin(), allowed.end());
  return {key, false, [member, choices](Checker& c, const YAML::Node& n, const std::string& path, ProviderConfig* out) {
            std::string text;
            if (!ReadText(c, n, path, &text)) return;
            if (!choices.empty() && std::find(choices.begin(), choices.end(), text) == choices.end()) {
              std::string list;
              for (const auto& choice : choices) list += (list.empty() ? "" : " | ") + choice;
              c.Add(path, "must be one of " + list + ", got " + Quote(text));
              return;
            }
            out->local.*member = std::move(text);
          }};
}

const Schema<ProviderConfig>& ProviderSchema() {
  using P = ProviderConfig;
  using L = LocalConfig;
  static const auto* schema = new Schema<P>{
      {"id", true, ParseProviderId},
      StringField("name", &P::name, false),  // empty = the id (filled in later)
      {"type", false, ParseProviderType},
      {"base_url", false, ParseBaseUrl},  // required for every type but local (CheckProviders)
      ListField("keys", &P::keys, ProviderKeySchema),
      {"headers", false, ParseHeaders},
      UintField("timeout_s", &P::timeout_s, 1, kMaxTimeoutS),
      UintField("connect_timeout_s", &P::connect_timeout_s, 1, kMaxTimeoutS),
      StringField("ca_file", &P::ca_file, false),
      UintField("max_idle_connections", &P::max_idle_connections, 0, kMaxIdleConnections),
      UintField("max_response_bytes", &P::max_response_bytes, 1, UINT64_MAX),
      BoolField("drop_params", &P::drop_params),
      BoolField("enabled", &P::enabled),
      // type: local
      LocalText("models_dir", &L::models_dir),
      {"keep_alive", false, ParseKeepAlive},
      LocalUint("max_loaded", &L::max_loaded, 1, 64),
      LocalUint("parallel", &L::parallel, 1, 256),
      LocalUint("max_queue", &L::max_queue, 0, 100000),
      LocalUint("context_size", &L::context_size, 0, 10000000),
      LocalUint("threads", &L::threads, 0, 1024),
      LocalText("device", &L::device, {"auto", "cpu", "cuda", "vulkan"}),
      LocalText("flash_attention", &L::flash_attention, {"auto", "on", "off"}),
      LocalUint("load_timeout_s", &L::load_timeout_s, 1, 86400),
      LocalText("engine", &L::engine, {"worker", "command"}),
      LocalText("node", &L::node),
      LocalText("worker", &L::worker),
      LocalText("command", &L::command),
  };
  return *schema;
}

void ParseTarget(Checker& c, const YAML::Node& n, const std::string& path, ModelAlias* out) {
  std::string text;
  if (!ReadText(c, n, path, &text)) return;
  if (!SplitTarget(text, &out->provider, &out->upstream_model)) {
    c.Add(path,
          "must be provider/model or provider://model (e.g. openai/gpt-4o), got " + Quote(text));
    return;
  }
  out->target = text;
}

const Schema<ModelAlias>& ModelSchema() {
  static const auto* schema = new Schema<ModelAlias>{
      StringField("name", &ModelAlias::name, true),
      {"target", true, ParseTarget},
      {"drop_params", false,
       [](Checker& c, const YAML::Node& n, const std::string& path, ModelAlias* out) {
         bool value = false;
         if (schema::ReadBool(c, n, path, &value)) out->drop_params = value;
       }},
      {"pricing", false,
       [](Checker& c, const YAML::Node& n, const std::string& path, ModelAlias* out) {
         TokenPrice price;
         schema::ParsePrice(c, n, path, &price);
         out->pricing = price;
       }},
      UintField("context_length", &ModelAlias::context_length, 0, 100000000),
  };
  return *schema;
}

const Schema<Config>& RootSchema() {
  static const auto* schema = new Schema<Config>{
      {"server", false,
       [](Checker& c, const YAML::Node& n, const std::string& path, Config* out) {
         ParseMapping(c, n, path, ServerSchema(), &out->server);
       }},
      ListField("keys", &Config::keys, ClientKeySchema),
      ListField("providers", &Config::providers, ProviderSchema),
      ListField("models", &Config::models, ModelSchema),
      {"store", false, schema::ParseStoreUrl},
      {"redis", false, schema::ParseRedisUrl},
      {"limits", false,
       [](Checker& c, const YAML::Node& n, const std::string& path, Config* out) {
         ParseMapping(c, n, path, schema::LimitsSchema(), &out->limits);
       }},
      {"usage", false,
       [](Checker& c, const YAML::Node& n, const std::string& path, Config* out) {
         ParseMapping(c, n, path, schema::UsageSchema(), &out->usage);
       }},
      ListField("pricing", &Config::pricing, schema::PriceEntrySchema),
  };
  return *schema;
}

// ---------------------------------------------------------------------------
// Checks across entries

// Reports every name that repeats an earlier one. name_of returns "" for
// entries that had no valid name (already reported).
template <typename T, typename NameOf>
void CheckUnique(Checker& c, const std::vector<T>& items, const std::string& list_path,
                 const std::string& field, const char* what, NameOf name_of, bool show_name) {
  std::map<std::string, size_t> first;  // name -> index of its first use
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string name = name_of(items[i]);
    if (name.empty()) continue;
    auto [it, inserted] = first.emplace(name, i);
    if (inserted) continue;
    const std::string earlier = JoinKey(JoinIndex(list_path, it->second), field);
    c.Add(JoinKey(JoinIndex(list_path, i), field), std::string("duplicate ") + what +
                                                       (show_name ? " " + Quote(name) : "") +
                                                       " (also at " + earlier + ")");
  }
}

void CheckProviders(Checker& c, std::vector<ProviderConfig>* providers) {
  CheckUnique(
      c, *providers, "providers", "id", "provider id", [](const ProviderConfig& p) { return p.id; },
      true);
  for (size_t i = 0; i < providers->size(); ++i) {
    ProviderConfig& p = (*providers)[i];
    if (p.name.empty()) p.name = p.id;  // default display name
    const std::string at = JoinIndex("providers", i);
    if (p.type != "local" && p.base_url.empty() && !c.HasProblemAt(JoinKey(at, "base_url"))) {
      c.Add(JoinKey(at, "base_url"), "is required");
    }
    if (p.type == "local" && p.local.engine == "command" && p.local.command.find("{port}") == std::string::npos) {
      c.Add(JoinKey(at, "command"), "engine: command needs a command with {port} (and usually {model}), e.g. "
                                    "\"llama-server -m {model} --port {port} -c {ctx} -t {threads} -np {parallel}\"");
    }
    CheckUnique(
        c, p.keys, JoinKey(JoinIndex("providers", i), "keys"), "id", "key id",
        [](const ProviderKey& k) { return k.id; }, true);
  }
}

void CheckClientKeys(Checker& c, const Config& config) {
  CheckUnique(
      c, config.keys, "keys", "name", "key name", [](const ClientKey& k) { return k.name; }, true);
  // Values are secrets: the message names the other entry, never the value.
  CheckUnique(
      c, config.keys, "keys", "key", "key value", [](const ClientKey& k) { return k.key; }, false);
  const bool auth_valid = !c.HasProblemAt("server.auth") && !c.HasProblemAt("server");
  // Without a store, the config's keys are the only ones there can be.
  if (auth_valid && config.server.auth == AuthMode::kKeys && config.keys.empty() && config.store == "none") {
    c.Add("keys",
          "server.auth is \"keys\" but no client keys are defined and store is none; add one under keys: "
          "(- name: dev, key: ${DEV_KEY}), use a store (keys made with the admin API), or set server.auth: none "
          "for local use");
  }
  const std::string& admin = config.server.admin_key;
  for (size_t i = 0; !admin.empty() && i < config.keys.size(); ++i) {
    if (config.keys[i].key == admin) {
      c.Add("server.admin_key", "must differ from every client key (same value as " +
                                    JoinKey(JoinIndex("keys", i), "key") + ")");
    }
  }
}

void CheckModels(Checker& c, const Config& config) {
  CheckUnique(
      c, config.models, "models", "name", "model name", [](const ModelAlias& m) { return m.name; },
      true);
  std::string defined;
  for (const ProviderConfig& p : config.providers) {
    if (!p.id.empty()) defined += (defined.empty() ? "" : ", ") + p.id;
  }
  for (size_t i = 0; i < config.models.size(); ++i) {
    const ModelAlias& m = config.models[i];
    if (m.provider.empty()) continue;  // target missing or malformed: reported
    const bool known = std::any_of(config.providers.begin(), config.providers.end(),
                                   [&m](const ProviderConfig& p) { return p.id == m.provider; });
    if (known) continue;
    c.Add(JoinKey(JoinIndex("models", i), "target"),
          "names provider " + Quote(m.provider) + ", which is not defined under providers" +
              (defined.empty() ? " (none are defined)" : " (defined: " + defined + ")"));
  }
}

// ---------------------------------------------------------------------------
// Loading

std::string SyntaxMessage(const YAML::Exception& e) {
  if (e.mark.is_null()) return "YAML syntax error: " + e.msg;
  return "YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
         std::to_string(e.mark.column + 1) + ": " + e.msg;
}

LoadResult DocumentError(std::string message) {
  LoadResult result;
  result.errors.push_back({kDocumentPath, std::move(message)});
  return result;
}

// May throw yaml-cpp exceptions; LoadConfigString catches them.
// Ignores every parse event: used only to count documents.
class DocumentCounter final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Documents in the text, counting no further than `max`. Not YAML::LoadAll:
// yaml-cpp 0.7 (Debian 12) loops forever there on some malformed input
// (" ,_A x ,_A", found by fuzz/config_fuzz; yaml-cpp PR #1319), returning
// empty documents without end while allocating.
size_t CountDocuments(const std::string& yaml_text, size_t max) {
  std::istringstream in(yaml_text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  size_t n = 0;
  while (n < max && parser.HandleNextDocument(counter)) ++n;
  return n;
}

LoadResult LoadDocument(const std::string& yaml_text, const EnvLookup& env) {
  if (CountDocuments(yaml_text, 2) > 1) {
    return DocumentError("holds more than one YAML document (separated by ---); put the whole configuration in one");
  }
  const YAML::Node root = YAML::Load(yaml_text);
  Checker c(env);
  Config config;
  ParseMapping(c, root, "", RootSchema(), &config);
  CheckProviders(c, &config.providers);
  CheckClientKeys(c, config);
  CheckModels(c, config);
  LoadResult result;
  if (c.ok()) {
    result.config = std::move(config);
  } else {
    result.errors = c.TakeErrors();
  }
  return result;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

LoadResult LoadConfigString(const std::string& yaml_text, const EnvLookup& env) {
  try {
    return LoadDocument(yaml_text, env);
  } catch (const YAML::Exception& e) {
    return DocumentError(SyntaxMessage(e));
  } catch (const std::exception& e) {
    return DocumentError(std::string("cannot load configuration: ") + e.what());
  } catch (...) {
    return DocumentError("cannot load configuration: unknown error");
  }
}

LoadResult LoadConfigFile(const std::string& path, const EnvLookup& env) {
  try {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return DocumentError(path + " is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return DocumentError("cannot open " + path + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return DocumentError("cannot read " + path);
    LoadResult result = LoadConfigString(text.str(), env);
    if (result.config) result.config->source_path = path;
    return result;
  } catch (const std::exception& e) {
    return DocumentError("cannot load " + path + ": " + e.what());
  }
}

bool SplitTarget(const std::string& target, std::string* provider, std::string* model) {
  size_t sep = target.find("://");
  size_t sep_len = 3;
  if (sep == std::string::npos) {
    sep = target.find('/');
    sep_len = 1;
  }
  if (sep == std::string::npos || sep == 0 || sep + sep_len >= target.size()) return false;
  if (provider) *provider = target.substr(0, sep);
  if (model) *model = target.substr(sep + sep_len);
  return true;
}

bool SplitListen(const std::string& listen, std::string* host, uint16_t* port) {
  std::string h;
  std::string port_text;
  if (!listen.empty() && listen[0] == '[') {  // [IPv6]:PORT
    const size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return false;
    }
    h = listen.substr(1, close - 1);
    if (h.find(':') == std::string::npos) return false;  // brackets are for IPv6 only
    port_text = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return false;
    h = listen.substr(0, colon);
    if (h.find(':') != std::string::npos) return false;  // IPv6 needs brackets
    port_text = listen.substr(colon + 1);
  }
  if (h.empty() || HasControlOrSpace(h) || h.find_first_of("[]/@") != std::string::npos) {
    return false;
  }
  if (!AllDigits(port_text) || port_text.size() > 5) return false;
  const unsigned long value = std::stoul(port_text);
  if (value > 65535) return false;
  if (host) *host = h;
  if (port) *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace sy::config
