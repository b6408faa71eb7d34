#include "upstream/fake_http_client.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "upstream/test_server.h"

namespace sy::upstream {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

class FakeHttpClientTest : public ::testing::Test {
 protected:
  void Run(std::function<net::awaitable<void>()> body) { testkit::RunCo(ioc_, std::move(body)); }
  net::io_context ioc_;
  FakeHttpClient http_;
};

TEST_F(FakeHttpClientTest, RecordsRequestsAndReplaysReplies) {
  http_.Push(FakeReply::Json(200, R"({"ok":true})"));
  http_.Push(FakeReply::Stream({"data: a\n\n", "data: [DONE]\n\n"}));
  Run([&]() -> net::awaitable<void> {
    HttpRequest req;
    req.url = "https://api.example.com/v1/chat/completions";
    req.body = "{}";
    auto [err, resp] = co_await http_.Send(req, nullptr);
    EXPECT_FALSE(err);
    if (!resp) {
      ADD_FAILURE() << "no response";
      co_return;
    }
    EXPECT_EQ(resp->status(), 200);
    EXPECT_EQ(resp->header("content-type"), "application/json");
    std::string body;
    EXPECT_FALSE(co_await resp->ReadAll(&body, 100));
    EXPECT_EQ(body, R"({"ok":true})");

    auto [err2, stream] = co_await http_.Send(req, nullptr);
    EXPECT_FALSE(err2);
    if (!stream) {
      ADD_FAILURE() << "no response";
      co_return;
    }
    std::vector<std::string> pieces;
    bool done = false;
    while (!done) {
      std::string piece;
      HttpError e = co_await stream->ReadSome(&piece, &done);
      EXPECT_FALSE(e);
      if (e) break;
      pieces.push_back(piece);
    }
    EXPECT_EQ(pieces, (std::vector<std::string>{"data: a\n\n", "data: [DONE]\n\n"}));
  });
  ASSERT_EQ(http_.requests().size(), 2u);
  EXPECT_EQ(http_.requests()[0].url, "https://api.example.com/v1/chat/completions");
  EXPECT_EQ(http_.requests()[1].body, "{}");
  EXPECT_EQ(http_.pending_replies(), 0u);
  EXPECT_EQ(http_.abandoned(), 0);
}

TEST_F(FakeHttpClientTest, ScriptedErrors) {
  http_.Push(FakeReply::Fail(HttpErrorKind::kTimeout));
  FakeReply broken = FakeReply::Stream({"data: a\n\n"});
  broken.body_error = {HttpErrorKind::kClosed, "gone"};
  http_.Push(broken);
  Run([&]() -> net::awaitable<void> {
    // Named, not HttpRequest{} in the call: GCC 12 mis-moves brace-initialised
    // temporaries passed to a coroutine inside co_await (their strings dangle).
    HttpRequest empty;
    auto [err, resp] = co_await http_.Send(empty, nullptr);
    EXPECT_EQ(err.kind, HttpErrorKind::kTimeout);
    auto [err2, stream] = co_await http_.Send(empty, nullptr);
    if (!stream) {
      ADD_FAILURE() << "no response";
      co_return;
    }
    std::string body;
    bool done = false;
    EXPECT_FALSE(co_await stream->ReadSome(&body, &done));
    EXPECT_EQ(body, "data: a\n\n");
    EXPECT_FALSE(done);
    EXPECT_EQ((co_await stream->ReadSome(&body, &done)).kind, HttpErrorKind::kClosed);
    auto [err3, none] = co_await http_.Send(empty, nullptr);
    EXPECT_EQ(err3.kind, HttpErrorKind::kConnect);  // nothing scripted
  });
}

TEST_F(FakeHttpClientTest, CancellationEndsAHangingStream) {
  FakeReply hanging = FakeReply::Stream({"data: a\n\n"});
  hanging.hang_after_pieces = true;
  http_.Push(hanging);
  FakeReply no_headers;
  no_headers.hang_before_headers = true;
  http_.Push(no_headers);
  Run([&]() -> net::awaitable<void> {
    HttpRequest empty;
    Cancellation cancel;
    auto [err, stream] = co_await http_.Send(empty, &cancel);
    if (!stream) {
      ADD_FAILURE() << "no response";
      co_return;
    }
    std::string body;
    bool done = false;
    EXPECT_FALSE(co_await stream->ReadSome(&body, &done));
    net::co_spawn(
        ioc_,
        [&]() -> net::awaitable<void> {
          co_await testkit::Sleep(20ms);
          cancel.Cancel();
        },
        net::detached);
    EXPECT_EQ((co_await stream->ReadSome(&body, &done)).kind, HttpErrorKind::kCancelled);

    Cancellation cancel2;
    net::co_spawn(
        ioc_,
        [&]() -> net::awaitable<void> {
          co_await testkit::Sleep(20ms);
          cancel2.Cancel();
        },
        net::detached);
    auto [err2, none] = co_await http_.Send(empty, &cancel2);
    EXPECT_EQ(err2.kind, HttpErrorKind::kCancelled);
  });
  EXPECT_EQ(http_.cancelled(), 2);
  EXPECT_EQ(http_.abandoned(), 0);
}

TEST_F(FakeHttpClientTest, CountsAbandonedResponses) {
  http_.Push(FakeReply::Stream({"a", "b"}));
  Run([&]() -> net::awaitable<void> {
    HttpRequest empty;
    auto [err, stream] = co_await http_.Send(empty, nullptr);
    EXPECT_FALSE(err);
  });
  EXPECT_EQ(http_.abandoned(), 1);
}

}  // namespace
}  // namespace sy::upstream
