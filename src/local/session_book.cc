#include "local/session_book.h"

#include <algorithm>
#include <chrono>

#include "common/json_writer.h"
#include "common/log.h"

namespace sy::local {

namespace {

using Kind = gov::Status::Kind;

constexpr size_t kMaxIdLength = 128;
// After a failed write the writer waits this long, doubling up to the most.
constexpr std::chrono::milliseconds kRetryFirst{1000};
constexpr std::chrono::milliseconds kRetryMost{30000};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// PostgreSQL text cannot hold NUL: every store gets U+FFFD instead.
void ReplaceNul(std::string* s) {
  if (s->find('\0') == std::string::npos) return;
  std::string out;
  out.reserve(s->size() + 8);
  for (char c : *s) {
    if (c == '\0') {
      out += "\xEF\xBF\xBD";
    } else {
      out.push_back(c);
    }
  }
  *s = std::move(out);
}

bool LeadingSystem(const std::vector<gov::ChatMessage>& messages) {
  return !messages.empty() && messages.front().role == "system";
}

}  // namespace

// What one pass of the writer met, for the log.
struct SessionBook::PassResult {
  size_t failed = 0;   // kept marked, retried
  size_t dropped = 0;  // refused by the store as invalid: retrying cannot help
  std::string first_id;
  gov::Status first_error;
};

SessionBook::SessionBook(gov::Store* store, size_t max_sessions, size_t max_messages_per_session)
    : store_(store),
      max_sessions_(std::max<size_t>(max_sessions, 1)),
      max_messages_(std::max<size_t>(max_messages_per_session, 1)) {
  if (store_ == nullptr) return;
  std::vector<gov::ChatSession> loaded;
  load_status_ = store_->LoadSessions(&loaded);
  std::lock_guard<std::mutex> lock(mu_);
  if (load_status_.ok()) {
    AdoptLocked(std::move(loaded));
    if (!sessions_.empty()) log::Info("chat sessions: ", sessions_.size(), " loaded from the ", store_->Kind(), " store");
  } else {
    log::Error("chat sessions: cannot load them from the ", store_->Kind(), " store (", load_status_.message(),
               "); the session endpoints answer 503 until it can be read");
    available_ = false;
  }
  writer_ = std::thread([this] { WriterLoop(); });
}

void SessionBook::AdoptLocked(std::vector<gov::ChatSession> loaded) {
  // Least recently updated first: each goes to the front of recency_.
  std::sort(loaded.begin(), loaded.end(), [](const gov::ChatSession& a, const gov::ChatSession& b) {
    if (a.updated_ms != b.updated_ms) return a.updated_ms < b.updated_ms;
    if (a.created_ms != b.created_ms) return a.created_ms < b.created_ms;
    return a.id < b.id;
  });
  for (gov::ChatSession& s : loaded) {
    last_stamp_ = std::max(last_stamp_, s.updated_ms);
    auto [it, created] = sessions_.try_emplace(s.id);
    if (!created) continue;  // the store's key: cannot happen
    recency_.push_front(s.id);
    Entry& e = it->second;
    e.recency = recency_.begin();
    e.session = std::move(s);
    const size_t before = e.session.messages.size();
    TrimLocked(&e.session);
    if (e.session.messages.size() != before) MarkLocked(e.session.id);
  }
  EvictLocked();
}

bool SessionBook::Available() const {
  std::lock_guard<std::mutex> lock(mu_);
  return available_;
}

SessionBook::~SessionBook() {
  if (!writer_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  writer_cv_.notify_one();
  writer_.join();
}

bool SessionBook::ValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::vector<gov::ChatMessage>> SessionBook::History(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second.session.messages;
}

std::vector<std::string> SessionBook::Ids() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<std::string>(recency_.begin(), recency_.end());
}

size_t SessionBook::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

void SessionBook::Append(const std::string& id, std::vector<gov::ChatMessage> messages) {
  if (!ValidId(id)) return;
  for (gov::ChatMessage& m : messages) ReplaceNul(&m.content);
  std::lock_guard<std::mutex> lock(mu_);
  if (!available_) return;
  auto [it, created] = sessions_.try_emplace(id);
  Entry& e = it->second;
  if (created) {
    recency_.push_front(id);
    e.recency = recency_.begin();
    e.session.id = id;
  }
  std::vector<gov::ChatMessage>& list = e.session.messages;
  for (gov::ChatMessage& m : messages) {
    if (m.role != "system") {
      list.push_back(std::move(m));
    } else if (LeadingSystem(list)) {
      list.front().content = std::move(m.content);
    } else {
      list.insert(list.begin(), std::move(m));
    }
  }
  TrimLocked(&e.session);
  TouchLocked(&e);
  if (created) e.session.created_ms = e.session.updated_ms;
  MarkLocked(id);
  EvictLocked();
}

bool SessionBook::Delete(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  recency_.erase(it->second.recency);
  sessions_.erase(it);
  MarkLocked(id);
  return true;
}

bool SessionBook::Rollback(const std::string& id, size_t amount) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  std::vector<gov::ChatMessage>& list = it->second.session.messages;
  const size_t keep_first = LeadingSystem(list) ? 1 : 0;
  const size_t n = std::min(amount, list.size() - keep_first);
  if (n > 0) {
    list.resize(list.size() - n);
    TouchLocked(&it->second);
    MarkLocked(id);
  }
  return true;
}

void SessionBook::Flush() {
  if (store_ == nullptr) return;
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = change_seq_;
  if (durable_seq_ >= target) return;
  kick_ = true;
  writer_cv_.notify_one();
  durable_cv_.wait(lock, [&] { return durable_seq_ >= target || writer_done_; });
}

void SessionBook::MarkLocked(const std::string& id) {
  if (store_ == nullptr) return;
  dirty_.insert(id);
  ++change_seq_;
  writer_cv_.notify_one();
}

int64_t SessionBook::StampLocked() {
  last_stamp_ = std::max(NowMs(), last_stamp_ + 1);
  return last_stamp_;
}

void SessionBook::TouchLocked(Entry* e) {
  e->session.updated_ms = StampLocked();
  recency_.splice(recency_.begin(), recency_, e->recency);
}

void SessionBook::TrimLocked(gov::ChatSession* s) const {
  std::vector<gov::ChatMessage>& list = s->messages;
  if (list.size() <= max_messages_) return;
  const size_t first = LeadingSystem(list) ? 1 : 0;
  const size_t n = std::min(list.size() - max_messages_, list.size() - first);
  list.erase(list.begin() + static_cast<std::ptrdiff_t>(first), list.begin() + static_cast<std::ptrdiff_t>(first + n));
}

void SessionBook::EvictLocked() {
  while (sessions_.size() > max_sessions_) {
    const std::string id = recency_.back();
    recency_.pop_back();
    sessions_.erase(id);
    MarkLocked(id);
  }
}

void SessionBook::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  std::chrono::milliseconds delay = kRetryFirst;
  bool failing = false;
  // Reads the store again until it can (the book is unavailable meanwhile;
  // nothing is dirty then, as no change is taken).
  while (!available_ && !stop_) {
    writer_cv_.wait_for(lock, delay, [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    std::vector<gov::ChatSession> loaded;
    const gov::Status s = store_->LoadSessions(&loaded);
    if (!s.ok()) {
      delay = std::min(delay * 2, kRetryMost);
      log::Warn("chat sessions: still cannot read the ", store_->Kind(), " store (", s.message(), "); retrying in ",
                delay.count(), " ms");
    }
    lock.lock();
    if (s.ok()) {
      AdoptLocked(std::move(loaded));
      available_ = true;
      delay = kRetryFirst;
      const size_t n = sessions_.size();
      lock.unlock();
      log::Info("chat sessions: ", n, " loaded from the ", store_->Kind(), " store; the session endpoints are available");
      lock.lock();
    }
  }
  while (true) {
    if (failing) {
      writer_cv_.wait_for(lock, delay, [&] { return stop_ || kick_; });
    } else {
      writer_cv_.wait(lock, [&] { return stop_ || kick_ || !dirty_.empty(); });
    }
    kick_ = false;
    const bool last = stop_;  // the destructor waits: one last pass
    PassResult r;
    if (!dirty_.empty()) WritePass(lock, &r);
    const bool was_failing = failing;
    if (r.failed > 0) {
      delay = failing ? std::min(delay * 2, kRetryMost) : kRetryFirst;
      failing = true;
    } else {
      delay = kRetryFirst;
      failing = false;
    }
    if (last) break;
    // The log is written without the lock: requests wait on it.
    lock.unlock();
    if (r.dropped > 0) {
      log::Error("chat sessions: the ", store_->Kind(), " store refused ", r.dropped, " session(s), not retried (",
                 r.first_error.message(), ")");
    }
    if (r.failed > 0) {
      log::Warn("chat sessions: cannot write ", r.failed, " session(s) to the ", store_->Kind(), " store (first ",
                json::Quote(r.first_id), ": ", r.first_error.message(), "); retrying in ", delay.count(), " ms");
    } else if (was_failing) {
      log::Info("chat sessions: the ", store_->Kind(), " store takes writes again");
    }
    lock.lock();
  }
  const size_t lost = dirty_.size();
  writer_done_ = true;
  durable_cv_.notify_all();
  lock.unlock();
  if (lost > 0) {
    log::Error("chat sessions: ", lost, " changed session(s) could not be written to the ", store_->Kind(),
               " store before shutdown");
  }
}

void SessionBook::WritePass(std::unique_lock<std::mutex>& lock, PassResult* r) {
  std::unordered_set<std::string> batch;
  batch.swap(dirty_);
  // Every change up to here is in batch, or was written by an earlier pass.
  const uint64_t pass_seq = change_seq_;
  for (const std::string& id : batch) {
    std::optional<gov::ChatSession> copy;
    if (auto it = sessions_.find(id); it != sessions_.end()) copy = it->second.session;
    lock.unlock();
    gov::Status s = copy ? store_->SaveSession(*copy) : store_->DeleteSession(id);
    lock.lock();
    if (s.ok() || (!copy && s.kind() == Kind::kNotFound)) continue;  // deleted, or never written
    if (r->failed == 0 && r->dropped == 0) {
      r->first_id = id;
      r->first_error = s;
    }
    if (s.kind() == Kind::kInvalid) {
      ++r->dropped;
      continue;
    }
    ++r->failed;
    dirty_.insert(id);
  }
  if (r->failed == 0) {
    durable_seq_ = std::max(durable_seq_, pass_seq);
    durable_cv_.notify_all();
  }
}

}  // namespace sy::local
