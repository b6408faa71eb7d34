// The usage pipeline: requests hand their UsageRecord to Record(), which
// never blocks and never touches the database. One writer thread drains the
// queue in batches into the store (Store::InsertUsage, one transaction per
// batch). When the store fails, or the queue passes its high-water mark, a
// batch goes to the spool file instead: an append-only file of
// length-prefixed, CRC-checked records, fsynced per batch. The spool is
// replayed into the store when it answers again and at start; replays are
// safe because inserts are idempotent on request_id. Only after the store
// has committed a replayed batch is the spool truncated.
//
// The one loss window: records still in the in-memory queue when the
// process dies without Stop() (SIGKILL, crash) — at most flush_interval_ms
// worth of requests. Stop() (SIGTERM) writes everything to the store or the
// spool before it returns.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "governance/store.h"

namespace sy::gov {

class UsageSpool;

struct RecorderOptions {
  size_t queue_capacity = 100000;  // records held in memory; past it, Record() drops (counted)
  size_t high_water = 50000;       // queue length past which the writer spools instead of waiting on the store
  size_t batch_rows = 1000;        // most rows per transaction
  int flush_interval_ms = 100;     // longest a record waits before its batch is written
  int retry_interval_ms = 1000;    // while the store is down: how often the writer tries it again
  std::string spool_path;          // required; created when missing
  uint64_t spool_max_bytes = 1ull << 30;  // past it, records are dropped (counted) — disk is finite
};

struct RecorderStats {
  uint64_t recorded = 0;   // accepted by Record()
  uint64_t written = 0;    // committed to the store (replays included)
  uint64_t spooled = 0;    // written to the spool file
  uint64_t dropped = 0;    // lost: queue full, or spool full
  uint64_t queued = 0;     // in memory now
  uint64_t spool_bytes = 0;  // size of the spool file now
  bool store_ok = true;    // the last store call succeeded
};

class UsageRecorder {
 public:
  // REQUIRES: store outlives the recorder; options.spool_path is set.
  UsageRecorder(Store* store, RecorderOptions options);
  ~UsageRecorder();  // Stop()

  // Replays the spool (if the store answers) and starts the writer thread.
  void Start();
  // Never blocks on I/O. False when the record was dropped (queue full).
  bool Record(UsageRecord record);
  // Writes every queued record to the store (or, failing that, the spool),
  // then stops the writer. Idempotent.
  void Stop();
  // Blocks until every record recorded before the call is in the store or
  // the spool (for tests and the admin API's fresh reads). False on timeout.
  bool Flush(int timeout_ms);

  RecorderStats stats() const;

 private:
  using Clock = std::chrono::steady_clock;

  void Run();
  // The writer's work. Run on the writer thread, or (Start before it begins,
  // Stop after it has ended) on the caller's: never two at once.
  void OpenSpool();
  // Writes one batch to the store, or to the spool; settles it either way.
  void WriteBatch(std::vector<UsageRecord> batch, bool try_store);
  // Inserts rows into the store. Rows the store refuses as invalid are
  // dropped (counted) one by one so that they cannot block the rest.
  Status StoreRows(std::vector<UsageRecord>* rows);
  void SpoolRows(const std::vector<UsageRecord>& rows);
  enum class Replay { kDone, kStoreFailed, kSpoolFailed };
  // Replays one batch from the spool into the store.
  Replay ReplayOne();
  bool SpoolPending() const;  // records in the spool not yet committed to the store
  void StoreFailed(const Status& s);
  void StoreAnswered();
  void Settle(size_t n);  // n more accepted records are in the store, the spool, or dropped
  void AddStats(uint64_t written, uint64_t spooled, uint64_t dropped);
  void LogDrops();

  Store* store_;
  RecorderOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the writer
  std::condition_variable done_cv_;  // wakes Flush()
  std::deque<UsageRecord> queue_;    // GUARDED_BY(mu_)
  std::thread writer_;
  std::mutex life_mu_;        // Start() and Stop() one at a time
  bool stopping_ = false;     // GUARDED_BY(mu_)
  bool started_ = false;      // GUARDED_BY(mu_)
  bool stopped_ = false;      // GUARDED_BY(mu_): Record() refuses from now on
  Clock::time_point oldest_;  // GUARDED_BY(mu_): when the queue's first record came
  int flush_waiters_ = 0;     // GUARDED_BY(mu_)
  uint64_t accepted_ = 0;     // GUARDED_BY(mu_): records Record() took
  uint64_t settled_ = 0;      // GUARDED_BY(mu_): of those, written, spooled or dropped
  uint64_t in_flight_ = 0;    // GUARDED_BY(mu_): taken from the queue, not settled
  RecorderStats stats_;       // GUARDED_BY(mu_); queued is computed

  // Writer-owned (see above).
  std::unique_ptr<UsageSpool> spool_;
  uint64_t replay_offset_ = 0;  // spool bytes before it are committed to the store
  bool store_ok_ = true;
  Clock::time_point next_retry_;   // while !store_ok_: when to try the store again
  Clock::time_point next_replay_;  // after a spool read error: when to read again
  bool spool_error_logged_ = false;
  bool spool_full_logged_ = false;
  uint64_t logged_drops_ = 0;
  Clock::time_point next_drop_log_;
};

}  // namespace sy::gov
