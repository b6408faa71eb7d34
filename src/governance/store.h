// The store seam: users, API keys, usage rows and local chat sessions in a
// database.
//
// Implementations: SqliteStore (embedded default, WAL), PgStore (PostgreSQL
// via libpq), and FakeStore for unit tests (tests/unit/governance/fake_store.h).
// Every method is blocking and thread-safe; none is ever called on a request's
// path (the key cache, the limiter and the usage recorder stand between).
//
// Change tracking: every write to users or keys bumps one store-wide
// sequence number (change_seq). Instances poll ChangeSeq() and reload
// everything with LoadAll() when it moved: a revoked key is gone from every
// instance within one poll interval.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "governance/status.h"
#include "governance/types.h"

namespace sy::gov {

class Store {
 public:
  virtual ~Store() = default;

  // Creates or upgrades the schema (versioned migrations, each applied once,
  // in order, in a transaction; PostgreSQL holds an advisory lock meanwhile so
  // that instances starting together do not race). Called once at start.
  virtual Status Migrate() = 0;
  // A cheap round trip: is the database there?
  virtual Status Ping() = 0;
  // "sqlite" or "postgres".
  virtual std::string Kind() const = 0;

  // ---- users
  // kConflict when the id, email or username is taken.
  virtual Status CreateUser(const User& user) = 0;
  virtual Status GetUser(const std::string& id, User* out) = 0;  // kNotFound
  // Page `q.page` of users whose email, username or name contains q.search
  // (case-insensitive), oldest first; *total = all matching rows.
  virtual Status ListUsers(const UserQuery& q, std::vector<User>* out, int64_t* total) = 0;
  // Replaces every field but id and created_at. kNotFound.
  virtual Status UpdateUser(const User& user) = 0;

  // ---- keys
  // kConflict when the id or hash is taken.
  virtual Status CreateKey(const ApiKey& key) = 0;
  // Replaces every field but id, hash, display and created_at. kNotFound.
  virtual Status UpdateKey(const ApiKey& key) = 0;
  // Sets revoked_at (if not already set). kNotFound.
  virtual Status RevokeKey(const std::string& id, int64_t at_ms) = 0;
  // Every key, revoked ones included, oldest first; user_id "" = all users.
  virtual Status ListKeys(const std::string& user_id, std::vector<ApiKey>* out) = 0;

  // ---- change tracking
  virtual Status ChangeSeq(int64_t* seq) = 0;
  // Every user and key, and the change_seq they are consistent with (one
  // read transaction).
  virtual Status LoadAll(std::vector<User>* users, std::vector<ApiKey>* keys, int64_t* seq) = 0;

  // ---- usage
  // Inserts the rows in one transaction; a row whose request_id is already
  // stored is skipped (replays are safe). Also moves each row's key's
  // last_used and user's last_login forward to the row's ts (never back),
  // without bumping change_seq. All or nothing: on failure nothing is stored.
  virtual Status InsertUsage(std::span<const UsageRecord> rows) = 0;
  virtual Status CountUsage(int64_t* n) = 0;
  // Rows with ts >= since_ms (a range of the time index: no report's grouping).
  virtual Status CountUsageSince(int64_t since_ms, int64_t* n) = 0;
  // Rows of the query, newest first, at most `limit`.
  virtual Status ListUsage(const UsageQuery& q, int64_t limit, std::vector<UsageRecord>* out) = 0;
  // Totals, per model, per provider and per UTC day over the query's rows.
  virtual Status Report(const UsageQuery& q, UsageReport* out) = 0;
  // Totals per key id (by_user false) or per user id (true) over rows with
  // ts >= since_ms; ids with no rows are absent.
  virtual Status TotalsSince(bool by_user, int64_t since_ms,
                             std::vector<std::pair<std::string, UsageTotals>>* out) = 0;

  // ---- chat sessions (local models; local/session_book.h)
  // Not tracked by change_seq: one instance owns its sessions.
  // Every session with its messages in order, oldest session (created_ms,
  // then id) first. One read transaction.
  virtual Status LoadSessions(std::vector<ChatSession>* out) = 0;
  // Creates or replaces the session and all its messages, in one
  // transaction. kInvalid for an empty id.
  virtual Status SaveSession(const ChatSession& session) = 0;
  // The session and its messages. kNotFound when absent.
  virtual Status DeleteSession(const std::string& id) = 0;
};

// Opens a store from its URL: "sqlite://PATH" (relative PATH: against
// base_dir, normally the config file's folder; the file is created) or
// "postgres://..." / "postgresql://..." (a libpq connection URI). Does not
// migrate. On failure returns null and sets *error (no password in it).
std::unique_ptr<Store> OpenStore(const std::string& url, const std::string& base_dir, std::string* error);

// The URL with any password replaced by "****": for logs and admin output.
std::string MaskStoreUrl(const std::string& url);

}  // namespace sy::gov
