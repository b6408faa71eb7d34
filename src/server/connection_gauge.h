// Counts open client connections across all workers and enforces
// server.max_connections: a connection accepted past the cap is closed at
// once (and counted), so a flood of connections cannot exhaust memory or file
// descriptors. Thread-safe (atomics); shared by every worker.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sy {

class ConnectionGauge {
 public:
  explicit ConnectionGauge(size_t max) : max_(max) {}

  // Takes a slot for a new connection; false (and counted as rejected) when
  // max connections are already open. Every true must be paired with Release().
  bool TryAcquire() {
    size_t n = open_.fetch_add(1, std::memory_order_relaxed);
    if (n < max_) return true;
    open_.fetch_sub(1, std::memory_order_relaxed);
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  void Release() { open_.fetch_sub(1, std::memory_order_relaxed); }

  size_t open() const { return open_.load(std::memory_order_relaxed); }
  size_t max() const { return max_; }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  const size_t max_;
  std::atomic<size_t> open_{0};
  std::atomic<uint64_t> rejected_{0};
};

}  // namespace sy
