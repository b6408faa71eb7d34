#include "governance/governance.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <climits>
#include <cstdio>

#include "common/log.h"

namespace sy::gov {
namespace {

const std::string kEmpty;
const std::string kAdminKeyId = "admin";
// Budget seeds are the ledger's spend per current window: a scan of this
// window's usage rows. A shared (Redis) limiter re-reads them this often, so
// a counter Redis lost comes back; a local limiter's counters are this
// process's own, so it reads them at start and when the key table changed.
constexpr int64_t kSharedSeedRefreshMs = 60000;

// "$12.50", "$0.0035": cents at least, micro-dollars at most.
std::string Dollars(Micros m) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "$%.6f", static_cast<double>(m) / 1e6);
  std::string s = buf;
  while (s.size() > 2 && s.back() == '0' && s[s.size() - 3] != '.') s.pop_back();
  return s;
}

std::string CeilSeconds(int64_t ms) { return std::to_string(std::max<int64_t>(1, (ms + 999) / 1000)); }

GatewayError Unauthorized(std::string message) { return MakeError(ErrorCode::kUnauthorized, std::move(message)); }

}  // namespace

const std::string& Caller::key_id() const {
  if (entry) return entry->key.id;
  return admin ? kAdminKeyId : kEmpty;
}

const std::string& Caller::user_id() const { return entry ? entry->key.user_id : kEmpty; }

std::vector<PriceEntry> PriceEntriesOf(const config::Config& config) {
  std::vector<PriceEntry> out;
  auto convert = [](const config::TokenPrice& p) {
    return Price{p.input, p.output, p.cached_input, p.cache_write};
  };
  for (const auto& m : config.models) {
    if (m.pricing) out.push_back({m.name, convert(*m.pricing)});
  }
  for (const auto& p : config.pricing) out.push_back({p.model, convert(p.price)});
  return out;
}

Governance::Governance(const config::Config& config, Store* store, std::unique_ptr<Limiter> limiter,
                       UsageRecorder* recorder, const Clock* clock)
    : store_(store),
      limiter_(std::move(limiter)),
      recorder_(recorder),
      clock_(clock),
      keys_(store, config.keys, static_cast<int>(config.usage.key_refresh_ms)),
      settings_(SettingsOf(config)),
      seeds_(std::make_shared<const std::unordered_map<std::string, Micros>>()) {}

std::shared_ptr<const Governance::Settings> Governance::SettingsOf(const config::Config& config) {
  auto s = std::make_shared<Settings>();
  s->prices = PriceBook(PriceEntriesOf(config));
  s->auth_required = config.server.auth == config::AuthMode::kKeys;
  s->admin_digest = config.server.admin_key.empty() ? "" : KeyDigest(config.server.admin_key);
  s->global_rpm = static_cast<int64_t>(config.limits.rpm);
  s->ip_rpm = static_cast<int64_t>(config.limits.ip_rpm);
  s->global_tpm = static_cast<int64_t>(config.limits.tpm);
  return s;
}

std::shared_ptr<const PriceBook> Governance::prices() const {
  auto s = settings_.Load();
  return std::shared_ptr<const PriceBook>(s, &s->prices);
}

void Governance::Reconfigure(const config::Config& config) {
  settings_.Store(SettingsOf(config));
  keys_.SetConfigKeys(config.keys);
}

Governance::~Governance() { Stop(); }

Status Governance::Start() {
  Status st = keys_.Reload();
  if (st.ok()) RefreshSeeds();
  const bool shared = limiter_->Kind() != "local";
  keys_.set_on_reload([this, shared] {
    const int64_t seq = keys_.table()->change_seq;
    const bool changed = seq != seeds_seq_.load();
    if (changed || (shared && clock_->NowMs() - seeds_at_.load() >= kSharedSeedRefreshMs)) RefreshSeeds();
  });
  keys_.Start();
  return st;
}

void Governance::Stop() { keys_.Stop(); }

std::variant<Caller, GatewayError> Governance::Authenticate(std::string_view presented) const {
  const Settings& settings = settings_.Get();
  const bool auth_required = settings.auth_required;
  const std::string& admin_digest = settings.admin_digest;
  Caller caller;
  caller.anonymous = !auth_required;
  // One digest serves both the admin key comparison and the table lookup.
  unsigned char md[32];
  const bool hashed = !presented.empty() && KeyDigestInto(presented, md);
  const std::string_view digest = hashed ? std::string_view(reinterpret_cast<const char*>(md), sizeof md)
                                         : std::string_view();
  if (hashed && !admin_digest.empty()) {
    // Both sides are digests of equal length: the comparison leaks nothing of the key.
    if (digest.size() == admin_digest.size() &&
        CRYPTO_memcmp(digest.data(), admin_digest.data(), digest.size()) == 0) {
      caller.admin = true;
      caller.anonymous = false;
      return caller;
    }
  }
  if (!auth_required) return caller;
  if (presented.empty()) {
    return Unauthorized(
        "Missing API key. Send it as 'Authorization: Bearer KEY', 'x-api-key: KEY' or 'x-goog-api-key: KEY'.");
  }
  caller.table = keys_.table();
  auto it = digest.empty() ? caller.table->by_digest.end() : caller.table->by_digest.find(digest);
  if (it == caller.table->by_digest.end()) {
    // A gateway key whose checksum fails was mistyped or forged: say so (the
    // lookup is cheaper than the checksum, so it comes first).
    if (HasBadChecksum(presented)) return Unauthorized("Incorrect API key provided (its checksum does not match).");
    return Unauthorized("Incorrect API key provided.");
  }
  const KeyEntry& e = *it->second;
  const int64_t now = clock_->NowMs();
  if (e.key.revoked_at != 0 && e.key.revoked_at <= now) return Unauthorized("This API key has been revoked.");
  if (e.key.expires_at != 0 && e.key.expires_at <= now) return Unauthorized("This API key has expired.");
  if (e.user && e.user->disabled) return Unauthorized("The owner of this API key is disabled.");
  caller.entry = &e;
  caller.admin = e.key.type == KeyType::kAdmin;
  return caller;
}

std::optional<GatewayError> Governance::Authorize(const Caller& caller, EndpointClass cls) const {
  if (cls == EndpointClass::kAdmin) {
    if (caller.admin) return std::nullopt;
    return MakeError(ErrorCode::kForbidden, "This endpoint needs an admin key.");
  }
  if (!caller.entry) return std::nullopt;
  const Permissions& p = caller.entry->key.permissions;
  bool allowed = true;
  std::string_view what;
  switch (cls) {
    case EndpointClass::kChat:
    case EndpointClass::kCountTokens:
      allowed = p.chat_completions;
      what = "chat";
      break;
    case EndpointClass::kCompletions:
      allowed = p.completions;
      what = "completions";
      break;
    case EndpointClass::kEmbeddings:
      allowed = p.embeddings;
      what = "embeddings";
      break;
    case EndpointClass::kModels:
      allowed = p.models;
      what = "model listing";
      break;
    case EndpointClass::kAdmin: break;
  }
  if (allowed) return std::nullopt;
  return MakeError(ErrorCode::kForbidden, "This API key is not allowed to use " + std::string(what) + " endpoints.");
}

std::optional<GatewayError> Governance::AuthorizeModel(const Caller& caller, std::string_view model,
                                                       std::string_view provider_model) const {
  if (!caller.entry) return std::nullopt;
  const auto& patterns = caller.entry->key.permissions.model_patterns;
  if (patterns.empty()) return std::nullopt;
  for (const auto& pattern : patterns) {
    if (ModelMatches(pattern, model) || (!provider_model.empty() && ModelMatches(pattern, provider_model))) {
      return std::nullopt;
    }
  }
  GatewayError e = MakeError(ErrorCode::kForbidden,
                             "This API key is not allowed to use model '" + std::string(model.substr(0, 200)) + "'.");
  e.param = "model";
  return e;
}

Micros Governance::Seed(const std::string& counter) const {
  const auto& seeds = seeds_.Get();
  auto it = seeds.find(counter);
  return it == seeds.end() ? 0 : it->second;
}

namespace {

// WindowOf, remembered per thread for the current day (its id is text: the
// per-request cost would be a formatted date).
const Window& CachedWindow(BudgetPeriod period, int64_t now) {
  struct Slot {
    int64_t day = INT64_MIN;
    Window window;
  };
  thread_local Slot slots[4];
  Slot& s = slots[static_cast<int>(period) & 3];
  const int64_t day = now >= 0 ? now / 86400000 : -1 - (-1 - now) / 86400000;
  if (s.day != day) {
    s.window = WindowOf(static_cast<int>(period), now);
    s.day = day;
  }
  return s.window;
}

std::string CounterId(std::string_view prefix, const std::string& id, const std::string& window) {
  std::string out;
  out.reserve(prefix.size() + id.size() + 1 + window.size());
  out.append(prefix).append(id).append(":").append(window);
  return out;
}

}  // namespace

BudgetRule Governance::KeyBudget(const ApiKey& key, int64_t now) const {
  const Window& w = CachedWindow(key.budget_period, now);
  BudgetRule r;
  r.id = CounterId("bk:", key.id, w.id);
  r.limit = key.budget_limit;
  r.seed = Seed(r.id);
  r.window_end_ms = w.end_ms;
  return r;
}

BudgetRule Governance::UserBudget(const User& user, int64_t now) const {
  const Window& w = CachedWindow(user.budget_period, now);
  BudgetRule r;
  r.id = CounterId("bu:", user.id, w.id);
  r.limit = user.budget_limit;
  r.seed = Seed(r.id);
  r.window_end_ms = w.end_ms;
  return r;
}

void Governance::RefreshSeeds() {
  if (!store_) return;
  const int64_t now = clock_->NowMs();
  auto table = keys_.table();
  auto seeds = std::make_shared<std::unordered_map<std::string, Micros>>();
  for (int period = 0; period <= static_cast<int>(BudgetPeriod::kMonthly); ++period) {
    bool keys_use = false, users_use = false;
    for (const auto& [id, e] : table->by_id) {
      keys_use |= e->key.budget_limit >= 0 && static_cast<int>(e->key.budget_period) == period && !e->from_config;
    }
    for (const auto& [id, u] : table->users) {
      users_use |= u->budget_limit >= 0 && static_cast<int>(u->budget_period) == period;
    }
    const Window w = WindowOf(period, now);
    std::vector<std::pair<std::string, UsageTotals>> rows;
    if (keys_use && store_->TotalsSince(false, w.start_ms, &rows).ok()) {
      for (const auto& [id, t] : rows) (*seeds)["bk:" + id + ":" + w.id] = t.cost;
    }
    rows.clear();
    if (users_use && store_->TotalsSince(true, w.start_ms, &rows).ok()) {
      for (const auto& [id, t] : rows) (*seeds)["bu:" + id + ":" + w.id] = t.cost;
    }
  }
  // Config keys have ids too ("cfg_NAME"): their spend is in the store as well.
  for (int period = 0; period <= static_cast<int>(BudgetPeriod::kMonthly); ++period) {
    bool used = false;
    for (const auto& [id, e] : table->by_id) {
      used |= e->from_config && e->key.budget_limit >= 0 && static_cast<int>(e->key.budget_period) == period;
    }
    if (!used) continue;
    const Window w = WindowOf(period, now);
    std::vector<std::pair<std::string, UsageTotals>> rows;
    if (store_->TotalsSince(false, w.start_ms, &rows).ok()) {
      for (const auto& [id, t] : rows) (*seeds)["bk:" + id + ":" + w.id] = t.cost;
    }
  }
  seeds_.Store(std::move(seeds));
  seeds_at_.store(now);
  seeds_seq_.store(table->change_seq);
}

std::optional<GatewayError> Governance::Admit(const Caller& caller, bool inference, int64_t est_tokens,
                                              Ticket* ticket) {
  const int64_t now = clock_->NowMs();
  // Per-thread scratch: the rules' strings keep their capacity from one
  // request to the next, so admission allocates nothing for them.
  thread_local std::vector<RateRule> scratch;
  thread_local std::vector<std::string_view> names;  // what each rule is, for messages
  size_t n = 0;
  names.clear();
  std::vector<BudgetRule> budgets;
  if (inference) budgets.reserve(2);
  const KeyEntry* entry = caller.entry;
  const ApiKey* key = entry ? &entry->key : nullptr;
  const User* user = entry && entry->user ? entry->user.get() : nullptr;
  auto add_rate = [&](std::string_view id, int64_t limit, int64_t cost, std::string_view name) {
    if (limit <= 0) return;
    if (scratch.size() <= n) scratch.emplace_back();
    RateRule& r = scratch[n++];
    r.id.assign(id);
    r.limit = limit;
    r.period_ms = 60000;
    r.cost = cost;
    names.push_back(name);
  };
  const int64_t tokens = std::max<int64_t>(0, est_tokens);
  if (key) {
    add_rate(entry->rpm_id, key->rpm_limit, 1, "requests per minute on this API key");
    if (inference) add_rate(entry->tpm_id, key->tpm_limit, tokens, "tokens per minute on this API key");
  }
  if (user) {
    add_rate(entry->user_rpm_id, user->rpm_limit, 1, "requests per minute for this user");
    if (inference) add_rate(entry->user_tpm_id, user->tpm_limit, tokens, "tokens per minute for this user");
  }
  const Settings& settings = settings_.Get();
  thread_local std::string ip_id;
  if (caller.anonymous && !caller.client_ip.empty() && settings.ip_rpm > 0) {
    ip_id.assign("ip:").append(caller.client_ip).append(":rpm");
    add_rate(ip_id, settings.ip_rpm, 1, "requests per minute from this address");
  }
  add_rate("g:rpm", settings.global_rpm, 1, "requests per minute on this gateway");
  if (inference) add_rate("g:tpm", settings.global_tpm, tokens, "tokens per minute on this gateway");
  if (inference && key && key->budget_limit >= 0) budgets.push_back(KeyBudget(*key, now));
  if (inference && user && user->budget_limit >= 0) budgets.push_back(UserBudget(*user, now));
  if (n == 0 && budgets.empty()) return std::nullopt;
  const std::span<const RateRule> rates(scratch.data(), n);

  Verdict v = limiter_->Admit(rates, budgets, now);
  if (v.degraded) degraded_.fetch_add(1, std::memory_order_relaxed);

  // X-RateLimit-*: the request-count rule nearest its limit (else a token rule).
  int shown = -1;
  for (size_t i = 0; i < rates.size() && i < v.rates.size(); ++i) {
    const bool requests = rates[i].id.ends_with(":rpm");
    const bool shown_requests = shown >= 0 && rates[shown].id.ends_with(":rpm");
    if (shown < 0 || (requests && !shown_requests) ||
        (requests == shown_requests && v.rates[i].remaining < v.rates[shown].remaining)) {
      shown = static_cast<int>(i);
    }
  }
  if (v.denied_rate >= 0) shown = v.denied_rate;
  if (shown >= 0) {
    const RateState& s = v.rates[shown];
    ticket->headers.emplace_back("X-RateLimit-Limit", std::to_string(s.limit));
    ticket->headers.emplace_back("X-RateLimit-Remaining", std::to_string(std::max<int64_t>(0, s.remaining)));
    ticket->headers.emplace_back("X-RateLimit-Reset", std::to_string((now + s.reset_ms + 999) / 1000));
  }

  if (v.denied_budget >= 0) {
    over_budget_.fetch_add(1, std::memory_order_relaxed);
    const BudgetRule& b = budgets[v.denied_budget];
    const bool of_user = b.id.starts_with("bu:");
    const Micros spent = v.denied_budget < static_cast<int>(v.spent.size()) ? v.spent[v.denied_budget] : b.limit;
    std::string msg = std::string(of_user ? "The owner of this API key has" : "This API key has") +
                      " used its budget (" + Dollars(spent) + " of " + Dollars(b.limit) + ")";
    msg += b.window_end_ms ? "; it resets at " + IsoTime(b.window_end_ms) + "." : "; it does not reset.";
    GatewayError e = MakeError(ErrorCode::kInsufficientQuota, std::move(msg));
    if (b.window_end_ms) e.retry_after = CeilSeconds(b.window_end_ms - now);
    return e;
  }
  if (v.denied_rate >= 0) {
    rate_limited_.fetch_add(1, std::memory_order_relaxed);
    const RateRule& r = rates[v.denied_rate];
    std::string msg = "Rate limit reached for " + std::string(names[v.denied_rate]) + " (limit " +
                      std::to_string(r.limit) + "). Retry after " + CeilSeconds(v.retry_after_ms) + " s.";
    if (r.cost > r.limit) msg = "This request's estimated " + std::to_string(r.cost) + " tokens exceed the limit of " +
                                std::to_string(r.limit) + " " + std::string(names[v.denied_rate]) + ".";
    GatewayError e = MakeError(ErrorCode::kRateLimited, std::move(msg));
    e.retry_after = CeilSeconds(v.retry_after_ms);
    ticket->headers.emplace_back("X-RateLimit-Retry-After", *e.retry_after);
    return e;
  }
  for (const auto& r : rates) {
    if (!r.id.ends_with(":tpm")) continue;
    if (ticket->tpm.empty()) ticket->tpm.reserve(3);
    ticket->tpm.push_back(r);
  }
  ticket->budgets = std::move(budgets);
  ticket->reserved_tokens = tokens;
  return std::nullopt;
}

void Governance::Settle(const Caller& caller, Ticket& ticket, UsageRecord record,
                        const std::optional<chat::Usage>& usage, int64_t estimated_output) {
  if (!NeedsUsage(ticket)) return;  // nothing records it, no counter awaits it
  record.key_id = caller.key_id();
  record.user_id = caller.user_id();
  chat::Usage billed;
  if (usage) {
    billed = *usage;
    record.usage_source = "provider";
  } else if (estimated_output > 0) {
    billed.input_tokens = ticket.reserved_tokens;
    billed.output_tokens = estimated_output;
    record.usage_source = "estimated";
  } else {
    record.usage_source = "none";
  }
  record.prompt_tokens = billed.input_tokens;
  record.completion_tokens = billed.output_tokens;
  record.cached_tokens = billed.cached_input_tokens;
  record.reasoning_tokens = billed.reasoning_tokens;
  if (record.usage_source != "none") {
    if (auto price = settings_.Get().prices.Find(record.model, record.provider, record.upstream_model)) {
      record.cost = CostOf(billed, *price);
    }
  }
  if (record.cost > 0 && !ticket.budgets.empty()) limiter_->Charge(ticket.budgets, record.cost);
  if (!ticket.tpm.empty()) {
    // Reconcile the reservation with what was used (a refund when less).
    const int64_t used = record.usage_source == "none" && record.error.empty() ? ticket.reserved_tokens
                                                                              : billed.total();
    const int64_t delta = used - ticket.reserved_tokens;
    if (delta != 0) {
      for (auto& r : ticket.tpm) r.cost = delta;
      limiter_->Adjust(ticket.tpm, clock_->NowMs());
    }
    ticket.tpm.clear();
  }
  ticket.budgets.clear();
  if (recorder_) recorder_->Record(std::move(record));
}

Micros Governance::CurrentSpend(const KeyEntry& entry) const {
  if (entry.key.budget_limit < 0) {
    // No budget: this month's spend, as far as the limiter has counted it.
    ApiKey k = entry.key;
    k.budget_period = BudgetPeriod::kMonthly;
    const BudgetRule r = KeyBudget(k, clock_->NowMs());
    return limiter_->Spent(std::span<const BudgetRule>(&r, 1)).at(0);
  }
  const BudgetRule r = KeyBudget(entry.key, clock_->NowMs());
  return limiter_->Spent(std::span<const BudgetRule>(&r, 1)).at(0);
}

Micros Governance::CurrentUserSpend(const User& user) const {
  const BudgetRule r = UserBudget(user, clock_->NowMs());
  return limiter_->Spent(std::span<const BudgetRule>(&r, 1)).at(0);
}

GovernanceStats Governance::stats() const {
  return GovernanceStats{rate_limited_.load(), over_budget_.load(), degraded_.load()};
}

}  // namespace sy::gov
