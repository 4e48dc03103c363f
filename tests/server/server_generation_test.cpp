// What the server generates: concurrency does not change greedy outputs, the prefix cache does not change
// outputs, sampling options behave, streaming equals non-streaming, a vanished client frees its blocks, and
// a load of 200 requests leaves nothing behind.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <future>
#include <set>
#include <thread>

#include "local_server.h"

namespace strata::testing {
namespace {

using nlohmann::json;

const std::vector<std::string> kPrompts = {
    "Once upon a time", "The little dog", "One day, a girl named Lily went to the park with her mom",
    "Tom had a red ball", "The sun was", "She was very happy because", "The cat and the bird", "Ben wanted to"};

class ServerGeneration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A small step budget so long prompts are chunked and decodes mix with prefills.
    if (TestDataDir())
      server_ = std::make_unique<LocalServer>(
          ServerOptions{.engine = {.scheduler = {.max_num_seqs = 6, .max_num_batched_tokens = 24}}});
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { STRATA_REQUIRE_TESTDATA(); }

  static json Complete(json body) {
    auto [status, r] = server_->Post("/v1/completions", body);
    EXPECT_EQ(status, 200) << r.dump();
    return r;
  }
  static std::string Text(const json& r) { return r["choices"][0]["text"].get<std::string>(); }
  static json Greedy(const std::string& prompt, int n = 24) {
    return json{{"prompt", prompt}, {"max_tokens", n}, {"temperature", 0}};
  }
  // Streams a request; returns the concatenated text and the events seen.
  static std::pair<std::string, std::vector<json>> Stream(const std::string& path, json body) {
    body["stream"] = true;
    auto c = server_->Client();
    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.body = body.dump();
    req.set_header("Content-Type", "application/json");
    std::string buffer, text;
    std::vector<json> events;
    bool done = false;
    req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
      buffer.append(d, n);
      for (size_t pos; (pos = buffer.find("\n\n")) != std::string::npos; buffer.erase(0, pos + 2)) {
        const std::string ev = buffer.substr(0, pos);
        if (ev == "data: [DONE]") done = true;
        if (!ev.starts_with("data: {")) continue;
        events.push_back(json::parse(ev.substr(6)));
        const json& ch = events.back()["choices"];
        if (ch.empty()) continue;
        if (ch[0].contains("text")) text += ch[0]["text"].get<std::string>();
        if (ch[0].contains("delta") && ch[0]["delta"].contains("content"))
          text += ch[0]["delta"]["content"].get<std::string>();
      }
      return true;
    };
    auto res = c.send(req);
    EXPECT_TRUE(res && res->status == 200);
    EXPECT_TRUE(done) << "no data: [DONE]";
    return {text, events};
  }
  // Polls until the engine is idle again (bounded; never asserts on time itself).
  static void WaitIdle() {
    for (int i = 0; i < 200; ++i) {
      if (server_->Metric("vllm:num_requests_running") == 0 && server_->Metric("vllm:num_requests_waiting") == 0 &&
          server_->Metric("vllm:kv_cache_usage_perc") == 0)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  static std::unique_ptr<LocalServer> server_;
};
std::unique_ptr<LocalServer> ServerGeneration::server_;

TEST_F(ServerGeneration, ConcurrentGreedyEqualsOneAtATime) {
  std::vector<std::string> alone;
  for (const auto& p : kPrompts) alone.push_back(Text(Complete(Greedy(p))));
  std::vector<std::future<std::string>> futures;
  for (const auto& p : kPrompts)
    futures.push_back(std::async(std::launch::async, [p] { return Text(Complete(Greedy(p))); }));
  for (size_t i = 0; i < kPrompts.size(); ++i) EXPECT_EQ(futures[i].get(), alone[i]) << kPrompts[i];
}

TEST_F(ServerGeneration, PrefixCacheHitGivesTheSameOutput) {
  const std::string prompt =
      "Lily and Ben were friends. They liked to play in the park every day. One day they found a big box under a "
      "tree. They opened the box and";
  const double hits_before = server_->Metric("vllm:prefix_cache_hits_total");
  const json first = Complete(Greedy(prompt, 16));
  const json second = Complete(Greedy(prompt, 16));
  EXPECT_EQ(Text(first), Text(second));
  EXPECT_EQ(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  const int cached = second["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>();
  EXPECT_GT(cached, 0);
  EXPECT_EQ(cached % 16, 0);  // whole blocks
  EXPECT_GE(server_->Metric("vllm:prefix_cache_hits_total"), hits_before + cached);
}

TEST_F(ServerGeneration, SeededSamplingReproduces) {
  json body = {{"prompt", "The little dog"}, {"max_tokens", 20}, {"temperature", 1.0}, {"seed", 1234}};
  const std::string a = Text(Complete(body)), b = Text(Complete(body));
  EXPECT_EQ(a, b);
  std::set<std::string> seen;
  for (int seed = 0; seed < 5; ++seed) {
    body["seed"] = seed;
    seen.insert(Text(Complete(body)));
  }
  EXPECT_GT(seen.size(), 1u) << "different seeds should give different samples";
}

TEST_F(ServerGeneration, TopKOneEqualsGreedy) {
  for (const auto& p : {kPrompts[0], kPrompts[3]}) {
    json body = Greedy(p);
    const std::string greedy = Text(Complete(body));
    body["temperature"] = 1.5;
    body["top_k"] = 1;
    EXPECT_EQ(Text(Complete(body)), greedy);
  }
}

TEST_F(ServerGeneration, LogitBiasBansAndForcesTokens) {
  json body = Greedy(kPrompts[0], 1);
  body["logprobs"] = 1;
  const json r = Complete(body);
  const std::string first = r["choices"][0]["logprobs"]["tokens"][0].get<std::string>();
  // Ban every token spelling the greedy first token: the answer changes.
  json ban = json::object();
  for (int32_t id = 0; id < server_->tokenizer().n_vocab(); ++id)
    if (server_->tokenizer().TokenBytes(id) == first) ban[std::to_string(id)] = -100;
  body["logit_bias"] = ban;
  EXPECT_NE(Complete(body)["choices"][0]["logprobs"]["tokens"][0].get<std::string>(), first);
  // Force token 300 (whatever it is).
  body["logit_bias"] = {{"300", 100}};
  body["max_tokens"] = 3;
  body["logprobs"] = 0;
  const json forced = Complete(body);
  EXPECT_EQ(Text(forced), server_->tokenizer().TokenBytes(300) + server_->tokenizer().TokenBytes(300) +
                              server_->tokenizer().TokenBytes(300));
  EXPECT_EQ(server_->Post("/v1/completions", json{{"prompt", "x"}, {"logit_bias", {{"99999", 1}}}}).first, 400);
}

TEST_F(ServerGeneration, StopStringsCutExactly) {
  const std::string full = Text(Complete(Greedy(kPrompts[2], 40)));
  ASSERT_GT(full.size(), 20u);
  const std::string stop = full.substr(10, 4);  // appears at 10 at the latest
  const size_t cut = full.find(stop);
  json body = Greedy(kPrompts[2], 40);
  body["stop"] = {stop, "\xE2\x98\x83never"};
  const json r = Complete(body);
  EXPECT_EQ(Text(r), full.substr(0, cut));
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  body["stream"] = true;
  EXPECT_EQ(Stream("/v1/completions", body).first, full.substr(0, cut));
}

TEST_F(ServerGeneration, LogprobsAreSane) {
  json body = Greedy(kPrompts[1], 8);
  body["logprobs"] = 5;
  const json lp = Complete(body)["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    const double chosen = lp["token_logprobs"][i].get<double>();
    EXPECT_LE(chosen, 0.0);
    double sum = 0, best = -INFINITY;
    for (auto& [tok, v] : lp["top_logprobs"][i].items()) sum += std::exp(v.get<double>()), best = std::max(best, v.get<double>());
    EXPECT_LE(sum, 1.0 + 1e-4);
    EXPECT_GT(sum, 0.0);
    EXPECT_NEAR(chosen, best, 1e-5) << "greedy picks the most likely token";
  }
  json chat = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 4}, {"logprobs", true},
               {"top_logprobs", 3}, {"temperature", 0}};
  auto [status, r] = server_->Post("/v1/chat/completions", chat);
  ASSERT_EQ(status, 200);
  const json& content = r["choices"][0]["logprobs"]["content"];
  ASSERT_FALSE(content.empty());
  for (const json& t : content) {
    ASSERT_EQ(t["top_logprobs"].size(), 3u);
    EXPECT_GE(t["top_logprobs"][0]["logprob"].get<double>(), t["top_logprobs"][1]["logprob"].get<double>());
  }
}

TEST_F(ServerGeneration, StreamingEqualsNonStreaming) {
  const json body = Greedy(kPrompts[0], 20);
  const std::string whole = Text(Complete(body));
  auto [text, events] = Stream("/v1/completions", body);
  EXPECT_EQ(text, whole);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "length");
  json chat = {{"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}}, {"max_tokens", 12},
               {"temperature", 0}, {"stream_options", {{"include_usage", true}}}};
  auto [status, r] = server_->Post("/v1/chat/completions", chat);
  ASSERT_EQ(status, 200);
  auto [ctext, cevents] = Stream("/v1/chat/completions", chat);
  EXPECT_EQ(ctext, r["choices"][0]["message"]["content"].get<std::string>());
  EXPECT_EQ(cevents.front()["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(cevents.back()["choices"].empty());
  EXPECT_EQ(cevents.back()["usage"]["completion_tokens"], r["usage"]["completion_tokens"]);
}

TEST_F(ServerGeneration, DisconnectMidStreamAbortsAndFreesBlocks) {
  WaitIdle();
  const double aborted_before = server_->Metric("vllm:request_success_total");  // first line: stop
  auto c = server_->Client();
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = json{{"prompt", "Once upon a time"}, {"max_tokens", 200}, {"ignore_eos", true}, {"stream", true}}.dump();
  req.set_header("Content-Type", "application/json");
  int chunks = 0;
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 3; };  // then hang up
  c.send(req);
  EXPECT_GE(chunks, 3);
  WaitIdle();
  EXPECT_EQ(server_->Metric("vllm:num_requests_running"), 0);
  EXPECT_EQ(server_->Metric("vllm:kv_cache_usage_perc"), 0);
  const std::string m = server_->Metrics();
  const std::string key = "vllm:request_success_total{model_name=\"tiny\",finished_reason=\"abort\"} ";
  const size_t pos = m.find(key);
  ASSERT_NE(pos, std::string::npos);
  EXPECT_GE(std::stod(m.substr(pos + key.size())), 1.0);
  (void)aborted_before;
}

TEST_F(ServerGeneration, LoadOf200RequestsAt32Concurrency) {
  std::atomic<int> next{0}, ok{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 32; ++w)
    workers.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) < 200;) {
        json body = {{"prompt", kPrompts[static_cast<size_t>(i) % kPrompts.size()]},
                     {"max_tokens", 8 + i % 17}, {"temperature", 0.8}, {"seed", i}};
        if (i % 3 == 0) body["stream"] = true;
        auto c = server_->Client();
        auto res = c.Post("/v1/completions", body.dump(), "application/json");
        if (res && res->status == 200) ++ok;
      }
    });
  for (auto& t : workers) t.join();
  EXPECT_EQ(ok.load(), 200);
  WaitIdle();
  EXPECT_EQ(server_->Metric("vllm:num_requests_running"), 0);
  EXPECT_EQ(server_->Metric("vllm:num_requests_waiting"), 0);
  EXPECT_EQ(server_->Metric("vllm:kv_cache_usage_perc"), 0);
}

TEST_F(ServerGeneration, Holds256ConcurrentStreams) {
  // All 256 connections are open at once: each stream waits on a barrier before reading on.
  constexpr int kStreams = 256;
  std::atomic<int> ok{0}, open{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kStreams; ++i)
    clients.emplace_back([&, i] {
      auto c = server_->Client();
      httplib::Request req;
      req.method = "POST";
      req.path = "/v1/completions";
      req.body = json{{"prompt", kPrompts[static_cast<size_t>(i) % kPrompts.size()]}, {"max_tokens", 6},
                      {"ignore_eos", true}, {"stream", true}}.dump();
      req.set_header("Content-Type", "application/json");
      bool counted = false;
      std::string body;
      req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
        if (!counted) {
          counted = true;
          ++open;
          for (int w = 0; w < 2000 && open.load() < kStreams; ++w) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        body.append(d, n);
        return true;
      };
      auto res = c.send(req);
      if (res && res->status == 200 && body.find("data: [DONE]") != std::string::npos) ++ok;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(open.load(), kStreams);
  EXPECT_EQ(ok.load(), kStreams);
  WaitIdle();
  EXPECT_EQ(server_->Metric("vllm:kv_cache_usage_perc"), 0);
}

}  // namespace
}  // namespace strata::testing
