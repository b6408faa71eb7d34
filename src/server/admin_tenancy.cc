// GhostLLM's tenancy endpoints: /admin/users, /admin/keys, /admin/usage, /status.
#include <algorithm>
#include <cmath>

#include "common/log.h"
#include "governance/clock.h"
#include "governance/keys.h"
#include "server/admin_internal.h"
#include "version.h"

namespace sy::admin {
namespace {

using gov::ApiKey;
using gov::Micros;
using gov::Status;
using gov::User;

constexpr int kFlushWaitMs = 2000;  // admin reads wait this long for queued usage to reach the store
constexpr int64_t kTodayRecountMs = 60000;  // GET /status: the database's count of today's rows, at most this often

bool ReadDollars(const Json& v, Micros* out) {
  if (v.is_null()) {
    *out = gov::kNoBudget;
    return true;
  }
  if (!v.is_number()) return false;
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0 || d > 1e12) return false;
  *out = static_cast<Micros>(std::llround(d * 1e6));
  return true;
}

bool ReadCount(const Json& v, int64_t* out) {
  if (v.is_null()) {
    *out = 0;
    return true;
  }
  if (!v.is_number_integer() && !v.is_number_unsigned()) return false;
  const int64_t n = v.get<int64_t>();
  if (n < 0) return false;
  *out = n;
  return true;
}

Json UserJson(Context& ctx, const User& u, int64_t keys, const gov::UsageTotals* month) {
  Json j = {{"id", u.id},
            {"email", u.email},
            {"username", u.username},
            {"name", u.name},
            {"role", u.role},
            {"budget_limit", Dollars(u.budget_limit)},
            {"budget_period", gov::BudgetPeriodName(u.budget_period)},
            {"rpm_limit", u.rpm_limit},
            {"tpm_limit", u.tpm_limit},
            {"disabled", u.disabled},
            {"created_at", gov::IsoTime(u.created_at)},
            {"last_login", TimeOrNull(u.last_login)},
            {"api_keys_count", keys}};
  gov::UsageTotals zero;
  const gov::UsageTotals& m = month ? *month : zero;
  j["usage_this_month"] = {{"requests", m.requests}, {"tokens", m.tokens}, {"cost", Dollars(m.cost)}};
  if (u.budget_limit >= 0) j["current_spend"] = Dollars(ctx.governance.CurrentUserSpend(u));
  return j;
}

Json PermissionsJson(const gov::Permissions& p) {
  return {{"chat_completions", p.chat_completions},
          {"completions", p.completions},
          {"embeddings", p.embeddings},
          {"list_models", p.models},
          {"models", p.model_patterns}};
}

Json KeyJson(Context& ctx, const ApiKey& k, Micros month_spend, bool from_config) {
  Json j = {{"id", k.id},
            {"name", k.name},
            {"user_id", k.user_id.empty() ? Json(nullptr) : Json(k.user_id)},
            {"type", gov::KeyTypeName(k.type)},
            {"key_prefix", k.display},
            {"source", from_config ? "config" : "store"},
            {"permissions", PermissionsJson(k.permissions)},
            {"rate_limit", k.rpm_limit},
            {"tpm_limit", k.tpm_limit},
            {"budget_limit", Dollars(k.budget_limit)},
            {"budget_period", k.budget_limit >= 0 ? Json(gov::BudgetPeriodName(k.budget_period)) : Json(nullptr)},
            {"current_spend", Dollars(month_spend)},
            {"last_used", TimeOrNull(k.last_used)},
            {"created_at", TimeOrNull(k.created_at)},
            {"expires_at", TimeOrNull(k.expires_at)},
            {"revoked", k.revoked_at != 0},
            {"revoked_at", TimeOrNull(k.revoked_at)}};
  return j;
}

// Reads the writable fields of a key from `body` into *k. Returns "" or the error.
std::string ReadKeyFields(const Json& body, ApiKey* k) {
  if (auto bad = UnknownMember(body, {"user_id", "name", "type", "permissions", "rate_limit", "tpm_limit",
                                      "budget_limit", "budget_period", "expires_at", "id"});
      !bad.empty()) {
    return "Unknown field '" + bad + "'.";
  }
  if (body.contains("name")) {
    if (!body["name"].is_string() || body["name"].get<std::string>().empty() ||
        body["name"].get<std::string>().size() > 200) {
      return "'name' must be a non-empty string (at most 200 characters).";
    }
    k->name = body["name"].get<std::string>();
  }
  if (body.contains("user_id")) {
    if (body["user_id"].is_null()) {
      k->user_id.clear();
    } else if (!body["user_id"].is_string()) {
      return "'user_id' must be a string.";
    } else {
      k->user_id = body["user_id"].get<std::string>();
    }
  }
  if (body.contains("type")) {
    auto t = body["type"].is_string() ? gov::ParseKeyType(body["type"].get<std::string>()) : std::nullopt;
    if (!t) return "'type' must be user, admin or service.";
    k->type = *t;
  }
  if (body.contains("permissions")) {
    const Json& p = body["permissions"];
    if (!p.is_object()) return "'permissions' must be an object.";
    if (auto bad = UnknownMember(p, {"chat_completions", "completions", "embeddings", "list_models", "models"});
        !bad.empty()) {
      return "Unknown field 'permissions." + bad + "'.";
    }
    auto flag = [&](const char* name, bool* out) -> std::string {
      if (!p.contains(name)) return "";
      if (!p[name].is_boolean()) return std::string("'permissions.") + name + "' must be true or false.";
      *out = p[name].get<bool>();
      return "";
    };
    for (auto [name, out] : {std::pair<const char*, bool*>{"chat_completions", &k->permissions.chat_completions},
                             {"completions", &k->permissions.completions},
                             {"embeddings", &k->permissions.embeddings},
                             {"list_models", &k->permissions.models}}) {
      if (auto e = flag(name, out); !e.empty()) return e;
    }
    if (p.contains("models")) {
      const Json& m = p["models"];
      if (m.is_null()) {
        k->permissions.model_patterns.clear();
      } else if (!m.is_array()) {
        return "'permissions.models' must be a list of model names or patterns.";
      } else {
        std::vector<std::string> patterns;
        for (const auto& item : m) {
          if (!item.is_string() || item.get<std::string>().empty() || item.get<std::string>().size() > 256) {
            return "'permissions.models' must hold non-empty strings.";
          }
          patterns.push_back(item.get<std::string>());
        }
        if (patterns.size() > 1000) return "'permissions.models' holds too many patterns (at most 1000).";
        k->permissions.model_patterns = std::move(patterns);
      }
    }
  }
  if (body.contains("rate_limit") && !ReadCount(body["rate_limit"], &k->rpm_limit)) {
    return "'rate_limit' (requests per minute) must be a non-negative integer.";
  }
  if (body.contains("tpm_limit") && !ReadCount(body["tpm_limit"], &k->tpm_limit)) {
    return "'tpm_limit' (tokens per minute) must be a non-negative integer.";
  }
  if (body.contains("budget_limit") && !ReadDollars(body["budget_limit"], &k->budget_limit)) {
    return "'budget_limit' must be a non-negative amount in dollars, or null.";
  }
  if (body.contains("budget_period")) {
    const Json& v = body["budget_period"];
    auto p = v.is_null() ? std::optional<gov::BudgetPeriod>(gov::BudgetPeriod::kNone)
             : v.is_string() ? gov::ParseBudgetPeriod(v.get<std::string>())
                             : std::nullopt;
    if (!p) return "'budget_period' must be daily, weekly, monthly or null (never resets).";
    k->budget_period = *p;
  }
  if (body.contains("expires_at")) {
    const Json& v = body["expires_at"];
    if (v.is_null()) {
      k->expires_at = 0;
    } else {
      auto t = v.is_string() ? gov::ParseIsoTime(v.get<std::string>()) : std::nullopt;
      if (!t) return "'expires_at' must be an ISO 8601 UTC time such as 2026-12-31T23:59:59Z, or null.";
      k->expires_at = *t;
    }
  }
  return "";
}

// This month's spend per key id, from the store (after the queue is flushed).
std::unordered_map<std::string, Micros> MonthSpend(Context& ctx, bool by_user, Status* st,
                                                   std::unordered_map<std::string, gov::UsageTotals>* totals = nullptr) {
  std::unordered_map<std::string, Micros> out;
  gov::Store* store = ctx.governance.store();
  if (!store) return out;
  if (auto* rec = ctx.governance.recorder()) rec->Flush(kFlushWaitMs);
  const gov::Window w = gov::WindowOf(static_cast<int>(gov::BudgetPeriod::kMonthly), ctx.governance.clock().NowMs());
  std::vector<std::pair<std::string, gov::UsageTotals>> rows;
  *st = store->TotalsSince(by_user, w.start_ms, &rows);
  for (auto& [id, t] : rows) {
    out[id] = t.cost;
    if (totals) (*totals)[id] = t;
  }
  return out;
}

Reply NoStore() {
  return ErrorReply(501, "This gateway runs without a store (store: none): users and keys are read from the config "
                         "file only.");
}

Reply ListUsers(Context& ctx, const Request& r) {
  gov::Store* store = ctx.governance.store();
  if (!store) return NoStore();
  gov::UserQuery q;
  const std::string page = Query(r, "page"), limit = Query(r, "limit");
  if (!page.empty()) q.page = std::atoll(page.c_str());
  if (!limit.empty()) q.limit = std::atoll(limit.c_str());
  if (q.page < 1 || q.limit < 1 || q.limit > 1000) {
    return ErrorReply(400, "'page' must be 1 or more and 'limit' between 1 and 1000.");
  }
  q.search = Query(r, "search");
  std::vector<User> users;
  int64_t total = 0;
  Status st = store->ListUsers(q, &users, &total);
  if (!st.ok()) return StoreErrorReply(st, "list users");
  std::unordered_map<std::string, gov::UsageTotals> month;
  MonthSpend(ctx, true, &st, &month);
  auto table = ctx.governance.keys().table();
  std::unordered_map<std::string, int64_t> key_counts;
  for (const auto& [id, e] : table->by_id) {
    if (!e->key.user_id.empty() && e->key.revoked_at == 0) ++key_counts[e->key.user_id];
  }
  Json list = Json::array();
  for (const auto& u : users) {
    auto m = month.find(u.id);
    list.push_back(UserJson(ctx, u, key_counts[u.id], m == month.end() ? nullptr : &m->second));
  }
  const int64_t pages = (total + q.limit - 1) / q.limit;
  return JsonReply(200, {{"users", list},
                         {"pagination", {{"page", q.page}, {"limit", q.limit}, {"total", total}, {"pages", pages}}}});
}

Reply CreateUser(Context& ctx, const Request& r) {
  gov::Store* store = ctx.governance.store();
  if (!store) return NoStore();
  Json body;
  std::string error;
  if (!ParseObject(r.body, &body, &error)) return ErrorReply(400, error);
  if (auto bad = UnknownMember(body, {"email", "username", "name", "role", "budget_limit", "budget_period",
                                      "rpm_limit", "tpm_limit", "disabled"});
      !bad.empty()) {
    return ErrorReply(400, "Unknown field '" + bad + "'.");
  }
  User u;
  for (auto [name, out] : {std::pair<const char*, std::string*>{"email", &u.email},
                           {"username", &u.username},
                           {"name", &u.name},
                           {"role", &u.role}}) {
    if (!body.contains(name)) continue;
    if (!body[name].is_string() || body[name].get<std::string>().size() > 320) {
      return ErrorReply(400, std::string("'") + name + "' must be a string (at most 320 characters).");
    }
    *out = body[name].get<std::string>();
  }
  if (u.email.empty() && u.username.empty()) return ErrorReply(400, "A user needs an 'email' or a 'username'.");
  if (!u.email.empty() && u.email.find('@') == std::string::npos) return ErrorReply(400, "'email' is not an email address.");
  if (u.role != "user" && u.role != "admin") return ErrorReply(400, "'role' must be user or admin.");
  if (body.contains("budget_limit") && !ReadDollars(body["budget_limit"], &u.budget_limit)) {
    return ErrorReply(400, "'budget_limit' must be a non-negative amount in dollars, or null.");
  }
  if (body.contains("budget_period")) {
    auto p = body["budget_period"].is_string() ? gov::ParseBudgetPeriod(body["budget_period"].get<std::string>())
                                               : std::nullopt;
    if (!p || *p == gov::BudgetPeriod::kNone) return ErrorReply(400, "'budget_period' must be daily, weekly or monthly.");
    u.budget_period = *p;
  }
  if (body.contains("rpm_limit") && !ReadCount(body["rpm_limit"], &u.rpm_limit)) {
    return ErrorReply(400, "'rpm_limit' must be a non-negative integer.");
  }
  if (body.contains("tpm_limit") && !ReadCount(body["tpm_limit"], &u.tpm_limit)) {
    return ErrorReply(400, "'tpm_limit' must be a non-negative integer.");
  }
  if (body.contains("disabled")) {
    if (!body["disabled"].is_boolean()) return ErrorReply(400, "'disabled' must be true or false.");
    u.disabled = body["disabled"].get<bool>();
  }
  u.id = gov::NewId("user_");
  u.created_at = ctx.governance.clock().NowMs();
  Status st = store->CreateUser(u);
  if (!st.ok()) return StoreErrorReply(st, "create the user (email or username taken?)");
  ctx.governance.keys().Poke();
  log::Info("admin: created user ", u.id);
  return JsonReply(201, UserJson(ctx, u, 0, nullptr));
}

Reply GetUser(Context& ctx, const std::string& id) {
  gov::Store* store = ctx.governance.store();
  if (!store) return NoStore();
  User u;
  Status st = store->GetUser(id, &u);
  if (!st.ok()) return StoreErrorReply(st, "find user '" + id + "'");
  std::unordered_map<std::string, gov::UsageTotals> month;
  MonthSpend(ctx, true, &st, &month);
  auto m = month.find(u.id);
  int64_t keys = 0;
  for (const auto& [kid, e] : ctx.governance.keys().table()->by_id) keys += e->key.user_id == id && e->key.revoked_at == 0;
  return JsonReply(200, UserJson(ctx, u, keys, m == month.end() ? nullptr : &m->second));
}

Reply ListKeys(Context& ctx, const Request& r) {
  Status st;
  Json keys = KeysJson(ctx, Query(r, "user_id"), &st);
  if (!st.ok()) return StoreErrorReply(st, "list keys");
  return JsonReply(200, {{"keys", keys}});
}

Reply Usage(Context& ctx, const Request& r) {
  Status st;
  std::string bad;
  Json report = UsageJson(ctx, r, &st, &bad);
  if (!bad.empty()) return ErrorReply(400, bad);
  if (!st.ok()) return StoreErrorReply(st, "read usage");
  return JsonReply(200, report);
}

Reply StatusReply(Context& ctx) {
  auto routing = ctx.gateway.routing();
  Json j = {{"status", ctx.gateway.draining() ? "shutting_down" : "running"},
            {"version", kVersion},
            {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                                 ctx.started)
                                   .count()},
            {"providers_count", routing->providers.all().size()},
            {"models_count", routing->router.models().size()},
            {"cache_hit_rate", nullptr}};
  auto table = ctx.governance.keys().table();
  int64_t live_keys = 0;
  for (const auto& [id, e] : table->by_id) live_keys += e->key.revoked_at == 0;
  j["users_count"] = table->users.size();
  j["keys_count"] = live_keys;
  Json requests_today = nullptr;
  gov::Store* store = ctx.governance.store();
  if (store) {
    // Counting today's rows scans them (millions on a busy day): the
    // database's count is taken at most once a minute (status pages poll),
    // and this instance's records since then are added to it. Only the admin
    // thread reads and writes these.
    static int64_t cached_day_start = -1, cached_at = 0, cached_count = 0;
    static uint64_t recorded_at_count = 0;
    auto* rec = ctx.governance.recorder();
    const uint64_t recorded = rec ? rec->stats().recorded : 0;
    const int64_t now = ctx.governance.clock().NowMs();
    const int64_t day_start = gov::WindowOf(static_cast<int>(gov::BudgetPeriod::kDaily), now).start_ms;
    if (cached_day_start != day_start || now - cached_at >= kTodayRecountMs) {
      if (rec) rec->Flush(kFlushWaitMs);
      int64_t count = 0;
      if (store->CountUsageSince(day_start, &count).ok()) {
        cached_day_start = day_start;
        cached_at = now;
        cached_count = count;
        recorded_at_count = recorded;
      }
    }
    if (cached_day_start == day_start) {
      requests_today = cached_count + static_cast<int64_t>(recorded - std::min(recorded, recorded_at_count));
    }
    j["store"] = {{"kind", store->Kind()}, {"ok", ctx.governance.keys().store_ok()}};
  } else {
    j["store"] = {{"kind", "none"}, {"ok", true}};
  }
  j["requests_today"] = requests_today;
  j["limiter"] = {{"kind", ctx.governance.limiter().Kind()}, {"healthy", ctx.governance.limiter().Healthy()}};
  if (auto* rec = ctx.governance.recorder()) {
    const gov::RecorderStats s = rec->stats();
    j["usage"] = {{"recorded", s.recorded}, {"written", s.written}, {"spooled", s.spooled},
                  {"dropped", s.dropped},   {"queued", s.queued},   {"spool_bytes", s.spool_bytes},
                  {"store_ok", s.store_ok}};
  }
  const gov::GovernanceStats g = ctx.governance.stats();
  j["limits"] = {{"rate_limited", g.rate_limited}, {"over_budget", g.over_budget},
                 {"degraded_decisions", g.degraded_decisions}};
  j["config_reloads"] = ctx.gateway.reloads();
  return JsonReply(200, j);
}

}  // namespace

Json KeysJson(Context& ctx, const std::string& user_id, Status* st) {
  Json list = Json::array();
  auto table = ctx.governance.keys().table();
  std::unordered_map<std::string, Micros> month = MonthSpend(ctx, false, st);
  auto spend_of = [&](const gov::KeyEntry& e) -> Micros {
    if (e.key.budget_limit >= 0) return ctx.governance.CurrentSpend(e);
    auto it = month.find(e.key.id);
    return it == month.end() ? 0 : it->second;
  };
  // Config keys first (they cannot be changed here), then the store's.
  std::vector<std::shared_ptr<const gov::KeyEntry>> entries;
  for (const auto& [id, e] : table->by_id) entries.push_back(e);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    if (a->from_config != b->from_config) return a->from_config;
    if (a->key.created_at != b->key.created_at) return a->key.created_at < b->key.created_at;
    return a->key.id < b->key.id;
  });
  for (const auto& e : entries) {
    if (!user_id.empty() && e->key.user_id != user_id) continue;
    list.push_back(KeyJson(ctx, e->key, spend_of(*e), e->from_config));
  }
  return list;
}

Reply CreateKey(Context& ctx, const Json& body) {
  gov::Store* store = ctx.governance.store();
  if (!store) return NoStore();
  ApiKey k;
  if (std::string e = ReadKeyFields(body, &k); !e.empty()) return ErrorReply(400, e);
  if (body.contains("id")) return ErrorReply(400, "'id' is chosen by the gateway.");
  if (k.name.empty()) return ErrorReply(400, "A key needs a 'name'.");
  if (!k.user_id.empty()) {
    User owner;
    Status st = store->GetUser(k.user_id, &owner);
    if (st.kind() == Status::Kind::kNotFound) return ErrorReply(400, "No user '" + k.user_id + "'.");
    if (!st.ok()) return StoreErrorReply(st, "check the key's owner");
  }
  const std::string secret = gov::NewKeySecret(k.type);
  if (secret.empty()) return ErrorReply(500, "The gateway could not draw a random key.", "server_error");
  k.id = gov::NewId("key_");
  k.hash = gov::HexOf(gov::KeyDigest(secret));
  k.display = gov::DisplayOf(secret);
  k.created_at = ctx.governance.clock().NowMs();
  Status st = store->CreateKey(k);
  if (!st.ok()) return StoreErrorReply(st, "create the key");
  // Usable on this instance at once; on the others within key_refresh_ms.
  ctx.governance.keys().Reload();
  log::Info("admin: created key ", k.id, " (", k.display, ")");
  Json j = KeyJson(ctx, k, 0, false);
  j["key"] = secret;  // the only time it is shown
  return JsonReply(201, j);
}

Reply UpdateKey(Context& ctx, const std::string& id, const Json& body) {
  gov::Store* store = ctx.governance.store();
  if (!store) return NoStore();
  auto table = ctx.governance.keys().table();
  auto it = table->by_id.find(id);
  if (it == table->by_id.end()) {
    ctx.governance.keys().Reload();  // made on another instance a moment ago?
    table = ctx.governance.keys().table();
    it = table->by_id.find(id);
  }
  if (it == table->by_id.end()) return ErrorReply(404, "No key '" + id + "'.", "not_found_error");
  if (it->second->from_config) return ErrorReply(409, "Key '" + id + "' is written in the config file; change it there.");
  ApiKey k = it->second->key;
  if (std::string e = ReadKeyFields(body, &k); !e.empty()) return ErrorReply(400, e);
  Status st = store->UpdateKey(k);
  if (!st.ok()) return StoreErrorReply(st, "update key '" + id + "'");
  ctx.governance.keys().Reload();
  log::Info("admin: updated key ", k.id);
  return JsonReply(200, KeyJson(ctx, k, 0, false));
}

Reply RevokeKey(Context& ctx, const std::string& id) {
  gov::Store* store = ctx.governance.store();
  if (!store) return NoStore();
  if (id.starts_with("cfg_")) return ErrorReply(409, "Key '" + id + "' is written in the config file; remove it there.");
  Status st = store->RevokeKey(id, ctx.governance.clock().NowMs());
  if (!st.ok()) return StoreErrorReply(st, "revoke key '" + id + "'");
  ctx.governance.keys().Reload();
  log::Info("admin: revoked key ", id);
  return JsonReply(200, {{"id", id}, {"revoked", true}});
}

Json UsageJson(Context& ctx, const Request& r, Status* st, std::string* bad) {
  gov::UsageQuery q;
  const int64_t now = ctx.governance.clock().NowMs();
  q.start = gov::WindowOf(static_cast<int>(gov::BudgetPeriod::kMonthly), now).start_ms;
  q.end = now + 1;
  const std::string start = Query(r, "start_date"), end = Query(r, "end_date");
  if (!start.empty()) {
    auto t = gov::ParseIsoTime(start);
    if (!t) {
      *bad = "'start_date' must be an ISO 8601 date or time (2026-12-01 or 2026-12-01T00:00:00Z).";
      return nullptr;
    }
    q.start = *t;
  }
  if (!end.empty()) {
    auto t = gov::ParseIsoTime(end);
    if (!t) {
      *bad = "'end_date' must be an ISO 8601 date or time.";
      return nullptr;
    }
    // A date alone means the whole day.
    q.end = end.size() == 10 ? *t + 86400000 : *t + 1;
  }
  q.user_id = Query(r, "user_id");
  q.key_id = Query(r, "key_id");
  q.model = Query(r, "model");
  q.provider = Query(r, "provider");
  gov::Store* store = ctx.governance.store();
  if (!store) {
    *bad = "This gateway runs without a store (store: none): no usage is recorded.";
    return nullptr;
  }
  if (auto* rec = ctx.governance.recorder()) rec->Flush(kFlushWaitMs);
  gov::UsageReport report;
  *st = store->Report(q, &report);
  if (!st->ok()) return nullptr;
  auto totals = [](const gov::UsageTotals& t) {
    return Json{{"requests", t.requests},
                {"tokens", t.tokens},
                {"prompt_tokens", t.prompt_tokens},
                {"completion_tokens", t.completion_tokens},
                {"cost", Dollars(t.cost)}};
  };
  Json by_model = Json::array(), by_provider = Json::array(), daily = Json::array();
  for (const auto& [m, t] : report.by_model) {
    Json j = totals(t);
    j["model"] = m;
    by_model.push_back(j);
  }
  for (const auto& [p, t] : report.by_provider) {
    Json j = totals(t);
    j["provider"] = p;
    by_provider.push_back(j);
  }
  for (const auto& [d, t] : report.daily) {
    Json j = totals(t);
    j["date"] = d;
    daily.push_back(j);
  }
  Json summary = totals(report.summary);
  summary["unique_users"] = report.unique_users;
  return Json{{"period", {{"start", gov::IsoTime(q.start)}, {"end", gov::IsoTime(q.end - 1)}}},
              {"summary", summary},
              {"by_model", by_model},
              {"by_provider", by_provider},
              {"daily_breakdown", daily}};
}

std::optional<Reply> HandleTenancy(Context& ctx, const Request& r) {
  const std::string& p = r.path;
  const std::string& m = r.method;
  auto not_allowed = [&]() { return ErrorReply(405, "Method " + m + " is not allowed on " + p + "."); };
  if (p == "/status") return m == "GET" ? StatusReply(ctx) : not_allowed();
  if (p == "/admin/users") {
    if (m == "GET") return ListUsers(ctx, r);
    if (m == "POST") return CreateUser(ctx, r);
    return not_allowed();
  }
  if (p.starts_with("/admin/users/")) {
    const std::string id = p.substr(13);
    if (m == "GET") return GetUser(ctx, id);
    return not_allowed();
  }
  if (p == "/admin/keys") {
    if (m == "GET") return ListKeys(ctx, r);
    if (m == "POST") {
      Json body;
      std::string error;
      if (!ParseObject(r.body, &body, &error)) return ErrorReply(400, error);
      return CreateKey(ctx, body);
    }
    return not_allowed();
  }
  if (p.starts_with("/admin/keys/")) {
    const std::string id = p.substr(12);
    if (m == "DELETE") return RevokeKey(ctx, id);
    if (m == "PUT" || m == "PATCH") {
      Json body;
      std::string error;
      if (!ParseObject(r.body, &body, &error)) return ErrorReply(400, error);
      return UpdateKey(ctx, id, body);
    }
    if (m == "GET") {
      auto table = ctx.governance.keys().table();
      auto it = table->by_id.find(id);
      if (it == table->by_id.end()) return ErrorReply(404, "No key '" + id + "'.", "not_found_error");
      Status st;
      Json all = KeysJson(ctx, it->second->key.user_id, &st);
      for (const auto& k : all) {
        if (k["id"] == id) return JsonReply(200, k);
      }
      return ErrorReply(404, "No key '" + id + "'.", "not_found_error");
    }
    return not_allowed();
  }
  if (p == "/admin/usage") return m == "GET" ? Usage(ctx, r) : not_allowed();
  return std::nullopt;
}

}  // namespace sy::admin
