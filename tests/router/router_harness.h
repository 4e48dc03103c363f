// Test harness for the router: a RouterServer on a free loopback port in this process, `strata serve`
// backends as child processes (killable, restartable on the same port), and fake backends (an httplib::Server
// in this process) where a real model is not needed.
#pragma once

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "router/router_server.h"
#include "http_post.h"
#include "testdata.h"

namespace strata::testing {

// Polls `done` every 20 ms for up to `seconds`; true once it holds. A bound on waiting, not a timing assertion.
template <class F>
bool WaitFor(F done, double seconds = 30) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

inline std::string TinyModel() { return TestDataPath("models/tiny-llama-q8_0.gguf"); }

inline bool HasTinyModel() {
  std::ifstream f(TinyModel());
  return TestDataDir().has_value() && f.good();
}

// `strata serve` over the tiny model, on `port` (0: a free one, kept for restarts).
class ServeProcess {
 public:
  explicit ServeProcess(int port = 0) : port_(port) { Start(); }
  ~ServeProcess() { Kill(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  void Start() {
    static int counter = 0;
    log_ = ScratchDir() + "/serve" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".log";
    const std::string port = std::to_string(port_);
    const std::string model = TinyModel();
    const std::string bin = StrataBinary();
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log_.c_str(), "w", stderr);
      (void)f;
      execl(bin.c_str(), "strata", "serve", "-m", model.c_str(), "--port", port.c_str(), "-t", "1",
            "--served-model-name", "tiny", static_cast<char*>(nullptr));
      _exit(127);
    }
    if (port_ == 0) WaitFor([&] { return (port_ = PortFromLog()) > 0; });
    if (port_ <= 0 || !WaitFor([&] { return Healthy(); }))
      throw std::runtime_error("strata serve did not start: " + ReadLog());
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bool Healthy() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(1, 0);
    auto r = c.Get("/health");
    return r && r->status == 200;
  }
  std::string Metrics() const {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/metrics");
    return r ? r->body : "";
  }
  // The value of the first sample of a metric family ("vllm:prefix_cache_hits_total"), or -1.
  double Metric(const std::string& name) const {
    const std::string text = Metrics();
    const std::regex line("(^|\n)" + name + "\\{[^}]*\\} ([0-9.e+-]+)");
    std::smatch m;
    return std::regex_search(text, m, line) ? std::stod(m[2]) : -1;
  }

 private:
  std::string ReadLog() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  // serve logs "... on http://HOST:PORT (..." once it listens.
  int PortFromLog() const {
    std::smatch m;
    const std::string log = ReadLog();
    return std::regex_search(log, m, std::regex(" on http://[^:]+:([0-9]+) \\(")) ? std::stoi(m[1]) : -1;
  }

  int port_;
  pid_t pid_ = -1;
  std::string log_;
};

// A RouterServer on a free loopback port, serving on its own thread.
class LocalRouter {
 public:
  LocalRouter(RouterConfig cfg, const std::vector<std::string>& urls) {
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    std::vector<BackendAddress> list;
    for (const auto& u : urls) list.push_back(*ParseBackendUrl(u));
    router_ = std::make_unique<RouterServer>(cfg, list);
    const Status st = router_->Bind();
    if (!st.ok()) throw std::runtime_error(st.message());
    thread_ = std::thread([this] { router_->Serve(); });
    WaitFor([&] { return Client().Get("/health") != nullptr; });
  }
  ~LocalRouter() {
    router_->Stop();
    thread_.join();
  }
  RouterServer& server() { return *router_; }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", router_->port());
    c.set_read_timeout(120, 0);
    return c;
  }
  std::pair<int, nlohmann::json> Post(const std::string& path, const std::string& body,
                                      const std::string& key = "") const {
    auto c = Client();
    return PostJson(c, path, body, key);
  }
  // POSTs and hands the response body to `receive` as it arrives (returning false hangs up).
  httplib::Result PostStream(const std::string& path, const std::string& body,
                             std::function<bool(const char*, size_t)> receive) const {
    auto c = Client();
    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.body = body;
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [receive](const char* d, size_t n, uint64_t, uint64_t) { return receive(d, n); };
    return c.send(req);
  }
  std::shared_ptr<Backend> Find(const std::string& url) const {
    for (const auto& b : router_->backends())
      if (b->url() == url) return b;
    return nullptr;
  }

 private:
  std::unique_ptr<RouterServer> router_;
  std::thread thread_;
};

// An httplib::Server on a free loopback port, configured by the test before Start().
class FakeBackend {
 public:
  FakeBackend() { svr.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.status = 200; }); }
  ~FakeBackend() { Stop(); }
  void Start() {
    port_ = svr.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr.listen_after_bind(); });
    WaitFor([&] { return svr.is_running(); });
  }
  void Stop() {
    svr.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  httplib::Server svr;

 private:
  int port_ = 0;
  std::thread thread_;
};

}  // namespace strata::testing
