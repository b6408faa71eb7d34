// SessionBook: the chat sessions of the local-model server's session
// endpoints (GET /sessions, GET/DELETE /chat/history/:id, POST
// /chat/history/:id/rollback), in memory, written behind to the store.
//
// Every call is thread-safe and never touches the store: changes are marked
// and the book's own writer thread saves them, coalesced per session (one
// SaveSession of the latest state however many changes came; DeleteSession
// for a deleted or dropped one). A store failure is logged (ids and counts,
// never message contents) and the change retried later with back-off, never
// lost while the process runs (a write the store refuses as kInvalid cannot
// succeed later: it is logged and dropped). Only the constructor
// (LoadSessions) and Flush/the destructor wait on the store; the destructor
// makes one last try and logs how many changes it could not write.
//
// When the store cannot be read at start, the book is unavailable: it holds
// nothing and takes no change (which would overwrite a stored history it has
// not read), callers answer 503, and the writer thread reads the store again
// with the same back-off until it can; then the book is available for good.
//
// Limits: past max_sessions the least recently updated session is dropped
// (and deleted from the store); past max_messages_per_session (the leading
// system message counted) the oldest messages after the system message go.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "governance/status.h"
#include "governance/store.h"
#include "governance/types.h"

namespace sy::local {

class SessionBook {
 public:
  // store may be null (store: none): memory only, no writer thread.
  // Otherwise loads every session from the store (blocking; called at
  // start): when that fails the book is unavailable until a later read
  // succeeds, and LoadStatus() says why the first one failed.
  // Limits below 1 count as 1.
  explicit SessionBook(gov::Store* store, size_t max_sessions = 10000, size_t max_messages_per_session = 2000);
  // Writes what is pending (one last try), then stops the writer thread.
  ~SessionBook();
  SessionBook(const SessionBook&) = delete;
  SessionBook& operator=(const SessionBook&) = delete;

  // 1..128 characters of [A-Za-z0-9._:-].
  static bool ValidId(std::string_view id);

  // The result of the load at construction (OK with no store).
  const gov::Status& LoadStatus() const { return load_status_; }
  // False while the store has not been read (see above): History and Ids
  // then see nothing, and Append, Delete and Rollback change nothing. Once
  // true, stays true.
  bool Available() const;

  // The session's messages in order; nullopt when there is no such session.
  std::optional<std::vector<gov::ChatMessage>> History(const std::string& id) const;
  // Every session id, most recently updated first.
  std::vector<std::string> Ids() const;
  size_t size() const;

  // Appends to the session, creating it (also with no messages). A "system"
  // message replaces the session's leading system message if there is one,
  // else becomes the first; any other role is appended. NUL characters in
  // content become U+FFFD. An id that is not ValidId is ignored.
  void Append(const std::string& id, std::vector<gov::ChatMessage> messages);
  // False when there was no such session.
  bool Delete(const std::string& id);
  // Drops the last `amount` messages (never the leading system message; fewer
  // when there are fewer); false when there is no such session.
  bool Rollback(const std::string& id, size_t amount);
  // Blocks until every change made before the call is in the store (tests,
  // shutdown); while the store fails, that is until it recovers. Returns at
  // once with no store.
  void Flush();

 private:
  struct Entry {
    gov::ChatSession session;
    std::list<std::string>::iterator recency;  // into recency_
  };

  // REQUIRES: mu_ held. A change to id: the writer will save or delete it.
  void MarkLocked(const std::string& id);
  // REQUIRES: mu_ held. A stamp after every stamp so far (unix ms, strictly
  // increasing, so that the order of updates survives a restart).
  int64_t StampLocked();
  // REQUIRES: mu_ held. Moves e to the front of recency_ with a new stamp.
  void TouchLocked(Entry* e);
  // REQUIRES: mu_ held. Drops the oldest non-system messages past the limit.
  void TrimLocked(gov::ChatSession* s) const;
  // REQUIRES: mu_ held. Drops least recently updated sessions past the limit.
  void EvictLocked();
  // REQUIRES: mu_ held. Takes in the sessions read from the store.
  void AdoptLocked(std::vector<gov::ChatSession> loaded);

  struct PassResult;
  void WriterLoop();
  // REQUIRES: lock holds mu_ (released around each store call). Writes every
  // marked session; the ones that failed stay marked.
  void WritePass(std::unique_lock<std::mutex>& lock, PassResult* r);

  gov::Store* const store_;
  const size_t max_sessions_;
  const size_t max_messages_;
  gov::Status load_status_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> sessions_;
  std::list<std::string> recency_;  // ids, most recently updated first
  int64_t last_stamp_ = 0;
  bool available_ = true;  // the store has been read (or there is none)

  // Write-behind state, under mu_. Every change increments change_seq_;
  // durable_seq_ is the change_seq_ up to which everything is in the store.
  std::unordered_set<std::string> dirty_;
  uint64_t change_seq_ = 0;
  uint64_t durable_seq_ = 0;
  bool kick_ = false;           // Flush: retry now rather than after the back-off
  bool stop_ = false;           // the destructor
  bool writer_done_ = false;    // the writer thread has returned
  std::condition_variable writer_cv_;   // wakes the writer
  std::condition_variable durable_cv_;  // wakes Flush
  std::thread writer_;
};

}  // namespace sy::local
