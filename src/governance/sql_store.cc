#include "governance/sql_store.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <climits>
#include <map>
#include <unordered_set>

#include "common/json_writer.h"

namespace sy::gov::sql {

namespace {

// ---- columns and row codecs (the order of each list is the codecs' order)

constexpr const char* kUserColumns =
    "id, COALESCE(email, ''), COALESCE(username, ''), name, role, budget_limit, budget_period, rpm_limit, "
    "tpm_limit, created_at, last_login, disabled";

constexpr const char* kKeyColumns =
    "id, hash, display, name, user_id, type, allow_chat, allow_completions, allow_embeddings, allow_models, "
    "model_patterns, rpm_limit, tpm_limit, budget_limit, budget_period, expires_at, revoked_at, created_at, "
    "last_used, change_seq";

constexpr const char* kUsageColumns =
    "request_id, ts, key_id, user_id, provider, model, upstream_model, endpoint, status, latency_ms, ttft_ms, "
    "prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost, usage_source, error";
constexpr size_t kUsageColumnCount = 18;

// Totals over a group: requests, prompt, completion, cost.
constexpr const char* kTotalsColumns =
    "COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(cost), 0)";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// model_patterns is stored as a JSON array of strings.
std::string EncodePatterns(const std::vector<std::string>& patterns) {
  std::string out = "[";
  for (size_t i = 0; i < patterns.size(); ++i) {
    if (i > 0) out.push_back(',');
    json::AppendString(&out, patterns[i]);
  }
  out.push_back(']');
  return out;
}

bool DecodePatterns(const std::string& text, std::vector<std::string>* out) {
  out->clear();
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) return false;
  simdjson::dom::array array;
  if (doc.get_array().get(array) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element e : array) {
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) return false;
    out->emplace_back(s);
  }
  return true;
}

Status Corrupt(std::string_view table, const std::string& id, std::string_view what) {
  return Status::Unavailable("corrupt " + std::string(table) + " row " + json::Quote(id) + ": " + std::string(what));
}

Status ReadUser(const Row& r, User* u) {
  u->id = r.Text(0);
  u->email = r.Text(1);
  u->username = r.Text(2);
  u->name = r.Text(3);
  u->role = r.Text(4);
  u->budget_limit = r.Int(5);
  auto period = ParseBudgetPeriod(r.Text(6));
  if (!period) return Corrupt("users", u->id, "budget_period");
  u->budget_period = *period;
  u->rpm_limit = r.Int(7);
  u->tpm_limit = r.Int(8);
  u->created_at = r.Int(9);
  u->last_login = r.Int(10);
  u->disabled = r.Int(11) != 0;
  return Status::Ok();
}

Status ReadKey(const Row& r, ApiKey* k) {
  k->id = r.Text(0);
  k->hash = r.Text(1);
  k->display = r.Text(2);
  k->name = r.Text(3);
  k->user_id = r.Text(4);
  auto type = ParseKeyType(r.Text(5));
  if (!type) return Corrupt("api_keys", k->id, "type");
  k->type = *type;
  k->permissions.chat_completions = r.Int(6) != 0;
  k->permissions.completions = r.Int(7) != 0;
  k->permissions.embeddings = r.Int(8) != 0;
  k->permissions.models = r.Int(9) != 0;
  // A pattern list that cannot be read must not widen to "every model".
  if (!DecodePatterns(r.Text(10), &k->permissions.model_patterns)) return Corrupt("api_keys", k->id, "model_patterns");
  k->rpm_limit = r.Int(11);
  k->tpm_limit = r.Int(12);
  k->budget_limit = r.Int(13);
  auto period = ParseBudgetPeriod(r.Text(14));
  if (!period) return Corrupt("api_keys", k->id, "budget_period");
  k->budget_period = *period;
  k->expires_at = r.Int(15);
  k->revoked_at = r.Int(16);
  k->created_at = r.Int(17);
  k->last_used = r.Int(18);
  k->change_seq = r.Int(19);
  return Status::Ok();
}

void ReadUsage(const Row& r, UsageRecord* u) {
  u->request_id = r.Text(0);
  u->ts = r.Int(1);
  u->key_id = r.Text(2);
  u->user_id = r.Text(3);
  u->provider = r.Text(4);
  u->model = r.Text(5);
  u->upstream_model = r.Text(6);
  u->endpoint = r.Text(7);
  u->status = static_cast<int>(r.Int(8));
  u->latency_ms = r.Int(9);
  u->ttft_ms = r.Int(10);
  u->prompt_tokens = r.Int(11);
  u->completion_tokens = r.Int(12);
  u->cached_tokens = r.Int(13);
  u->reasoning_tokens = r.Int(14);
  u->cost = r.Int(15);
  u->usage_source = r.Text(16);
  u->error = r.Text(17);
}

void AddUsageParams(const UsageRecord& u, Params* p) {
  // Views: the rows outlive the statement.
  p->TextView(u.request_id).Int(u.ts).TextView(u.key_id).TextView(u.user_id).TextView(u.provider).TextView(u.model);
  p->TextView(u.upstream_model).TextView(u.endpoint).Int(u.status).Int(u.latency_ms).Int(u.ttft_ms);
  p->Int(u.prompt_tokens).Int(u.completion_tokens).Int(u.cached_tokens).Int(u.reasoning_tokens).Int(u.cost);
  p->TextView(u.usage_source).TextView(u.error);
}

UsageTotals ReadTotals(const Row& r, int first) {
  UsageTotals t;
  t.requests = r.Int(first);
  t.prompt_tokens = r.Int(first + 1);
  t.completion_tokens = r.Int(first + 2);
  t.tokens = t.prompt_tokens + t.completion_tokens;
  t.cost = r.Int(first + 3);
  return t;
}

// "$n" for the next parameter of p.
std::string Next(const Params& p) { return "$" + std::to_string(p.size() + 1); }

// " WHERE ..." over the query's filters ("" when none); appends the values to *p.
std::string UsageWhere(const UsageQuery& q, Params* p) {
  std::string where;
  auto add = [&](const char* condition) {
    where += where.empty() ? " WHERE " : " AND ";
    where += condition;
    where += Next(*p);
  };
  if (q.start > 0) {
    add("ts >= ");
    p->Int(q.start);
  }
  if (q.end > 0) {
    add("ts < ");
    p->Int(q.end);
  }
  const std::pair<const char*, const std::string*> texts[] = {
      {"user_id = ", &q.user_id}, {"key_id = ", &q.key_id}, {"model = ", &q.model}, {"provider = ", &q.provider}};
  for (const auto& [condition, value] : texts) {
    if (value->empty()) continue;
    add(condition);
    p->Text(*value);
  }
  return where;
}

// Most cost first; ties by requests, then name, so every engine orders alike.
void SortByCost(std::vector<std::pair<std::string, UsageTotals>>* v) {
  std::sort(v->begin(), v->end(), [](const auto& a, const auto& b) {
    if (a.second.cost != b.second.cost) return a.second.cost > b.second.cost;
    if (a.second.requests != b.second.requests) return a.second.requests > b.second.requests;
    return a.first < b.first;
  });
}

// Moves the store-wide change sequence on; *seq gets the new value.
Status BumpSeq(Conn& c, int64_t* seq) {
  bool found = false;
  Status s = c.Exec("UPDATE meta SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq", Params(),
                    [&](const Row& r) {
                      *seq = r.Int(0);
                      found = true;
                      return Status::Ok();
                    });
  if (s.ok() && !found) return Status::Unavailable("store schema is missing its meta row (not migrated?)");
  return s;
}

Status CheckUser(const User& u) {
  if (u.id.empty()) return Status::Invalid("user id is empty");
  return Status::Ok();
}

Status CheckKey(const ApiKey& k) {
  if (k.id.empty()) return Status::Invalid("key id is empty");
  if (k.hash.empty()) return Status::Invalid("key hash is empty");
  return Status::Ok();
}

}  // namespace

Status ConflictStatus(std::string_view what) {
  struct Name {
    const char* needle;
    const char* message;
  };
  // Longest needles first: "api_keys_hash" must not be read as a users field.
  static constexpr Name kNames[] = {
      {"api_keys_hash", "key hash is taken"}, {"api_keys.hash", "key hash is taken"},
      {"api_keys_pkey", "key id is taken"},   {"api_keys.id", "key id is taken"},
      {"users_email", "email is taken"},      {"users_username", "username is taken"},
      {"users_pkey", "user id is taken"},     {"users.id", "user id is taken"},
  };
  for (const auto& n : kNames) {
    if (what.find(n.needle) != std::string_view::npos) return Status::Conflict(n.message);
  }
  return Status::Conflict("conflict: " + std::string(what));
}

std::string DayName(int64_t day) {
  // Howard Hinnant's civil_from_days.
  int64_t z = day + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[64];
  snprintf(buf, sizeof buf, "%04lld-%02d-%02d", static_cast<long long>(y), static_cast<int>(m), static_cast<int>(d));
  return buf;
}

// ---- transactions and migrations

Status SqlStore::Txn(bool write, const std::function<Status(Conn&)>& fn) {
  return WithConn(write, [&](Conn& c) {
    Status s = c.Exec(write ? dialect().begin_write : dialect().begin_read, Params());
    if (!s.ok()) return s;
    s = fn(c);
    if (s.ok()) s = c.Exec("COMMIT", Params());
    if (!s.ok()) c.Exec("ROLLBACK", Params());  // best effort; WithConn cleans up after a failure
    return s;
  });
}

Status SqlStore::Migrate() {
  return WithConn(true, [&](Conn& c) {
    Status s = LockMigrations(c);
    if (!s.ok()) return s;
    s = MigrateLocked(c);
    UnlockMigrations(c);
    return s;
  });
}

Status SqlStore::MigrateLocked(Conn& c) {
  Status s =
      c.Script("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)");
  if (!s.ok()) return s;
  const auto list = migrations();
  const int64_t newest = list.empty() ? 0 : list.back().version;
  for (const Migration& m : list) {
    // The version check runs inside the write transaction: with SQLite's
    // BEGIN IMMEDIATE that alone keeps two processes from both applying it.
    s = c.Exec(dialect().begin_write, Params());
    if (!s.ok()) return s;
    int64_t current = 0;
    s = c.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", Params(), [&](const Row& r) {
      current = r.Int(0);
      return Status::Ok();
    });
    if (s.ok() && current > newest) {
      s = Status::Invalid("the database's schema version " + std::to_string(current) + " is newer than this build's " +
                          std::to_string(newest));
    }
    if (s.ok() && current < m.version) {
      s = c.Script(m.sql);
      if (s.ok()) {
        s = c.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                   Params().Int(m.version).Int(NowMs()));
      }
      if (!s.ok() && s.kind() != Status::Kind::kUnavailable) {
        s = Status::Unavailable("migration " + std::to_string(m.version) + ": " + s.message());
      }
    }
    if (s.ok()) s = c.Exec("COMMIT", Params());
    if (!s.ok()) {
      c.Exec("ROLLBACK", Params());
      return s;
    }
  }
  return Status::Ok();
}

// ---- users

Status SqlStore::CreateUser(const User& u) {
  if (Status s = CheckUser(u); !s.ok()) return s;
  return Txn(true, [&](Conn& c) {
    int64_t seq = 0;
    Status s = BumpSeq(c, &seq);
    if (!s.ok()) return s;
    return c.Exec(
        "INSERT INTO users (id, email, username, name, role, budget_limit, budget_period, rpm_limit, tpm_limit, "
        "created_at, last_login, disabled, change_seq) "
        "VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        Params()
            .Text(u.id)
            .Text(u.email)
            .Text(u.username)
            .Text(u.name)
            .Text(u.role)
            .Int(u.budget_limit)
            .Text(BudgetPeriodName(u.budget_period))
            .Int(u.rpm_limit)
            .Int(u.tpm_limit)
            .Int(u.created_at)
            .Int(u.last_login)
            .Int(u.disabled ? 1 : 0)
            .Int(seq));
  });
}

Status SqlStore::GetUser(const std::string& id, User* out) {
  return WithConn(false, [&](Conn& c) {
    bool found = false;
    Status s = c.Exec(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = $1", Params().Text(id),
                      [&](const Row& r) {
                        found = true;
                        return ReadUser(r, out);
                      });
    if (s.ok() && !found) return Status::NotFound("no user " + json::Quote(id));
    return s;
  });
}

Status SqlStore::ListUsers(const UserQuery& q, std::vector<User>* out, int64_t* total) {
  if (q.page < 1) return Status::Invalid("page must be 1 or more");
  if (q.limit < 1 || q.limit > 1000) return Status::Invalid("limit must be 1..1000");
  if (q.page > (INT64_MAX / q.limit)) return Status::Invalid("page is too large");
  out->clear();
  *total = 0;
  Params p;
  std::string where;
  if (!q.search.empty()) {
    p.Text(q.search);
    const std::string pos = dialect().strpos;
    const std::string needle = "lower(CAST($1 AS TEXT))) > 0";
    where = " WHERE " + pos + "(lower(COALESCE(email, '')), " + needle + " OR " + pos +
            "(lower(COALESCE(username, '')), " + needle + " OR " + pos + "(lower(name), " + needle;
  }
  return Txn(false, [&](Conn& c) {
    Status s = c.Exec("SELECT COUNT(*) FROM users" + where, p, [&](const Row& r) {
      *total = r.Int(0);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    Params page = p;
    std::string sql =
        std::string("SELECT ") + kUserColumns + " FROM users" + where + " ORDER BY created_at, id LIMIT " + Next(page);
    page.Int(q.limit);
    sql += " OFFSET " + Next(page);
    page.Int((q.page - 1) * q.limit);
    return c.Exec(sql, page, [&](const Row& r) {
      out->emplace_back();
      return ReadUser(r, &out->back());
    });
  });
}

Status SqlStore::UpdateUser(const User& u) {
  if (Status s = CheckUser(u); !s.ok()) return s;
  return Txn(true, [&](Conn& c) {
    int64_t seq = 0;
    Status s = BumpSeq(c, &seq);
    if (!s.ok()) return s;
    int64_t changed = 0;
    // last_login only moves forward: an edit made from an older copy must not
    // take it back.
    s = c.Exec(std::string("UPDATE users SET email = NULLIF($2, ''), username = NULLIF($3, ''), name = $4, "
                           "role = $5, budget_limit = $6, budget_period = $7, rpm_limit = $8, tpm_limit = $9, "
                           "last_login = ") +
                   dialect().greatest + "(last_login, $10), disabled = $11, change_seq = $12 WHERE id = $1",
               Params()
                   .Text(u.id)
                   .Text(u.email)
                   .Text(u.username)
                   .Text(u.name)
                   .Text(u.role)
                   .Int(u.budget_limit)
                   .Text(BudgetPeriodName(u.budget_period))
                   .Int(u.rpm_limit)
                   .Int(u.tpm_limit)
                   .Int(u.last_login)
                   .Int(u.disabled ? 1 : 0)
                   .Int(seq),
               {}, &changed);
    if (s.ok() && changed == 0) return Status::NotFound("no user " + json::Quote(u.id));
    return s;
  });
}

// ---- keys

Status SqlStore::CreateKey(const ApiKey& k) {
  if (Status s = CheckKey(k); !s.ok()) return s;
  return Txn(true, [&](Conn& c) {
    int64_t seq = 0;
    Status s = BumpSeq(c, &seq);
    if (!s.ok()) return s;
    const Permissions& p = k.permissions;
    return c.Exec(
        "INSERT INTO api_keys (id, hash, display, name, user_id, type, allow_chat, allow_completions, "
        "allow_embeddings, allow_models, model_patterns, rpm_limit, tpm_limit, budget_limit, budget_period, "
        "expires_at, revoked_at, created_at, last_used, change_seq) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        Params()
            .Text(k.id)
            .Text(k.hash)
            .Text(k.display)
            .Text(k.name)
            .Text(k.user_id)
            .Text(KeyTypeName(k.type))
            .Int(p.chat_completions)
            .Int(p.completions)
            .Int(p.embeddings)
            .Int(p.models)
            .Text(EncodePatterns(p.model_patterns))
            .Int(k.rpm_limit)
            .Int(k.tpm_limit)
            .Int(k.budget_limit)
            .Text(BudgetPeriodName(k.budget_period))
            .Int(k.expires_at)
            .Int(k.revoked_at)
            .Int(k.created_at)
            .Int(k.last_used)
            .Int(seq));
  });
}

Status SqlStore::UpdateKey(const ApiKey& k) {
  if (k.id.empty()) return Status::Invalid("key id is empty");
  return Txn(true, [&](Conn& c) {
    int64_t seq = 0;
    Status s = BumpSeq(c, &seq);
    if (!s.ok()) return s;
    const Permissions& p = k.permissions;
    int64_t changed = 0;
    // A revoked key stays revoked (only its revoked_at is kept), and last_used
    // only moves forward: an edit made from an older copy of the key must not
    // bring a revoked key back or take last_used back.
    s = c.Exec(std::string("UPDATE api_keys SET name = $2, user_id = $3, type = $4, allow_chat = $5, "
                           "allow_completions = $6, allow_embeddings = $7, allow_models = $8, model_patterns = $9, "
                           "rpm_limit = $10, tpm_limit = $11, budget_limit = $12, budget_period = $13, "
                           "expires_at = $14, revoked_at = CASE WHEN revoked_at <> 0 THEN revoked_at ELSE $15 END, "
                           "last_used = ") +
                   dialect().greatest + "(last_used, $16), change_seq = $17 WHERE id = $1",
               Params()
                   .Text(k.id)
                   .Text(k.name)
                   .Text(k.user_id)
                   .Text(KeyTypeName(k.type))
                   .Int(p.chat_completions)
                   .Int(p.completions)
                   .Int(p.embeddings)
                   .Int(p.models)
                   .Text(EncodePatterns(p.model_patterns))
                   .Int(k.rpm_limit)
                   .Int(k.tpm_limit)
                   .Int(k.budget_limit)
                   .Text(BudgetPeriodName(k.budget_period))
                   .Int(k.expires_at)
                   .Int(k.revoked_at)
                   .Int(k.last_used)
                   .Int(seq),
               {}, &changed);
    if (s.ok() && changed == 0) return Status::NotFound("no key " + json::Quote(k.id));
    return s;
  });
}

Status SqlStore::RevokeKey(const std::string& id, int64_t at_ms) {
  if (at_ms <= 0) return Status::Invalid("revocation time must be positive");
  return Txn(true, [&](Conn& c) {
    bool found = false;
    int64_t revoked_at = 0;
    Status s = c.Exec("SELECT revoked_at FROM api_keys WHERE id = $1", Params().Text(id), [&](const Row& r) {
      found = true;
      revoked_at = r.Int(0);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    if (!found) return Status::NotFound("no key " + json::Quote(id));
    if (revoked_at != 0) return Status::Ok();  // already revoked: nothing changes
    int64_t seq = 0;
    s = BumpSeq(c, &seq);
    if (!s.ok()) return s;
    return c.Exec("UPDATE api_keys SET revoked_at = $2, change_seq = $3 WHERE id = $1",
                  Params().Text(id).Int(at_ms).Int(seq));
  });
}

Status SqlStore::ListKeys(const std::string& user_id, std::vector<ApiKey>* out) {
  out->clear();
  Params p;
  std::string sql = std::string("SELECT ") + kKeyColumns + " FROM api_keys";
  if (!user_id.empty()) {
    sql += " WHERE user_id = $1";
    p.Text(user_id);
  }
  sql += " ORDER BY created_at, id";
  return WithConn(false, [&](Conn& c) {
    return c.Exec(sql, p, [&](const Row& r) {
      out->emplace_back();
      return ReadKey(r, &out->back());
    });
  });
}

// ---- change tracking

Status SqlStore::ChangeSeq(int64_t* seq) {
  return WithConn(false, [&](Conn& c) {
    bool found = false;
    Status s = c.Exec("SELECT change_seq FROM meta WHERE id = 1", Params(), [&](const Row& r) {
      *seq = r.Int(0);
      found = true;
      return Status::Ok();
    });
    if (s.ok() && !found) return Status::Unavailable("store schema is missing its meta row (not migrated?)");
    return s;
  });
}

Status SqlStore::LoadAll(std::vector<User>* users, std::vector<ApiKey>* keys, int64_t* seq) {
  users->clear();
  keys->clear();
  return Txn(false, [&](Conn& c) {
    bool found = false;
    Status s = c.Exec("SELECT change_seq FROM meta WHERE id = 1", Params(), [&](const Row& r) {
      *seq = r.Int(0);
      found = true;
      return Status::Ok();
    });
    if (s.ok() && !found) s = Status::Unavailable("store schema is missing its meta row (not migrated?)");
    if (!s.ok()) return s;
    s = c.Exec(std::string("SELECT ") + kUserColumns + " FROM users ORDER BY created_at, id", Params(),
               [&](const Row& r) {
                 users->emplace_back();
                 return ReadUser(r, &users->back());
               });
    if (!s.ok()) return s;
    return c.Exec(std::string("SELECT ") + kKeyColumns + " FROM api_keys ORDER BY created_at, id", Params(),
                  [&](const Row& r) {
                    keys->emplace_back();
                    return ReadKey(r, &keys->back());
                  });
  });
}

// ---- usage

Status SqlStore::InsertUsage(std::span<const UsageRecord> rows) {
  // One row per request id (the first), so no multi-row statement meets its
  // own row twice; one-row statements need no such care (ON CONFLICT does it).
  const bool multi_row = dialect().usage_rows_per_statement > 1;
  std::vector<const UsageRecord*> unique;
  unique.reserve(rows.size());
  std::unordered_set<std::string_view> seen;
  std::map<std::string_view, int64_t> key_last, user_last;  // sorted: rows are locked in one order everywhere
  const std::string* last_key = nullptr;  // rows of one key come in runs: skip the map lookup
  int64_t last_key_ts = INT64_MIN;
  for (const UsageRecord& r : rows) {
    if (r.request_id.empty()) return Status::Invalid("usage row without a request id");
    if (multi_row && !seen.insert(r.request_id).second) continue;
    unique.push_back(&r);
    if (!r.key_id.empty()) {
      if (last_key == nullptr || *last_key != r.key_id) {
        if (last_key != nullptr) key_last[*last_key] = std::max(key_last[*last_key], last_key_ts);
        last_key = &r.key_id;
        last_key_ts = INT64_MIN;
      }
      last_key_ts = std::max(last_key_ts, r.ts);
    }
    if (!r.user_id.empty()) {
      int64_t& t = user_last[r.user_id];
      t = std::max(t, r.ts);
    }
  }
  if (last_key != nullptr) key_last[*last_key] = std::max(key_last[*last_key], last_key_ts);
  if (unique.empty()) return Status::Ok();
  return Txn(true, [&](Conn& c) {
    if (dialect().usage_unnest) {
      Status s = InsertUsageUnnest(c, unique);
      if (!s.ok()) return s;
      return UpdateLastUsed(c, key_last, user_last);
    }
    const size_t per_statement = std::max<size_t>(1, dialect().usage_rows_per_statement);
    // The statement text depends only on its row count: built once per count.
    std::string sql;
    size_t sql_rows = 0;
    Params p;
    for (size_t first = 0, n = 0; first < unique.size(); first += n) {
      n = std::min(per_statement, unique.size() - first);
      if (n < per_statement && dialect().usage_fixed_statements) n = 1;
      if (n != sql_rows) {
        sql = std::string("INSERT INTO usage (") + kUsageColumns + ") VALUES ";
        sql.reserve(sql.size() + n * kUsageColumnCount * 6 + 64);
        for (size_t i = 0; i < n; ++i) {
          sql += i == 0 ? "(" : ", (";
          for (size_t col = 0; col < kUsageColumnCount; ++col) {
            if (col > 0) sql += ", ";
            sql += "$" + std::to_string(i * kUsageColumnCount + col + 1);
          }
          sql += ")";
        }
        sql += " ON CONFLICT DO NOTHING";  // the primary key: the request id (with its time in SQLite)
        sql_rows = n;
      }
      p.clear();
      p.reserve(n * kUsageColumnCount);
      for (size_t i = 0; i < n; ++i) AddUsageParams(*unique[first + i], &p);
      Status s = c.Exec(sql, p);
      if (!s.ok()) return s;
    }
    return UpdateLastUsed(c, key_last, user_last);
  });
}

Status SqlStore::UpdateLastUsed(Conn& c, const std::map<std::string_view, int64_t>& key_last,
                                const std::map<std::string_view, int64_t>& user_last) {
  // Forward only, and no write at all when nothing moves. change_seq stays.
  for (const auto& [id, ts] : key_last) {
    Status s = c.Exec("UPDATE api_keys SET last_used = $1 WHERE id = $2 AND last_used < $1", Params().Int(ts).Text(id));
    if (!s.ok()) return s;
  }
  for (const auto& [id, ts] : user_last) {
    Status s = c.Exec("UPDATE users SET last_login = $1 WHERE id = $2 AND last_login < $1", Params().Int(ts).Text(id));
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

namespace {

// One element of a PostgreSQL array literal, quoted: '"' and '\' escaped.
// A NUL byte cannot be in a text value: it is left out.
void AppendArrayText(std::string* out, std::string_view v) {
  out->push_back('"');
  for (char ch : v) {
    if (ch == '\0') continue;
    if (ch == '"' || ch == '\\') out->push_back('\\');
    out->push_back(ch);
  }
  out->push_back('"');
}

void AppendArrayInt(std::string* out, int64_t v) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
  out->append(digits, end);
}

}  // namespace

Status SqlStore::InsertUsageUnnest(Conn& c, const std::vector<const UsageRecord*>& rows) {
  static const std::string kSql = [] {
    // The column types, in kUsageColumns' order.
    static constexpr const char* kTypes[kUsageColumnCount] = {
        "text",   "bigint", "text",   "text",   "text",   "text",   "text",   "text", "integer",
        "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "text", "text"};
    std::string sql = std::string("INSERT INTO usage (") + kUsageColumns + ") SELECT * FROM unnest(";
    for (size_t col = 0; col < kUsageColumnCount; ++col) {
      if (col > 0) sql += ", ";
      sql += "$" + std::to_string(col + 1) + "::" + kTypes[col] + "[]";
    }
    return sql + ") ON CONFLICT DO NOTHING";  // the primary key: the request id
  }();
  const size_t per_statement = std::max<size_t>(1, dialect().usage_rows_per_statement);
  std::vector<std::string> columns(kUsageColumnCount);
  for (size_t first = 0; first < rows.size(); first += per_statement) {
    const size_t n = std::min(per_statement, rows.size() - first);
    for (auto& col : columns) {
      col.clear();
      col.push_back('{');
    }
    // Each row's values in AddUsageParams' order (kUsageColumns'), one to each column's array.
    Params row;
    row.reserve(kUsageColumnCount);
    for (size_t i = 0; i < n; ++i) {
      row.clear();
      AddUsageParams(*rows[first + i], &row);
      for (size_t col = 0; col < kUsageColumnCount; ++col) {
        if (i > 0) columns[col].push_back(',');
        if (row.is_int(col)) {
          AppendArrayInt(&columns[col], row.int_at(col));
        } else {
          AppendArrayText(&columns[col], row.text_at(col));
        }
      }
    }
    Params p;
    p.reserve(kUsageColumnCount);
    for (auto& col : columns) {
      col.push_back('}');
      p.TextView(col);
    }
    Status s = c.Exec(kSql, p);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status SqlStore::CountUsage(int64_t* n) {
  return WithConn(false, [&](Conn& c) {
    return c.Exec("SELECT COUNT(*) FROM usage", Params(), [&](const Row& r) {
      *n = r.Int(0);
      return Status::Ok();
    });
  });
}

Status SqlStore::CountUsageSince(int64_t since_ms, int64_t* n) {
  return WithConn(false, [&](Conn& c) {
    return c.Exec("SELECT COUNT(*) FROM usage WHERE ts >= $1", Params().Int(since_ms), [&](const Row& r) {
      *n = r.Int(0);
      return Status::Ok();
    });
  });
}

Status SqlStore::ListUsage(const UsageQuery& q, int64_t limit, std::vector<UsageRecord>* out) {
  out->clear();
  if (limit <= 0) return Status::Ok();
  Params p;
  const std::string where = UsageWhere(q, &p);  // first: it numbers the parameters before LIMIT's
  const std::string sql = std::string("SELECT ") + kUsageColumns + " FROM usage" + where +
                          " ORDER BY ts DESC, request_id DESC LIMIT " + Next(p);
  p.Int(limit);
  return WithConn(false, [&](Conn& c) {
    return c.Exec(sql, p, [&](const Row& r) {
      out->emplace_back();
      ReadUsage(r, &out->back());
      return Status::Ok();
    });
  });
}

Status SqlStore::Report(const UsageQuery& q, UsageReport* out) {
  *out = UsageReport();
  Params p;
  const std::string where = UsageWhere(q, &p);
  const std::string totals = kTotalsColumns;
  auto grouped = [&](Conn& c, const std::string& key_expr, std::vector<std::pair<std::string, UsageTotals>>* v,
                     bool key_is_day) {
    return c.Exec("SELECT " + key_expr + ", " + totals + " FROM usage" + where + " GROUP BY " + key_expr, p,
                  [&](const Row& r) {
                    v->emplace_back(key_is_day ? DayName(r.Int(0)) : r.Text(0), ReadTotals(r, 1));
                    return Status::Ok();
                  });
  };
  Status s = Txn(false, [&](Conn& c) {
    Status s =
        c.Exec("SELECT " + totals + ", COUNT(DISTINCT NULLIF(user_id, '')) FROM usage" + where, p, [&](const Row& r) {
          out->summary = ReadTotals(r, 0);
          out->unique_users = r.Int(4);
          return Status::Ok();
        });
    if (s.ok()) s = grouped(c, "model", &out->by_model, false);
    if (s.ok()) s = grouped(c, "provider", &out->by_provider, false);
    // Whole UTC days since the epoch (ts is never negative).
    if (s.ok()) s = grouped(c, "ts / 86400000", &out->daily, true);
    return s;
  });
  if (!s.ok()) {
    *out = UsageReport();
    return s;
  }
  SortByCost(&out->by_model);
  SortByCost(&out->by_provider);
  std::sort(out->daily.begin(), out->daily.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return s;
}

Status SqlStore::TotalsSince(bool by_user, int64_t since_ms, std::vector<std::pair<std::string, UsageTotals>>* out) {
  out->clear();
  const std::string col = by_user ? "user_id" : "key_id";
  const std::string sql =
      "SELECT " + col + ", " + kTotalsColumns + " FROM usage WHERE ts >= $1 AND " + col + " <> '' GROUP BY " + col;
  Status s = WithConn(false, [&](Conn& c) {
    return c.Exec(sql, Params().Int(since_ms), [&](const Row& r) {
      out->emplace_back(r.Text(0), ReadTotals(r, 1));
      return Status::Ok();
    });
  });
  if (!s.ok()) {
    out->clear();
    return s;
  }
  std::sort(out->begin(), out->end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return s;
}

}  // namespace sy::gov::sql
