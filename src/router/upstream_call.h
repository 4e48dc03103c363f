// One proxied request to one backend, run on a router pool thread: POSTs the body and feeds the response's
// status, content type and bytes into a StreamPipe as they arrive. A connection or read failure before the
// response ends counts against the backend's health (RecordFailure); a cancel from the client side does not.
#pragma once

#include <memory>
#include <string>

#include "router/backend.h"
#include "router/stream_pipe.h"

namespace strata {

struct UpstreamRequest {
  std::string path;           // "/v1/completions"
  std::string body;           // JSON, as the client sent it
  std::string authorization;  // the Authorization header to send, or empty
};

struct UpstreamTimeouts {
  double connect_s = 2;
  double read_s = 600;  // between two reads: a long prompt's first token may take a while
};

void CallUpstream(InFlight& flight, const UpstreamRequest& request, StreamPipe& pipe, const UpstreamTimeouts& timeouts,
                  int eject_after);

}  // namespace strata
