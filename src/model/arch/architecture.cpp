#include "model/arch/architecture.h"

#include <cmath>

#include "core/tensor.h"
#include "model/gguf.h"

namespace strata {

ArchSource::ArchSource(const GgufFile& gguf, std::string arch) : gguf_(gguf), arch_(std::move(arch)) {
  for (const GgufTensorInfo& t : gguf.tensors()) shapes_.emplace_back(t.name, t.Shape());
}

const std::string& ArchSource::path() const { return gguf_.path(); }

bool ArchSource::Has(const std::string& key) {
  if (!gguf_.Find(Key(key))) return false;
  read_.insert(Key(key));
  return true;
}

Result<int64_t> ArchSource::Int(const std::string& key, int64_t max_value) {
  read_.insert(Key(key));
  STRATA_ASSIGN_OR_RETURN(uint64_t v, gguf_.GetUint(Key(key)));
  if (v == 0 || v > static_cast<uint64_t>(max_value))
    return Corrupt("metadata '" + Key(key) + "' is " + std::to_string(v) + ", expected 1.." + std::to_string(max_value));
  return static_cast<int64_t>(v);
}

Result<int64_t> ArchSource::OptInt(const std::string& key, int64_t fallback, int64_t max_value) {
  if (!Has(key)) return fallback;
  STRATA_ASSIGN_OR_RETURN(uint64_t v, gguf_.GetUint(Key(key)));
  if (v > static_cast<uint64_t>(max_value))
    return Corrupt("metadata '" + Key(key) + "' is " + std::to_string(v) + ", expected 0.." + std::to_string(max_value));
  return static_cast<int64_t>(v);
}

Result<float> ArchSource::Float(const std::string& key) {
  read_.insert(Key(key));
  STRATA_ASSIGN_OR_RETURN(double v, gguf_.GetFloat(Key(key)));
  if (!std::isfinite(v) || std::fabs(v) > 3.0e38) return Corrupt("metadata '" + Key(key) + "' is not a finite float");
  return static_cast<float>(v);
}

Result<float> ArchSource::OptFloat(const std::string& key, float fallback) {
  if (!Has(key)) return fallback;
  return Float(key);
}

Result<bool> ArchSource::OptBool(const std::string& key, bool fallback) {
  if (!Has(key)) return fallback;
  return gguf_.GetBool(Key(key));
}

Result<std::string> ArchSource::OptString(const std::string& key, const std::string& fallback) {
  if (!Has(key)) return fallback;
  return gguf_.GetString(Key(key));
}

const std::vector<int64_t>* ArchSource::TensorShape(const std::string& name) const {
  for (const auto& [n, shape] : shapes_)
    if (n == name) return &shape;
  return nullptr;
}

Status ArchSource::CheckKeysUnderstood(const std::vector<std::string>& ignored) const {
  const std::string prefix = arch_ + ".";
  for (const auto& [key, value] : gguf_.metadata()) {
    if (key.compare(0, prefix.size(), prefix) != 0 || read_.count(key)) continue;
    bool skip = false;
    for (const std::string& i : ignored) skip |= key == prefix + i;
    if (!skip) return Unsupported("metadata key '" + key + "' is not understood by architecture '" + arch_ + "'");
  }
  return Status::Ok();
}

Status ArchSource::Corrupt(const std::string& what) const { return Status::Corrupt(path() + ": " + what); }
Status ArchSource::Unsupported(const std::string& what) const { return Status::Unsupported(path() + ": " + what); }

Result<ModelConfig> ReadModelConfig(const GgufFile& gguf) {
  STRATA_ASSIGN_OR_RETURN(std::string name, gguf.GetString("general.architecture"));
  const Architecture* arch = FindArchitecture(name);
  if (!arch) {
    std::string all;
    for (const std::string& n : ArchitectureNames()) all += (all.empty() ? "" : ", ") + n;
    return Status::Unsupported(gguf.path() + ": architecture '" + name + "' is not supported (supported: " + all + ")");
  }
  ArchSource source(gguf, name);
  STRATA_ASSIGN_OR_RETURN(ModelConfig config, arch->read_config(source));
  config.arch = name;
  return config;
}

std::vector<WeightSpec> ArchWeights(const ModelConfig& config) {
  const Architecture* arch = FindArchitecture(config.arch);
  return arch ? arch->weights(config) : std::vector<WeightSpec>{};
}

Status CheckWeight(const std::string& where, const WeightSpec& spec, const Tensor& t) {
  if (t.shape() != spec.shape)
    return Status::Corrupt(where + " has shape " + ShapeToString(t.shape()) + ", expected " + ShapeToString(spec.shape));
  if (spec.shape.size() == 1 && t.dtype() != DType::kF32)
    return Status::Unsupported(where + " is a 1-D weight of type " + Name(t.dtype()) + ", expected f32");
  return Status::Ok();
}

// Tensors the architecture would not read are reported first: a file with experts but no expert_count is
// not understood (kUnsupported), not merely missing its dense FFN (kCorrupt).
Status ValidateWeights(const GgufFile& gguf, const ModelConfig& config) {
  const std::vector<WeightSpec> specs = ArchWeights(config);
  std::set<std::string> wanted;
  for (const WeightSpec& spec : specs) wanted.insert(spec.name);
  for (const GgufTensorInfo& t : gguf.tensors())
    if (!wanted.count(t.name)) {
      const bool expert = t.name.find("_exps") != std::string::npos || t.name.find("ffn_gate_inp") != std::string::npos;
      return Status::Unsupported(gguf.path() + ": tensor '" + t.name + "' is not understood by architecture '" +
                                 config.arch + "'" + (expert && config.n_experts == 0 ? " (expert tensors without expert_count)" : ""));
    }
  for (const WeightSpec& spec : specs) {
    const GgufTensorInfo* info = gguf.FindTensor(spec.name);
    if (!info) return Status::Corrupt(gguf.path() + ": tensor '" + spec.name + "' is missing");
    const std::string where = gguf.path() + ": tensor '" + spec.name + "'";
    if (info->Shape() != spec.shape)
      return Status::Corrupt(where + " has shape " + ShapeToString(info->Shape()) + ", expected " +
                             ShapeToString(spec.shape));
    auto view = gguf.TensorView(*info);
    if (!view.ok()) return view.status();
    STRATA_RETURN_IF_ERROR(CheckWeight(where, spec, *view));
  }
  return Status::Ok();
}

}  // namespace strata
