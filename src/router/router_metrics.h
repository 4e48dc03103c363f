// The router's /metrics in Prometheus text format: per backend (label backend="<url>") requests, errors,
// retries away from it, requests in flight, health and a latency histogram; plus the router's own totals.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "router/backend.h"

namespace strata {

struct RouterCounters {
  std::atomic<uint64_t> requests{0};     // proxied requests received
  std::atomic<uint64_t> failed{0};       // answered with a router error (no backend, all attempts failed)
  std::atomic<uint64_t> retries{0};      // attempts after the first
  std::atomic<uint64_t> rejected{0};     // refused for capacity (503) or authentication (401)
};

std::string RenderRouterMetrics(const BackendList& backends, const RouterCounters& counters);

}  // namespace strata
