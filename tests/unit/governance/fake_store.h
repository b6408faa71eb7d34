// FakeStore: the Store seam in memory, for unit tests. Same semantics as the
// SQL stores (the contract suite in store_test.cc runs against all three):
// change_seq, case-insensitive unique email/username, unique key hash,
// idempotent usage inserts, forward-only last_used/last_login, chat sessions
// saved whole.
//
// Fault injection:
//   down = true          every call returns kUnavailable (nothing changes)
//   fail_inserts = n     the next n InsertUsage calls return kUnavailable
//   HoldInserts(true)    InsertUsage blocks until HoldInserts(false); a test
//                        can wait for the writer to be stuck there with
//                        WaitForHeldInsert()
//   calls, insert_calls  how many calls (all methods / InsertUsage) were made,
//                        failed ones included
//   rows_offered         rows passed to InsertUsage calls that succeeded
//                        (a row sent twice counts twice)
//   max_insert_rows      the most rows one InsertUsage call was given
//   session_writes       SaveSession and DeleteSession calls that succeeded
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "governance/sql_store.h"  // sql::DayName
#include "governance/store.h"

namespace sy::gov {

class FakeStore : public Store {
 public:
  std::atomic<bool> down{false};
  std::atomic<int> fail_inserts{0};
  std::atomic<int64_t> calls{0};
  std::atomic<int64_t> insert_calls{0};
  std::atomic<int64_t> rows_offered{0};
  std::atomic<int64_t> max_insert_rows{0};
  std::atomic<int64_t> session_writes{0};

  void HoldInserts(bool hold) {
    std::lock_guard<std::mutex> lock(hold_mu_);
    hold_ = hold;
    hold_cv_.notify_all();
  }
  // True once an InsertUsage is blocked by HoldInserts (within timeout_ms).
  bool WaitForHeldInsert(int timeout_ms) {
    std::unique_lock<std::mutex> lock(hold_mu_);
    return hold_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return held_ > 0; });
  }

  // Every stored usage row, by request id (for assertions).
  std::map<std::string, UsageRecord> usage_rows() {
    std::lock_guard<std::mutex> lock(mu_);
    return usage_;
  }

  Status Migrate() override { return Enter(); }
  Status Ping() override { return Enter(); }
  std::string Kind() const override { return "fake"; }

  Status CreateUser(const User& u) override {
    if (Status s = Enter(); !s.ok()) return s;
    if (u.id.empty()) return Status::Invalid("user id is empty");
    std::lock_guard<std::mutex> lock(mu_);
    if (users_.count(u.id)) return Status::Conflict("user id is taken");
    if (Status s = UserUnique(u); !s.ok()) return s;
    users_[u.id] = {u, ++seq_};
    return Status::Ok();
  }

  Status GetUser(const std::string& id, User* out) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = users_.find(id);
    if (it == users_.end()) return Status::NotFound("no user " + id);
    *out = it->second.user;
    return Status::Ok();
  }

  Status ListUsers(const UserQuery& q, std::vector<User>* out, int64_t* total) override {
    if (Status s = Enter(); !s.ok()) return s;
    if (q.page < 1) return Status::Invalid("page must be 1 or more");
    if (q.limit < 1 || q.limit > 1000) return Status::Invalid("limit must be 1..1000");
    if (q.page > (INT64_MAX / q.limit)) return Status::Invalid("page is too large");
    std::lock_guard<std::mutex> lock(mu_);
    const std::string needle = Lower(q.search);
    std::vector<User> all;
    for (const auto& [id, row] : users_) {
      const User& u = row.user;
      if (needle.empty() || Lower(u.email).find(needle) != std::string::npos ||
          Lower(u.username).find(needle) != std::string::npos || Lower(u.name).find(needle) != std::string::npos) {
        all.push_back(u);
      }
    }
    SortByCreation(&all);
    *total = static_cast<int64_t>(all.size());
    out->clear();
    const int64_t first = (q.page - 1) * q.limit;
    for (int64_t i = first; i < *total && i < first + q.limit; ++i) out->push_back(all[i]);
    return Status::Ok();
  }

  Status UpdateUser(const User& u) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = users_.find(u.id);
    if (it == users_.end()) return Status::NotFound("no user " + u.id);
    if (Status s = UserUnique(u); !s.ok()) return s;
    User next = u;
    next.created_at = it->second.user.created_at;
    next.last_login = std::max(u.last_login, it->second.user.last_login);
    it->second = {next, ++seq_};
    return Status::Ok();
  }

  Status CreateKey(const ApiKey& k) override {
    if (Status s = Enter(); !s.ok()) return s;
    if (k.id.empty()) return Status::Invalid("key id is empty");
    if (k.hash.empty()) return Status::Invalid("key hash is empty");
    std::lock_guard<std::mutex> lock(mu_);
    if (keys_.count(k.id)) return Status::Conflict("key id is taken");
    for (const auto& [id, key] : keys_) {
      if (key.hash == k.hash) return Status::Conflict("key hash is taken");
    }
    ApiKey stored = k;
    stored.change_seq = ++seq_;
    keys_[k.id] = stored;
    return Status::Ok();
  }

  Status UpdateKey(const ApiKey& k) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(k.id);
    if (it == keys_.end()) return Status::NotFound("no key " + k.id);
    const ApiKey& old = it->second;
    ApiKey next = k;
    next.hash = old.hash;
    next.display = old.display;
    next.created_at = old.created_at;
    next.revoked_at = old.revoked_at != 0 ? old.revoked_at : k.revoked_at;  // a revoked key stays revoked
    next.last_used = std::max(old.last_used, k.last_used);
    next.change_seq = ++seq_;
    it->second = next;
    return Status::Ok();
  }

  Status RevokeKey(const std::string& id, int64_t at_ms) override {
    if (Status s = Enter(); !s.ok()) return s;
    if (at_ms <= 0) return Status::Invalid("revocation time must be positive");
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(id);
    if (it == keys_.end()) return Status::NotFound("no key " + id);
    if (it->second.revoked_at != 0) return Status::Ok();
    it->second.revoked_at = at_ms;
    it->second.change_seq = ++seq_;
    return Status::Ok();
  }

  Status ListKeys(const std::string& user_id, std::vector<ApiKey>* out) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    out->clear();
    for (const auto& [id, k] : keys_) {
      if (user_id.empty() || k.user_id == user_id) out->push_back(k);
    }
    SortByCreation(out);
    return Status::Ok();
  }

  Status ChangeSeq(int64_t* seq) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    *seq = seq_;
    return Status::Ok();
  }

  Status LoadAll(std::vector<User>* users, std::vector<ApiKey>* keys, int64_t* seq) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    users->clear();
    keys->clear();
    for (const auto& [id, row] : users_) users->push_back(row.user);
    for (const auto& [id, k] : keys_) keys->push_back(k);
    SortByCreation(users);
    SortByCreation(keys);
    *seq = seq_;
    return Status::Ok();
  }

  Status InsertUsage(std::span<const UsageRecord> rows) override {
    ++insert_calls;
    for (int64_t m = max_insert_rows.load(); m < static_cast<int64_t>(rows.size());) {
      if (max_insert_rows.compare_exchange_weak(m, static_cast<int64_t>(rows.size()))) break;
    }
    if (Status s = Enter(); !s.ok()) return s;
    {
      std::unique_lock<std::mutex> lock(hold_mu_);
      if (hold_) {
        ++held_;
        hold_cv_.notify_all();
        hold_cv_.wait(lock, [&] { return !hold_; });
        --held_;
      }
    }
    if (fail_inserts.load() > 0 && fail_inserts.fetch_sub(1) > 0) {
      return Status::Unavailable("fake store: injected insert failure");
    }
    for (const UsageRecord& r : rows) {
      if (r.request_id.empty()) return Status::Invalid("usage row without a request id");
    }
    std::lock_guard<std::mutex> lock(mu_);
    rows_offered += static_cast<int64_t>(rows.size());
    for (const UsageRecord& r : rows) {
      if (!usage_.emplace(r.request_id, r).second) continue;
      if (auto k = keys_.find(r.key_id); k != keys_.end()) {
        k->second.last_used = std::max(k->second.last_used, r.ts);
      }
      if (auto u = users_.find(r.user_id); u != users_.end()) {
        u->second.user.last_login = std::max(u->second.user.last_login, r.ts);
      }
    }
    return Status::Ok();
  }

  Status CountUsage(int64_t* n) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    *n = static_cast<int64_t>(usage_.size());
    return Status::Ok();
  }
  Status CountUsageSince(int64_t since_ms, int64_t* n) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    *n = 0;
    for (const auto& [id, row] : usage_) *n += row.ts >= since_ms;
    return Status::Ok();
  }

  Status ListUsage(const UsageQuery& q, int64_t limit, std::vector<UsageRecord>* out) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    out->clear();
    for (const auto& [id, r] : usage_) {
      if (Matches(q, r)) out->push_back(r);
    }
    std::sort(out->begin(), out->end(), [](const UsageRecord& a, const UsageRecord& b) {
      return a.ts != b.ts ? a.ts > b.ts : a.request_id > b.request_id;
    });
    if (static_cast<int64_t>(out->size()) > std::max<int64_t>(limit, 0)) out->resize(std::max<int64_t>(limit, 0));
    return Status::Ok();
  }

  Status Report(const UsageQuery& q, UsageReport* out) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    *out = UsageReport();
    std::map<std::string, UsageTotals> by_model, by_provider, daily;
    std::map<std::string, bool> users;
    for (const auto& [id, r] : usage_) {
      if (!Matches(q, r)) continue;
      Add(&out->summary, r);
      Add(&by_model[r.model], r);
      Add(&by_provider[r.provider], r);
      Add(&daily[sql::DayName(r.ts / 86400000)], r);
      if (!r.user_id.empty()) users[r.user_id] = true;
    }
    out->unique_users = static_cast<int64_t>(users.size());
    out->by_model.assign(by_model.begin(), by_model.end());
    out->by_provider.assign(by_provider.begin(), by_provider.end());
    out->daily.assign(daily.begin(), daily.end());
    SortByCost(&out->by_model);
    SortByCost(&out->by_provider);
    return Status::Ok();
  }

  Status TotalsSince(bool by_user, int64_t since_ms, std::vector<std::pair<std::string, UsageTotals>>* out) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, UsageTotals> totals;
    for (const auto& [id, r] : usage_) {
      const std::string& entity = by_user ? r.user_id : r.key_id;
      if (r.ts >= since_ms && !entity.empty()) Add(&totals[entity], r);
    }
    out->assign(totals.begin(), totals.end());
    return Status::Ok();
  }

  Status LoadSessions(std::vector<ChatSession>* out) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    out->clear();
    for (const auto& [id, session] : sessions_) out->push_back(session);
    std::sort(out->begin(), out->end(), [](const ChatSession& a, const ChatSession& b) {
      return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.id < b.id;
    });
    return Status::Ok();
  }

  Status SaveSession(const ChatSession& session) override {
    if (Status s = Enter(); !s.ok()) return s;
    if (session.id.empty()) return Status::Invalid("chat session id is empty");
    std::lock_guard<std::mutex> lock(mu_);
    sessions_[session.id] = session;
    ++session_writes;
    return Status::Ok();
  }

  Status DeleteSession(const std::string& id) override {
    if (Status s = Enter(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    if (sessions_.erase(id) == 0) return Status::NotFound("no chat session " + id);
    ++session_writes;
    return Status::Ok();
  }

 private:
  struct UserRow {
    User user;
    int64_t change_seq = 0;
  };

  Status Enter() {
    ++calls;
    if (down.load()) return Status::Unavailable("fake store is down");
    return Status::Ok();
  }

  static std::string Lower(std::string s) {
    for (char& c : s) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
  }

  // REQUIRES: mu_ held. Email and username are unique (case-insensitively)
  // among the other users when set.
  Status UserUnique(const User& u) const {
    for (const auto& [id, row] : users_) {
      if (id == u.id) continue;
      if (!u.email.empty() && Lower(row.user.email) == Lower(u.email)) return Status::Conflict("email is taken");
      if (!u.username.empty() && Lower(row.user.username) == Lower(u.username)) {
        return Status::Conflict("username is taken");
      }
    }
    return Status::Ok();
  }

  template <typename T>
  static void SortByCreation(std::vector<T>* v) {
    std::sort(v->begin(), v->end(), [](const T& a, const T& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
  }

  static bool Matches(const UsageQuery& q, const UsageRecord& r) {
    return (q.start <= 0 || r.ts >= q.start) && (q.end <= 0 || r.ts < q.end) &&
           (q.user_id.empty() || r.user_id == q.user_id) && (q.key_id.empty() || r.key_id == q.key_id) &&
           (q.model.empty() || r.model == q.model) && (q.provider.empty() || r.provider == q.provider);
  }

  static void Add(UsageTotals* t, const UsageRecord& r) {
    ++t->requests;
    t->prompt_tokens += r.prompt_tokens;
    t->completion_tokens += r.completion_tokens;
    t->tokens += r.prompt_tokens + r.completion_tokens;
    t->cost += r.cost;
  }

  static void SortByCost(std::vector<std::pair<std::string, UsageTotals>>* v) {
    std::sort(v->begin(), v->end(), [](const auto& a, const auto& b) {
      if (a.second.cost != b.second.cost) return a.second.cost > b.second.cost;
      if (a.second.requests != b.second.requests) return a.second.requests > b.second.requests;
      return a.first < b.first;
    });
  }

  std::mutex mu_;
  int64_t seq_ = 0;
  std::map<std::string, UserRow> users_;
  std::map<std::string, ApiKey> keys_;
  std::map<std::string, UsageRecord> usage_;
  std::map<std::string, ChatSession> sessions_;

  std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  bool hold_ = false;
  int held_ = 0;
};

}  // namespace sy::gov
