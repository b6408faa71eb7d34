// The Store contract, run against FakeStore, SqliteStore and PgStore alike.
#include "governance/store.h"

#include <gtest/gtest.h>

#include <set>

#include "store_test_env.h"

namespace sy::gov {
namespace {

using store_testing::FakeStoreEnv;
using store_testing::PgStoreEnv;
using store_testing::SqliteStoreEnv;

constexpr int64_t kDay = 86400000;
constexpr int64_t kT0 = 1767225600000;  // 2026-01-01T00:00:00Z

User MakeUser(const std::string& id, const std::string& email, const std::string& username, int64_t created_at) {
  User u;
  u.id = id;
  u.email = email;
  u.username = username;
  u.name = "Name of " + id;
  u.created_at = created_at;
  return u;
}

ApiKey MakeKey(const std::string& id, const std::string& user_id, int64_t created_at) {
  ApiKey k;
  k.id = id;
  k.hash = "hash-of-" + id;
  k.display = "sy-u-" + id + "...wxyz";
  k.name = "key " + id;
  k.user_id = user_id;
  k.created_at = created_at;
  return k;
}

UsageRecord MakeRow(const std::string& request_id, int64_t ts, const std::string& key_id, const std::string& user_id,
                    const std::string& provider, const std::string& model, int64_t prompt, int64_t completion,
                    Micros cost) {
  UsageRecord r;
  r.request_id = request_id;
  r.ts = ts;
  r.key_id = key_id;
  r.user_id = user_id;
  r.provider = provider;
  r.model = model;
  r.upstream_model = model + "-2025";
  r.endpoint = "chat.completions";
  r.status = 200;
  r.prompt_tokens = prompt;
  r.completion_tokens = completion;
  r.cost = cost;
  r.usage_source = "provider";
  return r;
}

void ExpectSameUser(const User& a, const User& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.username, b.username);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.budget_limit, b.budget_limit);
  EXPECT_EQ(a.budget_period, b.budget_period);
  EXPECT_EQ(a.rpm_limit, b.rpm_limit);
  EXPECT_EQ(a.tpm_limit, b.tpm_limit);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.last_login, b.last_login);
  EXPECT_EQ(a.disabled, b.disabled);
}

void ExpectSameKey(const ApiKey& a, const ApiKey& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.display, b.display);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.permissions.chat_completions, b.permissions.chat_completions);
  EXPECT_EQ(a.permissions.completions, b.permissions.completions);
  EXPECT_EQ(a.permissions.embeddings, b.permissions.embeddings);
  EXPECT_EQ(a.permissions.models, b.permissions.models);
  EXPECT_EQ(a.permissions.model_patterns, b.permissions.model_patterns);
  EXPECT_EQ(a.rpm_limit, b.rpm_limit);
  EXPECT_EQ(a.tpm_limit, b.tpm_limit);
  EXPECT_EQ(a.budget_limit, b.budget_limit);
  EXPECT_EQ(a.budget_period, b.budget_period);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.revoked_at, b.revoked_at);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.last_used, b.last_used);
}

template <typename Env>
class StoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.SetUp();
    if (HasFatalFailure()) return;
    Status s = store()->Migrate();
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void TearDown() override { env_.TearDown(); }
  Store* store() { return env_.store(); }
  int64_t Seq() {
    int64_t seq = -1;
    Status s = store()->ChangeSeq(&seq);
    EXPECT_TRUE(s.ok()) << s.message();
    return seq;
  }
  ApiKey GetKey(const std::string& id) {
    std::vector<ApiKey> keys;
    EXPECT_TRUE(store()->ListKeys("", &keys).ok());
    for (const auto& k : keys) {
      if (k.id == id) return k;
    }
    ADD_FAILURE() << "no key " << id;
    return ApiKey();
  }
  User GetUser(const std::string& id) {
    User u;
    Status s = store()->GetUser(id, &u);
    EXPECT_TRUE(s.ok()) << s.message();
    return u;
  }
  void Insert(const std::vector<UsageRecord>& rows) {
    Status s = store()->InsertUsage(rows);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  Env env_;
};

using StoreEnvs = ::testing::Types<FakeStoreEnv, SqliteStoreEnv, PgStoreEnv>;
class EnvNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, FakeStoreEnv>) return "Fake";
    if (std::is_same_v<T, SqliteStoreEnv>) return "Sqlite";
    return "Postgres";
  }
};
TYPED_TEST_SUITE(StoreContract, StoreEnvs, EnvNames);

// ---- users

TYPED_TEST(StoreContract, UserCreateGetUpdate) {
  User u = MakeUser("user_1", "ann@example.com", "ann", kT0);
  u.role = "admin";
  u.budget_limit = 5'000'000;
  u.budget_period = BudgetPeriod::kWeekly;
  u.rpm_limit = 60;
  u.tpm_limit = 90000;
  u.disabled = true;
  ASSERT_TRUE(this->store()->CreateUser(u).ok());
  ExpectSameUser(this->GetUser("user_1"), u);

  User changed = u;
  changed.email = "ann@example.org";
  changed.username = "";
  changed.name = "Ann B.";
  changed.role = "user";
  changed.budget_limit = kNoBudget;
  changed.budget_period = BudgetPeriod::kNone;
  changed.disabled = false;
  changed.created_at = kT0 + 999;  // not replaced
  ASSERT_TRUE(this->store()->UpdateUser(changed).ok());
  User got = this->GetUser("user_1");
  changed.created_at = kT0;
  ExpectSameUser(got, changed);

  User missing;
  EXPECT_EQ(this->store()->GetUser("user_nope", &missing).kind(), Status::Kind::kNotFound);
  EXPECT_EQ(this->store()->UpdateUser(MakeUser("user_nope", "", "", kT0)).kind(), Status::Kind::kNotFound);
  EXPECT_EQ(this->store()->CreateUser(MakeUser("", "", "", kT0)).kind(), Status::Kind::kInvalid);
}

TYPED_TEST(StoreContract, UserConflictsChangeNothing) {
  ASSERT_TRUE(this->store()->CreateUser(MakeUser("user_1", "Ann@Example.com", "Ann", kT0)).ok());
  ASSERT_TRUE(this->store()->CreateUser(MakeUser("user_2", "bob@example.com", "bob", kT0 + 1)).ok());
  // Users without email or username do not collide with one another.
  ASSERT_TRUE(this->store()->CreateUser(MakeUser("user_3", "", "", kT0 + 2)).ok());
  ASSERT_TRUE(this->store()->CreateUser(MakeUser("user_4", "", "", kT0 + 3)).ok());
  const int64_t seq = this->Seq();

  EXPECT_EQ(this->store()->CreateUser(MakeUser("user_1", "x@example.com", "x", kT0)).kind(), Status::Kind::kConflict);
  Status s = this->store()->CreateUser(MakeUser("user_5", "ann@EXAMPLE.com", "", kT0));
  EXPECT_EQ(s.kind(), Status::Kind::kConflict);
  EXPECT_NE(s.message().find("email"), std::string::npos) << s.message();
  s = this->store()->CreateUser(MakeUser("user_5", "", "ANN", kT0));
  EXPECT_EQ(s.kind(), Status::Kind::kConflict);
  EXPECT_NE(s.message().find("username"), std::string::npos) << s.message();

  User bob = this->GetUser("user_2");
  bob.email = "ANN@example.com";
  EXPECT_EQ(this->store()->UpdateUser(bob).kind(), Status::Kind::kConflict);
  EXPECT_EQ(this->GetUser("user_2").email, "bob@example.com");
  EXPECT_EQ(this->Seq(), seq) << "a failed write must not move change_seq";

  // A user keeps its own email through an update.
  User ann = this->GetUser("user_1");
  ann.name = "Ann";
  EXPECT_TRUE(this->store()->UpdateUser(ann).ok());
}

TYPED_TEST(StoreContract, ListUsersPagesOldestFirst) {
  for (int i = 0; i < 25; ++i) {
    char id[16];
    snprintf(id, sizeof id, "user_%02d", i);
    // Created in a shuffled order; listed by created_at.
    ASSERT_TRUE(this->store()->CreateUser(MakeUser(id, std::string(id) + "@example.com", "", kT0 + (i * 7) % 25)).ok());
  }
  std::vector<User> page;
  int64_t total = 0;
  UserQuery q;
  q.limit = 10;
  ASSERT_TRUE(this->store()->ListUsers(q, &page, &total).ok());
  EXPECT_EQ(total, 25);
  ASSERT_EQ(page.size(), 10u);
  for (size_t i = 0; i < page.size(); ++i) EXPECT_EQ(page[i].created_at, kT0 + static_cast<int64_t>(i));

  std::set<std::string> seen;
  for (q.page = 1; q.page <= 3; ++q.page) {
    ASSERT_TRUE(this->store()->ListUsers(q, &page, &total).ok());
    for (const auto& u : page) seen.insert(u.id);
  }
  EXPECT_EQ(seen.size(), 25u);
  q.page = 3;
  ASSERT_TRUE(this->store()->ListUsers(q, &page, &total).ok());
  EXPECT_EQ(page.size(), 5u);
  q.page = 4;
  ASSERT_TRUE(this->store()->ListUsers(q, &page, &total).ok());
  EXPECT_TRUE(page.empty());
  EXPECT_EQ(total, 25);

  q.page = 0;
  EXPECT_EQ(this->store()->ListUsers(q, &page, &total).kind(), Status::Kind::kInvalid);
  q.page = 1;
  q.limit = 0;
  EXPECT_EQ(this->store()->ListUsers(q, &page, &total).kind(), Status::Kind::kInvalid);
  q.limit = 1001;
  EXPECT_EQ(this->store()->ListUsers(q, &page, &total).kind(), Status::Kind::kInvalid);
}

TYPED_TEST(StoreContract, ListUsersSearchesEmailUsernameAndName) {
  User a = MakeUser("user_a", "alice@corp.example", "ally", kT0);
  a.name = "Alice Smith";
  User b = MakeUser("user_b", "bob@home.example", "bobby_100%", kT0 + 1);
  b.name = "Robert Jones";
  User c = MakeUser("user_c", "", "", kT0 + 2);
  c.name = "Carol SMITHERS";
  for (const User& u : {a, b, c}) ASSERT_TRUE(this->store()->CreateUser(u).ok());

  auto search = [&](const std::string& s) {
    UserQuery q;
    q.search = s;
    std::vector<User> out;
    int64_t total = -1;
    Status st = this->store()->ListUsers(q, &out, &total);
    EXPECT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(total, static_cast<int64_t>(out.size()));
    std::vector<std::string> ids;
    for (const auto& u : out) ids.push_back(u.id);
    return ids;
  };
  EXPECT_EQ(search("smith"), (std::vector<std::string>{"user_a", "user_c"}));
  EXPECT_EQ(search("CORP"), (std::vector<std::string>{"user_a"}));
  EXPECT_EQ(search("bobby"), (std::vector<std::string>{"user_b"}));
  EXPECT_EQ(search("example"), (std::vector<std::string>{"user_a", "user_b"}));
  // Wildcard characters are plain text.
  EXPECT_EQ(search("100%"), (std::vector<std::string>{"user_b"}));
  EXPECT_EQ(search("%"), (std::vector<std::string>{"user_b"}));
  EXPECT_EQ(search("_"), (std::vector<std::string>{"user_b"}));
  EXPECT_TRUE(search("nobody").empty());
  EXPECT_EQ(search("").size(), 3u);
}

// ---- keys

TYPED_TEST(StoreContract, KeysCreateUpdateRevokeList) {
  ApiKey k1 = MakeKey("key_1", "user_1", kT0 + 10);
  k1.type = KeyType::kService;
  k1.permissions.embeddings = false;
  k1.permissions.model_patterns = {"gpt-4*", "openai/*", "we\"ird\\name", "\xc3\xa9t\xc3\xa9"};
  k1.rpm_limit = 10;
  k1.tpm_limit = 1000;
  k1.budget_limit = 2'500'000;
  k1.budget_period = BudgetPeriod::kMonthly;
  k1.expires_at = kT0 + 30 * kDay;
  ApiKey k2 = MakeKey("key_2", "user_2", kT0 + 5);
  ApiKey k3 = MakeKey("key_3", "user_1", kT0 + 20);
  k3.type = KeyType::kAdmin;
  for (const ApiKey& k : {k1, k2, k3}) ASSERT_TRUE(this->store()->CreateKey(k).ok());

  std::vector<ApiKey> keys;
  ASSERT_TRUE(this->store()->ListKeys("", &keys).ok());
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].id, "key_2");  // oldest first
  ExpectSameKey(keys[1], k1);
  ExpectSameKey(keys[2], k3);
  ASSERT_TRUE(this->store()->ListKeys("user_1", &keys).ok());
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].id, "key_1");
  EXPECT_EQ(keys[1].id, "key_3");
  ASSERT_TRUE(this->store()->ListKeys("user_none", &keys).ok());
  EXPECT_TRUE(keys.empty());

  // Update replaces everything but id, hash, display and created_at.
  ApiKey edit = k1;
  edit.hash = "other-hash";
  edit.display = "other-display";
  edit.created_at = 1;
  edit.name = "renamed";
  edit.user_id = "user_2";
  edit.type = KeyType::kUser;
  edit.permissions = Permissions();
  edit.permissions.models = false;
  edit.rpm_limit = 0;
  edit.budget_limit = kNoBudget;
  edit.budget_period = BudgetPeriod::kNone;
  edit.expires_at = 0;
  ASSERT_TRUE(this->store()->UpdateKey(edit).ok());
  ApiKey want = edit;
  want.hash = k1.hash;
  want.display = k1.display;
  want.created_at = k1.created_at;
  ExpectSameKey(this->GetKey("key_1"), want);

  // Revocation: once, and it sticks.
  ASSERT_TRUE(this->store()->RevokeKey("key_2", kT0 + 100).ok());
  EXPECT_EQ(this->GetKey("key_2").revoked_at, kT0 + 100);
  const int64_t seq = this->Seq();
  ASSERT_TRUE(this->store()->RevokeKey("key_2", kT0 + 200).ok());
  EXPECT_EQ(this->GetKey("key_2").revoked_at, kT0 + 100);
  EXPECT_EQ(this->Seq(), seq) << "revoking a revoked key changes nothing";
  ApiKey stale = k2;  // an edit made from a copy read before the revocation
  stale.name = "renamed after revocation";
  ASSERT_TRUE(this->store()->UpdateKey(stale).ok());
  EXPECT_EQ(this->GetKey("key_2").revoked_at, kT0 + 100) << "UpdateKey must not bring a revoked key back";
  EXPECT_EQ(this->GetKey("key_2").name, "renamed after revocation");

  EXPECT_EQ(this->store()->RevokeKey("key_nope", kT0).kind(), Status::Kind::kNotFound);
  EXPECT_EQ(this->store()->RevokeKey("key_1", 0).kind(), Status::Kind::kInvalid);
  EXPECT_EQ(this->store()->UpdateKey(MakeKey("key_nope", "", kT0)).kind(), Status::Kind::kNotFound);
}

TYPED_TEST(StoreContract, KeyConflictsOnIdAndHash) {
  ASSERT_TRUE(this->store()->CreateKey(MakeKey("key_1", "user_1", kT0)).ok());
  const int64_t seq = this->Seq();
  ApiKey same_id = MakeKey("key_1", "user_1", kT0);
  same_id.hash = "different";
  EXPECT_EQ(this->store()->CreateKey(same_id).kind(), Status::Kind::kConflict);
  ApiKey same_hash = MakeKey("key_2", "user_1", kT0);
  same_hash.hash = "hash-of-key_1";
  Status s = this->store()->CreateKey(same_hash);
  EXPECT_EQ(s.kind(), Status::Kind::kConflict);
  EXPECT_NE(s.message().find("hash"), std::string::npos) << s.message();
  EXPECT_EQ(this->Seq(), seq);
  ApiKey no_hash = MakeKey("key_3", "", kT0);
  no_hash.hash = "";
  EXPECT_EQ(this->store()->CreateKey(no_hash).kind(), Status::Kind::kInvalid);
  EXPECT_EQ(this->store()->CreateKey(MakeKey("", "", kT0)).kind(), Status::Kind::kInvalid);
}

// ---- change tracking

TYPED_TEST(StoreContract, ChangeSeqMovesOnEveryWriteAndLoadAllIsConsistent) {
  int64_t last = this->Seq();
  auto moved = [&](const char* what) {
    const int64_t now = this->Seq();
    EXPECT_GT(now, last) << what;
    last = now;
  };
  ASSERT_TRUE(this->store()->CreateUser(MakeUser("user_1", "a@x", "a", kT0)).ok());
  moved("CreateUser");
  ASSERT_TRUE(this->store()->UpdateUser(MakeUser("user_1", "a@y", "a", kT0)).ok());
  moved("UpdateUser");
  ASSERT_TRUE(this->store()->CreateKey(MakeKey("key_1", "user_1", kT0)).ok());
  moved("CreateKey");
  EXPECT_EQ(this->GetKey("key_1").change_seq, last);
  ASSERT_TRUE(this->store()->UpdateKey(MakeKey("key_1", "user_1", kT0)).ok());
  moved("UpdateKey");
  EXPECT_EQ(this->GetKey("key_1").change_seq, last);
  ASSERT_TRUE(this->store()->RevokeKey("key_1", kT0 + 1).ok());
  moved("RevokeKey");
  EXPECT_EQ(this->GetKey("key_1").change_seq, last);

  // Usage moves last_used, not change_seq.
  this->Insert({MakeRow("req_1", kT0 + 50, "key_1", "user_1", "openai", "gpt-4o", 1, 1, 1)});
  EXPECT_EQ(this->Seq(), last);

  ASSERT_TRUE(this->store()->CreateKey(MakeKey("key_2", "", kT0 + 1)).ok());
  std::vector<User> users;
  std::vector<ApiKey> keys;
  int64_t seq = -1;
  ASSERT_TRUE(this->store()->LoadAll(&users, &keys, &seq).ok());
  EXPECT_EQ(seq, this->Seq());
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].email, "a@y");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].id, "key_1");
  EXPECT_EQ(keys[0].revoked_at, kT0 + 1);
  EXPECT_EQ(keys[1].id, "key_2");
  for (const auto& k : keys) EXPECT_LE(k.change_seq, seq);
  EXPECT_EQ(keys[1].change_seq, seq);
}

// ---- usage

TYPED_TEST(StoreContract, InsertUsageIsIdempotent) {
  std::vector<UsageRecord> rows;
  for (int i = 0; i < 1200; ++i) {  // more than one multi-row statement
    rows.push_back(MakeRow("req_" + std::to_string(i), kT0 + i, "key_1", "user_1", "openai", "gpt-4o", 10, 5, 7));
  }
  this->Insert(rows);
  int64_t n = 0;
  ASSERT_TRUE(this->store()->CountUsage(&n).ok());
  EXPECT_EQ(n, 1200);

  // A replay of part of it, with new rows, and a row twice in one batch.
  std::vector<UsageRecord> replay(rows.begin() + 1000, rows.end());
  replay.push_back(MakeRow("req_new", kT0, "key_1", "user_1", "openai", "gpt-4o", 1, 1, 1));
  replay.push_back(MakeRow("req_new", kT0, "key_1", "user_1", "openai", "gpt-4o", 1, 1, 1));
  UsageRecord changed = rows[0];
  changed.cost = 999;  // same request id: the stored row stays as it was
  replay.push_back(changed);
  this->Insert(replay);
  ASSERT_TRUE(this->store()->CountUsage(&n).ok());
  EXPECT_EQ(n, 1201);
  UsageQuery q;
  q.end = kT0 + 1;
  std::vector<UsageRecord> got;
  ASSERT_TRUE(this->store()->ListUsage(q, 10, &got).ok());
  ASSERT_EQ(got.size(), 2u);
  for (const auto& r : got) EXPECT_NE(r.cost, 999);

  EXPECT_TRUE(this->store()->InsertUsage({}).ok());
  std::vector<UsageRecord> bad = {MakeRow("", kT0, "", "", "", "", 0, 0, 0)};
  EXPECT_EQ(this->store()->InsertUsage(bad).kind(), Status::Kind::kInvalid);
}

TYPED_TEST(StoreContract, UsageRowRoundTrips) {
  UsageRecord r = MakeRow("req_full", kT0 + 123, "key_9", "user_9", "anthropic", "claude-x", 1000, 200, 4321);
  r.upstream_model = "claude-x-20250101";
  r.endpoint = "messages";
  r.status = 499;
  r.latency_ms = 2345;
  r.ttft_ms = -1;
  r.cached_tokens = 800;
  r.reasoning_tokens = 150;
  r.usage_source = "estimated";
  r.error = "client_closed";
  this->Insert({r});
  std::vector<UsageRecord> got;
  ASSERT_TRUE(this->store()->ListUsage(UsageQuery(), 5, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  const UsageRecord& g = got[0];
  EXPECT_EQ(g.request_id, r.request_id);
  EXPECT_EQ(g.ts, r.ts);
  EXPECT_EQ(g.key_id, r.key_id);
  EXPECT_EQ(g.user_id, r.user_id);
  EXPECT_EQ(g.provider, r.provider);
  EXPECT_EQ(g.model, r.model);
  EXPECT_EQ(g.upstream_model, r.upstream_model);
  EXPECT_EQ(g.endpoint, r.endpoint);
  EXPECT_EQ(g.status, r.status);
  EXPECT_EQ(g.latency_ms, r.latency_ms);
  EXPECT_EQ(g.ttft_ms, r.ttft_ms);
  EXPECT_EQ(g.prompt_tokens, r.prompt_tokens);
  EXPECT_EQ(g.completion_tokens, r.completion_tokens);
  EXPECT_EQ(g.cached_tokens, r.cached_tokens);
  EXPECT_EQ(g.reasoning_tokens, r.reasoning_tokens);
  EXPECT_EQ(g.cost, r.cost);
  EXPECT_EQ(g.usage_source, r.usage_source);
  EXPECT_EQ(g.error, r.error);
}

TYPED_TEST(StoreContract, UsageTextKeepsEveryCharacter) {
  // Model names come from clients: quotes, backslashes, braces, commas,
  // "NULL", spaces and non-ASCII text must come back as they went in, also
  // when many rows go in one statement.
  const std::vector<std::string> models = {
      R"(a"b)", R"(back\slash)", "{brace},comma", "NULL", "", " spaced out ", "模型-ü", R"(\"{,}\\)", "x\ty\nz"};
  std::vector<UsageRecord> rows;
  for (size_t i = 0; i < models.size(); ++i) {
    UsageRecord r = MakeRow("req_text_" + std::to_string(i), kT0 + static_cast<int64_t>(i), "key_1", "user_1",
                            "openai", models[i], 1, 2, 3);
    r.error = models[models.size() - 1 - i];
    r.upstream_model = models[i] + "-up";
    rows.push_back(r);
  }
  this->Insert(rows);
  std::vector<UsageRecord> got;
  ASSERT_TRUE(this->store()->ListUsage(UsageQuery(), 100, &got).ok());
  ASSERT_EQ(got.size(), models.size());
  for (const UsageRecord& g : got) {
    const size_t i = std::stoul(g.request_id.substr(std::string("req_text_").size()));
    EXPECT_EQ(g.model, models[i]);
    EXPECT_EQ(g.upstream_model, models[i] + "-up");
    EXPECT_EQ(g.error, models[models.size() - 1 - i]);
    EXPECT_EQ(g.prompt_tokens, 1);
  }
  int64_t n = -1;
  ASSERT_TRUE(this->store()->CountUsageSince(kT0 + 3, &n).ok());
  EXPECT_EQ(n, static_cast<int64_t>(models.size()) - 3) << "rows from ts kT0+3 on";
  ASSERT_TRUE(this->store()->CountUsageSince(kT0 + 1000, &n).ok());
  EXPECT_EQ(n, 0);
}

TYPED_TEST(StoreContract, LastUsedAndLastLoginMoveForwardOnly) {
  ASSERT_TRUE(this->store()->CreateUser(MakeUser("user_1", "", "", kT0)).ok());
  ASSERT_TRUE(this->store()->CreateKey(MakeKey("key_1", "user_1", kT0)).ok());
  this->Insert({MakeRow("r1", kT0 + 500, "key_1", "user_1", "p", "m", 1, 1, 1),
                MakeRow("r2", kT0 + 900, "key_1", "user_1", "p", "m", 1, 1, 1),
                MakeRow("r3", kT0 + 700, "key_1", "user_1", "p", "m", 1, 1, 1)});
  EXPECT_EQ(this->GetKey("key_1").last_used, kT0 + 900);
  EXPECT_EQ(this->GetUser("user_1").last_login, kT0 + 900);
  // An older batch (a spool replay) does not take them back.
  this->Insert({MakeRow("r0", kT0 + 100, "key_1", "user_1", "p", "m", 1, 1, 1)});
  EXPECT_EQ(this->GetKey("key_1").last_used, kT0 + 900);
  EXPECT_EQ(this->GetUser("user_1").last_login, kT0 + 900);
  // Nor does an admin edit made from an older copy.
  ASSERT_TRUE(this->store()->UpdateKey(MakeKey("key_1", "user_1", kT0)).ok());
  ASSERT_TRUE(this->store()->UpdateUser(MakeUser("user_1", "", "", kT0)).ok());
  EXPECT_EQ(this->GetKey("key_1").last_used, kT0 + 900);
  EXPECT_EQ(this->GetUser("user_1").last_login, kT0 + 900);
  this->Insert({MakeRow("r4", kT0 + 1000, "key_1", "user_1", "p", "m", 1, 1, 1)});
  EXPECT_EQ(this->GetKey("key_1").last_used, kT0 + 1000);
  EXPECT_EQ(this->GetUser("user_1").last_login, kT0 + 1000);
}

TYPED_TEST(StoreContract, ListUsageFiltersNewestFirst) {
  this->Insert({MakeRow("a", kT0 + 1, "key_1", "user_1", "openai", "gpt-4o", 1, 1, 1),
                MakeRow("b", kT0 + 2, "key_2", "user_1", "anthropic", "claude", 1, 1, 1),
                MakeRow("c", kT0 + 3, "key_1", "user_2", "openai", "gpt-4o-mini", 1, 1, 1),
                MakeRow("d", kT0 + 4, "key_3", "user_3", "openai", "gpt-4o", 1, 1, 1)});
  auto ids = [&](const UsageQuery& q, int64_t limit) {
    std::vector<UsageRecord> out;
    Status s = this->store()->ListUsage(q, limit, &out);
    EXPECT_TRUE(s.ok()) << s.message();
    std::string joined;
    for (const auto& r : out) joined += r.request_id;
    return joined;
  };
  EXPECT_EQ(ids(UsageQuery(), 10), "dcba");
  EXPECT_EQ(ids(UsageQuery(), 2), "dc");
  EXPECT_EQ(ids(UsageQuery(), 0), "");
  UsageQuery q;
  q.key_id = "key_1";
  EXPECT_EQ(ids(q, 10), "ca");
  q = UsageQuery();
  q.user_id = "user_1";
  EXPECT_EQ(ids(q, 10), "ba");
  q = UsageQuery();
  q.provider = "openai";
  q.model = "gpt-4o";
  EXPECT_EQ(ids(q, 10), "da");
  q = UsageQuery();
  q.start = kT0 + 2;
  q.end = kT0 + 4;  // exclusive
  EXPECT_EQ(ids(q, 10), "cb");
}

TYPED_TEST(StoreContract, ReportSummarizesByModelProviderAndUtcDay) {
  // Two UTC days: 23:59:59.999 belongs to the first, midnight to the second.
  const int64_t day2 = kT0 + kDay;
  this->Insert({MakeRow("a", kT0, "key_1", "user_1", "openai", "gpt-4o", 100, 10, 1000),
                MakeRow("b", day2 - 1, "key_1", "user_1", "openai", "gpt-4o-mini", 50, 5, 100),
                MakeRow("c", day2, "key_2", "user_2", "anthropic", "claude", 200, 20, 5000),
                MakeRow("d", day2 + 5, "key_3", "", "openai", "gpt-4o", 10, 1, 300)});
  UsageReport r;
  ASSERT_TRUE(this->store()->Report(UsageQuery(), &r).ok());
  EXPECT_EQ(r.summary.requests, 4);
  EXPECT_EQ(r.summary.prompt_tokens, 360);
  EXPECT_EQ(r.summary.completion_tokens, 36);
  EXPECT_EQ(r.summary.tokens, 396);
  EXPECT_EQ(r.summary.cost, 6400);
  EXPECT_EQ(r.unique_users, 2);  // "" is nobody

  ASSERT_EQ(r.by_model.size(), 3u);
  EXPECT_EQ(r.by_model[0].first, "claude");
  EXPECT_EQ(r.by_model[0].second.cost, 5000);
  EXPECT_EQ(r.by_model[1].first, "gpt-4o");
  EXPECT_EQ(r.by_model[1].second.requests, 2);
  EXPECT_EQ(r.by_model[1].second.tokens, 121);
  EXPECT_EQ(r.by_model[1].second.cost, 1300);
  EXPECT_EQ(r.by_model[2].first, "gpt-4o-mini");

  ASSERT_EQ(r.by_provider.size(), 2u);
  EXPECT_EQ(r.by_provider[0].first, "anthropic");
  EXPECT_EQ(r.by_provider[1].first, "openai");
  EXPECT_EQ(r.by_provider[1].second.requests, 3);
  EXPECT_EQ(r.by_provider[1].second.cost, 1400);

  ASSERT_EQ(r.daily.size(), 2u);
  EXPECT_EQ(r.daily[0].first, "2026-01-01");
  EXPECT_EQ(r.daily[0].second.requests, 2);
  EXPECT_EQ(r.daily[0].second.cost, 1100);
  EXPECT_EQ(r.daily[1].first, "2026-01-02");
  EXPECT_EQ(r.daily[1].second.requests, 2);

  UsageQuery q;
  q.provider = "openai";
  q.start = day2 - 1;
  ASSERT_TRUE(this->store()->Report(q, &r).ok());
  EXPECT_EQ(r.summary.requests, 2);
  EXPECT_EQ(r.summary.cost, 400);
  EXPECT_EQ(r.unique_users, 1);
  ASSERT_EQ(r.daily.size(), 2u);
  EXPECT_EQ(r.daily[0].first, "2026-01-01");
  EXPECT_EQ(r.daily[1].first, "2026-01-02");

  q = UsageQuery();
  q.user_id = "user_nobody";
  ASSERT_TRUE(this->store()->Report(q, &r).ok());
  EXPECT_EQ(r.summary.requests, 0);
  EXPECT_EQ(r.summary.cost, 0);
  EXPECT_EQ(r.unique_users, 0);
  EXPECT_TRUE(r.by_model.empty());
  EXPECT_TRUE(r.daily.empty());
}

TYPED_TEST(StoreContract, TotalsSinceByKeyAndByUser) {
  this->Insert({MakeRow("a", kT0, "key_1", "user_1", "p", "m", 10, 1, 100),
                MakeRow("b", kT0 + 10, "key_1", "user_1", "p", "m", 20, 2, 200),
                MakeRow("c", kT0 + 20, "key_2", "user_1", "p", "m", 30, 3, 300),
                MakeRow("d", kT0 + 30, "", "user_2", "p", "m", 40, 4, 400),
                MakeRow("e", kT0 + 40, "key_3", "", "p", "m", 50, 5, 500)});
  std::vector<std::pair<std::string, UsageTotals>> t;
  ASSERT_TRUE(this->store()->TotalsSince(false, kT0 + 10, &t).ok());
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].first, "key_1");
  EXPECT_EQ(t[0].second.requests, 1);
  EXPECT_EQ(t[0].second.cost, 200);
  EXPECT_EQ(t[0].second.tokens, 22);
  EXPECT_EQ(t[1].first, "key_2");
  EXPECT_EQ(t[2].first, "key_3");

  ASSERT_TRUE(this->store()->TotalsSince(true, kT0, &t).ok());
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].first, "user_1");
  EXPECT_EQ(t[0].second.requests, 3);
  EXPECT_EQ(t[0].second.cost, 600);
  EXPECT_EQ(t[0].second.prompt_tokens, 60);
  EXPECT_EQ(t[0].second.completion_tokens, 6);
  EXPECT_EQ(t[1].first, "user_2");
  EXPECT_EQ(t[1].second.cost, 400);

  ASSERT_TRUE(this->store()->TotalsSince(true, kT0 + 1000, &t).ok());
  EXPECT_TRUE(t.empty());
}

TYPED_TEST(StoreContract, MigrateIsIdempotentAndReopenKeepsData) {
  ASSERT_TRUE(this->store()->CreateUser(MakeUser("user_1", "a@x", "a", kT0)).ok());
  ASSERT_TRUE(this->store()->CreateKey(MakeKey("key_1", "user_1", kT0)).ok());
  this->Insert({MakeRow("a", kT0, "key_1", "user_1", "p", "m", 1, 1, 1)});
  const int64_t seq = this->Seq();
  Status s = this->store()->Migrate();
  ASSERT_TRUE(s.ok()) << s.message();
  this->env_.Reopen();
  if (::testing::Test::HasFatalFailure()) return;
  s = this->store()->Migrate();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(this->Seq(), seq);
  EXPECT_EQ(this->GetUser("user_1").email, "a@x");
  EXPECT_EQ(this->GetKey("key_1").hash, "hash-of-key_1");
  int64_t n = 0;
  ASSERT_TRUE(this->store()->CountUsage(&n).ok());
  EXPECT_EQ(n, 1);
  EXPECT_TRUE(this->store()->Ping().ok());
}

// ---- chat sessions

ChatSession MakeSession(const std::string& id, int64_t created_ms, std::vector<ChatMessage> messages) {
  ChatSession s;
  s.id = id;
  s.created_ms = created_ms;
  s.updated_ms = created_ms + 5;
  s.messages = std::move(messages);
  return s;
}

void ExpectSameSession(const ChatSession& a, const ChatSession& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.updated_ms, b.updated_ms);
  ASSERT_EQ(a.messages.size(), b.messages.size()) << a.id;
  for (size_t i = 0; i < a.messages.size(); ++i) {
    EXPECT_EQ(a.messages[i].role, b.messages[i].role) << a.id << " #" << i;
    EXPECT_EQ(a.messages[i].content, b.messages[i].content) << a.id << " #" << i;
  }
}

TYPED_TEST(StoreContract, SessionsSaveReplaceLoadDelete) {
  const ChatSession a = MakeSession("sess-a", kT0 + 10,
                                    {{"system", "You are \"helpful\";\n\t'quoted' -- not a comment"},
                                     {"user", "Grüße, 世界! 🚀 $1 ?2 \\ \\n %s"},
                                     {"assistant", "line one\r\nline two\n\n"},
                                     {"user", ""}});
  const ChatSession b = MakeSession("b.1:2_3", kT0, {{"user", "hi"}});
  ASSERT_TRUE(this->store()->SaveSession(a).ok());
  ASSERT_TRUE(this->store()->SaveSession(b).ok());
  std::vector<ChatSession> got;
  ASSERT_TRUE(this->store()->LoadSessions(&got).ok());
  ASSERT_EQ(got.size(), 2u);
  ExpectSameSession(got[0], b);  // oldest first
  ExpectSameSession(got[1], a);

  // Replaced whole: fewer messages, new times.
  ChatSession a2 = MakeSession("sess-a", kT0 + 11, {{"user", "only this"}});
  a2.updated_ms = kT0 + 99;
  ASSERT_TRUE(this->store()->SaveSession(a2).ok());
  ASSERT_TRUE(this->store()->LoadSessions(&got).ok());
  ASSERT_EQ(got.size(), 2u);
  ExpectSameSession(got[1], a2);
  ExpectSameSession(got[0], b);

  // Emptied, then deleted.
  ASSERT_TRUE(this->store()->SaveSession(MakeSession("sess-a", kT0 + 11, {})).ok());
  ASSERT_TRUE(this->store()->LoadSessions(&got).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[1].messages.empty());
  ASSERT_TRUE(this->store()->DeleteSession("sess-a").ok());
  EXPECT_EQ(this->store()->DeleteSession("sess-a").kind(), Status::Kind::kNotFound);
  EXPECT_EQ(this->store()->DeleteSession("never").kind(), Status::Kind::kNotFound);
  ASSERT_TRUE(this->store()->LoadSessions(&got).ok());
  ASSERT_EQ(got.size(), 1u);
  ExpectSameSession(got[0], b);

  // Saved again after a delete: no message of the old one comes back.
  ASSERT_TRUE(this->store()->SaveSession(MakeSession("sess-a", kT0 + 20, {{"user", "new"}})).ok());
  ASSERT_TRUE(this->store()->LoadSessions(&got).ok());
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(got[1].messages.size(), 1u);
  EXPECT_EQ(got[1].messages[0].content, "new");

  EXPECT_EQ(this->store()->SaveSession(MakeSession("", kT0, {})).kind(), Status::Kind::kInvalid);
  EXPECT_EQ(this->Seq(), 0) << "sessions are not tracked by change_seq";
}

TYPED_TEST(StoreContract, LongSessionsKeepTheirOrderAcrossReopen) {
  // More messages than one INSERT takes, and a remainder.
  std::vector<ChatMessage> many;
  for (int i = 0; i < 150; ++i) many.push_back({i % 2 ? "assistant" : "user", "message " + std::to_string(i)});
  const ChatSession a = MakeSession("long", kT0, many);
  many.resize(65);
  const ChatSession b = MakeSession("shorter", kT0 + 1, many);
  ASSERT_TRUE(this->store()->SaveSession(a).ok());
  ASSERT_TRUE(this->store()->SaveSession(b).ok());
  this->env_.Reopen();
  if (::testing::Test::HasFatalFailure()) return;
  ASSERT_TRUE(this->store()->Migrate().ok());
  std::vector<ChatSession> got;
  ASSERT_TRUE(this->store()->LoadSessions(&got).ok());
  ASSERT_EQ(got.size(), 2u);
  ExpectSameSession(got[0], a);
  ExpectSameSession(got[1], b);
}

}  // namespace
}  // namespace sy::gov
