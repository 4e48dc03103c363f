// `strata router`: one OpenAI-compatible endpoint over N `strata serve` backends. POST /v1/completions,
// /v1/chat/completions, /tokenize and /detokenize go to one backend chosen by the routing policy; an attempt
// that fails before its first byte reaches the client (no connection, no answer, 503) is retried on another
// backend. Streams (SSE) pass through chunk by chunk, and a client that goes away closes the upstream
// connection, so the backend stops generating. GET /v1/models is the union of the backends' models,
// /health is 200 while at least one backend is healthy, /metrics describes every backend. The API key
// works as in `strata serve`, and client connections pass through serve's connection gate (GatedHttpServer).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "router/health_checker.h"
#include "router/routing_policy.h"
#include "router/upstream_call.h"

namespace strata {

struct RouterConfig {
  std::string host = "127.0.0.1";
  int port = 8080;                   // 0: any free port
  std::string api_key;               // empty: no authentication
  bool protect_metrics = false;      // with api_key: /metrics needs the key too
  std::string backend_api_key;       // sent to the backends; empty: the client's Authorization is passed on
  RoutingPolicy policy = RoutingPolicy::kRoundRobin;
  size_t affinity_prefix_chars = 256;  // prefix-affinity: characters of prompt text that form the key
  int affinity_max_imbalance = 4;      // ... and how many more requests in flight than the least busy it tolerates
  int max_attempts = 3;              // backends tried per request
  int http_threads = 256;            // client requests served at once (a stream holds one throughout)
  int max_connections = 4096;        // open client connections in all (503 beyond; see strata serve)
  int max_connections_per_client = 1024;  // per client IP address (429 beyond): proxies in front hold many
  int max_upstream = 256;            // upstream requests in flight at once (503 beyond)
  size_t max_body_bytes = 4u << 20;  // larger request bodies get 413
  size_t max_response_bytes = 64u << 20;  // a non-streamed answer larger than this is cut off (502)
  size_t stream_buffer_bytes = 1u << 20;  // per stream, between the backend and a slow client
  UpstreamTimeouts timeouts;
  HealthConfig health;
};

class RouterServer {
 public:
  // `backends`: the --backend list; with health.backends_file set, the file's list replaces it.
  RouterServer(RouterConfig config, std::vector<BackendAddress> backends);
  ~RouterServer();

  Status Bind();     // reads the backends file, runs one round of health checks, binds host:port
  int port() const;
  void Serve();      // until Stop()
  void Stop();
  BackendList backends() const;  // for tests and logs

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata
