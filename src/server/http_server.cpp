#include "server/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <string_view>

#include "core/log.h"
#include "server/api_key.h"
#include "server/completion_service.h"
#include "server/embedding_service.h"
#include "server/request_fields.h"
#include "server/gated_http_server.h"
#include "server/single_model_directory.h"
#include "server/tokenize_service.h"
#include "server/webui.h"

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

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::clamp(seconds, 0.001, 1e6) * 1000));
}

GateConfig GateConfigFor(const ServerConfig& c) {
  GateConfig g;
  g.framing.max_body = c.max_body_bytes;
  g.max_connections = std::max(1, c.max_connections);
  g.max_connections_per_client = std::max(1, c.max_connections_per_client);
  g.header_timeout = Millis(c.header_timeout_s);
  g.body_timeout = Millis(c.body_timeout_s);
  g.idle_timeout = Millis(c.keep_alive_timeout_s);
  g.max_pending_body_bytes = c.max_pending_body_bytes;
  return g;
}

}  // namespace

struct HttpServer::Impl {
  ServerConfig cfg;
  std::unique_ptr<ModelDirectory> models;
  GatedHttpServer http;
  httplib::Server& svr;  // http.routes()
  ApiKeyCheck api_key;

  Impl(ServerConfig c, std::unique_ptr<ModelDirectory> m)
      : cfg(std::move(c)), models(std::move(m)), http(GateConfigFor(cfg)), svr(http.routes()), api_key(cfg.api_key) {}

  void Setup();
  // vLLM leaves /tokenize and /detokenize open; here they need the key too, as they cost CPU like /v1 routes.
  bool Protected(const std::string& path) const {
    return path.starts_with("/v1/") || path == "/tokenize" || path == "/detokenize" ||
           (cfg.protect_metrics && path == "/metrics");
  }
  bool Authorized(const httplib::Request& req) const;
  void HandleCompletion(const httplib::Request& req, httplib::Response& res, bool chat);
  void HandleTokenize(const httplib::Request& req, httplib::Response& res, bool detokenize) const;
  void HandleEmbeddings(const httplib::Request& req, httplib::Response& res) const;
};

bool HttpServer::Impl::Authorized(const httplib::Request& req) const {
  return api_key.Accepts(req.get_header_value("Authorization"));
}

void HttpServer::Impl::Setup() {
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    request_start = Clock::now();
    if (Protected(req.path) && !Authorized(req)) {
      SendError(res, {401, kApiKeyMessage, "authentication_error", ""});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    SendError(res, RoutingError(res.status, req.method, req.path, "server"));
  });
  svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    if (IsCompletionPath(req.path) && res.status == 200) return;  // logged with token counts by the handler
    spdlog::info("{} {} {} {:.1f} ms", req.method, req.path, res.status, MsSince(request_start));
  });
  // The web chat page is open even with an API key: it holds no data, and its script asks for the key.
  if (cfg.webui) {
    svr.Get("/|/index\\.html", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy", kWebUiContentSecurityPolicy);
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Referrer-Policy", "no-referrer");
      res.set_header("Cache-Control", "no-cache");  // a new binary's page shows on the next load
      const std::string_view page = WebUiPage();
      res.set_content(page.data(), page.size(), kWebUiContentType);
    });
  }
  // Unhealthy (503) for good once the engine lost a peer rank: a router or an orchestrator takes it out.
  svr.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (Status st = models->health(); !st.ok()) return SendError(res, {503, st.message(), "server_error", ""});
    res.status = 200;
  });
  svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(models->RenderMetrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, {{"object", "list"}, {"data", models->Models()}});
  });
  svr.Post("/v1/completions",
           [this](const httplib::Request& req, httplib::Response& res) { HandleCompletion(req, res, false); });
  svr.Post("/v1/chat/completions",
           [this](const httplib::Request& req, httplib::Response& res) { HandleCompletion(req, res, true); });
  svr.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) { HandleEmbeddings(req, res); });
  svr.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) { HandleTokenize(req, res, false); });
  svr.Post("/detokenize",
           [this](const httplib::Request& req, httplib::Response& res) { HandleTokenize(req, res, true); });
}

void HttpServer::Impl::HandleTokenize(const httplib::Request& req, httplib::Response& res, bool detokenize) const {
  RouteQuery query = QueryOf(req.body);
  query.generates = false;
  auto route = models->Resolve(query);
  if (auto* err = std::get_if<ApiError>(&route)) return SendError(res, *err);
  const TokenizeService& tokenize = *std::get<ServedRoute>(route).tokenize;
  auto out = detokenize ? tokenize.Detokenize(req.body) : tokenize.Tokenize(req.body);
  if (auto* err = std::get_if<ApiError>(&out)) return SendError(res, *err);
  SendJson(res, 200, std::get<json>(out));
}

void HttpServer::Impl::HandleEmbeddings(const httplib::Request& req, httplib::Response& res) const {
  RouteQuery query = QueryOf(req.body);
  query.generates = false;
  auto route = models->Resolve(query);
  if (auto* err = std::get_if<ApiError>(&route)) return SendError(res, *err);
  const EmbeddingService* service = std::get<ServedRoute>(route).embedding;
  if (service == nullptr)
    return SendError(res, Bad("model", "this server does not serve embeddings for model '" + query.model + "'"));
  auto out = service->Embed(req.body);
  if (auto* err = std::get_if<ApiError>(&out)) return SendError(res, *err);
  SendJson(res, 200, std::get<json>(out));
}

void HttpServer::Impl::HandleCompletion(const httplib::Request& req, httplib::Response& res, bool chat) {
  auto route = models->Resolve(QueryOf(req.body));
  if (auto* err = std::get_if<ApiError>(&route)) {
    spdlog::info("{} {} {} {}", req.method, req.path, err->status, err->message);
    return SendError(res, *err);
  }
  CompletionService& service = *std::get<ServedRoute>(route).completion;
  auto started = service.Start(req.body, chat, std::move(std::get<ServedRoute>(route).extension));
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
  res.set_chunked_content_provider("text/event-stream", [&service, r, log](size_t, httplib::DataSink& sink) {
    RequestSummary summary;
    const bool ok = service.Stream(*r, [&](std::string_view s) { return sink.write(s.data(), s.size()); }, summary);
    log(*r, summary, true);
    if (ok) sink.done();
    return ok;
  });
}

HttpServer::HttpServer(ServerConfig config, AsyncEngine& engine, std::unique_ptr<ChatTemplate> chat_template,
                       std::string template_error)
    : HttpServer(config, std::make_unique<SingleModelDirectory>(engine, config.model_name, std::move(chat_template),
                                                                std::move(template_error),
                                                                config.embedding_pooling)) {}

HttpServer::HttpServer(ServerConfig config, std::unique_ptr<ModelDirectory> models)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(models))) {
  impl_->Setup();
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Bind() { return impl_->http.Listen(impl_->cfg.host, impl_->cfg.port); }

int HttpServer::port() const { return impl_->http.port(); }
int HttpServer::max_connections() const { return impl_->http.max_connections(); }

void HttpServer::Serve() { impl_->http.Serve(impl_->cfg.http_threads); }

// Async-signal-safe.
void HttpServer::Stop() { impl_->http.Stop(); }

}  // namespace strata
