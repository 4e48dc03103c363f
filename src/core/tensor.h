// A tensor: dtype, shape (outermost dimension first, row-major), byte strides, and storage that is either
// owned by the tensor or a view into memory kept alive by someone else (an mmap'ed model file).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace strata {

class Tensor {
 public:
  Tensor() = default;

  // Allocates zeroed, owned, contiguous storage (64-byte aligned).
  static Tensor Empty(DType dtype, std::vector<int64_t> shape);
  // A contiguous view of `data`; `keep_alive` (may be null) is held for as long as the view lives.
  static Tensor View(DType dtype, std::vector<int64_t> shape, const void* data,
                     std::shared_ptr<const void> keep_alive = nullptr);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  // Byte stride of each dimension. The innermost dimension of a block-quantized tensor has no per-element
  // stride; its entry is the size of one block.
  const std::vector<int64_t>& strides() const { return strides_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t numel() const;
  int64_t nbytes() const;
  // Bytes of one row (the innermost dimension).
  int64_t row_bytes() const { return RowBytes(dtype_, shape_.empty() ? 1 : shape_.back()); }
  bool owned() const { return owned_; }
  bool empty() const { return data_ == nullptr; }

  const void* data() const { return data_; }
  // What keeps the bytes alive (null for a view that keeps nothing alive).
  const std::shared_ptr<const void>& storage() const { return storage_; }
  void* mutable_data() { return const_cast<void*>(data_); }
  template <class T> const T* data_as() const { return static_cast<const T*>(data_); }
  template <class T> T* mutable_data_as() { return static_cast<T*>(mutable_data()); }
  // Pointer to row r of a rank-2 tensor (or of the tensor flattened to rows of its innermost dimension).
  const uint8_t* row(int64_t r) const { return static_cast<const uint8_t*>(data_) + r * row_bytes(); }

  std::string ShapeString() const;  // "[2, 192]"
  // Rows [r0, r1) of the outermost dimension (rows of a matrix, experts of a rank-3 tensor): a view sharing
  // this tensor's storage.
  Tensor Rows(int64_t r0, int64_t r1) const;
  // Sub-tensor i of the outermost dimension, one rank lower (an expert's matrix of a [experts, n, k] tensor):
  // a view sharing this tensor's storage.
  Tensor Index(int64_t i) const;

 private:
  DType dtype_ = DType::kF32;
  std::vector<int64_t> shape_;
  std::vector<int64_t> strides_;
  const void* data_ = nullptr;
  std::shared_ptr<const void> storage_;
  bool owned_ = false;
};

std::string ShapeToString(const std::vector<int64_t>& shape);
// Columns [c0, c1) of a rank-2 tensor, copied into owned storage: in the tensor's dtype when c0 and c1 fall on
// block boundaries, else dequantized to F32 (same values, as every kernel dequantizes to F32 anyway).
Tensor SliceColumns(const Tensor& t, int64_t c0, int64_t c1);

}  // namespace strata
