// Element-wise ops on float arrays: residual add, product, the FFN activations (SiLU, tanh-approximated GELU),
// sigmoid, scaling, logit softcapping and a per-row broadcast multiply.
#pragma once

#include "core/nn_types.h"

#include <cstdint>

#include "core/thread_pool.h"

namespace strata::kernels {

// The gate activation of a gated FFN: act(gate) * up.

void Add(const float* a, const float* b, float* y, int64_t n, ThreadPool& pool);
void Mul(const float* a, const float* b, float* y, int64_t n, ThreadPool& pool);
void Silu(const float* x, float* y, int64_t n, ThreadPool& pool);
// Computed with float tanh, not llama.cpp's fp16 lookup table (which rounds x to half first).
void GeluTanh(const float* x, float* y, int64_t n, ThreadPool& pool);
void Activate(Activation act, const float* x, float* y, int64_t n, ThreadPool& pool);
void Sigmoid(const float* x, float* y, int64_t n, ThreadPool& pool);
void Scale(const float* x, float s, float* y, int64_t n, ThreadPool& pool);
// cap * tanh(x / cap) (gemma2's final-logit softcap), as ggml does it: x * (1/cap), tanh, * cap.
void Softcap(const float* x, float cap, float* y, int64_t n, ThreadPool& pool);
// y[r, c] = a[r, c] * b[r]: a is [rows, width], b one scalar per row.
void MulRows(const float* a, int64_t rows, int64_t width, const float* b, float* y, ThreadPool& pool);

// In double where rounding matters.
void AddReference(const float* a, const float* b, float* y, int64_t n);
void MulReference(const float* a, const float* b, float* y, int64_t n);
void SiluReference(const float* x, float* y, int64_t n);
void GeluTanhReference(const float* x, float* y, int64_t n);
void ActivateReference(Activation act, const float* x, float* y, int64_t n);
void SigmoidReference(const float* x, float* y, int64_t n);
void ScaleReference(const float* x, float s, float* y, int64_t n);
void SoftcapReference(const float* x, float cap, float* y, int64_t n);
void MulRowsReference(const float* a, int64_t rows, int64_t width, const float* b, float* y);

}  // namespace strata::kernels
