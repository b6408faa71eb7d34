// The shared store: PostgreSQL through libpq.
//
// One connection, behind a mutex. It connects with connect_timeout (5 s),
// TCP keepalives and tcp_user_timeout, so a dead server is noticed; any of
// these can be overridden in the URL. When the connection breaks, the call
// that found out returns kUnavailable and the next call reconnects (a failed
// reconnect is not retried for a second: calls meanwhile fail at once).
// Every statement has a client-side deadline (30 s); a statement past it
// drops the connection (the server rolls the open transaction back) and
// returns kUnavailable.
//
// PgBouncer: only unnamed statements are used (PQsendQueryParams), so
// transaction pooling works for everything but Migrate(), whose advisory lock
// is a session lock: run migrations against the server itself (or a session
// pool).
//
// Messages name the server by its masked URL (MaskStoreUrl); the password
// never appears in them.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "governance/sql_store.h"

namespace sy::gov {

class PgStore : public sql::SqlStore {
 public:
  // Checks the URL (a libpq URI: postgres://user:password@host:port/db?...)
  // and connects. A server that cannot be reached is not an error here: the
  // store is returned unconnected and each call tries to connect (Ping and
  // Migrate report the failure). Does not migrate.
  static Status Open(const std::string& url, std::unique_ptr<PgStore>* out);
  ~PgStore() override;

  Status Ping() override;
  std::string Kind() const override { return "postgres"; }

 protected:
  Status WithConn(bool write, const std::function<Status(sql::Conn&)>& fn) override;
  const sql::Dialect& dialect() const override;
  std::span<const sql::Migration> migrations() const override;
  Status LockMigrations(sql::Conn& c) override;
  void UnlockMigrations(sql::Conn& c) override;

 private:
  class Connection;
  PgStore(std::string url, std::vector<std::string> secrets);
  // REQUIRES: mu_ held. Replaces conn_ with a new connection.
  Status Connect();

  const std::string url_;
  const std::string masked_url_;
  const std::vector<std::string> secrets_;  // scrubbed from every message

  std::mutex mu_;
  std::unique_ptr<Connection> conn_;                    // GUARDED_BY(mu_); null while disconnected
  std::chrono::steady_clock::time_point next_connect_;  // GUARDED_BY(mu_); no reconnect before it
  std::string last_error_;                              // GUARDED_BY(mu_); of the last failed connect
};

}  // namespace sy::gov
