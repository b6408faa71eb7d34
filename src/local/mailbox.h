// Hands items from any thread to one coroutine on its own io_context.
//
// The local engine runs on a thread of its own; requests run on the
// gateway's worker threads. A request waits for what the engine sends it
// (a slot, tokens, the end) in its Mailbox: Push may be called from any
// thread, Take only from the owner's executor, by one coroutine at a time.
//
// Wake-up: Push posts a cancel of the owner's timer to the owner's executor.
// The owner's io_context runs one thread, so that handler runs only after
// Take has either found the items or suspended in async_wait: no wake-up is
// lost. A Push's wake-up may come after Take already returned its item (with
// an earlier one); it only makes a waiting Take look again, never return
// empty: only Wake/WakeHere do that.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sy::local {

template <typename T>
class Mailbox : public std::enable_shared_from_this<Mailbox<T>> {
 public:
  explicit Mailbox(boost::asio::any_io_executor owner) : timer_(owner) {
    timer_.expires_at(boost::asio::steady_timer::time_point::max());
  }

  // Any thread.
  void Push(T item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(item));
    }
    boost::asio::post(timer_.get_executor(), [self = this->shared_from_this()] { self->timer_.cancel(); });
  }

  // Any thread: Take returns (with what is there, maybe nothing).
  void Wake() {
    boost::asio::post(timer_.get_executor(), [self = this->shared_from_this()] {
      self->woken_ = true;
      self->timer_.cancel();
    });
  }

  // Owner's executor. Waits until there is at least one item or Wake was
  // called; returns every item there is, in order.
  boost::asio::awaitable<std::vector<T>> Take() {
    std::vector<T> out;
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        out.swap(items_);
      }
      if (!out.empty() || woken_) break;
      boost::system::error_code ec;
      co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      timer_.expires_at(boost::asio::steady_timer::time_point::max());
    }
    woken_ = false;
    co_return out;
  }

  // Owner's executor: wakes a pending Take at once (a client that went away).
  void WakeHere() {
    woken_ = true;
    timer_.cancel();
  }

 private:
  std::mutex mu_;
  std::vector<T> items_;
  boost::asio::steady_timer timer_;
  bool woken_ = false;  // owner's executor only
};

}  // namespace sy::local
