#include "governance/pg_store.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include "common/log.h"
#include "governance/store.h"
#include "governance/store_url.h"

namespace sy::gov {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStatementTimeoutMs = 30000;
// Migrate() may wait on another instance's migrations (the advisory lock).
constexpr int kMigrationTimeoutMs = 300000;
constexpr auto kReconnectBackoff = std::chrono::seconds(1);
// Any 64-bit number of our own: the advisory lock that serializes migrations.
constexpr const char* kMigrationLock = "7305975171462733831";

constexpr sql::Dialect kDialect = {
    .begin_write = "BEGIN",
    .begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    .greatest = "GREATEST",
    .strpos = "strpos",
    .usage_rows_per_statement = sql::kUsageRowsPerStatement,
    .usage_unnest = true,
};

// Schema versions. Never edit one that has shipped: add the next.
constexpr sql::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  change_seq BIGINT NOT NULL
);
INSERT INTO meta (id, change_seq) VALUES (1, 0);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT,     -- NULL when empty: unique only when set
  username TEXT,  -- likewise
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  budget_limit BIGINT NOT NULL,
  budget_period TEXT NOT NULL,
  rpm_limit BIGINT NOT NULL,
  tpm_limit BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  last_login BIGINT NOT NULL,
  disabled BOOLEAN NOT NULL,
  change_seq BIGINT NOT NULL
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
  allow_chat BOOLEAN NOT NULL,
  allow_completions BOOLEAN NOT NULL,
  allow_embeddings BOOLEAN NOT NULL,
  allow_models BOOLEAN NOT NULL,
  model_patterns TEXT NOT NULL,  -- JSON array of strings
  rpm_limit BIGINT NOT NULL,
  tpm_limit BIGINT NOT NULL,
  budget_limit BIGINT NOT NULL,
  budget_period TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used BIGINT NOT NULL,
  change_seq BIGINT NOT NULL
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);

CREATE TABLE usage (
  request_id TEXT PRIMARY KEY,
  ts BIGINT NOT NULL,
  key_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  upstream_model TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  status INTEGER NOT NULL,
  latency_ms BIGINT NOT NULL,
  ttft_ms BIGINT NOT NULL,
  prompt_tokens BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  cached_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL,
  cost BIGINT NOT NULL,
  usage_source TEXT NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX usage_ts ON usage (ts);
CREATE INDEX usage_key ON usage (key_id, ts);
CREATE INDEX usage_user ON usage (user_id, ts);
)sql"},
    {2, R"sql(
-- Chat sessions of local models (local/session_book.h). Messages go with
-- their session by explicit deletes, as in SQLite.
CREATE TABLE chat_sessions (
  id TEXT PRIMARY KEY,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE TABLE chat_messages (
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,  -- 0, 1, ... in the session's order
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (session_id, seq)
);
)sql"},
};

class ResultRow : public sql::Row {
 public:
  ResultRow(const PGresult* r, int row) : r_(r), row_(row) {}
  int64_t Int(int col) const override {
    if (PQgetisnull(r_, row_, col)) return 0;
    const char* v = PQgetvalue(r_, row_, col);
    if (v[0] == 't' && v[1] == '\0') return 1;  // boolean
    if (v[0] == 'f' && v[1] == '\0') return 0;
    return std::strtoll(v, nullptr, 10);
  }
  std::string Text(int col) const override {
    if (PQgetisnull(r_, row_, col)) return std::string();
    return std::string(PQgetvalue(r_, row_, col), static_cast<size_t>(PQgetlength(r_, row_, col)));
  }

 private:
  const PGresult* r_;
  int row_;
};

struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};

// libpq's messages span lines ("ERROR: ...\nLINE 1: ...\n   ^"): one line
// for the log, runs of whitespace as one space.
std::string Trim(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Server notices ("relation already exists, skipping") go to the debug log,
// not to stderr as libpq's default processor would have it.
void QuietNotice(void*, const char* message) { log::Debug("postgres: ", Trim(message)); }

}  // namespace

class PgStore::Connection : public sql::Conn {
 public:
  Connection(PGconn* pg, const PgStore* store) : pg_(pg), store_(store) {}
  ~Connection() override { PQfinish(pg_); }

  Status Exec(std::string_view sql_text, const sql::Params& params, const sql::RowFn& on_row = {},
              int64_t* changes = nullptr) override {
    // libpq reads text parameters as NUL-terminated strings: all of them
    // back to back in one buffer, pointed at once it is complete.
    std::string arena;
    std::vector<size_t> offsets;
    offsets.reserve(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      offsets.push_back(arena.size());
      if (params.is_int(i)) {
        char digits[24];
        const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, params.int_at(i));
        arena.append(digits, end);
      } else {
        arena.append(params.text_at(i));
      }
      arena.push_back('\0');
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (size_t off : offsets) values.push_back(arena.data() + off);
    const std::string text(sql_text);
    // Unnamed statement, text results: nothing that a pooler could mix up.
    if (!PQsendQueryParams(pg_, text.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr,
                           0)) {
      return ConnectionError("send");
    }
    return Collect(on_row, changes);
  }

  Status Script(const std::string& sql_text) override {
    if (!PQsendQuery(pg_, sql_text.c_str())) return ConnectionError("send");
    return Collect({}, nullptr);
  }

  // After a call: a transaction left open is rolled back; a connection that
  // cannot even do that is given up.
  void Settle() {
    if (broken_ || PQstatus(pg_) != CONNECTION_OK) {
      broken_ = true;
      return;
    }
    if (PQtransactionStatus(pg_) != PQTRANS_IDLE) {
      Script("ROLLBACK");
      if (PQtransactionStatus(pg_) != PQTRANS_IDLE) broken_ = true;
    }
  }

  bool broken() const { return broken_; }
  void set_timeout_ms(int ms) { timeout_ms_ = ms; }

 private:
  Status Unavailable(const std::string& what) const {
    return Status::Unavailable(ScrubSecrets("postgres " + store_->masked_url_ + ": " + Trim(what), store_->secrets_));
  }

  Status ConnectionError(const char* what) {
    if (PQstatus(pg_) != CONNECTION_OK) broken_ = true;
    return Unavailable(std::string(what) + ": " + PQerrorMessage(pg_));
  }

  Status ResultError(const PGresult* r) const {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const std::string code = state != nullptr ? state : "";
    const std::string message = ScrubSecrets(Trim(PQresultErrorMessage(r)), store_->secrets_);
    if (code == "23505") {
      const char* constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
      return sql::ConflictStatus(constraint != nullptr ? constraint : message);
    }
    if (code.rfind("23", 0) == 0 || code.rfind("22", 0) == 0) return Status::Invalid("postgres: " + message);
    return Unavailable(message);
  }

  // Waits until a result can be read without blocking. False past the deadline.
  bool AwaitResult(Clock::time_point deadline) {
    while (PQisBusy(pg_)) {
      const int fd = PQsocket(pg_);
      if (fd < 0) return true;  // PQgetResult reports the broken connection
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p = {fd, POLLIN, 0};
      const int n = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
      if (n < 0 && errno != EINTR) return true;
      if (n > 0 && !PQconsumeInput(pg_)) return true;
    }
    return true;
  }

  Status Collect(const sql::RowFn& on_row, int64_t* changes) {
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
    Status result;
    while (true) {
      if (!AwaitResult(deadline)) {
        // Past the deadline the connection is dropped rather than cancelled:
        // PQcancel connects anew and can block as long as the server is gone.
        // The server rolls back the open transaction when it notices.
        broken_ = true;
        return Unavailable("no answer within " + std::to_string(timeout_ms_) + " ms; connection dropped");
      }
      std::unique_ptr<PGresult, ResultCloser> r(PQgetResult(pg_));
      if (r == nullptr) break;
      if (!result.ok()) continue;  // drain the rest
      switch (PQresultStatus(r.get())) {
        case PGRES_TUPLES_OK:
          for (int i = 0, n = PQntuples(r.get()); i < n && result.ok() && on_row; ++i) {
            result = on_row(ResultRow(r.get(), i));
          }
          [[fallthrough]];
        case PGRES_COMMAND_OK:
          if (changes != nullptr) *changes = std::strtoll(PQcmdTuples(r.get()), nullptr, 10);
          break;
        case PGRES_EMPTY_QUERY:
          break;
        default:
          result = ResultError(r.get());
      }
    }
    if (PQstatus(pg_) != CONNECTION_OK) {
      broken_ = true;
      if (result.ok() || result.kind() != Status::Kind::kUnavailable) {
        result = Unavailable(std::string("connection lost: ") + PQerrorMessage(pg_));
      }
    }
    return result;
  }

  PGconn* pg_;
  const PgStore* store_;
  int timeout_ms_ = kStatementTimeoutMs;
  bool broken_ = false;
};

PgStore::PgStore(std::string url, std::vector<std::string> secrets)
    : url_(std::move(url)), masked_url_(MaskStoreUrl(url_)), secrets_(std::move(secrets)) {}

PgStore::~PgStore() = default;

Status PgStore::Open(const std::string& url, std::unique_ptr<PgStore>* out) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? Trim(error) : "out of memory";
    PQfreemem(error);
    return Status::Invalid(
        ScrubSecrets("postgres " + MaskStoreUrl(url) + ": invalid connection URI: " + why, UrlSecrets(url)));
  }
  // libpq percent-decodes; scrub the password as libpq understood it too.
  std::vector<std::string> secrets = UrlSecrets(url);
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr && o->val[0] != '\0') {
      secrets.push_back(o->val);
    }
  }
  PQconninfoFree(options);
  std::unique_ptr<PgStore> store(new PgStore(url, std::move(secrets)));
  std::lock_guard<std::mutex> lock(store->mu_);
  // A server that cannot be reached now is not an error: a gateway restarted
  // during an outage must come up (config keys, usage to the spool) and
  // connect when the server is back. The next call tries again at once.
  if (Status s = store->Connect(); !s.ok()) store->last_error_ = s.message();
  *out = std::move(store);
  return Status::Ok();
}

Status PgStore::Connect() {
  conn_.reset();
  // Our defaults first: the URL (dbname, expanded last) overrides any of them.
  const char* const keywords[] = {"connect_timeout",           "keepalives",       "keepalives_idle",
                                  "keepalives_interval",       "keepalives_count", "tcp_user_timeout",
                                  "fallback_application_name", "dbname",           nullptr};
  const char* const values[] = {"5", "1", "30", "10", "3", "30000", "switchyard", url_.c_str(), nullptr};
  PGconn* pg = PQconnectdbParams(keywords, values, 1);
  if (pg == nullptr) return Status::Unavailable("postgres " + masked_url_ + ": out of memory");
  if (PQstatus(pg) != CONNECTION_OK) {
    std::string why = ScrubSecrets(Trim(PQerrorMessage(pg)), secrets_);
    PQfinish(pg);
    return Status::Unavailable("postgres " + masked_url_ + ": cannot connect: " + why);
  }
  PQsetNoticeProcessor(pg, QuietNotice, nullptr);
  conn_ = std::make_unique<Connection>(pg, this);
  return Status::Ok();
}

Status PgStore::WithConn(bool write, const std::function<Status(sql::Conn&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn_ == nullptr) {
    const auto now = Clock::now();
    if (now < next_connect_) return Status::Unavailable(last_error_ + " (retrying shortly)");
    Status s = Connect();
    if (!s.ok()) {
      next_connect_ = now + kReconnectBackoff;
      last_error_ = s.message();
      return s;
    }
  }
  Status s = fn(*conn_);
  conn_->Settle();
  if (conn_->broken()) {
    log::Warn("postgres ", masked_url_, ": connection lost; reconnecting on the next call");
    conn_.reset();
  }
  return s;
}

Status PgStore::Ping() {
  return WithConn(false, [](sql::Conn& c) { return c.Exec("SELECT 1", sql::Params()); });
}

const sql::Dialect& PgStore::dialect() const { return kDialect; }

std::span<const sql::Migration> PgStore::migrations() const { return kMigrations; }

Status PgStore::LockMigrations(sql::Conn& c) {
  static_cast<Connection&>(c).set_timeout_ms(kMigrationTimeoutMs);
  return c.Exec(std::string("SELECT pg_advisory_lock(") + kMigrationLock + ")", sql::Params());
}

void PgStore::UnlockMigrations(sql::Conn& c) {
  c.Exec(std::string("SELECT pg_advisory_unlock(") + kMigrationLock + ")", sql::Params());
  static_cast<Connection&>(c).set_timeout_ms(kStatementTimeoutMs);
}

}  // namespace sy::gov
