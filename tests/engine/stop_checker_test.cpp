// Stop strings cut exactly, across pushes, and never leak a partial match into the stream.
#include <gtest/gtest.h>

#include "engine/stop_checker.h"

namespace strata {
namespace {

std::string Feed(StopChecker& s, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += s.Push(p);
  return out + s.Flush();
}

TEST(StopChecker, CutsRightBeforeTheStopString) {
  StopChecker s({"END"});
  EXPECT_EQ(Feed(s, {"hello E", "N", "D and more"}), "hello ");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.matched(), "END");
}

TEST(StopChecker, HoldsBackAPossiblePrefixThenReleasesIt) {
  StopChecker s({"END"});
  EXPECT_EQ(s.Push("abcE"), "abc");
  EXPECT_EQ(s.Push("N"), "");
  EXPECT_EQ(s.Push("x"), "ENx");
  EXPECT_FALSE(s.stopped());
  EXPECT_EQ(s.Push("EN"), "");
  EXPECT_EQ(s.Flush(), "EN");  // the end of the text: what was held is real output
}

TEST(StopChecker, EarliestOfSeveralWins) {
  StopChecker s({"cat", "dog"});
  EXPECT_EQ(Feed(s, {"a dog and a cat"}), "a ");
  EXPECT_EQ(s.matched(), "dog");
}

TEST(StopChecker, OverlappingPrefixes) {
  StopChecker s({"abab"});
  EXPECT_EQ(Feed(s, {"a", "a", "b", "a", "b", "zz"}), "a");
  EXPECT_TRUE(s.stopped());
}

TEST(StopChecker, NoStopsPassThrough) {
  StopChecker s({});
  EXPECT_EQ(s.Push("anything"), "anything");
  EXPECT_EQ(s.Flush(), "");
  EXPECT_FALSE(s.stopped());
}

TEST(StopChecker, NothingAfterAStop) {
  StopChecker s({"\n"});
  EXPECT_EQ(s.Push("line one\nline two"), "line one");
  EXPECT_EQ(s.Push("more"), "");
  EXPECT_EQ(s.Flush(), "");
}

}  // namespace
}  // namespace strata
