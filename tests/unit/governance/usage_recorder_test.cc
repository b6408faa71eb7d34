// UsageRecorder and its spool: batching, outages, restarts, corruption,
// back-pressure. Waits poll for a behaviour with a generous deadline; no
// test asserts a duration.
#include "governance/usage_recorder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fake_store.h"
#include "governance/usage_spool.h"

namespace sy::gov {
namespace {

constexpr int kWaitMs = 20000;

UsageRecord Rec(const std::string& id, int64_t cost = 1) {
  UsageRecord r;
  r.request_id = id;
  r.ts = 1767225600000 + cost;
  r.key_id = "key_1";
  r.user_id = "user_1";
  r.provider = "openai";
  r.model = "gpt-4o";
  r.upstream_model = "gpt-4o-2024-08-06";
  r.endpoint = "chat.completions";
  r.status = 200;
  r.latency_ms = 120;
  r.ttft_ms = 30;
  r.prompt_tokens = 10;
  r.completion_tokens = 5;
  r.cost = cost;
  r.usage_source = "provider";
  return r;
}

// Polls `done` until it holds or kWaitMs pass.
template <typename F>
bool Eventually(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A store that refuses (kInvalid) every batch holding a row of model "poison".
class PoisonRefusingStore : public FakeStore {
 public:
  Status InsertUsage(std::span<const UsageRecord> rows) override {
    for (const auto& r : rows) {
      if (r.model == "poison") return Status::Invalid("invalid byte sequence in model");
    }
    return FakeStore::InsertUsage(rows);
  }
};

class UsageRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sy_recorder_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RecorderOptions Options() {
    RecorderOptions o;
    o.spool_path = spool_path();
    o.batch_rows = 10;
    o.flush_interval_ms = 20;
    o.retry_interval_ms = 20;
    return o;
  }
  std::string spool_path() const { return dir_ + "/usage.spool"; }
  uint64_t SpoolFileSize() const {
    std::error_code ec;
    auto n = std::filesystem::file_size(spool_path(), ec);
    return ec ? 0 : n;
  }
  // Rows stored, whether or not the fake is "down".
  static int64_t Count(FakeStore& store) { return static_cast<int64_t>(store.usage_rows().size()); }

  std::string dir_;
};

// ---- the spool file on its own

TEST(UsageSpoolFormat, Crc32IsTheIeeeOne) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

TEST(UsageSpoolFormat, RecordRoundTripsAndTruncationIsRefused) {
  UsageRecord r = Rec("x", -5);
  r.request_id = std::string("req-\xff\0-x", 8);  // any bytes
  r.ttft_ms = -1;
  r.status = 0;
  r.latency_ms = INT64_MAX;
  r.cached_tokens = INT64_MIN;
  r.error = "upstream_timeout";
  const std::string payload = EncodeUsageRecord(r);
  UsageRecord back;
  ASSERT_TRUE(DecodeUsageRecord(payload, &back));
  EXPECT_EQ(back.request_id, r.request_id);
  EXPECT_EQ(back.ts, r.ts);
  EXPECT_EQ(back.cost, -5);
  EXPECT_EQ(back.ttft_ms, -1);
  EXPECT_EQ(back.latency_ms, INT64_MAX);
  EXPECT_EQ(back.cached_tokens, INT64_MIN);
  EXPECT_EQ(back.error, r.error);
  EXPECT_EQ(back.upstream_model, r.upstream_model);
  for (size_t n = 0; n < payload.size(); ++n) {
    UsageRecord cut;
    EXPECT_FALSE(DecodeUsageRecord(std::string_view(payload).substr(0, n), &cut)) << n;
  }
  EXPECT_FALSE(DecodeUsageRecord(payload + "x", &back));
}

TEST_F(UsageRecorderTest, SpoolIsLockedAndPrivate) {
  UsageSpool a(spool_path());
  ASSERT_TRUE(a.Open().ok());
  UsageSpool b(spool_path());
  EXPECT_FALSE(b.Open().ok()) << "two recorders must not share a spool";
  struct stat st;
  ASSERT_EQ(stat(spool_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(UsageRecorderTest, ForeignFileIsMovedAsideNotOverwritten) {
  { std::ofstream(spool_path()) << "precious data that is not a spool"; }
  UsageSpool s(spool_path());
  ASSERT_TRUE(s.Open().ok());
  EXPECT_FALSE(s.has_records());
  int aside = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    if (e.path().filename().string().rfind("usage.spool.unrecognized-", 0) == 0) ++aside;
  }
  EXPECT_EQ(aside, 1);
}

// ---- the recorder with a fake store

TEST_F(UsageRecorderTest, WritesInBatchesOfAtMostBatchRows) {
  FakeStore store;
  UsageRecorder rec(&store, Options());
  rec.Start();
  store.HoldInserts(true);
  ASSERT_TRUE(rec.Record(Rec("r0")));
  ASSERT_TRUE(store.WaitForHeldInsert(kWaitMs));  // the writer holds a batch of one
  for (int i = 1; i <= 30; ++i) ASSERT_TRUE(rec.Record(Rec("r" + std::to_string(i))));
  store.HoldInserts(false);
  ASSERT_TRUE(rec.Flush(kWaitMs));
  EXPECT_EQ(Count(store), 31);
  EXPECT_EQ(store.insert_calls.load(), 4);  // 1 + 10 + 10 + 10
  EXPECT_EQ(store.max_insert_rows.load(), 10);
  RecorderStats s = rec.stats();
  EXPECT_EQ(s.recorded, 31u);
  EXPECT_EQ(s.written, 31u);
  EXPECT_EQ(s.spooled, 0u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_TRUE(s.store_ok);
}

TEST_F(UsageRecorderTest, StoreDownSpoolsThenReplaysWithoutLossOrDuplicates) {
  FakeStore store;
  UsageRecorder rec(&store, Options());
  rec.Start();
  store.down = true;
  for (int i = 0; i < 95; ++i) ASSERT_TRUE(rec.Record(Rec("a" + std::to_string(i))));
  ASSERT_TRUE(rec.Flush(kWaitMs));  // in the spool counts as flushed
  RecorderStats s = rec.stats();
  EXPECT_EQ(s.spooled, 95u);
  EXPECT_FALSE(s.store_ok);
  EXPECT_GT(s.spool_bytes, UsageSpool::kHeaderSize);
  EXPECT_EQ(Count(store), 0);

  store.down = false;
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(rec.Record(Rec("b" + std::to_string(i))));
  ASSERT_TRUE(Eventually([&] { return rec.stats().spool_bytes == UsageSpool::kHeaderSize; }));
  ASSERT_TRUE(rec.Flush(kWaitMs));
  EXPECT_EQ(Count(store), 102);
  EXPECT_EQ(store.rows_offered.load(), 102) << "every row committed exactly once";
  s = rec.stats();
  EXPECT_EQ(s.written, 102u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_TRUE(s.store_ok);
  EXPECT_EQ(SpoolFileSize(), UsageSpool::kHeaderSize);
}

TEST_F(UsageRecorderTest, FailedCommitsAreRetriedFromTheSpool) {
  FakeStore store;
  store.fail_inserts = 3;
  UsageRecorder rec(&store, Options());
  rec.Start();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(rec.Record(Rec("r" + std::to_string(i))));
  ASSERT_TRUE(rec.Flush(kWaitMs));
  ASSERT_TRUE(Eventually([&] { return Count(store) == 40 && rec.stats().spool_bytes == UsageSpool::kHeaderSize; }));
  EXPECT_EQ(store.rows_offered.load(), 40);
  EXPECT_EQ(rec.stats().dropped, 0u);
}

TEST_F(UsageRecorderTest, RestartDuringOutageReplaysTheSpool) {
  FakeStore store;
  store.down = true;
  {
    UsageRecorder first(&store, Options());
    first.Start();
    for (int i = 0; i < 25; ++i) ASSERT_TRUE(first.Record(Rec("r" + std::to_string(i))));
    first.Stop();  // the store is down: everything goes to the spool
    EXPECT_EQ(first.stats().spooled, 25u);
  }
  // Restarted while the store is still down: nothing is lost, nothing written.
  {
    UsageRecorder second(&store, Options());
    second.Start();
    ASSERT_TRUE(second.Record(Rec("late")));
    second.Stop();
  }
  EXPECT_EQ(Count(store), 0);
  // Restarted with the store back: Start() replays before it returns.
  store.down = false;
  UsageRecorder third(&store, Options());
  third.Start();
  EXPECT_EQ(Count(store), 26);
  EXPECT_EQ(third.stats().written, 26u);
  EXPECT_EQ(third.stats().spool_bytes, UsageSpool::kHeaderSize);
  third.Stop();
  EXPECT_EQ(store.rows_offered.load(), 26);
}

TEST_F(UsageRecorderTest, TornSpoolTailIsSkipped) {
  FakeStore store;
  store.down = true;
  {
    UsageRecorder first(&store, Options());
    first.Start();
    for (int i = 0; i < 12; ++i) ASSERT_TRUE(first.Record(Rec("r" + std::to_string(i))));
    first.Stop();
  }
  const uint64_t whole = SpoolFileSize();
  {
    // A crash in the middle of an append: a frame and part of its payload.
    std::string payload = EncodeUsageRecord(Rec("torn"));
    std::string frame;
    for (uint32_t v : {static_cast<uint32_t>(payload.size()), Crc32(payload)}) {
      for (int i = 0; i < 4; ++i) frame.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    std::ofstream out(spool_path(), std::ios::app | std::ios::binary);
    out << frame << payload.substr(0, payload.size() / 2);
  }
  ASSERT_GT(SpoolFileSize(), whole);
  store.down = false;
  UsageRecorder second(&store, Options());
  second.Start();
  EXPECT_EQ(Count(store), 12);
  EXPECT_EQ(store.usage_rows().count("torn"), 0u);
  // New records after the cut tail are readable again.
  store.down = true;
  ASSERT_TRUE(second.Record(Rec("after")));
  ASSERT_TRUE(second.Flush(kWaitMs));
  store.down = false;
  ASSERT_TRUE(Eventually([&] { return Count(store) == 13; }));
}

TEST_F(UsageRecorderTest, CorruptRecordInsideTheSpoolIsSkippedAndCounted) {
  FakeStore store;
  store.down = true;
  {
    UsageRecorder first(&store, Options());
    first.Start();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(first.Record(Rec("r" + std::to_string(i))));
    first.Stop();
  }
  // Flip one payload byte of the second record.
  const uint64_t first_len = 8 + EncodeUsageRecord(Rec("r0")).size();
  {
    std::fstream f(spool_path(), std::ios::in | std::ios::out | std::ios::binary);
    const auto at = static_cast<std::streamoff>(UsageSpool::kHeaderSize + first_len + 8 + 3);
    f.seekg(at);
    char c;
    f.get(c);
    f.seekp(at);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  store.down = false;
  UsageRecorder second(&store, Options());
  second.Start();
  auto rows = store.usage_rows();
  EXPECT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.count("r0"), 1u);
  EXPECT_EQ(rows.count("r2"), 1u);
  EXPECT_EQ(second.stats().dropped, 1u);
}

TEST_F(UsageRecorderTest, QueueFullDropsAreCounted) {
  FakeStore store;
  RecorderOptions o = Options();
  o.queue_capacity = 5;
  o.batch_rows = 1;
  UsageRecorder rec(&store, o);
  rec.Start();
  store.HoldInserts(true);
  ASSERT_TRUE(rec.Record(Rec("r0")));
  ASSERT_TRUE(store.WaitForHeldInsert(kWaitMs));
  for (int i = 1; i <= 5; ++i) EXPECT_TRUE(rec.Record(Rec("r" + std::to_string(i))));
  for (int i = 6; i <= 8; ++i) EXPECT_FALSE(rec.Record(Rec("r" + std::to_string(i))));
  EXPECT_EQ(rec.stats().dropped, 3u);
  EXPECT_EQ(rec.stats().queued, 6u);
  store.HoldInserts(false);
  ASSERT_TRUE(rec.Flush(kWaitMs));
  EXPECT_EQ(Count(store), 6);
  EXPECT_EQ(rec.stats().recorded, 6u);
  EXPECT_FALSE(rec.Record(UsageRecord())) << "a record without a request id is refused";
}

TEST_F(UsageRecorderTest, PastHighWaterTheWriterSpoolsInsteadOfWaiting) {
  FakeStore store;
  RecorderOptions o = Options();
  o.batch_rows = 2;
  o.high_water = 5;
  UsageRecorder rec(&store, o);
  rec.Start();
  store.HoldInserts(true);
  ASSERT_TRUE(rec.Record(Rec("r0")));
  ASSERT_TRUE(store.WaitForHeldInsert(kWaitMs));
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(rec.Record(Rec("r" + std::to_string(i))));
  store.HoldInserts(false);
  ASSERT_TRUE(rec.Flush(kWaitMs));
  EXPECT_GT(rec.stats().spooled, 0u);
  ASSERT_TRUE(Eventually([&] { return Count(store) == 21 && rec.stats().spool_bytes == UsageSpool::kHeaderSize; }));
  EXPECT_EQ(rec.stats().dropped, 0u);
}

TEST_F(UsageRecorderTest, SpoolFullDropsAreCounted) {
  FakeStore store;
  store.down = true;
  RecorderOptions o = Options();
  const uint64_t one = 8 + EncodeUsageRecord(Rec("r10")).size();
  o.spool_max_bytes = UsageSpool::kHeaderSize + 4 * one;
  UsageRecorder rec(&store, o);
  rec.Start();
  for (int i = 10; i < 20; ++i) ASSERT_TRUE(rec.Record(Rec("r" + std::to_string(i))));
  ASSERT_TRUE(rec.Flush(kWaitMs));
  RecorderStats s = rec.stats();
  EXPECT_EQ(s.spooled, 4u);
  EXPECT_EQ(s.dropped, 6u);
  EXPECT_LE(s.spool_bytes, o.spool_max_bytes);
  store.down = false;
  ASSERT_TRUE(Eventually([&] { return Count(store) == 4; }));
}

TEST_F(UsageRecorderTest, RowsTheStoreRefusesDoNotBlockTheRest) {
  PoisonRefusingStore store;
  UsageRecorder rec(&store, Options());
  rec.Start();
  for (int i = 0; i < 9; ++i) {
    UsageRecord r = Rec("r" + std::to_string(i));
    if (i == 4) r.model = "poison";
    ASSERT_TRUE(rec.Record(r));
  }
  ASSERT_TRUE(rec.Flush(kWaitMs));
  EXPECT_EQ(Count(store), 8);
  EXPECT_EQ(rec.stats().dropped, 1u);
  EXPECT_EQ(rec.stats().written, 8u);
  EXPECT_EQ(rec.stats().spool_bytes, UsageSpool::kHeaderSize);
}

TEST_F(UsageRecorderTest, StopWritesEverythingQueued) {
  FakeStore store;
  RecorderOptions o = Options();
  o.flush_interval_ms = 3600000;  // the writer would not write these for an hour
  o.batch_rows = 1000;
  UsageRecorder rec(&store, o);
  rec.Start();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(rec.Record(Rec("r" + std::to_string(i))));
  rec.Stop();
  EXPECT_EQ(Count(store), 10);
  EXPECT_FALSE(rec.Record(Rec("late"))) << "a stopped recorder refuses";
  EXPECT_EQ(rec.stats().dropped, 1u);
  rec.Stop();  // idempotent
  EXPECT_TRUE(rec.Flush(0));
}

TEST_F(UsageRecorderTest, StopWithTheStoreDownSpools) {
  FakeStore store;
  RecorderOptions o = Options();
  o.flush_interval_ms = 3600000;
  UsageRecorder rec(&store, o);
  rec.Start();
  store.down = true;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(rec.Record(Rec("r" + std::to_string(i))));
  rec.Stop();
  EXPECT_EQ(rec.stats().spooled, 10u);
  EXPECT_EQ(rec.stats().queued, 0u);
  EXPECT_GT(SpoolFileSize(), UsageSpool::kHeaderSize);
}

TEST_F(UsageRecorderTest, FlushWaitsForEarlierRecordsAndTimesOut) {
  FakeStore store;
  RecorderOptions o = Options();
  o.flush_interval_ms = 3600000;
  o.batch_rows = 1000;
  UsageRecorder rec(&store, o);
  rec.Start();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(rec.Record(Rec("r" + std::to_string(i))));
  ASSERT_TRUE(rec.Flush(kWaitMs));
  EXPECT_EQ(Count(store), 5);
  EXPECT_TRUE(rec.Flush(0)) << "nothing recorded since";

  store.HoldInserts(true);
  ASSERT_TRUE(rec.Record(Rec("held")));
  EXPECT_FALSE(rec.Flush(50));  // the store holds the batch
  store.HoldInserts(false);
  EXPECT_TRUE(rec.Flush(kWaitMs));
  EXPECT_EQ(Count(store), 6);
}

TEST_F(UsageRecorderTest, ConcurrentRecordsThroughAFlappingStoreLoseNothing) {
  FakeStore store;
  RecorderOptions o = Options();
  o.batch_rows = 50;
  o.retry_interval_ms = 10;
  UsageRecorder rec(&store, o);
  rec.Start();
  std::atomic<bool> flapping{true};
  std::thread flapper([&] {
    while (flapping) {
      store.down = !store.down;
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    store.down = false;
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) EXPECT_TRUE(rec.Record(Rec(std::to_string(t) + "-" + std::to_string(i))));
    });
  }
  for (auto& p : producers) p.join();
  flapping = false;
  flapper.join();
  ASSERT_TRUE(rec.Flush(kWaitMs));
  ASSERT_TRUE(Eventually([&] { return rec.stats().spool_bytes == UsageSpool::kHeaderSize && Count(store) == 8000; }));
  rec.Stop();
  EXPECT_EQ(store.rows_offered.load(), 8000);
  RecorderStats s = rec.stats();
  EXPECT_EQ(s.recorded, 8000u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.written, 8000u);
}

// ---- end to end with SQLite

TEST_F(UsageRecorderTest, EndToEndWithSqliteStore) {
  std::string error;
  auto store = OpenStore("sqlite://usage.db", dir_, &error);
  ASSERT_NE(store, nullptr) << error;
  ASSERT_TRUE(store->Migrate().ok());
  // An earlier run's spool, left while its store was down.
  {
    FakeStore down;
    down.down = true;
    UsageRecorder earlier(&down, Options());
    earlier.Start();
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(earlier.Record(Rec("old" + std::to_string(i), i)));
    earlier.Stop();
  }
  UsageRecorder rec(store.get(), Options());
  rec.Start();
  int64_t n = 0;
  ASSERT_TRUE(store->CountUsage(&n).ok());
  EXPECT_EQ(n, 30);
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(rec.Record(Rec("new" + std::to_string(i), i)));
  ASSERT_TRUE(rec.Flush(kWaitMs));
  ASSERT_TRUE(store->CountUsage(&n).ok());
  EXPECT_EQ(n, 530);
  std::vector<UsageRecord> rows;
  UsageQuery q;
  ASSERT_TRUE(store->ListUsage(q, 1, &rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].request_id, "new499");
  EXPECT_EQ(rows[0].upstream_model, "gpt-4o-2024-08-06");
  EXPECT_EQ(rows[0].ttft_ms, 30);
  rec.Stop();
  EXPECT_EQ(rec.stats().written, 530u);
  EXPECT_EQ(rec.stats().dropped, 0u);
}

}  // namespace
}  // namespace sy::gov
