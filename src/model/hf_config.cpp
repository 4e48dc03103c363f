#include "model/hf_config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace strata {
namespace {

using Json = nlohmann::json;

class ConfigReader {
 public:
  ConfigReader(const std::string& path, const Json& j) : path_(path), j_(j) {}

  // A required (or, with `fallback` >= 0, optional) integer in 1..max.
  Result<int64_t> Int(const char* key, int64_t max, int64_t fallback = -1) const {
    const Json* v = Get(key);
    if (v == nullptr && fallback >= 0) return fallback;
    if (v == nullptr) return Status::Corrupt(path_ + ": \"" + key + "\" is missing");
    if (!v->is_number_unsigned() || v->get<uint64_t>() == 0 || v->get<uint64_t>() > static_cast<uint64_t>(max))
      return Status::Corrupt(path_ + ": \"" + key + "\" is " + v->dump() + ", expected 1.." + std::to_string(max));
    return static_cast<int64_t>(v->get<uint64_t>());
  }
  Result<float> Positive(const char* key, float fallback) const {
    const Json* v = Get(key);
    if (v == nullptr) return fallback;
    if (!v->is_number() || !(v->get<double>() > 0) || v->get<double>() > 1e30)
      return Status::Corrupt(path_ + ": \"" + key + "\" is " + v->dump() + ", expected a positive number");
    return static_cast<float>(v->get<double>());
  }
  Result<bool> Flag(const char* key, bool fallback) const {
    const Json* v = Get(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) return Status::Corrupt(path_ + ": \"" + key + "\" is " + v->dump() + ", expected a boolean");
    return v->get<bool>();
  }
  // A token id, or the first of a list of them; -1 when absent or null.
  Result<int64_t> TokenId(const char* key) const {
    const Json* v = Get(key);
    if (v != nullptr && v->is_array() && !v->empty()) v = &(*v)[0];
    if (v == nullptr || v->is_null()) return -1;
    if (!v->is_number_unsigned() || v->get<uint64_t>() > 0x7FFFFFFF)
      return Status::Corrupt(path_ + ": \"" + key + "\" is " + v->dump() + ", not a token id");
    return static_cast<int64_t>(v->get<uint64_t>());
  }
  const Json* Get(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  Status Unsupported(const std::string& what) const {
    return Status::Unsupported(path_ + ": " + what + " (Strata computes Llama exactly or not at all)");
  }

 private:
  const std::string& path_;
  const Json& j_;
};

Status CheckArchitecture(const ConfigReader& r, HfConfig& out) {
  const Json* archs = r.Get("architectures");
  if (archs == nullptr || !archs->is_array() || archs->empty() || !(*archs)[0].is_string())
    return r.Unsupported("\"architectures\" is missing");
  out.architecture = (*archs)[0].get<std::string>();
  if (out.architecture != "LlamaForCausalLM" && out.architecture != "MistralForCausalLM")
    return r.Unsupported("architecture " + out.architecture +
                         " is not supported (supported: LlamaForCausalLM, MistralForCausalLM)");
  const Json* act = r.Get("hidden_act");
  if (act != nullptr && *act != "silu") return r.Unsupported("hidden_act " + act->dump() + " is not silu");
  for (const char* key : {"attention_bias", "mlp_bias"}) {
    STRATA_ASSIGN_OR_RETURN(bool bias, r.Flag(key, false));
    if (bias) return r.Unsupported(std::string("\"") + key + "\": true (projection biases)");
  }
  return Status::Ok();
}

// Only rope without scaling: "linear", "dynamic", "llama3", "yarn"... change the angles, which the rope kernel
// does not.
Status CheckRopeScaling(const ConfigReader& r) {
  const Json* s = r.Get("rope_scaling");
  if (s == nullptr) return Status::Ok();
  if (s->is_object())
    for (const char* key : {"rope_type", "type"})
      if (auto it = s->find(key); it != s->end() && *it == "default") return Status::Ok();
  return r.Unsupported("rope_scaling " + s->dump() + " is not supported (only none/default)");
}

Status ReadShape(const ConfigReader& r, ModelConfig& c) {
  constexpr int64_t kMaxDim = 1 << 20;
  STRATA_ASSIGN_OR_RETURN(c.dim, r.Int("hidden_size", kMaxDim));
  STRATA_ASSIGN_OR_RETURN(c.ffn_dim, r.Int("intermediate_size", kMaxDim));
  STRATA_ASSIGN_OR_RETURN(c.n_layers, r.Int("num_hidden_layers", 4096));
  STRATA_ASSIGN_OR_RETURN(c.n_heads, r.Int("num_attention_heads", 4096));
  STRATA_ASSIGN_OR_RETURN(c.n_kv_heads, r.Int("num_key_value_heads", 4096, c.n_heads));
  STRATA_ASSIGN_OR_RETURN(c.n_vocab, r.Int("vocab_size", 1 << 24));
  STRATA_ASSIGN_OR_RETURN(c.n_ctx, r.Int("max_position_embeddings", 1 << 24));
  // Mistral's sliding window: attention equals full attention up to the window, so the context stops there.
  STRATA_ASSIGN_OR_RETURN(int64_t window, r.Int("sliding_window", 1 << 24, c.n_ctx));
  c.n_ctx = std::min(c.n_ctx, window);
  if (c.dim % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0)
    return Status::Corrupt("hidden_size " + std::to_string(c.dim) + ", num_attention_heads " +
                           std::to_string(c.n_heads) + " and num_key_value_heads " + std::to_string(c.n_kv_heads) +
                           " do not divide");
  c.head_dim = c.dim / c.n_heads;
  STRATA_ASSIGN_OR_RETURN(int64_t head_dim, r.Int("head_dim", kMaxDim, c.head_dim));
  if (head_dim != c.head_dim || c.head_dim % 2 != 0)
    return r.Unsupported("head_dim " + std::to_string(head_dim) + " must be the even hidden_size / heads = " +
                         std::to_string(c.head_dim));
  c.rope_dim = c.head_dim;
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadTextFile(const std::string& path, uint64_t max_bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Status::IoError("cannot read " + path);
  const auto size = static_cast<uint64_t>(in.tellg());
  if (size > max_bytes)
    return Status::OutOfRange(path + " is " + std::to_string(size) + " bytes, more than the " +
                              std::to_string(max_bytes) + " accepted");
  in.seekg(0);
  std::string text(size, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size))) return Status::IoError("cannot read " + path);
  return text;
}

Result<HfConfig> ParseHfConfig(const std::string& path, const std::string& text) {
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corrupt(path + ": not a JSON object");
  const ConfigReader r(path, j);
  HfConfig out;
  STRATA_RETURN_IF_ERROR(CheckArchitecture(r, out));
  STRATA_RETURN_IF_ERROR(CheckRopeScaling(r));
  if (Status st = ReadShape(r, out.llama); !st.ok())
    return st.code() == Status::Code::kCorrupt ? st.WithContext(path) : st;
  ModelConfig& c = out.llama;
  STRATA_ASSIGN_OR_RETURN(c.rms_eps, r.Positive("rms_norm_eps", 1e-6f));
  STRATA_ASSIGN_OR_RETURN(c.rope_base, r.Positive("rope_theta", 10000.0f));
  STRATA_ASSIGN_OR_RETURN(c.tied_output, r.Flag("tie_word_embeddings", false));
  STRATA_ASSIGN_OR_RETURN(out.bos_id, r.TokenId("bos_token_id"));
  STRATA_ASSIGN_OR_RETURN(out.eos_id, r.TokenId("eos_token_id"));
  return out;
}

Result<HfConfig> ReadHfConfig(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseHfConfig(path, text);
}

}  // namespace strata
