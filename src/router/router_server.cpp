#include "router/router_server.h"

#include <httplib.h>

#include <algorithm>
#include <set>

#include "core/log.h"
#include "router/router_metrics.h"
#include "server/api_error.h"
#include "server/api_key.h"
#include "server/gated_http_server.h"

namespace strata {

using nlohmann::json;

namespace {

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, const ApiError& e) { SendJson(res, e.status, e.ToJson()); }

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::clamp(seconds, 0.001, 1e6) * 1000));
}

enum class Outcome { kDone, kRetry };

GateConfig GateConfigFor(const RouterConfig& c) {
  GateConfig g;
  g.framing.max_body = c.max_body_bytes;
  g.max_connections = std::max(1, c.max_connections);
  g.max_connections_per_client = std::max(1, c.max_connections_per_client);
  return g;
}

}  // namespace

struct RouterServer::Impl {
  RouterConfig cfg;
  std::vector<BackendAddress> initial;
  BackendSet set;
  HealthChecker health;
  BackendPicker picker;
  ApiKeyCheck api_key;
  RouterCounters counters;
  GatedHttpServer http;  // serve's connection gate: idle and slow clients hold no thread
  httplib::Server& svr;  // http.routes()
  httplib::ThreadPool pumps;  // runs CallUpstream; at most cfg.max_upstream jobs at once
  bool pumps_shut = false;
  std::atomic<int> upstream_active{0};
  std::atomic<bool> stopping{false};

  Impl(RouterConfig c, std::vector<BackendAddress> b)
      : cfg(std::move(c)), initial(std::move(b)), health(set, cfg.health),
        picker(cfg.policy, cfg.affinity_max_imbalance), api_key(cfg.api_key), http(GateConfigFor(cfg)),
        svr(http.routes()), pumps(static_cast<size_t>(std::max(1, cfg.max_upstream))) {}
  ~Impl() {
    health.Stop();
    if (!pumps_shut) pumps.shutdown();
  }

  void Setup();
  bool Protected(const std::string& path) const {
    return path.starts_with("/v1/") || path == "/tokenize" || path == "/detokenize" ||
           (cfg.protect_metrics && path == "/metrics");
  }
  std::string UpstreamAuthorization(const httplib::Request& req) const {
    return cfg.backend_api_key.empty() ? req.get_header_value("Authorization") : "Bearer " + cfg.backend_api_key;
  }
  void Proxy(const httplib::Request& req, httplib::Response& res);
  std::shared_ptr<StreamPipe> Launch(std::shared_ptr<Backend> b, std::shared_ptr<const UpstreamRequest> up);
  Outcome Forward(const std::shared_ptr<StreamPipe>& pipe, bool last_attempt, httplib::Response& res);
  bool Relay(StreamPipe& pipe, httplib::DataSink& sink) const;
  void Models(const httplib::Request& req, httplib::Response& res);
  void Health(httplib::Response& res) const;
};

void RouterServer::Impl::Setup() {
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (Protected(req.path) && !api_key.Accepts(req.get_header_value("Authorization"))) {
      counters.rejected.fetch_add(1);
      SendError(res, {401, kApiKeyMessage, "authentication_error", ""});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    SendError(res, RoutingError(res.status, req.method, req.path, "router"));
  });
  svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::log(res.status < 400 ? spdlog::level::debug : spdlog::level::info, "{} {} {}", req.method, req.path,
                res.status);
  });
  svr.Get("/health", [this](const httplib::Request&, httplib::Response& res) { Health(res); });
  svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(RenderRouterMetrics(set.Snapshot(), counters), "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) { Models(req, res); });
  for (const char* path : {"/v1/completions", "/v1/chat/completions", "/v1/embeddings", "/tokenize", "/detokenize"})
    svr.Post(path, [this](const httplib::Request& req, httplib::Response& res) { Proxy(req, res); });
}

void RouterServer::Impl::Health(httplib::Response& res) const {
  const BackendList all = set.Snapshot();
  const auto healthy = std::count_if(all.begin(), all.end(), [](const auto& b) { return b->healthy(); });
  SendJson(res, healthy > 0 ? 200 : 503,
           {{"status", healthy > 0 ? "ok" : "no healthy backend"}, {"backends", all.size()}, {"healthy", healthy}});
}

void RouterServer::Impl::Models(const httplib::Request& req, httplib::Response& res) {
  json data = json::array();
  std::set<std::string> ids;
  int answered = 0;
  httplib::Headers headers;
  if (const std::string auth = UpstreamAuthorization(req); !auth.empty()) headers.emplace("Authorization", auth);
  for (const auto& b : set.Snapshot()) {
    if (!b->healthy()) continue;
    httplib::Client c(b->address().host, b->address().port);
    const auto t = Millis(cfg.health.timeout_s);
    c.set_connection_timeout(t);
    c.set_read_timeout(t);
    auto r = c.Get("/v1/models", headers);
    if (!r || r->status != 200) continue;
    const json list = json::parse(r->body, nullptr, false);
    if (!list.is_object() || !list.contains("data") || !list["data"].is_array()) continue;
    ++answered;
    for (const auto& m : list["data"])
      if (m.is_object() && m.contains("id") && m["id"].is_string() && ids.insert(m["id"].get<std::string>()).second)
        data.push_back(m);
  }
  if (answered == 0) return SendError(res, {503, "no healthy backend answered /v1/models", "server_error", ""});
  SendJson(res, 200, {{"object", "list"}, {"data", data}});
}

std::shared_ptr<StreamPipe> RouterServer::Impl::Launch(std::shared_ptr<Backend> b,
                                                       std::shared_ptr<const UpstreamRequest> up) {
  if (upstream_active.fetch_add(1) >= cfg.max_upstream) {
    upstream_active.fetch_sub(1);
    return nullptr;
  }
  auto pipe = std::make_shared<StreamPipe>(cfg.stream_buffer_bytes, Millis(cfg.timeouts.read_s));
  auto flight = std::make_shared<InFlight>(std::move(b));  // counted now, so the next Pick sees it
  pumps.enqueue([this, pipe, flight, up] {
    CallUpstream(*flight, *up, *pipe, cfg.timeouts, cfg.health.eject_after);
    upstream_active.fetch_sub(1);
  });
  return pipe;
}

void RouterServer::Impl::Proxy(const httplib::Request& req, httplib::Response& res) {
  counters.requests.fetch_add(1);
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return SendError(res, {400, "the request body must be a JSON object", "invalid_request_error", ""});
  std::optional<uint64_t> key;
  if (picker.policy() == RoutingPolicy::kPrefixAffinity) key = AffinityKey(body, cfg.affinity_prefix_chars);
  const auto up = std::make_shared<const UpstreamRequest>(UpstreamRequest{req.path, req.body, UpstreamAuthorization(req)});
  const BackendList backends = set.Snapshot();
  BackendList tried;
  const int attempts = std::max(1, cfg.max_attempts);
  for (int attempt = 0; attempt < attempts && !stopping.load(); ++attempt) {
    auto b = picker.Pick(backends, key, tried);
    if (!b) break;
    tried.push_back(b);
    if (attempt > 0) counters.retries.fetch_add(1);
    auto pipe = Launch(b, up);
    if (!pipe) {
      counters.rejected.fetch_add(1);
      return SendError(res, {503, "the router has its maximum of requests in flight; retry later", "server_error", ""});
    }
    if (Forward(pipe, attempt + 1 == attempts, res) == Outcome::kDone) return;
    spdlog::info("{} {}: attempt on {} failed before its first byte; {}", req.method, req.path, b->url(),
                 attempt + 1 < attempts ? "retrying" : "giving up");
  }
  counters.failed.fetch_add(1);
  if (tried.empty()) return SendError(res, {503, "no healthy backend", "server_error", ""});
  SendError(res, {502, "no backend answered (tried " + std::to_string(tried.size()) + ")", "server_error", ""});
}

// Before any byte has gone to the client, a failed attempt can be retried: no answer, a cut-off non-streamed
// answer, or a 503 from a busy backend (unless this is the last attempt: then the 503 goes to the client).
Outcome RouterServer::Impl::Forward(const std::shared_ptr<StreamPipe>& pipe, bool last_attempt,
                                    httplib::Response& res) {
  if (pipe->WaitHead(Millis(cfg.timeouts.connect_s + cfg.timeouts.read_s + 1)) != StreamPipe::Head::kReady) {
    pipe->Cancel();
    return Outcome::kRetry;
  }
  const int status = pipe->status();
  const std::string type = pipe->content_type();
  if (status == 503 && !last_attempt) {
    pipe->Cancel();
    return Outcome::kRetry;
  }
  if (status == 200 && type.starts_with("text/event-stream")) {
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        type, [this, pipe](size_t, httplib::DataSink& sink) { return Relay(*pipe, sink); },
        [pipe](bool) { pipe->Cancel(); });  // whatever ended the response, the upstream is done with
    return Outcome::kDone;
  }
  bool complete = false;
  std::string answer = pipe->ReadAll(cfg.max_response_bytes, complete);
  if (!complete) return Outcome::kRetry;
  res.status = status;
  res.set_content(std::move(answer), type.empty() ? "application/json" : type);
  return Outcome::kDone;
}

// Copies the stream to the client as it arrives. A backend that breaks off mid-stream breaks the client's
// stream too (returning false closes the connection without the final chunk), so the client sees it was cut.
bool RouterServer::Impl::Relay(StreamPipe& pipe, httplib::DataSink& sink) const {
  std::string chunk;
  for (;;) {
    switch (pipe.Pop(chunk, std::chrono::milliseconds(250))) {
      case StreamPipe::Next::kChunk:
        if (!sink.write(chunk.data(), chunk.size())) {
          pipe.Cancel();
          return false;
        }
        break;
      case StreamPipe::Next::kEnd:
        sink.done();
        return true;
      case StreamPipe::Next::kBroken:
        return false;
      case StreamPipe::Next::kIdle:
        if (stopping.load() || !sink.is_writable()) {
          pipe.Cancel();
          return false;
        }
        break;
    }
  }
}

RouterServer::RouterServer(RouterConfig config, std::vector<BackendAddress> backends)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(backends))) {
  impl_->Setup();
}

RouterServer::~RouterServer() { Stop(); }

Status RouterServer::Bind() {
  Impl& i = *impl_;
  std::vector<BackendAddress> list = i.initial;
  if (!i.cfg.health.backends_file.empty()) {
    auto from_file = ReadBackendsFile(i.cfg.health.backends_file);
    if (!from_file.ok()) return from_file.status();
    list = std::move(*from_file);
  }
  if (list.size() > kMaxBackends) return Status::InvalidArgument("more than 1024 backends");
  if (list.empty() && i.cfg.health.backends_file.empty())
    return Status::InvalidArgument("no backends: give --backend URL (repeated) or --backends-file FILE");
  i.set.Replace(list);
  // spdlog builds its registry on first use behind a guard inside the (uninstrumented) library; doing it here,
  // before the checker and the HTTP threads exist, keeps their first log lines from racing to build it.
  spdlog::default_logger_raw();
  i.health.ReloadIfChanged();  // records the file's time, so the first round does not re-read it
  i.health.CheckAll();
  if (Status st = i.http.Listen(i.cfg.host, i.cfg.port); !st.ok()) return st;
  i.health.Start();
  return Status::Ok();
}

int RouterServer::port() const { return impl_->http.port(); }

void RouterServer::Serve() {
  Impl& i = *impl_;
  i.http.Serve(i.cfg.http_threads);  // returns at once when Stop() came first
  i.health.Stop();
  i.pumps.shutdown();
  i.pumps_shut = true;
}

void RouterServer::Stop() {
  impl_->stopping.store(true);
  impl_->http.Stop();
}

BackendList RouterServer::backends() const { return impl_->set.Snapshot(); }

}  // namespace strata
