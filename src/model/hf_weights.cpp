#include "model/hf_weights.h"

#include <cstring>
#include <utility>

namespace strata {
namespace {

// Per-layer names: internal suffix after "blk.N." and Hugging Face suffix after "model.layers.N.".
constexpr std::pair<std::string_view, std::string_view> kLayerNames[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
};
constexpr std::pair<std::string_view, std::string_view> kGlobalNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};

Tensor ToF32(const Tensor& t) {
  if (t.dtype() == DType::kF32) return t;
  Tensor out = Tensor::Empty(DType::kF32, t.shape());
  DequantizeRow(t.dtype(), t.data(), out.mutable_data_as<float>(), t.numel());
  return out;
}

}  // namespace

std::string HfWeightName(std::string_view internal) {
  for (const auto& [ours, hf] : kGlobalNames)
    if (internal == ours) return std::string(hf);
  if (!internal.starts_with("blk.")) return "";
  const size_t dot = internal.find('.', 4);
  if (dot == std::string_view::npos) return "";
  const std::string_view layer = internal.substr(4, dot - 4), rest = internal.substr(dot + 1);
  for (const auto& [ours, hf] : kLayerNames)
    if (rest == ours) return "model.layers." + std::string(layer) + "." + std::string(hf);
  return "";
}

Tensor PermuteRopeRows(const Tensor& w, int64_t n_heads) {
  Tensor out = Tensor::Empty(w.dtype(), w.shape());
  const int64_t head_dim = w.dim(0) / n_heads, half = head_dim / 2;
  const auto row_bytes = static_cast<size_t>(w.row_bytes());
  auto* dst = static_cast<uint8_t*>(out.mutable_data());
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        std::memcpy(dst + (h * head_dim + 2 * i + j) * row_bytes, w.row(h * head_dim + j * half + i), row_bytes);
  return out;
}

Result<std::map<std::string, Tensor>> LoadHfWeights(const std::string& dir, const SafetensorsSet& set,
                                                    ModelConfig& config) {
  const bool has_head = set.Find("lm_head.weight").file != nullptr;
  if (!has_head && !config.tied_output)
    return Status::Corrupt(dir + ": lm_head.weight is missing and config.json does not tie the word embeddings");
  config.tied_output = !has_head;
  std::map<std::string, Tensor> weights;
  for (const WeightSpec& spec : ArchWeights(config)) {
    const std::string hf = HfWeightName(spec.name);
    if (set.Find(hf).file == nullptr)
      return Status::Corrupt(dir + ": tensor '" + hf + "' is missing from the safetensors files");
    STRATA_ASSIGN_OR_RETURN(Tensor t, set.TensorView(hf));
    const std::string where = set.Find(hf).file->path() + ": tensor '" + hf + "'";
    if (spec.shape.size() == 1) t = ToF32(t);
    STRATA_RETURN_IF_ERROR(CheckWeight(where, spec, t));
    if (spec.name.ends_with("attn_q.weight")) t = PermuteRopeRows(t, config.n_heads);
    if (spec.name.ends_with("attn_k.weight")) t = PermuteRopeRows(t, config.n_kv_heads);
    weights.emplace(spec.name, std::move(t));
  }
  return weights;
}

}  // namespace strata
