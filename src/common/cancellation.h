// A one-shot cancellation signal owned by one request.
//
// Thread-safety: none. A Cancellation is created, triggered and observed on the
// worker thread that owns the request (every request lives on one io_context).
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace sy {

class Cancellation {
 public:
  // Runs every registered handler once. Later calls do nothing.
  void Cancel() {
    if (cancelled_) return;
    cancelled_ = true;
    auto handlers = std::move(handlers_);
    for (auto& h : handlers) {
      if (h) h();
    }
  }
  bool cancelled() const { return cancelled_; }

  // Registers a handler and returns its slot. If already cancelled the handler
  // runs at once. REQUIRES: Clear(slot) before whatever the handler touches dies.
  size_t OnCancel(std::function<void()> handler) {
    if (cancelled_) {
      handler();
      return static_cast<size_t>(-1);
    }
    handlers_.push_back(std::move(handler));
    return handlers_.size() - 1;
  }
  void Clear(size_t slot) {
    if (slot < handlers_.size()) handlers_[slot] = nullptr;
  }

 private:
  bool cancelled_ = false;
  std::vector<std::function<void()>> handlers_;
};

}  // namespace sy
