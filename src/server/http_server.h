// The OpenAI-compatible HTTP front end: /v1/completions, /v1/chat/completions (with SSE streaming),
// /v1/models, /health and /metrics over an AsyncEngine. cpp-httplib serves each connection on a thread of a
// large pool, since a streaming request holds its connection (and thread) for its whole life.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "engine/async_engine.h"
#include "model/chat_template.h"

namespace strata {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8000;                     // 0: any free port (see HttpServer::port)
  std::string api_key;                 // empty: no authentication
  std::string model_name;              // the id clients send as "model"
  size_t max_body_bytes = 4u << 20;    // larger bodies get 413
  int http_threads = 512;              // concurrent connections served at once
};

class HttpServer {
 public:
  // `engine` must outlive the server. `chat_template` is null when the model has none (chat requests then
  // fail with a clear error); `template_error` says why when it could not be parsed.
  HttpServer(ServerConfig config, AsyncEngine& engine, std::unique_ptr<ChatTemplate> chat_template,
             std::string template_error);
  ~HttpServer();

  Status Bind();      // binds host:port
  int port() const;   // the bound port
  void Serve();       // accepts connections until Stop()
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata
