// The routing policies, the affinity key and the backend list, without any network.
#include "router/routing_policy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "router/backend_set.h"
#include "testdata.h"

namespace strata {
namespace {

using nlohmann::json;

BackendList MakeBackends(int n) {
  BackendList out;
  for (int i = 0; i < n; ++i) out.push_back(std::make_shared<Backend>(*ParseBackendUrl("10.0.0." + std::to_string(i + 1) + ":8000")));
  return out;
}

TEST(BackendUrl, ParsesAndRejects) {
  auto a = ParseBackendUrl("http://strata-0.strata:8000/");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->host, "strata-0.strata");
  EXPECT_EQ(a->port, 8000);
  EXPECT_EQ(a->url, "http://strata-0.strata:8000");
  EXPECT_EQ(ParseBackendUrl("127.0.0.1:9")->url, "http://127.0.0.1:9");
  for (const char* bad : {"http://host", "host:0", "host:65536", "host:80x", "https://host:443", "http://host:80/v1", ":80", "host:-1"})
    EXPECT_FALSE(ParseBackendUrl(bad).ok()) << bad;
}

TEST(RoutingPolicy, ParsesNames) {
  EXPECT_EQ(*ParseRoutingPolicy("prefix-affinity"), RoutingPolicy::kPrefixAffinity);
  EXPECT_STREQ(RoutingPolicyName(*ParseRoutingPolicy("least-outstanding")), "least-outstanding");
  EXPECT_FALSE(ParseRoutingPolicy("random").ok());
}

TEST(AffinityKey, SharedPrefixSameKeyDifferentPrefixDifferentKey) {
  const std::string system(300, 's');
  auto chat = [&](const std::string& sys, const std::string& user) {
    return json{{"messages", {{{"role", "system"}, {"content", sys}}, {{"role", "user"}, {"content", user}}}}};
  };
  EXPECT_EQ(AffinityKey(chat(system, "hello"), 200), AffinityKey(chat(system, "bye"), 200));
  EXPECT_NE(AffinityKey(chat(system, "hello"), 200), AffinityKey(chat(std::string(300, 't'), "hello"), 200));
  // Within the first K characters the user's turn counts.
  EXPECT_NE(AffinityKey(chat("short", "hello"), 200), AffinityKey(chat("short", "bye"), 200));
  // Content parts count as their text.
  json parts = {{"messages", {{{"role", "system"}, {"content", {{{"type", "text"}, {"text", system}}}}}}}};
  EXPECT_EQ(AffinityKey(parts, 200), AffinityKey(chat(system, "x"), 200));
  EXPECT_EQ(AffinityKey(json{{"prompt", system + "a"}}, 100), AffinityKey(json{{"prompt", system + "b"}}, 100));
  EXPECT_EQ(AffinityKey(json{{"prompt", {1, 2, 3, 4}}}, 4), AffinityKey(json{{"prompt", {1, 2, 3, 5}}}, 4));
  EXPECT_FALSE(AffinityKey(json{{"max_tokens", 3}}, 100).has_value());
  EXPECT_FALSE(AffinityKey(json::array(), 100).has_value());
}

TEST(BackendPicker, RoundRobinVisitsEveryHealthyBackend) {
  BackendList bs = MakeBackends(3);
  bs[1]->RecordFailure(2);  // ejected: its first outcome
  BackendPicker p(RoutingPolicy::kRoundRobin, 4);
  std::map<std::string, int> seen;
  for (int i = 0; i < 10; ++i) ++seen[p.Pick(bs, std::nullopt, {})->url()];
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen.count(bs[1]->url()), 0u);
  EXPECT_EQ(seen[bs[0]->url()], 5);
}

TEST(BackendPicker, SkipsTriedAndReturnsNullWhenNoneLeft) {
  BackendList bs = MakeBackends(2);
  BackendPicker p(RoutingPolicy::kLeastOutstanding, 4);
  auto first = p.Pick(bs, std::nullopt, {});
  auto second = p.Pick(bs, std::nullopt, {first});
  ASSERT_TRUE(second);
  EXPECT_NE(first, second);
  EXPECT_EQ(p.Pick(bs, std::nullopt, {first, second}), nullptr);
}

TEST(BackendPicker, LeastOutstandingPrefersTheIdleBackend) {
  BackendList bs = MakeBackends(3);
  InFlight a(bs[0]), b(bs[2]), c(bs[2]);
  BackendPicker p(RoutingPolicy::kLeastOutstanding, 4);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(p.Pick(bs, std::nullopt, {}), bs[1]);
}

TEST(BackendPicker, AffinityIsStableSpreadsKeysAndFallsBackWhenImbalanced) {
  BackendList bs = MakeBackends(3);
  BackendPicker p(RoutingPolicy::kPrefixAffinity, 2);
  std::map<std::string, int> owners;
  for (uint64_t key = 0; key < 60; ++key) {
    auto first = p.Pick(bs, key, {});
    EXPECT_EQ(p.Pick(bs, key, {}), first);  // the same key, the same backend
    ++owners[first->url()];
  }
  EXPECT_EQ(owners.size(), 3u);  // 60 keys do not all land on one or two backends
  const uint64_t key = 42;
  auto home = p.Pick(bs, key, {});
  std::vector<std::unique_ptr<InFlight>> load;
  for (int i = 0; i < 2; ++i) load.push_back(std::make_unique<InFlight>(home));
  EXPECT_EQ(p.Pick(bs, key, {}), home);  // 2 more than the others: within the bound
  load.push_back(std::make_unique<InFlight>(home));
  EXPECT_NE(p.Pick(bs, key, {}), home);  // 3 more: least-outstanding instead
  load.clear();
  EXPECT_EQ(p.Pick(bs, key, {}), home);
  // When the home backend leaves, its keys move and the others' keys stay.
  BackendList without;
  for (const auto& b : bs)
    if (b != home) without.push_back(b);
  for (uint64_t k = 0; k < 60; ++k) {
    auto before = p.Pick(bs, k, {});
    if (before != home) {
      EXPECT_EQ(p.Pick(without, k, {}), before);
    }
  }
}

TEST(Backend, EjectsAfterFailuresAndReadmitsAfterSuccesses) {
  Backend b(*ParseBackendUrl("h:1"));
  EXPECT_FALSE(b.RecordSuccess(2));  // proven
  EXPECT_FALSE(b.RecordFailure(2));
  EXPECT_TRUE(b.healthy());
  EXPECT_TRUE(b.RecordFailure(2));
  EXPECT_FALSE(b.healthy());
  EXPECT_FALSE(b.RecordSuccess(2));
  EXPECT_FALSE(b.healthy());
  EXPECT_TRUE(b.RecordSuccess(2));
  EXPECT_TRUE(b.healthy());
}

TEST(Backend, AFirstFailureEjectsABackendThatNeverAnswered) {
  Backend b(*ParseBackendUrl("h:1"));
  EXPECT_TRUE(b.healthy());
  EXPECT_TRUE(b.RecordFailure(3));
  EXPECT_FALSE(b.healthy());
}

TEST(BackendSet, ReplaceKeepsTheStateOfBackendsThatStay) {
  BackendSet set;
  set.Replace({*ParseBackendUrl("a:1"), *ParseBackendUrl("b:1")});
  auto a = set.Snapshot()[0];
  a->RecordFailure(1);
  set.Replace({*ParseBackendUrl("c:1"), *ParseBackendUrl("a:1"), *ParseBackendUrl("http://a:1/")});
  const BackendList now = set.Snapshot();
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[0]->url(), "http://c:1");
  EXPECT_EQ(now[1], a);
  EXPECT_FALSE(now[1]->healthy());
}

TEST(BackendsFile, ReadsUrlsSkipsCommentsAndNamesTheBadLine) {
  const std::string path = testing::ScratchDir() + "/backends.txt";
  std::ofstream(path) << "# servers\n\nhttp://s0:8000\n  s1:8000  \r\n";
  auto list = ReadBackendsFile(path);
  ASSERT_TRUE(list.ok()) << list.status().message();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].url, "http://s1:8000");
  std::ofstream(path) << "http://s0:8000\nnot a url\n";
  auto bad = ReadBackendsFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(":2:"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(ReadBackendsFile(path + ".missing").ok());
}

}  // namespace
}  // namespace strata
