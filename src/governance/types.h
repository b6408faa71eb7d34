// Tenancy records: users, API keys, usage rows, and the queries over them;
// and the chat sessions of local models.
// Plain values shared by the store, the key cache, the limiter and the admin
// API. Money is always integer micro-dollars (1 USD = 1'000'000), never a
// float; times are unix milliseconds (UTC) unless a name says otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sy::gov {

using Micros = int64_t;  // US dollars * 1e6
inline constexpr Micros kNoBudget = -1;

enum class KeyType { kUser, kAdmin, kService };
enum class BudgetPeriod { kNone, kDaily, kWeekly, kMonthly };  // calendar windows, UTC

// "user" / "admin" / "service"; and back (nullopt for anything else).
const char* KeyTypeName(KeyType t);
std::optional<KeyType> ParseKeyType(const std::string& s);
// "" (none) / "daily" / "weekly" / "monthly"; and back.
const char* BudgetPeriodName(BudgetPeriod p);
std::optional<BudgetPeriod> ParseBudgetPeriod(const std::string& s);

struct User {
  std::string id;        // "user_" + 16 hex; minted by the gateway
  std::string email;     // unique when not empty
  std::string username;  // unique when not empty
  std::string name;
  std::string role = "user";          // "user" or "admin"
  Micros budget_limit = kNoBudget;    // per budget_period; kNoBudget = none
  BudgetPeriod budget_period = BudgetPeriod::kMonthly;
  int64_t rpm_limit = 0;              // requests per minute over all the user's keys; 0 = none
  int64_t tpm_limit = 0;              // tokens per minute over all the user's keys; 0 = none
  int64_t created_at = 0;             // ms
  int64_t last_login = 0;             // ms; last request by any of the user's keys; 0 = never
  bool disabled = false;              // every key of a disabled user gets 401
};

// Which endpoints and models a key may use. Model patterns: exact names, or
// with '*' wildcards ("gpt-4*", "openai/*"); empty = every model.
struct Permissions {
  bool chat_completions = true;  // chat: /v1/chat/completions, /v1/messages, /v1/responses, Gemini generate, Ollama chat/generate
  bool completions = true;       // /v1/completions
  bool embeddings = true;        // every embeddings endpoint
  bool models = true;            // listing and showing models
  std::vector<std::string> model_patterns;  // empty = all
};

struct ApiKey {
  std::string id;          // "key_" + 16 hex; stable across rotations; budgets and usage refer to it
  std::string hash;        // lowercase hex SHA-256 of the secret; the secret itself is never stored
  std::string display;     // non-secret handle: prefix + "..." + last 4 ("sy-u-AbCd...wxyz")
  std::string name;
  std::string user_id;     // owner; "" = none
  KeyType type = KeyType::kUser;
  Permissions permissions;
  int64_t rpm_limit = 0;   // requests per minute; 0 = none ("rate_limit" in the admin API)
  int64_t tpm_limit = 0;   // tokens per minute; 0 = none
  Micros budget_limit = kNoBudget;
  BudgetPeriod budget_period = BudgetPeriod::kNone;  // kNone with a budget = lifetime budget
  int64_t expires_at = 0;  // ms; 0 = never
  int64_t revoked_at = 0;  // ms; 0 = live
  int64_t created_at = 0;  // ms
  int64_t last_used = 0;   // ms; 0 = never (updated in batches, not per request)
  int64_t change_seq = 0;  // store's sequence number of the last change to this row
};

// One request as billed. request_id is the primary key: writing the same
// record twice (spool replay) stores it once.
struct UsageRecord {
  std::string request_id;
  int64_t ts = 0;                 // ms, when the request arrived
  std::string key_id;             // "" when auth is off
  std::string user_id;
  std::string provider;
  std::string model;              // as the client named it
  std::string upstream_model;
  std::string endpoint;           // "chat.completions", "messages", "generateContent", ...
  int status = 0;                 // HTTP status sent to the client (0: client left before any)
  int64_t latency_ms = 0;
  int64_t ttft_ms = -1;           // time to first byte of the answer; -1 = none
  int64_t prompt_tokens = 0;      // all input, cached included
  int64_t completion_tokens = 0;  // all output, reasoning included
  int64_t cached_tokens = 0;      // input read from cache (part of prompt_tokens)
  int64_t reasoning_tokens = 0;   // part of completion_tokens
  Micros cost = 0;
  std::string usage_source;       // "provider", "estimated", or "none"
  std::string error;              // error code name; "" on success
};

struct UserQuery {
  int64_t page = 1;     // 1-based
  int64_t limit = 20;   // rows per page (1..1000)
  std::string search;   // substring of email, username or name; "" = all
};

struct UsageQuery {
  int64_t start = 0;    // ms, inclusive; 0 = since ever
  int64_t end = 0;      // ms, exclusive; 0 = until now
  std::string user_id, key_id, model, provider;  // "" = any
};

struct UsageTotals {
  int64_t requests = 0;
  int64_t tokens = 0;   // prompt + completion
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  Micros cost = 0;
};

struct UsageReport {
  UsageTotals summary;
  int64_t unique_users = 0;
  std::vector<std::pair<std::string, UsageTotals>> by_model;     // by model as named by the client, most cost first
  std::vector<std::pair<std::string, UsageTotals>> by_provider;  // most cost first
  std::vector<std::pair<std::string, UsageTotals>> daily;        // "YYYY-MM-DD" (UTC), ascending
};

// A conversation with a local model (local/session_book.h keeps them in
// memory; the store keeps them across restarts).
struct ChatMessage {
  std::string role;     // "system", "user" or "assistant"
  std::string content;  // UTF-8 without NUL (PostgreSQL text cannot hold one)
};

struct ChatSession {
  std::string id;          // chosen by the client: 1..128 of [A-Za-z0-9._:-]
  int64_t created_ms = 0;
  int64_t updated_ms = 0;  // last change
  std::vector<ChatMessage> messages;  // in order; a system message only first
};

// Spend per entity since an instant: what seeds budget counters at start.
struct SpendRow {
  std::string id;  // key id or user id
  Micros cost = 0;
};

}  // namespace sy::gov
