#include "server/supervised.h"

#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace sy {
namespace {

namespace asio = boost::asio;

TEST(Supervised, ALoopThatThrowsIsRestarted) {
  // Regression: the accept loop and deadline sweep were spawned detached,
  // and an exception stopped them silently.
  asio::io_context io;
  int runs = 0;
  RestartPolicy policy;
  policy.pause = std::chrono::milliseconds(1);
  policy.give_up = [](const std::string&) { FAIL() << "gave up too early"; };
  SpawnSupervised(io, "test loop", [&runs]() -> asio::awaitable<void> {
    ++runs;
    if (runs < 3) throw std::runtime_error("boom");
    co_return;
  }, policy);
  io.run();
  EXPECT_EQ(runs, 3);
}

TEST(Supervised, ALoopThatKeepsFailingGivesUp) {
  asio::io_context io;
  int runs = 0;
  std::string gave_up;
  RestartPolicy policy;
  policy.pause = std::chrono::milliseconds(1);
  policy.max_restarts = 2;
  policy.give_up = [&gave_up](const std::string& name) { gave_up = name; };
  SpawnSupervised(io, "always failing", [&runs]() -> asio::awaitable<void> {
    ++runs;
    throw std::runtime_error("boom");
    co_return;
  }, policy);
  io.run();
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(gave_up, "always failing");
}

}  // namespace
}  // namespace sy
