// The OpenAI-compatible HTTP front end: /v1/completions, /v1/chat/completions (with SSE streaming),
// /v1/embeddings, /v1/models, vLLM's /tokenize and /detokenize, /health and /metrics over a ModelDirectory (one model's
// AsyncEngine, or a Composition of Experts). A ConnectionGate (one epoll thread) accepts connections and receives each request in full, within deadlines and limits; cpp-httplib then routes and
// answers it on a thread of a large pool (a streaming request holds its thread for its whole life), and the
// connection returns to the gate for its next request.
// With an API key, the /v1 routes, /tokenize and /detokenize (and /metrics with protect_metrics) need
// "Authorization: Bearer <key>";
// /health is always open, as in vLLM; so is the web chat page at / (ServerConfig::webui).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "engine/async_engine.h"
#include "model/chat_template.h"
#include "server/model_directory.h"

namespace strata {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8000;                     // 0: any free port (see HttpServer::port)
  std::string api_key;                 // empty: no authentication
  std::string model_name;              // the id clients send as "model"
  size_t max_body_bytes = 4u << 20;    // larger bodies get 413
  int http_threads = 512;              // requests served at once (streaming ones hold a thread throughout)
  int max_connections = 2048;          // open connections in all (503 beyond); clamped below RLIMIT_NOFILE
  int max_connections_per_client = 256;  // open connections per client IP address (429 beyond)
  double header_timeout_s = 10;        // a request's head must arrive within this of its first byte (408)
  double body_timeout_s = 60;          // and its body within this of the head (408)
  double keep_alive_timeout_s = 5;     // an idle connection waits this long for its next request
  bool protect_metrics = false;        // with api_key: /metrics needs the key too
  Pooling embedding_pooling = Pooling::kMean;  // /v1/embeddings: the mean of the hidden states, or the last one
  uint64_t max_pending_body_bytes = 512u << 20;  // bodies still arriving, together (503 beyond)
  bool webui = true;                   // the web chat page at / (open without the API key; it asks for it)
};

class HttpServer {
 public:
  // `engine` must outlive the server. `chat_template` is the model's own, built with its special tokens
  // (ChatTemplate::FromSource, whichever file it came from); null when the model has none (chat requests then
  // fail with a clear error), and `template_error` says why.
  HttpServer(ServerConfig config, AsyncEngine& engine, std::unique_ptr<ChatTemplate> chat_template,
             std::string template_error);
  // Any set of models (config.model_name is then unused).
  HttpServer(ServerConfig config, std::unique_ptr<ModelDirectory> models);
  ~HttpServer();

  Status Bind();      // binds host:port
  int port() const;   // the bound port
  int max_connections() const;  // after clamping to the open file limit
  void Serve();       // accepts connections until Stop(), then finishes the requests in progress
  void Stop();        // async-signal-safe

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata
