// UsageRecorder (usage_recorder.h). The spool's file format is in
// usage_spool.cc.
//
// Threads: Record(), Flush() and stats() take mu_ briefly and never do I/O.
// One writer thread does all the I/O; Start() (before the writer starts) and
// Stop() (after it has ended) do the writer's work on the caller's thread.
// The writer's own state (spool_, store_ok_, replay_offset_, ...) is touched
// by nothing else.
#include "governance/usage_recorder.h"

#include <algorithm>

#include "common/log.h"
#include "governance/usage_spool.h"

namespace sy::gov {

namespace {

constexpr auto kDropLogInterval = std::chrono::seconds(10);

RecorderOptions Normalize(RecorderOptions o) {
  o.batch_rows = std::max<size_t>(o.batch_rows, 1);
  o.queue_capacity = std::max<size_t>(o.queue_capacity, 1);
  o.flush_interval_ms = std::max(o.flush_interval_ms, 0);
  o.retry_interval_ms = std::max(o.retry_interval_ms, 10);
  return o;
}

}  // namespace

UsageRecorder::UsageRecorder(Store* store, RecorderOptions options)
    : store_(store), options_(Normalize(std::move(options))) {}

UsageRecorder::~UsageRecorder() { Stop(); }

void UsageRecorder::Start() {
  std::lock_guard<std::mutex> life(life_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || stopped_) return;
    started_ = true;
  }
  OpenSpool();
  // What an earlier run left behind goes in first, while the store answers.
  while (store_ok_ && SpoolPending() && ReplayOne() == Replay::kDone) {
  }
  writer_ = std::thread(&UsageRecorder::Run, this);
}

bool UsageRecorder::Record(UsageRecord record) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_ || queue_.size() >= options_.queue_capacity || record.request_id.empty()) {
    ++stats_.dropped;
    return false;
  }
  const bool was_empty = queue_.empty();
  if (was_empty) oldest_ = Clock::now();
  queue_.push_back(std::move(record));
  ++accepted_;
  ++stats_.recorded;
  // The writer sleeps until the first record's deadline or a full batch.
  if (was_empty || queue_.size() == options_.batch_rows) cv_.notify_one();
  return true;
}

void UsageRecorder::Stop() {
  std::lock_guard<std::mutex> life(life_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  // Everything still queued goes to the store, or to the spool when the store
  // is down (the next start replays it): nothing waits for a retry.
  while (true) {
    std::vector<UsageRecord> batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const size_t n = std::min(options_.batch_rows, queue_.size());
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      in_flight_ += n;
    }
    if (batch.empty()) break;
    WriteBatch(std::move(batch), store_ok_);
  }
  spool_.reset();  // releases the file (and its lock) for the next recorder
  next_drop_log_ = Clock::time_point();
  LogDrops();
}

bool UsageRecorder::Flush(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = accepted_;
  if (settled_ >= target) return true;
  ++flush_waiters_;
  cv_.notify_one();
  const bool done =
      done_cv_.wait_for(lock, std::chrono::milliseconds(std::max(timeout_ms, 0)), [&] { return settled_ >= target; });
  --flush_waiters_;
  return done;
}

RecorderStats UsageRecorder::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  RecorderStats s = stats_;
  s.queued = queue_.size() + in_flight_;
  return s;
}

// ---- the writer

void UsageRecorder::Run() {
  const auto interval = std::chrono::milliseconds(options_.flush_interval_ms);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const Clock::time_point now = Clock::now();
    const bool batch_due =
        !queue_.empty() && (queue_.size() >= options_.batch_rows || flush_waiters_ > 0 || now >= oldest_ + interval);
    const bool retry_due = !store_ok_ && now >= next_retry_;
    const bool replay_due = store_ok_ && SpoolPending() && queue_.size() < options_.high_water && now >= next_replay_;
    if (!batch_due && !retry_due && !replay_due) {
      Clock::time_point wake = Clock::time_point::max();
      if (!queue_.empty()) wake = oldest_ + interval;
      if (!store_ok_) wake = std::min(wake, next_retry_);
      if (SpoolPending() && store_ok_) wake = std::min(wake, next_replay_);
      if (wake == Clock::time_point::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, wake);
      }
      continue;
    }
    std::vector<UsageRecord> batch;
    if (batch_due) {
      const size_t n = std::min(options_.batch_rows, queue_.size());
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      in_flight_ += n;
      // oldest_ stays: what is left goes next, early rather than late.
    }
    const size_t backlog = queue_.size();
    lock.unlock();

    if (retry_due) {
      // Probe the store with real work: the spool's oldest records, else this
      // batch, else a ping.
      // (A spool that cannot be read is no answer either way.)
      const bool probed = SpoolPending() && Clock::now() >= next_replay_ && ReplayOne() != Replay::kSpoolFailed;
      if (!probed && !batch.empty()) {
        WriteBatch(std::move(batch), true);
        batch.clear();
      } else if (!probed) {
        Status s = store_->Ping();
        if (s.ok()) {
          StoreAnswered();
        } else {
          StoreFailed(s);
        }
      }
    }
    // Past the high-water mark the store is not keeping up: spool rather than
    // wait on it, so that the queue drains before it fills.
    if (!batch.empty()) WriteBatch(std::move(batch), store_ok_ && backlog <= options_.high_water);
    if (store_ok_ && SpoolPending() && backlog < options_.high_water && Clock::now() >= next_replay_) ReplayOne();
    LogDrops();
    lock.lock();
  }
}

void UsageRecorder::OpenSpool() {
  if (spool_ != nullptr) return;
  if (options_.spool_path.empty()) {
    if (!spool_error_logged_) log::Error("usage recorder: no spool_path; rows the store cannot take are dropped");
    spool_error_logged_ = true;
    return;
  }
  auto spool = std::make_unique<UsageSpool>(options_.spool_path);
  Status s = spool->Open();
  if (!s.ok()) {
    if (!spool_error_logged_) {
      log::Error("usage recorder: ", s.message(), "; rows the store cannot take are dropped until it opens");
    }
    spool_error_logged_ = true;
    return;
  }
  spool_error_logged_ = false;
  spool_ = std::move(spool);
  replay_offset_ = UsageSpool::kHeaderSize;
  if (spool_->has_records()) {
    log::Info("usage recorder: spool ", spool_->path(), " holds ", spool_->size() - UsageSpool::kHeaderSize,
              " bytes from an earlier run; replaying them into the store");
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.spool_bytes = spool_->size();
}

bool UsageRecorder::SpoolPending() const { return spool_ != nullptr && replay_offset_ < spool_->size(); }

void UsageRecorder::WriteBatch(std::vector<UsageRecord> batch, bool try_store) {
  const size_t n = batch.size();
  if (try_store) {
    Status s = StoreRows(&batch);
    if (s.ok()) {
      StoreAnswered();
      AddStats(batch.size(), 0, 0);
      Settle(n);
      return;
    }
    StoreFailed(s);
  }
  SpoolRows(batch);
  Settle(n);
}

Status UsageRecorder::StoreRows(std::vector<UsageRecord>* rows) {
  Status s = store_->InsertUsage(*rows);
  if (s.kind() != Status::Kind::kInvalid) return s;
  // One row the store will never take must not hold up the others (nor stay
  // in the spool for ever): find it by inserting one at a time.
  std::vector<UsageRecord> kept;
  uint64_t refused = 0;
  for (size_t i = 0; i < rows->size(); ++i) {
    UsageRecord& r = (*rows)[i];
    Status one = store_->InsertUsage(std::span<const UsageRecord>(&r, 1));
    if (one.kind() == Status::Kind::kInvalid) {
      ++refused;
      log::Error("usage recorder: the store refused row ", r.request_id, " (", one.message(), "); dropped");
      continue;
    }
    kept.push_back(std::move(r));
    if (!one.ok()) {  // the store went away: the rest is for the spool
      for (size_t j = i + 1; j < rows->size(); ++j) kept.push_back(std::move((*rows)[j]));
      s = one;
      break;
    }
    s = Status::Ok();
  }
  *rows = std::move(kept);
  AddStats(0, 0, refused);
  return s.kind() == Status::Kind::kInvalid ? Status::Ok() : s;
}

void UsageRecorder::SpoolRows(const std::vector<UsageRecord>& rows) {
  OpenSpool();
  size_t appended = 0;
  if (spool_ != nullptr) {
    Status s = spool_->Append(rows, options_.spool_max_bytes, &appended);
    if (!s.ok()) {
      log::Error("usage recorder: ", s.message(), "; ", rows.size(), " rows dropped");
    } else if (appended < rows.size()) {
      if (!spool_full_logged_) {
        log::Error("usage recorder: spool ", spool_->path(), " is full (spool_max_bytes ", options_.spool_max_bytes,
                   "); rows are dropped until the store takes it back");
      }
      spool_full_logged_ = true;
    } else {
      spool_full_logged_ = false;
    }
  }
  AddStats(0, appended, rows.size() - appended);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.spool_bytes = spool_ != nullptr ? spool_->size() : 0;
}

UsageRecorder::Replay UsageRecorder::ReplayOne() {
  std::vector<UsageRecord> rows;
  uint64_t offset = replay_offset_;
  uint64_t skipped = 0;
  Status s = spool_->Read(&offset, options_.batch_rows, &rows, &skipped);
  if (!s.ok()) {
    log::Error("usage recorder: ", s.message(), "; retrying in ", options_.retry_interval_ms, " ms");
    next_replay_ = Clock::now() + std::chrono::milliseconds(options_.retry_interval_ms);
    return Replay::kSpoolFailed;
  }
  if (!rows.empty()) {
    s = StoreRows(&rows);
    if (!s.ok()) {
      StoreFailed(s);
      return Replay::kStoreFailed;
    }
    StoreAnswered();
  }
  AddStats(rows.size(), 0, skipped);
  // Committed: from here on these records are the store's.
  replay_offset_ = offset;
  if (replay_offset_ >= spool_->size()) {
    s = spool_->Truncate();
    if (s.ok()) {
      replay_offset_ = UsageSpool::kHeaderSize;
      spool_full_logged_ = false;
    } else {
      // Left as it is: a later run replays it again, harmlessly.
      log::Error("usage recorder: ", s.message());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.spool_bytes = spool_->size();
  return Replay::kDone;
}

void UsageRecorder::StoreFailed(const Status& s) {
  if (store_ok_) {
    log::Warn("usage recorder: the store failed (", s.message(), "); spooling to ", options_.spool_path,
              " and retrying every ", options_.retry_interval_ms, " ms");
  }
  store_ok_ = false;
  next_retry_ = Clock::now() + std::chrono::milliseconds(options_.retry_interval_ms);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.store_ok = false;
}

void UsageRecorder::StoreAnswered() {
  if (!store_ok_) log::Info("usage recorder: the store answers again; replaying the spool");
  store_ok_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.store_ok = true;
}

void UsageRecorder::Settle(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  settled_ += n;
  in_flight_ -= n;
  done_cv_.notify_all();
}

void UsageRecorder::AddStats(uint64_t written, uint64_t spooled, uint64_t dropped) {
  if (written == 0 && spooled == 0 && dropped == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.written += written;
  stats_.spooled += spooled;
  stats_.dropped += dropped;
}

void UsageRecorder::LogDrops() {
  const Clock::time_point now = Clock::now();
  if (now < next_drop_log_) return;
  uint64_t dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dropped = stats_.dropped;
  }
  if (dropped <= logged_drops_) return;
  log::Warn("usage recorder: ", dropped - logged_drops_, " usage rows dropped (", dropped, " in all)");
  logged_drops_ = dropped;
  next_drop_log_ = now + kDropLogInterval;
}

}  // namespace sy::gov
