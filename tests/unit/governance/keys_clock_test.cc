// Key secrets, model patterns, calendar windows and ISO times.
#include <gtest/gtest.h>

#include "governance/clock.h"
#include "governance/keys.h"

namespace sy::gov {
namespace {

TEST(KeySecret, HasItsTypePrefixAndAChecksum) {
  const std::string u = NewKeySecret(KeyType::kUser);
  const std::string a = NewKeySecret(KeyType::kAdmin);
  const std::string s = NewKeySecret(KeyType::kService);
  EXPECT_EQ(u.substr(0, 4), "syu_");
  EXPECT_EQ(a.substr(0, 4), "sya_");
  EXPECT_EQ(s.substr(0, 4), "sys_");
  EXPECT_EQ(u.size(), 42u);
  EXPECT_NE(u, NewKeySecret(KeyType::kUser));
  EXPECT_FALSE(HasBadChecksum(u));
  std::string typo = u;
  typo[10] = typo[10] == 'x' ? 'y' : 'x';
  EXPECT_TRUE(HasBadChecksum(typo));
  // Anything not shaped like ours is left to the lookup.
  EXPECT_FALSE(HasBadChecksum("sk-anything"));
  EXPECT_FALSE(HasBadChecksum(""));
}

TEST(KeySecret, DigestAndDisplayNeverShowTheKey) {
  const std::string k = NewKeySecret(KeyType::kUser);
  EXPECT_EQ(KeyDigest(k).size(), 32u);
  EXPECT_EQ(HexOf(KeyDigest("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string d = DisplayOf(k);
  EXPECT_EQ(d.substr(0, 8), k.substr(0, 8));
  EXPECT_EQ(d.substr(d.size() - 4), k.substr(k.size() - 4));
  EXPECT_LT(d.size(), 20u);
  EXPECT_EQ(DisplayOf("short"), "sh...");
}

TEST(ModelPattern, StarsMatchAnyRun) {
  EXPECT_TRUE(ModelMatches("gpt-4o", "gpt-4o"));
  EXPECT_FALSE(ModelMatches("gpt-4o", "gpt-4o-mini"));
  EXPECT_TRUE(ModelMatches("gpt-4*", "gpt-4o-mini"));
  EXPECT_TRUE(ModelMatches("*", "anything"));
  EXPECT_TRUE(ModelMatches("openai/*", "openai/gpt-5"));
  EXPECT_FALSE(ModelMatches("openai/*", "anthropic/claude"));
  EXPECT_TRUE(ModelMatches("*-mini", "gpt-4o-mini"));
  EXPECT_TRUE(ModelMatches("a*b*c", "a-x-b-y-c"));
  EXPECT_FALSE(ModelMatches("a*b*c", "a-x-c-y-b"));
  EXPECT_FALSE(ModelMatches("", "x"));
  EXPECT_TRUE(ModelMatches("**", ""));
  // No exponential backtracking on hostile patterns.
  EXPECT_FALSE(ModelMatches(std::string(200, '*') + "b", std::string(5000, 'a')));
}

constexpr int64_t kDay = 86400000;

TEST(Window, DailyWeeklyMonthlyAreCalendarWindowsInUtc) {
  const int64_t t = *ParseIsoTime("2026-12-02T10:30:00Z");  // a Wednesday
  const Window d = WindowOf(static_cast<int>(BudgetPeriod::kDaily), t);
  EXPECT_EQ(IsoTime(d.start_ms), "2026-12-02T00:00:00Z");
  EXPECT_EQ(d.end_ms - d.start_ms, kDay);
  EXPECT_EQ(d.id, "d2026-12-02");
  const Window w = WindowOf(static_cast<int>(BudgetPeriod::kWeekly), t);
  EXPECT_EQ(IsoTime(w.start_ms), "2026-11-30T00:00:00Z");  // Monday
  EXPECT_EQ(w.id, "w2026-11-30");
  const Window m = WindowOf(static_cast<int>(BudgetPeriod::kMonthly), t);
  EXPECT_EQ(IsoTime(m.start_ms), "2026-12-01T00:00:00Z");
  EXPECT_EQ(IsoTime(m.end_ms), "2027-01-01T00:00:00Z");
  EXPECT_EQ(m.id, "m2026-12");
  const Window none = WindowOf(static_cast<int>(BudgetPeriod::kNone), t);
  EXPECT_EQ(none.end_ms, 0);
  EXPECT_EQ(none.id, "all");
}

TEST(Window, BoundariesBelongToTheNewWindow) {
  const int64_t midnight = *ParseIsoTime("2027-01-01T00:00:00Z");
  EXPECT_EQ(WindowOf(static_cast<int>(BudgetPeriod::kMonthly), midnight).id, "m2027-01");
  EXPECT_EQ(WindowOf(static_cast<int>(BudgetPeriod::kMonthly), midnight - 1).id, "m2026-12");
  EXPECT_EQ(WindowOf(static_cast<int>(BudgetPeriod::kDaily), midnight - 1).id, "d2026-12-31");
  const int64_t leap = *ParseIsoTime("2028-02-29T12:00:00Z");
  EXPECT_EQ(IsoTime(WindowOf(static_cast<int>(BudgetPeriod::kMonthly), leap).end_ms), "2028-03-01T00:00:00Z");
  // A Monday starts its own week.
  const int64_t monday = *ParseIsoTime("2026-12-07T00:00:00Z");
  EXPECT_EQ(WindowOf(static_cast<int>(BudgetPeriod::kWeekly), monday).id, "w2026-12-07");
}

TEST(IsoTime, RoundTripsAndRefusesMalformedText) {
  EXPECT_EQ(IsoTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(*ParseIsoTime("2026-12-02"), *ParseIsoTime("2026-12-02T00:00:00Z"));
  EXPECT_EQ(*ParseIsoTime("2026-12-02T10:30:00.500Z") - *ParseIsoTime("2026-12-02T10:30:00Z"), 500);
  EXPECT_TRUE(ParseIsoTime("2026-12-02T10:30:00+00:00"));
  for (const char* bad : {"", "2026", "2026-13-01", "2026-12-02T25:00:00Z", "2026-12-02T10:30:00+02:00",
                          "yesterday", "2026-12-02Tx", "1969-12-31"}) {
    EXPECT_FALSE(ParseIsoTime(bad)) << bad;
  }
  const int64_t t = 1796205645000;
  EXPECT_EQ(*ParseIsoTime(IsoTime(t)), t);
}

}  // namespace
}  // namespace sy::gov
