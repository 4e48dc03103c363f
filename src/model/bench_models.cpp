#include "model/bench_models.h"

#include <cmath>
#include <numbers>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "model/gguf.h"
#include "model/gguf_writer.h"
#include "model/arch/architecture.h"
#include "model/llama_quant_presets.h"
#include "model/random_rows.h"

namespace strata {
namespace {

constexpr uint32_t kContextLength = 2048;  // modest: it is the default KV cache size
constexpr int64_t kChunkElems = int64_t{1} << 22;

// A weight recipe: the dtype of matrices, and of the ones Q4_K_M keeps at higher precision.
struct DtypeRecipe {
  const char* name;
  DType matrix;
  DType sensitive;     // token_embd, output, attn_v, ffn_down
  uint32_t file_type;  // llama.cpp's LLAMA_FTYPE
};

const std::vector<DtypeRecipe>& Recipes() {
  static const std::vector<DtypeRecipe> recipes = {
      {"f32", DType::kF32, DType::kF32, 0},       {"f16", DType::kF16, DType::kF16, 1},
      {"q8_0", DType::kQ8_0, DType::kQ8_0, 7},
      {"q4_1", DType::kQ4_1, DType::kQ4_1, 3},    {"q5_0", DType::kQ5_0, DType::kQ5_0, 8},
      {"q5_1", DType::kQ5_1, DType::kQ5_1, 9},
      {"q4_0", DType::kQ4_0, DType::kQ4_0, 2},    {"q4_k", DType::kQ4_K, DType::kQ6_K, 15},
      {"q6_k", DType::kQ6_K, DType::kQ6_K, 18},
      {"q2_k", DType::kQ2_K, DType::kQ2_K, 10},   {"q3_k", DType::kQ3_K, DType::kQ3_K, 11},
      {"q5_k", DType::kQ5_K, DType::kQ5_K, 16},
      {"q3_k_m", DType::kQ3_K, DType::kQ3_K, 12}, {"q4_k_m", DType::kQ4_K, DType::kQ4_K, 15},  // llama.cpp's mixes
      {"q5_k_m", DType::kQ5_K, DType::kQ5_K, 17},
  };
  return recipes;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A type whose blocks do not tile a row of `cols` falls back as llama-quantize does for K-quants (Q4_K ->
// Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0; Q2_K/Q3_K, which it sends to IQ4_NL, which Strata lacks, -> Q4_0).
DType FitRow(DType t, int64_t cols) {
  if (cols % Traits(t).block_elems == 0) return t;
  switch (t) {
    case DType::kQ4_K: return DType::kQ5_0;
    case DType::kQ5_K: return DType::kQ5_1;
    case DType::kQ6_K: return DType::kQ8_0;
    case DType::kQ2_K: case DType::kQ3_K: return DType::kQ4_0;
    default: return t;
  }
}

DType TensorDtype(const DtypeRecipe& r, const WeightSpec& w, const ModelConfig& c) {
  if (w.shape.size() == 1) return DType::kF32;  // norms
  const int64_t cols = w.shape.back();
  if (const auto* preset = FindLlamaQuantPreset(r.name))
    return FitRow(LlamaPresetTensorType(*preset, w.name, c.n_layers, c.tied_output), cols);
  if (w.name == "token_embd.weight" || w.name == "output.weight" || EndsWith(w.name, ".attn_v.weight") ||
      EndsWith(w.name, ".ffn_down.weight"))
    return FitRow(r.sensitive, cols);
  return FitRow(r.matrix, cols);
}

// 1-D weights: norms 1.0; biases random like the matrices; Llama 3's rope_freqs the factors its rope scaling
// gives (1 for high frequencies up to 8 for low ones), so a wrong use of them shows.
void OneDimRow(const WeightSpec& spec, uint64_t seed, size_t tensor, std::vector<float>& row) {
  if (spec.shape.size() != 1) return;
  const auto n = static_cast<int64_t>(row.size());
  if (EndsWith(spec.name, ".bias")) return RandomRow(seed, tensor, 0, row.data(), n, 0.02f);
  for (int64_t i = 0; i < n; ++i)
    row[static_cast<size_t>(i)] = spec.name == "rope_freqs.weight" ? 1.0f + 7.0f * static_cast<float>(i) / static_cast<float>(n) : 1.0f;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Copies every tokenizer.* key of the vocab file; returns the vocabulary size.
Result<int64_t> CopyVocab(const std::string& vocab_path, GgufWriter& w) {
  auto vocab = GgufFile::Open(vocab_path);
  if (!vocab.ok()) return Status::NotFound("vocab file: " + vocab.status().message());
  const GgufValue* tokens = (*vocab)->Find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->AsArray() || tokens->AsArray()->items.empty())
    return Status::InvalidArgument(vocab_path + ": no tokenizer.ggml.tokens array: not a vocab file");
  const auto n_vocab = static_cast<int64_t>(tokens->AsArray()->items.size());
  for (const auto& [key, value] : (*vocab)->metadata())
    if (key.starts_with("tokenizer.")) w.AddKv(key, value);
  return n_vocab;
}

}  // namespace

std::vector<BenchModelShapeName> BenchModelShapes() {
  std::vector<BenchModelShapeName> out;
  for (const std::string& arch : ArchitectureNames())
    for (const ArchShape& s : FindArchitecture(arch)->shapes()) out.push_back({arch, s.name, s.like});
  return out;
}

Result<ArchShape> FindBenchModelShape(const std::string& arch, const std::string& shape) {
  std::vector<std::string> names;
  for (const BenchModelShapeName& s : BenchModelShapes()) {
    const bool arch_ok = arch.empty() || arch == s.arch;
    if (arch_ok && (shape == s.name || (!arch.empty() && arch + "-" + shape == s.name) ||
                    (shape.empty() && (!arch.empty() || s.name == "llama-1b"))))
      for (const ArchShape& a : FindArchitecture(s.arch)->shapes())
        if (s.name == a.name) return a;
    if (arch_ok) names.push_back(s.name);
  }
  if (!arch.empty() && !FindArchitecture(arch))
    return Status::InvalidArgument("unknown architecture '" + arch + "': expected one of " + JoinNames(ArchitectureNames()));
  return Status::InvalidArgument("unknown model shape '" + shape + "'" + (arch.empty() ? "" : " for " + arch) +
                                 ": expected one of " + JoinNames(names));
}

const std::vector<std::string>& BenchModelDtypes() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& r : Recipes()) out.push_back(r.name);
    return out;
  }();
  return names;
}

Status GenerateBenchModel(const BenchModelOptions& o) {
  STRATA_ASSIGN_OR_RETURN(ArchShape shape, FindBenchModelShape(o.arch, o.shape));
  const DtypeRecipe* recipe = nullptr;
  for (const auto& r : Recipes())
    if (o.dtype == r.name) recipe = &r;
  if (!recipe)
    return Status::InvalidArgument("unknown dtype '" + o.dtype + "': expected one of " + JoinNames(BenchModelDtypes()));
  if (o.layers < 0 || o.layers > 4096)
    return Status::InvalidArgument("layers " + std::to_string(o.layers) + " is out of range (1 to 4096)");
  if (o.out_path.empty()) return Status::InvalidArgument("no output file given");
  if (!(o.weight_std > 0 && o.weight_std <= 10)) return Status::InvalidArgument("weight std must be in (0, 10]");

  ModelConfig c = shape.config;
  if (o.layers > 0) c.n_layers = o.layers;
  if (o.n_ctx < 0 || o.n_ctx > (int64_t{1} << 24))
    return Status::InvalidArgument("context length " + std::to_string(o.n_ctx) + " is out of range (1 to 16777216)");
  c.n_ctx = o.n_ctx > 0 ? o.n_ctx : kContextLength;
  GgufWriter w;
  w.AddString("general.architecture", c.arch);
  w.AddString("general.name", std::string(shape.like) + " shape, random " + o.dtype + " weights (seed " +
                                  std::to_string(o.seed) + ")");
  w.AddU32("general.file_type", recipe->file_type);
  w.AddU32("general.quantization_version", 2);
  w.AddU32("general.alignment", 32);
  STRATA_ASSIGN_OR_RETURN(c.n_vocab, CopyVocab(o.vocab_path, w));
  FindArchitecture(c.arch)->write_keys(c, w);

  const std::vector<WeightSpec> weights = ArchWeights(c);
  std::vector<DType> dtypes;
  for (const WeightSpec& spec : weights) {
    dtypes.push_back(TensorDtype(*recipe, spec, c));
    STRATA_RETURN_IF_ERROR(w.AddTensorInfo(spec.name, dtypes.back(), spec.shape));
  }
  STRATA_RETURN_IF_ERROR(w.WriteHeader(o.out_path));

  ThreadPool pool(o.threads);
  std::vector<uint8_t> chunk;
  for (size_t t = 0; t < weights.size(); ++t) {
    const WeightSpec& spec = weights[t];
    const int64_t cols = spec.shape.back();
    int64_t rows = 1;  // of the innermost dimension: experts x rows for a rank-3 tensor
    for (size_t d = 0; d + 1 < spec.shape.size(); ++d) rows *= spec.shape[d];
    const auto row_bytes = static_cast<size_t>(RowBytes(dtypes[t], cols));
    const int64_t chunk_rows = std::max<int64_t>(1, kChunkElems / cols);
    for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
      const int64_t n = std::min(chunk_rows, rows - r0);
      chunk.resize(static_cast<size_t>(n) * row_bytes);
      pool.ParallelFor(n, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t i = begin; i < end; ++i) {
          OneDimRow(spec, o.seed, t, row);
          if (spec.shape.size() > 1) RandomRow(o.seed, t, static_cast<uint64_t>(r0 + i), row.data(), cols, o.weight_std);
          QuantizeRow(dtypes[t], row.data(), chunk.data() + static_cast<size_t>(i) * row_bytes, cols);
        }
      });
      STRATA_RETURN_IF_ERROR(w.WriteTensorData(chunk.data(), chunk.size()));
      if (o.progress) o.progress(spec.name, w.written_bytes(), w.data_bytes());
    }
  }
  return w.Finish();
}

}  // namespace strata
