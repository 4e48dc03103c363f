// Integer matmul for Q8_0, Q4_0, Q4_K and Q6_K weights: activations are quantized on the fly to 8 bits per value with one
// scale per 32 (as ggml's Q8_0), and each block's dot product is taken in int8 x uint8 -> int32 (AVX-512 VNNI
// vpdpbusd), then scaled by d_weight * d_activation in float. Weights are repacked once, 16 rows interleaved,
// so one vpdpbusd yields 16 rows' partial sums in its 16 lanes: no horizontal sums, and the 16 rows' scales
// load as one vector. This is what llama.cpp computes for these dtypes (8-bit activations), so results differ
// from the F32-activation MatMul by that rounding (see quant_matmul_test.cpp for the measured size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace strata::kernels {

inline constexpr int64_t kPackRows = 16;  // weight rows interleaved per group (one AVX-512 lane each)

// A Q8_0 / Q4_0 / Q4_K / Q6_K weight [N, K] in the interleaved layout. Group g (rows 16g..16g+15), block b (elements
// 32b..32b+31) is 16 fp16 scales (row r at index r), then the quants in 4-byte units: unit j of row r sits at
// byte 64 j + 4 r. Q4_0: 4 units of packed nibbles (low nibbles elements 4j.., high nibbles 16 + 4j..), stored
// as in the block (0..15, weight q - 8). Q8_0: 8 units of q + 128 as unsigned bytes. Q4_K (blocks of 256):
// per row fp16 d and dmin, u8 scales and mins per sub-block, then each sub-block pair's 32 bytes of nibbles
// as 8 units; Q6_K: per row fp16 d and int8 scales, low nibbles by group pair and top bits by group quad, as
// units (quant_matmul_internal.h). Groups are contiguous.
class PackedWeight {
 public:
  // Also Q4_1 / Q5_0 / Q5_1 (their layout: quant_matmul_q4_1_q5.h).
  // Null when this weight cannot take the integer path: another dtype, rows not a multiple of 16, or a dtype
  // the CPU's integer path does not take (the F32-activation MatMul then serves it).
  static std::unique_ptr<PackedWeight> Pack(const Tensor& w);
  // The same packing whatever the CPU (tests of the layout and of the scalar kernel).
  static std::unique_ptr<PackedWeight> PackAnyCpu(const Tensor& w);
  // An uninitialised buffer for an [n, k] weight of `dtype` (data() is null if allocation failed).
  PackedWeight(DType dtype, int64_t n, int64_t k);
  ~PackedWeight();
  PackedWeight(const PackedWeight&) = delete;
  PackedWeight& operator=(const PackedWeight&) = delete;

  DType dtype() const { return dtype_; }
  int64_t rows() const { return n_; }
  int64_t cols() const { return k_; }
  size_t bytes() const { return bytes_; }
  const uint8_t* data() const { return data_; }
  int64_t block_elems() const { return Traits(dtype_).block_elems; }
  int64_t block_bytes() const;  // one group's one block: 16 rows' scales and quants
  const uint8_t* block(int64_t group, int64_t b) const {
    return data_ + (group * (k_ / block_elems()) + b) * block_bytes();
  }

 private:
  DType dtype_;
  int64_t n_, k_;
  size_t bytes_ = 0, mapped_ = 0;
  uint8_t* map_ = nullptr;  // the mapping (mapped_ bytes); data_ lies in it, 2 MiB aligned
  uint8_t* data_ = nullptr;
};

// y[T, N] = x[T, K] · Wᵀ through the integer path, on the best kernel this CPU has (VNNI, else scalar).
void QuantMatMul(const PackedWeight& w, const float* x, float* y, int64_t T, ThreadPool& pool);

// The same arithmetic in plain C++ (activation quantization with round-half-even, exact int32 block sums,
// float scale products), computed from the original tensor: what QuantMatMul must match to float rounding.
void QuantMatMulReference(const Tensor& w, const float* x, float* y, int64_t T);

// Whether the integer path is on (default) and the CPU has one (ActiveQuantIsa). STRATA_FLOAT_ACTIVATIONS=1 turns it off
// for a process; SetQuantizedActivations for tests. Executors read it when they are built.
bool QuantizedActivationsEnabled();
void SetQuantizedActivations(bool on);
bool HasVnni();

// The integer path's instruction set: AVX-512 VNNI (every packed dtype); AVX-VNNI or AVX2 (Q8_0 and Q4_0; other
// dtypes take the F32-activation MatMul); none. The best the CPU has, or lower with STRATA_ISA
// (avx512|avxvnni|avx2|scalar).
enum class QuantIsa { kNone, kAvx2, kAvxVnni, kAvx512Vnni };
QuantIsa ActiveQuantIsa();
bool QuantIsaSupported(QuantIsa isa);
const char* QuantIsaName(QuantIsa isa);  // "none", "avx2", "avxvnni", "avx512vnni"
// Whether the path takes weights of `t` (Q8_0 / Q4_0 on AVX2 and AVX-VNNI; every packable type on AVX-512).
bool QuantIsaTakes(QuantIsa isa, DType t);
// QuantMatMul on a chosen path (test hook; the path must be supported and take w's dtype).
void QuantMatMulWithIsa(QuantIsa isa, const PackedWeight& w, const float* x, float* y, int64_t T, ThreadPool& pool);

}  // namespace strata::kernels
