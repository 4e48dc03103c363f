#include "coe/coe_metrics.h"

#include <sstream>

namespace strata::coe {

namespace {

void Family(std::ostringstream& out, const std::string& name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

CoeMetrics::CoeMetrics(std::string coe_name, std::vector<std::string> experts)
    : name_(std::move(coe_name)), experts_(std::move(experts)), per_(experts_.size()),
      load_seconds_({0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      route_seconds_({0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}) {}

void CoeMetrics::Load(int expert, double seconds, int64_t bytes) {
  std::lock_guard l(mu_);
  per_[static_cast<size_t>(expert)].loads++;
  bytes_disk_to_ram_ += bytes;
  load_seconds_.Observe(seconds);
}

void CoeMetrics::Evict(int expert) {
  std::lock_guard l(mu_);
  per_[static_cast<size_t>(expert)].evictions++;
}

void CoeMetrics::Request(int expert) {
  std::lock_guard l(mu_);
  per_[static_cast<size_t>(expert)].requests++;
}

void CoeMetrics::Tokens(int expert, int64_t prompt, int64_t generated) {
  std::lock_guard l(mu_);
  per_[static_cast<size_t>(expert)].prompt_tokens += prompt;
  per_[static_cast<size_t>(expert)].generation_tokens += generated;
}

void CoeMetrics::RouterDecision(int expert, double seconds) {
  std::lock_guard l(mu_);
  per_[static_cast<size_t>(expert)].routed++;
  route_seconds_.Observe(seconds);
}

void CoeMetrics::SetGauges(const CoeGauges& g) {
  std::lock_guard l(mu_);
  gauges_ = g;
}

CoeMetrics::PerExpert CoeMetrics::expert(int e) const {
  std::lock_guard l(mu_);
  return per_[static_cast<size_t>(e)];
}

CoeGauges CoeMetrics::gauges() const {
  std::lock_guard l(mu_);
  return gauges_;
}

int64_t CoeMetrics::bytes_disk_to_ram() const {
  std::lock_guard l(mu_);
  return bytes_disk_to_ram_;
}

std::string CoeMetrics::RenderPrometheus() const {
  std::lock_guard l(mu_);
  std::ostringstream out;
  const std::string coe = "coe=\"" + name_ + "\"";
  auto per_expert = [&](const char* name, const char* help, int64_t PerExpert::*field) {
    Family(out, name, "counter", help);
    for (size_t e = 0; e < experts_.size(); ++e)
      out << name << '{' << coe << ",expert=\"" << experts_[e] << "\"} " << per_[e].*field << '\n';
  };
  per_expert("strata:coe_expert_loads_total", "Expert loads from disk into RAM.", &PerExpert::loads);
  per_expert("strata:coe_expert_evictions_total", "Experts evicted from RAM.", &PerExpert::evictions);
  per_expert("strata:coe_requests_total", "Requests served, per expert.", &PerExpert::requests);
  per_expert("strata:coe_prompt_tokens_total", "Prompt tokens processed, per expert.", &PerExpert::prompt_tokens);
  per_expert("strata:coe_generation_tokens_total", "Tokens generated, per expert.", &PerExpert::generation_tokens);
  per_expert("strata:coe_router_decisions_total", "Requests the router sent to each expert.", &PerExpert::routed);
  Family(out, "strata:coe_bytes_moved_total", "counter", "Bytes moved between memory tiers.");
  out << "strata:coe_bytes_moved_total{" << coe << ",from=\"disk\",to=\"ram\"} " << bytes_disk_to_ram_ << '\n';
  Family(out, "strata:coe_load_seconds", "histogram", "Seconds to bring an expert from disk into RAM.");
  out << PrometheusHistogramLines("strata:coe_load_seconds", coe, load_seconds_);
  Family(out, "strata:coe_route_seconds", "histogram", "Seconds the router took to pick an expert.");
  out << PrometheusHistogramLines("strata:coe_route_seconds", coe, route_seconds_);
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    Family(out, name, "gauge", help);
    out << name << '{' << coe << "} " << v << '\n';
  };
  gauge("strata:coe_resident_experts", "Experts in RAM (loaded or loading).", gauges_.resident_experts);
  gauge("strata:coe_resident_bytes", "Bytes the resident experts account for (static accounting).",
        gauges_.resident_bytes);
  gauge("vllm:num_requests_running", "Number of requests in model execution batches.", gauges_.running);
  gauge("strata:coe_requests_waiting_for_load", "Requests waiting for their expert to load.",
        gauges_.waiting_for_load);
  return out.str();
}

}  // namespace strata::coe
