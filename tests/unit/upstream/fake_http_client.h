// FakeHttpClient: a scripted HttpClient for tests of code above the upstream
// seam (providers, handlers). Each Send takes the next scripted reply from a
// queue and records the request it got.
//
//   FakeHttpClient http;
//   http.Push(FakeReply::Json(200, R"({"ok":true})"));
//   http.Push(FakeReply::Stream({"data: a\n\n", "data: [DONE]\n\n"}));
//   http.Push(FakeReply::Fail(HttpErrorKind::kTimeout));
//   ... run the code under test with &http ...
//   EXPECT_EQ(http.requests()[0].url, "https://api.example.com/v1/chat/completions");
//
// Cancellation is honoured like the real client: a cancelled request returns
// kCancelled from Send or from the next ReadSome; a reply scripted to hang
// waits until it is cancelled. Thread-safety: none (one io_context thread).
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "upstream/http_client.h"

namespace sy::upstream {

struct FakeReply {
  HttpError error;                 // when set, Send returns it and no response
  int status = 200;
  Headers headers;
  std::vector<std::string> pieces;  // body, one piece per ReadSome
  HttpError body_error;            // when set, returned after the pieces instead of done
  bool hang_before_headers = false;  // Send waits until cancelled
  bool hang_after_pieces = false;    // ReadSome waits until cancelled after the pieces
  std::chrono::milliseconds piece_delay{0};  // wait before each piece

  static FakeReply Json(int status, std::string body) {
    FakeReply r;
    r.status = status;
    r.headers = {{"Content-Type", "application/json"}, {"Content-Length", std::to_string(body.size())}};
    r.pieces = {std::move(body)};
    return r;
  }
  static FakeReply Stream(std::vector<std::string> events) {
    FakeReply r;
    r.headers = {{"Content-Type", "text/event-stream"}, {"Transfer-Encoding", "chunked"}};
    r.pieces = std::move(events);
    return r;
  }
  static FakeReply Fail(HttpErrorKind kind, std::string message = "scripted failure") {
    FakeReply r;
    r.error = {kind, std::move(message)};
    return r;
  }
};

class FakeHttpClient : public HttpClient {
 public:
  void Push(FakeReply reply) { replies_.push_back(std::move(reply)); }

  // Every request Send got, in order (cancelled ones too).
  const std::vector<HttpRequest>& requests() const { return requests_; }
  // Requests that ended because their Cancellation fired.
  int cancelled() const { return *cancelled_; }
  // Responses destroyed before their body was read to the end.
  int abandoned() const { return *abandoned_; }
  size_t pending_replies() const { return replies_.size(); }

  boost::asio::awaitable<std::pair<HttpError, std::unique_ptr<HttpResponse>>> Send(HttpRequest request,
                                                                                   Cancellation* cancel) override {
    using Result = std::pair<HttpError, std::unique_ptr<HttpResponse>>;
    requests_.push_back(std::move(request));
    if (replies_.empty()) {
      co_return Result{HttpError{HttpErrorKind::kConnect, "FakeHttpClient: no scripted reply"}, std::unique_ptr<HttpResponse>()};
    }
    FakeReply reply = std::move(replies_.front());
    replies_.pop_front();
    if (reply.hang_before_headers) co_await WaitForCancel(cancel, std::chrono::hours(24));
    if (cancel && cancel->cancelled()) {
      ++*cancelled_;
      co_return Result{HttpError{HttpErrorKind::kCancelled, "request cancelled"}, std::unique_ptr<HttpResponse>()};
    }
    if (reply.error) co_return Result{reply.error, std::unique_ptr<HttpResponse>()};
    co_return Result{HttpError{}, std::make_unique<Response>(std::move(reply), cancel, cancelled_, abandoned_)};
  }

 private:
  // Waits for `d` or until `cancel` fires, whichever is first.
  static boost::asio::awaitable<void> WaitForCancel(Cancellation* cancel, std::chrono::nanoseconds d) {
    if (cancel && cancel->cancelled()) co_return;  // already cancelled: no wait
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
    size_t slot = cancel ? cancel->OnCancel([&timer] { timer.cancel(); }) : 0;
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (cancel) cancel->Clear(slot);
  }

  class Response : public HttpResponse {
   public:
    Response(FakeReply reply, Cancellation* cancel, std::shared_ptr<int> cancelled, std::shared_ptr<int> abandoned)
        : reply_(std::move(reply)), cancel_(cancel), cancelled_(std::move(cancelled)), abandoned_(std::move(abandoned)) {}
    ~Response() override {
      if (!done_ && !failed_) ++*abandoned_;
    }
    int status() const override { return reply_.status; }
    const Headers& headers() const override { return reply_.headers; }
    std::string header(std::string_view name) const override {
      for (const auto& [n, v] : reply_.headers) {
        if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            })) {
          return v;
        }
      }
      return {};
    }

    boost::asio::awaitable<HttpError> ReadSome(std::string* out, bool* done) override {
      *done = false;
      if (done_) {
        *done = true;
        co_return HttpError{};
      }
      if (failed_) co_return failure_;
      const size_t count = reply_.pieces.size();
      if (next_ < count && reply_.piece_delay.count() > 0) co_await WaitForCancel(cancel_, reply_.piece_delay);
      if (next_ == count && reply_.hang_after_pieces) co_await WaitForCancel(cancel_, std::chrono::hours(24));
      if (cancel_ && cancel_->cancelled()) {
        ++*cancelled_;
        co_return Fail({HttpErrorKind::kCancelled, "request cancelled"});
      }
      if (next_ < count) {
        out->append(reply_.pieces[next_++]);
        // Like the real client, the last piece may come with done.
        if (next_ == count && !reply_.body_error && !reply_.hang_after_pieces) *done = done_ = true;
        co_return HttpError{};
      }
      if (reply_.body_error) co_return Fail(reply_.body_error);
      *done = done_ = true;
      co_return HttpError{};
    }

   private:
    FakeReply reply_;
    Cancellation* cancel_;
    std::shared_ptr<int> cancelled_;
    std::shared_ptr<int> abandoned_;
    HttpError Fail(HttpError err) {
      failed_ = true;
      failure_ = std::move(err);
      return failure_;
    }

    size_t next_ = 0;
    bool done_ = false;
    bool failed_ = false;
    HttpError failure_;
  };

  std::deque<FakeReply> replies_;
  std::vector<HttpRequest> requests_;
  std::shared_ptr<int> cancelled_ = std::make_shared<int>(0);
  std::shared_ptr<int> abandoned_ = std::make_shared<int>(0);
};

}  // namespace sy::upstream
