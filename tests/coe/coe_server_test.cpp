// `strata serve --coe` in-process over the four shared experts: routed requests answer as `strata run` of the
// expert the router chose, explicit "model" bypasses the router, /v1/models lists the CoE and its experts, the
// trace shows expert loads on their own track.
#include <gtest/gtest.h>

#include <httplib.h>

#include <thread>

#include "../cli/cli_runner.h"
#include "../trace_reader.h"
#include "coe/coe_directory.h"
#include "coe/coe_engine.h"
#include "four_experts.h"
#include "http_post.h"
#include "runtime/profiler.h"
#include "server/http_server.h"

namespace strata::coe {
namespace {

class LocalCoeServer {
 public:
  LocalCoeServer() {
    auto config = testing::FourExperts();
    if (!config.ok()) throw std::runtime_error(config.status().message());
    config_ = *config;
    CoeEngineOptions options;
    options.engine.scheduler.max_num_seqs = 8;
    options.engine.scheduler.max_num_batched_tokens = 256;
    options.threads = 2;
    auto engine = CoeEngine::Create(config_, options);
    if (!engine.ok()) throw std::runtime_error(engine.status().message());
    engine_ = std::move(*engine);
    std::vector<const Model*> experts;
    for (int e = 0; e < engine_->num_experts(); ++e) experts.push_back(engine_->expert(e).model.get());
    auto router = MakeRouter(config_, experts, 1);
    if (!router.ok()) throw std::runtime_error(router.status().message());
    router_ = std::move(*router);
    server_ = std::make_unique<HttpServer>(ServerConfig{.host = "127.0.0.1", .port = 0},
                                           std::make_unique<CoeDirectory>(*engine_, *router_));
    if (!server_->Bind().ok()) throw std::runtime_error("bind failed");
    thread_ = std::thread([this] { server_->Serve(); });
  }
  ~LocalCoeServer() {
    server_->Stop();
    thread_.join();
  }
  std::pair<int, nlohmann::json> Post(const std::string& path, const nlohmann::json& body) const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(120, 0);
    return testing::PostJson(c, path, body.dump(), "");
  }
  std::string PostRaw(const std::string& path, const std::string& body) const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(120, 0);
    auto res = c.Post(path, body, "application/json");
    return res ? res->body : "";
  }
  std::string Get(const std::string& path) const {
    httplib::Client c("127.0.0.1", server_->port());
    auto res = c.Get(path);
    return res ? res->body : "";
  }
  const CoeConfig& config() const { return config_; }
  CoeEngine& engine() { return *engine_; }
  std::string ModelPath(const std::string& expert) const {
    for (const ExpertSpec& e : config_.experts)
      if (e.name == expert) return e.model.string();
    return "";
  }

 private:
  CoeConfig config_;
  std::unique_ptr<CoeEngine> engine_;
  std::unique_ptr<ExpertRouter> router_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

nlohmann::json Completion(const std::string& model, const std::string& prompt) {
  return {{"model", model}, {"prompt", prompt}, {"max_tokens", 12}, {"temperature", 0}};
}

// `strata run` of one expert, greedy: its text without the newline run ends with. With the library's F32 KV
// cache, as the CoE engine these tests build (the command line's default is f16).
std::string StrataRun(const std::string& model, const std::string& prompt) {
  auto r = testing::Strata("run -m " + testing::Quote(model) + " -p " + testing::Quote(prompt) +
                           " -n 12 --temp 0 -t 2 --kv-dtype f32");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

TEST(CoeServer, RoutedRequestsAnswerAsStrataRunOfTheirExpert) {
  STRATA_REQUIRE_TESTDATA();
  LocalCoeServer server;
  std::map<std::string, int> per_domain;
  int right = 0, total = 0;
  for (const auto& p : testing::ExpertPrompts()) {
    if (per_domain[p.domain]++ >= 2) continue;  // two prompts of each domain
    auto [status, body] = server.Post("/v1/completions", Completion("four-experts", p.prompt));
    ASSERT_EQ(status, 200) << body.dump();
    const std::string expert = body["model"].get<std::string>();
    ASSERT_FALSE(server.ModelPath(expert).empty()) << expert;
    const nlohmann::json& coe = body["coe"];
    EXPECT_EQ(coe["expert"], expert);
    EXPECT_EQ(coe["method"], "likelihood");
    ASSERT_TRUE(coe["runner_up"].is_string());
    EXPECT_NE(coe["runner_up"], expert);
    EXPECT_GE(coe["score"].get<double>(), coe["runner_up_score"].get<double>());
    EXPECT_EQ(body["choices"][0]["text"].get<std::string>(), StrataRun(server.ModelPath(expert), p.prompt));
    right += expert == p.domain;
    total++;
  }
  EXPECT_GE(right, total - 1) << "the router chose the prompt's own domain " << right << " times of " << total;
  int decisions = 0;
  for (int e = 0; e < server.engine().num_experts(); ++e) decisions += server.engine().metrics().expert(e).routed;
  EXPECT_EQ(decisions, total);
}

TEST(CoeServer, AnExplicitExpertBypassesTheRouter) {
  STRATA_REQUIRE_TESTDATA();
  LocalCoeServer server;
  const std::string c_prompt = "#include <stdio.h>\nint main(void) {";
  auto [status, body] = server.Post("/v1/completions", Completion("legal", c_prompt));
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["model"], "legal");
  EXPECT_FALSE(body.contains("coe"));
  EXPECT_EQ(body["choices"][0]["text"].get<std::string>(), StrataRun(server.ModelPath("legal"), c_prompt));
  for (int e = 0; e < server.engine().num_experts(); ++e) EXPECT_EQ(server.engine().metrics().expert(e).routed, 0);
  auto [auto_status, routed] = server.Post("/v1/completions", Completion("auto", c_prompt));
  ASSERT_EQ(auto_status, 200);
  EXPECT_EQ(routed["model"], "c-code");
  auto [missing, err] = server.Post("/v1/completions", Completion("no-such-expert", c_prompt));
  EXPECT_EQ(missing, 404);
  EXPECT_EQ(err["error"]["param"], "model");
}

TEST(CoeServer, ChatAndStreamingNameTheExpertThatAnswered) {
  STRATA_REQUIRE_TESTDATA();
  LocalCoeServer server;
  nlohmann::json chat = {{"model", "four-experts"}, {"max_tokens", 4}, {"temperature", 0},
                         {"messages", {{{"role", "user"}, {"content", "def main():\n    import sys\n    return sys.argv"}}}}};
  auto [status, body] = server.Post("/v1/chat/completions", chat);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["model"], "python-code");
  EXPECT_EQ(body["coe"]["expert"], "python-code");
  nlohmann::json stream = Completion("four-experts", "Copyright (C) 1999 The Regents of the University");
  stream["stream"] = true;
  const std::string sse = server.PostRaw("/v1/completions", stream.dump());
  int chunks = 0;
  for (size_t pos = 0; (pos = sse.find("data: {", pos)) != std::string::npos; ++pos) {
    const auto chunk = nlohmann::json::parse(sse.substr(pos + 6, sse.find('\n', pos) - pos - 6));
    EXPECT_EQ(chunk["model"], "legal");
    EXPECT_EQ(chunk["coe"]["expert"], "legal");
    ++chunks;
  }
  EXPECT_GE(chunks, 2) << sse;
  const auto models = nlohmann::json::parse(server.Get("/v1/models"));
  ASSERT_EQ(models["data"].size(), 5u);
  EXPECT_EQ(models["data"][0]["id"], "four-experts");
  EXPECT_EQ(models["data"][0]["coe"]["experts"].size(), 4u);
  EXPECT_EQ(models["data"][1]["parent"], "four-experts");
}

// /tokenize routes too (the routed expert's tokenizer), but loads nothing and counts no decision.
TEST(CoeServer, TokenizeRoutesWithoutLoadingAnExpert) {
  STRATA_REQUIRE_TESTDATA();
  LocalCoeServer server;
  auto [status, body] = server.Post("/tokenize", {{"model", "four-experts"}, {"prompt", "int main(void) {"}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_GT(body["count"].get<int>(), 3);
  auto [named, by_name] = server.Post("/tokenize", {{"model", "c-code"}, {"prompt", "int main(void) {"}});
  ASSERT_EQ(named, 200);
  EXPECT_EQ(body["tokens"], by_name["tokens"]);
  for (int e = 0; e < server.engine().num_experts(); ++e) {
    EXPECT_EQ(server.engine().metrics().expert(e).loads, 0);
    EXPECT_EQ(server.engine().metrics().expert(e).routed, 0);
  }
  EXPECT_TRUE(server.engine().events().empty());
}

TEST(CoeServer, TheTraceShowsExpertLoadsAndTheRequestsWaitingForThem) {
  STRATA_REQUIRE_TESTDATA();
  const std::string path = testing::ScratchDir() + "/coe_trace.json";
  Profiler::Start(path);
  {
    LocalCoeServer server;
    auto [status, body] = server.Post("/v1/completions", Completion("prose", "The early bird"));
    ASSERT_EQ(status, 200);
    const std::string metrics = server.Get("/metrics");
    EXPECT_NE(metrics.find("strata:coe_expert_loads_total{coe=\"four-experts\",expert=\"prose\"} 1"), std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("strata:coe_load_seconds_count{coe=\"four-experts\"} 1"), std::string::npos);
    EXPECT_NE(metrics.find("strata:coe_bytes_moved_total{coe=\"four-experts\",from=\"disk\",to=\"ram\"}"),
              std::string::npos);
  }
  ASSERT_TRUE(Profiler::Stop().ok());
  testing::TraceReader trace(path);
  const auto loads = trace.Slices("copies disk->RAM (expert loads)", "load prose");
  ASSERT_EQ(loads.size(), 1u);
  bool waited = false;
  for (const auto& e : trace.RequestEvents()) waited |= e.value("name", "") == "waiting for prose";
  EXPECT_TRUE(waited);
}

}  // namespace
}  // namespace strata::coe
