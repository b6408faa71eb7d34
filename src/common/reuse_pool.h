// Buffers reused from one request to the next on a thread.
//
// A stream's buffers (its upstream pieces, its events, its encoded output)
// grow to several KiB. Allocated afresh per request they are glibc "large"
// allocations, each of which makes malloc consolidate its free lists: a cost
// on every streamed response. Reused<T> takes a cleared buffer, capacity
// kept, from a small per-thread pool and gives it back when it goes out of
// scope (in a coroutine frame: when the call ends).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace sy {

// T: a container with clear() and capacity() (std::string, std::vector).
template <typename T>
class Reused {
 public:
  // `reserve`: the capacity a new buffer starts with.
  explicit Reused(size_t reserve = 0) {
    std::vector<T>& pool = Pool();
    if (!pool.empty()) {
      value_ = std::move(pool.back());
      pool.pop_back();
    } else if (reserve != 0) {
      value_.reserve(reserve);
    }
  }
  ~Reused() {
    value_.clear();
    std::vector<T>& pool = Pool();
    // Kept only while the pool is small and the buffer is not huge: one
    // stream that once needed megabytes does not pin them.
    if (pool.size() < kMaxPooled && value_.capacity() * sizeof(typename T::value_type) <= kMaxPooledBytes) {
      pool.push_back(std::move(value_));
    }
  }
  Reused(const Reused&) = delete;
  Reused& operator=(const Reused&) = delete;

  T& operator*() { return value_; }
  T* operator->() { return &value_; }

 private:
  static constexpr size_t kMaxPooled = 16;               // per thread and type
  static constexpr size_t kMaxPooledBytes = 64 * 1024;  // per buffer

  static std::vector<T>& Pool() {
    thread_local std::vector<T> pool;
    return pool;
  }

  T value_;
};

}  // namespace sy
