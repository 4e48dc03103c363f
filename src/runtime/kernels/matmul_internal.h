// Internals of the matmul kernels shared by matmul.cpp and the per-instruction-set files: the problem
// description, one entry point per instruction set, and a test hook that runs MatMul on a chosen path.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace strata::kernels::internal {

enum class Isa { kScalar, kAvx2, kAvx512 };

// One MatMul call, flattened: W rows of row_bytes bytes, x [T, K] and y [T, N] with row strides K and N.
struct Problem {
  DType dtype;
  const uint8_t* w;
  int64_t row_bytes;
  int64_t K;
  int64_t N;
  const float* x;
  float* y;
  int64_t T;
};

// Computes y[t, n] for every t < T and n0 <= n < n1 (one thread's share). Each is compiled for its own
// instruction set, so only call one the CPU supports (IsaSupported).
void MatMulRowsScalar(const Problem& p, int64_t n0, int64_t n1);
#if defined(__x86_64__)
void MatMulRowsAvx2(const Problem& p, int64_t n0, int64_t n1);    // AVX2 + FMA + F16C
void MatMulRowsAvx512(const Problem& p, int64_t n0, int64_t n1);  // AVX-512 F/BW/VL + the above
#endif

// The SIMD paths decode quantized rows 32 elements (kQK, one "group") at a time: a Q8_0 / Q4_0 block is one
// group, a K-quant super-block eight. Group j of a block is decoded with j known at compile time.
template <class Block>
inline constexpr int kGroupsPerBlock = 1;
template <>
inline constexpr int kGroupsPerBlock<BlockQ4_K> = kQK_K / kQK;
template <>
inline constexpr int kGroupsPerBlock<BlockQ6_K> = kQK_K / kQK;

const char* IsaName(Isa isa);  // "scalar", "avx2", "avx512"
bool IsaSupported(Isa isa);    // whether this CPU (and OS) can run the path
Isa BestIsa();                 // what MatMul dispatches to

// MatMul on a chosen path (test hook; the path must be supported).
void MatMulWithIsa(Isa isa, const Tensor& w, const float* x, float* y, int64_t T, ThreadPool& pool);

}  // namespace strata::kernels::internal
