#include "engine/metrics.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace strata {
namespace {

// vLLM's bucket bounds, so histograms line up with existing dashboards.
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
                                          1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kTpotBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
                                          1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
const std::vector<double> kE2eBuckets = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0,
                                         40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

class Writer {
 public:
  explicit Writer(const std::string& model) : labels_("model_name=\"" + model + "\"") {}
  void Family(const std::string& name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void Sample(const std::string& name, double v, const std::string& extra = "") {
    out_ << name << '{' << labels_ << extra << "} " << Num(v) << '\n';
  }
  void Gauge(const std::string& name, const char* help, double v) { Family(name, "gauge", help), Sample(name, v); }
  void Counter(const std::string& name, const char* help, double v) { Family(name, "counter", help), Sample(name, v); }
  void Hist(const std::string& name, const char* help, const Histogram& h) {
    Family(name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.counts().size(); ++i) {
      cumulative += h.counts()[i];
      const std::string le = i < h.bounds().size() ? Num(h.bounds()[i]) : "+Inf";
      Sample(name + "_bucket", static_cast<double>(cumulative), ",le=\"" + le + "\"");
    }
    Sample(name + "_sum", h.sum());
    Sample(name + "_count", static_cast<double>(h.count()));
  }
  std::string str() const { return out_.str(); }
  std::ostringstream& raw() { return out_; }
  const std::string& labels() const { return labels_; }

 private:
  std::string labels_;
  std::ostringstream out_;
};

}  // namespace

std::string PrometheusNumber(double v) { return Num(v); }

std::string PrometheusHistogramLines(const std::string& name, const std::string& labels, const Histogram& h) {
  std::ostringstream out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.counts().size(); ++i) {
    cumulative += h.counts()[i];
    const std::string le = i < h.bounds().size() ? Num(h.bounds()[i]) : "+Inf";
    out << name << "_bucket{" << labels << ",le=\"" << le << "\"} " << cumulative << '\n';
  }
  out << name << "_sum{" << labels << "} " << Num(h.sum()) << '\n';
  out << name << "_count{" << labels << "} " << h.count() << '\n';
  return out.str();
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

void Histogram::Observe(double v) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  ++counts_[static_cast<size_t>(it - bounds_.begin())];
  sum_ += v;
  ++count_;
}

EngineMetrics::EngineMetrics() : ttft_(kTtftBuckets), tpot_(kTpotBuckets), e2e_(kE2eBuckets) {}

void EngineMetrics::AddPromptTokens(int64_t n) { std::lock_guard l(mu_); prompt_tokens_ += n; }
void EngineMetrics::AddGenerationTokens(int64_t n) { std::lock_guard l(mu_); generation_tokens_ += n; }
void EngineMetrics::AddPrefixCacheQuery(int64_t queried, int64_t hit) {
  std::lock_guard l(mu_);
  prefix_queries_ += queried;
  prefix_hits_ += hit;
}
void EngineMetrics::AddPreemptions(int64_t n) { std::lock_guard l(mu_); preemptions_ += n; }
void EngineMetrics::ObserveTimeToFirstToken(double s) { std::lock_guard l(mu_); ttft_.Observe(s); }
void EngineMetrics::ObserveTimePerOutputToken(double s) { std::lock_guard l(mu_); tpot_.Observe(s); }
void EngineMetrics::SetGauges(const EngineGauges& g) { std::lock_guard l(mu_); gauges_ = g; }
EngineGauges EngineMetrics::gauges() const { std::lock_guard l(mu_); return gauges_; }

void EngineMetrics::EnableSpecDecode(int32_t max_drafts) {
  std::lock_guard l(mu_);
  spec_enabled_ = true;
  spec_.accepted_per_pos.assign(static_cast<size_t>(std::max(max_drafts, 0)), 0);
}

void EngineMetrics::AddSpecDecode(int64_t drafted, int64_t accepted) {
  std::lock_guard l(mu_);
  ++spec_.drafts;
  spec_.draft_tokens += drafted;
  spec_.accepted_tokens += accepted;
  for (int64_t i = 0; i < accepted && static_cast<size_t>(i) < spec_.accepted_per_pos.size(); ++i)
    ++spec_.accepted_per_pos[static_cast<size_t>(i)];
}

EngineMetrics::SpecCounts EngineMetrics::spec() const { std::lock_guard l(mu_); return spec_; }

void EngineMetrics::FinishRequest(FinishReason reason, double e2e_seconds) {
  std::lock_guard l(mu_);
  switch (reason) {
    case FinishReason::kStop: ++finished_stop_; break;
    case FinishReason::kLength: ++finished_length_; break;
    case FinishReason::kAbort: ++finished_abort_; break;
    default: ++finished_error_; break;
  }
  if (reason == FinishReason::kStop || reason == FinishReason::kLength) e2e_.Observe(e2e_seconds);
}

std::string EngineMetrics::RenderPrometheus(const std::string& model_name) const {
  std::lock_guard l(mu_);
  Writer w(model_name);
  w.Gauge("vllm:num_requests_running", "Number of requests in model execution batches.", static_cast<double>(gauges_.running));
  w.Gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", static_cast<double>(gauges_.waiting));
  w.Gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", gauges_.kv_cache_usage);
  w.Counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", static_cast<double>(prompt_tokens_));
  w.Counter("vllm:generation_tokens_total", "Number of generation tokens processed.", static_cast<double>(generation_tokens_));
  w.Counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.", static_cast<double>(prefix_queries_));
  w.Counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", static_cast<double>(prefix_hits_));
  w.Counter("vllm:num_preemptions_total", "Cumulative number of preemptions from the engine.", static_cast<double>(preemptions_));
  w.Family("vllm:request_success_total", "counter", "Count of finished requests, by finish reason.");
  w.Sample("vllm:request_success_total", static_cast<double>(finished_stop_), ",finished_reason=\"stop\"");
  w.Sample("vllm:request_success_total", static_cast<double>(finished_length_), ",finished_reason=\"length\"");
  w.Sample("vllm:request_success_total", static_cast<double>(finished_abort_), ",finished_reason=\"abort\"");
  w.Counter("strata:request_failure_total", "Requests that ended in an engine error.", static_cast<double>(finished_error_));
  w.Hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", ttft_);
  w.Hist("vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", tpot_);
  w.Hist("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", e2e_);
  if (spec_enabled_) {
    w.Counter("vllm:spec_decode_num_drafts_total", "Number of spec decoding drafts.", static_cast<double>(spec_.drafts));
    w.Counter("vllm:spec_decode_num_draft_tokens_total", "Number of draft tokens.", static_cast<double>(spec_.draft_tokens));
    w.Counter("vllm:spec_decode_num_accepted_tokens_total", "Number of accepted tokens.", static_cast<double>(spec_.accepted_tokens));
    w.Family("vllm:spec_decode_num_accepted_tokens_per_pos_total", "counter", "Accepted tokens per draft position.");
    for (size_t i = 0; i < spec_.accepted_per_pos.size(); ++i)
      w.Sample("vllm:spec_decode_num_accepted_tokens_per_pos_total", static_cast<double>(spec_.accepted_per_pos[i]),
               ",position=\"" + std::to_string(i) + "\"");
  }
  return w.str();
}

}  // namespace strata
