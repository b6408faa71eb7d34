#include "governance/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace sy::gov {

namespace {

constexpr int kBusyTimeoutMs = 5000;
// The WAL file is cut back to this size after a checkpoint (it otherwise
// keeps its high-water size).
constexpr const char* kJournalSizeLimit = "PRAGMA journal_size_limit = 67108864";

constexpr sql::Dialect kDialect = {
    .begin_write = "BEGIN IMMEDIATE",
    .begin_read = "BEGIN",  // deferred: the first read fixes the snapshot
    .greatest = "max",
    .strpos = "instr",
    .usage_rows_per_statement = 32,
    .usage_fixed_statements = true,
};

// Schema versions. Never edit one that has shipped: add the next.
constexpr sql::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  change_seq INTEGER NOT NULL
);
INSERT INTO meta (id, change_seq) VALUES (1, 0);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT,     -- NULL when empty: unique only when set
  username TEXT,  -- likewise
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  budget_limit INTEGER NOT NULL,
  budget_period TEXT NOT NULL,
  rpm_limit INTEGER NOT NULL,
  tpm_limit INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_login INTEGER NOT NULL,
  disabled INTEGER NOT NULL,
  change_seq INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE INDEX users_created ON users (created_at, id);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,  -- SHA-256 of the secret; the secret is never stored
  display TEXT NOT NULL,
  name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  type TEXT NOT NULL,
  allow_chat INTEGER NOT NULL,
  allow_completions INTEGER NOT NULL,
  allow_embeddings INTEGER NOT NULL,
  allow_models INTEGER NOT NULL,
  model_patterns TEXT NOT NULL,  -- JSON array of strings
  rpm_limit INTEGER NOT NULL,
  tpm_limit INTEGER NOT NULL,
  budget_limit INTEGER NOT NULL,
  budget_period TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  change_seq INTEGER NOT NULL
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);

-- usage: one b-tree, keyed by (ts, request_id): rows are appended at its
-- right edge, time ranges are key ranges, and a record written twice (a
-- spool replay carries the same id and time) is found as a conflict. No
-- other index: every insert touches one b-tree. Queries by key or user scan
-- the time range (SQLite is the single-instance store; PostgreSQL also
-- indexes key and user).
CREATE TABLE usage (
  request_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  upstream_model TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  status INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL,
  ttft_ms INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  cost INTEGER NOT NULL,
  usage_source TEXT NOT NULL,
  error TEXT NOT NULL,
  PRIMARY KEY (ts, request_id)
) WITHOUT ROWID;
)sql"},
    {2, R"sql(
-- Chat sessions of local models (local/session_book.h). Messages go with
-- their session by explicit deletes (no foreign key: SQLite would not
-- enforce it without PRAGMA foreign_keys).
CREATE TABLE chat_sessions (
  id TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE chat_messages (
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,  -- 0, 1, ... in the session's order
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
)sql"},
};

class StmtRow : public sql::Row {
 public:
  explicit StmtRow(sqlite3_stmt* st) : st_(st) {}
  int64_t Int(int col) const override { return sqlite3_column_int64(st_, col); }
  std::string Text(int col) const override {
    const unsigned char* p = sqlite3_column_text(st_, col);
    if (p == nullptr) return std::string();
    return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(st_, col)));
  }

 private:
  sqlite3_stmt* st_;
};

struct StmtCloser {
  void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};

}  // namespace

class SqliteStore::Connection : public sql::Conn {
 public:
  static Status Open(const std::string& path, bool writer, std::unique_ptr<Connection>* out) {
    sqlite3* db = nullptr;
    // NOMUTEX: the store's mutex already gives each connection one user at a time.
    // Readers need write access too: in WAL mode they write the -shm index.
    int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    auto c = std::unique_ptr<Connection>(new Connection(db, path));
    if (rc != SQLITE_OK) {
      return Status::Unavailable("sqlite " + path +
                                 ": cannot open: " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    Status s;
    if (writer) {
      std::string mode;
      s = c->Exec("PRAGMA journal_mode = WAL", sql::Params(), [&](const sql::Row& r) {
        mode = r.Text(0);
        return Status::Ok();
      });
      if (s.ok() && mode != "wal") {
        s = Status::Unavailable("sqlite " + path + ": cannot use WAL mode (journal_mode is " + mode + ")");
      }
      if (s.ok()) s = c->Script("PRAGMA synchronous = FULL");
      if (s.ok()) s = c->Script(kJournalSizeLimit);
    } else {
      s = c->Script("PRAGMA query_only = 1");
    }
    if (!s.ok()) return s;
    *out = std::move(c);
    return Status::Ok();
  }

  ~Connection() override {
    cache_.clear();  // statements before the connection
    sqlite3_close_v2(db_);
  }

  Status Exec(std::string_view sql_text, const sql::Params& params, const sql::RowFn& on_row = {},
              int64_t* changes = nullptr) override {
    // Prepared statements are kept by their text and reused (reset after
    // each use, so none holds a read snapshot or a lock between calls).
    sqlite3_stmt* raw = nullptr;
    auto cached = cache_.find(sql_text);
    if (cached != cache_.end()) {
      raw = cached->second.get();
    } else {
      // "$n" is SQLite's "?n": the same numbered parameter.
      std::string text(sql_text);
      for (char& ch : text) {
        if (ch == '$') ch = '?';
      }
      if (sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                             nullptr) != SQLITE_OK) {
        return Error("prepare");
      }
      if (raw == nullptr) return Status::Ok();  // an empty statement
      if (cache_.size() >= kStatementCache) cache_.clear();
      cache_.emplace(std::string(sql_text), std::unique_ptr<sqlite3_stmt, StmtCloser>(raw));
    }
    struct Reset {
      sqlite3_stmt* st;
      ~Reset() {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
      }
    } reset{raw};
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      const int rc = params.is_int(i) ? sqlite3_bind_int64(raw, index, params.int_at(i))
                                      : sqlite3_bind_text64(raw, index, params.text_at(i).data(),
                                                            params.text_at(i).size(), SQLITE_STATIC, SQLITE_UTF8);
      if (rc != SQLITE_OK) return Error("bind");
    }
    StmtRow row(raw);
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      if (on_row) {
        Status s = on_row(row);
        if (!s.ok()) return s;
      }
    }
    if (rc != SQLITE_DONE) return Error("step");
    if (changes != nullptr) *changes = sqlite3_changes64(db_);
    return Status::Ok();
  }

  Status Script(const std::string& sql_text) override {
    if (sqlite3_exec(db_, sql_text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return Error("exec");
    return Status::Ok();
  }

  // Rolls back a transaction a failed call left open.
  void EndTransaction() {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  static constexpr size_t kStatementCache = 64;
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StmtCloser>, TextHash, std::equal_to<>> cache_;

  Status Error(const char* what) {
    const int code = sqlite3_extended_errcode(db_);
    const std::string message = sqlite3_errmsg(db_);
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return sql::ConflictStatus(message);
    }
    if ((code & 0xff) == SQLITE_CONSTRAINT) return Status::Invalid("sqlite: " + message);
    return Status::Unavailable("sqlite " + path_ + ": " + what + ": " + message);
  }

  sqlite3* db_;
  std::string path_;
};

Status SqliteStore::Open(const std::string& path, std::unique_ptr<SqliteStore>* out) {
  if (path.empty()) return Status::Invalid("sqlite: empty path");
  // Create the file ourselves so that it is private from the first byte;
  // SQLite gives the -wal and -shm files the same mode.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    return Status::Unavailable("sqlite " + path + ": cannot create: " + std::strerror(errno));
  }
  std::unique_ptr<Connection> writer, reader;
  Status s = Connection::Open(path, true, &writer);
  if (s.ok()) s = Connection::Open(path, false, &reader);
  if (!s.ok()) return s;
  out->reset(new SqliteStore(std::move(writer), std::move(reader)));
  return Status::Ok();
}

SqliteStore::SqliteStore(std::unique_ptr<Connection> writer, std::unique_ptr<Connection> reader)
    : writer_(std::move(writer)), reader_(std::move(reader)) {}

SqliteStore::~SqliteStore() = default;

Status SqliteStore::Ping() {
  // Reads the schema page: the file is there and readable.
  return WithConn(false, [](sql::Conn& c) { return c.Exec("SELECT COUNT(*) FROM sqlite_master", sql::Params()); });
}

Status SqliteStore::WithConn(bool write, const std::function<Status(sql::Conn&)>& fn) {
  std::lock_guard<std::mutex> lock(write ? writer_mu_ : reader_mu_);
  Connection& c = write ? *writer_ : *reader_;
  Status s = fn(c);
  c.EndTransaction();
  return s;
}

const sql::Dialect& SqliteStore::dialect() const { return kDialect; }

std::span<const sql::Migration> SqliteStore::migrations() const { return kMigrations; }

}  // namespace sy::gov
