#include "common/reuse_pool.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace sy {
namespace {

TEST(Reused, AGivenBackBufferIsTakenAgainClearedWithItsCapacity) {
  const char* data = nullptr;
  {
    Reused<std::string> a(4096);
    EXPECT_GE(a->capacity(), 4096u);
    a->assign(3000, 'x');
    data = a->data();
  }
  Reused<std::string> b;
  EXPECT_TRUE(b->empty());
  EXPECT_GE(b->capacity(), 4096u);
  EXPECT_EQ(b->data(), data);  // the same allocation
}

TEST(Reused, BuffersInUseAtOnceAreDistinct) {
  Reused<std::vector<int>> a(16);
  Reused<std::vector<int>> b(16);
  a->push_back(1);
  b->push_back(2);
  EXPECT_NE(a->data(), b->data());
  EXPECT_EQ((*a)[0], 1);
  EXPECT_EQ((*b)[0], 2);
}

TEST(Reused, AHugeBufferIsNotKept) {
  {
    Reused<std::string> big;
    big->assign(1 << 20, 'x');  // over the per-buffer bound
  }
  // Whatever the pool holds now, it is not that megabyte.
  std::vector<std::unique_ptr<Reused<std::string>>> taken;
  for (int i = 0; i < 64; ++i) {
    taken.push_back(std::make_unique<Reused<std::string>>());
    EXPECT_LT((*taken.back())->capacity(), size_t{1} << 20);
  }
}

}  // namespace
}  // namespace sy
