// Governance: the admission chokepoint, over a FakeStore, a FakeClock and the
// local limiter.
#include "governance/governance.h"

#include <gtest/gtest.h>

#include "fake_store.h"
#include "governance/clock.h"
#include "governance/keys.h"

namespace sy::gov {
namespace {

// 2026-12-02T10:00:00Z
constexpr int64_t kNow = 1796205600000;

class GovernanceTest : public ::testing::Test {
 protected:
  GovernanceTest() : clock_(kNow) {
    config_.server.admin_key = "server-admin-key";
    config_.keys.push_back({"cfg", "config-key-123", "user", 0, 0, -1, "", {}});
    config_.usage.key_refresh_ms = 10;
    config::PriceConfig price;
    price.model = "up-model";
    price.price = config::TokenPrice{1000000000, 2000000000, 500000000, -1};  // $1 / $2 per 1K, cached $0.5 per 1K
    config_.pricing.push_back(price);
  }
  ~GovernanceTest() override {
    if (gov_) gov_->Stop();
  }

  void Start() {
    gov_ = std::make_unique<Governance>(config_, &store_, NewLocalLimiter(), nullptr, &clock_);
    ASSERT_TRUE(gov_->Start().ok());
  }

  // A key in the store; returns its secret.
  std::string AddKey(ApiKey k) {
    const std::string secret = NewKeySecret(k.type);
    k.id = k.id.empty() ? NewId("key_") : k.id;
    k.hash = HexOf(KeyDigest(secret));
    k.display = DisplayOf(secret);
    k.created_at = clock_.NowMs();
    EXPECT_TRUE(store_.CreateKey(k).ok());
    if (gov_) {
      EXPECT_TRUE(gov_->keys().Reload().ok());
    }
    return secret;
  }

  Caller Auth(const std::string& key) {
    auto r = gov_->Authenticate(key);
    EXPECT_TRUE(std::holds_alternative<Caller>(r)) << (std::holds_alternative<GatewayError>(r)
                                                           ? std::get<GatewayError>(r).message
                                                           : "");
    return std::holds_alternative<Caller>(r) ? std::get<Caller>(r) : Caller{};
  }

  GatewayError Refused(const std::string& key) {
    auto r = gov_->Authenticate(key);
    EXPECT_TRUE(std::holds_alternative<GatewayError>(r));
    return std::holds_alternative<GatewayError>(r) ? std::get<GatewayError>(r) : GatewayError{};
  }

  config::Config config_;
  FakeStore store_;
  FakeClock clock_;
  std::unique_ptr<Governance> gov_;
};

TEST_F(GovernanceTest, MissingUnknownAndForgedKeysAre401) {
  Start();
  EXPECT_EQ(Refused("").code, ErrorCode::kUnauthorized);
  EXPECT_NE(Refused("").message.find("Missing"), std::string::npos);
  EXPECT_EQ(Refused("nope").message, "Incorrect API key provided.");
  std::string key = AddKey(ApiKey{});
  key.back() = key.back() == 'A' ? 'B' : 'A';  // the checksum no longer matches
  EXPECT_TRUE(HasBadChecksum(key));
  EXPECT_EQ(Refused(key).code, ErrorCode::kUnauthorized);
}

TEST_F(GovernanceTest, ConfigKeysStoreKeysAndTheAdminKeyAuthenticate) {
  Start();
  Caller cfg = Auth("config-key-123");
  ASSERT_NE(cfg.entry, nullptr);
  EXPECT_EQ(cfg.key_id(), "cfg_cfg");
  EXPECT_FALSE(cfg.admin);
  ApiKey k;
  k.name = "from-store";
  const std::string secret = AddKey(k);
  Caller c = Auth(secret);
  ASSERT_NE(c.entry, nullptr);
  EXPECT_EQ(c.entry->key.name, "from-store");
  Caller admin = Auth("server-admin-key");
  EXPECT_TRUE(admin.admin);
  EXPECT_EQ(admin.key_id(), "admin");
  ApiKey a;
  a.type = KeyType::kAdmin;
  EXPECT_TRUE(Auth(AddKey(a)).admin);
}

TEST_F(GovernanceTest, RevokedExpiredAndDisabledOwnersAre401) {
  Start();
  ApiKey k;
  k.id = "key_revoked";
  const std::string revoked = AddKey(k);
  ASSERT_TRUE(store_.RevokeKey("key_revoked", clock_.NowMs()).ok());
  ASSERT_TRUE(gov_->keys().Reload().ok());
  EXPECT_NE(Refused(revoked).message.find("revoked"), std::string::npos);

  ApiKey e;
  e.expires_at = kNow + 60000;
  const std::string expiring = AddKey(e);
  Auth(expiring);
  clock_.Advance(60000);
  EXPECT_NE(Refused(expiring).message.find("expired"), std::string::npos);

  User u;
  u.id = "user_off";
  u.username = "off";
  u.disabled = true;
  ASSERT_TRUE(store_.CreateUser(u).ok());
  ApiKey owned;
  owned.user_id = "user_off";
  EXPECT_NE(Refused(AddKey(owned)).message.find("disabled"), std::string::npos);
}

TEST_F(GovernanceTest, ARevocationElsewhereIsSeenWithinAPoll) {
  Start();
  ApiKey k;
  k.id = "key_elsewhere";
  const std::string secret = AddKey(k);
  Auth(secret);
  // Another instance revokes it in the shared store; this one only polls.
  ASSERT_TRUE(store_.RevokeKey("key_elsewhere", clock_.NowMs()).ok());
  bool refused = false;
  for (int i = 0; i < 200 && !refused; ++i) {  // 2 s at most; the poll runs every 10 ms
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    refused = std::holds_alternative<GatewayError>(gov_->Authenticate(secret));
  }
  EXPECT_TRUE(refused);
}

TEST_F(GovernanceTest, AuthOffLetsAnyoneInButTheAdminApi) {
  config_.server.auth = config::AuthMode::kNone;
  Start();
  Caller c = Auth("");
  EXPECT_TRUE(c.anonymous);
  EXPECT_FALSE(c.admin);
  EXPECT_TRUE(gov_->Authorize(c, EndpointClass::kChat) == std::nullopt);
  EXPECT_EQ(gov_->Authorize(c, EndpointClass::kAdmin)->code, ErrorCode::kForbidden);
  EXPECT_TRUE(Auth("server-admin-key").admin);
}

TEST_F(GovernanceTest, EndpointAndModelPermissionsAre403) {
  Start();
  ApiKey k;
  k.permissions.chat_completions = false;
  k.permissions.model_patterns = {"gpt-4*", "openai/*"};
  Caller c = Auth(AddKey(k));
  EXPECT_EQ(gov_->Authorize(c, EndpointClass::kChat)->code, ErrorCode::kForbidden);
  EXPECT_EQ(gov_->Authorize(c, EndpointClass::kCountTokens)->code, ErrorCode::kForbidden);
  EXPECT_FALSE(gov_->Authorize(c, EndpointClass::kEmbeddings));
  EXPECT_EQ(gov_->Authorize(c, EndpointClass::kAdmin)->code, ErrorCode::kForbidden);
  EXPECT_FALSE(gov_->AuthorizeModel(c, "gpt-4o", "x/y"));
  EXPECT_FALSE(gov_->AuthorizeModel(c, "alias", "openai/gpt-5"));
  auto denied = gov_->AuthorizeModel(c, "claude", "anthropic/claude");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->code, ErrorCode::kForbidden);
  EXPECT_EQ(denied->param, "model");
}

TEST_F(GovernanceTest, RequestsPerMinuteRefuseWithRetryAfterAndHeaders) {
  Start();
  ApiKey k;
  k.rpm_limit = 2;
  Caller c = Auth(AddKey(k));
  for (int i = 0; i < 2; ++i) {
    Ticket t;
    EXPECT_FALSE(gov_->Admit(c, true, 10, &t));
    ASSERT_EQ(t.headers.size(), 3u);
    EXPECT_EQ(t.headers[0], (std::pair<std::string, std::string>{"X-RateLimit-Limit", "2"}));
    EXPECT_EQ(t.headers[1].second, std::to_string(1 - i));
  }
  Ticket t;
  auto refused = gov_->Admit(c, true, 10, &t);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, ErrorCode::kRateLimited);
  ASSERT_TRUE(refused->retry_after);
  EXPECT_EQ(*refused->retry_after, "30");  // 2 per minute: one more in 30 s
  clock_.Advance(30000);
  Ticket again;
  EXPECT_FALSE(gov_->Admit(c, true, 10, &again));
}

TEST_F(GovernanceTest, GlobalAndUserLimitsApplyToEveryKey) {
  config_.limits.rpm = 3;
  User u;
  u.id = "user_a";
  u.username = "a";
  u.rpm_limit = 2;
  ASSERT_TRUE(store_.CreateUser(u).ok());
  Start();
  ApiKey k1, k2;
  k1.user_id = k2.user_id = "user_a";
  Caller a = Auth(AddKey(k1)), b = Auth(AddKey(k2));
  Ticket t1, t2, t3, t4;
  EXPECT_FALSE(gov_->Admit(a, true, 1, &t1));
  EXPECT_FALSE(gov_->Admit(b, true, 1, &t2));
  auto user_refused = gov_->Admit(a, true, 1, &t3);
  ASSERT_TRUE(user_refused);
  EXPECT_NE(user_refused->message.find("for this user"), std::string::npos);
  Caller cfg = Auth("config-key-123");
  EXPECT_FALSE(gov_->Admit(cfg, true, 1, &t4));  // global: 3rd
  Ticket t5;
  auto global_refused = gov_->Admit(cfg, true, 1, &t5);
  ASSERT_TRUE(global_refused);
  EXPECT_NE(global_refused->message.find("on this gateway"), std::string::npos);
}

TEST_F(GovernanceTest, BudgetsAreCheckedBeforeChargedAfterAndResetWithTheirWindow) {
  Start();
  ApiKey k;
  k.budget_limit = 5000;  // $0.005
  k.budget_period = BudgetPeriod::kDaily;
  Caller c = Auth(AddKey(k));
  auto call = [&]() -> std::optional<GatewayError> {
    Ticket t;
    auto refused = gov_->Admit(c, true, 4, &t);
    if (refused) return refused;
    UsageRecord r;
    r.model = "alias";
    r.upstream_model = "up-model";
    chat::Usage u;
    u.input_tokens = 2;
    u.output_tokens = 1;  // $0.002 + $0.002 = $0.004
    gov_->Settle(c, t, r, u, 0);
    return std::nullopt;
  };
  EXPECT_FALSE(call());  // spent 0.004
  EXPECT_EQ(gov_->CurrentSpend(*c.entry), 4000);
  EXPECT_FALSE(call());  // 0.004 < 0.005: admitted, and crosses it
  EXPECT_EQ(gov_->CurrentSpend(*c.entry), 8000);
  auto refused = call();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, ErrorCode::kInsufficientQuota);
  EXPECT_NE(refused->message.find("$0.008 of $0.005"), std::string::npos) << refused->message;
  ASSERT_TRUE(refused->retry_after);
  EXPECT_EQ(*refused->retry_after, std::to_string(14 * 3600));  // until midnight UTC
  clock_.Advance(14 * 3600 * 1000);  // the next day
  EXPECT_FALSE(call());
}

TEST_F(GovernanceTest, BudgetsStartFromTheLedger) {
  // Spend already in the store for this month (another instance, a restart).
  ApiKey k;
  k.id = "key_ledger";
  k.budget_limit = 10000;
  k.budget_period = BudgetPeriod::kMonthly;
  const std::string secret = AddKey(k);
  UsageRecord old;
  old.request_id = "r1";
  old.ts = kNow - 3600000;
  old.key_id = "key_ledger";
  old.cost = 10000;
  UsageRecord last_month = old;
  last_month.request_id = "r0";
  last_month.ts = kNow - 40LL * 86400000;
  std::vector<UsageRecord> rows = {old, last_month};
  ASSERT_TRUE(store_.InsertUsage(rows).ok());
  Start();
  Caller c = Auth(secret);
  Ticket t;
  auto refused = gov_->Admit(c, true, 1, &t);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, ErrorCode::kInsufficientQuota);
}

TEST_F(GovernanceTest, SettlePricesCachedTokensAndRefundsTheTokenReservation) {
  Start();
  ApiKey k;
  k.tpm_limit = 100;
  k.budget_limit = 1000000;
  Caller c = Auth(AddKey(k));
  Ticket t;
  ASSERT_FALSE(gov_->Admit(c, true, 90, &t));  // reserves 90 of 100
  ASSERT_EQ(t.tpm.size(), 1u);
  UsageRecord r;
  r.model = "alias";
  r.upstream_model = "up-model";
  chat::Usage u;
  u.input_tokens = 10;
  u.cached_input_tokens = 4;
  u.output_tokens = 5;
  gov_->Settle(c, t, r, u, 0);
  // 6 uncached × $0.001 + 4 cached × $0.0005 + 5 × $0.002 = $0.018
  EXPECT_EQ(gov_->CurrentSpend(*c.entry), 18000);
  // 15 used: 75 refunded, so another 80-token request fits.
  Ticket t2;
  EXPECT_FALSE(gov_->Admit(c, true, 80, &t2));
}

TEST_F(GovernanceTest, WithoutUsageTheEstimateIsBilledAndMarked) {
  Start();
  ApiKey k;
  k.budget_limit = 1000000;
  Caller c = Auth(AddKey(k));
  Ticket t;
  ASSERT_FALSE(gov_->Admit(c, true, 3, &t));
  UsageRecord r;
  r.upstream_model = "up-model";
  gov_->Settle(c, t, r, std::nullopt, 2);  // 3 in + 2 out, estimated
  EXPECT_EQ(gov_->CurrentSpend(*c.entry), 3000 + 4000);
  Ticket t2;
  ASSERT_FALSE(gov_->Admit(c, true, 3, &t2));
  gov_->Settle(c, t2, r, std::nullopt, 0);  // nothing generated: free
  EXPECT_EQ(gov_->CurrentSpend(*c.entry), 7000);
}

TEST_F(GovernanceTest, ReconfigureSwapsConfigKeysAndLimits) {
  Start();
  Auth("config-key-123");
  config::Config next = config_;
  next.keys = {{"new", "config-key-456", "user", 1, 0, -1, "", {}}};
  next.limits.rpm = 0;
  gov_->Reconfigure(next);
  EXPECT_EQ(Refused("config-key-123").code, ErrorCode::kUnauthorized);
  Caller c = Auth("config-key-456");
  Ticket t1, t2;
  EXPECT_FALSE(gov_->Admit(c, false, 0, &t1));
  EXPECT_TRUE(gov_->Admit(c, false, 0, &t2));  // rpm 1 from the new config
}

}  // namespace
}  // namespace sy::gov
