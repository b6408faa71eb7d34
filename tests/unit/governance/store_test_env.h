// Test environments for the Store contract suite: a fresh, migrated store of
// each kind per test, and the way to open the same database again.
//
//   FakeStoreEnv     in memory
//   SqliteStoreEnv   a file in a fresh temporary folder
//   PgStoreEnv       a fresh schema (sy_test_<random>) in the database of
//                    SWITCHYARD_TEST_PG_URL, dropped afterwards; the test FAILS
//                    when the variable is missing
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "fake_store.h"
#include "governance/store.h"

namespace sy::gov::store_testing {

inline std::string RandomHex(int n) {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(getpid()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(kHex[rng() % 16]);
  return s;
}

// The URL with one more query parameter.
inline std::string WithParam(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

class FakeStoreEnv {
 public:
  void SetUp() { store_ = std::make_unique<FakeStore>(); }
  void TearDown() {}
  Store* store() { return store_.get(); }
  // A fake has nothing to reopen: the same instance stands for the database.
  void Reopen() {}
  static constexpr bool kPersistent = false;

 private:
  std::unique_ptr<FakeStore> store_;
};

class SqliteStoreEnv {
 public:
  void SetUp() {
    char tmpl[] = "/tmp/sy_store_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() {
    store_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  Store* store() { return store_.get(); }
  void Reopen() {
    store_.reset();
    std::string error;
    // Relative path against base_dir: OpenStore's resolution is part of the test.
    store_ = OpenStore("sqlite://usage.db", dir_, &error);
    ASSERT_NE(store_, nullptr) << error;
  }
  std::unique_ptr<Store> OpenAnother() {
    std::string error;
    auto s = OpenStore("sqlite://" + path(), "", &error);
    EXPECT_NE(s, nullptr) << error;
    return s;
  }
  std::string path() const { return dir_ + "/usage.db"; }
  const std::string& dir() const { return dir_; }
  static constexpr bool kPersistent = true;

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
};

class PgStoreEnv {
 public:
  void SetUp() {
    const char* url = std::getenv("SWITCHYARD_TEST_PG_URL");
    ASSERT_NE(url, nullptr) << "SWITCHYARD_TEST_PG_URL is not set (scripts/services.sh start)";
    ASSERT_NE(*url, '\0') << "SWITCHYARD_TEST_PG_URL is empty";
    base_url_ = url;
    schema_ = "sy_test_" + RandomHex(12);
    ASSERT_TRUE(Admin("CREATE SCHEMA " + schema_));
    Reopen();
  }
  void TearDown() {
    store_.reset();
    if (!schema_.empty()) Admin("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  }
  Store* store() { return store_.get(); }
  void Reopen() {
    store_.reset();
    std::string error;
    store_ = OpenStore(url(), "", &error);
    ASSERT_NE(store_, nullptr) << error;
  }
  std::unique_ptr<Store> OpenAnother() {
    std::string error;
    auto s = OpenStore(url(), "", &error);
    EXPECT_NE(s, nullptr) << error;
    return s;
  }
  // The store's URL: the test schema first on the search path, and an
  // application_name that finds this test's connections in pg_stat_activity.
  std::string url() const {
    return WithParam(WithParam(base_url_, "options=-csearch_path%3D" + schema_), "application_name=" + schema_);
  }
  // Runs one statement on a connection of its own; false (with a test
  // failure) when it fails.
  bool Admin(const std::string& sql) {
    PGconn* c = PQconnectdb(base_url_.c_str());
    bool ok = PQstatus(c) == CONNECTION_OK;
    EXPECT_TRUE(ok) << PQerrorMessage(c);
    if (ok) {
      PQsetNoticeProcessor(
          c, [](void*, const char*) {}, nullptr);  // "drop cascades to ..."
      PGresult* r = PQexec(c, sql.c_str());
      ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
      EXPECT_TRUE(ok) << sql << ": " << PQresultErrorMessage(r);
      PQclear(r);
    }
    PQfinish(c);
    return ok;
  }
  const std::string& schema() const { return schema_; }
  const std::string& base_url() const { return base_url_; }
  static constexpr bool kPersistent = true;

 private:
  std::string base_url_;
  std::string schema_;
  std::unique_ptr<Store> store_;
};

}  // namespace sy::gov::store_testing
