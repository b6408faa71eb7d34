// A value that writers replace whole (rarely: a config reload, a refresh
// every few seconds) and that every request reads. Readers keep a per-thread
// copy of the shared_ptr and refresh it only when the version moved, so a
// read is one relaxed load and a compare — not the atomic read-modify-write
// on a shared control block that std::atomic<std::shared_ptr> costs, which
// bounces one cache line between the worker threads on every request.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace sy {

template <typename T>
class Published {
 public:
  explicit Published(std::shared_ptr<const T> value) : value_(std::move(value)) {}

  void Store(std::shared_ptr<const T> value) {
    std::lock_guard<std::mutex> lock(mu_);
    value_ = std::move(value);
    version_.fetch_add(1, std::memory_order_release);
  }

  // A counted copy: for holding the value across a co_await.
  std::shared_ptr<const T> Load() const {
    std::lock_guard<std::mutex> lock(mu_);
    return value_;
  }

  // The current value as this thread last saw it, refreshed when it moved.
  // REQUIRES: the reference is used only until this thread's next Get on
  // any Published<T> (not across a co_await).
  const T& Get() const {
    struct Slot {
      uint64_t id = 0;
      uint64_t version = 0;
      std::shared_ptr<const T> value;
    };
    thread_local Slot slots[kSlots];
    const uint64_t version = version_.load(std::memory_order_acquire);
    Slot* free_slot = nullptr;
    for (Slot& s : slots) {
      if (s.id == id_) {
        if (s.version != version) {
          s.value = Load();
          s.version = version;
        }
        return *s.value;
      }
      if (free_slot == nullptr && s.id == 0) free_slot = &s;
    }
    // A new object for this thread: take a free slot, or the first one
    // (several live objects of one type per thread happen only in tests).
    Slot& s = free_slot != nullptr ? *free_slot : slots[0];
    s.id = id_;
    s.value = Load();
    s.version = version;
    return *s.value;
  }

 private:
  static constexpr int kSlots = 4;
  static uint64_t NextId() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  const uint64_t id_ = NextId();  // unique for the process's life: never reused like an address
  mutable std::mutex mu_;
  std::shared_ptr<const T> value_;
  std::atomic<uint64_t> version_{1};
};

}  // namespace sy
