#include "server/http_server.h"

#include <httplib.h>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>

#include "core/log.h"
#include "server/completion_service.h"

namespace strata {

using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;
thread_local Clock::time_point request_start;  // httplib handles a request on one thread from start to end

double MsSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(Dump(body), "application/json");
}

void SendError(httplib::Response& res, const ApiError& e) { SendJson(res, e.status, e.ToJson()); }

bool IsCompletionPath(const std::string& path) {
  return path == "/v1/completions" || path == "/v1/chat/completions";
}

// Debian's cpp-httplib is a compiled library whose listen() backlog is 5: a burst of a few hundred clients
// connecting at once overflows it (connections reset, SYN retries). Linux lets listen() be called again on a
// listening socket to raise the backlog, so find ours among this process's descriptors and do that.
void RaiseListenBacklog(int port) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  while (dirent* e = readdir(dir)) {
    const int fd = std::atoi(e->d_name);
    int listening = 0;
    socklen_t len = sizeof listening;
    if (fd <= 2 || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    const int bound = addr.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                      : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                                   : -1;
    if (bound == port) listen(fd, 4096);
  }
  closedir(dir);
}

}  // namespace

struct HttpServer::Impl {
  ServerConfig cfg;
  AsyncEngine& engine;
  std::unique_ptr<ChatTemplate> chat_template;
  CompletionService service;
  httplib::Server svr;
  int port = -1;

  Impl(ServerConfig c, AsyncEngine& e, std::unique_ptr<ChatTemplate> t, std::string terr)
      : cfg(std::move(c)), engine(e), chat_template(std::move(t)),
        service(e, chat_template.get(), std::move(terr), cfg.model_name) {}

  void Setup();
  bool Authorized(const httplib::Request& req) const;
  void HandleCompletion(const httplib::Request& req, httplib::Response& res, bool chat);
  void HandleModels(httplib::Response& res) const;
};

bool HttpServer::Impl::Authorized(const httplib::Request& req) const {
  if (cfg.api_key.empty()) return true;
  return req.get_header_value("Authorization") == "Bearer " + cfg.api_key;
}

void HttpServer::Impl::Setup() {
  const int threads = cfg.http_threads;
  // httplib's API takes ownership of a raw pointer here; the server deletes the queue.
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.set_payload_max_length(cfg.max_body_bytes);
  svr.set_keep_alive_max_count(1000);
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    request_start = Clock::now();
    if (req.path.starts_with("/v1/") && !Authorized(req)) {
      SendError(res, {401, "Invalid or missing API key: send 'Authorization: Bearer <key>'.", "authentication_error", ""});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = "HTTP " + std::to_string(res.status);
    if (res.status == 404) message = "no route for " + req.method + " " + req.path;
    if (res.status == 413) message = "the request body is larger than the server's limit";
    if (res.status == 400) message = "malformed HTTP request";
    SendError(res, {res.status, message, res.status == 404 ? "not_found_error" : "invalid_request_error", ""});
  });
  svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    if (IsCompletionPath(req.path) && res.status == 200) return;  // logged with token counts by the handler
    spdlog::info("{} {} {} {:.1f} ms", req.method, req.path, res.status, MsSince(request_start));
  });
  svr.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(engine.metrics().RenderPrometheus(cfg.model_name), "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) { HandleModels(res); });
  svr.Post("/v1/completions",
           [this](const httplib::Request& req, httplib::Response& res) { HandleCompletion(req, res, false); });
  svr.Post("/v1/chat/completions",
           [this](const httplib::Request& req, httplib::Response& res) { HandleCompletion(req, res, true); });
}

void HttpServer::Impl::HandleModels(httplib::Response& res) const {
  json model = {{"id", cfg.model_name}, {"object", "model"}, {"created", 0}, {"owned_by", "strata"},
                {"max_model_len", engine.max_model_len()}};
  SendJson(res, 200, {{"object", "list"}, {"data", json::array({model})}});
}

void HttpServer::Impl::HandleCompletion(const httplib::Request& req, httplib::Response& res, bool chat) {
  auto started = service.Start(req.body, chat);
  if (auto* err = std::get_if<ApiError>(&started)) {
    spdlog::info("{} {} {} {}", req.method, req.path, err->status, err->message);
    return SendError(res, *err);
  }
  auto r = std::make_shared<StartedRequest>(std::move(std::get<StartedRequest>(started)));
  auto log = [path = req.path, start = request_start](const StartedRequest& r, const RequestSummary& s, bool stream) {
    spdlog::info("POST {} 200 {} {}stream finish={} prompt={} cached={} completion={} {:.1f} ms", path, r.ctx.id,
                 stream ? "" : "no-", s.finish_reason, s.prompt_tokens, s.cached_tokens, s.completion_tokens,
                 MsSince(start));
  };
  if (!r->parsed.stream) {
    RequestSummary summary;
    auto [status, body] = service.Collect(*r, summary);
    log(*r, summary, false);
    return SendJson(res, status, body);
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [this, r, log](size_t, httplib::DataSink& sink) {
    RequestSummary summary;
    const bool ok = service.Stream(*r, [&](std::string_view s) { return sink.write(s.data(), s.size()); }, summary);
    log(*r, summary, true);
    if (ok) sink.done();
    return ok;
  });
}

HttpServer::HttpServer(ServerConfig config, AsyncEngine& engine, std::unique_ptr<ChatTemplate> chat_template,
                       std::string template_error)
    : impl_(std::make_unique<Impl>(std::move(config), engine, std::move(chat_template), std::move(template_error))) {
  impl_->Setup();
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Bind() {
  Impl& i = *impl_;
  if (i.cfg.port == 0)
    i.port = i.svr.bind_to_any_port(i.cfg.host);
  else
    i.port = i.svr.bind_to_port(i.cfg.host, i.cfg.port) ? i.cfg.port : -1;
  if (i.port >= 0) RaiseListenBacklog(i.port);
  if (i.port < 0)
    return Status::IoError("cannot listen on " + i.cfg.host + ":" + std::to_string(i.cfg.port) +
                           " (address in use or not available)");
  return Status::Ok();
}

int HttpServer::port() const { return impl_->port; }
void HttpServer::Serve() { impl_->svr.listen_after_bind(); }
void HttpServer::Stop() {
  if (impl_->svr.is_running()) impl_->svr.stop();
}

}  // namespace strata
