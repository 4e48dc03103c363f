// The router over real `strata serve` processes (the tiny model): a backend killed under load costs no
// request and is re-admitted once restarted; prefix-affinity gets more prefix cache hits than round-robin.
// A separate executable labelled router_slow (a few seconds here): ctest -L router -LE slow skips it.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "router_harness.h"

namespace strata {
namespace {

using nlohmann::json;
using testing::LocalRouter;
using testing::ServeProcess;
using testing::WaitFor;

#define REQUIRE_TINY_MODEL()                                                                       \
  do {                                                                                             \
    if (!testing::HasTinyModel()) GTEST_SKIP() << testing::TinyModel() << " not found: set STRATA_TESTDATA"; \
  } while (0)

TEST(RouterRealBackends, KilledBackendCostsNoRequestAndIsReadmitted) {
  REQUIRE_TINY_MODEL();
  std::vector<std::unique_ptr<ServeProcess>> servers;
  for (int i = 0; i < 3; ++i) servers.push_back(std::make_unique<ServeProcess>());
  RouterConfig cfg;
  cfg.policy = RoutingPolicy::kRoundRobin;
  cfg.health.interval_s = 0.2;
  cfg.health.eject_after = 2;
  cfg.health.readmit_after = 2;
  LocalRouter router(cfg, {servers[0]->url(), servers[1]->url(), servers[2]->url()});

  constexpr int kClients = 4, kPerClient = 12;
  std::atomic<int> done{0}, failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c)
    clients.emplace_back([&, c] {
      for (int i = 0; i < kPerClient; ++i) {
        const json body = {{"prompt", "Once upon a time " + std::to_string(c * 100 + i)}, {"max_tokens", 8}};
        auto [status, answer] = router.Post("/v1/completions", body.dump());
        if (status != 200 || !answer.contains("choices")) failed.fetch_add(1);
        done.fetch_add(1);
      }
    });
  ASSERT_TRUE(WaitFor([&] { return done.load() >= 8; }, 120));
  servers[1]->Kill();  // mid-load: requests in flight there and the ones routed there next must go elsewhere
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(done.load(), kClients * kPerClient);
  auto killed = router.Find(servers[1]->url());
  EXPECT_GT(killed->Snapshot().errors, 0u) << "no request met the killed backend: the test proved nothing";
  EXPECT_TRUE(WaitFor([&] { return !killed->healthy(); })) << "the killed backend was not ejected";

  servers[1]->Start();  // the same port
  EXPECT_TRUE(WaitFor([&] { return killed->healthy(); })) << "the restarted backend was not re-admitted";
  const uint64_t before = killed->Snapshot().requests;
  for (int i = 0; i < 6; ++i) EXPECT_EQ(router.Post("/v1/completions", R"({"prompt":"Hello","max_tokens":4})").first, 200);
  EXPECT_GT(killed->Snapshot().requests, before) << "the re-admitted backend got no requests";
}

// The backends' own vllm:prefix_cache_hits_total / _queries_total over a workload of requests that share a
// few long prompt prefixes (a system prompt each). Round-robin spreads each prefix over every backend, so
// every backend computes every prefix once; prefix-affinity keeps each prefix on one backend.
TEST(RouterRealBackends, PrefixAffinityBeatsRoundRobinOnPrefixCacheHits) {
  REQUIRE_TINY_MODEL();
  std::vector<std::unique_ptr<ServeProcess>> servers;
  for (int i = 0; i < 3; ++i) servers.push_back(std::make_unique<ServeProcess>());
  std::vector<std::string> urls;
  for (const auto& s : servers) urls.push_back(s->url());
  auto totals = [&] {
    double hits = 0, queries = 0;
    for (const auto& s : servers) {
      hits += s->Metric("vllm:prefix_cache_hits_total");
      queries += s->Metric("vllm:prefix_cache_queries_total");
    }
    return std::pair{hits, queries};
  };
  auto run = [&](RoutingPolicy policy, const std::string& tag) {
    RouterConfig cfg;
    cfg.policy = policy;
    cfg.affinity_prefix_chars = 120;
    LocalRouter router(cfg, urls);
    const auto [h0, q0] = totals();
    for (int i = 0; i < 24; ++i) {
      // Four system prompts of ~300 characters (four, so that round-robin over three backends does not line up
      // with them by chance); each run has its own, so the first run leaves no cache for the second.
      std::string system = tag + " system prompt " + std::to_string(i % 4) + ":";
      while (system.size() < 300) system += " You are a helpful assistant who answers briefly.";
      const json body = {{"prompt", system + "\nQuestion " + std::to_string(i) + "?"}, {"max_tokens", 2}};
      EXPECT_EQ(router.Post("/v1/completions", body.dump()).first, 200);
    }
    const auto [h1, q1] = totals();
    EXPECT_GT(q1, q0);
    return (h1 - h0) / (q1 - q0);
  };
  const double round_robin = run(RoutingPolicy::kRoundRobin, "RR");
  const double affinity = run(RoutingPolicy::kPrefixAffinity, "PA");
  RecordProperty("round_robin_hit_rate", std::to_string(round_robin));
  RecordProperty("prefix_affinity_hit_rate", std::to_string(affinity));
  std::printf("prefix cache hit rate: round-robin %.3f, prefix-affinity %.3f\n", round_robin, affinity);
  EXPECT_GT(affinity, round_robin);
}

}  // namespace
}  // namespace strata
