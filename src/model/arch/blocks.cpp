#include "model/arch/blocks.h"

#include <cmath>

#include "model/gguf_writer.h"

namespace strata::arch {

std::string Blk(int64_t layer) { return "blk." + std::to_string(layer) + "."; }

std::vector<std::string> IgnoredKeys() {
  return {"vocab_size", "rope.scaling.original_context_length", "rope.scaling.finetuned", "tensor_data_layout"};
}

namespace {

Status ReadHeads(ArchSource& s, ModelConfig& c) {
  STRATA_ASSIGN_OR_RETURN(c.n_heads, s.Int("attention.head_count", 4096));
  STRATA_ASSIGN_OR_RETURN(c.n_kv_heads, s.OptInt("attention.head_count_kv", c.n_heads, 4096));
  if (c.n_kv_heads == 0 || c.n_heads % c.n_kv_heads != 0)
    return s.Corrupt("head_count " + std::to_string(c.n_heads) + " is not a multiple of head_count_kv " +
                     std::to_string(c.n_kv_heads));
  if (s.Has("attention.key_length")) {
    STRATA_ASSIGN_OR_RETURN(c.head_dim, s.Int("attention.key_length", 1 << 16));
  } else {
    if (c.dim % c.n_heads != 0)
      return s.Corrupt("embedding_length " + std::to_string(c.dim) + " is not a multiple of head_count " +
                       std::to_string(c.n_heads));
    c.head_dim = c.dim / c.n_heads;
  }
  STRATA_ASSIGN_OR_RETURN(const int64_t v_len, s.OptInt("attention.value_length", c.head_dim, 1 << 16));
  if (v_len != c.head_dim)
    return s.Unsupported("attention.value_length " + std::to_string(v_len) + " differs from key_length " +
                         std::to_string(c.head_dim));
  return Status::Ok();
}

Status ReadRope(ArchSource& s, ModelConfig& c) {
  STRATA_ASSIGN_OR_RETURN(c.rope_dim, s.OptInt("rope.dimension_count", c.head_dim, 1 << 16));
  if (c.rope_dim == 0 || c.rope_dim > c.head_dim || c.rope_dim % 2 != 0)
    return s.Unsupported("rope.dimension_count " + std::to_string(c.rope_dim) + " must be even and at most the head "
                         "dimension " + std::to_string(c.head_dim));
  STRATA_ASSIGN_OR_RETURN(c.rope_base, s.OptFloat("rope.freq_base", 10000.0f));
  STRATA_ASSIGN_OR_RETURN(const std::string scaling, s.OptString("rope.scaling.type", "none"));
  STRATA_ASSIGN_OR_RETURN(const float factor, s.OptFloat("rope.scaling.factor", 1.0f));
  if (scaling == "linear" && factor > 0) {
    c.rope_freq_scale = 1.0f / factor;
  } else if (scaling != "none" && !(scaling == "linear" && factor == 0)) {
    // Llama 3's "llama3" scaling arrives as the rope_freqs tensor; YaRN and others are not implemented.
    return s.Unsupported("rope.scaling.type '" + scaling + "' is not supported (none, linear)");
  }
  if (!(c.rope_base > 0)) return s.Corrupt("rope.freq_base must be positive");
  if (const auto* freqs = s.TensorShape("rope_freqs.weight")) {
    if (*freqs != std::vector<int64_t>{c.rope_dim / 2}) return s.Corrupt("rope_freqs.weight must have rope_dim/2 values");
    c.rope_freqs = true;
  }
  return Status::Ok();
}

}  // namespace

Status ReadTransformerKeys(ArchSource& s, ModelConfig& c, bool ffn_optional) {
  constexpr int64_t kMaxDim = 1 << 20;
  STRATA_ASSIGN_OR_RETURN(c.dim, s.Int("embedding_length", kMaxDim));
  STRATA_ASSIGN_OR_RETURN(c.n_layers, s.Int("block_count", 4096));
  if (ffn_optional) {
    STRATA_ASSIGN_OR_RETURN(c.ffn_dim, s.OptInt("feed_forward_length", 0, kMaxDim));
  } else {
    STRATA_ASSIGN_OR_RETURN(c.ffn_dim, s.Int("feed_forward_length", kMaxDim));
  }
  STRATA_ASSIGN_OR_RETURN(c.n_ctx, s.Int("context_length", 1 << 24));
  STRATA_RETURN_IF_ERROR(ReadHeads(s, c));
  STRATA_RETURN_IF_ERROR(ReadRope(s, c));
  STRATA_ASSIGN_OR_RETURN(c.rms_eps, s.Float("attention.layer_norm_rms_epsilon"));
  if (!(c.rms_eps > 0)) return s.Corrupt("layer_norm_rms_epsilon must be positive");
  const auto* embd = s.TensorShape("token_embd.weight");
  if (!embd || embd->size() != 2) return s.Corrupt("tensor 'token_embd.weight' is missing or not 2-D");
  c.n_vocab = (*embd)[0];
  c.tied_output = s.TensorShape("output.weight") == nullptr;
  return Status::Ok();
}

Status ReadExpertKeys(ArchSource& s, ModelConfig& c, bool expert_ffn_key) {
  STRATA_ASSIGN_OR_RETURN(c.n_experts, s.OptInt("expert_count", 0, 1 << 12));
  STRATA_ASSIGN_OR_RETURN(c.n_experts_used, s.OptInt("expert_used_count", 0, 1 << 12));
  if (c.n_experts == 0) {
    if (c.n_experts_used != 0) return s.Corrupt("expert_used_count without expert_count");
    return Status::Ok();
  }
  if (c.n_experts_used == 0 || c.n_experts_used > c.n_experts)
    return s.Corrupt("expert_used_count " + std::to_string(c.n_experts_used) + " must be 1.." +
                     std::to_string(c.n_experts));
  c.expert_ffn_dim = c.ffn_dim;
  if (expert_ffn_key) {
    STRATA_ASSIGN_OR_RETURN(c.expert_ffn_dim, s.Int("expert_feed_forward_length", 1 << 20));
  }
  if (c.expert_ffn_dim == 0) return s.Corrupt("expert FFN width is 0");
  return Status::Ok();
}

void WriteTransformerKeys(const ModelConfig& c, GgufWriter& w) {
  const std::string a = c.arch + ".";
  auto u32 = [&](const char* key, int64_t v) { w.AddU32(a + key, static_cast<uint32_t>(v)); };
  u32("context_length", c.n_ctx);
  u32("embedding_length", c.dim);
  u32("block_count", c.n_layers);
  if (c.ffn_dim > 0) u32("feed_forward_length", c.ffn_dim);
  u32("attention.head_count", c.n_heads);
  u32("attention.head_count_kv", c.n_kv_heads);
  u32("attention.key_length", c.head_dim);
  u32("attention.value_length", c.head_dim);
  u32("rope.dimension_count", c.rope_dim);
  w.AddF32(a + "rope.freq_base", c.rope_base);
  if (c.rope_freq_scale != 1.0f) {
    w.AddString(a + "rope.scaling.type", "linear");
    w.AddF32(a + "rope.scaling.factor", 1.0f / c.rope_freq_scale);
  }
  w.AddF32(a + "attention.layer_norm_rms_epsilon", c.rms_eps);
  u32("vocab_size", c.n_vocab);
}

void WriteExpertKeys(const ModelConfig& c, bool expert_ffn_key, GgufWriter& w) {
  if (c.n_experts == 0) return;
  w.AddU32(c.arch + ".expert_count", static_cast<uint32_t>(c.n_experts));
  w.AddU32(c.arch + ".expert_used_count", static_cast<uint32_t>(c.n_experts_used));
  if (expert_ffn_key) w.AddU32(c.arch + ".expert_feed_forward_length", static_cast<uint32_t>(c.expert_ffn_dim));
}

void AddAttentionWeights(std::vector<WeightSpec>& w, const ModelConfig& c, int64_t layer, const AttnOptions& o) {
  const std::string p = Blk(layer);
  const int64_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
  if (o.fused_qkv) {
    w.push_back({p + "attn_qkv.weight", {q_dim + 2 * kv_dim, c.dim}});
  } else {
    w.push_back({p + "attn_q.weight", {q_dim, c.dim}});
    if (o.qkv_bias) w.push_back({p + "attn_q.bias", {q_dim}});
    w.push_back({p + "attn_k.weight", {kv_dim, c.dim}});
    if (o.qkv_bias) w.push_back({p + "attn_k.bias", {kv_dim}});
    w.push_back({p + "attn_v.weight", {kv_dim, c.dim}});
    if (o.qkv_bias) w.push_back({p + "attn_v.bias", {kv_dim}});
  }
  if (o.qk_norm) {
    w.push_back({p + "attn_q_norm.weight", {c.head_dim}});
    w.push_back({p + "attn_k_norm.weight", {c.head_dim}});
  }
  w.push_back({p + "attn_output.weight", {c.dim, q_dim}});
}

void AddFfnWeights(std::vector<WeightSpec>& w, const ModelConfig& c, int64_t layer) {
  const std::string p = Blk(layer);
  w.push_back({p + "ffn_gate.weight", {c.ffn_dim, c.dim}});
  w.push_back({p + "ffn_up.weight", {c.ffn_dim, c.dim}});
  w.push_back({p + "ffn_down.weight", {c.dim, c.ffn_dim}});
}

void AddExpertWeights(std::vector<WeightSpec>& w, const ModelConfig& c, int64_t layer) {
  const std::string p = Blk(layer);
  w.push_back({p + "ffn_gate_inp.weight", {c.n_experts, c.dim}});
  w.push_back({p + "ffn_gate_exps.weight", {c.n_experts, c.expert_ffn_dim, c.dim}});
  w.push_back({p + "ffn_up_exps.weight", {c.n_experts, c.expert_ffn_dim, c.dim}});
  w.push_back({p + "ffn_down_exps.weight", {c.n_experts, c.dim, c.expert_ffn_dim}});
}

void AddHeadWeights(std::vector<WeightSpec>& w, const ModelConfig& c) {
  w.push_back({"output_norm.weight", {c.dim}});
  if (!c.tied_output) w.push_back({"output.weight", {c.n_vocab, c.dim}});
}

RopeSpec LayerRope(const ModelConfig& c, int64_t layer, RopeMode mode) {
  RopeSpec r{.head_dim = c.head_dim, .rope_dim = c.rope_dim, .base = c.rope_base, .freq_scale = c.rope_freq_scale,
             .mode = mode, .freq_factors = c.rope_freqs ? "rope_freqs.weight" : ""};
  if (c.rope_base_local > 0 && c.LayerSlides(layer)) r.base = c.rope_base_local, r.freq_scale = 1.0f;
  return r;
}

Value SelfAttention(GraphBuilder& b, const ModelConfig& c, int layer, Value h, const AttnOptions& o) {
  const std::string p = Blk(layer);
  const int64_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
  const std::string bias_q = o.qkv_bias ? p + "attn_q.bias" : "", bias_k = o.qkv_bias ? p + "attn_k.bias" : "",
                    bias_v = o.qkv_bias ? p + "attn_v.bias" : "";
  const std::string qkv = p + "attn_qkv.weight";
  Value q = b.MatMul(h, o.fused_qkv ? WeightPart(qkv, 0, q_dim) : WeightPart(p + "attn_q.weight"), TpSplit::kQHeads, bias_q);
  Value k = b.MatMul(h, o.fused_qkv ? WeightPart(qkv, q_dim, q_dim + kv_dim) : WeightPart(p + "attn_k.weight"),
                     TpSplit::kKvHeads, bias_k);
  const Value v = b.MatMul(h, o.fused_qkv ? WeightPart(qkv, q_dim + kv_dim, q_dim + 2 * kv_dim) : WeightPart(p + "attn_v.weight"),
                           TpSplit::kKvHeads, bias_v);
  if (o.qk_norm) {
    q = b.RmsNorm(q, p + "attn_q_norm.weight", c.rms_eps);
    k = b.RmsNorm(k, p + "attn_k_norm.weight", c.rms_eps);
  }
  const RopeSpec rope = LayerRope(c, layer, o.rope_mode);
  q = b.Rope(q, rope, p + "q_rope");
  k = b.Rope(k, rope, p + "k_rope");
  const AttentionSpec spec{.layer = layer, .n_heads = c.n_heads, .n_kv_heads = c.n_kv_heads, .head_dim = c.head_dim,
                           .scale = c.attn_scale, .softcap = c.attn_softcap,
                           .window = c.LayerSlides(layer) ? c.sliding_window : 0};
  return b.MatMul(b.Attention(q, k, v, spec), p + "attn_output.weight", TpSplit::kRowsReduce);
}

Value GatedFfn(GraphBuilder& b, const std::string& prefix, Value h, Activation act, const WeightPart& gate,
               const WeightPart& up, const std::string& down) {
  const Value g = b.Activate(b.MatMul(h, gate, TpSplit::kColumns), act, prefix + ActivationName(act));
  const Value u = b.MatMul(h, up, TpSplit::kColumns);
  return b.MatMul(b.Mul(g, u, prefix + "gated"), down, TpSplit::kRowsReduce);
}

Value ExpertFfn(GraphBuilder& b, const ModelConfig& c, int layer, Value h, Activation act) {
  const std::string p = Blk(layer);
  return b.Moe(h, {.router = p + "ffn_gate_inp.weight", .gate = p + "ffn_gate_exps.weight", .up = p + "ffn_up_exps.weight",
                   .down = p + "ffn_down_exps.weight", .n_used = c.n_experts_used,
                   .renormalize = c.expert_weights_norm, .act = act, .name = p + "ffn_moe"});
}

void OutputHead(GraphBuilder& b, const ModelConfig& c, Value x) {
  // Rows are selected before the final norm so a decode step or the last prompt position pays for one row
  // of the (large) output head, not T.
  x = b.RmsNorm(b.GatherRows(x), "output_norm.weight", c.rms_eps);
  Value logits = b.MatMul(x, c.tied_output ? "token_embd.weight" : "output.weight", TpSplit::kVocab);
  if (c.final_softcap > 0) logits = b.Softcap(logits, c.final_softcap, "logits_softcap");
  b.Output(logits);
}

std::vector<WeightSpec> PreNormDecoderWeights(const ModelConfig& c, const AttnOptions& o) {
  std::vector<WeightSpec> w = {{"token_embd.weight", {c.n_vocab, c.dim}}};
  if (c.rope_freqs) w.push_back({"rope_freqs.weight", {c.rope_dim / 2}});
  for (int64_t l = 0; l < c.n_layers; ++l) {
    w.push_back({Blk(l) + "attn_norm.weight", {c.dim}});
    AddAttentionWeights(w, c, l, o);
    w.push_back({Blk(l) + "ffn_norm.weight", {c.dim}});
    if (c.n_experts > 0) {
      AddExpertWeights(w, c, l);
    } else {
      AddFfnWeights(w, c, l);
    }
  }
  AddHeadWeights(w, c);
  return w;
}

void BuildPreNormDecoder(const ModelConfig& c, GraphBuilder& b, const AttnOptions& o) {
  Value x = b.Embedding(b.Tokens(), "token_embd.weight");
  for (int l = 0; l < static_cast<int>(c.n_layers); ++l) {
    const std::string p = Blk(l);
    Value h = b.RmsNorm(x, p + "attn_norm.weight", c.rms_eps);
    x = b.Add(x, SelfAttention(b, c, l, h, o), p + "attn_residual");
    h = b.RmsNorm(x, p + "ffn_norm.weight", c.rms_eps);
    const Value ffn = c.n_experts > 0 ? ExpertFfn(b, c, l, h, Activation::kSilu)
                                      : GatedFfn(b, p + "ffn_", h, Activation::kSilu, p + "ffn_gate.weight",
                                                 p + "ffn_up.weight", p + "ffn_down.weight");
    x = b.Add(x, ffn, p + "ffn_residual");
  }
  OutputHead(b, c, x);
}

}  // namespace strata::arch
