// The router over fake backends (httplib servers in this process): streaming pass-through, cancellation,
// retries, /v1/models, the API key, /health, /metrics and the backends file.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "router_harness.h"

namespace strata {
namespace {

using nlohmann::json;
using testing::FakeBackend;
using testing::LocalRouter;
using testing::WaitFor;

RouterConfig FastConfig() {
  RouterConfig c;
  c.health.interval_s = 0.05;
  c.health.timeout_s = 1;
  c.health.eject_after = 1;
  c.health.readmit_after = 1;
  c.timeouts.read_s = 30;
  c.http_threads = 16;
  c.max_upstream = 16;
  return c;
}

// A backend whose completions answer {"backend": name}.
void AnswerWithName(FakeBackend& f, const std::string& name, std::atomic<int>* count = nullptr) {
  f.svr.Post("/v1/completions", [name, count](const httplib::Request&, httplib::Response& res) {
    if (count) count->fetch_add(1);
    res.set_content(json{{"backend", name}}.dump(), "application/json");
  });
}

TEST(RouterProxy, StreamsChunkByChunk) {
  // The backend sends its second chunk only once the client has the first: a router that buffered the
  // stream would never deliver the first, and the backend would give up waiting.
  std::mutex mu;
  std::condition_variable cv;
  bool client_has_first = false;
  std::atomic<bool> backend_waited_ok{false};
  FakeBackend f;
  f.svr.Post("/v1/completions", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [&](size_t, httplib::DataSink& sink) {
      const std::string first = "data: {\"n\":1}\n\n";
      sink.write(first.data(), first.size());
      std::unique_lock lock(mu);
      backend_waited_ok = cv.wait_for(lock, std::chrono::seconds(20), [&] { return client_has_first; });
      const std::string rest = "data: {\"n\":2}\n\ndata: [DONE]\n\n";
      sink.write(rest.data(), rest.size());
      sink.done();
      return true;
    });
  });
  f.Start();
  LocalRouter router(FastConfig(), {f.url()});
  std::string received;
  auto res = router.PostStream(
      "/v1/completions", R"({"prompt":"hi","stream":true})",
      [&](const char* data, size_t n) {
        received.append(data, n);
        if (received.find("\"n\":1") != std::string::npos) {
          std::lock_guard lock(mu);
          client_has_first = true;
          cv.notify_all();
        }
        return true;
      });
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_TRUE(backend_waited_ok.load()) << "the first chunk did not reach the client before the stream ended";
  EXPECT_EQ(received, "data: {\"n\":1}\n\ndata: {\"n\":2}\n\ndata: [DONE]\n\n");
}

TEST(RouterProxy, ClientDisconnectClosesTheUpstreamStream) {
  std::atomic<bool> upstream_write_failed{false};
  FakeBackend f;
  f.svr.Post("/v1/completions", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [&](size_t, httplib::DataSink& sink) {
      const std::string chunk = "data: {\"token\":\"x\"}\n\n";
      for (int i = 0; i < 20000; ++i) {  // about 400 s at most: ends as soon as the router closes the connection
        if (!sink.write(chunk.data(), chunk.size())) {
          upstream_write_failed = true;
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      sink.done();
      return true;
    });
  });
  f.Start();
  LocalRouter router(FastConfig(), {f.url()});
  int chunks = 0;
  auto res = router.PostStream("/v1/completions", R"({"prompt":"hi","stream":true})",
                    [&](const char*, size_t) { return ++chunks < 3; });  // hang up after 3 chunks
  EXPECT_FALSE(res);  // cancelled by us
  EXPECT_TRUE(WaitFor([&] { return upstream_write_failed.load(); }, 60)) << "the backend kept streaming";
  const auto backend = router.Find(f.url());
  ASSERT_TRUE(backend);
  EXPECT_TRUE(WaitFor([&] { return backend->outstanding() == 0; }));
  EXPECT_TRUE(backend->healthy());  // a client's hang-up is not the backend's failure
}

TEST(RouterProxy, RetriesOnAnotherBackendAndEjectsTheDeadOne) {
  FakeBackend dead, live;
  std::atomic<int> served{0};
  AnswerWithName(live, "live", &served);
  dead.Start();
  live.Start();
  RouterConfig cfg = FastConfig();
  cfg.health.interval_s = 3600;  // only the proxied failures eject here
  LocalRouter router(cfg, {dead.url(), live.url()});
  dead.Stop();  // now nothing listens on its port
  for (int i = 0; i < 6; ++i) {
    auto [status, body] = router.Post("/v1/completions", R"({"prompt":"hi"})");
    EXPECT_EQ(status, 200);
    EXPECT_EQ(body["backend"], "live");
  }
  EXPECT_EQ(served.load(), 6);
  const auto ejected = router.Find(dead.url());
  ASSERT_TRUE(ejected);
  EXPECT_FALSE(ejected->healthy());
}

TEST(RouterProxy, RetriesA503AndPassesOtherErrorsThrough) {
  FakeBackend busy, strict;
  busy.svr.Post("/v1/completions", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content(R"({"error":{"message":"busy"}})", "application/json");
  });
  strict.svr.Post("/v1/completions", [](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content(R"({"error":{"message":"bad max_tokens"}})", "application/json");
  });
  busy.Start();
  strict.Start();
  LocalRouter router(FastConfig(), {busy.url(), strict.url()});
  for (int i = 0; i < 4; ++i) {
    auto [status, body] = router.Post("/v1/completions", R"({"prompt":"hi","stream":true})");
    EXPECT_EQ(status, 400);
    EXPECT_EQ(body["error"]["message"], "bad max_tokens");
  }
}

TEST(RouterProxy, ClearErrorsForBadInputAndNoBackend) {
  FakeBackend f;
  f.Start();
  RouterConfig cfg = FastConfig();
  cfg.max_body_bytes = 4096;
  LocalRouter router(cfg, {f.url()});
  auto [s1, b1] = router.Post("/v1/completions", "not json");
  EXPECT_EQ(s1, 400);
  EXPECT_EQ(b1["error"]["type"], "invalid_request_error");
  auto [s2, b2] = router.Post("/v1/nothing", "{}");
  EXPECT_EQ(s2, 404);
  EXPECT_EQ(b2["error"]["type"], "not_found_error");
  auto [s4, b4] = router.Post("/v1/completions", R"({"prompt":")" + std::string(5000, 'x') + R"("})");
  EXPECT_EQ(s4, 413);
  EXPECT_EQ(b4["error"]["type"], "invalid_request_error");
  f.Stop();
  const auto backend = router.Find(f.url());
  ASSERT_TRUE(backend);
  ASSERT_TRUE(WaitFor([&] { return !backend->healthy(); }));
  auto [s3, b3] = router.Post("/v1/completions", R"({"prompt":"hi"})");
  EXPECT_EQ(s3, 503);
  EXPECT_EQ(b3["error"]["message"], "no healthy backend");
  auto health = router.Client().Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
}

TEST(RouterProxy, ModelsIsTheUnionOfTheBackends) {
  auto models = [](std::vector<std::string> ids) {
    json data = json::array();
    for (const auto& id : ids) data.push_back({{"id", id}, {"object", "model"}});
    return json{{"object", "list"}, {"data", data}}.dump();
  };
  FakeBackend a, b;
  a.svr.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) { res.set_content(models({"m1", "m2"}), "application/json"); });
  b.svr.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) { res.set_content(models({"m2", "m3"}), "application/json"); });
  a.Start();
  b.Start();
  LocalRouter router(FastConfig(), {a.url(), b.url()});
  auto res = router.Client().Get("/v1/models");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  std::multiset<std::string> ids;
  for (const auto& m : body["data"]) ids.insert(m["id"].get<std::string>());
  EXPECT_EQ(ids, (std::multiset<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(body["object"], "list");
}

TEST(RouterProxy, ApiKeyGuardsV1AndPassesTheKeyOn) {
  FakeBackend f;
  std::string seen_auth;
  f.svr.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    seen_auth = req.get_header_value("Authorization");
    res.set_content("{}", "application/json");
  });
  f.Start();
  RouterConfig cfg = FastConfig();
  cfg.api_key = "router-key";
  cfg.backend_api_key = "backend-key";
  LocalRouter router(cfg, {f.url()});
  auto [s1, b1] = router.Post("/v1/completions", R"({"prompt":"hi"})");
  EXPECT_EQ(s1, 401);
  EXPECT_EQ(b1["error"]["type"], "authentication_error");
  EXPECT_EQ(router.Post("/v1/completions", R"({"prompt":"hi"})", "wrong").first, 401);
  EXPECT_EQ(router.Post("/v1/completions", R"({"prompt":"hi"})", "router-key").first, 200);
  EXPECT_EQ(seen_auth, "Bearer backend-key");
  auto c = router.Client();
  EXPECT_EQ(c.Get("/health")->status, 200);   // open, as in serve
  EXPECT_EQ(c.Get("/metrics")->status, 200);  // open unless protect_metrics
  EXPECT_EQ(c.Get("/v1/models")->status, 401);
}

// Per-backend metrics in Prometheus text format; promtool checks the exposition where it is installed.
TEST(RouterProxy, MetricsPerBackendInPrometheusFormat) {
  FakeBackend a, b;
  AnswerWithName(a, "a");
  AnswerWithName(b, "b");
  a.Start();
  b.Start();
  LocalRouter router(FastConfig(), {a.url(), b.url()});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(router.Post("/v1/completions", R"({"prompt":"hi"})").first, 200);
  auto res = router.Client().Get("/metrics");
  ASSERT_TRUE(res);
  const std::string text = res->body;
  for (const auto& f : {&a, &b}) {
    const std::string label = "{backend=\"" + f->url() + "\"}";
    EXPECT_NE(text.find("strata_router_backend_requests_total" + label + " 2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("strata_router_backend_healthy" + label + " 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("strata_router_backend_outstanding_requests" + label + " 0\n"), std::string::npos);
    EXPECT_NE(text.find("strata_router_backend_request_duration_seconds_count" + label + " 2\n"), std::string::npos);
  }
  EXPECT_NE(text.find("strata_router_requests_total 4\n"), std::string::npos);
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed: format not checked";
  const std::string path = testing::ScratchDir() + "/router_metrics.txt";
  std::ofstream(path) << text;
  EXPECT_EQ(std::system(("promtool check metrics < " + path + " >/dev/null 2>&1").c_str()), 0)
      << "promtool rejects:\n" << text;
}

TEST(RouterProxy, BackendsFileIsReReadWhenItChanges) {
  FakeBackend a, b;
  AnswerWithName(a, "a");
  AnswerWithName(b, "b");
  a.Start();
  b.Start();
  const std::string path = testing::ScratchDir() + "/router_backends.txt";
  std::ofstream(path) << "# the first list\n" << a.url() << "\n";
  RouterConfig cfg = FastConfig();
  cfg.health.backends_file = path;
  LocalRouter router(cfg, {});
  EXPECT_EQ(router.Post("/v1/completions", R"({"prompt":"hi"})").second["backend"], "a");
  {
    std::ofstream(path + ".tmp") << b.url() << "\n# and a comment that changes the size\n";
    std::filesystem::rename(path + ".tmp", path);
  }
  ASSERT_TRUE(WaitFor([&] { return router.Find(b.url()) && !router.Find(a.url()); }));
  EXPECT_EQ(router.Post("/v1/completions", R"({"prompt":"hi"})").second["backend"], "b");
  {  // a broken file keeps the last good list (written whole by a rename: a truncating write can be read empty,
     // and an empty file is a valid list of no backends)
    std::ofstream(path + ".tmp") << "garbage line\n";
    std::filesystem::rename(path + ".tmp", path);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(router.Find(b.url()));
}

TEST(RouterLifecycle, AStopBeforeServeIsNotLost) {
  FakeBackend f;
  f.Start();
  RouterConfig cfg = FastConfig();
  cfg.port = 0;
  RouterServer router(cfg, {*ParseBackendUrl(f.url())});
  ASSERT_TRUE(router.Bind().ok());
  router.Stop();  // as a signal arriving before the serving thread gets going
  std::atomic<bool> returned{false};
  std::thread serving([&] {
    router.Serve();
    returned = true;
  });
  const bool ended = WaitFor([&] { return returned.load(); });
  EXPECT_TRUE(ended) << "Serve() kept running after Stop()";
  if (ended) serving.join();
  else serving.detach();  // cannot be joined: the failure is reported
}

}  // namespace
}  // namespace strata
