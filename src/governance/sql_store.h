// Internal: what SqliteStore and PgStore share. The Store's queries, the
// schema's column lists and the row codecs are written once here, against a
// minimal connection interface (sql::Conn) that each backend implements over
// its client library. Statements use PostgreSQL's "$1".."$n" placeholders
// (SQLite reads them as its numbered "?NNN" form) and only SQL both engines
// speak; the few differences are in sql::Dialect.
//
// Not part of the public seam: include governance/store.h instead.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "governance/store.h"

namespace sy::gov::sql {

// A statement's parameters, $1 first.
class Params {
 public:
  Params& Int(int64_t v) {
    values_.emplace_back(v);
    return *this;
  }
  Params& Text(std::string_view v) {
    values_.emplace_back(std::string(v));
    return *this;
  }
  // A text the caller keeps alive until the statement has run (no copy).
  Params& TextView(std::string_view v) {
    values_.emplace_back(v);
    return *this;
  }
  size_t size() const { return values_.size(); }
  bool is_int(size_t i) const { return std::holds_alternative<int64_t>(values_[i]); }
  int64_t int_at(size_t i) const { return std::get<int64_t>(values_[i]); }
  std::string_view text_at(size_t i) const {
    if (const auto* v = std::get_if<std::string_view>(&values_[i])) return *v;
    return std::get<std::string>(values_[i]);
  }
  void reserve(size_t n) { values_.reserve(n); }
  void clear() { values_.clear(); }

 private:
  std::vector<std::variant<int64_t, std::string, std::string_view>> values_;
};

// One result row; columns are 0-based. NULL reads as 0 or "". Int() of a
// boolean column reads 1 or 0.
class Row {
 public:
  virtual ~Row() = default;
  virtual int64_t Int(int col) const = 0;
  virtual std::string Text(int col) const = 0;
};

// Called per result row; a non-OK status stops the statement and is returned.
using RowFn = std::function<Status(const Row&)>;

// A connection, used by one thread at a time (the backend's WithConn holds it).
class Conn {
 public:
  virtual ~Conn() = default;
  // Runs one statement. on_row (may be empty) sees each row; *changes (may be
  // null) gets the number of rows inserted, updated or deleted. Errors: a
  // unique violation is kConflict, any other constraint kInvalid, anything
  // else kUnavailable.
  virtual Status Exec(std::string_view sql, const Params& params, const RowFn& on_row = {},
                      int64_t* changes = nullptr) = 0;
  // Runs a script of one or more statements without parameters (migrations).
  virtual Status Script(const std::string& sql) = 0;
};

struct Dialect {
  const char* begin_write;  // starts a write transaction ("BEGIN IMMEDIATE" in SQLite)
  const char* begin_read;   // starts a read-only transaction that sees one snapshot
  const char* greatest;     // the two-argument maximum: "max" / "GREATEST"
  const char* strpos;       // position of a substring, 1-based, 0 if absent: "instr" / "strpos"
  // Usage rows per INSERT. PostgreSQL: many (one round trip per statement);
  // a batch's last statement takes the rows left over.
  // SQLite: a few dozen through one cached prepared statement (each row then
  // costs its binds and its insert, not a statement's run); with
  // usage_fixed_statements the rows left over go one per statement, so only
  // two statements are ever prepared (one per row count would each cost
  // more to prepare than their rows cost to insert).
  size_t usage_rows_per_statement;
  bool usage_fixed_statements = false;
  // PostgreSQL: the rows go as one array per column, unpacked by unnest():
  // the statement is the same short text whatever the row count, so the
  // server parses 18 parameters, not 18 per row.
  bool usage_unnest = false;
};

// One schema version: applied once, in order, in a transaction, and recorded
// in schema_migrations(version, applied_at).
struct Migration {
  int64_t version;
  const char* sql;
};

// Rows per multi-row INSERT into usage (18 parameters each): keeps a
// statement well under both engines' parameter limits and a few MB of text.
inline constexpr size_t kUsageRowsPerStatement = 500;

// Maps a unique-constraint name (or an engine message naming it) to the
// field that is taken.
Status ConflictStatus(std::string_view constraint_or_message);

class SqlStore : public Store {
 public:
  Status Migrate() override;

  Status CreateUser(const User& user) override;
  Status GetUser(const std::string& id, User* out) override;
  Status ListUsers(const UserQuery& q, std::vector<User>* out, int64_t* total) override;
  Status UpdateUser(const User& user) override;

  Status CreateKey(const ApiKey& key) override;
  Status UpdateKey(const ApiKey& key) override;
  Status RevokeKey(const std::string& id, int64_t at_ms) override;
  Status ListKeys(const std::string& user_id, std::vector<ApiKey>* out) override;

  Status ChangeSeq(int64_t* seq) override;
  Status LoadAll(std::vector<User>* users, std::vector<ApiKey>* keys, int64_t* seq) override;

  Status InsertUsage(std::span<const UsageRecord> rows) override;
  Status CountUsage(int64_t* n) override;
  Status CountUsageSince(int64_t since_ms, int64_t* n) override;
  Status ListUsage(const UsageQuery& q, int64_t limit, std::vector<UsageRecord>* out) override;
  Status Report(const UsageQuery& q, UsageReport* out) override;
  Status TotalsSince(bool by_user, int64_t since_ms, std::vector<std::pair<std::string, UsageTotals>>* out) override;

  // sql_store_sessions.cc
  Status LoadSessions(std::vector<ChatSession>* out) override;
  Status SaveSession(const ChatSession& session) override;
  Status DeleteSession(const std::string& id) override;

 protected:
  // Runs fn with sole use of a connection (the writing one when `write`),
  // connecting first if needed. Leaves no transaction open behind it.
  virtual Status WithConn(bool write, const std::function<Status(Conn&)>& fn) = 0;
  virtual const Dialect& dialect() const = 0;
  // Ascending versions.
  virtual std::span<const Migration> migrations() const = 0;
  // Held around Migrate() on its connection (PostgreSQL: an advisory lock).
  virtual Status LockMigrations(Conn& c) { return Status::Ok(); }
  virtual void UnlockMigrations(Conn& c) {}

 private:
  // fn inside BEGIN ... COMMIT; rolled back when fn or the commit fails.
  Status Txn(bool write, const std::function<Status(Conn&)>& fn);
  Status MigrateLocked(Conn& c);
  // Dialect::usage_unnest: the rows as one array per column.
  Status InsertUsageUnnest(Conn& c, const std::vector<const UsageRecord*>& rows);
  // Moves keys' last_used and users' last_login forward to their newest row.
  static Status UpdateLastUsed(Conn& c, const std::map<std::string_view, int64_t>& key_last,
                               const std::map<std::string_view, int64_t>& user_last);
};

// "YYYY-MM-DD" of a day number (days since 1970-01-01, UTC).
std::string DayName(int64_t day);

}  // namespace sy::gov::sql
