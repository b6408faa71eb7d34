// Config, providers and logs: TruckLLM's /admin/v1/*, GhostLLM's
// /admin/providers, llm-mux's /v0/management/*.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "common/log.h"
#include "config/config_document.h"
#include "governance/clock.h"
#include "server/admin_internal.h"

namespace sy::admin {
namespace {

Json ErrorsJson(const std::vector<config::ConfigError>& errors) {
  Json list = Json::array();
  for (const auto& e : errors) list.push_back({{"path", e.path}, {"message", e.message}});
  return list;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return !in.bad();
}

std::string SourcePath(Context& ctx) { return ctx.gateway.routing()->config.source_path; }

// The current config file's text ("" when there is none).
std::string CurrentText(Context& ctx) {
  std::string text;
  const std::string path = SourcePath(ctx);
  if (!path.empty()) ReadFile(path, &text);
  return text;
}

Reply Applied(const std::vector<std::string>& restart_needed, std::string_view what) {
  Json j = {{"status", "ok"}, {"message", std::string(what)}, {"restart_required", restart_needed}};
  return JsonReply(200, j);
}

// Validates a new document (masked secrets taken from the current file),
// writes it to the config file (the previous one kept) and swaps it in.
// dry_run: validation only.
Reply ApplyDocument(Context& ctx, const std::string& text, bool dry_run) {
  std::lock_guard<std::mutex> reload_lock(ctx.gateway.reload_mutex());
  std::string restored;
  std::string error;
  if (!config::RestoreMasked(text, CurrentText(ctx), &restored, &error)) {
    if (dry_run) return JsonReply(200, {{"valid", false}, {"errors", Json::array({{{"path", ""}, {"message", error}}})}});
    return JsonReply(400, {{"error", {{"message", error}, {"type", "invalid_request_error"}, {"code", 400}}}});
  }
  config::LoadResult loaded = config::LoadConfigString(restored, config::ProcessEnv());
  if (!loaded.errors.empty()) {
    if (dry_run) return JsonReply(200, {{"valid", false}, {"errors", ErrorsJson(loaded.errors)}});
    return JsonReply(400, {{"error",
                            {{"message", "The configuration is not valid; nothing was changed."},
                             {"type", "invalid_request_error"},
                             {"code", 400}}},
                           {"errors", ErrorsJson(loaded.errors)}});
  }
  if (dry_run) return JsonReply(200, {{"valid", true}, {"errors", Json::array()}});
  const std::string path = SourcePath(ctx);
  if (!path.empty()) {
    if (!config::WriteFileAtomically(path, restored, &error)) {
      log::Error("admin: cannot write the config file: ", error);
      return ErrorReply(500, "The configuration is valid but the config file could not be written; nothing was "
                             "changed.", "server_error");
    }
  }
  loaded.config->source_path = path;
  std::vector<std::string> restart;
  ctx.gateway.Reload(std::move(*loaded.config), &restart);
  log::Info("admin: configuration replaced and applied", path.empty() ? "" : " (previous kept as " + path + ".previous)");
  return Applied(restart, "configuration applied");
}

Reply ProvidersGhost(Context& ctx) {
  auto routing = ctx.gateway.routing();
  Json list = Json::array();
  for (const auto& pc : routing->config.providers) {
    Json models = Json::array();
    for (const auto& m : routing->router.models()) {
      if (m.provider == pc.id) models.push_back(m.id);
    }
    bool healthy = true;
    for (const auto& p : routing->providers.all()) {
      if (p->id() == pc.id) healthy = p->healthy();
    }
    list.push_back({{"id", pc.id},
                    {"name", pc.name},
                    {"type", pc.type},
                    {"enabled", pc.enabled},
                    {"base_url", pc.base_url},
                    {"timeout", pc.timeout_s},
                    {"keys", [&] {
                       Json ks = Json::array();
                       for (const auto& k : pc.keys) ks.push_back(k.id);
                       return ks;
                     }()},
                    {"models", models},
                    {"health_status", !pc.enabled ? "disabled" : healthy ? "healthy" : "unhealthy"},
                    {"last_check", nullptr}});
  }
  return JsonReply(200, {{"providers", list}});
}

// PUT /admin/providers/{id}: {name, enabled, config: {api_key, timeout}},
// applied to the config file (so a restart keeps it) and swapped in.
Reply UpdateProvider(Context& ctx, const std::string& id, const std::string& body_text) {
  Json body;
  std::string error;
  if (!ParseObject(body_text, &body, &error)) return ErrorReply(400, error);
  if (auto bad = UnknownMember(body, {"name", "enabled", "config"}); !bad.empty()) {
    return ErrorReply(400, "Unknown field '" + bad + "'.");
  }
  if (body.contains("name") && (!body["name"].is_string() || body["name"].get<std::string>().empty())) {
    return ErrorReply(400, "'name' must be a non-empty string.");
  }
  if (body.contains("enabled") && !body["enabled"].is_boolean()) return ErrorReply(400, "'enabled' must be true or false.");
  const Json* cfg = body.contains("config") ? &body["config"] : nullptr;
  if (cfg) {
    if (!cfg->is_object()) return ErrorReply(400, "'config' must be an object.");
    if (auto bad = UnknownMember(*cfg, {"api_key", "timeout"}); !bad.empty()) {
      return ErrorReply(400, "Unknown field 'config." + bad + "'.");
    }
    if (cfg->contains("api_key") && (!(*cfg)["api_key"].is_string() || (*cfg)["api_key"].get<std::string>().empty())) {
      return ErrorReply(400, "'config.api_key' must be a non-empty string.");
    }
    if (cfg->contains("timeout") &&
        (!(*cfg)["timeout"].is_number_integer() || (*cfg)["timeout"].get<int64_t>() < 1 ||
         (*cfg)["timeout"].get<int64_t>() > 86400)) {
      return ErrorReply(400, "'config.timeout' must be seconds between 1 and 86400.");
    }
  }
  YAML::Node root;
  try {
    const std::string current = CurrentText(ctx);
    root = current.empty() ? YAML::Node(YAML::NodeType::Map) : YAML::Load(current);
  } catch (const YAML::Exception&) {
    return ErrorReply(409, "The config file on disk is not valid YAML; fix it first.");
  }
  YAML::Node providers = root["providers"];
  YAML::Node target;  // (a default Node counts as defined: `found` says whether one matched)
  bool found = false;
  if (providers && providers.IsSequence()) {
    for (size_t i = 0; i < providers.size(); ++i) {
      YAML::Node p = providers[i];
      if (p["id"] && p["id"].IsScalar() && p["id"].Scalar() == id) {
        target.reset(p);
        found = true;
      }
    }
  }
  if (!found) return ErrorReply(404, "No provider '" + id + "'.", "not_found_error");
  if (body.contains("name")) target["name"] = body["name"].get<std::string>();
  if (body.contains("enabled")) target["enabled"] = body["enabled"].get<bool>() ? "true" : "false";
  if (cfg && cfg->contains("timeout")) target["timeout_s"] = std::to_string((*cfg)["timeout"].get<int64_t>());
  if (cfg && cfg->contains("api_key")) {
    YAML::Node keys(YAML::NodeType::Sequence);
    YAML::Node key(YAML::NodeType::Map);
    key["id"] = "admin-api";
    key["value"] = (*cfg)["api_key"].get<std::string>();
    keys.push_back(key);
    target["keys"] = keys;
  }
  YAML::Emitter out;
  out << root;
  Reply r = ApplyDocument(ctx, out.c_str(), false);
  if (r.status != 200) return r;
  log::Info("admin: provider ", id, " updated");
  return ProvidersGhost(ctx);
}

Reply ProvidersTruck(Context& ctx) {
  auto routing = ctx.gateway.routing();
  Json list = Json::array();
  for (const auto& p : routing->providers.all()) {
    Json keys = Json::array();
    for (const auto& k : p->KeyUsage()) {
      keys.push_back({{"id", k.id}, {"usage_req", k.requests}, {"usage_tokens", k.tokens}, {"errors", k.errors}});
    }
    list.push_back({{"id", p->id()},
                    {"name", p->display_name()},
                    {"status", !p->enabled() ? "disabled" : p->healthy() ? "healthy" : "unhealthy"},
                    {"keys", keys}});
  }
  return JsonReply(200, {{"providers", list}});
}

// TruckLLM's request log: the latest usage records.
Reply RequestLogs(Context& ctx, const Request& r) {
  gov::Store* store = ctx.governance.store();
  if (!store) return ErrorReply(501, "This gateway runs without a store (store: none): no request log is kept.");
  int64_t limit = 100;
  if (std::string l = Query(r, "limit"); !l.empty()) limit = std::atoll(l.c_str());
  if (limit < 1 || limit > 10000) return ErrorReply(400, "'limit' must be between 1 and 10000.");
  std::string level = Query(r, "level");
  if (!level.empty() && level != "info" && level != "warn" && level != "warning" && level != "error") {
    return ErrorReply(400, "'level' must be info, warn or error.");
  }
  if (auto* rec = ctx.governance.recorder()) rec->Flush(2000);
  gov::UsageQuery q;
  q.provider = Query(r, "provider");
  q.model = Query(r, "model");
  std::vector<gov::UsageRecord> rows;
  // Filtering by level happens here: read more than asked when filtering.
  gov::Status st = store->ListUsage(q, level.empty() ? limit : std::min<int64_t>(limit * 20, 100000), &rows);
  if (!st.ok()) return StoreErrorReply(st, "read the request log");
  auto level_of = [](const gov::UsageRecord& u) {
    if (u.status >= 500 || (u.status == 0 && !u.error.empty())) return "error";
    if (u.status >= 400 || !u.error.empty()) return "warn";
    return "info";
  };
  const int min_rank = level == "error" ? 2 : (level == "warn" || level == "warning") ? 1 : 0;
  auto rank = [](std::string_view l) { return l == "error" ? 2 : l == "warn" ? 1 : 0; };
  Json logs = Json::array();
  for (const auto& u : rows) {
    const char* lv = level_of(u);
    if (rank(lv) < min_rank) continue;
    if (static_cast<int64_t>(logs.size()) >= limit) break;
    logs.push_back({{"timestamp", gov::IsoTime(u.ts)},
                    {"level", lv},
                    {"request_id", u.request_id},
                    {"provider", u.provider},
                    {"model", u.model},
                    {"endpoint", u.endpoint},
                    {"latency_ms", u.latency_ms},
                    {"status", u.status},
                    {"tokens", u.prompt_tokens + u.completion_tokens},
                    {"cost", Dollars(u.cost)},
                    {"error", u.error.empty() ? Json(nullptr) : Json(u.error)}});
  }
  return JsonReply(200, {{"logs", logs}});
}

// llm-mux's server log: the last lines in memory.
Reply ServerLogs(const Request& r) {
  int64_t limit = 200;
  if (std::string l = Query(r, "limit"); !l.empty()) limit = std::atoll(l.c_str());
  if (limit < 1 || limit > static_cast<int64_t>(log::kRecentLines)) {
    return ErrorReply(400, "'limit' must be between 1 and " + std::to_string(log::kRecentLines) + ".");
  }
  log::Level min = log::Level::kDebug;
  if (std::string l = Query(r, "level"); !l.empty() && !log::ParseLevel(l, &min)) {
    return ErrorReply(400, "'level' must be debug, info, warn or error.");
  }
  Json lines = Json::array();
  for (const auto& line : log::Recent(static_cast<size_t>(limit), min, Query(r, "search"))) {
    std::string lv = log::LevelName(line.level);
    for (char& c : lv) c = static_cast<char>(c - 'A' + 'a');
    lines.push_back({{"timestamp", gov::IsoTime(line.unix_ms)}, {"level", lv}, {"message", line.message}});
  }
  return JsonReply(200, {{"logs", lines}});
}

Reply Reload(Context& ctx) {
  std::lock_guard<std::mutex> reload_lock(ctx.gateway.reload_mutex());
  const std::string path = SourcePath(ctx);
  if (path.empty()) return ErrorReply(409, "The server was not started from a config file; there is nothing to reload.");
  config::LoadResult loaded = config::LoadConfigFile(path, config::ProcessEnv());
  if (!loaded.errors.empty()) {
    log::Warn("admin: reload refused: ", path, " has ", loaded.errors.size(), " problem(s); the running config stays");
    return JsonReply(400, {{"error",
                            {{"message", "The config file is not valid; the running configuration stays."},
                             {"type", "invalid_request_error"},
                             {"code", 400}}},
                           {"errors", ErrorsJson(loaded.errors)}});
  }
  std::vector<std::string> restart;
  ctx.gateway.Reload(std::move(*loaded.config), &restart);
  log::Info("admin: configuration reloaded from ", path);
  return Applied(restart, "configuration reloaded");
}

Reply Management(Context& ctx, const Request& r) {
  const std::string p = r.path.substr(std::string_view("/v0/management").size());
  const std::string& m = r.method;
  auto not_allowed = [&]() { return ErrorReply(405, "Method " + m + " is not allowed on " + r.path + "."); };
  if (p == "/config") {
    if (m != "GET") return not_allowed();
    Reply out;
    out.body = config::ConfigToJson(ctx.gateway.routing()->config, /*mask_secrets=*/true);
    return out;
  }
  if (p == "/config.yaml") {
    if (m == "GET") {
      std::string error;
      const std::string text = CurrentText(ctx);
      if (text.empty()) return ErrorReply(404, "The server was not started from a config file.", "not_found_error");
      Reply out;
      out.body = config::MaskYamlText(text, &error);
      if (!error.empty()) return ErrorReply(409, "The config file on disk is not valid YAML.");
      out.content_type = "application/yaml";
      return out;
    }
    if (m == "PUT") return ApplyDocument(ctx, r.body, false);
    return not_allowed();
  }
  if (p == "/usage") {
    if (m != "GET") return not_allowed();
    gov::Status st;
    std::string bad;
    Json report = UsageJson(ctx, r, &st, &bad);
    if (!bad.empty()) return ErrorReply(400, bad);
    if (!st.ok()) return StoreErrorReply(st, "read usage");
    return JsonReply(200, {{"usage", report}});
  }
  if (p == "/api-keys") {
    if (m == "GET") {
      gov::Status st;
      Json keys = KeysJson(ctx, Query(r, "user_id"), &st);
      if (!st.ok()) return StoreErrorReply(st, "list keys");
      return JsonReply(200, {{"api-keys", keys}});
    }
    if (m == "PUT") {
      Json body;
      std::string error;
      if (!ParseObject(r.body, &body, &error)) return ErrorReply(400, error);
      if (body.contains("id")) {
        if (!body["id"].is_string()) return ErrorReply(400, "'id' must be a string.");
        const std::string id = body["id"].get<std::string>();
        body.erase("id");
        return UpdateKey(ctx, id, body);
      }
      return CreateKey(ctx, body);
    }
    if (m == "DELETE") {
      std::string id = Query(r, "id");
      if (id.empty() && !r.body.empty()) {
        Json body;
        std::string error;
        if (!ParseObject(r.body, &body, &error)) return ErrorReply(400, error);
        if (body.contains("id") && body["id"].is_string()) id = body["id"].get<std::string>();
      }
      if (id.empty()) return ErrorReply(400, "Name the key to remove: ?id=key_... or {\"id\": \"key_...\"}.");
      return RevokeKey(ctx, id);
    }
    return not_allowed();
  }
  if (p == "/logs") {
    if (m == "GET") return ServerLogs(r);
    if (m == "DELETE") {
      log::ClearRecent();
      return JsonReply(200, {{"status", "ok"}, {"message", "logs cleared"}});
    }
    return not_allowed();
  }
  if (p == "/debug") {
    if (m == "GET") return JsonReply(200, {{"debug", log::GetLevel() == log::Level::kDebug}});
    if (m == "PUT") {
      Json body;
      std::string error;
      if (!ParseObject(r.body, &body, &error)) return ErrorReply(400, error);
      if (!body.contains("value") || !body["value"].is_boolean()) {
        return ErrorReply(400, "Send {\"value\": true} or {\"value\": false}.");
      }
      const bool on = body["value"].get<bool>();
      log::SetLevel(on ? log::Level::kDebug : log::Level::kInfo);
      log::Info("admin: debug logging ", on ? "on" : "off");
      return JsonReply(200, {{"debug", on}});
    }
    return not_allowed();
  }
  return ErrorReply(404, "Unknown management endpoint: " + r.path.substr(0, 200), "not_found_error");
}

}  // namespace

std::optional<Reply> HandleConfig(Context& ctx, const Request& r) {
  const std::string& p = r.path;
  const std::string& m = r.method;
  auto not_allowed = [&]() { return ErrorReply(405, "Method " + m + " is not allowed on " + p + "."); };
  if (p == "/admin/v1/config") {
    if (m == "GET") {
      Reply out;
      out.body = config::ConfigToJson(ctx.gateway.routing()->config, /*mask_secrets=*/true);
      return out;
    }
    if (m == "POST" || m == "PUT") return ApplyDocument(ctx, r.body, false);
    return not_allowed();
  }
  if (p == "/admin/v1/config/validate") return m == "POST" ? ApplyDocument(ctx, r.body, true) : not_allowed();
  if (p == "/admin/v1/reload") return m == "POST" ? Reload(ctx) : not_allowed();
  if (p == "/admin/v1/providers") return m == "GET" ? ProvidersTruck(ctx) : not_allowed();
  if (p == "/admin/v1/logs") return m == "GET" ? RequestLogs(ctx, r) : not_allowed();
  if (p == "/admin/providers") return m == "GET" ? ProvidersGhost(ctx) : not_allowed();
  if (p.starts_with("/admin/providers/")) {
    return m == "PUT" ? UpdateProvider(ctx, p.substr(17), r.body) : not_allowed();
  }
  if (p == "/v0/management" || p.starts_with("/v0/management/")) return Management(ctx, r);
  return std::nullopt;
}

}  // namespace sy::admin
