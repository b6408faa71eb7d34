#include "local/session_book.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <thread>

#include "governance/fake_store.h"
#include "governance/store_test_env.h"

namespace sy::local {
namespace {

using gov::ChatMessage;
using gov::ChatSession;
using gov::FakeStore;

std::vector<ChatMessage> Msgs(std::initializer_list<std::pair<const char*, const char*>> list) {
  std::vector<ChatMessage> out;
  for (const auto& [role, content] : list) out.push_back({role, content});
  return out;
}

// "role:content" per message, for compact comparisons.
std::vector<std::string> Lines(const std::optional<std::vector<ChatMessage>>& history) {
  std::vector<std::string> out;
  if (!history) return {"<none>"};
  for (const auto& m : *history) out.push_back(m.role + ":" + m.content);
  return out;
}
using L = std::vector<std::string>;

std::map<std::string, ChatSession> Stored(gov::Store* store) {
  std::vector<ChatSession> all;
  gov::Status s = store->LoadSessions(&all);
  EXPECT_TRUE(s.ok()) << s.message();
  std::map<std::string, ChatSession> out;
  for (auto& session : all) out[session.id] = session;
  return out;
}

TEST(SessionBook, ValidIds) {
  EXPECT_TRUE(SessionBook::ValidId("a"));
  EXPECT_TRUE(SessionBook::ValidId("0b1d6a9e-3f1c-4e8a-9b7d-2c5e8f1a4b6c"));
  EXPECT_TRUE(SessionBook::ValidId("user.42:chat_7-x"));
  EXPECT_TRUE(SessionBook::ValidId(std::string(128, 'z')));
  EXPECT_FALSE(SessionBook::ValidId(""));
  EXPECT_FALSE(SessionBook::ValidId(std::string(129, 'z')));
  for (const char* bad : {"a b", "a/b", "../x", "a\nb", "é", "a?b", "a%20"}) {
    EXPECT_FALSE(SessionBook::ValidId(bad)) << bad;
  }
  EXPECT_FALSE(SessionBook::ValidId(std::string_view("a\0b", 3)));
}

TEST(SessionBook, AppendHistoryAndIdsMostRecentFirst) {
  FakeStore store;
  SessionBook book(&store);
  EXPECT_FALSE(book.History("a").has_value());
  book.Append("a", Msgs({{"user", "hi"}}));
  book.Append("b", Msgs({{"user", "yo"}, {"assistant", "hey"}}));
  EXPECT_EQ(book.Ids(), (L{"b", "a"}));
  book.Append("a", Msgs({{"assistant", "hello"}}));
  EXPECT_EQ(book.Ids(), (L{"a", "b"}));
  EXPECT_EQ(Lines(book.History("a")), (L{"user:hi", "assistant:hello"}));
  EXPECT_EQ(Lines(book.History("b")), (L{"user:yo", "assistant:hey"}));
  book.Append("c", {});  // creates an empty session
  EXPECT_EQ(book.Ids(), (L{"c", "a", "b"}));
  EXPECT_EQ(Lines(book.History("c")), L{});
  book.Append("not valid!", Msgs({{"user", "x"}}));
  EXPECT_EQ(book.size(), 3u);

  book.Flush();
  auto stored = Stored(&store);
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(Lines(stored["a"].messages), (L{"user:hi", "assistant:hello"}));
  EXPECT_LT(stored["b"].updated_ms, stored["a"].updated_ms);
  EXPECT_LE(stored["a"].created_ms, stored["b"].created_ms);
}

TEST(SessionBook, SystemMessageReplacesTheLeadingOneAndStaysFirst) {
  SessionBook book(nullptr);
  book.Append("s", Msgs({{"user", "u1"}}));
  book.Append("s", Msgs({{"system", "be brief"}, {"user", "u2"}}));
  EXPECT_EQ(Lines(book.History("s")), (L{"system:be brief", "user:u1", "user:u2"}));
  book.Append("s", Msgs({{"assistant", "a2"}, {"system", "be kind"}}));
  EXPECT_EQ(Lines(book.History("s")), (L{"system:be kind", "user:u1", "user:u2", "assistant:a2"}));
}

TEST(SessionBook, RollbackNeverDropsTheSystemMessage) {
  FakeStore store;
  SessionBook book(&store);
  EXPECT_FALSE(book.Rollback("s", 1));
  book.Append("s", Msgs({{"system", "sys"}, {"user", "u1"}, {"assistant", "a1"}, {"user", "u2"}, {"assistant", "a2"}}));
  book.Append("t", Msgs({{"user", "x"}}));
  EXPECT_TRUE(book.Rollback("s", 2));
  EXPECT_EQ(Lines(book.History("s")), (L{"system:sys", "user:u1", "assistant:a1"}));
  EXPECT_EQ(book.Ids(), (L{"s", "t"})) << "a rollback is an update";
  EXPECT_TRUE(book.Rollback("s", 0));
  EXPECT_TRUE(book.Rollback("s", 100));
  EXPECT_EQ(Lines(book.History("s")), (L{"system:sys"}));
  EXPECT_TRUE(book.Rollback("t", 5));
  EXPECT_EQ(Lines(book.History("t")), L{});
  book.Flush();
  EXPECT_EQ(Lines(Stored(&store)["s"].messages), (L{"system:sys"}));
}

TEST(SessionBook, DeleteRemovesFromMemoryAndStore) {
  FakeStore store;
  SessionBook book(&store);
  book.Append("a", Msgs({{"user", "1"}}));
  book.Append("b", Msgs({{"user", "2"}}));
  book.Flush();
  EXPECT_TRUE(book.Delete("a"));
  EXPECT_FALSE(book.Delete("a"));
  EXPECT_FALSE(book.History("a").has_value());
  EXPECT_EQ(book.Ids(), L{"b"});
  // Created and deleted before the writer ever saw it: nothing to delete there.
  book.Append("c", Msgs({{"user", "3"}}));
  EXPECT_TRUE(book.Delete("c"));
  book.Flush();
  auto stored = Stored(&store);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored.count("b"), 1u);
}

TEST(SessionBook, NulInContentBecomesReplacementCharacter) {
  SessionBook book(nullptr);
  book.Append("n", {{"user", std::string("a\0b", 3)}});
  EXPECT_EQ(Lines(book.History("n")), L{"user:a\xEF\xBF\xBD" "b"});
}

TEST(SessionBook, MessageLimitDropsOldestAfterTheSystemMessage) {
  SessionBook book(nullptr, 10, 4);
  book.Append("s", Msgs({{"system", "sys"}, {"user", "1"}, {"user", "2"}, {"user", "3"}, {"user", "4"}}));
  EXPECT_EQ(Lines(book.History("s")), (L{"system:sys", "user:2", "user:3", "user:4"}));
  book.Append("s", Msgs({{"assistant", "5"}}));
  EXPECT_EQ(Lines(book.History("s")), (L{"system:sys", "user:3", "user:4", "assistant:5"}));
  book.Append("t", Msgs({{"user", "1"}, {"user", "2"}, {"user", "3"}, {"user", "4"}, {"user", "5"}}));
  EXPECT_EQ(Lines(book.History("t")), (L{"user:2", "user:3", "user:4", "user:5"}));
}

TEST(SessionBook, SessionLimitDropsTheLeastRecentlyUpdated) {
  FakeStore store;
  SessionBook book(&store, 3);
  for (const char* id : {"a", "b", "c"}) book.Append(id, Msgs({{"user", id}}));
  book.Flush();
  book.Append("a", Msgs({{"user", "again"}}));  // b is now the least recent
  book.Append("d", Msgs({{"user", "d"}}));
  EXPECT_EQ(book.Ids(), (L{"d", "a", "c"}));
  EXPECT_FALSE(book.History("b").has_value());
  book.Flush();
  auto stored = Stored(&store);
  EXPECT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored.count("b"), 0u);
}

TEST(SessionBook, LoadKeepsTheLimitsAndTheStoreFollows) {
  FakeStore store;
  for (int i = 0; i < 5; ++i) {
    ChatSession s;
    s.id = "s" + std::to_string(i);
    s.created_ms = 1000 + i;
    s.updated_ms = 2000 - i;  // s0 is the most recently updated
    for (int m = 0; m < 6; ++m) s.messages.push_back({"user", std::to_string(m)});
    ASSERT_TRUE(store.SaveSession(s).ok());
  }
  {
    SessionBook book(&store, 2, 3);
    EXPECT_TRUE(book.LoadStatus().ok());
    EXPECT_EQ(book.Ids(), (L{"s0", "s1"}));
    EXPECT_EQ(Lines(book.History("s0")), (L{"user:3", "user:4", "user:5"}));
    // New stamps come after the loaded ones.
    book.Append("s1", Msgs({{"user", "x"}}));
    EXPECT_EQ(book.Ids(), (L{"s1", "s0"}));
  }
  auto stored = Stored(&store);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(Lines(stored["s0"].messages), (L{"user:3", "user:4", "user:5"}));
  EXPECT_EQ(Lines(stored["s1"].messages), (L{"user:4", "user:5", "user:x"}));
  EXPECT_GT(stored["s1"].updated_ms, 2000);
}

TEST(SessionBook, AFailedLoadLeavesTheBookUnavailableUntilTheStoreIsRead) {
  FakeStore store;
  ChatSession old;
  old.id = "old";
  old.messages = Msgs({{"user", "first"}, {"assistant", "answer"}});
  old.created_ms = old.updated_ms = 1000;
  ASSERT_TRUE(store.SaveSession(old).ok());
  store.down = true;
  SessionBook book(&store);
  EXPECT_EQ(book.LoadStatus().kind(), gov::Status::Kind::kUnavailable);
  EXPECT_FALSE(book.Available());
  EXPECT_TRUE(book.Ids().empty());
  // Taking a change now would overwrite "old" with this turn alone.
  book.Append("old", Msgs({{"user", "second"}}));
  EXPECT_FALSE(book.Delete("old"));
  EXPECT_FALSE(book.Rollback("old", 1));
  EXPECT_TRUE(book.Ids().empty());
  store.down = false;
  // The writer reads the store again after its back-off (1 s first).
  for (int i = 0; i < 1000 && !book.Available(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(book.Available());
  EXPECT_EQ(Lines(book.History("old")), (L{"user:first", "assistant:answer"}));
  book.Append("old", Msgs({{"user", "second"}}));
  book.Flush();
  EXPECT_EQ(Lines(Stored(&store)["old"].messages), (L{"user:first", "assistant:answer", "user:second"}));
}

TEST(SessionBook, StoreFailuresAreRetriedAndChangesCoalesce) {
  FakeStore store;
  SessionBook book(&store);
  store.down = true;
  for (int i = 0; i < 50; ++i) book.Append("s", Msgs({{"user", "m"}}));
  // Let the writer meet the failure (it then backs off).
  for (int i = 0; i < 200 && store.calls.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_GE(store.calls.load(), 2);
  EXPECT_EQ(store.session_writes.load(), 0);
  store.down = false;
  book.Flush();  // retries at once rather than after the back-off
  auto stored = Stored(&store);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored["s"].messages.size(), 50u);
  EXPECT_EQ(store.session_writes.load(), 1) << "one save of the latest state";
}

TEST(SessionBook, TheDestructorWritesWhatIsPending) {
  FakeStore store;
  {
    SessionBook book(&store);
    book.Append("a", Msgs({{"user", "1"}}));
    book.Append("b", Msgs({{"user", "2"}}));
    book.Delete("b");
  }
  auto stored = Stored(&store);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(Lines(stored["a"].messages), L{"user:1"});
}

TEST(SessionBook, WithoutAStoreFlushReturns) {
  SessionBook book(nullptr);
  book.Append("a", Msgs({{"user", "1"}}));
  book.Flush();
  EXPECT_TRUE(book.LoadStatus().ok());
  EXPECT_EQ(book.Ids(), L{"a"});
}

// Appends from many threads, readers alongside; each thread's messages keep
// their order within a session, and the store ends with what memory has.
void AppendFromThreads(gov::Store* store) {
  SessionBook book(store);
  constexpr int kThreads = 8, kPerThread = 150, kSessions = 3;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      for (const std::string& id : book.Ids()) (void)book.History(id);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        book.Append("s" + std::to_string(t % kSessions),
                    {{"user", std::to_string(t) + ":" + std::to_string(i)}, {"assistant", "ok"}});
        if (i % 50 == 0) book.Rollback("s" + std::to_string(t % kSessions), 0);
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  book.Flush();
  auto stored = Stored(store);
  ASSERT_EQ(stored.size(), static_cast<size_t>(kSessions));
  size_t total = 0;
  for (const std::string& id : book.Ids()) {
    auto history = book.History(id);
    ASSERT_TRUE(history.has_value());
    total += history->size();
    EXPECT_EQ(Lines(history), Lines(stored[id].messages)) << id;
    std::map<std::string, int> next;  // thread -> next expected i
    for (size_t k = 0; k + 1 < history->size(); k += 2) {
      const std::string& c = (*history)[k].content;
      const std::string thread = c.substr(0, c.find(':'));
      EXPECT_EQ(std::stoi(c.substr(c.find(':') + 1)), next[thread]++) << id;
      EXPECT_EQ((*history)[k + 1].content, "ok");
    }
  }
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kPerThread * 2));
}

TEST(SessionBook, ConcurrentAppendsWithFakeStore) {
  FakeStore store;
  AppendFromThreads(&store);
}

// ---- SQLite: the book across a restart

class SessionBookSqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.SetUp();
    if (HasFatalFailure()) return;
    gov::Status s = env_.store()->Migrate();
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void TearDown() override { env_.TearDown(); }
  void Restart() {
    env_.Reopen();
    if (HasFatalFailure()) return;
    gov::Status s = env_.store()->Migrate();
    ASSERT_TRUE(s.ok()) << s.message();
  }
  gov::store_testing::SqliteStoreEnv env_;
};

TEST_F(SessionBookSqlite, SessionsSurviveARestart) {
  const std::string tricky = "quotes \" ' ; -- newline\n tab\t unicode: Grüße 世界 🚀";
  {
    SessionBook book(env_.store());
    book.Append("a", Msgs({{"system", "sys"}, {"user", "u1"}, {"assistant", "a1"}}));
    book.Append("b", {{"user", tricky}});
    book.Append("c", Msgs({{"user", "to delete"}}));
    book.Flush();
    book.Append("a", Msgs({{"user", "u2"}, {"assistant", "a2"}}));
    EXPECT_TRUE(book.Rollback("a", 1));
    EXPECT_TRUE(book.Delete("c"));
    book.Append("d", Msgs({{"user", "last"}}));
    EXPECT_EQ(book.Ids(), (L{"d", "a", "b"}));
  }  // destroyed without a Flush: the destructor writes
  Restart();
  if (HasFatalFailure()) return;
  SessionBook book(env_.store());
  EXPECT_TRUE(book.LoadStatus().ok());
  EXPECT_EQ(book.Ids(), (L{"d", "a", "b"}));
  EXPECT_EQ(Lines(book.History("a")), (L{"system:sys", "user:u1", "assistant:a1", "user:u2"}));
  EXPECT_EQ(Lines(book.History("b")), L{"user:" + tricky});
  EXPECT_FALSE(book.History("c").has_value());
  book.Append("b", Msgs({{"assistant", "later"}}));
  EXPECT_EQ(book.Ids(), (L{"b", "d", "a"}));
}

TEST_F(SessionBookSqlite, ConcurrentAppends) { AppendFromThreads(env_.store()); }

}  // namespace
}  // namespace sy::local
