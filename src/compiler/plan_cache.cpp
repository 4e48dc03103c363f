#include "compiler/plan_cache.h"

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
  Fnv1a f;
  const GgufFile& g = model.gguf();
  f.AddValue(g.file_size());
  f.AddValue(g.metadata().size());
  for (const GgufTensorInfo& t : g.tensors()) {
    f.Add(t.name);
    f.AddValue(t.ggml_type);
    f.AddValue(t.offset);
    f.AddValue(t.nbytes);
    for (int64_t d : t.dims) f.AddValue(d);
    auto view = g.TensorView(t);
    if (!view.ok() || t.nbytes == 0) continue;
    const auto* bytes = static_cast<const uint8_t*>(view->data());
    const size_t n = std::min<size_t>(64, t.nbytes);
    f.Add(bytes, n);
    f.Add(bytes + t.nbytes - n, n);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(f.h));
  return hex;
}

std::string OptionsKey(const CompileOptions& o) {
  std::string key = "passes=";
  for (size_t i = 0; i < o.passes.size(); ++i) key += (i ? "," : "") + o.passes[i];
  key += ";tp=" + std::to_string(o.tp) + ";lacks=";
  for (size_t i = 0; i < o.device_lacks.size(); ++i) key += (i ? "," : "") + o.device_lacks[i];
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
