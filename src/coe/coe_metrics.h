// The Composition of Experts' metrics, in the Prometheus text format: expert loads and evictions, load seconds
// (histogram), bytes moved between tiers, per-expert requests, tokens and router decisions, and gauges of
// what is resident and waiting. Thread-safe (the engine loop, the loader and HTTP threads all write).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "engine/metrics.h"

namespace strata::coe {

struct CoeGauges {
  int64_t resident_experts = 0;
  int64_t resident_bytes = 0;  // reserved by resident and loading experts (the static accounting)
  int64_t running = 0;         // requests in resident experts' engines
  int64_t waiting_for_load = 0;
};

class CoeMetrics {
 public:
  CoeMetrics(std::string coe_name, std::vector<std::string> experts);

  void Load(int expert, double seconds, int64_t bytes);  // disk -> RAM, done
  void Evict(int expert);
  void Request(int expert);
  void Tokens(int expert, int64_t prompt, int64_t generated);
  void RouterDecision(int expert, double seconds);
  void SetGauges(const CoeGauges& g);

  struct PerExpert {
    int64_t loads = 0, evictions = 0, requests = 0, prompt_tokens = 0, generation_tokens = 0, routed = 0;
  };
  PerExpert expert(int e) const;
  CoeGauges gauges() const;
  int64_t bytes_disk_to_ram() const;

  std::string RenderPrometheus() const;

 private:
  mutable std::mutex mu_;
  std::string name_;
  std::vector<std::string> experts_;
  std::vector<PerExpert> per_;
  int64_t bytes_disk_to_ram_ = 0;
  Histogram load_seconds_, route_seconds_;
  CoeGauges gauges_;
};

}  // namespace strata::coe
