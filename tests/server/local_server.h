// A real HttpServer on a free loopback port, over the shared Q8_0 model, for the server tests; plus small
// HTTP client helpers. One model load per test process.
#pragma once

#include <httplib.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "compiler/plan_builder.h"
#include "engine/async_engine.h"
#include "model/model.h"
#include "server/http_server.h"
#include "http_post.h"
#include "testdata.h"

namespace strata::testing {

struct ServerOptions {
  std::string api_key;
  bool protect_metrics = false;
  size_t max_body_bytes = 1u << 20;
  int max_connections = 2048;
  int max_connections_per_client = 256;
  double header_timeout_s = 10;
  double body_timeout_s = 60;
  uint64_t max_pending_body_bytes = 512u << 20;
  bool webui = true;
  EngineConfig engine{.scheduler = {.max_num_seqs = 16, .max_num_batched_tokens = 256}};
  std::optional<ChatTemplateSource> chat_template;  // default: the model's own (the GGUF's)
};

class LocalServer {
 public:
  explicit LocalServer(const ServerOptions& o = {}) : pool_(2) {
    auto model = Model::Load(TestDataPath("models/tiny-llama-q8_0.gguf"));
    if (!model.ok()) throw std::runtime_error(model.status().message());
    model_ = std::move(*model);
    auto plan = ir::BuildPlan(*model_);
    if (!plan.ok()) throw std::runtime_error(plan.status().message());
    plan_ = std::move(*plan);
    auto engine = LlmEngine::Create(plan_, model_->tokenizer(), pool_, o.engine);
    if (!engine.ok()) throw std::runtime_error(engine.status().message());
    async_ = std::make_unique<AsyncEngine>(std::move(*engine));
    auto source = o.chat_template ? Result<ChatTemplateSource>(*o.chat_template) : model_->ChatTemplate();
    if (!source.ok()) throw std::runtime_error(source.status().message());
    auto tmpl = ChatTemplate::FromSource(*source);
    if (!tmpl.ok()) throw std::runtime_error(tmpl.status().message());
    ServerConfig cfg{.host = "127.0.0.1", .port = 0, .api_key = o.api_key, .model_name = "tiny",
                     .max_body_bytes = o.max_body_bytes, .http_threads = 300,
                     .max_connections = o.max_connections, .max_connections_per_client = o.max_connections_per_client,
                     .header_timeout_s = o.header_timeout_s, .body_timeout_s = o.body_timeout_s,
                     .protect_metrics = o.protect_metrics, .max_pending_body_bytes = o.max_pending_body_bytes,
                     .webui = o.webui};
    server_ = std::make_unique<HttpServer>(cfg, *async_, std::make_unique<ChatTemplate>(std::move(*tmpl)), "");
    if (!server_->Bind().ok()) throw std::runtime_error("bind failed");
    thread_ = std::thread([this] { server_->Serve(); });
  }
  ~LocalServer() {
    server_->Stop();
    thread_.join();
  }

  int port() const { return server_->port(); }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(300, 0);
    return c;
  }
  // POST a JSON body; returns status and parsed body (null if not JSON).
  std::pair<int, nlohmann::json> Post(const std::string& path, const std::string& body,
                                      const std::string& key = "") const {
    auto c = Client();
    return PostJson(c, path, body, key);
  }
  std::pair<int, nlohmann::json> Post(const std::string& path, const nlohmann::json& body) const {
    return Post(path, body.dump());
  }
  std::string Metrics() const {
    auto c = Client();
    auto res = c.Get("/metrics");
    return res ? res->body : "";
  }
  // Value of an unlabelled-suffix metric line "name{...} value" (first match), or -1.
  double Metric(const std::string& name) const {
    const std::string text = Metrics();
    size_t pos = 0;
    while ((pos = text.find(name + "{", pos)) != std::string::npos) {
      if (pos == 0 || text[pos - 1] == '\n') {
        const size_t sp = text.find("} ", pos);
        return std::stod(text.substr(sp + 2, text.find('\n', sp) - sp - 2));
      }
      ++pos;
    }
    return -1;
  }
  const Tokenizer& tokenizer() const { return model_->tokenizer(); }

 private:
  ThreadPool pool_;
  std::unique_ptr<Model> model_;
  ir::Plan plan_;
  std::unique_ptr<AsyncEngine> async_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

// A suite whose tests share one LocalServer, started before its first test (a server per test would load the model
// each time); every test skips with a message when the test data is absent. Suite is the deriving class, so each
// suite has a server of its own.
template <typename Suite>
class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (TestDataDir()) server_ = std::make_unique<LocalServer>();
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { STRATA_REQUIRE_TESTDATA(); }
  static inline std::unique_ptr<LocalServer> server_;
};

}  // namespace strata::testing
