#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace strata {
namespace {

std::vector<int64_t> ContiguousStrides(DType dtype, const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size());
  if (shape.empty()) return strides;
  const auto& tr = Traits(dtype);
  strides.back() = tr.block_bytes;  // per element for plain types, per block for quantized ones
  int64_t stride = RowBytes(dtype, shape.back());
  for (size_t i = shape.size() - 1; i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace

Tensor Tensor::Empty(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.strides_ = ContiguousStrides(dtype, t.shape_);
  const size_t bytes = static_cast<size_t>(t.nbytes());
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded == 0 ? 64 : rounded);
  t.storage_ = std::shared_ptr<void>(p, AlignedFree());
  t.data_ = p;
  t.owned_ = true;
  return t;
}

Tensor Tensor::View(DType dtype, std::vector<int64_t> shape, const void* data,
                    std::shared_ptr<const void> keep_alive) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.strides_ = ContiguousStrides(dtype, t.shape_);
  t.data_ = data;
  t.storage_ = std::move(keep_alive);
  t.owned_ = false;
  return t;
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;
  return n;
}

int64_t Tensor::nbytes() const {
  if (shape_.empty()) return Traits(dtype_).block_bytes;
  return numel() / shape_.back() * row_bytes();
}

std::string ShapeToString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string Tensor::ShapeString() const { return ShapeToString(shape_); }

}  // namespace strata

namespace strata {

Tensor Tensor::Rows(int64_t r0, int64_t r1) const {
  Tensor t = *this;
  t.shape_ = {r1 - r0, dim(1)};
  t.strides_ = strides_;
  t.data_ = row(r0);
  return t;
}

Tensor Tensor::Index(int64_t i) const {
  Tensor t = *this;
  t.shape_ = {dim(1), dim(2)};
  t.strides_ = {strides_[1], strides_[2]};
  t.data_ = static_cast<const uint8_t*>(data_) + i * strides_[0];
  return t;
}

Tensor SliceColumns(const Tensor& t, int64_t c0, int64_t c1) {
  const int64_t rows = t.dim(0), cols = c1 - c0, block = Traits(t.dtype()).block_elems;
  if (c0 % block == 0 && c1 % block == 0) {
    Tensor out = Tensor::Empty(t.dtype(), {rows, cols});
    const int64_t skip = RowBytes(t.dtype(), c0), bytes = RowBytes(t.dtype(), cols);
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(static_cast<uint8_t*>(out.mutable_data()) + r * bytes, t.row(r) + skip, static_cast<size_t>(bytes));
    return out;
  }
  Tensor out = Tensor::Empty(DType::kF32, {rows, cols});
  std::vector<float> row(static_cast<size_t>(t.dim(1)));
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(t.dtype(), t.row(r), row.data(), t.dim(1));
    std::memcpy(out.mutable_data_as<float>() + r * cols, row.data() + c0, static_cast<size_t>(cols) * sizeof(float));
  }
  return out;
}

}  // namespace strata
