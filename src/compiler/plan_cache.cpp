#include "compiler/plan_cache.h"

#include <algorithm>
#include <cstdio>

namespace strata::ir {
namespace {

struct Fnv1a {
  uint64_t h = 1469598103934665603ull;
  void Add(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  void Add(const std::string& s) { Add(s.data(), s.size() + 1); }
  template <class T> void AddValue(const T& v) { Add(&v, sizeof v); }
};

}  // namespace

std::string ModelHash(const Model& model) {
  // Over what a plan is built from, the config and the weights, so a GGUF file and a Hugging Face folder of the
  // same weights share plans (they compile to the same one).
  Fnv1a f;
  const ModelConfig& c = model.config();
  f.Add(c.ToString());
  f.AddValue(c.rope_base);
  f.AddValue(c.rms_eps);
  f.AddValue(c.tied_output);
  f.AddValue(c.rope_freq_scale);
  f.AddValue(c.rope_base_local);
  f.AddValue(c.attn_scale);
  f.AddValue(c.attn_softcap);
  f.AddValue(c.final_softcap);
  f.AddValue(c.swa_period);
  f.AddValue(c.expert_weights_norm);
  for (const WeightSpec& spec : ArchWeights(c)) {
    auto weight = model.Weight(spec.name);
    if (!weight.ok()) continue;
    const Tensor& t = **weight;
    f.Add(spec.name);
    f.AddValue(t.dtype());
    for (int64_t d : t.shape()) f.AddValue(d);
    const auto* bytes = static_cast<const uint8_t*>(t.data());
    const auto nbytes = static_cast<size_t>(t.nbytes());
    const size_t n = std::min<size_t>(64, nbytes);
    f.Add(bytes, n);
    f.Add(bytes + nbytes - n, n);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(f.h));
  return hex;
}

std::string OptionsKey(const CompileOptions& o) {
  std::string key = "passes=";
  for (size_t i = 0; i < o.passes.size(); ++i) key += (i ? "," : "") + o.passes[i];
  key += ";tp=" + std::to_string(o.tp) + ";only=" + std::to_string(o.only_rank) + ";lacks=";
  for (size_t i = 0; i < o.device_lacks.size(); ++i) key += (i ? "," : "") + o.device_lacks[i];

  if (o.pp > 1) key += ";pp=" + std::to_string(o.pp);
  if (o.kv_dtype != DType::kF32) key += std::string(";kv=") + Name(o.kv_dtype);
  return key;
}

Result<PlanCache::Plans> PlanCache::GetOrCompile(const Model& model, const CompileOptions& options) {
  const std::string key = ModelHash(model) + ";" + OptionsKey(options);
  std::lock_guard lock(mu_);
  if (auto it = plans_.find(key); it != plans_.end()) {
    ++hits_;
    return it->second;
  }
  ++misses_;
  STRATA_ASSIGN_OR_RETURN(std::vector<Plan> plans, Compile(model, options));
  Plans shared = std::make_shared<const std::vector<Plan>>(std::move(plans));
  plans_.emplace(key, shared);
  return shared;
}

PlanCache& PlanCache::Global() {
  static PlanCache cache;
  return cache;
}

}  // namespace strata::ir
