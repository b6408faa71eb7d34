// What is particular to each store: opening by URL, URL masking, concurrent
// migrations, reconnection, schema checks, rows that cannot be read.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "governance/store.h"
#include "store_test_env.h"

namespace sy::gov {
namespace {

using store_testing::PgStoreEnv;
using store_testing::SqliteStoreEnv;

constexpr char kSecret[] = "Zq9secretXy";

// Runs SQL on a SQLite file directly, behind the store's back.
void SqliteExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

ApiKey Key(const std::string& id) {
  ApiKey k;
  k.id = id;
  k.hash = "hash-" + id;
  k.created_at = 1;
  k.permissions.model_patterns = {"gpt-4*"};
  return k;
}

// A loopback port with nothing listening on it.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  close(fd);
  return ntohs(a.sin_port);
}

// ---- URLs

TEST(StoreUrl, MaskHidesEveryPassword) {
  EXPECT_EQ(MaskStoreUrl("postgres://sy:s3cret@db.internal:5432/sy"), "postgres://sy:****@db.internal:5432/sy");
  EXPECT_EQ(MaskStoreUrl("postgresql://sy:p%40ss@h/db?sslmode=require&password=two"),
            "postgresql://sy:****@h/db?sslmode=require&password=****");
  EXPECT_EQ(MaskStoreUrl("postgres://h/db?PASSWORD=x&user=u"), "postgres://h/db?PASSWORD=****&user=u");
  // Unescaped '@' and '/' in a password: masked whole.
  EXPECT_EQ(MaskStoreUrl("postgres://u:pa@ss/w@h/db"), "postgres://u:****@h/db");
  EXPECT_EQ(MaskStoreUrl("host=h password=abc user=u"), "host=h password=**** user=u");
  EXPECT_EQ(MaskStoreUrl("host=h password = 'a b' user=u"), "host=h password = **** user=u");
  EXPECT_EQ(MaskStoreUrl("postgres://sy@h/db"), "postgres://sy@h/db");
  EXPECT_EQ(MaskStoreUrl("sqlite://data/sy.db"), "sqlite://data/sy.db");
  EXPECT_EQ(MaskStoreUrl(""), "");
}

TEST(StoreUrl, OpenStoreRefusesWhatItCannotOpen) {
  std::string error;
  EXPECT_EQ(OpenStore(std::string("mysql://u:") + kSecret + "@h/db", "", &error), nullptr);
  EXPECT_EQ(error.find(kSecret), std::string::npos) << error;
  EXPECT_NE(error.find("****"), std::string::npos) << error;
  EXPECT_EQ(OpenStore("sqlite://", "/tmp", &error), nullptr);
  EXPECT_EQ(OpenStore("sqlite://:memory:", "/tmp", &error), nullptr);
  EXPECT_EQ(OpenStore("sqlite:///nonexistent-dir-sy/x.db", "", &error), nullptr);
  EXPECT_NE(error.find("nonexistent-dir-sy"), std::string::npos) << error;
}

TEST(StoreUrl, PostgresFailuresNeverCarryThePassword) {
  std::string error;
  // A server that cannot be reached: the store opens (a gateway restarted
  // during an outage comes up) and its calls report the failure.
  const std::string url =
      "postgres://sy:" + std::string(kSecret) + "@127.0.0.1:" + std::to_string(ClosedPort()) + "/db?connect_timeout=2";
  auto down = OpenStore(url, "", &error);
  ASSERT_NE(down, nullptr) << error;
  Status s = down->Ping();
  EXPECT_EQ(s.kind(), Status::Kind::kUnavailable);
  EXPECT_EQ(s.message().find(kSecret), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("****"), std::string::npos) << s.message();
  s = down->Migrate();
  EXPECT_EQ(s.kind(), Status::Kind::kUnavailable);
  EXPECT_EQ(s.message().find(kSecret), std::string::npos) << s.message();

  const std::string bad = "postgres://sy:" + std::string(kSecret) + "@127.0.0.1/db?no_such_option=1";
  EXPECT_EQ(OpenStore(bad, "", &error), nullptr);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(error.find(kSecret), std::string::npos) << error;

  // Percent-encoded: neither spelling may leak.
  const std::string encoded = "postgres://sy:Zq9%73ecret@127.0.0.1:" + std::to_string(ClosedPort()) + "/db";
  auto encoded_down = OpenStore(encoded, "", &error);
  ASSERT_NE(encoded_down, nullptr) << error;
  s = encoded_down->Ping();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().find("Zq9%73ecret"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("Zq9secret"), std::string::npos) << s.message();
}

// ---- SQLite

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { env_.SetUp(); }
  void TearDown() override { env_.TearDown(); }
  SqliteStoreEnv env_;
};

TEST_F(SqliteStoreTest, PathsResolveAndTheFileIsPrivate) {
  struct stat st;
  ASSERT_EQ(stat(env_.path().c_str(), &st), 0) << "relative path against base_dir";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string error;
  const std::string abs = env_.dir() + "/abs.db";
  auto s = OpenStore("sqlite://" + abs, "/somewhere/else", &error);
  ASSERT_NE(s, nullptr) << error;
  EXPECT_EQ(s->Kind(), "sqlite");
  EXPECT_EQ(stat(abs.c_str(), &st), 0);
}

TEST_F(SqliteStoreTest, CallsBeforeMigrateFailCleanly) {
  int64_t seq = 0;
  Status s = env_.store()->ChangeSeq(&seq);
  EXPECT_EQ(s.kind(), Status::Kind::kUnavailable);
  EXPECT_EQ(env_.store()->CreateKey(Key("key_1")).kind(), Status::Kind::kUnavailable);
  EXPECT_TRUE(env_.store()->Ping().ok());
}

TEST_F(SqliteStoreTest, ConcurrentMigrationsApplyOnce) {
  auto a = env_.OpenAnother();
  auto b = env_.OpenAnother();
  ASSERT_TRUE(a && b);
  Status sa, sb;
  std::thread ta([&] { sa = a->Migrate(); });
  std::thread tb([&] { sb = b->Migrate(); });
  ta.join();
  tb.join();
  EXPECT_TRUE(sa.ok()) << sa.message();
  EXPECT_TRUE(sb.ok()) << sb.message();
  EXPECT_TRUE(env_.store()->Migrate().ok());
  ASSERT_TRUE(a->CreateKey(Key("key_1")).ok());
  std::vector<ApiKey> keys;
  ASSERT_TRUE(b->ListKeys("", &keys).ok());
  EXPECT_EQ(keys.size(), 1u);
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(env_.store()->Migrate().ok());
  SqliteExec(env_.path(), "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");
  Status s = env_.store()->Migrate();
  EXPECT_EQ(s.kind(), Status::Kind::kInvalid);
  EXPECT_NE(s.message().find("99"), std::string::npos) << s.message();
}

TEST_F(SqliteStoreTest, UnreadablePatternsFailTheLoadInsteadOfAllowingEveryModel) {
  ASSERT_TRUE(env_.store()->Migrate().ok());
  ASSERT_TRUE(env_.store()->CreateKey(Key("key_1")).ok());
  SqliteExec(env_.path(), "UPDATE api_keys SET model_patterns = 'gpt-4*' WHERE id = 'key_1'");
  std::vector<User> users;
  std::vector<ApiKey> keys;
  int64_t seq = 0;
  Status s = env_.store()->LoadAll(&users, &keys, &seq);
  EXPECT_EQ(s.kind(), Status::Kind::kUnavailable);
  EXPECT_NE(s.message().find("key_1"), std::string::npos) << s.message();
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsRefused) {
  const std::string path = env_.dir() + "/junk.db";
  {
    std::ofstream f(path);
    for (int i = 0; i < 100; ++i) f << "this is not an sqlite database at all\n";
  }
  std::string error;
  auto s = OpenStore("sqlite://" + path, "", &error);
  if (s != nullptr) {
    EXPECT_EQ(s->Migrate().kind(), Status::Kind::kUnavailable);
  } else {
    EXPECT_FALSE(error.empty());
  }
}

// ---- PostgreSQL

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(env_.store()->Migrate().ok());
  }
  void TearDown() override { env_.TearDown(); }
  PgStoreEnv env_;
};

TEST_F(PgStoreTest, ConcurrentMigrationsApplyOnce) {
  // A fresh schema, migrated by four instances at once.
  PgStoreEnv fresh;
  fresh.SetUp();
  if (HasFatalFailure()) return;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < 4; ++i) stores.push_back(fresh.OpenAnother());
  std::vector<Status> results(stores.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < stores.size(); ++i) {
    ASSERT_NE(stores[i], nullptr);
    threads.emplace_back([&, i] { results[i] = stores[i]->Migrate(); });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(fresh.Admin("DO $$ BEGIN IF (SELECT COUNT(*) FROM " + fresh.schema() +
                          ".schema_migrations) <> (SELECT MAX(version) FROM " + fresh.schema() +
                          ".schema_migrations) THEN RAISE EXCEPTION 'applied more than once'; END IF; END $$"));
  int64_t seq = -1;
  EXPECT_TRUE(stores[0]->ChangeSeq(&seq).ok());
  EXPECT_EQ(seq, 0);
  stores.clear();
  fresh.TearDown();
}

TEST_F(PgStoreTest, ReconnectsAfterTheConnectionDies) {
  ASSERT_TRUE(env_.store()->CreateKey(Key("key_1")).ok());
  ASSERT_TRUE(env_.Admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
                         env_.schema() + "'"));
  // The call that finds the connection dead fails (kUnavailable); a later one
  // reconnects.
  Status first = env_.store()->Ping();
  if (!first.ok()) {
    EXPECT_EQ(first.kind(), Status::Kind::kUnavailable);
    EXPECT_EQ(first.message().find("password"), std::string::npos);
  }
  Status again = env_.store()->Ping();
  EXPECT_TRUE(again.ok()) << again.message();
  std::vector<ApiKey> keys;
  ASSERT_TRUE(env_.store()->ListKeys("", &keys).ok());
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].permissions.model_patterns, std::vector<std::string>{"gpt-4*"});
}

TEST_F(PgStoreTest, AnotherInstanceSeesChangesThroughChangeSeq) {
  auto other = env_.OpenAnother();
  ASSERT_NE(other, nullptr);
  int64_t before = -1;
  ASSERT_TRUE(other->ChangeSeq(&before).ok());
  ASSERT_TRUE(env_.store()->CreateKey(Key("key_1")).ok());
  ASSERT_TRUE(env_.store()->RevokeKey("key_1", 42).ok());
  int64_t after = -1;
  ASSERT_TRUE(other->ChangeSeq(&after).ok());
  EXPECT_EQ(after, before + 2);
  std::vector<User> users;
  std::vector<ApiKey> keys;
  int64_t seq = -1;
  ASSERT_TRUE(other->LoadAll(&users, &keys, &seq).ok());
  EXPECT_EQ(seq, after);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].revoked_at, 42);
  EXPECT_EQ(other->Kind(), "postgres");
}

TEST_F(PgStoreTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(env_.Admin("INSERT INTO " + env_.schema() + ".schema_migrations (version, applied_at) VALUES (99, 0)"));
  Status s = env_.store()->Migrate();
  EXPECT_EQ(s.kind(), Status::Kind::kInvalid);
}

TEST_F(PgStoreTest, ConcurrentUsageWritersDoNotConflict) {
  auto other = env_.OpenAnother();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(env_.store()->CreateKey(Key("key_1")).ok());
  auto rows = [](int from) {
    std::vector<UsageRecord> v;
    for (int i = from; i < from + 300; ++i) {
      UsageRecord r;
      r.request_id = "req_" + std::to_string(i);
      r.ts = 1000 + i;
      r.key_id = "key_1";
      v.push_back(r);
    }
    return v;
  };
  Status sa, sb;
  std::thread ta([&] {
    for (int i = 0; i < 5 && sa.ok(); ++i) sa = env_.store()->InsertUsage(rows(i * 100));
  });
  std::thread tb([&] {
    for (int i = 0; i < 5 && sb.ok(); ++i) sb = other->InsertUsage(rows(i * 100 + 50));
  });
  ta.join();
  tb.join();
  EXPECT_TRUE(sa.ok()) << sa.message();
  EXPECT_TRUE(sb.ok()) << sb.message();
  int64_t n = 0;
  ASSERT_TRUE(env_.store()->CountUsage(&n).ok());
  EXPECT_EQ(n, 750);  // req_0 .. req_749
  std::vector<ApiKey> keys;
  ASSERT_TRUE(env_.store()->ListKeys("", &keys).ok());
  EXPECT_EQ(keys[0].last_used, 1000 + 749);
}

}  // namespace
}  // namespace sy::gov
