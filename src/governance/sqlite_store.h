// The embedded store: one SQLite file in WAL mode.
//
// Two connections: a writer (every write transaction starts with BEGIN
// IMMEDIATE, so a transaction never has to upgrade a read lock and never
// meets SQLITE_BUSY mid-way) and a reader (query_only), each behind its own
// mutex; in WAL mode readers do not block the writer, so an admin report does
// not hold up usage inserts. busy_timeout covers another process (a second
// gateway, the sqlite3 shell) holding the write lock for a moment.
//
// Durability: synchronous=FULL on the writer, for every table. A usage batch
// is one transaction, so that is one fsync per batch (at most ~10 a second at
// the recorder's defaults), and it keeps the recorder's promise honest: the
// spool is truncated only after a commit that survives a power cut. (NORMAL
// would stay corruption-free in WAL mode but could roll back the last commits
// after a power loss or OS crash, after the spool no longer held them.)
//
// SQLite is single-node: WAL needs shared memory, so the file must not be on
// a network filesystem, and several gateway instances need PostgreSQL.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "governance/sql_store.h"

namespace sy::gov {

class SqliteStore : public sql::SqlStore {
 public:
  // Opens the database file at `path`, creating it (mode 0600: it holds key
  // hashes and emails) when missing; its folder must exist. Does not migrate.
  static Status Open(const std::string& path, std::unique_ptr<SqliteStore>* out);
  ~SqliteStore() override;

  Status Ping() override;
  std::string Kind() const override { return "sqlite"; }

 protected:
  Status WithConn(bool write, const std::function<Status(sql::Conn&)>& fn) override;
  const sql::Dialect& dialect() const override;
  std::span<const sql::Migration> migrations() const override;

 private:
  class Connection;
  SqliteStore(std::unique_ptr<Connection> writer, std::unique_ptr<Connection> reader);

  std::mutex writer_mu_;
  std::unique_ptr<Connection> writer_;  // GUARDED_BY(writer_mu_)
  std::mutex reader_mu_;
  std::unique_ptr<Connection> reader_;  // GUARDED_BY(reader_mu_)
};

}  // namespace sy::gov
