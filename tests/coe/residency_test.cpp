// The RAM tier's bookkeeping: least recently used first out, only among the evictable, and no eviction when
// it would not make room anyway.
#include <gtest/gtest.h>

#include "coe/residency.h"

namespace strata::coe {
namespace {

TEST(Residency, VictimsAreLeastRecentlyUsedFirst) {
  Residency r(100);
  for (int e = 0; e < 4; ++e) r.Add(e, 25);
  EXPECT_EQ(r.used(), 100);
  r.Touch(0);
  EXPECT_EQ(r.LruOrder(), (std::vector<int>{1, 2, 3, 0}));
  auto all = [](int) { return true; };
  EXPECT_EQ(r.Victims(0, all), std::vector<int>{});
  EXPECT_EQ(r.Victims(25, all), std::vector<int>{1});
  EXPECT_EQ(r.Victims(40, all), (std::vector<int>{1, 2}));
  EXPECT_FALSE(r.Victims(101, all));
}

TEST(Residency, BusyExpertsAreSkippedAndWaitingIsNullopt) {
  Residency r(100);
  for (int e = 0; e < 4; ++e) r.Add(e, 25);
  auto not_one = [](int e) { return e != 1; };
  EXPECT_EQ(r.Victims(30, not_one), (std::vector<int>{0, 2}));
  auto none = [](int) { return false; };
  EXPECT_FALSE(r.Victims(1, none));
  r.Remove(2);
  EXPECT_EQ(r.used(), 75);
  EXPECT_EQ(r.Victims(25, none), std::vector<int>{});
  EXPECT_FALSE(r.contains(2));
  r.Touch(2);  // not resident: ignored
  EXPECT_EQ(r.LruOrder(), (std::vector<int>{0, 1, 3}));
}

}  // namespace
}  // namespace strata::coe
