// `strata router`: one OpenAI-compatible endpoint over several `strata serve` backends.
#include <pthread.h>

#include <csignal>
#include <ctime>
#include <thread>

#include "cli/commands.h"
#include "core/log.h"
#include "router/router_server.h"

namespace strata::cli {
namespace {

struct RouterOptions {
  std::vector<std::string> backends;
  std::string policy = "round-robin";
  RouterConfig router;
};

// SIGINT/SIGTERM are blocked in every thread and taken by this one with sigtimedwait, so the stop runs as
// ordinary code rather than in a signal handler. Joined when the router has stopped.
class SignalWatcher {
 public:
  explicit SignalWatcher(RouterServer& router) : router_(router) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    thread_ = std::thread([this] { Watch(); });
  }
  ~SignalWatcher() {
    done_.store(true);
    thread_.join();
  }
  static void BlockInThisThread() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up is an error value on the write, not a signal
  }

 private:
  void Watch() {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done_.load()) {
      if (sigtimedwait(&set_, nullptr, &tick) > 0) {
        spdlog::info("stopping the router");
        router_.Stop();
        return;
      }
    }
  }
  RouterServer& router_;
  sigset_t set_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

int Route(RouterOptions o) {
  auto policy = ParseRoutingPolicy(o.policy);
  if (!policy.ok()) {
    spdlog::error("{}", policy.status().message());
    return 2;
  }
  o.router.policy = *policy;
  std::vector<BackendAddress> backends;
  for (const auto& url : o.backends) {
    auto a = ParseBackendUrl(url);
    if (!a.ok()) {
      spdlog::error("{}", a.status().message());
      return 2;
    }
    backends.push_back(std::move(*a));
  }
  SignalWatcher::BlockInThisThread();  // before any thread starts, so all inherit the mask
  RouterServer router(o.router, std::move(backends));
  if (Status st = router.Bind(); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  const BackendList list = router.backends();
  const auto healthy = std::count_if(list.begin(), list.end(), [](const auto& b) { return b->healthy(); });
  spdlog::info("routing on http://{}:{} ({} backends, {} healthy, policy {}{})", o.router.host, router.port(),
               list.size(), healthy, RoutingPolicyName(o.router.policy),
               o.router.api_key.empty() ? "" : ", API key required");
  {
    SignalWatcher watcher(router);
    router.Serve();
  }
  spdlog::info("router stopped");
  return 0;
}

}  // namespace

void RegisterRouter(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RouterOptions>();
  RouterConfig& r = o->router;
  CLI::App* cmd = app.add_subcommand("router", "Route OpenAI-compatible requests over several `strata serve` backends");
  cmd->add_option("--backend", o->backends, "a backend's URL, http://host:port (repeat for each)");
  cmd->add_option("--backends-file", r.health.backends_file,
                  "a file with one backend URL per line ('#' comments), re-read when it changes; replaces --backend")
      ->check(CLI::ExistingFile);
  cmd->add_option("--policy", o->policy, "round-robin, least-outstanding or prefix-affinity")
      ->capture_default_str()->check(CLI::IsMember({"round-robin", "least-outstanding", "prefix-affinity"}));
  cmd->add_option("--host", r.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", r.port, "port to listen on (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", r.api_key,
                  "require 'Authorization: Bearer KEY' on /v1 routes (/health stays open; /metrics too unless --protect-metrics)");
  cmd->add_flag("--protect-metrics", r.protect_metrics, "with --api-key, /metrics requires the key too");
  cmd->add_option("--backend-api-key", r.backend_api_key,
                  "key sent to the backends (default: the client's Authorization header is passed on)");
  cmd->add_option("--affinity-prefix-chars", r.affinity_prefix_chars,
                  "prefix-affinity: characters of prompt text (messages or prompt) that pick the backend")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--affinity-max-imbalance", r.affinity_max_imbalance,
                  "prefix-affinity: requests in flight above the least busy backend before falling back to it")
      ->capture_default_str()->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--max-attempts", r.max_attempts, "backends tried per request before an error")
      ->capture_default_str()->check(CLI::Range(1, 16));
  cmd->add_option("--health-interval", r.health.interval_s, "seconds between health checks of each backend")
      ->capture_default_str()->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--health-timeout", r.health.timeout_s, "seconds a health check may take")
      ->capture_default_str()->check(CLI::Range(0.01, 600.0));
  cmd->add_option("--eject-after", r.health.eject_after, "failures in a row that take a backend out of rotation")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--readmit-after", r.health.readmit_after, "health checks passed in a row that bring it back")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--connect-timeout", r.timeouts.connect_s, "seconds to connect to a backend")
      ->capture_default_str()->check(CLI::Range(0.01, 600.0));
  cmd->add_option("--upstream-timeout", r.timeouts.read_s, "seconds a backend may stay silent within a request")
      ->capture_default_str()->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--http-threads", r.http_threads, "client requests served at once")
      ->capture_default_str()->check(CLI::Range(1, 65536));
  cmd->add_option("--max-connections", r.max_connections, "open client connections in all; more get 503")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-connections-per-client", r.max_connections_per_client,
                  "open client connections per IP address; more get 429")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-upstream", r.max_upstream, "backend requests in flight at once (503 beyond)")
      ->capture_default_str()->check(CLI::Range(1, 65536));
  cmd->add_option("--max-request-bytes", r.max_body_bytes, "largest request body accepted (413 beyond)")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{1} << 30));
  cmd->callback([o, &exit_code] { exit_code = Route(*o); });
}

}  // namespace strata::cli
