// cpp-httplib's routing over connections that a ConnectionGate (one epoll thread) accepts and receives in full,
// within deadlines and limits; a worker of a pool then routes and answers each complete request (a streaming
// request holds its worker for its whole life), and the connection returns to the gate for its next request.
// Shared by `strata serve` (HttpServer) and `strata router`: they register their routes on routes().
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "core/status.h"
#include "server/connection_gate.h"

namespace strata {

class GatedHttpServer {
 public:
  explicit GatedHttpServer(GateConfig config);
  ~GatedHttpServer();
  GatedHttpServer(const GatedHttpServer&) = delete;
  GatedHttpServer& operator=(const GatedHttpServer&) = delete;

  httplib::Server& routes();  // handlers, pre-routing handler, error handler, logger: set before Serve()
  [[nodiscard]] Status Listen(const std::string& host, int port);  // port 0: any free port
  int port() const;
  int max_connections() const;  // after clamping to the open file limit
  bool stopping() const;
  void Serve(int threads);  // until Stop(), then finishes the requests in progress
  void Stop();              // async-signal-safe

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata
