#include "model/inflate_model.h"

#include <optional>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "model/gguf.h"
#include "model/gguf_writer.h"
#include "model/random_rows.h"

namespace strata {
namespace {

int64_t Rows(const std::vector<int64_t>& shape) {  // all dimensions but the innermost
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < shape.size(); ++d) rows *= shape[d];
  return rows;
}

enum class FfnPart { kNone, kRows, kCols };  // gate/up grow by rows, down by columns

FfnPart PartOf(std::string_view name) {
  auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.substr(name.size() - s.size()) == s; };
  if (ends(".ffn_gate.weight") || ends(".ffn_up.weight")) return FfnPart::kRows;
  if (ends(".ffn_down.weight")) return FfnPart::kCols;
  return FfnPart::kNone;
}

Result<DType> MatrixType(const std::string& name) {
  if (name == "f32") return DType::kF32;
  if (name == "f16") return DType::kF16;
  if (name == "q8_0") return DType::kQ8_0;
  if (name == "q4_0") return DType::kQ4_0;
  return Status::InvalidArgument("--dtype for --inflate must be f32, f16, q8_0 or q4_0, got '" + name + "'");
}

struct Plan {
  const GgufTensorInfo* src;
  DType out;
  std::vector<int64_t> shape;  // Strata order, after inflating
  FfnPart part;
};

// One output row: the source row (rows < src_rows, cols < src_cols) widened with new values.
void FillRow(const Plan& p, const Tensor& src, int64_t row, const InflateOptions& o, uint64_t tensor,
             std::vector<float>& out) {
  const std::vector<int64_t> in_shape = p.src->Shape();
  const int64_t src_cols = in_shape.back();
  const int64_t cols = p.shape.back();
  out.assign(static_cast<size_t>(cols), 0.0f);
  const auto in_type = static_cast<DType>(p.src->ggml_type);
  const int64_t src_rows = Rows(in_shape);
  if (row < src_rows) {
    const auto* base = static_cast<const uint8_t*>(src.data()) + row * RowBytes(in_type, src_cols);
    DequantizeRow(in_type, base, out.data(), src_cols);
  }
  if (o.noise <= 0 || p.part == FfnPart::kNone) return;
  if (row >= src_rows) {
    RandomRow(o.seed, tensor, static_cast<uint64_t>(row), out.data(), cols, o.noise);
  } else if (cols > src_cols) {
    RandomRow(o.seed, tensor, static_cast<uint64_t>(row), out.data() + src_cols, cols - src_cols, o.noise);
  }
}

}  // namespace

Status InflateModel(const InflateOptions& o) {
  STRATA_ASSIGN_OR_RETURN(auto in, GgufFile::Open(o.in_path));
  STRATA_ASSIGN_OR_RETURN(std::string arch, in->GetString("general.architecture"));
  const std::string ffn_key = arch + ".feed_forward_length";
  STRATA_ASSIGN_OR_RETURN(uint64_t ff, in->GetUint(ffn_key));
  if (o.ffn <= static_cast<int64_t>(ff) || o.ffn % 32 != 0 || o.ffn > (int64_t{1} << 20))
    return Status::InvalidArgument("--ffn must be a multiple of 32 above the model's " + std::to_string(ff) +
                                   " (and at most 1048576), got " + std::to_string(o.ffn));
  if (!(o.noise >= 0 && o.noise <= 10)) return Status::InvalidArgument("--noise must be in [0, 10]");
  std::optional<DType> matrix;
  if (!o.dtype.empty()) {
    STRATA_ASSIGN_OR_RETURN(matrix, MatrixType(o.dtype));
  }

  GgufWriter w;
  for (const auto& [key, value] : in->metadata()) {
    if (key == ffn_key) w.AddU32(key, static_cast<uint32_t>(o.ffn));
    else if (key == "general.file_type" && matrix) w.AddU32(key, LlamaFileType(*matrix));
    else w.AddKv(key, value);
  }
  std::vector<Plan> plans;
  int found = 0;
  for (const GgufTensorInfo& t : in->tensors()) {
    Plan p{&t, static_cast<DType>(t.ggml_type), t.Shape(), PartOf(t.name)};
    if (t.name.find("_exps.") != std::string::npos)
      return Status::Unsupported(o.in_path + ": --inflate widens dense feed-forward blocks; '" + t.name + "' is an expert tensor");
    if (p.part == FfnPart::kRows) p.shape[0] = o.ffn;
    if (p.part == FfnPart::kCols) p.shape.back() = o.ffn;
    if (p.part != FfnPart::kNone && p.shape.size() != 2)
      return Status::InvalidArgument(o.in_path + ": '" + t.name + "' is not a matrix");
    found += p.part != FfnPart::kNone;
    if (matrix && p.shape.size() > 1) p.out = *matrix;
    if (p.shape.size() == 1) p.out = DType::kF32;
    if (!IsSupportedGgmlType(t.ggml_type)) return Status::Unsupported(o.in_path + ": '" + t.name + "' has a type Strata cannot read");
    STRATA_RETURN_IF_ERROR(w.AddTensorInfo(t.name, p.out, p.shape));
    plans.push_back(std::move(p));
  }
  if (found == 0) return Status::InvalidArgument(o.in_path + ": no feed-forward tensors (blk.N.ffn_gate/up/down) to widen");
  STRATA_RETURN_IF_ERROR(w.WriteHeader(o.out_path));

  std::vector<float> row;
  std::vector<uint8_t> bytes;
  for (size_t t = 0; t < plans.size(); ++t) {
    const Plan& p = plans[t];
    STRATA_ASSIGN_OR_RETURN(Tensor src, in->TensorView(*p.src));
    const int64_t cols = p.shape.back();
    const int64_t rows = Rows(p.shape);
    bytes.resize(static_cast<size_t>(RowBytes(p.out, cols)));
    for (int64_t r = 0; r < rows; ++r) {
      FillRow(p, src, r, o, t, row);
      QuantizeRow(p.out, row.data(), bytes.data(), cols);
      STRATA_RETURN_IF_ERROR(w.WriteTensorData(bytes.data(), bytes.size()));
    }
    if (o.progress) o.progress(p.src->name, w.written_bytes(), w.data_bytes());
  }
  return w.Finish();
}

}  // namespace strata
