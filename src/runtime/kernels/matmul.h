// Matrix multiplication against a weight: y[T, N] = x[T, K] · W[N, K]ᵀ, for W in F32, F16, BF16, Q8_0, Q4_0,
// Q4_K or Q6_K (K a multiple of the block size: 32, or 256 for the K-quants). Activations stay F32; weights are
// dequantized on the fly, vectorised with the best instruction set the CPU has (chosen at run time), and split
// across the pool's threads.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace strata::kernels {

// w: rank-2 [N, K]; x: T rows of K floats (row stride K); y: T rows of N floats (row stride N).
void MatMul(const Tensor& w, const float* x, float* y, int64_t T, ThreadPool& pool);

// Scalar reference: dequantizes each weight row with DequantizeRow and accumulates in double.
void MatMulReference(const Tensor& w, const float* x, float* y, int64_t T);

// The instruction set MatMul dispatches to on this CPU ("avx512", "avx2", "scalar").
const char* MatMulIsa();

}  // namespace strata::kernels
