#include "model/llama_arch.h"

#include "core/tensor.h"
#include "model/gguf.h"

namespace strata {
namespace {

Result<int64_t> PositiveInt(const GgufFile& gguf, const std::string& key, int64_t max_value) {
  STRATA_ASSIGN_OR_RETURN(uint64_t v, gguf.GetUint(key));
  if (v == 0 || v > static_cast<uint64_t>(max_value))
    return Status::Corrupt(gguf.path() + ": metadata '" + key + "' is " + std::to_string(v) +
                           ", expected 1.." + std::to_string(max_value));
  return static_cast<int64_t>(v);
}

}  // namespace

Result<LlamaConfig> LlamaConfig::FromGguf(const GgufFile& gguf) {
  STRATA_ASSIGN_OR_RETURN(std::string arch, gguf.GetString("general.architecture"));
  if (arch != "llama")
    return Status::Unsupported(gguf.path() + ": architecture '" + arch + "' is not supported (supported: llama)");
  LlamaConfig c;
  constexpr int64_t kMaxDim = 1 << 20;
  STRATA_ASSIGN_OR_RETURN(c.dim, PositiveInt(gguf, "llama.embedding_length", kMaxDim));
  STRATA_ASSIGN_OR_RETURN(c.n_layers, PositiveInt(gguf, "llama.block_count", 4096));
  STRATA_ASSIGN_OR_RETURN(c.n_heads, PositiveInt(gguf, "llama.attention.head_count", 4096));
  STRATA_ASSIGN_OR_RETURN(c.ffn_dim, PositiveInt(gguf, "llama.feed_forward_length", kMaxDim));
  STRATA_ASSIGN_OR_RETURN(c.n_ctx, PositiveInt(gguf, "llama.context_length", 1 << 24));
  c.n_kv_heads = c.n_heads;
  if (gguf.Find("llama.attention.head_count_kv")) {
    STRATA_ASSIGN_OR_RETURN(c.n_kv_heads, PositiveInt(gguf, "llama.attention.head_count_kv", 4096));
  }
  if (c.dim % c.n_heads != 0)
    return Status::Corrupt(gguf.path() + ": embedding_length " + std::to_string(c.dim) +
                           " is not a multiple of head_count " + std::to_string(c.n_heads));
  if (c.n_heads % c.n_kv_heads != 0)
    return Status::Corrupt(gguf.path() + ": head_count " + std::to_string(c.n_heads) +
                           " is not a multiple of head_count_kv " + std::to_string(c.n_kv_heads));
  c.head_dim = c.dim / c.n_heads;
  c.rope_dim = c.head_dim;
  if (gguf.Find("llama.rope.dimension_count")) {
    STRATA_ASSIGN_OR_RETURN(c.rope_dim, PositiveInt(gguf, "llama.rope.dimension_count", kMaxDim));
  }
  if (c.rope_dim != c.head_dim || c.head_dim % 2 != 0)
    return Status::Unsupported(gguf.path() + ": rope.dimension_count " + std::to_string(c.rope_dim) +
                               " must equal the (even) head dimension " + std::to_string(c.head_dim));
  if (gguf.Find("llama.rope.freq_base")) {
    STRATA_ASSIGN_OR_RETURN(double base, gguf.GetFloat("llama.rope.freq_base"));
    c.rope_base = static_cast<float>(base);
  }
  STRATA_ASSIGN_OR_RETURN(double eps, gguf.GetFloat("llama.attention.layer_norm_rms_epsilon"));
  c.rms_eps = static_cast<float>(eps);
  if (!(c.rms_eps > 0) || !(c.rope_base > 0))
    return Status::Corrupt(gguf.path() + ": rms epsilon and rope base must be positive");

  const GgufTensorInfo* embd = gguf.FindTensor("token_embd.weight");
  if (!embd) return Status::Corrupt(gguf.path() + ": tensor 'token_embd.weight' is missing");
  c.n_vocab = embd->Shape()[0];
  c.tied_output = gguf.FindTensor("output.weight") == nullptr;
  return c;
}

std::string LlamaConfig::ToString() const {
  return "llama: vocab " + std::to_string(n_vocab) + ", dim " + std::to_string(dim) + ", layers " +
         std::to_string(n_layers) + ", heads " + std::to_string(n_heads) + " (kv " + std::to_string(n_kv_heads) +
         ", head dim " + std::to_string(head_dim) + "), ffn " + std::to_string(ffn_dim) + ", context " +
         std::to_string(n_ctx);
}

std::vector<WeightSpec> LlamaWeights(const LlamaConfig& c) {
  const int64_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
  std::vector<WeightSpec> w = {{"token_embd.weight", {c.n_vocab, c.dim}}};
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    w.push_back({p + "attn_norm.weight", {c.dim}});
    w.push_back({p + "attn_q.weight", {q_dim, c.dim}});
    w.push_back({p + "attn_k.weight", {kv_dim, c.dim}});
    w.push_back({p + "attn_v.weight", {kv_dim, c.dim}});
    w.push_back({p + "attn_output.weight", {c.dim, q_dim}});
    w.push_back({p + "ffn_norm.weight", {c.dim}});
    w.push_back({p + "ffn_gate.weight", {c.ffn_dim, c.dim}});
    w.push_back({p + "ffn_up.weight", {c.ffn_dim, c.dim}});
    w.push_back({p + "ffn_down.weight", {c.dim, c.ffn_dim}});
  }
  w.push_back({"output_norm.weight", {c.dim}});
  if (!c.tied_output) w.push_back({"output.weight", {c.n_vocab, c.dim}});
  return w;
}

Status CheckLlamaWeight(const std::string& where, const WeightSpec& spec, const Tensor& t) {
  if (t.shape() != spec.shape)
    return Status::Corrupt(where + " has shape " + ShapeToString(t.shape()) + ", expected " +
                           ShapeToString(spec.shape));
  if (spec.shape.size() == 1 && t.dtype() != DType::kF32)
    return Status::Unsupported(where + " is a norm weight of type " + Name(t.dtype()) + ", expected f32");
  return Status::Ok();
}

Status ValidateLlamaWeights(const GgufFile& gguf, const LlamaConfig& config) {
  for (const WeightSpec& spec : LlamaWeights(config)) {
    const GgufTensorInfo* info = gguf.FindTensor(spec.name);
    if (!info) return Status::Corrupt(gguf.path() + ": tensor '" + spec.name + "' is missing");
    const std::string where = gguf.path() + ": tensor '" + spec.name + "'";
    if (info->Shape() != spec.shape)
      return Status::Corrupt(where + " has shape " + ShapeToString(info->Shape()) + ", expected " +
                             ShapeToString(spec.shape));
    auto view = gguf.TensorView(*info);
    if (!view.ok()) return view.status();
    STRATA_RETURN_IF_ERROR(CheckLlamaWeight(where, spec, *view));
  }
  return Status::Ok();
}

}  // namespace strata
