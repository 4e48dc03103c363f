#include "router/router_metrics.h"

#include <cstdio>
#include <sstream>

namespace strata {
namespace {

std::string Num(double v) { return PrometheusNumber(v); }

// A label value with Prometheus' escapes.
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void Family(std::ostringstream& o, const std::string& name, const char* type, const char* help) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

template <class Value>
void PerBackend(std::ostringstream& o, const std::string& name, const char* type, const char* help,
                const BackendList& bs, const std::vector<Backend::Stats>& stats, Value value) {
  Family(o, name, type, help);
  for (size_t i = 0; i < bs.size(); ++i)
    o << name << "{backend=\"" << Label(bs[i]->url()) << "\"} " << Num(value(stats[i])) << '\n';
}

void Latency(std::ostringstream& o, const BackendList& bs, const std::vector<Backend::Stats>& stats) {
  const std::string name = "strata_router_backend_request_duration_seconds";
  Family(o, name, "histogram", "Time from routing a request to a backend to the end of its response.");
  for (size_t i = 0; i < bs.size(); ++i)
    o << PrometheusHistogramLines(name, "backend=\"" + Label(bs[i]->url()) + "\"", stats[i].latency);
}

}  // namespace

std::string RenderRouterMetrics(const BackendList& bs, const RouterCounters& c) {
  std::vector<Backend::Stats> stats;
  for (const auto& b : bs) stats.push_back(b->Snapshot());
  std::ostringstream o;
  using S = const Backend::Stats&;
  PerBackend(o, "strata_router_backend_requests_total", "counter", "Requests routed to the backend (attempts).", bs,
             stats, [](S s) { return static_cast<double>(s.requests); });
  PerBackend(o, "strata_router_backend_errors_total", "counter",
             "Attempts on the backend that failed: no answer, a cut-off answer or a 5xx status.", bs, stats,
             [](S s) { return static_cast<double>(s.errors); });
  PerBackend(o, "strata_router_backend_outstanding_requests", "gauge", "Requests in flight on the backend.", bs,
             stats, [](S s) { return static_cast<double>(s.outstanding); });
  PerBackend(o, "strata_router_backend_healthy", "gauge", "1 when the backend is in rotation, 0 when ejected.", bs,
             stats, [](S s) { return s.healthy ? 1.0 : 0.0; });
  Latency(o, bs, stats);
  const std::pair<const char*, const std::atomic<uint64_t>*> totals[] = {
      {"strata_router_requests_total", &c.requests},
      {"strata_router_failed_requests_total", &c.failed},
      {"strata_router_retries_total", &c.retries},
      {"strata_router_rejected_requests_total", &c.rejected}};
  const char* helps[] = {"Proxied requests received.", "Requests the router answered with an error after trying the backends.",
                         "Attempts on another backend after one failed before its first byte.",
                         "Requests refused: over capacity or without the API key."};
  for (size_t i = 0; i < 4; ++i) {
    Family(o, totals[i].first, "counter", helps[i]);
    o << totals[i].first << ' ' << totals[i].second->load() << '\n';
  }
  return o.str();
}

}  // namespace strata
