// The one admission chokepoint of tenancy: every request passes here.
//
//   Authenticate  (head)    key → caller, or 401 (missing, unknown, revoked,
//                           expired, owner disabled)
//   Authorize     (head)    endpoint allowed for the key, or 403
//   AuthorizeModel (body)   model allowed for the key, or 403
//   Admit         (body)    budgets (429 insufficient_quota) and rate limits
//                           (429 + Retry-After); consumes RPM and reserves TPM
//   Settle        (end)     prices the usage, charges budgets, reconciles
//                           the TPM reservation, queues the usage record
//
// Reads only memory (the key table snapshot, budget seeds) and the limiter
// (memory, or one Redis round trip). Never the database.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "common/published.h"
#include "config/config.h"
#include "core/chat.h"
#include "core/errors.h"
#include "governance/clock.h"
#include "governance/keys.h"
#include "governance/limiter.h"
#include "governance/pricing.h"
#include "governance/store.h"
#include "governance/usage_recorder.h"

namespace sy::gov {

enum class EndpointClass { kChat, kCompletions, kEmbeddings, kCountTokens, kModels, kAdmin };

// Who is calling. Holds the table snapshot its entry lives in.
struct Caller {
  std::shared_ptr<const KeyTable> table;
  const KeyEntry* entry = nullptr;  // null: auth is off, or the server's admin key
  bool admin = false;               // may use the admin API
  bool anonymous = true;            // auth is off
  std::string client_ip;            // set when anonymous: limits.ip_rpm counts per address
  const std::string& key_id() const;
  const std::string& user_id() const;
};

// One admitted call, settled exactly once (Settle), whatever its end.
struct Ticket {
  std::vector<RateRule> tpm;       // token rules with the reserved cost
  std::vector<BudgetRule> budgets; // counters charged at the end
  int64_t reserved_tokens = 0;
  // X-RateLimit-Limit / -Remaining / -Reset for the response, when a limit applies.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct GovernanceStats {
  uint64_t rate_limited = 0;
  uint64_t over_budget = 0;
  uint64_t degraded_decisions = 0;
};

class Governance {
 public:
  // store and recorder may be null (store: none / usage off). REQUIRES: each
  // outlives this object.
  Governance(const config::Config& config, Store* store, std::unique_ptr<Limiter> limiter,
             UsageRecorder* recorder, const Clock* clock);
  ~Governance();

  // Loads keys and budget seeds from the store and starts the key cache's
  // poll thread. Not OK: serving goes on with config keys only, retrying.
  Status Start();
  void Stop();

  // A reloaded config: its keys, prices, global limits, auth mode and
  // admin key apply to requests that start after the call.
  void Reconfigure(const config::Config& config);

  bool auth_required() const { return settings_.Get().auth_required; }
  std::variant<Caller, GatewayError> Authenticate(std::string_view presented_key) const;
  std::optional<GatewayError> Authorize(const Caller& caller, EndpointClass cls) const;
  std::optional<GatewayError> AuthorizeModel(const Caller& caller, std::string_view model,
                                             std::string_view provider_model) const;
  // For an inference call, est_tokens is its TPM reservation; budgets are
  // checked only when `inference`.
  std::optional<GatewayError> Admit(const Caller& caller, bool inference, int64_t est_tokens, Ticket* ticket);

  // Whether the call's usage matters to anyone: it is recorded, or a token
  // limit or a budget awaits it. When not, reading it can be skipped.
  bool NeedsUsage(const Ticket& ticket) const {
    return recorder_ != nullptr || !ticket.tpm.empty() || !ticket.budgets.empty();
  }
  // Completes `record` (key, user, cost from usage) and books it. usage:
  // the answer's usage, or null when none arrived (then estimated_output,
  // if > 0, is billed as output with usage_source "estimated").
  void Settle(const Caller& caller, Ticket& ticket, UsageRecord record, const std::optional<chat::Usage>& usage,
              int64_t estimated_output);

  // Spend of a key's or a user's current budget window (the limiter's counter).
  Micros CurrentSpend(const KeyEntry& entry) const;
  Micros CurrentUserSpend(const User& user) const;

  KeyCache& keys() { return keys_; }
  Store* store() { return store_; }              // null: store none
  // True when limits.ip_rpm counts anonymous callers per address.
  bool limits_addresses() const { return settings_.Get().ip_rpm > 0; }
  UsageRecorder* recorder() { return recorder_; }  // null: no usage records
  Limiter& limiter() { return *limiter_; }
  std::shared_ptr<const PriceBook> prices() const;
  const Clock& clock() const { return *clock_; }
  GovernanceStats stats() const;

 private:
  BudgetRule KeyBudget(const ApiKey& key, int64_t now) const;
  BudgetRule UserBudget(const User& user, int64_t now) const;
  Micros Seed(const std::string& counter) const;
  void RefreshSeeds();

  Store* store_;
  std::unique_ptr<Limiter> limiter_;
  UsageRecorder* recorder_;
  const Clock* clock_;
  KeyCache keys_;
  // What a config reload changes, swapped whole.
  struct Settings {
    PriceBook prices;
    bool auth_required = true;
    std::string admin_digest;  // SHA-256 of server.admin_key; "" = none
    int64_t global_rpm = 0, global_tpm = 0;
    int64_t ip_rpm = 0;  // per client address, when auth is off
  };
  static std::shared_ptr<const Settings> SettingsOf(const config::Config& config);
  Published<Settings> settings_;
  // Budget counter id → spend the database had for it at the last refresh.
  Published<std::unordered_map<std::string, Micros>> seeds_;
  std::atomic<int64_t> seeds_at_{0};
  std::atomic<int64_t> seeds_seq_{-1};  // the key table's change_seq the seeds were read for
  std::atomic<uint64_t> rate_limited_{0}, over_budget_{0}, degraded_{0};
};

// The price entries of a config: pricing: list, then model aliases' pricing.
std::vector<PriceEntry> PriceEntriesOf(const config::Config& config);

}  // namespace sy::gov
