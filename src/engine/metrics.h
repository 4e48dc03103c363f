// Serving metrics, kept by the engine and rendered in the Prometheus text format under vLLM's names, so the
// dashboards and alerts people already have for vLLM work unchanged. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "engine/request.h"

namespace strata {

// Cumulative histogram with fixed upper bounds (the last bucket is +Inf).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<uint64_t>& counts() const { return counts_; }  // per bucket, not cumulative; last = +Inf
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

// The sample lines of `h` in the Prometheus text format: cumulative name_bucket{labels,le="..."}, name_sum,
// name_count (`labels` without braces, e.g. `backend="x"`). For other metric sets that keep histograms.
std::string PrometheusHistogramLines(const std::string& name, const std::string& labels, const Histogram& h);
// A number as Prometheus prints it: shortest round-trip form.
std::string PrometheusNumber(double v);

struct EngineGauges {
  int64_t running = 0;
  int64_t waiting = 0;
  double kv_cache_usage = 0;  // 0..1
};

class EngineMetrics {
 public:
  EngineMetrics();
  void AddPromptTokens(int64_t n);
  void AddGenerationTokens(int64_t n);
  void AddPrefixCacheQuery(int64_t queried, int64_t hit);
  void AddPreemptions(int64_t n);
  void ObserveTimeToFirstToken(double seconds);
  void ObserveTimePerOutputToken(double seconds);
  void FinishRequest(FinishReason reason, double e2e_seconds);
  void SetGauges(const EngineGauges& g);
  // Speculative decoding (rendered once enabled): one verification step of one sequence with `drafted` drafts,
  // the first `accepted` of them kept.
  void EnableSpecDecode(int32_t max_drafts);
  void AddSpecDecode(int64_t drafted, int64_t accepted);
  struct SpecCounts {
    int64_t drafts = 0, draft_tokens = 0, accepted_tokens = 0;
    std::vector<int64_t> accepted_per_pos;
  };
  SpecCounts spec() const;
  EngineGauges gauges() const;

  std::string RenderPrometheus(const std::string& model_name) const;

 private:
  mutable std::mutex mu_;
  EngineGauges gauges_;
  int64_t prompt_tokens_ = 0, generation_tokens_ = 0, prefix_queries_ = 0, prefix_hits_ = 0, preemptions_ = 0;
  int64_t finished_stop_ = 0, finished_length_ = 0, finished_abort_ = 0, finished_error_ = 0;
  bool spec_enabled_ = false;
  SpecCounts spec_;
  Histogram ttft_, tpot_, e2e_;
};

}  // namespace strata
