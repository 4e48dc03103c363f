#include "model/hf_convert.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include "core/thread_pool.h"
#include "model/gguf_writer.h"
#include "model/hf_vocab.h"
#include "model/arch/architecture.h"
#include "model/model.h"

namespace strata {
namespace {

// The type a 2-D tensor with rows of `cols` elements gets: `want`, else the nearest block size that divides.
DType TensorType(DType want, int64_t cols) {
  if (cols % Traits(want).block_elems == 0) return want;
  if (cols % kQK == 0) return DType::kQ8_0;
  return DType::kF16;
}

void AddLlamaKeys(const ModelConfig& c, const std::string& name, DType main_type, GgufWriter& w) {
  w.AddString("general.architecture", "llama");
  w.AddString("general.name", name);
  w.AddU32("general.file_type", LlamaFileType(main_type));
  w.AddU32("general.quantization_version", 2);
  FindArchitecture(c.arch)->write_keys(c, w);
}

// Writes a tensor's data in `type`: its bytes when the type is its own, else through f32, quantizing chunks of
// rows on every thread of `pool` (the K-quant searches are slow) and writing each chunk in order.
Status WriteTensor(const Tensor& t, DType type, ThreadPool& pool, GgufWriter& w) {
  if (t.dtype() == type) return w.WriteTensorData(t.data(), static_cast<size_t>(t.nbytes()));
  const int64_t cols = t.shape().back(), rows = t.numel() / cols, row_bytes = RowBytes(type, cols);
  const int64_t chunk = std::max<int64_t>(1, (16 << 20) / std::max<int64_t>(1, cols * 4));  // ~16 MiB of f32
  std::vector<uint8_t> out(static_cast<size_t>(std::min(chunk, rows) * row_bytes));
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t n = std::min(chunk, rows - r0);
    pool.ParallelFor(n, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> f(static_cast<size_t>(cols));
      for (int64_t r = begin; r < end; ++r) {
        DequantizeRow(t.dtype(), t.row(r0 + r), f.data(), cols);
        QuantizeRow(type, f.data(), out.data() + r * row_bytes, cols);
      }
    });
    STRATA_RETURN_IF_ERROR(w.WriteTensorData(out.data(), static_cast<size_t>(n * row_bytes)));
  }
  return Status::Ok();
}

// The type of each weight (norms f32); one note per fallback type, naming the first tensor that takes it.
std::vector<DType> TensorTypes(const Model& model, const std::vector<WeightSpec>& specs, const ConvertOptions& o) {
  std::vector<DType> types;
  std::map<DType, std::pair<std::string, int>> fallbacks;  // type -> (first tensor, count)
  for (const WeightSpec& spec : specs) {
    const DType own = (**model.Weight(spec.name)).dtype(), want = o.dtype.value_or(own);
    const DType type = spec.shape.size() == 1 ? DType::kF32 : TensorType(want, spec.shape.back());
    if (spec.shape.size() == 2 && type != want) {
      auto& [first, count] = fallbacks[type];
      if (count++ == 0) first = spec.name + " (rows of " + std::to_string(spec.shape.back()) + ")";
    }
    types.push_back(type);
  }
  for (const auto& [type, fb] : fallbacks)
    if (o.note)
      o.note(std::to_string(fb.second) + " tensors, first " + fb.first + ", have rows that don't fill " +
             Name(*o.dtype) + " blocks: written as " + Name(type));
  return types;
}

Status Convert(const Model& model, const GgufMetadata& vocab, const std::string& tmp_path,
               const ConvertOptions& o) {
  const ModelConfig& c = model.config();
  const auto specs = ArchWeights(c);
  const std::vector<DType> types = TensorTypes(model, specs, o);
  GgufWriter w;
  const std::string name = std::filesystem::path(model.path()).filename().string();
  AddLlamaKeys(c, name, o.dtype.value_or((**model.Weight("token_embd.weight")).dtype()), w);
  for (const auto& [key, value] : vocab) w.AddKv(key, value);
  for (size_t i = 0; i < specs.size(); ++i) STRATA_RETURN_IF_ERROR(w.AddTensorInfo(specs[i].name, types[i], specs[i].shape));
  STRATA_RETURN_IF_ERROR(w.WriteHeader(tmp_path));
  ThreadPool pool(o.threads);
  for (size_t i = 0; i < specs.size(); ++i) {
    STRATA_RETURN_IF_ERROR(WriteTensor(**model.Weight(specs[i].name), types[i], pool, w));
    if (o.progress) o.progress(specs[i].name, w.written_bytes(), w.data_bytes());
  }
  return w.Finish();
}

}  // namespace

Status ConvertHfFolderToGguf(const std::string& dir, const std::string& out_path, const ConvertOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Status::InvalidArgument(dir + " is not a folder (convert reads a Hugging Face model folder)");
  LoadProgress reading;
  if (options.progress) reading = [&](uint64_t done, uint64_t total) { options.progress("", done, total); };
  STRATA_ASSIGN_OR_RETURN(auto model, Model::Load(dir, reading, {.load_tokenizer = false}));
  STRATA_ASSIGN_OR_RETURN(GgufMetadata vocab, HfVocabMetadata(dir, model->config().n_vocab));
  const std::string tmp = out_path + ".tmp";
  Status st = Convert(*model, vocab, tmp, options);
  if (st.ok()) {
    std::filesystem::rename(tmp, out_path, ec);
    if (ec) st = Status::IoError("cannot rename " + tmp + " to " + out_path + ": " + ec.message());
  }
  if (!st.ok()) std::filesystem::remove(tmp, ec);
  return st;
}

Result<DType> ParseConvertDType(const std::string& name) {
  std::string known;
  for (uint32_t id = 0; id < 64; ++id) {
    if (!IsSupportedGgmlType(id) || id == static_cast<uint32_t>(DType::kI32)) continue;
    if (name == GgmlTypeName(id)) return static_cast<DType>(id);
    known += std::string(known.empty() ? "" : ", ") + GgmlTypeName(id);
  }
  return Status::InvalidArgument("unknown --dtype '" + name + "' (known: " + known + ")");
}

}  // namespace strata
