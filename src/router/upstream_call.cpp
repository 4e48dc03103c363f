#include "router/upstream_call.h"

#include <httplib.h>

#include <algorithm>

#include "core/log.h"

namespace strata {
namespace {

std::pair<time_t, time_t> SecUsec(double s) {
  const auto us = static_cast<int64_t>(std::clamp(s, 0.001, 86400.0) * 1e6);
  return {static_cast<time_t>(us / 1000000), static_cast<time_t>(us % 1000000)};
}

}  // namespace

void CallUpstream(InFlight& flight, const UpstreamRequest& request, StreamPipe& pipe, const UpstreamTimeouts& t,
                  int eject_after) {
  Backend& backend = flight.backend();
  httplib::Client client(backend.address().host, backend.address().port);
  const auto [cs, cu] = SecUsec(t.connect_s);
  const auto [rs, ru] = SecUsec(t.read_s);
  client.set_connection_timeout(cs, cu);
  client.set_read_timeout(rs, ru);
  client.set_write_timeout(rs, ru);
  client.set_keep_alive(false);
  client.set_tcp_nodelay(true);  // httplib writes the head and the body apart: Nagle would hold the body for an ACK
  pipe.Attach(&client);

  httplib::Request req;
  req.method = "POST";
  req.path = request.path;
  req.body = request.body;
  req.set_header("Content-Type", "application/json");
  if (!request.authorization.empty()) req.set_header("Authorization", request.authorization);
  bool got_body = false;
  req.response_handler = [&](const httplib::Response& r) {
    pipe.SetHead(r.status, r.get_header_value("Content-Type"));
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    got_body = true;
    return pipe.Push(data, n);
  };
  auto res = client.send(req);
  pipe.Detach();
  // Without a content receiver call (an empty or unread body) what came is in res->body.
  if (res && !got_body && !res->body.empty()) pipe.Push(res->body.data(), res->body.size());
  const bool cancelled = pipe.cancelled();
  const bool transport_error = !res && !cancelled;
  // Finished before the pipe closes, so a client that has its answer sees the backend's counters updated.
  flight.Finish(transport_error || (res && res->status >= 500));
  pipe.Close(static_cast<bool>(res));
  if (transport_error) {
    spdlog::warn("backend {}: POST {} failed: {}", backend.url(), request.path, httplib::to_string(res.error()));
    if (backend.RecordFailure(eject_after)) spdlog::warn("backend {} ejected after failed requests", backend.url());
  }
}

}  // namespace strata
